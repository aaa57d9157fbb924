"""The Queue seam: JSON jobs only, per-target session slots, leases that lapse when their holder dies."""

from __future__ import annotations

import json
import threading
import time
import zlib

import pytest

from kakitori.config import QueueConfig
from kakitori.errors import ApplicationError
from workflows.queue import Queue, connect


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.integration)])
def queue(request):
    if request.param == "embedded":
        cfg = QueueConfig(redis_url="embedded", stale_after_s=5)
        connect(cfg).flushdb()
    else:
        cfg = QueueConfig(redis_url=request.getfixturevalue("private_redis").url, redis_password_env=None,
                          stale_after_s=5)
    return Queue(cfg)


def test_jobs_are_stored_as_json_never_pickle(queue):
    job = queue.enqueue("ocr", "workflows.jobs.noop", 7, job_id="ocr-json-check")
    data = zlib.decompress(queue.connection.hget(job.key, "data"))   # rq compresses the payload
    assert json.loads(data)[0] == "workflows.jobs.noop"               # JSON: a name and ids, no code
    assert queue.pending("ocr-json-check")


def test_replace_drops_a_run_whose_execution_record_was_lost_with_its_worker(queue):
    # a worker killed mid-job leaves its execution id in the job's registry after the execution's own
    # record expired; rq's Job.delete then raised ValueError and the sweeper with it
    job = queue.enqueue("ocr", "workflows.jobs.noop", 7, job_id="ocr-lost-execution")
    queue.connection.zadd(job.execution_registry.key, {"gone-with-the-worker": time.time() + 600})
    again = queue.replace("ocr", "workflows.jobs.noop", 8, job_id="ocr-lost-execution")
    assert list(again.args) == [8]
    assert queue.connection.zcard(job.execution_registry.key) == 0
    assert queue.pending("ocr-lost-execution")


def test_target_slots_never_exceed_max_sessions(queue):
    busy, peak, lock = [0], [0], threading.Lock()

    def key_in():
        with queue.slot("target:legacy", 2, wait_s=10):
            with lock:
                busy[0] += 1
                peak[0] = max(peak[0], busy[0])
            time.sleep(0.15)
            with lock:
                busy[0] -= 1

    threads = [threading.Thread(target=key_in) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_a_dead_holders_slot_lapses_and_a_busy_target_is_an_application_error(queue):
    now = time.time()
    queue.connection.zadd("kakitori:slots:target:x", {"dead-holder": now + 0.5})  # a worker killed mid key-in
    with pytest.raises(ApplicationError, match="busy"):
        with queue.slot("target:x", 1, wait_s=0.1):
            pass
    time.sleep(0.6)
    with queue.slot("target:x", 1, wait_s=1):  # its slot lapsed: free again
        pass


def test_a_lease_is_exclusive_and_kept_alive_while_held(queue):
    with queue.lease("doc:1", ttl_s=0.6) as held:
        assert held
        with queue.lease("doc:1") as twin:
            assert not twin
        time.sleep(1.0)                      # longer than the TTL: the refresher kept it
        assert queue.leased("doc:1")
    assert not queue.leased("doc:1")


def test_a_lease_lost_with_redis_is_taken_back_by_its_holder(queue):
    with queue.lease("doc:2", ttl_s=0.6) as held:
        assert held
        queue.connection.delete("kakitori:lease:doc:2")   # as after a Redis restart
        time.sleep(0.5)
        assert queue.leased("doc:2")


def test_claim_once_is_true_for_exactly_one_caller(queue):
    assert [queue.claim_once("cron:x:1", 60) for _ in range(3)] == [True, False, False]
