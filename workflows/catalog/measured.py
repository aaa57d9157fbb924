"""Measured figures: what Kakitori's own run reports say about a process that has already run.

Each workflow run writes ``<data_dir>/reports/<run_id>/report.json`` with the documents it handled, the
machine seconds per document, and how many documents needed review or failed (and, per field, how often a
person had to review or correct it). Several runs of one workflow are pooled, weighted by their documents,
so that a catalog entry naming ``workflow: <name>`` is scored with what happened rather than with a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loguru import logger

REQUIRED = ("run_id", "workflow", "documents", "seconds_per_document", "review_rate", "failure_rate")


@dataclass(frozen=True)
class FieldRates:
    review_rate: float
    correction_rate: float


@dataclass(frozen=True)
class RunFigures:
    """The figures of one run report that the catalog uses."""

    run_id: str
    workflow: str
    documents: int
    seconds_per_document: float
    review_rate: float
    failure_rate: float
    fields: dict[str, FieldRates] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunFigures":
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise ValueError(f"missing keys {missing}")
        rates = {}
        for name, value in (data.get("fields") or {}).items():
            rates[str(name)] = FieldRates(_rate(value.get("review_rate", 0.0)),
                                          _rate(value.get("correction_rate", 0.0)))
        documents = int(data["documents"])
        seconds = float(data["seconds_per_document"])
        if documents < 0 or seconds < 0:
            raise ValueError("documents and seconds_per_document must not be negative")
        return cls(str(data["run_id"]), str(data["workflow"]), documents, seconds,
                   _rate(data["review_rate"]), _rate(data["failure_rate"]), rates)


def _rate(value: Any) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"a rate between 0 and 1, got {rate}")
    return rate


@dataclass(frozen=True)
class Measured:
    """One workflow's runs pooled: document-weighted means of the per-run figures."""

    workflow: str
    runs: int
    documents: int
    seconds_per_document: float
    review_rate: float
    failure_rate: float
    fields: dict[str, FieldRates]
    run_ids: tuple[str, ...]

    @property
    def minutes_per_record(self) -> float:
        return self.seconds_per_document / 60.0

    def field_review_rate(self, n_fields: int) -> float:
        """The share of fields a person reviewed: from per-field figures, else inferred from the document rate.

        Without per-field figures, assume fields are flagged independently: a document is clean when all its
        ``n`` fields are, so ``1 - review_rate = (1 - p) ** n``.
        """
        if self.fields:
            return sum(f.review_rate for f in self.fields.values()) / len(self.fields)
        if n_fields <= 0:
            return 0.0
        return 1.0 - (1.0 - self.review_rate) ** (1.0 / n_fields)


def pool(runs: list[RunFigures]) -> Measured:
    """Pool the runs of one workflow, weighting each by its documents."""
    total = sum(r.documents for r in runs)

    def mean(values: list[tuple[float, int]]) -> float:
        weight = sum(w for _, w in values)
        return sum(v * w for v, w in values) / weight if weight else 0.0

    names = sorted({name for r in runs for name in r.fields})
    fields = {
        name: FieldRates(
            mean([(r.fields[name].review_rate, r.documents) for r in runs if name in r.fields]),
            mean([(r.fields[name].correction_rate, r.documents) for r in runs if name in r.fields]),
        )
        for name in names
    }
    return Measured(
        workflow=runs[0].workflow,
        runs=len(runs),
        documents=total,
        seconds_per_document=mean([(r.seconds_per_document, r.documents) for r in runs]),
        review_rate=mean([(r.review_rate, r.documents) for r in runs]),
        failure_rate=mean([(r.failure_rate, r.documents) for r in runs]),
        fields=fields,
        run_ids=tuple(sorted(r.run_id for r in runs)),
    )


@dataclass(frozen=True)
class MeasuredSet:
    """The pooled figures per workflow, and the report files that could not be used (named, not fatal)."""

    by_workflow: dict[str, Measured]
    skipped: tuple[str, ...] = ()

    def get(self, workflow: str | None) -> Measured | None:
        return self.by_workflow.get(workflow) if workflow else None


def load_measured(reports_dir: Path) -> MeasuredSet:
    """Read every ``reports/*/report.json``; runs with no documents are ignored, unreadable files are named."""
    runs: dict[str, list[RunFigures]] = {}
    skipped: list[str] = []
    for path in sorted(reports_dir.glob("*/report.json")) if reports_dir.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            if "workflow" not in data:  # another kind of report (e.g. a catalog report): not ours to read
                continue
            run = RunFigures.from_dict(data)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
            logger.bind(file=str(path)).warning("run report not used: {}", exc)
            skipped.append(f"{path.parent.name}/report.json: {exc}")
            continue
        if run.documents > 0:
            runs.setdefault(run.workflow, []).append(run)
    return MeasuredSet({name: pool(group) for name, group in runs.items()}, tuple(skipped))
