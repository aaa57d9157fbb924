"""Measuring the pipeline on generated forms with known truth (``DIR/truth.jsonl``): the figures of
``kakitori bench ocr`` and the raw material of ``ocr.calibrate``.

A field *passes unreviewed* when its status is ``accepted`` or ``empty``; a **silent error** is a field that
passes unreviewed but is wrong. Values are compared after normalisation (``normalize.comparable``).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kakitori.errors import BusinessError
from ocr.normalize import comparable
from ocr.pipeline import OcrEngine
from ocr.record import FieldResult, FieldStatus
from ocr.template import PURE_DIGIT_TYPES, TEXT_TYPES

DIGIT_GROUP = PURE_DIGIT_TYPES
TEXT_GROUP = TEXT_TYPES


@dataclass(frozen=True)
class Outcome:
    """One field of one form: what was read against the truth."""

    file: str
    field: str
    type: str
    truth: str
    read: str
    correct: bool
    status: str
    confidence: float
    reason: str

    @property
    def passed(self) -> bool:
        return self.status in (FieldStatus.ACCEPTED.value, FieldStatus.EMPTY.value)


def truth_lines(data: Path) -> list[dict]:
    path = data / "truth.jsonl"
    if not path.is_file():
        raise BusinessError("no truth.jsonl in the data folder", file=data)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(engine: OcrEngine, data: Path, limit: int | None = None) -> tuple[list[Outcome], dict[str, float]]:
    """Read every file of ``data`` once; per-field outcomes and the run's totals (seconds, forms, failures)."""
    lines = truth_lines(data)
    by_file: dict[str, list[dict]] = defaultdict(list)
    for line in lines:
        by_file[line["file"]].append(line)
    files = list(by_file)[:limit] if limit else list(by_file)
    outcomes: list[Outcome] = []
    failed = forms = 0
    start = time.perf_counter()
    for name in files:
        try:
            records = engine.read(data / name, template="auto")
        except BusinessError:
            records = []
            failed += len(by_file[name])
        for line in by_file[name]:
            forms += 1
            page = int(line.get("page", 1))
            record = records[page - 1] if len(records) >= page else None
            outcomes.extend(_compare(name, line, record))
    seconds = time.perf_counter() - start
    return outcomes, {"seconds": seconds, "forms": forms, "failed_forms": failed,
                      "fields": len(outcomes)}


def _compare(file: str, line: dict, record) -> Iterator[Outcome]:
    for name, truth in line["fields"].items():
        f: FieldResult | None = record.fields.get(name) if record else None
        ftype = f.type if f else _guess_type(truth)
        t = comparable(ftype, truth)
        r = comparable(ftype, f.value) if f else "<failed>"
        yield Outcome(file, name, ftype, t, r, r == t, f.status.value if f else "failed",
                      f.confidence if f else 0.0, f.reason if f else "form not read")


def _guess_type(value) -> str:
    return "checkbox" if isinstance(value, bool) else "text"


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def figures(outcomes: list[Outcome]) -> dict[str, float]:
    n = len(outcomes)
    if n == 0:
        return {"fields": 0, "field_accuracy": 0.0, "cer": 0.0, "auto_accept_rate": 0.0, "silent_error_rate": 0.0}
    chars = sum(max(len(o.truth), 1) for o in outcomes)
    errors = sum(edit_distance(o.truth, o.read) if o.read != "<failed>" else max(len(o.truth), 1) for o in outcomes)
    passed = [o for o in outcomes if o.passed]
    return {
        "fields": n,
        "field_accuracy": round(sum(o.correct for o in outcomes) / n, 4),
        "cer": round(errors / chars, 4),
        "auto_accept_rate": round(len(passed) / n, 4),
        "silent_error_rate": round(sum(not o.correct for o in passed) / len(passed), 4) if passed else 0.0,
        "silent_errors": sum(not o.correct for o in passed),
    }


def report(outcomes: list[Outcome], totals: dict[str, float]) -> dict:
    """The benchmark's JSON: overall figures, per field type, and per group (digit fields, text fields)."""
    by_type: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_type[o.type].append(o)
    out = figures(outcomes)
    seconds = totals["seconds"]
    out.update({
        "forms": int(totals["forms"]),
        "failed_forms": int(totals["failed_forms"]),
        "forms_per_second": round(totals["forms"] / seconds, 3) if seconds else 0.0,
        "ms_per_field": round(1000 * seconds / max(totals["fields"], 1), 1),
        "by_type": {t: figures(v) for t, v in sorted(by_type.items())},
        "by_group": {
            "digit_fields": figures([o for o in outcomes if o.type in DIGIT_GROUP and o.truth]),
            "text_fields": figures([o for o in outcomes if o.type in TEXT_GROUP and o.truth]),
        },
    })
    return out


def render(result: dict) -> str:
    """The figures as a small table for people."""
    rows = [f"{'type':<18} {'fields':>6} {'accuracy':>9} {'CER':>7} {'auto-acc':>9} {'silent':>7}"]

    def row(name: str, f: dict) -> str:
        return (f"{name:<18} {f['fields']:>6} {f['field_accuracy']:>9.2%} {f['cer']:>7.2%} "
                f"{f['auto_accept_rate']:>9.2%} {f['silent_error_rate']:>7.2%}")

    for t, f in result["by_type"].items():
        rows.append(row(t, f))
    for g, f in result["by_group"].items():
        rows.append(row(f"[{g}]", f))
    rows.append(row("overall", result))
    rows.append(f"{result['forms']} forms ({result['failed_forms']} refused), {result['forms_per_second']:.2f} forms/s, "
                f"{result['ms_per_field']:.1f} ms per field (end to end)")
    return "\n".join(rows)
