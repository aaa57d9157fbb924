"""The sample desktop app's storage: one SQLite table of resident entries, as a legacy core system keeps them.

Values are stored exactly as the clerk keyed them (full-width where the screen demands it); the app knows
nothing of Kakitori's records. ``application_ref`` (申請受付番号) is a free reference field that the bot
fills with its idempotency key, so the bot can search the system for what it already keyed.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# Screen fields, in the order of the entry form; the view and the export use the same order.
FIELDS = (
    "application_ref", "reason", "moved_on", "name", "name_kana", "birth_date", "sex",
    "postal_code", "address", "prev_address", "phone", "head_of_household", "relationship", "national_health",
)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS residents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(f"{name} TEXT NOT NULL DEFAULT ''" for name in FIELDS if name != "national_health")},
    national_health INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS residents_ref ON residents (application_ref);
"""


def resident_no(row_id: int) -> str:
    """The 住民番号 shown to clerks: the row id, zero-padded to eight digits."""
    return f"{row_id:08d}"


@dataclass(frozen=True)
class Resident:
    """One saved entry: its 住民番号, the keyed values, and when it was saved."""

    resident_no: str
    values: dict[str, Any]
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"resident_no": self.resident_no, **self.values, "created_at": self.created_at}


class ResidentStore:
    """The app's SQLite file. Each call opens its own connection: the Tk app and an export may run at once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        return db

    def add(self, values: dict[str, Any]) -> str:
        """Save a validated entry; returns its 住民番号."""
        row = {name: values.get(name, "") for name in FIELDS}
        row["national_health"] = 1 if values.get("national_health") else 0
        row["created_at"] = datetime.now().strftime("%Y/%m/%d %H:%M:%S")
        columns = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        with closing(self._connect()) as db, db:
            cursor = db.execute(f"INSERT INTO residents ({columns}) VALUES ({marks})", row)
            return resident_no(int(cursor.lastrowid))

    def get(self, number: str) -> Resident | None:
        if not number.isdigit():
            return None
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM residents WHERE id = ?", (int(number),)).fetchone()
        return _resident(row) if row else None

    def search(self, *, application_ref: str = "", number: str = "", kana: str = "",
               birth_date: str = "") -> list[Resident]:
        """Entries matching every given criterion (kana: prefix, spaces ignored), oldest first."""
        where, params = [], []
        if application_ref:
            where.append("application_ref = ?")
            params.append(application_ref)
        if number:
            if not number.isdigit():
                return []
            where.append("id = ?")
            params.append(int(number))
        if kana:
            where.append("replace(replace(name_kana, '　', ''), ' ', '') LIKE ?")
            params.append(kana.replace("　", "").replace(" ", "") + "%")
        if birth_date:
            where.append("birth_date = ?")
            params.append(birth_date)
        sql = "SELECT * FROM residents" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        with closing(self._connect()) as db:
            return [_resident(row) for row in db.execute(sql, params)]

    def all(self) -> list[Resident]:
        return self.search()


def _resident(row: sqlite3.Row) -> Resident:
    values = {name: row[name] for name in FIELDS}
    values["national_health"] = bool(values["national_health"])
    return Resident(resident_no(row["id"]), values, row["created_at"])
