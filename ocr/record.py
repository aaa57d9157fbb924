"""The OCR pipeline's result: one ``Record`` per document, one ``FieldResult`` per template field.

Records cross the queue and live in the document store as JSON (``to_dict``/``from_dict``); crops stay on
disk and travel as paths. Values are in their normalised form: ISO dates, NNN-NNNN postal codes, digits only
for phone/amount/individual_number, ``True``/``False`` for checkboxes, the option's value for choices, ``""``
for an empty field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any


class FieldStatus(str, Enum):
    ACCEPTED = "accepted"          # passes unreviewed: must be right
    NEEDS_REVIEW = "needs_review"  # the machine is unsure: a person checks it (reason says why)
    INVALID = "invalid"            # read, but fails validation: a person corrects it
    EMPTY = "empty"                # nothing written
    REVIEWED = "reviewed"          # a person confirmed or corrected it


Value = str | bool


@dataclass(frozen=True)
class FieldResult:
    name: str
    type: str
    value: Value
    raw_text: str = ""
    confidence: float = 0.0
    status: FieldStatus = FieldStatus.NEEDS_REVIEW
    reason: str = ""
    crop: str | None = None        # path of the field crop image, for reviewers
    page: int = 1

    @property
    def open(self) -> bool:
        """Still needs a person."""
        return self.status in (FieldStatus.NEEDS_REVIEW, FieldStatus.INVALID)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FieldResult":
        return cls(**{**d, "status": FieldStatus(d.get("status", "needs_review"))})


@dataclass(frozen=True)
class Record:
    document_id: str
    template: str
    fields: dict[str, FieldResult]
    file: str = ""
    registration_score: float = 0.0
    pages: int = 1
    source: str = "ocr"            # "ocr" for scans, "pdf-text" for born-digital PDFs
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def needs_review(self) -> bool:
        return any(f.open for f in self.fields.values())

    def values(self) -> dict[str, Value]:
        """Field name → normalised value: what the bots key in."""
        return {name: f.value for name, f in self.fields.items()}

    def with_field(self, result: FieldResult) -> "Record":
        return replace(self, fields={**self.fields, result.name: result})

    def to_dict(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "template": self.template,
            "file": self.file,
            "registration_score": self.registration_score,
            "pages": self.pages,
            "source": self.source,
            "needs_review": self.needs_review,
            "timings_ms": dict(self.timings_ms),
            "fields": {name: f.to_dict() for name, f in self.fields.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Record":
        return cls(
            document_id=d["document_id"], template=d["template"], file=d.get("file", ""),
            registration_score=float(d.get("registration_score", 0.0)), pages=int(d.get("pages", 1)),
            source=d.get("source", "ocr"), timings_ms=dict(d.get("timings_ms", {})),
            fields={name: FieldResult.from_dict(f) for name, f in d["fields"].items()},
        )
