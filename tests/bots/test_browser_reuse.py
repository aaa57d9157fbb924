"""A worker thread keeps one Chromium between key-in jobs; every job still gets a fresh context."""

from __future__ import annotations

import threading

import pytest

from bots import session as session_mod
from bots.session import BrowserSession, keep_browser_open
from kakitori.config import BrowserConfig

pytestmark = pytest.mark.integration


@pytest.fixture
def kept():
    yield
    session_mod._kept.close()
    session_mod._kept.thread = None


def _job(tmp_path, n: int):
    with BrowserSession(BrowserConfig(), tmp_path / f"shots{n}", tmp_path / f"trace{n}.zip") as s:
        s.page.set_content("<p id=x>ok</p>")
        s.page.context.add_cookies([{"name": "job", "value": str(n), "url": "http://127.0.0.1/"}])
        return s.page.context.browser, s.page.context, len(s.page.context.cookies())


def test_a_keeping_thread_reuses_its_browser_with_a_new_context_per_job(tmp_path, kept):
    keep_browser_open()
    browser1, context1, cookies1 = _job(tmp_path, 1)
    browser2, context2, cookies2 = _job(tmp_path, 2)
    assert browser1 is browser2 and browser1.is_connected()
    assert context1 is not context2 and context2 not in browser2.contexts  # closed after each job
    assert cookies1 == cookies2 == 1                                      # nothing carried over between jobs


def test_a_crashed_kept_browser_is_replaced(tmp_path, kept):
    keep_browser_open()
    browser1, _, _ = _job(tmp_path, 1)
    browser1.close()  # as if Chromium had died between jobs
    browser2, _, _ = _job(tmp_path, 2)
    assert browser2 is not browser1 and browser2.is_connected()


def test_other_threads_launch_and_close_their_own(tmp_path, kept):
    keep_browser_open()
    seen = {}

    def other():
        browser, _, _ = _job(tmp_path, 3)
        seen["connected_after_job"] = browser.is_connected()

    t = threading.Thread(target=other)
    t.start()
    t.join(60)
    assert seen == {"connected_after_job": False}
