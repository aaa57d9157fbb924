"""The key-in benchmark: a fresh sample legacy system, N synthetic records, one worker, verified by export.

Not a test: it prints figures (records/minute, seconds per record, duplicates, mismatches, failures).
The sample app runs in its own process (own temporary database, a free port), as a real system would.
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from bots.keyin import KeyInJob, record_values
from bots.ledger import idempotency_key
from bots.mapping import Mapping, compare
from bots.target import Receipt
from kakitori.config import BotsConfig, TargetConfig
from kakitori.errors import ApplicationError, KakitoriError
from kakitori.paths import DataDir

TARGET = "sample-legacy"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def sample_app(db: Path, password: str, faults: float, stall_s: float, seed: int) -> Iterator[str]:
    """Run ``kakitori legacy-app serve`` in a subprocess until the block ends; yields its base URL."""
    port = free_port()
    env = {**os.environ, "KAKITORI_SAMPLE_LEGACY_PASSWORD": password}
    cmd = [sys.executable, "-m", "kakitori", "legacy-app", "serve", "--port", str(port), "--db", str(db),
           "--faults", str(faults), "--stall-s", str(stall_s), "--seed", str(seed)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/static/legacy.css", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise ApplicationError("the sample legacy app did not start", screen="bench") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_keyin_bench(records: list[dict[str, Any]], bots_cfg: BotsConfig, faults: float = 0.0,
                    seed: int = 4242, work_dir: Path | None = None,
                    progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Key ``records`` into a fresh sample app with one worker; returns the figures."""
    with tempfile.TemporaryDirectory(prefix="kakitori-bench-") as tmp:
        root = work_dir or Path(tmp)
        db = root / "legacy.db"
        password = secrets.token_urlsafe(12)
        os.environ["KAKITORI_SAMPLE_LEGACY_PASSWORD"] = password  # the bot reads it like any target's secret
        stall_s = bots_cfg.browser.timeout_ms / 1000 + 3  # a stall outlasts the bot's patience
        with sample_app(db, password, faults, stall_s, seed) as url:
            base = bots_cfg.targets.get(TARGET, TargetConfig())
            cfg = bots_cfg.model_copy(update={"targets": {TARGET: base.model_copy(update={"base_url": url})}})
            results, seconds, failures = {}, [], Counter()
            started = time.perf_counter()
            with KeyInJob(TARGET, cfg, DataDir(root / "data"), "bench", backoff_s=0.2) as job:
                for i, record in enumerate(records, 1):
                    t0 = time.perf_counter()
                    try:
                        results[record["document_id"]] = job.key(record)
                    except KakitoriError as exc:
                        failures[f"{exc.kind}: {exc.message}"[:120]] += 1
                    seconds.append(time.perf_counter() - t0)
                    if progress:
                        progress(i)
                mapping = job.mapping
            elapsed = time.perf_counter() - started
            from samples.legacy_app.server import export

            saved = export(db)
    return _figures(records, results, saved, mapping, seconds, elapsed, failures, faults)


def _figures(records: list[dict[str, Any]], results: dict[str, Receipt], saved: list[dict[str, Any]],
             mapping: Mapping, seconds: list[float], elapsed: float, failures: Counter[str],
             faults: float) -> dict[str, Any]:
    by_key = Counter(row["memo"] for row in saved)
    rows = {row["memo"]: row for row in saved}
    mismatches, missing, failed_but_saved = 0, 0, 0
    for record in records:
        values = record_values(record)
        key = idempotency_key(record["document_id"], record["template"], values)
        row = rows.get(key)
        if record["document_id"] not in results:
            failed_but_saved += row is not None  # the next run finds and verifies it (ledger: started)
            continue
        if row is None:
            missing += 1
        elif compare(mapping.apply(values, key), row):
            mismatches += 1
    keyed = len(results)
    ordered = sorted(seconds)
    return {
        "records": len(records),
        "keyed": keyed,
        "failed": len(records) - keyed,
        "failure_reasons": dict(failures),
        "duplicates": sum(n - 1 for n in by_key.values() if n > 1),
        "mismatches": mismatches,
        "missing_in_export": missing,
        "failed_but_saved": failed_but_saved,
        "saved_rows": len(saved),
        "records_per_minute": round(keyed / elapsed * 60, 1) if elapsed else 0.0,
        "p50_s": round(statistics.median(ordered), 3) if ordered else 0.0,
        "p95_s": round(ordered[max(0, int(round(0.95 * len(ordered))) - 1)], 3) if ordered else 0.0,
        "elapsed_s": round(elapsed, 1),
        "faults": faults,
        "workers": 1,
    }


def summary_lines(figures: dict[str, Any], setting: str) -> list[str]:
    """The human-readable summary of a key-in benchmark (web or desktop), before its JSON line."""
    saved = [f"rows saved: {figures['saved_rows']}"]
    if "missing_in_export" in figures:
        saved = [f"missing in export: {figures['missing_in_export']}", *saved,
                 f"failed but saved (finished by the next run): {figures['failed_but_saved']}"]
    return [
        f"records: {figures['records']}  keyed: {figures['keyed']}  failed: {figures['failed']}  ({setting})",
        f"records/minute: {figures['records_per_minute']}  p50: {figures['p50_s']} s  "
        f"p95: {figures['p95_s']} s per record  elapsed: {figures['elapsed_s']} s",
        f"duplicates: {figures['duplicates']}  mismatches: {figures['mismatches']}  " + "  ".join(saved),
        *(f"  failed x{n}: {reason}" for reason, n in figures["failure_reasons"].items()),
    ]
