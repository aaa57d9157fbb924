"""Key-in jobs on a worker's keeping thread against the real sample legacy app: one login serves many jobs,
and a kept session the system has ended since is logged in again, the record keyed exactly once."""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager

import pytest

from bots import session as session_mod
from bots.keyin import KeyInJob, open_target
from bots.session import keep_browser_open
from tests.bots.conftest import bots_config

pytestmark = pytest.mark.integration
TARGET = "sample-legacy"


@pytest.fixture
def worker_thread():
    keep_browser_open()  # as a worker does at start
    yield
    session_mod._kept.close()
    session_mod._kept.thread = None


def _job(cfg, data_dir, record, n: int, opener=None):
    """One key-in job as the worker runs it: its own KeyInJob (ledger, target session), closed at the end."""
    with KeyInJob(TARGET, cfg, data_dir, f"job-{n}", opener=opener) as job:
        receipt = job.key(record)
        return receipt, job.target.logins, job.target.session.reused


def _memos(app) -> Counter[str]:
    return Counter(row["memo"] for row in app.store.export())


def test_jobs_on_a_worker_thread_log_in_once_and_key_each_record_once(legacy_app, data_dir, records, worker_thread):
    app = legacy_app()
    cfg = bots_config(app.url)
    outcomes = [_job(cfg, data_dir, record, n) for n, record in enumerate(records[:4])]
    assert [r.status for r, _, _ in outcomes] == ["keyed"] * 4
    assert [logins for (_, logins, _) in outcomes] == [1, 0, 0, 0]
    assert [reused for (_, _, reused) in outcomes] == [False, True, True, True]
    assert sorted(_memos(app).values()) == [1, 1, 1, 1]
    assert not list(data_dir.root.glob("screenshots/*/*.png")) and not list(data_dir.root.glob("traces/*.zip"))


def test_a_reused_session_that_expired_is_logged_in_again_and_the_record_keyed_once(
        legacy_app, data_dir, records, worker_thread):
    app = legacy_app(idle_timeout_s=3.0)  # long enough for a login on a busy machine
    cfg = bots_config(app.url, retries=0)  # no retries: the re-login happens inside the verb
    _job(cfg, data_dir, records[0], 1)
    time.sleep(3.5)  # the system ends the idle session; the kept page still shows its frames
    receipt, logins, reused = _job(cfg, data_dir, records[1], 2)
    assert receipt.status == "keyed" and reused and logins == 1
    assert sorted(_memos(app).values()) == [1, 1]


def test_a_session_ended_between_search_and_create_is_retried_without_keying_twice(
        legacy_app, data_dir, records, worker_thread):
    app = legacy_app()
    cfg = bots_config(app.url, retries=2)

    @contextmanager
    def logged_out_before_create(*args):
        with open_target(*args) as target:
            real_create = target.create

            def create(key, values):
                if not target.logins:  # once: the system logs this session out (another login, a restart)
                    target.session.page.context.request.get(app.url + "/logout")
                return real_create(key, values)

            target.create = create
            yield target

    _job(cfg, data_dir, records[0], 1)
    receipt, logins, reused = _job(cfg, data_dir, records[1], 2, opener=logged_out_before_create)
    assert receipt.status == "keyed" and reused and logins == 1
    assert sorted(_memos(app).values()) == [1, 1]
    # the failed attempt left its evidence, and the session that saw it is not kept for the next job
    assert list(data_dir.screenshots("job-2").glob("*.png"))
    _, logins3, reused3 = _job(cfg, data_dir, records[2], 3)
    assert not reused3 and logins3 == 1
    assert sorted(_memos(app).values()) == [1, 1, 1]
