"""The trust rule: from a field's evidence and validation, its status — accepted, needs_review (with a
reason), invalid or empty.

A field passes unreviewed only when every piece of evidence agrees: it validates (check digit, postal code
exists, a real date, cross-field rules), the second reader agrees where there is one, and the fused score
clears the threshold for its type. The thresholds are chosen by ``python -m ocr.calibrate`` on generated
**calib** data (seeds < 1000, MNIST calib split), never on evaluation data, and shipped in
``ocr/models/trust.json``; without that file a conservative default applies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ocr.evidence import Evidence
from ocr.record import FieldStatus

TRUST_PATH = Path(__file__).resolve().parent / "models" / "trust.json"
DEFAULT_MIN_SCORE = 0.995
SELF_CHECKING = {"individual_number"}   # a check digit other than 0 detects every single-digit error


@dataclass(frozen=True)
class Verdict:
    status: FieldStatus
    reason: str = ""


@dataclass(frozen=True)
class TrustRule:
    """Per field type: the lowest fused score that may be auto-accepted, and whether a second reader must
    agree (digit types). ``source`` says how the numbers were chosen."""

    min_score: dict[str, float] = field(default_factory=dict)
    need_agreement: frozenset[str] = frozenset({"digits", "postal", "phone", "amount", "individual_number"})
    mark_min_confidence: float = 0.5
    source: str = "default"

    @classmethod
    def load(cls, path: Path = TRUST_PATH) -> TrustRule:
        if not path.is_file():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(min_score={k: float(v) for k, v in raw["min_score"].items()},
                   need_agreement=frozenset(raw.get("need_agreement", cls().need_agreement)),
                   mark_min_confidence=float(raw.get("mark_min_confidence", 0.5)),
                   source=str(raw.get("source", path.name)))

    def save(self, path: Path = TRUST_PATH) -> None:
        path.write_text(json.dumps({
            "min_score": self.min_score, "need_agreement": sorted(self.need_agreement),
            "mark_min_confidence": self.mark_min_confidence, "source": self.source,
        }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    def threshold(self, field_type: str) -> float:
        return self.min_score.get(field_type, DEFAULT_MIN_SCORE)

    def judge_text(self, field_type: str, ev: Evidence, problems: list[str], *, empty: bool, required: bool
                   ) -> Verdict:
        if empty:
            if required:
                return Verdict(FieldStatus.NEEDS_REVIEW, "required field looks empty")
            return Verdict(FieldStatus.EMPTY)
        if problems:
            return Verdict(FieldStatus.INVALID, "; ".join(problems))
        if not ev.text:
            return Verdict(FieldStatus.NEEDS_REVIEW, "writing found but nothing could be read")
        # a check digit catches any single wrong digit: one digit in doubt, and the number still checks; but
        # a check digit of 0 stands for two remainders (0 and 1), so one digit off can leave it valid
        forgiven = field_type in SELF_CHECKING and ev.doubts <= 1 and not ev.text.endswith("0")
        if ev.agree is not True and not forgiven and (field_type in self.need_agreement or ev.agree is False):
            return Verdict(FieldStatus.NEEDS_REVIEW, ev.note or "second reader does not confirm")
        if ev.score < self.threshold(field_type):
            return Verdict(FieldStatus.NEEDS_REVIEW, f"low confidence ({ev.score:.3f})")
        return Verdict(FieldStatus.ACCEPTED)

    def judge_mark(self, confidence: float, evidence: str, *, empty: bool, required: bool) -> Verdict:
        if confidence < self.mark_min_confidence:
            return Verdict(FieldStatus.NEEDS_REVIEW, evidence)
        if empty and required:
            return Verdict(FieldStatus.NEEDS_REVIEW, "required choice: nothing circled")
        return Verdict(FieldStatus.ACCEPTED)
