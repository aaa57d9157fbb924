"""The data directory's layout: one place that says where every kind of file lives.

    <data_dir>/
      inbox/                 scans waiting to be read (a workflow's default watched folder)
      documents/<doc_id>/    the original file of each document, as received
      crops/<doc_id>/        one PNG per field crop (shown to reviewers)
      records/<doc_id>.json  the OCR record of each document
      screenshots/<job_id>/  bot screenshots (failures; dry-run steps)
      traces/<job_id>.zip    Playwright traces of failed key-in jobs
      reports/<run_id>/      run reports (report.html, report.json) and catalog reports
      ledger/                the key-in ledger (idempotency) when kept in SQLite
      logs/kakitori.jsonl    JSON log lines (rotated), personal data masked
      kakitori.db            the document store (SQLite default)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def safe_id(value: str, what: str = "id") -> str:
    """Return value if it is safe as one path component (no separators, no '..'), else raise ValueError."""
    if not _SAFE_ID.match(value) or ".." in value:
        raise ValueError(f"unsafe {what}: {value!r}")
    return value


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger"

    def document(self, doc_id: str) -> Path:
        return self.root / "documents" / safe_id(doc_id, "document id")

    def crops(self, doc_id: str) -> Path:
        return self.root / "crops" / safe_id(doc_id, "document id")

    def record(self, doc_id: str) -> Path:
        return self.root / "records" / f"{safe_id(doc_id, 'document id')}.json"

    def screenshots(self, job_id: str) -> Path:
        return self.root / "screenshots" / safe_id(job_id, "job id")

    def trace(self, job_id: str) -> Path:
        return self.root / "traces" / f"{safe_id(job_id, 'job id')}.zip"

    def report(self, run_id: str) -> Path:
        return self.root / "reports" / safe_id(run_id, "run id")

    def ensure(self) -> "DataDir":
        for sub in ("inbox", "documents", "crops", "records", "screenshots", "traces", "reports", "ledger", "logs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        return self
