"""Fast stand-ins for the OCR engine and the key-in bot, for tests of the queue machinery (not of OCR/bots).

The file name of a "scan" says what the fake reader does with it: ``*review*`` → one field needs review,
``*bad*`` → BusinessError, ``*flaky*`` → ApplicationError on the first read, ``*slow*`` → sleeps. The fake
target is an SQLite file beside the data (it survives a Redis restart, like a real system): ``find`` then
``create``, one row per create, so a test can prove that nothing was keyed twice. Used in-process (``jobs.use(..., parts=FakeParts(...))``) and by
real worker processes (``kakitori worker --parts tests.workflows.fakes:parts``).
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from kakitori.config import Settings
from kakitori.errors import ApplicationError, BusinessError
from ocr.record import FieldResult, FieldStatus, Record


class FakeParts:
    def __init__(self, settings: Settings) -> None:
        self.db = target_db(settings)
        self.delay_s = float(os.environ.get("KAKITORI_FAKE_DELAY_S", "0"))
        with self._connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT, entry TEXT)")
            conn.execute("CREATE TABLE IF NOT EXISTS reads (document TEXT)")

    def _connect(self) -> sqlite3.Connection:
        self.db.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(self.db, timeout=30, isolation_level=None)

    def read(self, path: Path, template: str, document_id: str) -> list[Record]:
        name = path.name
        if self.delay_s or "slow" in name:
            time.sleep(self.delay_s * random.random() * 2 if self.delay_s else 0.5)
        if "bad" in name:
            raise BusinessError("no template matches the page", document=document_id, file=name, page=1)
        if "flaky" in name:
            with self._connect() as conn:
                conn.execute("INSERT INTO reads VALUES (?)", (document_id,))
                if conn.execute("SELECT count(*) FROM reads WHERE document = ?", (document_id,)).fetchone()[0] == 1:
                    raise ApplicationError("the OCR model server hiccuped", document=document_id)
        status = FieldStatus.NEEDS_REVIEW if "review" in name else FieldStatus.ACCEPTED
        fields = {
            "postal_code": FieldResult("postal_code", "postal", "832-8555", confidence=0.99,
                                       status=FieldStatus.ACCEPTED),
            "name": FieldResult("name", "text", "山田太郎", confidence=0.6, status=status,
                                reason="low confidence" if status is FieldStatus.NEEDS_REVIEW else ""),
        }
        return [Record(document_id=document_id, template="juminido", fields=fields, file=str(path))]

    def key_in(self, record: Record, target: str, job_id: str) -> dict[str, Any]:
        key = f"{target}:{record.document_id}"
        conn = self._connect()
        try:
            found = conn.execute("SELECT entry FROM entries WHERE key = ?", (key,)).fetchone()  # target.find
            status = "already_keyed"
            if found is None:
                if self.delay_s:
                    time.sleep(self.delay_s * random.random() * 2)
                entry = f"E{random.randrange(10**8):08d}"
                conn.execute("INSERT INTO entries VALUES (?, ?)", (key, entry))        # target.create
                found, status = (entry,), "keyed"
        finally:
            conn.close()
        return {"idempotency_key": key, "target": target, "entry_id": found[0], "status": status,
                "saved": {}, "screenshots": [], "elapsed_ms": 0.0}


def target_db(settings: Settings) -> Path:
    return settings.data_dir / "fake-target.db"


def parts(settings: Settings) -> FakeParts:
    return FakeParts(settings)


def creates(settings: Settings) -> dict[str, int]:
    """Key → how many times the fake target created an entry for it."""
    with sqlite3.connect(target_db(settings)) as conn:
        return dict(conn.execute("SELECT key, count(*) FROM entries GROUP BY key").fetchall())
