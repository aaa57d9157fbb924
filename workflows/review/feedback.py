"""Corrections feed back: how often people had to change what the machine read, per field and per template.

Every resolution at the review station is one row of the store's ``corrections`` audit (``changed`` = the
value differs from the read one). The correction rate is corrections over resolutions. The run report shows
it per run, the catalog uses it to judge how much clerk time a form really saves, and a high rate on one field
says its template box, charset or auto-accept threshold needs work.

    from workflows.review.feedback import correction_rates
    rates = correction_rates(store, run_id="run-…")     # or template="juminido", or neither for all time
    rates.to_dict()  # {"reviewed": 40, "corrected": 7, "rate": 0.175, "templates": {...}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from workflows.store import DocumentStore, corrections


@dataclass(frozen=True)
class Rate:
    """Resolutions by a person, and how many of them changed the value."""

    reviewed: int
    corrected: int

    @property
    def rate(self) -> float:
        return self.corrected / self.reviewed if self.reviewed else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"reviewed": self.reviewed, "corrected": self.corrected, "rate": round(self.rate, 4)}


@dataclass(frozen=True)
class TemplateRates:
    template: str
    total: Rate
    fields: dict[str, Rate]            # field name → rate, highest rate first

    def to_dict(self) -> dict[str, Any]:
        return {**self.total.to_dict(), "fields": {name: r.to_dict() for name, r in self.fields.items()}}


@dataclass(frozen=True)
class CorrectionRates:
    total: Rate
    templates: dict[str, TemplateRates]  # template name → its rates

    def field(self, template: str, name: str) -> Rate:
        """One field's rate (zero resolutions if it was never reviewed)."""
        t = self.templates.get(template)
        return t.fields.get(name, Rate(0, 0)) if t else Rate(0, 0)

    def to_dict(self) -> dict[str, Any]:
        return {**self.total.to_dict(), "templates": {n: t.to_dict() for n, t in self.templates.items()}}


def correction_rates(store: DocumentStore, *, run_id: str | None = None,
                     template: str | None = None) -> CorrectionRates:
    """Correction rate per field and per template from the store's audit, for one run, one template or all."""
    stmt = (select(corrections.c.template, corrections.c.field, func.count(), func.sum(corrections.c.changed))
            .group_by(corrections.c.template, corrections.c.field))
    if run_id:
        stmt = stmt.where(corrections.c.run_id == run_id)
    if template:
        stmt = stmt.where(corrections.c.template == template)
    per_template: dict[str, dict[str, Rate]] = {}
    with store.engine.connect() as conn:
        for tname, fname, n, changed in conn.execute(stmt).all():
            per_template.setdefault(tname, {})[fname] = Rate(int(n), int(changed or 0))
    templates = {}
    for tname, fields in sorted(per_template.items()):
        ordered = dict(sorted(fields.items(), key=lambda kv: (-kv[1].rate, -kv[1].reviewed, kv[0])))
        total = Rate(sum(r.reviewed for r in fields.values()), sum(r.corrected for r in fields.values()))
        templates[tname] = TemplateRates(tname, total, ordered)
    grand = Rate(sum(t.total.reviewed for t in templates.values()), sum(t.total.corrected for t in templates.values()))
    return CorrectionRates(grand, templates)
