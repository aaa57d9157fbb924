"""Nothing lost, nothing keyed twice: real worker processes on a real (private) Redis, killed and restarted.

The OCR and key-in parts are the fast fakes (``tests/workflows/fakes.py``): what is under test is the queue
machinery — leases, the store's heartbeat, the sweeper, guarded transitions — not OCR or the browser.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kakitori.config import load_config
from workflows import jobs
from workflows.definition import load_workflow
from workflows.runner import follow_run, start_run
from workflows.store import DocState

from .fakes import FakeParts, creates

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


class Workers:
    """Worker processes (``python worker.py``), each in its own process group so kill -9 takes all of it."""

    def __init__(self, config: Path, n: int, delay_s: float) -> None:
        self.config = config
        self.env = {**os.environ, "KAKITORI_FAKE_DELAY_S": str(delay_s), "PYTHONPATH": str(ROOT)}
        self.procs: list[subprocess.Popen] = [self._spawn(i) for i in range(n)]
        self.kills = 0

    def _spawn(self, i: int) -> subprocess.Popen:
        log = open(self.config.parent / f"worker{i}.log", "ab")
        return subprocess.Popen([sys.executable, str(ROOT / "worker.py"), "--config", str(self.config),
                                 "--parts", "tests.workflows.fakes:parts"], cwd=ROOT, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill9(self, i: int) -> None:
        os.killpg(self.procs[i].pid, signal.SIGKILL)
        self.procs[i].wait()
        self.kills += 1
        self.procs[i] = self._spawn(i)

    def revive(self) -> int:
        """Restart workers that exited on their own (e.g. when Redis went away under them)."""
        revived = 0
        for i, p in enumerate(self.procs):
            if p.poll() is not None:
                self.procs[i] = self._spawn(i)
                revived += 1
        return revived

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


@pytest.fixture
def setup(tmp_path, private_redis):
    config = tmp_path / "config.yaml"
    config.write_text(f"""\
data_dir: {tmp_path / 'data'}
queue:
  redis_url: {private_redis.url}
  redis_password_env: null
  retry_intervals_s: [1, 1]
  stale_after_s: 5
""", encoding="utf-8")
    wf_path = tmp_path / "tennyu.yaml"
    wf_path.write_text("name: tennyu\ntemplates: [juminido]\nsteps: [ocr, validate, review, keyin, report]\n"
                       "target: sample-legacy\n", encoding="utf-8")
    settings = load_config(config, env={})
    rt = jobs.use(settings, parts=FakeParts(settings))
    scans = tmp_path / "scans"
    scans.mkdir()
    yield rt, config, load_workflow(wf_path), scans
    rt.store.close()


def _scans(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        p = folder / f"{i:04d}.png"
        p.write_bytes(b"fake scan")
        paths.append(p)
    return paths


def _assert_all_keyed_once(rt, run_id: str, n: int) -> None:
    counts = rt.store.count_by_state(run_id)
    assert counts[DocState.KEYED] == n, counts                      # 0 lost
    made = creates(rt.settings)
    assert len(made) == n and set(made.values()) == {1}, made        # 0 keyed twice
    assert rt.store.get_run(run_id).finished_at is not None          # the report was written
    assert (rt.data.report(run_id) / "report.json").is_file()


def test_kill_9_workers_at_random_moments_loses_and_doubles_nothing(setup):
    rt, config, wf, folder = setup
    n = 24
    run = start_run(rt, wf, _scans(folder, n))
    workers = Workers(config, 2, delay_s=0.15)
    rng = random.Random(7)
    try:
        deadline = time.monotonic() + 30
        while workers.kills < 6 and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.6, 1.5))
            workers.kill9(rng.randrange(2))
        assert workers.kills == 6
        follow_run(rt, run.id, timeout_s=60)
    finally:
        workers.stop()
    _assert_all_keyed_once(rt, run.id, n)
    assert any(d.attempts > 1 for d in rt.store.documents(run_id=run.id)), "no kill landed mid-job"


def test_redis_restart_mid_batch_loses_nothing(setup, private_redis):
    rt, config, wf, folder = setup
    n = 20
    run = start_run(rt, wf, _scans(folder, n))
    workers = Workers(config, 2, delay_s=0.15)
    try:
        deadline = time.monotonic() + 30   # restart once the workers are visibly under way, whatever the load
        while rt.store.count_by_state(run.id)[DocState.KEYED] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        before = rt.store.count_by_state(run.id)
        unfinished = n - before[DocState.KEYED] - before[DocState.FAILED]
        assert before[DocState.KEYED] > 0 and unfinished > 0, f"no mid-batch moment to restart Redis: {before}"
        private_redis.stop()        # every queued job, lease and registry is gone
        time.sleep(1.0)
        private_redis.start()
        stop = threading.Event()
        reviver = threading.Thread(target=lambda: [workers.revive() for _ in iter(lambda: stop.wait(0.5), True)])
        reviver.start()  # workers that died with Redis come back, as under a service manager
        try:
            follow_run(rt, run.id, timeout_s=60)
        finally:
            stop.set()
            reviver.join()
    finally:
        workers.stop()
    _assert_all_keyed_once(rt, run.id, n)
