"""A worker thread keeps one Chromium between key-in jobs, and the context of a job that ended well for its
next job on the same target and account; any failure closes it (its trace kept), other threads keep nothing."""

from __future__ import annotations

import threading

import pytest

from bots import session as session_mod
from bots.session import BrowserSession, keep_browser_open
from kakitori.config import BrowserConfig

pytestmark = pytest.mark.integration
TARGET = ("sample-legacy", "http://127.0.0.1:8765", "clerk01")


@pytest.fixture
def kept():
    yield
    session_mod._kept.close()
    session_mod._kept.thread = None


def _job(tmp_path, n: int, keep_as: tuple | None = None, fail: bool = False):
    with BrowserSession(BrowserConfig(), tmp_path / f"shots{n}", tmp_path / f"trace{n}.zip", keep_as=keep_as) as s:
        s.page.set_content("<p id=x>ok</p>")
        s.page.context.add_cookies([{"name": f"job{n}", "value": str(n), "url": "http://127.0.0.1/"}])
        if fail:
            raise RuntimeError("the job failed")
        return s.page.context.browser, s.page.context, len(s.page.context.cookies()), s.reused


def test_a_keeping_thread_reuses_its_browser_with_a_new_context_per_job(tmp_path, kept):
    keep_browser_open()
    browser1, context1, cookies1, _ = _job(tmp_path, 1)
    browser2, context2, cookies2, reused = _job(tmp_path, 2)
    assert browser1 is browser2 and browser1.is_connected()
    assert context1 is not context2 and context2 not in browser2.contexts  # closed after each job
    assert cookies1 == cookies2 == 1 and not reused                      # nothing carried over between jobs


def test_a_job_that_ended_well_leaves_its_context_to_the_next_job_on_the_same_target(tmp_path, kept):
    keep_browser_open()
    _, context1, cookies1, reused1 = _job(tmp_path, 1, TARGET)
    _, context2, cookies2, reused2 = _job(tmp_path, 2, TARGET)
    assert context2 is context1 and context1 in context1.browser.contexts  # still open between jobs
    assert (reused1, reused2) == (False, True) and (cookies1, cookies2) == (1, 2)
    assert not (tmp_path / "trace1.zip").exists() and not (tmp_path / "trace2.zip").exists()


def test_a_failed_job_closes_the_kept_context_and_keeps_only_its_own_trace(tmp_path, kept):
    keep_browser_open()
    _, context1, _, _ = _job(tmp_path, 1, TARGET)
    with pytest.raises(RuntimeError):
        _job(tmp_path, 2, TARGET, fail=True)
    assert context1 not in context1.browser.contexts  # closed: the next job starts clean
    assert (tmp_path / "trace2.zip").stat().st_size > 0 and not (tmp_path / "trace1.zip").exists()
    _, context3, cookies3, reused3 = _job(tmp_path, 3, TARGET)
    assert context3 is not context1 and not reused3 and cookies3 == 1


def test_a_kept_context_serves_only_its_own_target_and_account(tmp_path, kept):
    keep_browser_open()
    _, context1, _, _ = _job(tmp_path, 1, TARGET)
    _, context2, cookies2, reused2 = _job(tmp_path, 2, (*TARGET[:2], "clerk02"))
    assert context2 is not context1 and not reused2 and cookies2 == 1
    assert context1 not in context2.browser.contexts


def test_a_kept_context_is_replaced_after_its_number_of_jobs(tmp_path, kept, monkeypatch):
    monkeypatch.setattr(session_mod, "KEEP_CONTEXT_JOBS", 2)
    keep_browser_open()
    contexts = [_job(tmp_path, n, TARGET)[1] for n in range(1, 4)]
    assert contexts[0] is contexts[1] and contexts[2] is not contexts[0]
    assert contexts[0] not in contexts[2].browser.contexts


def test_a_crashed_kept_browser_is_replaced(tmp_path, kept):
    keep_browser_open()
    browser1, _, _, _ = _job(tmp_path, 1, TARGET)
    browser1.close()  # as if Chromium had died between jobs
    browser2, _, cookies2, reused2 = _job(tmp_path, 2, TARGET)
    assert browser2 is not browser1 and browser2.is_connected() and not reused2 and cookies2 == 1


def test_other_threads_launch_and_close_their_own(tmp_path, kept):
    keep_browser_open()
    seen = {}

    def other():
        browser, _, _, _ = _job(tmp_path, 3, TARGET)
        seen["connected_after_job"] = browser.is_connected()

    t = threading.Thread(target=other)
    t.start()
    t.join(60)
    assert seen == {"connected_after_job": False}
