"""The automation candidate catalog: one YAML file listing a city's clerical processes, schema-validated.

A process is described by what a clerk can tell without a stopwatch study (volume, minutes per case, the
medium and shape of the input, how rule-bound the decisions are, the systems touched) plus where each
figure comes from. The five suitability questions follow the scales of UiPath Automation Hub's high-level
assessment, so that a score of 4 means the same here as there. Scoring lives in ``score.py``; this module
only says what a valid catalog is.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kakitori.errors import ConfigError
from kakitori.yamlfile import read_yaml

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class Labelled(str, Enum):
    """A str Enum whose members carry the Japanese label the report shows: ``Member = (value, label)``."""

    def __new__(cls, value: str, label: str) -> "Labelled":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class Scaled(str, Enum):
    """A str Enum whose members also carry a 1–5 level: ``Member = (value, level, label)``."""

    def __new__(cls, value: str, level: int, label: str) -> "Scaled":
        member = str.__new__(cls, value)
        member._value_ = value
        member.level = level
        member.label = label
        return member


class Medium(Labelled):
    """How a case arrives; with ``digital_share`` it gives UiPath's ``input_type`` level (see score.py)."""

    HANDWRITTEN = ("handwritten_paper", "手書きの紙")
    PRINTED = ("printed_paper", "印字された紙")
    PDF = ("pdf", "PDF")
    DIGITAL = ("digital", "電子データ")


class Structure(Scaled):
    """How structured the input is (UiPath ``input_quality``)."""

    UNSTRUCTURED = ("unstructured", 1, "ほぼ非構造(自由記述)")
    MOSTLY_UNSTRUCTURED = ("mostly_unstructured", 2, "かなり非構造")
    MIXED = ("mixed", 3, "構造・非構造の混在")
    MOSTLY_STRUCTURED = ("mostly_structured", 4, "かなり構造化")
    STRUCTURED = ("structured", 5, "ほぼ構造化(定型様式)")


class Change(Scaled):
    """Change expected in the procedure or the screens in the next years (UiPath ``stability``)."""

    MAJOR = ("major", 1, "大幅な変更を予想")
    SEVERAL = ("several", 2, "中程度の変更を予想")
    SOME = ("some", 3, "一部の変更を予想")
    MINOR = ("minor", 4, "若干の変更を予想")
    NONE = ("none", 5, "変更の予定なし")


class Documentation(Scaled):
    """What documentation of the process exists (UiPath ``documentation``)."""

    NONE = ("none", 1, "文書なし")
    INPUT_FILES = ("input_files", 2, "入力ファイルのみ")
    PROCESS_MAP = ("process_map", 3, "業務フロー図")
    SOP = ("sop", 4, "標準手順書")
    DETAILED = ("detailed_instructions", 5, "詳細な作業手順書")


class SystemKind(Scaled):
    """The kind of screen a bot must drive; VDI (画面転送) allows image matching only, hence the lowest level."""

    VDI = ("vdi", 2, "VDI・画面転送")
    DESKTOP = ("desktop", 3, "デスクトップアプリ")
    WEB = ("web", 4, "Webシステム")
    EXCEL = ("excel", 5, "Excel・CSV")


class Check(Scaled):
    """Whether a person must still check each result after the machine read and keyed it."""

    EVERY_FIELD = ("every_field", 1, "全項目を目視確認")
    EVERY_RECORD = ("every_record", 3, "全件を一覧で確認")
    FLAGGED = ("flagged", 5, "機械が迷った項目だけ確認")


MEDIUM_BY_KEY = {m.value: m for m in Medium}


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Reference(Model):
    """A published case (a municipal pilot report, a ministry guide) that figures in the catalog come from."""

    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    year: int | None = Field(None, ge=1990, le=2100, description="year published, when known")
    url: str = ""
    figures: str = Field("", description="the figures quoted from it, as published")


class Source(Model):
    """Where one process's figures come from: a reference key (with what was taken from it) or an estimate."""

    ref: str | None = None
    estimate: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one_of(self) -> "Source":
        if (self.ref is None) == (self.estimate is None):
            raise ValueError("give exactly one of 'ref' (a key of references) or 'estimate' (how it was estimated)")
        return self

    @property
    def is_estimate(self) -> bool:
        return self.estimate is not None


class System(Model):
    """One system the process touches (基幹系 system, a web service, an Excel book) and how a bot reaches it."""

    name: str = Field(min_length=1)
    kind: SystemKind


class Process(Model):
    """One clerical process: the figures that decide whether RPA + AI-OCR pays off, and their sources."""

    id: str
    department: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = ""
    volume_per_year: int = Field(ge=0, description="cases a year")
    peak_months: list[int] = Field(default_factory=list)
    minutes_by_hand: float = Field(gt=0, le=600, description="staff minutes per case today")
    medium: Medium
    digital_share: float = Field(0.0, ge=0, le=1, description="share of cases already arriving as data")
    structure: Structure
    fields: int = Field(ge=0, le=500, description="fields keyed per case")
    rule_based_share: float = Field(ge=0, le=1, description="share of decisions a written rule settles")
    exception_share: float = Field(ge=0, le=1, description="share of cases that need a person anyway")
    systems: list[System] = Field(min_length=1)
    steps: int = Field(ge=1, le=1000, description="screen steps (clicks, entries, screen changes) per case")
    expected_change: Change
    change_note: str = ""
    documentation: Documentation
    check: Check
    workflow: str | None = Field(None, description="the Kakitori workflow that runs it, if any")
    sources: list[Source] = Field(min_length=1)
    notes: str = ""

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("an id of lower-case letters, digits and '-' (e.g. 'jumin-ido')")
        return value

    @field_validator("peak_months")
    @classmethod
    def _months(cls, value: list[int]) -> list[int]:
        bad = [m for m in value if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"months 1–12, got {bad}")
        return sorted(set(value))

    @property
    def estimated_only(self) -> bool:
        """True when no figure of this process comes from a published case."""
        return all(s.is_estimate for s in self.sources)


class Assumptions(Model):
    """City-wide figures the scoring needs; each has a default and can be overridden in the catalog file."""

    prep_minutes: dict[str, float] = Field(
        default_factory=lambda: {"handwritten_paper": 0.2, "printed_paper": 0.2, "pdf": 0.05, "digital": 0.0},
        description="staff minutes per case to sort, scan and file the input, by medium")
    field_review_rate: dict[str, float] = Field(
        default_factory=lambda: {"handwritten_paper": 0.12, "printed_paper": 0.03, "pdf": 0.01, "digital": 0.0},
        description="share of fields the machine is unsure of and a person reviews, by medium")
    review_factor_by_structure: dict[str, float] = Field(
        default_factory=lambda: {"structured": 1.0, "mostly_structured": 1.5, "mixed": 2.0,
                                 "mostly_unstructured": 3.0, "unstructured": 4.0},
        description="field review rate multiplier: free layouts make the reader miss or misplace fields")
    review_seconds_per_field: float = Field(6.0, gt=0, description="reviewing one flagged field against its crop")
    check_seconds_per_field: float = Field(4.0, gt=0, description="checking one field when every field is checked")
    check_minutes_per_record: float = Field(0.3, ge=0, description="glancing over one record in a list")
    supervision_minutes_per_case: float = Field(0.05, ge=0, description="handing over, watching the bot, filing")
    failure_rate: float = Field(0.02, ge=0, le=1, description="automated cases that fail and go back to a person")
    bot_seconds_per_step: float = Field(2.0, gt=0, description="a bot's time per screen step (estimate of bot time)")
    build_hours_base: float = Field(40.0, ge=0)
    build_hours_per_step: float = Field(1.5, ge=0)
    build_hours_per_extra_system: float = Field(16.0, ge=0)
    build_hours_by_kind: dict[str, float] = Field(
        default_factory=lambda: {"excel": 0.0, "web": 8.0, "desktop": 16.0, "vdi": 40.0})
    build_hours_per_ocr_field: float = Field(0.5, ge=0, description="template set-up per field read by OCR")
    upkeep_share_by_change: dict[str, float] = Field(
        default_factory=lambda: {"none": 0.10, "minor": 0.15, "some": 0.25, "several": 0.40, "major": 0.60},
        description="yearly upkeep as a share of build effort, by expected change")
    amortisation_years: float = Field(3.0, gt=0)
    value_half_hours: float = Field(200.0, gt=0, description="annual hours saved that give half the value score")
    hours_per_fte: float = Field(1900.0, gt=0, description="working hours of one full-time clerk a year")

    @model_validator(mode="after")
    def _complete(self) -> "Assumptions":
        for name, keys in (("prep_minutes", MEDIUM_BY_KEY), ("field_review_rate", MEDIUM_BY_KEY),
                           ("build_hours_by_kind", {k.value for k in SystemKind}),
                           ("review_factor_by_structure", {k.value for k in Structure}),
                           ("upkeep_share_by_change", {c.value for c in Change})):
            given = getattr(self, name)
            missing, unknown = set(keys) - set(given), set(given) - set(keys)
            if missing or unknown:
                raise ValueError(f"{name} needs exactly the keys {sorted(keys)}"
                                 f" (missing {sorted(missing)}, unknown {sorted(unknown)})")
        return self


class Catalog(Model):
    """The whole catalog file: city, assumptions, the published cases cited, and the processes."""

    version: int = Field(1, ge=1, le=1)
    city: str = ""
    assumptions: Assumptions = Field(default_factory=Assumptions)
    references: dict[str, Reference] = Field(default_factory=dict)
    processes: list[Process] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        """A section written with nothing under it (``processes:``) is empty, not an error."""
        if isinstance(data, dict):
            empty = {"references": {}, "processes": [], "assumptions": {}}
            data = {k: (empty[k] if v is None and k in empty else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "Catalog":
        seen: set[str] = set()
        for i, proc in enumerate(self.processes):
            if proc.id in seen:
                raise ValueError(f"processes[{i}] ({proc.id}): id used twice")
            seen.add(proc.id)
            for j, src in enumerate(proc.sources):
                if src.ref is not None and src.ref not in self.references:
                    raise ValueError(f"processes[{i}] ({proc.id}).sources[{j}]: unknown reference '{src.ref}'"
                                     f" (known: {', '.join(sorted(self.references)) or 'none'})")
        return self

    def process(self, process_id: str) -> Process:
        for proc in self.processes:
            if proc.id == process_id:
                return proc
        raise KeyError(process_id)


def describe_error(exc: ValidationError, data: Any = None) -> str:
    """One line naming where the first error is (``processes[3] (jumin-ido).volume_per_year``) and what is wrong."""
    err = exc.errors()[0]
    loc = list(err["loc"])
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{key}]"]
            item = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                parts[-1] += f" ({item['id']})"
            node = item
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    where = ".".join(parts) or "(top)"
    more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    if err["type"] == "extra_forbidden":
        return f"key '{where}': unknown key (check spelling){more}"
    if err["type"] == "missing":
        return f"key '{where}': required key is missing{more}"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "enum":
        msg = f"expected one of {err['ctx']['expected']}"
    shown = "" if err["type"].startswith(("value_error", "assertion")) else f", got {err.get('input')!r}"
    return f"key '{where}': {msg}{shown}{more}"


def parse_catalog(data: Any, file: Path | str = "<catalog>") -> Catalog:
    """Validate already-parsed YAML data as a catalog; raises ``ConfigError`` naming the file and key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping with 'processes' at the top, got {type(data).__name__}", file=file)
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_error(exc, data), file=file) from None


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog YAML file."""
    return parse_catalog(read_yaml(path, "catalog file"), path)
