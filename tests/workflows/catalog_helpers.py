"""Small builders shared by the catalog tests: a valid process with overrides, a run report on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from workflows.catalog.model import Catalog, Process

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "catalog.yaml"


def process_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "sample-entry", "department": "市民課", "name": "試験用の入力業務", "volume_per_year": 5000,
        "minutes_by_hand": 4.0, "medium": "handwritten_paper", "structure": "structured", "fields": 12,
        "rule_based_share": 0.9, "exception_share": 0.05, "systems": [{"name": "住民記録システム", "kind": "web"}],
        "steps": 15, "expected_change": "minor", "documentation": "sop", "check": "flagged",
        "sources": [{"estimate": "テスト用の値"}],
    }
    data.update(overrides)
    return data


def make_process(**overrides: Any) -> Process:
    return Process.model_validate(process_data(**overrides))


def make_catalog(*processes: Process) -> Catalog:
    return Catalog(processes=list(processes))


def write_catalog(path: Path, processes: list[dict[str, Any]], header: str = "# my comment\n") -> Path:
    body = yaml.safe_dump({"version": 1, "city": "試験市", "references": {"kuji-2020": {
        "title": "t", "publisher": "p", "year": 2020}}}, allow_unicode=True, sort_keys=False)
    listing = yaml.safe_dump({"processes": processes}, allow_unicode=True, sort_keys=False, indent=2,
                             default_flow_style=False)
    path.write_text(header + body + listing, encoding="utf-8")
    return path


def write_run_report(reports: Path, run_id: str, **overrides: Any) -> Path:
    data: dict[str, Any] = {
        "run_id": run_id, "workflow": "tennyu", "template": "tennyu-todoke", "documents": 100,
        "seconds_per_document": 12.0, "review_rate": 0.3, "failure_rate": 0.05,
        "fields": {"name": {"review_rate": 0.2, "correction_rate": 0.1},
                   "address": {"review_rate": 0.1, "correction_rate": 0.05}},
    }
    data.update(overrides)
    folder = reports / run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder / "report.json"
