"""Jobs on the embedded queue with fake parts: states, routing, errors, retries, idempotency, the sweeper."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from kakitori.config import QueueConfig, Settings, StoreConfig
from workflows import jobs
from workflows.definition import load_workflow
from workflows.queue import connect
from workflows.runner import follow_run, start_run
from workflows.store import DocState, documents, utcnow

from .fakes import FakeParts, creates

WORKFLOW = """\
name: tennyu
templates: [juminido]
steps: [ocr, validate, review, keyin, report]
target: sample-legacy
"""


@pytest.fixture
def rt(tmp_path):
    settings = Settings(data_dir=tmp_path / "data",
                        queue=QueueConfig(redis_url="embedded", retry_intervals_s=[0, 0], stale_after_s=5),
                        store=StoreConfig(url=f"sqlite:///{tmp_path / 'data' / 'kakitori.db'}"))
    connect(settings.queue).flushall()
    runtime = jobs.use(settings, parts=FakeParts(settings))
    yield runtime
    runtime.store.close()


@pytest.fixture
def wf(tmp_path):
    path = tmp_path / "tennyu.yaml"
    path.write_text(WORKFLOW, encoding="utf-8")
    return load_workflow(path)


def scans(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        (folder / name).write_bytes(b"\x89PNG fake scan")
        out.append(folder / name)
    return out


def test_clean_scans_are_keyed_and_reported(rt, wf, tmp_path):
    run = start_run(rt, wf, scans(tmp_path / "in", "a.png", "b.png", "c.png"))
    final = follow_run(rt, run.id)
    assert final.counts[DocState.KEYED] == 3
    assert set(creates(rt.settings).values()) == {1}
    report = (rt.data.report(run.id) / "report.json")
    assert report.is_file() and '"keyed": 3' in report.read_text(encoding="utf-8")
    for doc in rt.store.documents(run_id=run.id):
        assert doc.receipt["status"] == "keyed"
        assert Path(doc.file).is_file() and rt.data.document(doc.id) in Path(doc.file).parents
        assert rt.data.record(doc.id).is_file()
        assert [t.to_state for t in rt.store.transitions(doc_id=doc.id)] == [
            DocState.RECEIVED, DocState.READ, DocState.ACCEPTED, DocState.KEYING, DocState.KEYED]


def test_unsure_fields_wait_for_review_then_key_in_after_it(rt, wf, tmp_path):
    run = start_run(rt, wf, scans(tmp_path / "in", "review1.png", "ok.png"))
    follow_run(rt, run.id)
    waiting = rt.store.waiting_for_review()
    assert [d.file.endswith("review1.png") for d in waiting.items] == [True]
    doc = waiting.items[0]
    rt.store.correct_field(doc.id, "name", "山田花子", user="reviewer1")
    assert rt.store.mark_reviewed(doc.id, "reviewer1")
    jobs.continue_after_review(doc.id)  # embedded: the key-in runs now
    got = rt.store.get(doc.id)
    assert got.state is DocState.KEYED
    report = rt.store.get_run(run.id)
    assert report.finished_at is not None


def test_business_error_fails_with_reason_and_is_not_retried(rt, wf, tmp_path):
    run = start_run(rt, wf, scans(tmp_path / "in", "bad.png"))
    follow_run(rt, run.id)
    doc = rt.store.documents(run_id=run.id)[0]
    assert doc.state is DocState.FAILED
    assert doc.error["kind"] == "business" and doc.error["stage"] == "ocr"
    assert "no template" in doc.error["message"] and doc.attempts == 1
    assert rt.queue.failed() == []  # a business error is not a failed job: it is a visible document state


def test_application_error_is_retried_then_succeeds(rt, wf, tmp_path):
    run = start_run(rt, wf, scans(tmp_path / "in", "flaky.png"))
    follow_run(rt, run.id)
    doc = rt.store.documents(run_id=run.id)[0]
    assert doc.state is DocState.KEYED and doc.attempts >= 2


def test_application_error_after_last_retry_fails_and_lists_the_job(rt, wf, tmp_path, monkeypatch):
    from kakitori.errors import ApplicationError

    def broken(*args, **kwargs):
        raise ApplicationError("screen timed out", screen="confirm")

    monkeypatch.setattr(rt.parts, "key_in", broken)
    run = start_run(rt, wf, scans(tmp_path / "in", "a.png"))
    follow_run(rt, run.id)
    doc = rt.store.documents(run_id=run.id)[0]
    assert doc.state is DocState.FAILED and doc.error["retryable"] is True and doc.error["stage"] == "keyin"
    assert doc.error["context"]["screen"] == "confirm"
    failed = rt.queue.failed()
    assert [f.id for f in failed] == [f"keyin-{doc.id}"]
    monkeypatch.undo()
    jobs.use(rt.settings, store=rt.store, queue=rt.queue, parts=FakeParts(rt.settings))
    assert jobs.requeue_document(doc.id) == f"keyin-{doc.id}"
    rt.queue.drain()
    assert rt.store.get(doc.id).state is DocState.KEYED


def test_running_a_job_twice_changes_nothing_the_second_time(rt, wf, tmp_path):
    run = start_run(rt, wf, scans(tmp_path / "in", "a.png"))
    follow_run(rt, run.id)
    doc = rt.store.documents(run_id=run.id)[0]
    before = len(rt.store.transitions(doc_id=doc.id))
    assert jobs.ocr_document(doc.id) is None and jobs.keyin_document(doc.id) is None
    assert len(rt.store.transitions(doc_id=doc.id)) == before
    assert set(creates(rt.settings).values()) == {1}


def test_a_job_finding_its_document_leased_does_nothing(rt, wf, tmp_path):
    run = start_run(rt, wf, scans(tmp_path / "in", "a.png"))
    doc = rt.store.documents(run_id=run.id)[0]
    with rt.queue.lease(f"doc:{doc.id}") as held:
        assert held
        jobs.ocr_document(doc.id)  # the twin of a job still running elsewhere
        assert rt.store.get(doc.id).state is DocState.RECEIVED


def test_sweeper_reenqueues_documents_whose_jobs_were_lost(rt, wf, tmp_path):
    run = start_run(rt, wf, scans(tmp_path / "in", "a.png", "b.png"))
    rt.queue.connection.flushall()  # Redis lost everything: queues, jobs
    assert jobs.sweep(rt) == []     # not stale yet: nothing to do
    with rt.store.engine.begin() as conn:  # age the documents past stale_after_s instead of waiting
        conn.execute(update(documents).values(updated_at=utcnow() - timedelta(seconds=60)))
    enqueued = jobs.sweep(rt)
    assert sorted(enqueued) == sorted(f"ocr-{d.id}" for d in rt.store.documents(run_id=run.id))
    assert jobs.sweep(rt) == []  # already pending: not enqueued twice
    follow_run(rt, run.id)
    assert rt.store.count_by_state(run.id)[DocState.KEYED] == 2


@pytest.mark.integration
def test_the_same_jobs_run_on_a_postgresql_store(tmp_path, wf):
    import uuid

    from workflows.store import DocumentStore

    from .conftest import POSTGRES_URL

    settings = Settings(data_dir=tmp_path / "data",
                        queue=QueueConfig(redis_url="embedded", retry_intervals_s=[0], stale_after_s=5))
    connect(settings.queue).flushall()
    store = DocumentStore(POSTGRES_URL, schema=f"kakitori_test_{uuid.uuid4().hex[:10]}")
    try:
        rt = jobs.use(settings, store=store, parts=FakeParts(settings))
        run = start_run(rt, wf, scans(tmp_path / "in", "a.png", "review-b.png", "bad-c.png"))
        final = follow_run(rt, run.id)
        assert (final.counts[DocState.KEYED], final.counts[DocState.NEEDS_REVIEW], final.counts[DocState.FAILED]) \
            == (1, 1, 1)
        assert json_report(rt, run.id)["states"]["keyed"] == 1
    finally:
        store.drop_all()
        store.close()


def json_report(rt, run_id):
    import json

    return json.loads((rt.data.report(run_id) / "report.json").read_text(encoding="utf-8"))


def test_a_document_that_keeps_crashing_its_worker_is_given_up_with_a_reason(rt, wf, tmp_path):
    run = start_run(rt, wf, scans(tmp_path / "in", "a.png"))
    doc = rt.store.documents(run_id=run.id)[0]
    with rt.store.engine.begin() as conn:  # as if seven workers had died on it
        conn.execute(update(documents).where(documents.c.id == doc.id).values(attempts=7))
    jobs.ocr_document(doc.id)
    got = rt.store.get(doc.id)
    assert got.state is DocState.FAILED and "gave up after 7 attempts" in got.error["message"]
    assert got.error["retryable"] is True  # `kakitori jobs requeue` may try again once the cause is found
