"""The desktop key-in benchmark: a fresh sample 住民記録 app on a private Xvfb, N synthetic records keyed by
the pyautogui bot with one worker, verified against the app's own database.

Not a test: it prints figures (records/minute, seconds per record, duplicates, mismatches, failures).
"""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bots.keyin import KeyInJob, record_values
from bots.ledger import idempotency_key
from bots.mapping import compare, load_mapping
from kakitori.config import BotsConfig, TargetConfig
from kakitori.errors import KakitoriError
from kakitori.paths import DataDir
from samples.desktop_app.store import ResidentStore
from samples.desktop_app.xvfb import running_app, virtual_display

TARGET = "sample-desktop"
PASSWORD_ENV = "KAKITORI_BENCH_DESKTOP_PASSWORD"


def run_desktop_bench(records: list[dict[str, Any]], *, delay_ms: int = 0, timeout_s: float = 10.0,
                      progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Key ``records`` into a fresh app on a private Xvfb; return the figures."""
    target_cfg = TargetConfig(kind="desktop", username="clerk01", password_env=PASSWORD_ENV, mapping=TARGET)
    bots_cfg = BotsConfig(retries=1, targets={TARGET: target_cfg})
    mapping = load_mapping(TARGET)
    os.environ[PASSWORD_ENV] = secrets.token_urlsafe(12)
    seconds: list[float] = []
    failures: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="kakitori-desk-bench") as tmp, virtual_display():
        data_dir = DataDir(Path(tmp) / "data").ensure()
        db = Path(tmp) / "desktop-app.db"
        with running_app(db, PASSWORD_ENV, delay_ms=delay_ms):
            from bots.desktop import open_desktop_target

            def opener(name: str, cfg: BotsConfig, data: DataDir, job_id: str):  # the bench's patience
                return open_desktop_target(name, cfg, data, job_id, timeout_s=timeout_s)

            started = time.perf_counter()
            with KeyInJob(TARGET, bots_cfg, data_dir, "bench-desktop", backoff_s=0.2, opener=opener) as job:
                for i, record in enumerate(records, 1):
                    t0 = time.perf_counter()
                    try:
                        job.key(record)
                        seconds.append(time.perf_counter() - t0)
                    except KakitoriError as exc:
                        failures[f"{exc.kind}: {exc.message}"] += 1
                    if progress:
                        progress(i)
            elapsed = time.perf_counter() - started
        saved = [r.to_dict() for r in ResidentStore(db).all()]
    by_key: dict[str, list[dict[str, Any]]] = {}
    for row in saved:
        by_key.setdefault(row["application_ref"], []).append(row)
    mismatches = 0
    for record in records:
        key = idempotency_key(str(record["document_id"]), str(record["template"]), record_values(record))
        rows = by_key.get(key)
        if rows and compare(mapping.apply(record_values(record), key), rows[0]):
            mismatches += 1
    ordered = sorted(seconds)
    return {
        "records": len(records),
        "keyed": len(seconds),
        "failed": sum(failures.values()),
        "records_per_minute": round(len(seconds) / elapsed * 60, 1) if elapsed else 0.0,
        "p50_s": round(statistics.median(ordered), 2) if ordered else None,
        "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2) if ordered else None,
        "elapsed_s": round(elapsed, 1),
        "duplicates": sum(len(rows) - 1 for rows in by_key.values()),
        "mismatches": mismatches,
        "saved_rows": len(saved),
        "failure_reasons": dict(failures),
    }
