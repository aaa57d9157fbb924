"""Start a Kakitori worker: ``python worker.py [--config PATH] [--queues ocr,keyin] [--burst]``.

Same as ``kakitori worker``. An rq worker on the configured queues, with JSON-serialised jobs, logging set up,
rq's scheduler on (retry back-offs and delayed jobs need it), and the sweeper as one of its maintenance tasks.

Jobs run in the worker process itself (rq's ``SimpleWorker``, no fork per job): the OCR models and the
browser load once per worker, not once per job, and the per-job queue overhead stays in milliseconds. A job
that crashes the process takes the worker with it; the service manager restarts it and the sweeper
re-enqueues the document (the store, not Redis, says what is left to do).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import redis
from loguru import logger
from rq.serializers import JSONSerializer

from kakitori.errors import KakitoriError
from workflows.queue import LeanWorker


class KakitoriWorker(LeanWorker):
    """rq's SimpleWorker (lean heartbeat) whose maintenance also sweeps: abandoned documents are re-enqueued."""

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        from workflows import jobs

        rt = jobs.runtime()
        try:
            if rt.queue.claim_once("sweep", max(1, int(self.maintenance_interval) - 1)):
                jobs.sweep(rt)
        except (KakitoriError, redis.RedisError) as exc:  # maintenance must not kill the worker
            logger.warning("sweep skipped: {error}", error=str(exc))


MATH_THREADS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def limit_math_threads(threads: int) -> None:
    """Give numpy's OpenBLAS (and any OpenMP pool) the worker's OCR thread count (``ocr.threads``).

    Left alone they start one thread per core in every worker process, and idle ones spin: with two workers on
    two cores that cost ~10 % of the OCR's CPU per form. Read once, when numpy first loads (the OCR models, after
    this); a value the administrator set in the environment wins.
    """
    if "numpy" in sys.modules:
        logger.debug("numpy already loaded: its thread pool keeps its size")
    for name in MATH_THREADS_ENV:
        os.environ.setdefault(name, str(threads))


def start_worker(settings: Any, queues: list[str] | None = None, *, burst: bool = False,
                 parts: str | None = None, verbose: bool = False) -> bool:
    """Run a worker until stopped (or, with ``burst``, until the queues are empty). Returns whether it worked."""
    from workflows import jobs

    limit_math_threads(settings.ocr.threads)
    rt = jobs.use(settings, parts=parts)
    rt.queue.ping()
    names = queues or list(rt.queue.queues)
    if "ocr" in names and hasattr(rt.parts, "warm"):
        rt.parts.warm()
    if "keyin" in names and hasattr(rt.parts, "keep_browser"):
        rt.parts.keep_browser()
    every = max(5, settings.queue.stale_after_s // 2)
    # worker_ttl bounds rq's blocking dequeue (ttl - 15 s): an idle worker wakes every `every` seconds to sweep
    worker = KakitoriWorker([rt.queue.queue(n) for n in names], connection=rt.queue.connection,
                            serializer=JSONSerializer, maintenance_interval=every, worker_ttl=every + 15)
    worker.log_job_description = False
    logger.bind(queues=names, burst=burst).info("worker starting")
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO" if verbose else "WARNING")


if __name__ == "__main__":
    from kakitori.cli import run

    sys.exit(run(["worker", *sys.argv[1:]]))
