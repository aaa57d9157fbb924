"""The sample legacy system's database: accounts (with lockout) and 転入届 applications, in one SQLite file."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from samples.legacy_app.fields import CHECKBOXES, COLUMNS

MAX_FAILURES = 5


class Store:
    """SQLite access for the app; one connection per call, serialised writes (the app is multi-threaded)."""

    def __init__(self, path: Path, lockout_s: float = 300.0) -> None:
        self.path = Path(path)
        self.lockout_s = lockout_s
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        cols = ", ".join(f"{c} TEXT NOT NULL DEFAULT ''" for c in COLUMNS)
        with self._connect() as db:
            db.execute(f"CREATE TABLE IF NOT EXISTS applications (receipt_no TEXT PRIMARY KEY, {cols}, "
                       "created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS accounts (user_id TEXT PRIMARY KEY, failures INTEGER NOT NULL "
                       "DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    # accounts --------------------------------------------------------------------------------------------
    def locked(self, user_id: str) -> bool:
        with self._connect() as db:
            row = db.execute("SELECT locked_until FROM accounts WHERE user_id = ?", (user_id,)).fetchone()
        return bool(row) and row["locked_until"] > time.time()

    def login_failed(self, user_id: str) -> bool:
        """Count a failed login; True when the account is now locked."""
        with self._lock, self._connect() as db:
            db.execute("INSERT OR IGNORE INTO accounts (user_id) VALUES (?)", (user_id,))
            db.execute("UPDATE accounts SET failures = failures + 1 WHERE user_id = ?", (user_id,))
            failures = db.execute("SELECT failures FROM accounts WHERE user_id = ?", (user_id,)).fetchone()[0]
            if failures >= MAX_FAILURES:
                db.execute("UPDATE accounts SET failures = 0, locked_until = ? WHERE user_id = ?",
                           (time.time() + self.lockout_s, user_id))
                return True
        return False

    def login_ok(self, user_id: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("INSERT OR IGNORE INTO accounts (user_id) VALUES (?)", (user_id,))
            db.execute("UPDATE accounts SET failures = 0 WHERE user_id = ?", (user_id,))

    # applications ----------------------------------------------------------------------------------------
    def insert(self, values: dict[str, str], user_id: str) -> str:
        """Save a new application; returns its receipt number (受付番号)."""
        now = datetime.now().isoformat(timespec="seconds")
        with self._lock, self._connect() as db:
            seq = db.execute("SELECT COUNT(*) FROM applications").fetchone()[0] + 1
            receipt = f"{datetime.now().year}-{seq:06d}"
            row = {c: values.get(c, "") for c in COLUMNS}
            db.execute(
                f"INSERT INTO applications (receipt_no, {', '.join(COLUMNS)}, created_by, created_at, updated_at) "
                f"VALUES (?, {', '.join('?' * len(COLUMNS))}, ?, ?, ?)",
                (receipt, *row.values(), user_id, now, now),
            )
        return receipt

    def update(self, receipt: str, values: dict[str, str]) -> None:
        now = datetime.now().isoformat(timespec="seconds")
        with self._lock, self._connect() as db:
            db.execute(f"UPDATE applications SET {', '.join(f'{c} = ?' for c in COLUMNS)}, updated_at = ? "
                       "WHERE receipt_no = ?", (*(values.get(c, "") for c in COLUMNS), now, receipt))

    def get(self, receipt: str) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM applications WHERE receipt_no = ?", (receipt,)).fetchone()
        return dict(row) if row else None

    def search(self, kana: str = "", birth: tuple[str, str, str, str] | None = None,
               memo: str = "") -> list[dict[str, Any]]:
        """Applications matching every given criterion: kana name (part, spaces ignored), birth date, memo."""
        where, args = [], []
        if kana:
            where.append("(family_kana || given_kana) LIKE ?")
            args.append(f"%{kana.replace(' ', '').replace('　', '')}%")
        if birth:
            where.append("birth_era = ? AND birth_year = ? AND birth_month = ? AND birth_day = ?")
            args.extend(birth)
        if memo:
            where.append("memo = ?")
            args.append(memo)
        if not where:
            return []
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM applications WHERE {' AND '.join(where)} ORDER BY receipt_no LIMIT 50",
                              args).fetchall()
        return [dict(r) for r in rows]

    def export(self) -> Iterator[dict[str, Any]]:
        """Every application as saved (checkboxes as booleans), oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM applications ORDER BY receipt_no").fetchall()
        for row in rows:
            d = dict(row)
            yield {k: (v == "1") if k in CHECKBOXES else v for k, v in d.items()}
