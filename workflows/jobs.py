"""The queue's job functions: module-level, JSON arguments only (ids), idempotent.

Each job reads the document from the store, does its stage, writes the state change (compare-and-set), and
only then enqueues the next stage. Running a job twice leaves the same state as once: a duplicate finds the
document already moved (or leased by the twin still running) and does nothing; key-in itself is idempotent
(the bots' ledger), so a job re-run after a crash never keys a record twice.

Failures: ``BusinessError`` → the document is ``failed`` with the reason, the job ends normally (no retry).
``ApplicationError`` (or a job timeout) → the reason is noted and the job asks rq for a retry with backoff
(``queue.retry_intervals_s``); after the last one the document is ``failed`` (retryable) and the job sits in
rq's failed registry for ``kakitori jobs requeue``. Anything else is a bug: the document is ``failed``
(kind ``internal``) and the exception reaches the worker, which logs it.

The sweeper (``sweep``) is how a worker killed mid-job or a Redis restart loses nothing: the store says what
each document still needs, and whatever has no live job (no queued job, no lease) is enqueued again.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import redis
from loguru import logger
from rq import Retry, get_current_job
from rq.timeouts import JobTimeoutException

from kakitori.config import Settings, load_config
from kakitori.errors import ApplicationError, BusinessError, ConfigError, KakitoriError
from kakitori.paths import DataDir
from ocr.record import Record
from workflows.queue import Queue
from workflows.store import ACTIVE, DocState, Document, DocumentStore, utcnow

CRASH_ALLOWANCE = 3  # job starts beyond the retries (worker crashes, sweeps) before a document is given up


class Parts(Protocol):
    """What the jobs call to read a scan and to key a record in: the OCR engine and the key-in bot."""

    def read(self, path: Path, template: str, document_id: str) -> list[Record]: ...

    def key_in(self, record: Record, target: str, job_id: str) -> dict[str, Any]: ...


class RealParts:
    """The OCR pipeline and the key-in bots. The OCR engine (models) loads once per worker process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Any = None

    def warm(self) -> None:
        """Load the OCR models now (a worker does this at start, so its first job isn't the slow one)."""
        if self._engine is None:
            from ocr.pipeline import OcrEngine

            self._engine = OcrEngine(self.settings.ocr, DataDir(self.settings.data_dir))

    def keep_browser(self) -> None:
        """Key-in jobs of this (worker) thread share one Chromium process; each job still has its own context."""
        from bots.session import keep_browser_open

        keep_browser_open()

    def read(self, path: Path, template: str, document_id: str) -> list[Record]:
        self.warm()
        return self._engine.read(path, template=template, document_id=document_id)

    def key_in(self, record: Record, target: str, job_id: str) -> dict[str, Any]:
        from bots.keyin import key_in

        receipt = key_in(record.to_dict(), target, self.settings.bots, DataDir(self.settings.data_dir), job_id)
        return receipt.to_dict()


@dataclass
class Runtime:
    """What job functions need in this process: settings, store, queue, parts. Set once at the edge."""

    settings: Settings
    store: DocumentStore
    queue: Queue
    parts: Parts
    _steps: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def data(self) -> DataDir:
        return DataDir(self.settings.data_dir)

    def steps(self, run_id: str) -> tuple[str, ...]:
        if run_id not in self._steps:
            self._steps[run_id] = self.store.get_run(run_id).steps
        return self._steps[run_id]


_runtime: Runtime | None = None


def use(settings: Settings, *, store: DocumentStore | None = None, queue: Queue | None = None,
        parts: Parts | str | None = None) -> Runtime:
    """Set this process's runtime (CLI, worker, review app, tests). ``parts`` may be ``"module:factory"``."""
    global _runtime
    if isinstance(parts, str):
        parts = load_parts(parts, settings)
    _runtime = Runtime(settings=settings, store=store or DocumentStore.from_settings(settings),
                       queue=queue or Queue(settings.queue), parts=parts or RealParts(settings))
    return _runtime


def runtime() -> Runtime:
    """The runtime set by ``use``, or one built from ``load_config()`` ($KAKITORI_CONFIG) on first need."""
    return _runtime if _runtime is not None else use(load_config())


def load_parts(spec: str, settings: Settings) -> Parts:
    """``module:factory`` → ``factory(settings)``: how a worker is given other parts (fast fakes for tests of
    the queue machinery, where OCR and the browser are not what is tested)."""
    module, _, name = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module), name or "parts")
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load parts {spec!r}: {exc}", key="--parts") from None
    return factory(settings)


# job ids: one per document and stage, so a pending job can be found (and not enqueued twice)

def job_id(stage: str, ident: str) -> str:
    return f"{stage}-{ident}"


def enqueue_ocr(rt: Runtime, doc_id: str) -> None:
    rt.queue.enqueue("ocr", ocr_document, doc_id, job_id=job_id("ocr", doc_id))


def enqueue_keyin(rt: Runtime, doc_id: str) -> None:
    rt.queue.enqueue("keyin", keyin_document, doc_id, job_id=job_id("keyin", doc_id))


def enqueue_report(rt: Runtime, run_id: str) -> None:
    jid = job_id("report", run_id)
    if not rt.queue.pending(jid):
        rt.queue.enqueue("report", finish_run, run_id, job_id=jid)


# the jobs

def ocr_document(doc_id: str) -> Retry | None:
    """received → read → needs_review | accepted (→ enqueue key-in)."""
    return _run_stage("ocr", doc_id, _ocr)


def keyin_document(doc_id: str) -> Retry | None:
    """accepted | reviewed → keying → keyed (a receipt from the target system)."""
    return _run_stage("keyin", doc_id, _keyin)


def finish_run(run_id: str) -> str:
    """Write the run report (HTML + JSON); returns its folder. Idempotent: rewritten with the latest figures."""
    from workflows.report import write_report

    rt = runtime()
    folder = write_report(rt.store, rt.data, run_id, labels=_field_labels(rt, run_id))
    if not rt.store.count_active(run_id):
        rt.store.finish_run(run_id)
    logger.bind(run=run_id).info("run report written")
    return str(folder)


def _field_labels(rt: "Runtime", run_id: str) -> dict[str, str]:
    """Field name → printed label, over the templates of the run's documents (what the report shows clerks)."""
    from ocr.template import template_by_name

    labels: dict[str, str] = {}
    for name in sorted({d.template for d in rt.store.documents(run_id=run_id) if d.template}):
        try:
            template = template_by_name(name, rt.settings.ocr.templates_dirs)
        except ConfigError:
            continue  # a template removed since: the report falls back to field names
        labels.update({f.name: f.label for f in template.fields})
    return labels


def continue_after_review(doc_id: str, settings: Settings | None = None) -> None:
    """Called by the review station once a document is ``reviewed``: enqueue its key-in (or settle its run).

    On the embedded queue the key-in runs here and now, in this process.
    """
    rt = runtime() if settings is None or _runtime is not None else use(settings)
    doc = rt.store.get(doc_id)
    if doc.state is not DocState.REVIEWED:
        return
    if "keyin" in rt.steps(doc.run_id):
        enqueue_keyin(rt, doc_id)
    else:
        _settle(rt, doc.run_id)
    if rt.queue.embedded:
        rt.queue.drain()


def noop(n: int) -> int:
    """A trivial job: the benchmark measures the queue's own overhead with it."""
    return n


# stage bodies

def _ocr(rt: Runtime, doc: Document) -> None:
    if doc.state is DocState.RECEIVED:
        records = rt.parts.read(Path(doc.file), doc.template, doc.id)
        if not records:
            raise BusinessError("no form found in the file", document=doc.id, file=Path(doc.file).name)
        # the first form keeps the document's id; further forms in the same file become documents of their own
        record = Record.from_dict({**records[0].to_dict(), "document_id": doc.id})
        for n, more in enumerate(records[1:], 2):
            _add_split(rt, doc, more.document_id if more.document_id != doc.id else f"{doc.id}-{n}", more)
        _write_record(rt, record)
        rt.store.transition(doc.id, DocState.RECEIVED, DocState.READ, record=record, template=record.template)
        doc = rt.store.get(doc.id)
    if doc.state is DocState.READ:
        _route(rt, doc)


def _add_split(rt: Runtime, parent: Document, doc_id: str, record: Record) -> None:
    if rt.store.find(doc_id) is None:
        rt.store.add_document(parent.run_id, parent.file, workflow=parent.workflow, template=record.template,
                              target=parent.target, doc_id=doc_id)
    record = Record.from_dict({**record.to_dict(), "document_id": doc_id})
    _write_record(rt, record)
    if rt.store.transition(doc_id, DocState.RECEIVED, DocState.READ, record=record, template=record.template):
        _route(rt, rt.store.get(doc_id))


def _route(rt: Runtime, doc: Document) -> None:
    """The validate step and the review gate: open fields wait for a person, the rest go on to key-in."""
    assert doc.record is not None
    steps = rt.steps(doc.run_id)
    if doc.record.needs_review:
        if "review" not in steps:
            raise BusinessError(f"{len(doc.open_fields)} field(s) need a person but the workflow has no review "
                                "step", document=doc.id, field=",".join(doc.open_fields))
        rt.store.transition(doc.id, DocState.READ, DocState.NEEDS_REVIEW)
        return
    if rt.store.transition(doc.id, DocState.READ, DocState.ACCEPTED) and "keyin" in steps:
        enqueue_keyin(rt, doc.id)


def _keyin(rt: Runtime, doc: Document) -> None:
    if "keyin" not in rt.steps(doc.run_id) or doc.state not in (DocState.ACCEPTED, DocState.REVIEWED,
                                                                   DocState.KEYING):
        return
    if doc.state is not DocState.KEYING:
        rt.store.transition(doc.id, [DocState.ACCEPTED, DocState.REVIEWED], DocState.KEYING)
    assert doc.record is not None
    target_cfg = rt.settings.bots.targets.get(doc.target)
    if target_cfg is None:
        raise ConfigError(f"unknown key-in target '{doc.target}'", key="bots.targets", document=doc.id)
    timeout = rt.settings.queue.timeouts_s.get("keyin", 600)
    with rt.queue.slot(f"target:{doc.target}", target_cfg.max_sessions, wait_s=timeout / 2):
        receipt = rt.parts.key_in(doc.record, doc.target, job_id("keyin", doc.id))
    rt.store.transition(doc.id, DocState.KEYING, DocState.KEYED, receipt=receipt, error=None)


def _write_record(rt: Runtime, record: Record) -> None:
    path = rt.data.record(record.document_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record.to_dict(), ensure_ascii=False), encoding="utf-8")


# the frame around every stage: lease, attempts, error handling, settling the run

def _run_stage(stage: str, doc_id: str, body: Callable[[Runtime, Document], None]) -> Retry | None:
    rt = runtime()
    log = logger.bind(document=doc_id, stage=stage)
    with rt.queue.lease(f"doc:{doc_id}") as held:
        if not held:
            log.info("another job holds this document; nothing to do")
            return None
        doc = rt.store.find(doc_id)
        if doc is None or doc.state not in ACTIVE:
            return None
        max_attempts = len(rt.settings.queue.retry_intervals_s) + 1 + CRASH_ALLOWANCE
        if doc.attempts >= max_attempts:
            _fail(rt, doc, ApplicationError(f"gave up after {doc.attempts} attempts", document=doc_id), stage)
            _settle(rt, doc.run_id)
            return None
        rt.store.touch(doc_id, doc.state, count_attempt=True)
        started = time.perf_counter()
        # the store's heartbeat: while this runs the document never looks abandoned to the sweeper
        beat = rt.settings.queue.stale_after_s
        with rt.queue.keep_alive(lambda: rt.store.heartbeat(doc_id), beat):
            try:
                body(rt, doc)
            except (BusinessError, ConfigError) as exc:
                _fail(rt, doc, exc, stage)
            except (ApplicationError, JobTimeoutException, redis.RedisError) as exc:
                return _retry_or_fail(rt, doc, _application(exc, doc_id), stage)
            except Exception as exc:
                _fail(rt, doc, _internal(exc, doc_id), stage)
                raise
            else:
                log.info("{stage} done in {ms:.0f} ms", stage=stage, ms=(time.perf_counter() - started) * 1000)
    _settle(rt, doc.run_id)
    return None


def _retry_or_fail(rt: Runtime, doc: Document, exc: ApplicationError, stage: str) -> Retry | None:
    intervals = rt.settings.queue.retry_intervals_s
    job = get_current_job()
    retries_done = (job.number_of_retries or 0) if job else len(intervals)
    error = {**exc.to_dict(), "stage": stage}
    if intervals and retries_done < len(intervals):
        rt.store.note_error(doc.id, error)
        logger.bind(document=doc.id, stage=stage).warning(
            "application error, retry {n} of {m}: {err}", n=retries_done + 1, m=len(intervals), err=exc.message)
        return Retry(max=len(intervals), interval=intervals)
    _fail(rt, doc, exc, stage)
    _settle(rt, doc.run_id)
    # returning Retry once more lets rq record "max retries exceeded" in its failed registry (jobs requeue)
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def _fail(rt: Runtime, doc: Document, exc: KakitoriError, stage: str) -> None:
    error = {**exc.to_dict(), "stage": stage}
    rt.store.transition(doc.id, ACTIVE, DocState.FAILED, error=error)
    logger.bind(document=doc.id, stage=stage, kind=exc.kind).warning("document failed: {msg}", msg=exc.message)


def _application(exc: Exception, doc_id: str) -> ApplicationError:
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, JobTimeoutException):
        return ApplicationError("the job timed out", document=doc_id)
    return ApplicationError(f"Redis unavailable: {type(exc).__name__}", document=doc_id)


def _internal(exc: Exception, doc_id: str) -> KakitoriError:
    err = KakitoriError(f"internal error: {type(exc).__name__}", document=doc_id)
    err.kind = "internal"
    return err


def _settle(rt: Runtime, run_id: str) -> None:
    """When no document of the run has work left (the rest keyed, failed or waiting for review): report.

    The document's own work is done and stored by now, so a failure here is left to the sweeper.
    """
    try:
        if rt.store.count_active(run_id, steps=rt.steps(run_id)) == 0:
            enqueue_report(rt, run_id)
    except ApplicationError as exc:
        logger.bind(run=run_id).warning("report not enqueued ({error}); the sweeper will", error=exc.message)


# the sweeper

def sweep(rt: Runtime | None = None) -> list[str]:
    """Re-enqueue every document that has work left but no live job; returns the job ids enqueued.

    A document is picked when its row has not been touched for ``queue.stale_after_s`` (a running job beats
    it every third of that), Redis knows no pending job for it (queued, scheduled or deferred) and no worker
    holds its lease. This covers a worker killed with SIGKILL (its heartbeat stops), jobs lost with a Redis
    restart, and a next stage never enqueued because a process died between writing a state and enqueuing.
    """
    rt = rt or runtime()
    cutoff = utcnow() - timedelta(seconds=rt.settings.queue.stale_after_s)
    enqueued = []
    for doc in rt.store.documents(states=ACTIVE, updated_before=cutoff):
        steps = rt.steps(doc.run_id)
        if doc.state in (DocState.RECEIVED, DocState.READ):
            stage, func = "ocr", ocr_document
        elif "keyin" in steps:
            stage, func = "keyin", keyin_document
        else:
            continue
        jid = job_id(stage, doc.id)
        if rt.queue.leased(f"doc:{doc.id}") or rt.queue.pending(jid):
            continue
        rt.queue.replace(stage, func, doc.id, job_id=jid)
        enqueued.append(jid)
    for run in rt.store.unfinished_runs(created_before=cutoff):
        if rt.store.count_active(run.id, steps=run.steps) == 0 and not rt.queue.pending(job_id("report", run.id)):
            enqueue_report(rt, run.id)
            enqueued.append(job_id("report", run.id))
    if enqueued:
        logger.bind(jobs=len(enqueued)).warning("sweeper re-enqueued {n} job(s)", n=len(enqueued))
    return enqueued


def requeue_document(doc_id: str, rt: Runtime | None = None) -> str:
    """Put a failed document back where it failed and enqueue its job (``kakitori jobs requeue``)."""
    rt = rt or runtime()
    doc = rt.store.get(doc_id)
    if doc.state is not DocState.FAILED:
        raise BusinessError(f"document is {doc.state.value}, not failed", document=doc_id)
    stage = (doc.error or {}).get("stage", "ocr")
    if stage == "keyin":
        back = DocState.REVIEWED if doc.reviewed_by else DocState.ACCEPTED
    else:
        back = DocState.READ if doc.record else DocState.RECEIVED
    if not rt.store.transition(doc_id, DocState.FAILED, back, by="requeue", error=None):
        raise BusinessError("document changed meanwhile", document=doc_id)
    rt.store.reset_attempts(doc_id)
    rt.store.finish_run(doc.run_id, finished=False)
    if stage == "keyin":
        enqueue_keyin(rt, doc_id)
        return job_id("keyin", doc_id)
    enqueue_ocr(rt, doc_id)
    return job_id("ocr", doc_id)
