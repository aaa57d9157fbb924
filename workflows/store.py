"""The document store: each document's state, record, errors and receipt, the runs, and the reviewers' audit.

The store, not Redis, is the source of truth: every state change is written here (guarded, compare-and-set)
before the next job is enqueued, so a lost queue or a killed worker loses nothing and a duplicate job cannot
move a document twice. SQLite by default, PostgreSQL by URL; SQLAlchemy Core, one module.

States: ``received → read → (needs_review → reviewed) | accepted → keying → keyed``, or ``failed`` with a
reason (``error``: kind, message, retryable, context).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from kakitori.config import Settings, secret
from kakitori.errors import ApplicationError, BusinessError, ConfigError
from ocr.record import FieldStatus, Record


class DocState(str, Enum):
    RECEIVED = "received"          # file registered, OCR not done
    READ = "read"                  # OCR record stored, not yet routed
    NEEDS_REVIEW = "needs_review"  # waiting for a clerk at the review station
    ACCEPTED = "accepted"          # every field passed unreviewed
    REVIEWED = "reviewed"          # a clerk resolved every open field
    KEYING = "keying"              # a bot is keying it into the target system
    KEYED = "keyed"                # in the target system; receipt stored
    FAILED = "failed"              # stopped with a reason (error): a person must look


ACTIVE = frozenset({DocState.RECEIVED, DocState.READ, DocState.ACCEPTED, DocState.REVIEWED, DocState.KEYING})
TERMINAL = frozenset({DocState.KEYED, DocState.FAILED})


def utcnow() -> datetime:
    return datetime.now(UTC)


class _UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", String(64), primary_key=True),
    Column("workflow", String(128), nullable=False),
    Column("template", String(128), nullable=False, default=""),
    Column("target", String(128), nullable=False, default=""),
    Column("steps", JSON, nullable=False, default=list),
    Column("input", Text, nullable=False, default=""),
    Column("created_at", _UtcDateTime, nullable=False),
    Column("finished_at", _UtcDateTime),
)

documents = Table(
    "documents", metadata,
    Column("id", String(64), primary_key=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("workflow", String(128), nullable=False),
    Column("template", String(128), nullable=False, default="auto"),
    Column("target", String(128), nullable=False, default=""),
    Column("file", Text, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("record", JSON),
    Column("error", JSON),
    Column("receipt", JSON),
    Column("attempts", Integer, nullable=False, default=0),
    Column("version", Integer, nullable=False, default=0),
    Column("reviewed_by", String(128)),
    Column("created_at", _UtcDateTime, nullable=False),
    Column("updated_at", _UtcDateTime, nullable=False, index=True),
)

transitions = Table(
    "transitions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", String(64), nullable=False, index=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("at", _UtcDateTime, nullable=False),
    Column("by", String(128), nullable=False, default="system"),
)

corrections = Table(
    "corrections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", String(64), nullable=False, index=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("template", String(128), nullable=False),
    Column("field", String(128), nullable=False),
    Column("old_value", JSON),
    Column("new_value", JSON),
    Column("changed", Integer, nullable=False),   # 1: the value changed; 0: confirmed as read
    Column("user", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("at", _UtcDateTime, nullable=False),
)

review_entries = Table(
    "review_entries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", String(64), nullable=False, index=True),
    Column("field", String(128), nullable=False),
    Column("reviewer", String(128), nullable=False),
    Column("value", JSON),
    Column("at", _UtcDateTime, nullable=False),
)


@dataclass(frozen=True)
class Run:
    id: str
    workflow: str
    template: str
    target: str
    steps: tuple[str, ...]
    input: str
    created_at: datetime
    finished_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "workflow": self.workflow, "template": self.template, "target": self.target,
                "steps": list(self.steps), "input": self.input, "created_at": self.created_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None}


@dataclass(frozen=True)
class Document:
    id: str
    run_id: str
    workflow: str
    template: str
    target: str
    file: str
    state: DocState
    record: Record | None
    error: dict[str, Any] | None
    receipt: dict[str, Any] | None
    attempts: int
    version: int
    reviewed_by: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def open_fields(self) -> list[str]:
        """Fields still waiting for a person (needs_review or invalid)."""
        return [name for name, f in self.record.fields.items() if f.open] if self.record else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "run_id": self.run_id, "workflow": self.workflow, "template": self.template,
            "target": self.target, "file": self.file, "state": self.state.value,
            "record": self.record.to_dict() if self.record else None, "error": self.error, "receipt": self.receipt,
            "attempts": self.attempts, "reviewed_by": self.reviewed_by,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class Transition:
    document_id: str
    run_id: str
    from_state: DocState | None
    to_state: DocState
    at: datetime
    by: str


@dataclass(frozen=True)
class Correction:
    """One audited resolution of a field by a person: who, when, old value → new value."""

    document_id: str
    run_id: str
    template: str
    field: str
    old_value: Any
    new_value: Any
    changed: bool
    user: str
    role: str
    at: datetime


@dataclass(frozen=True)
class ReviewEntry:
    """A value entered blind by one reviewer of a double-checked field."""

    document_id: str
    field: str
    reviewer: str
    value: Any
    at: datetime


@dataclass(frozen=True)
class Page:
    """One page of a listing and the total it was cut from."""

    items: list[Document]
    total: int
    offset: int
    limit: int


def _doc(row: Any) -> Document:
    m = row._mapping
    return Document(
        id=m["id"], run_id=m["run_id"], workflow=m["workflow"], template=m["template"], target=m["target"],
        file=m["file"], state=DocState(m["state"]), record=Record.from_dict(m["record"]) if m["record"] else None,
        error=m["error"], receipt=m["receipt"], attempts=m["attempts"], version=m["version"],
        reviewed_by=m["reviewed_by"], created_at=m["created_at"], updated_at=m["updated_at"],
    )


def _run(row: Any) -> Run:
    m = row._mapping
    return Run(id=m["id"], workflow=m["workflow"], template=m["template"], target=m["target"],
               steps=tuple(m["steps"] or ()), input=m["input"], created_at=m["created_at"],
               finished_at=m["finished_at"])


def new_id(prefix: str) -> str:
    """A short, sortable, path-safe id: prefix, UTC time, random tail."""
    return f"{prefix}{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"


class DocumentStore:
    """The ``DocumentStore`` seam. ``url`` is an SQLAlchemy URL without a password; ``password`` comes from env.

    ``schema`` (PostgreSQL only) puts the tables in their own schema, created when missing: tests use a
    schema per run so that they never touch anyone's data.
    """

    def __init__(self, url: str, *, password: str | None = None, schema: str | None = None) -> None:
        try:
            sa_url = make_url(url)
        except Exception as exc:  # noqa: BLE001 - sqlalchemy raises ArgumentError/ValueError for bad URLs
            raise ConfigError(f"store URL is not a database URL: {exc}", key="store.url") from None
        if password:
            sa_url = sa_url.set(password=password)
        self.backend = sa_url.get_backend_name()
        self.schema = schema
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if self.backend == "sqlite":
            if sa_url.database and sa_url.database != ":memory:":
                Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 60}
        engine = create_engine(sa_url, **kwargs)
        if self.backend == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        if schema:
            engine = engine.execution_options(schema_translate_map={None: schema})
        self.engine: Engine = engine
        try:
            with self.engine.begin() as conn:
                if schema:
                    conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                metadata.create_all(conn)
        except OperationalError as exc:
            raise ApplicationError(f"document store unreachable: {exc.orig}", store=self.backend) from None

    @classmethod
    def from_settings(cls, cfg: Settings) -> DocumentStore:
        return cls(cfg.store_url, password=secret(cfg.store.password_env))

    def close(self) -> None:
        self.engine.dispose()

    def drop_all(self) -> None:
        """Remove every table (and the schema, if one was given). For tests and throw-away stores."""
        with self.engine.begin() as conn:
            metadata.drop_all(conn)
            if self.schema:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    # runs

    def create_run(self, workflow: str, *, template: str = "", target: str = "", steps: Sequence[str] = (),
                   input: str = "", run_id: str | None = None) -> Run:
        run = Run(id=run_id or new_id("run-"), workflow=workflow, template=template, target=target,
                  steps=tuple(steps), input=input, created_at=utcnow())
        with self._tx() as conn:
            conn.execute(insert(runs).values(id=run.id, workflow=workflow, template=template, target=target,
                                             steps=list(steps), input=input, created_at=run.created_at))
        return run

    def get_run(self, run_id: str) -> Run:
        with self._tx() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            raise BusinessError("unknown run", run=run_id)
        return _run(row)

    def unfinished_runs(self, *, created_before: datetime | None = None) -> list[Run]:
        stmt = select(runs).where(runs.c.finished_at.is_(None)).order_by(runs.c.created_at)
        if created_before is not None:
            stmt = stmt.where(runs.c.created_at < created_before)
        with self._tx() as conn:
            return [_run(r) for r in conn.execute(stmt).all()]

    def finish_run(self, run_id: str, finished: bool = True) -> None:
        with self._tx() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(finished_at=utcnow() if finished else None))

    # documents

    def add_document(self, run_id: str, file: str | Path, *, workflow: str, template: str = "auto",
                     target: str = "", doc_id: str | None = None) -> Document:
        now = utcnow()
        doc_id = doc_id or new_id("doc-")
        with self._tx() as conn:
            conn.execute(insert(documents).values(
                id=doc_id, run_id=run_id, workflow=workflow, template=template, target=target, file=str(file),
                state=DocState.RECEIVED.value, attempts=0, version=0, created_at=now, updated_at=now))
            conn.execute(insert(transitions).values(document_id=doc_id, run_id=run_id, from_state=None,
                                                    to_state=DocState.RECEIVED.value, at=now, by="system"))
        return self.get(doc_id)

    def find(self, doc_id: str) -> Document | None:
        with self._tx() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
        return _doc(row) if row else None

    def get(self, doc_id: str) -> Document:
        doc = self.find(doc_id)
        if doc is None:
            raise BusinessError("unknown document", document=doc_id)
        return doc

    def transition(self, doc_id: str, from_states: DocState | Iterable[DocState], to_state: DocState, *,
                   by: str = "system", count_attempt: bool = False, **values: Any) -> bool:
        """Move a document from one of ``from_states`` to ``to_state`` if (and only if) it is in one of them.

        Compare-and-set in one transaction, with its ``transitions`` row: returns False (changing nothing) when
        another job got there first. ``values`` may set ``record`` (a Record or dict), ``error``, ``receipt``,
        ``template``, ``reviewed_by``; ``count_attempt`` adds one to ``attempts``.
        """
        sources = [from_states] if isinstance(from_states, DocState) else list(from_states)
        allowed = {"record", "error", "receipt", "template", "reviewed_by"}
        unknown = set(values) - allowed
        if unknown:
            raise TypeError(f"unknown document values: {sorted(unknown)}")
        if isinstance(values.get("record"), Record):
            values["record"] = values["record"].to_dict()
        now = utcnow()
        with self._tx() as conn:
            # Write first, read after: the first statement takes SQLite's write lock, so two workers never
            # both read a state and then race to upgrade their locks.
            for source in sources:
                stmt = (update(documents).where(and_(documents.c.id == doc_id, documents.c.state == source.value))
                        .values(state=to_state.value, updated_at=now, version=documents.c.version + 1, **values))
                if count_attempt:
                    stmt = stmt.values(attempts=documents.c.attempts + 1)
                if conn.execute(stmt).rowcount == 1:
                    break
            else:
                return False
            run_id = conn.execute(select(documents.c.run_id).where(documents.c.id == doc_id)).scalar_one()
            conn.execute(insert(transitions).values(document_id=doc_id, run_id=run_id, from_state=source.value,
                                                    to_state=to_state.value, at=now, by=by))
        return True

    def set_file(self, doc_id: str, path: str | Path) -> None:
        """Where the document's original file is kept (under ``DataDir.document``)."""
        with self._tx() as conn:
            conn.execute(update(documents).where(documents.c.id == doc_id).values(file=str(path)))

    def note_error(self, doc_id: str, error: dict[str, Any] | None) -> None:
        """Record the last error of a document without changing its state (a retry is coming)."""
        with self._tx() as conn:
            conn.execute(update(documents).where(documents.c.id == doc_id).values(error=error))

    def touch(self, doc_id: str, state: DocState, *, count_attempt: bool = False) -> bool:
        """Refresh ``updated_at`` (and count an attempt) if the document is still in ``state``."""
        stmt = (update(documents).where(and_(documents.c.id == doc_id, documents.c.state == state.value))
                .values(updated_at=utcnow()))
        if count_attempt:
            stmt = stmt.values(attempts=documents.c.attempts + 1)
        with self._tx() as conn:
            return conn.execute(stmt).rowcount == 1

    def heartbeat(self, doc_id: str) -> None:
        """A running job says it is alive: refresh ``updated_at`` (the sweeper's staleness clock)."""
        with self._tx() as conn:
            conn.execute(update(documents).where(documents.c.id == doc_id).values(updated_at=utcnow()))

    def documents(self, *, run_id: str | None = None, states: Iterable[DocState] | None = None,
                  updated_before: datetime | None = None, limit: int | None = None, offset: int = 0) -> list[Document]:
        stmt = select(documents).order_by(documents.c.created_at, documents.c.id)
        if run_id:
            stmt = stmt.where(documents.c.run_id == run_id)
        if states is not None:
            stmt = stmt.where(documents.c.state.in_([s.value for s in states]))
        if updated_before is not None:
            stmt = stmt.where(documents.c.updated_at < updated_before)
        if limit is not None:
            stmt = stmt.limit(limit).offset(offset)
        with self._tx() as conn:
            return [_doc(r) for r in conn.execute(stmt).all()]

    def count_by_state(self, run_id: str | None = None) -> dict[DocState, int]:
        stmt = select(documents.c.state, func.count()).group_by(documents.c.state)
        if run_id:
            stmt = stmt.where(documents.c.run_id == run_id)
        counts = {s: 0 for s in DocState}
        with self._tx() as conn:
            for state, n in conn.execute(stmt).all():
                counts[DocState(state)] = n
        return counts

    def count_active(self, run_id: str, *, steps: Sequence[str] | None = None) -> int:
        """Documents of a run with machine work left (a run without a key-in step ends at accepted/reviewed)."""
        states = set(ACTIVE)
        if steps is not None and "keyin" not in steps:
            states -= {DocState.ACCEPTED, DocState.REVIEWED}
        stmt = (select(func.count()).select_from(documents)
                .where(and_(documents.c.run_id == run_id, documents.c.state.in_([s.value for s in states]))))
        with self._tx() as conn:
            return conn.execute(stmt).scalar_one()

    def reset_attempts(self, doc_id: str) -> None:
        with self._tx() as conn:
            conn.execute(update(documents).where(documents.c.id == doc_id).values(attempts=0))

    def waiting_for_review(self, *, limit: int = 50, offset: int = 0, template: str | None = None) -> Page:
        """Documents in ``needs_review``, oldest first, one page at a time (indexed: fast with thousands)."""
        where = documents.c.state == DocState.NEEDS_REVIEW.value
        if template:
            where = and_(where, documents.c.template == template)
        with self._tx() as conn:
            total = conn.execute(select(func.count()).select_from(documents).where(where)).scalar_one()
            rows = conn.execute(select(documents).where(where)
                                .order_by(documents.c.updated_at, documents.c.id).limit(limit).offset(offset)).all()
        return Page(items=[_doc(r) for r in rows], total=total, offset=offset, limit=limit)

    # review

    def correct_field(self, doc_id: str, field_name: str, value: Any, *, user: str, role: str = "reviewer") -> Record:
        """Resolve one field of a document waiting for review: set its value (``REVIEWED``) and audit it.

        Confirming a value as read is audited too (``changed`` false), so the report's correction rate is
        corrections over resolutions. Optimistic: a concurrent change to the same document raises
        ``BusinessError`` (reload and retry) rather than losing one of the two edits.
        """
        doc = self.get(doc_id)
        if doc.state is not DocState.NEEDS_REVIEW:
            raise BusinessError(f"document is {doc.state.value}, not waiting for review", document=doc_id)
        if doc.record is None or field_name not in doc.record.fields:
            raise BusinessError("no such field in the record", document=doc_id, field=field_name)
        old = doc.record.fields[field_name]
        new_record = doc.record.with_field(replace(old, value=value, status=FieldStatus.REVIEWED))
        now = utcnow()
        with self._tx() as conn:
            done = conn.execute(
                update(documents)
                .where(and_(documents.c.id == doc_id, documents.c.version == doc.version,
                            documents.c.state == DocState.NEEDS_REVIEW.value))
                .values(record=new_record.to_dict(), version=doc.version + 1, updated_at=now)).rowcount
            if done != 1:
                raise BusinessError("the document changed meanwhile; reload it", document=doc_id, field=field_name)
            conn.execute(insert(corrections).values(
                document_id=doc_id, run_id=doc.run_id, template=doc.record.template, field=field_name,
                old_value=old.value, new_value=value, changed=int(old.value != value), user=user, role=role, at=now))
        return new_record

    def mark_reviewed(self, doc_id: str, user: str) -> bool:
        """``needs_review → reviewed`` once no field is open; False if another request already did it."""
        doc = self.get(doc_id)
        if doc.state is DocState.NEEDS_REVIEW and doc.open_fields:
            raise BusinessError(f"{len(doc.open_fields)} field(s) still open", document=doc_id,
                                field=",".join(doc.open_fields))
        return self.transition(doc_id, DocState.NEEDS_REVIEW, DocState.REVIEWED, by=user, reviewed_by=user)

    def add_review_entry(self, doc_id: str, field_name: str, reviewer: str, value: Any) -> None:
        with self._tx() as conn:
            conn.execute(insert(review_entries).values(document_id=doc_id, field=field_name, reviewer=reviewer,
                                                       value=value, at=utcnow()))

    def review_entries(self, doc_id: str, field_name: str | None = None) -> list[ReviewEntry]:
        stmt = select(review_entries).where(review_entries.c.document_id == doc_id).order_by(review_entries.c.id)
        if field_name:
            stmt = stmt.where(review_entries.c.field == field_name)
        with self._tx() as conn:
            return [ReviewEntry(document_id=r.document_id, field=r.field, reviewer=r.reviewer, value=r.value, at=r.at)
                    for r in conn.execute(stmt).all()]

    def corrections(self, *, doc_id: str | None = None, run_id: str | None = None,
                    template: str | None = None) -> list[Correction]:
        stmt = select(corrections).order_by(corrections.c.id)
        if doc_id:
            stmt = stmt.where(corrections.c.document_id == doc_id)
        if run_id:
            stmt = stmt.where(corrections.c.run_id == run_id)
        if template:
            stmt = stmt.where(corrections.c.template == template)
        with self._tx() as conn:
            return [Correction(document_id=r.document_id, run_id=r.run_id, template=r.template, field=r.field,
                               old_value=r.old_value, new_value=r.new_value, changed=bool(r.changed), user=r.user,
                               role=r.role, at=r.at) for r in conn.execute(stmt).all()]

    def transitions(self, *, doc_id: str | None = None, run_id: str | None = None) -> list[Transition]:
        stmt = select(transitions).order_by(transitions.c.id)
        if doc_id:
            stmt = stmt.where(transitions.c.document_id == doc_id)
        if run_id:
            stmt = stmt.where(transitions.c.run_id == run_id)
        with self._tx() as conn:
            return [Transition(document_id=r.document_id, run_id=r.run_id,
                               from_state=DocState(r.from_state) if r.from_state else None,
                               to_state=DocState(r.to_state), at=r.at, by=r.by) for r in conn.execute(stmt).all()]

    def _tx(self):
        return _Tx(self.engine)


class _Tx:
    """A transaction whose database failures surface as ``ApplicationError`` (retryable), never raw tracebacks."""

    def __init__(self, engine: Engine) -> None:
        self._cm = engine.begin()

    def __enter__(self):
        try:
            return self._cm.__enter__()
        except OperationalError as exc:
            raise ApplicationError(f"document store unreachable: {exc.orig}") from None

    def __exit__(self, *exc: object) -> bool | None:
        try:
            return self._cm.__exit__(*exc)
        except OperationalError as err:
            raise ApplicationError(f"document store write failed: {err.orig}") from None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers (review station) don't block the workers' writes
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()
