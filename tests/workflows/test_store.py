"""The document store: guarded transitions, review corrections with audit, paging — on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kakitori.errors import BusinessError
from ocr.record import FieldResult, FieldStatus, Record
from workflows.store import DocState


def _record(doc_id: str, open_fields: int = 1) -> Record:
    fields = {
        "postal_code": FieldResult("postal_code", "postal", "832-8555", status=FieldStatus.ACCEPTED, confidence=0.99),
        "reason": FieldResult("reason", "choice", "tennyu", status=FieldStatus.ACCEPTED, confidence=0.99),
    }
    for i in range(open_fields):
        fields[f"name{i}"] = FieldResult(f"name{i}", "text", "山田", status=FieldStatus.NEEDS_REVIEW, reason="low")
    return Record(document_id=doc_id, template="juminido", fields=fields)


def _doc_waiting(store, run_id, open_fields=1):
    doc = store.add_document(run_id, "/scans/0001.png", workflow="tennyu", template="juminido")
    assert store.transition(doc.id, DocState.RECEIVED, DocState.READ, record=_record(doc.id, open_fields))
    assert store.transition(doc.id, DocState.READ, DocState.NEEDS_REVIEW)
    return doc.id


def test_transition_moves_a_document_once(store):
    run = store.create_run("tennyu", template="juminido", steps=["ocr", "keyin"])
    doc = store.add_document(run.id, "/scans/a.png", workflow="tennyu")
    assert doc.state is DocState.RECEIVED
    assert store.transition(doc.id, DocState.RECEIVED, DocState.READ, record=_record(doc.id), count_attempt=True)
    assert not store.transition(doc.id, DocState.RECEIVED, DocState.READ)  # a duplicate job: refused
    got = store.get(doc.id)
    assert got.state is DocState.READ and got.attempts == 1
    assert got.record.fields["postal_code"].value == "832-8555"
    assert [(t.from_state, t.to_state) for t in store.transitions(doc_id=doc.id)] == [
        (None, DocState.RECEIVED), (DocState.RECEIVED, DocState.READ)]


def test_concurrent_duplicate_transitions_let_exactly_one_win(store):
    run = store.create_run("tennyu")
    doc = store.add_document(run.id, "/scans/a.png", workflow="tennyu")
    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(lambda _: store.transition(doc.id, DocState.RECEIVED, DocState.READ), range(16)))
    assert wins.count(True) == 1
    assert len(store.transitions(doc_id=doc.id)) == 2


def test_error_is_kept_with_failed_state(store):
    run = store.create_run("tennyu")
    doc = store.add_document(run.id, "/scans/a.png", workflow="tennyu")
    err = BusinessError("no template matches the page", document=doc.id, page=1).to_dict()
    assert store.transition(doc.id, [DocState.RECEIVED, DocState.READ], DocState.FAILED, error=err)
    got = store.get(doc.id)
    assert got.state is DocState.FAILED
    assert got.error["kind"] == "business" and got.error["retryable"] is False
    assert got.error["context"]["page"] == "1"


def test_correction_updates_record_and_is_audited(store):
    run = store.create_run("tennyu", template="juminido")
    doc_id = _doc_waiting(store, run.id, open_fields=2)
    record = store.correct_field(doc_id, "name0", "山口", user="reviewer1")
    assert record.fields["name0"].value == "山口" and record.fields["name0"].status is FieldStatus.REVIEWED
    store.correct_field(doc_id, "name1", "山田", user="reviewer1")  # confirmed as read
    audit = store.corrections(doc_id=doc_id)
    assert [(c.field, c.old_value, c.new_value, c.changed, c.user) for c in audit] == [
        ("name0", "山田", "山口", True, "reviewer1"), ("name1", "山田", "山田", False, "reviewer1")]
    assert audit[0].template == "juminido" and audit[0].run_id == run.id
    assert store.mark_reviewed(doc_id, "reviewer1")
    assert not store.mark_reviewed(doc_id, "reviewer1")  # a second click does nothing
    got = store.get(doc_id)
    assert got.state is DocState.REVIEWED and got.reviewed_by == "reviewer1" and not got.open_fields


def test_mark_reviewed_refuses_while_fields_are_open(store):
    run = store.create_run("tennyu")
    doc_id = _doc_waiting(store, run.id, open_fields=2)
    store.correct_field(doc_id, "name0", "山口", user="r1")
    with pytest.raises(BusinessError, match="still open"):
        store.mark_reviewed(doc_id, "r1")
    assert store.get(doc_id).state is DocState.NEEDS_REVIEW


def test_correcting_a_document_not_waiting_is_refused(store):
    run = store.create_run("tennyu")
    doc = store.add_document(run.id, "/scans/a.png", workflow="tennyu")
    with pytest.raises(BusinessError, match="not waiting for review"):
        store.correct_field(doc.id, "name0", "x", user="r1")
    with pytest.raises(BusinessError, match="unknown document"):
        store.get("doc-missing")


def test_review_entries_keep_each_reviewers_blind_value(store):
    run = store.create_run("tennyu")
    doc_id = _doc_waiting(store, run.id)
    store.add_review_entry(doc_id, "name0", "r1", "山口")
    store.add_review_entry(doc_id, "name0", "r2", "山田")
    entries = store.review_entries(doc_id, "name0")
    assert [(e.reviewer, e.value) for e in entries] == [("r1", "山口"), ("r2", "山田")]


def test_waiting_for_review_pages_quickly_through_a_thousand(store):
    run = store.create_run("tennyu", template="juminido")
    with store.engine.begin() as conn:  # bulk-load 1,000 waiting documents
        from workflows.store import documents, utcnow

        now = utcnow()
        conn.execute(documents.insert(), [
            dict(id=f"doc-{i:05d}", run_id=run.id, workflow="tennyu", template="juminido", target="", file=f"{i}.png",
                 state=DocState.NEEDS_REVIEW.value, record=_record(f"doc-{i:05d}").to_dict(), attempts=0, version=0,
                 created_at=now, updated_at=now) for i in range(1000)])
    started = time.perf_counter()
    page = store.waiting_for_review(limit=50, offset=100)
    elapsed = time.perf_counter() - started
    assert page.total == 1000 and len(page.items) == 50
    assert page.items[0].id == "doc-00100"
    assert elapsed < 1.0, f"listing took {elapsed:.2f}s"
    assert store.waiting_for_review(template="inkan").total == 0


def test_count_by_state_per_run(store):
    a, b = store.create_run("tennyu"), store.create_run("tennyu")
    for _ in range(3):
        store.add_document(a.id, "x.png", workflow="tennyu")
    store.add_document(b.id, "y.png", workflow="tennyu")
    assert store.count_by_state(a.id)[DocState.RECEIVED] == 3
    assert store.count_by_state()[DocState.RECEIVED] == 4
