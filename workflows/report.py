"""The run report: what happened to one batch, as figures a section chief and the catalog can use.

Written to ``DataDir.report(run_id)`` as ``report.json`` (machine-readable; the catalog reads its keys) and
``report.html`` (self-contained, Japanese labels). Figures come from the store only: states, the transitions'
timestamps (time per stage), and the reviewers' audited corrections (review and correction rate per field).
No personal values appear: field names, counts, file names and error reasons only.

Clerk-hours saved is an estimate with stated assumptions: keying one form by hand takes
``MANUAL_SECONDS_PER_FORM``; each field a person had to check costs ``REVIEW_SECONDS_PER_FIELD``.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from statistics import mean
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from kakitori.paths import DataDir
from workflows.store import DocState, Document, DocumentStore, Transition, utcnow

MANUAL_SECONDS_PER_FORM = 240.0   # a clerk keying a 16-field form by hand, checking it once (assumption)
REVIEW_SECONDS_PER_FIELD = 8.0    # a trained clerk checking one flagged field at the review station (assumption)

# how long a document spent in each state, named as the stage a reader knows
STAGE_OF_STATE = {
    DocState.RECEIVED: "ocr", DocState.READ: "validate", DocState.NEEDS_REVIEW: "review",
    DocState.ACCEPTED: "keyin_wait", DocState.REVIEWED: "keyin_wait", DocState.KEYING: "keyin",
}
MACHINE_END = {DocState.KEYED, DocState.FAILED, DocState.NEEDS_REVIEW}

STATE_LABELS = {
    "received": "受付", "read": "読取済", "needs_review": "確認待ち", "accepted": "自動受理", "reviewed": "確認済",
    "keying": "入力中", "keyed": "入力完了", "failed": "失敗",
}
STAGE_LABELS = {"ocr": "読取 (OCR)", "validate": "検証", "review": "確認待ち (人)", "keyin_wait": "入力待ち",
                "keyin": "入力 (RPA)"}
KIND_LABELS = {"business": "要確認 (入力内容)", "application": "システム障害 (再試行可)", "config": "設定",
               "internal": "内部エラー"}


@dataclass(frozen=True)
class Report:
    data: dict[str, Any]
    folder: Path

    @property
    def json_path(self) -> Path:
        return self.folder / "report.json"

    @property
    def html_path(self) -> Path:
        return self.folder / "report.html"


def build_report(store: DocumentStore, run_id: str, data_dir: DataDir) -> dict[str, Any]:
    """The report's figures for one run, as JSON-ready data."""
    run = store.get_run(run_id)
    docs = store.documents(run_id=run_id)
    trans = store.transitions(run_id=run_id)
    corrections = store.corrections(run_id=run_id)
    by_doc: dict[str, list[Transition]] = defaultdict(list)
    for t in trans:
        by_doc[t.document_id].append(t)

    states = {s.value: 0 for s in DocState}
    states.update(Counter(d.state.value for d in docs))
    n = len(docs)
    read = [d for d in docs if d.record is not None]
    went_to_review = {d for d, ts in by_doc.items() if any(t.to_state is DocState.NEEDS_REVIEW for t in ts)}

    stage_seconds: dict[str, list[float]] = defaultdict(list)
    for ts in by_doc.values():
        for a, b in pairwise(ts):
            stage = STAGE_OF_STATE.get(a.to_state)
            if stage:
                stage_seconds[stage].append((b.at - a.at).total_seconds())
    machine_ends = [t.at for t in trans if t.to_state in MACHINE_END]
    wall = (max(machine_ends) - run.created_at).total_seconds() if machine_ends else 0.0

    fields = _field_rates(read, corrections)
    templates = _template_rates(read, corrections)
    reviewed_fields = len({(c.document_id, c.field) for c in corrections})
    keyed = states[DocState.KEYED.value]
    saved_s = keyed * MANUAL_SECONDS_PER_FORM - reviewed_fields * REVIEW_SECONDS_PER_FIELD
    template = run.template or (Counter(d.template for d in read).most_common(1)[0][0] if read else "")

    return {
        "run_id": run.id,
        "workflow": run.workflow,
        "template": template,
        "target": run.target,
        "created_at": run.created_at.isoformat(),
        "generated_at": utcnow().isoformat(),
        "finished": not store.count_active(run_id, steps=run.steps),
        "documents": n,
        "states": states,
        "review_rate": _rate(len(went_to_review), len(read)),
        "failure_rate": _rate(states[DocState.FAILED.value], n),
        "seconds_per_document": round(wall / n, 3) if n else 0.0,
        "wall_seconds": round(wall, 3),
        "stage_seconds": {stage: round(mean(v), 3) for stage, v in sorted(stage_seconds.items())},
        "fields": fields,
        "templates": templates,
        "reviewed_fields": reviewed_fields,
        "corrected_fields": sum(1 for c in corrections if c.changed),
        "clerk_hours_saved": round(max(saved_s, 0.0) / 3600, 2),
        "assumptions": {"manual_seconds_per_form": MANUAL_SECONDS_PER_FORM,
                        "review_seconds_per_field": REVIEW_SECONDS_PER_FIELD},
        "failures": [_failure(d, data_dir.report(run_id)) for d in docs if d.state is DocState.FAILED],
        "waiting_for_review": [d.id for d in docs if d.state is DocState.NEEDS_REVIEW],
    }


def _field_rates(read: list[Document], corrections: list[Any]) -> dict[str, dict[str, float]]:
    """Per field: share of read documents where a person had to look, and where the value was changed."""
    looked: dict[str, set[str]] = defaultdict(set)
    changed: dict[str, set[str]] = defaultdict(set)
    for c in corrections:
        looked[c.field].add(c.document_id)
        if c.changed:
            changed[c.field].add(c.document_id)
    names: list[str] = []
    for d in read:
        assert d.record is not None
        for name, f in d.record.fields.items():
            if name not in names:
                names.append(name)
            if f.open:
                looked[name].add(d.id)
    return {name: {"review_rate": _rate(len(looked[name]), len(read)),
                   "correction_rate": _rate(len(changed[name]), len(read))} for name in names}


def _template_rates(read: list[Document], corrections: list[Any]) -> dict[str, dict[str, float]]:
    per: dict[str, dict[str, Any]] = {}
    for d in read:
        assert d.record is not None
        entry = per.setdefault(d.template, {"documents": 0, "fields": 0, "corrected": 0})
        entry["documents"] += 1
        entry["fields"] += len(d.record.fields)
    for c in corrections:
        if c.changed and c.template in per:
            per[c.template]["corrected"] += 1
    return {name: {"documents": e["documents"], "correction_rate": _rate(e["corrected"], e["fields"])}
            for name, e in per.items()}


def _failure(doc: Document, folder: Path) -> dict[str, Any]:
    error = doc.error or {}
    context = dict(error.get("context") or {})
    shots = [p for p in (context.get("screenshot"),) if p]
    if doc.receipt:
        shots += list(doc.receipt.get("screenshots") or [])
    return {
        "document": doc.id,
        "file": Path(doc.file).name,
        "stage": error.get("stage", ""),
        "kind": error.get("kind", ""),
        "retryable": bool(error.get("retryable", False)),
        "message": error.get("message", ""),
        "context": context,
        "screenshots": [os.path.relpath(p, folder) for p in shots],
    }


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def write_report(store: DocumentStore, data_dir: DataDir, run_id: str,
                 labels: dict[str, str] | None = None) -> Path:
    """Write report.json and report.html for a run; returns the report's folder.

    ``labels`` (field name → the form's printed label, e.g. 氏名) are what the HTML shows clerks.
    """
    data = build_report(store, run_id, data_dir)
    data["field_labels"] = dict(labels or {})
    folder = data_dir.report(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    _atomic_write(folder / "report.json", json.dumps(data, ensure_ascii=False, indent=2))
    _atomic_write(folder / "report.html", render_html(data))
    return folder


def render_html(data: dict[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(["html"]))
    return env.get_template("report.html").render(
        r=data, state_labels=STATE_LABELS, stage_labels=STAGE_LABELS, kind_labels=KIND_LABELS)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
