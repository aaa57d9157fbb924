"""Single and double checks: which open fields wait for which person, and what an entry does to a field.

A field is checked once (``single``: the reviewer sees the read value and confirms or corrects it) or twice
(``double``: two different reviewers key it blind from the crop; equal entries resolve it, a mismatch waits for a
supervisor). The mode comes from the template field's ``review`` key. Everything is written through the
document store, which audits each resolution (who, when, old → new) and keeps each blind entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache
from pathlib import Path

from loguru import logger
from sqlalchemy import select

from kakitori.errors import BusinessError, ConfigError
from ocr.record import FieldResult, Record, Value
from ocr.template import FieldSpec, FieldType, Template, template_by_name
from workflows.review.auth import User
from workflows.store import DocState, Document, DocumentStore, ReviewEntry, documents, review_entries


class TaskKind(str, Enum):
    SINGLE = "single"      # confirm or correct the read value
    DOUBLE = "double"      # key the value blind (one of two reviewers)
    CONFLICT = "conflict"  # two blind entries differ: a supervisor decides


@dataclass(frozen=True)
class Task:
    """One open field of one document, as it waits for one person."""

    field: FieldResult
    spec: FieldSpec
    kind: TaskKind
    entries: tuple[ReviewEntry, ...] = ()  # shown only for CONFLICT


@dataclass(frozen=True)
class Outcome:
    """What one submitted value did: ``resolved`` (field closed), ``entered`` (first blind entry kept),
    ``conflict`` (second entry differs: to a supervisor) or ``stale`` (someone else resolved it first)."""

    field: str
    result: str


class Templates:
    """Template specs by name, loaded once per process from the configured folders."""

    def __init__(self, dirs: Iterable[Path]) -> None:
        self._dirs = list(dirs)
        self._load = lru_cache(maxsize=64)(self._load_uncached)

    def _load_uncached(self, name: str) -> Template | None:
        try:
            return template_by_name(name, self._dirs)
        except ConfigError as exc:
            logger.warning("template not loadable; reviewing with the record's own field types: {}", exc)
            return None

    def title(self, name: str) -> str:
        t = self._load(name)
        return t.title if t else name

    def label(self, template: str, field: str) -> str:
        t = self._load(template)
        try:
            return t.field(field).label if t else field
        except KeyError:
            return field

    def spec(self, template: str, result: FieldResult) -> FieldSpec:
        """The field's spec from its template; a plain single-check spec built from the record if none.

        ``extra: {review: double}`` in a template double-checks every field of that form.
        """
        t = self._load(template)
        if t is not None:
            try:
                spec = t.field(result.name)
            except KeyError:
                pass
            else:
                return replace(spec, review="double") if t.extra.get("review") == "double" else spec
        try:
            ftype = FieldType(result.type)
        except ValueError:
            ftype = FieldType.TEXT
        return FieldSpec(name=result.name, label=result.name, type=ftype, box_mm=(0, 0, 1, 1))


def tasks_for(record: Record, specs: Callable[[FieldResult], FieldSpec], entries: Iterable[ReviewEntry],
              user: User) -> list[Task]:
    """The open fields of ``record`` that wait for ``user``, in the template's order."""
    by_field: dict[str, list[ReviewEntry]] = {}
    for e in entries:
        by_field.setdefault(e.field, []).append(e)
    tasks = []
    for result in record.fields.values():
        if not result.open:
            continue
        spec = specs(result)
        if spec.review != "double":
            tasks.append(Task(result, spec, TaskKind.SINGLE))
            continue
        current = _current_round(by_field.get(result.name, []))
        if len(current) >= 2:
            if user.is_supervisor:
                tasks.append(Task(result, spec, TaskKind.CONFLICT, tuple(current)))
        elif user.name not in {e.reviewer for e in current}:
            tasks.append(Task(result, spec, TaskKind.DOUBLE))
    return tasks


def _current_round(entries: list[ReviewEntry]) -> list[ReviewEntry]:
    """The latest entry of each reviewer (a field still open after two entries is a mismatch)."""
    latest: dict[str, ReviewEntry] = {}
    for e in entries:
        latest[e.reviewer] = e
    return sorted(latest.values(), key=lambda e: e.at)


class Desk:
    """The review station's work on top of the document store: listing work and applying entries."""

    def __init__(self, store: DocumentStore, templates: Templates) -> None:
        self.store = store
        self.templates = templates

    def tasks(self, doc: Document, user: User, entries: Iterable[ReviewEntry] | None = None) -> list[Task]:
        if doc.state is not DocState.NEEDS_REVIEW or doc.record is None:
            return []
        record = doc.record
        if entries is None:
            entries = self.store.review_entries(doc.id)
        return tasks_for(record, lambda r: self.templates.spec(record.template, r), entries, user)

    def entries_for(self, doc_ids: list[str]) -> dict[str, list[ReviewEntry]]:
        """Blind entries of many documents in one query (the store's own method reads one document)."""
        found: dict[str, list[ReviewEntry]] = {d: [] for d in doc_ids}
        if not doc_ids:
            return found
        stmt = (select(review_entries).where(review_entries.c.document_id.in_(doc_ids))
                .order_by(review_entries.c.id))
        with self.store.engine.connect() as conn:
            for r in conn.execute(stmt).all():
                found[r.document_id].append(ReviewEntry(r.document_id, r.field, r.reviewer, r.value, r.at))
        return found

    def submit(self, doc_id: str, user: User, values: dict[str, Value]) -> list[Outcome]:
        """Apply ``user``'s values (already parsed) to the fields that still wait for them.

        A value for a field no longer waiting for this user (resolved meanwhile by someone else) is
        ``stale`` and ignored. Returns one outcome per submitted field.
        """
        doc = self.store.get(doc_id)
        open_tasks = {t.field.name: t for t in self.tasks(doc, user)}
        outcomes = []
        for name, value in values.items():
            task = open_tasks.get(name)
            if task is None:
                outcomes.append(Outcome(name, "stale"))
                continue
            outcomes.append(Outcome(name, self._apply(doc_id, task, user, value)))
        by_result: dict[str, list[str]] = {}
        for o in outcomes:
            by_result.setdefault(o.result, []).append(o.field)
        logger.bind(document=doc_id, user_name=user.name).info(  # field names and counts only, never values
            "review submitted: {}", "; ".join(f"{r} {', '.join(f)}" for r, f in by_result.items()) or "nothing")
        return outcomes

    def _apply(self, doc_id: str, task: Task, user: User, value: Value) -> str:
        name = task.field.name
        if task.kind is TaskKind.SINGLE:
            self.store.correct_field(doc_id, name, value, user=user.name, role=user.role.value)
            return "resolved"
        if task.kind is TaskKind.CONFLICT:
            self.store.correct_field(doc_id, name, value, user=user.name, role=user.role.value)
            return "resolved"
        self.store.add_review_entry(doc_id, name, user.name, value)
        # read after writing, so two clerks saving at the same moment still see each other's entry
        others = [e for e in _current_round(self.store.review_entries(doc_id, name)) if e.reviewer != user.name]
        if not others:
            return "entered"
        if others[-1].value == value:
            self.store.correct_field(doc_id, name, value, user=user.name, role=user.role.value)
            return "resolved"
        return "conflict"

    def finish_if_done(self, doc_id: str, user: User) -> bool:
        """``needs_review → reviewed`` when no field is open any more; True if this call moved it."""
        doc = self.store.get(doc_id)
        if doc.state is not DocState.NEEDS_REVIEW or doc.open_fields:
            return False
        try:
            return self.store.mark_reviewed(doc_id, user.name)
        except BusinessError:
            return False

    def conflicts(self) -> list[tuple[Document, list[str]]]:
        """Documents with double-check mismatches waiting for a supervisor, and those fields' names."""
        stmt = (select(review_entries.c.document_id).distinct()
                .join(documents, documents.c.id == review_entries.c.document_id)
                .where(documents.c.state == DocState.NEEDS_REVIEW.value))
        with self.store.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(stmt).all()]
        entries = self.entries_for(ids)
        found = []
        for doc_id in ids:
            doc = self.store.find(doc_id)
            if doc is None or doc.state is not DocState.NEEDS_REVIEW or doc.record is None:
                continue
            fields = [name for name in doc.open_fields
                      if len(_current_round([e for e in entries[doc_id] if e.field == name])) >= 2]
            if fields:
                found.append((doc, fields))
        return found
