"""Starting a run of a workflow and following it to the end: what ``kakitori run`` and the scheduler do.

A run registers every scan as a document (its file copied — or, from a watched folder, moved — under
``DataDir.document``), writes them all to the store, and only then enqueues their OCR jobs. Following a run
means watching the store (the source of truth), not Redis; on the embedded queue the jobs run right here.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
from loguru import logger

from kakitori.errors import ApplicationError
from workflows.definition import Workflow
from workflows.jobs import Runtime, enqueue_ocr, enqueue_report, sweep
from workflows.store import DocState, Run


@dataclass(frozen=True)
class Progress:
    run_id: str
    total: int
    settled: int
    counts: dict[DocState, int]

    @property
    def done(self) -> bool:
        return self.settled >= self.total


def input_folder(rt: Runtime, wf: Workflow, override: Path | None) -> Path | None:
    """The folder to read: ``--input``, else the workflow's watched folder, else ``<data_dir>/inbox/<name>``."""
    if override is not None:
        return override
    if wf.folder is not None or wf.files:
        return wf.folder
    folder = rt.data.inbox / wf.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_run(rt: Runtime, wf: Workflow, scans: list[Path], *, consume: bool = False, source: str = "") -> Run:
    """Register the scans as documents of a new run and enqueue their OCR. ``consume`` moves the files."""
    run = rt.store.create_run(wf.name, template=wf.template, target=wf.target, steps=wf.steps, input=source)
    doc_ids = []
    for scan in scans:
        doc = rt.store.add_document(run.id, scan, workflow=wf.name, template=wf.template, target=wf.target)
        kept = rt.data.document(doc.id) / scan.name
        kept.parent.mkdir(parents=True, exist_ok=True)
        (shutil.move if consume else shutil.copy2)(scan, kept)
        rt.store.set_file(doc.id, kept)
        doc_ids.append(doc.id)
    for doc_id in doc_ids:
        enqueue_ocr(rt, doc_id)
    if not doc_ids:
        enqueue_report(rt, run.id)
    logger.bind(run=run.id, workflow=wf.name, documents=len(doc_ids)).info("run started")
    return run


def progress(rt: Runtime, run_id: str) -> Progress:
    steps = rt.steps(run_id)
    counts = rt.store.count_by_state(run_id)
    total = sum(counts.values())
    return Progress(run_id=run_id, total=total, settled=total - rt.store.count_active(run_id, steps=steps),
                    counts=counts)


def follow_run(rt: Runtime, run_id: str, *, on_progress: Callable[[Progress], None] | None = None,
               timeout_s: float | None = None, poll_s: float = 0.5) -> Progress:
    """Wait until no document of the run has machine work left and its report is written.

    Embedded queue: runs the jobs in this process. Redis: watches the store, sweeping now and then so that a
    run whose worker died still finishes once a worker is back.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    last_sweep = time.monotonic()
    while True:
        if rt.queue.embedded:
            rt.queue.drain(tick=lambda: _report(rt, on_progress, run_id))
        state = _report(rt, on_progress, run_id)
        if state.done and rt.store.get_run(run_id).finished_at is not None:
            return state
        if deadline is not None and time.monotonic() > deadline:
            raise ApplicationError(f"run not finished after {timeout_s:.0f} s ({state.settled}/{state.total} "
                                   "settled); is a worker running?", run=run_id)
        if time.monotonic() - last_sweep > rt.settings.queue.stale_after_s / 2:
            try:
                sweep(rt)
            except (ApplicationError, redis.RedisError) as exc:  # Redis restarting: try again next time
                logger.warning("sweep failed: {error}", error=str(exc))
            last_sweep = time.monotonic()
        time.sleep(poll_s)


def _report(rt: Runtime, on_progress: Callable[[Progress], None] | None, run_id: str) -> Progress:
    state = progress(rt, run_id)
    if on_progress is not None:
        on_progress(state)
    return state
