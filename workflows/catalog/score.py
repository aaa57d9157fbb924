"""The scoring model: suitability, ease of implementation, AI-OCR fit and value, combined into one priority.

Every factor is a level from 1 (poor) to 5 (good). A group's level is the weighted mean of its factors'; the
priority (0–100) is the weighted mean of the groups, each rescaled from 1–5 to 0–1. Because the priority is
a plain sum, each factor's share of it is known exactly, and a rank is explained by the factors whose share
lies furthest above or below the catalog's average. ``docs/scoring.md`` gives the reasoning for each scale.

Value is hours, not a guess of a level: annual hours saved = automated cases × (minutes by hand − minutes
left for staff) − review time − build effort spread over its years − upkeep. Where a workflow has run,
the measured review and failure rates replace the estimated ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from kakitori.errors import ConfigError
from workflows.catalog.measured import Measured, MeasuredSet
from workflows.catalog.model import Assumptions, Catalog, Check, Medium, Process

GROUPS: dict[str, tuple[str, ...]] = {
    "suitability": ("rules", "input_type", "input_quality", "stability", "documentation"),
    "ease": ("systems", "steps", "exceptions", "environment"),
    "ocr_fit": ("handwriting", "field_count", "check_burden"),
    "value": ("hours_saved",),
}
GROUP_LABELS = {"suitability": "適合度", "ease": "実装容易性", "ocr_fit": "AI-OCR適合", "value": "効果"}
FACTOR_LABELS = {
    "rules": "ルールベース", "input_type": "入力の電子化", "input_quality": "入力の構造化", "stability": "安定性",
    "documentation": "文書化", "systems": "システム数", "steps": "操作ステップ数", "exceptions": "例外の少なさ",
    "environment": "操作環境", "handwriting": "文字の種類", "field_count": "読取項目数",
    "check_burden": "目視確認の負担", "hours_saved": "年間削減時間",
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "suitability": 0.35, "ease": 0.20, "ocr_fit": 0.15, "value": 0.30,
    **{factor: 1.0 for factors in GROUPS.values() for factor in factors},
}
RULE_LABELS = ("ほぼ非定型", "かなり非定型", "ルールと判断の混合", "かなりルールベース", "ほぼルールベース")
INPUT_TYPE_LABELS = ("ほぼ紙", "かなり紙", "電子と紙の混在", "かなり電子", "ほぼ電子")
HANDWRITING_LEVEL = {Medium.HANDWRITTEN: 2, Medium.PRINTED: 4, Medium.PDF: 5}
FEW_DOCUMENTS = 30  # below this many measured documents, say that the measured rates are only indicative
DIGITAL_FRACTION = {Medium.HANDWRITTEN: 0.0, Medium.PRINTED: 0.0, Medium.PDF: 0.75, Medium.DIGITAL: 1.0}


@dataclass(frozen=True)
class Weights:
    """Group weights (suitability, ease, ocr_fit, value) and factor weights within each group."""

    values: Mapping[str, float]

    @classmethod
    def from_config(cls, given: Mapping[str, float], file: object = None) -> "Weights":
        """Defaults overridden by ``catalog.weights``; unknown or negative weights are a ``ConfigError``."""
        for key, value in given.items():
            if key not in DEFAULT_WEIGHTS:
                raise ConfigError(f"key 'catalog.weights.{key}': unknown weight (known: {', '.join(DEFAULT_WEIGHTS)})",
                                  file=file)
            if value < 0:
                raise ConfigError(f"key 'catalog.weights.{key}': a weight must not be negative, got {value}", file=file)
        merged = {**DEFAULT_WEIGHTS, **given}
        if sum(merged[g] for g in GROUPS) <= 0:
            raise ConfigError("key 'catalog.weights': at least one group weight must be above 0", file=file)
        return cls(merged)

    def __getitem__(self, key: str) -> float:
        return self.values[key]


@dataclass(frozen=True)
class Factor:
    """One factor of one process: its level (1–5), what it says in words, and its points in the priority."""

    key: str
    group: str
    level: float
    detail: str
    points: float = 0.0

    @property
    def label(self) -> str:
        return FACTOR_LABELS[self.key]


@dataclass(frozen=True)
class Hours:
    """The yearly hour balance of automating one process (staff hours; the bot's own time is apart)."""

    automated_cases: float
    minutes_after: float   # staff minutes still spent per automated case (judgement, prep, supervision, review)
    gross: float           # hours freed before review: cases × (by hand − prep − supervision)
    review: float          # hours reviewing and checking what the machine produced
    build: float           # one-off build effort
    upkeep: float          # yearly upkeep
    net: float             # gross − review − build / amortisation − upkeep (negative: automation costs time)
    review_rate: float     # share of documents a person reviews
    failure_rate: float    # share of automated cases sent back to a person
    bot_minutes_per_record: float

    @property
    def value(self) -> float:
        """The hours the city gains by automating when it pays off; a process that would cost time gains 0."""
        return max(self.net, 0.0)


@dataclass(frozen=True)
class Score:
    """A process scored: group levels, hours, priority, rank, and the factors that drove the rank."""

    process: Process
    suitability: float
    ease: float
    ocr_fit: float | None
    hours: Hours
    estimated_hours: Hours      # the same figures from estimates only, shown beside measured ones
    measured: Measured | None
    priority: float
    factors: tuple[Factor, ...]
    rank: int = 0
    up: tuple[Factor, ...] = ()
    down: tuple[Factor, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def value(self) -> float:
        return self.hours.value

    def factor(self, key: str) -> Factor:
        return next(f for f in self.factors if f.key == key)


def _band(value: float, bounds: tuple[float, float, float, float], ascending: bool = True) -> int:
    """The level 1–5 of ``value`` given the four bounds between levels (``ascending``: bigger is better)."""
    if ascending:
        return 1 + sum(value >= b for b in bounds)
    return 5 - sum(value > b for b in bounds)


def hours(proc: Process, a: Assumptions, measured: Measured | None = None) -> Hours:
    """The yearly hour balance of automating ``proc``, with measured rates where a run report gives them."""
    medium = proc.medium.value
    failure = measured.failure_rate if measured else a.failure_rate
    if measured:
        field_rate = measured.field_review_rate(proc.fields)
    else:
        field_rate = min(1.0, a.field_review_rate[medium] * a.review_factor_by_structure[proc.structure.value])
    paper = 1.0 - proc.digital_share if proc.medium is not Medium.DIGITAL else 0.0
    manual_share = proc.exception_share + (1.0 - proc.exception_share) * failure
    cases = proc.volume_per_year * (1.0 - manual_share)

    prep = paper * a.prep_minutes[medium] + a.supervision_minutes_per_case
    review = paper * proc.fields * field_rate * a.review_seconds_per_field / 60.0
    if proc.check is Check.EVERY_RECORD:
        review += a.check_minutes_per_record
    elif proc.check is Check.EVERY_FIELD:
        review += proc.fields * a.check_seconds_per_field / 60.0
    if measured:
        review_rate = measured.review_rate
    else:
        review_rate = 1.0 - (1.0 - paper * field_rate) ** proc.fields if proc.fields else 0.0

    build = (a.build_hours_base + a.build_hours_per_step * proc.steps
             + a.build_hours_per_extra_system * (len(proc.systems) - 1)
             + max(a.build_hours_by_kind[s.kind.value] for s in proc.systems)
             + (a.build_hours_per_ocr_field * proc.fields if paper > 0 else 0.0))
    upkeep = build * a.upkeep_share_by_change[proc.expected_change.value]
    # Only the rule-bound share of a case's work can pass to a bot; judgement stays with the clerk.
    judgement = proc.minutes_by_hand * (1.0 - proc.rule_based_share)
    gross = cases * (proc.minutes_by_hand - judgement - prep) / 60.0
    review_hours = cases * review / 60.0
    net = gross - review_hours - build / a.amortisation_years - upkeep
    bot_minutes = measured.minutes_per_record if measured else proc.steps * a.bot_seconds_per_step / 60.0
    return Hours(cases, judgement + prep + review, gross, review_hours, build, upkeep, net, review_rate, failure, bot_minutes)


def _factors(proc: Process, hrs: Hours, a: Assumptions) -> list[Factor]:
    rules = _band(proc.rule_based_share, (0.2, 0.5, 0.8, 0.95))
    digital = proc.digital_share + (1 - proc.digital_share) * DIGITAL_FRACTION[proc.medium]
    input_type = _band(digital, (0.1, 0.35, 0.65, 0.9))
    env = min(proc.systems, key=lambda s: s.kind.level).kind
    found = [
        Factor("rules", "suitability", rules, f"{RULE_LABELS[rules - 1]}・判断の{proc.rule_based_share:.0%}がルール"),
        Factor("input_type", "suitability", input_type,
               f"{INPUT_TYPE_LABELS[input_type - 1]}・{proc.medium.label}・電子{digital:.0%}"),
        Factor("input_quality", "suitability", proc.structure.level, proc.structure.label),
        Factor("stability", "suitability", proc.expected_change.level,
               proc.expected_change.label + (f"・{proc.change_note}" if proc.change_note else "")),
        Factor("documentation", "suitability", proc.documentation.level, proc.documentation.label),
        Factor("systems", "ease", _band(len(proc.systems), (1, 2, 3, 4), ascending=False), f"{len(proc.systems)}システム"),
        Factor("steps", "ease", _band(proc.steps, (10, 20, 40, 80), ascending=False), f"{proc.steps}ステップ/件"),
        Factor("exceptions", "ease", _band(proc.exception_share, (0.05, 0.10, 0.20, 0.35), ascending=False),
               f"例外 {proc.exception_share:.0%}"),
        Factor("environment", "ease", env.level, env.label),
    ]
    if proc.medium is not Medium.DIGITAL and proc.digital_share < 1.0:
        found += [
            Factor("handwriting", "ocr_fit", HANDWRITING_LEVEL[proc.medium], proc.medium.label),
            Factor("field_count", "ocr_fit", _band(proc.fields, (10, 20, 40, 80), ascending=False),
                   f"{proc.fields}項目/件"),
            Factor("check_burden", "ocr_fit", proc.check.level, proc.check.label),
        ]
    share = hrs.value / (hrs.value + a.value_half_hours)
    found.append(Factor("hours_saved", "value", 1.0 + 4.0 * share, f"{hrs.net:,.0f}時間/年"))
    return found


def _weigh(factors: list[Factor], w: Weights) -> tuple[float, list[Factor], dict[str, float]]:
    """Priority (0–100), the factors with their points, and each present group's level (1–5)."""
    present = [g for g in GROUPS if any(f.group == g for f in factors)]
    total_group = sum(w[g] for g in present) or 1.0
    levels: dict[str, float] = {}
    weighed: list[Factor] = []
    for g in present:
        members = [f for f in factors if f.group == g]
        total = sum(w[f.key] for f in members)
        if total <= 0:  # every factor of the group weighted 0: count them equally rather than divide by zero
            shares = {f.key: 1.0 / len(members) for f in members}
        else:
            shares = {f.key: w[f.key] / total for f in members}
        levels[g] = sum(shares[f.key] * f.level for f in members)
        for f in members:
            points = 100.0 * w[g] / total_group * shares[f.key] * (f.level - 1.0) / 4.0
            weighed.append(Factor(f.key, f.group, f.level, f.detail, points))
    return sum(f.points for f in weighed), weighed, levels


def score_process(proc: Process, a: Assumptions, w: Weights, measured: Measured | None = None) -> Score:
    """Score one process on its own (no rank, no drivers: those need the whole catalog)."""
    hrs = hours(proc, a, measured)
    estimated = hours(proc, a) if measured else hrs
    priority, factors, levels = _weigh(_factors(proc, hrs, a), w)
    warnings = []
    if hrs.net < 0 and proc.minutes_by_hand < hrs.minutes_after:
        warnings.append(f"自動化後も1件あたり{hrs.minutes_after:.1f}分かかり、手作業({proc.minutes_by_hand:g}分)より"
                        f"時間が増える見込み" + ("(全項目の目視確認が重い)" if proc.check is Check.EVERY_FIELD else ""))
    elif hrs.net < 0:
        warnings.append("構築・保守の手間が削減時間を上回る見込み")
    if measured and measured.documents < FEW_DOCUMENTS:
        warnings.append(f"実測は{measured.documents}件のみのため参考値")
    return Score(proc, levels["suitability"], levels["ease"], levels.get("ocr_fit"), hrs, estimated, measured,
                 priority, tuple(factors), warnings=tuple(warnings))


def score_catalog(catalog: Catalog, weights: Weights, measured: MeasuredSet | None = None) -> list[Score]:
    """Score and rank every process; each rank is explained by the factors furthest from the catalog average."""
    measured = measured or MeasuredSet({})
    scores = [score_process(p, catalog.assumptions, weights, measured.get(p.workflow)) for p in catalog.processes]
    if not scores:
        return []
    average: dict[str, float] = {}
    for key in {f.key for s in scores for f in s.factors}:
        average[key] = sum(f.points for s in scores for f in s.factors if f.key == key) / len(scores)
    ranked = sorted(scores, key=lambda s: (-round(s.priority, 6), -s.value, s.process.id))
    out = []
    for rank, s in enumerate(ranked, start=1):
        delta = sorted(s.factors, key=lambda f: f.points - average[f.key], reverse=True)
        up = tuple(f for f in delta[:2] if f.points - average[f.key] > 0.5)
        down = tuple(f for f in reversed(delta[-2:]) if f.points - average[f.key] < -0.5)
        out.append(replace(s, rank=rank, up=up, down=down))
    return out


def reason(s: Score, a: Assumptions) -> str:
    """A short Japanese sentence saying why the process ranks where it does, for managers."""
    p, h = s.process, s.hours
    text = f"年間{p.volume_per_year:,}件・手作業{p.minutes_by_hand:g}分/件。"
    if h.net > 0:
        fte = h.net / a.hours_per_fte
        text += (f"自動化後の職員作業は約{h.minutes_after:.1f}分/件となり、年間約{h.net:,.0f}時間"
                 + (f"(約{fte:.1f}人分)" if fte >= 0.1 else "") + "の削減見込み。")
    def said(f: Factor) -> str:  # the hours are already in the sentence above
        return f.label if f.key == "hours_saved" and h.net > 0 else f"{f.label}({f.detail})"

    if s.up:
        text += "押し上げ要因: " + "、".join(said(f) for f in s.up) + "。"
    if s.down:
        text += "課題: " + "、".join(said(f) for f in s.down) + "。"
    for warning in s.warnings:
        text += warning + "。"
    if s.ocr_fit is None:
        text += "入力は電子データのためAI-OCRは不要。"
    return text
