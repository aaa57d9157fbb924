"""The key-in ledger: the bot's own durable memory of what it has keyed, so that nothing is keyed twice.

Each record gets an idempotency key (document id + template + a hash of the values). The ledger holds one
row per key and target, moving ``started → created(entry_id) → verified`` (or ``failed``). It is written
before and after every step that changes the target system, so a bot that crashed anywhere can look here
first, then search the target, and finish the half-done entry instead of keying it again.

Kept in SQLite under ``DataDir.ledger`` by default, or in any database SQLAlchemy can reach (PostgreSQL for
several key-in machines).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

KEY_PREFIX = "KK"


class LedgerState(str, Enum):
    STARTED = "started"      # about to key: the target may or may not hold the entry
    CREATED = "created"      # the target returned an entry id; not yet read back
    VERIFIED = "verified"    # read back and every field matched: done
    FAILED = "failed"        # last attempt failed (reason kept); a later run may try again


def idempotency_key(document_id: str, template: str, values: dict[str, Any]) -> str:
    """A short, stable key for one record's content: the same document and values always give the same key.

    The key travels into the target system (its memo field), so it is ASCII, short, and carries no personal
    data: only a hash of the values.
    """
    canonical = json.dumps(
        {k: unicodedata.normalize("NFKC", v) if isinstance(v, str) else v for k, v in sorted(values.items())},
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    digest = hashlib.sha256(f"{document_id}\x1f{template}\x1f{canonical}".encode()).hexdigest()
    return f"{KEY_PREFIX}-{digest[:20].upper()}"


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    target: str
    document_id: str
    state: LedgerState
    entry_id: str = ""
    job_id: str = ""
    attempts: int = 0
    error: str = ""
    updated_at: datetime | None = None


_metadata = MetaData()
_ledger = Table(
    "keyin_ledger", _metadata,
    Column("key", String(64), primary_key=True),
    Column("target", String(64), primary_key=True),
    Column("document_id", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("entry_id", String(64), nullable=False, default=""),
    Column("job_id", String(128), nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def ledger_url(ledger_dir: Path) -> str:
    """The default SQLite ledger inside the data directory's ``ledger/`` folder."""
    ledger_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{ledger_dir / 'keyin.db'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL survives a crashed process (what the ledger is for) without an fsync per step; after a power cut the
    # last step may be lost, and the search of the target before creating covers exactly that.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Ledger:
    """The durable key-in ledger. Every method commits before it returns."""

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}  # several workers may share one file
        self._engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self._engine, "connect", _sqlite_pragmas)
        _metadata.create_all(self._engine)

    def close(self) -> None:
        self._engine.dispose()

    def get(self, key: str, target: str) -> LedgerEntry | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(_ledger).where(_ledger.c.key == key, _ledger.c.target == target)
            ).mappings().first()
        if row is None:
            return None
        return LedgerEntry(**{**row, "state": LedgerState(row["state"])})

    def start(self, key: str, target: str, document_id: str, job_id: str) -> LedgerEntry:
        """Record an attempt: a new row in ``started``, or one more attempt on an existing row (state kept)."""
        now = datetime.now(timezone.utc)
        try:
            with self._engine.begin() as conn:
                conn.execute(_ledger.insert().values(
                    key=key, target=target, document_id=document_id, state=LedgerState.STARTED.value,
                    entry_id="", job_id=job_id, attempts=1, error="", updated_at=now,
                ))
        except IntegrityError:  # seen before: keep its state and entry id, count the attempt
            with self._engine.begin() as conn:
                conn.execute(_ledger.update().where(_ledger.c.key == key, _ledger.c.target == target).values(
                    attempts=_ledger.c.attempts + 1, job_id=job_id, updated_at=now,
                ))
        entry = self.get(key, target)
        assert entry is not None
        return entry

    def created(self, key: str, target: str, entry_id: str) -> None:
        self._set(key, target, state=LedgerState.CREATED.value, entry_id=entry_id, error="")

    def verified(self, key: str, target: str, entry_id: str) -> None:
        self._set(key, target, state=LedgerState.VERIFIED.value, entry_id=entry_id, error="")

    def failed(self, key: str, target: str, error: str) -> None:
        """Keep the reason; ``entry_id`` is kept too, so a later run reads the entry back instead of re-keying."""
        self._set(key, target, state=LedgerState.FAILED.value, error=error)

    def entries(self, target: str | None = None) -> list[LedgerEntry]:
        query = select(_ledger).order_by(_ledger.c.updated_at)
        if target:
            query = query.where(_ledger.c.target == target)
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [LedgerEntry(**{**r, "state": LedgerState(r["state"])}) for r in rows]

    def _set(self, key: str, target: str, **values: Any) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(_ledger.update().where(_ledger.c.key == key, _ledger.c.target == target).values(
                updated_at=datetime.now(timezone.utc), **values,
            ))
        if done.rowcount != 1:
            raise KeyError(f"ledger has no row for key {key} on target {target}")
