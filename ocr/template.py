"""Form templates: where each field of a registered form is written, and what kind of value it holds.

One YAML file per form (``<name>.yaml``) with its blank reference image beside it. The keys below are a
contract that the generator, the OCR pipeline, the review station and the bots rely on; see
``docs/templates.md``. Coordinates are millimetres from the page's top-left corner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


from kakitori.errors import ConfigError
from kakitori.yamlfile import read_yaml


class FieldType(str, Enum):
    TEXT = "text"                      # kanji/kana mix: names, addresses
    KATAKANA = "katakana"
    HIRAGANA = "hiragana"
    DIGITS = "digits"
    POSTAL = "postal"                  # NNN-NNNN
    PHONE = "phone"
    DATE = "date"                      # 和暦 or 西暦 as written; ISO when normalised
    AMOUNT = "amount"                  # yen, digits only when normalised
    INDIVIDUAL_NUMBER = "individual_number"  # 12 digits with check digit
    CHECKBOX = "checkbox"              # true/false
    CHOICE = "choice"                  # ○ drawn around one printed option; value = the option's value


TEXT_TYPES = frozenset({"text", "katakana", "hiragana"})   # handwriting in characters, not digits or marks
# digits alone (separators aside): read by both PP-OCR and the digit classifier
PURE_DIGIT_TYPES = frozenset({"digits", "postal", "phone", "amount", "individual_number"})


@dataclass(frozen=True)
class Option:
    """One printed option of a ``choice`` field, and where its label is printed."""

    value: str
    label: str
    box_mm: tuple[float, float, float, float]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: FieldType
    box_mm: tuple[float, float, float, float]  # x, y, w, h: the writing area (inside the cell border)
    comb: int | None = None            # comb boxes: this many printed boxes, one character each
    options: tuple[Option, ...] = ()   # for choice fields
    required: bool = False
    max_length: int | None = None
    page: int = 1                      # 1-based page of the form this field is on
    review: str = "single"             # "single" or "double" (two reviewers enter blind)
    person_name: bool = False          # "family given": one half-width space between the two (key-in splits it)

    @property
    def is_mark(self) -> bool:
        return self.type in (FieldType.CHECKBOX, FieldType.CHOICE)


@dataclass(frozen=True)
class Rule:
    """A cross-field rule, e.g. ``{rule: before, fields: [birth_date, filing_date]}``."""

    rule: str
    fields: tuple[str, ...]
    message: str = ""


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    page_mm: tuple[float, float]
    reference: Path                    # the blank form image, beside the YAML
    reference_dpi: int
    fields: tuple[FieldSpec, ...]
    rules: tuple[Rule, ...] = ()
    pages: int = 1
    source: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def mm_to_px(self, box_mm: tuple[float, float, float, float], dpi: float) -> tuple[int, int, int, int]:
        """A box in mm to integer pixels (x, y, w, h) at ``dpi``."""
        k = dpi / 25.4
        x, y, w, h = box_mm
        return round(x * k), round(y * k), round(w * k), round(h * k)


_TOP_KEYS = {"name", "title", "page", "reference", "reference_dpi", "fields", "rules", "pages", "extra"}
_FIELD_KEYS = {"name", "label", "type", "box_mm", "comb", "options", "required", "max_length", "page", "review",
               "person_name"}


def load_template(path: str | Path) -> Template:
    """Load and validate one template YAML. Raises ConfigError naming the file and the key."""
    path = Path(path)
    raw = read_yaml(path, "template")
    if not isinstance(raw, dict):
        raise ConfigError("a template is a mapping", file=path)

    def fail(key: str, msg: str) -> ConfigError:
        return ConfigError(f"key '{key}': {msg}", file=path)

    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise fail(sorted(unknown)[0], "unknown key")
    for key in ("name", "title", "page", "reference", "fields"):
        if key not in raw:
            raise fail(key, "required key is missing")
    if raw["name"] != path.stem:
        raise fail("name", f"must equal the file name '{path.stem}'")
    page = raw["page"]
    if not isinstance(page, dict) or not {"width_mm", "height_mm"} <= set(page):
        raise fail("page", "expected {width_mm: N, height_mm: N}")
    fields, seen = [], set()
    if not isinstance(raw["fields"], list) or not raw["fields"]:
        raise fail("fields", "expected a non-empty list")
    for i, f in enumerate(raw["fields"]):
        where = f"fields[{i}]"
        if not isinstance(f, dict):
            raise fail(where, "expected a mapping")
        unknown = set(f) - _FIELD_KEYS
        if unknown:
            raise fail(f"{where}.{sorted(unknown)[0]}", "unknown key")
        for key in ("name", "type", "box_mm"):
            if key not in f:
                raise fail(f"{where}.{key}", "required key is missing")
        if f["name"] in seen:
            raise fail(f"{where}.name", f"duplicate field name '{f['name']}'")
        seen.add(f["name"])
        try:
            ftype = FieldType(f["type"])
        except ValueError:
            raise fail(f"{where}.type", f"expected one of {[t.value for t in FieldType]}, got {f['type']!r}") from None
        if f.get("person_name") and ftype.value not in TEXT_TYPES:
            raise fail(f"{where}.person_name", "only a text, katakana or hiragana field holds a person's name")
        box = _box(f["box_mm"], lambda m: fail(f"{where}.box_mm", m))
        options = tuple(
            Option(str(o["value"]), str(o.get("label", o["value"])), _box(o["box_mm"], lambda m: fail(f"{where}.options", m)))
            for o in f.get("options", [])
        )
        if ftype is FieldType.CHOICE and len(options) < 2:
            raise fail(f"{where}.options", "a choice field needs at least two options with box_mm")
        fields.append(FieldSpec(
            name=str(f["name"]), label=str(f.get("label", f["name"])), type=ftype, box_mm=box,
            comb=int(f["comb"]) if f.get("comb") else None, options=options,
            required=bool(f.get("required", False)), max_length=f.get("max_length"),
            page=int(f.get("page", 1)), review=str(f.get("review", "single")),
            person_name=bool(f.get("person_name", False)),
        ))
    rules = []
    for i, r in enumerate(raw.get("rules") or []):
        if not isinstance(r, dict) or "rule" not in r or "fields" not in r:
            raise fail(f"rules[{i}]", "expected {rule: NAME, fields: [A, B]}")
        missing = [n for n in r["fields"] if n not in seen]
        if missing:
            raise fail(f"rules[{i}].fields", f"no such field {missing[0]!r}")
        rules.append(Rule(str(r["rule"]), tuple(r["fields"]), str(r.get("message", ""))))
    return Template(
        name=raw["name"], title=str(raw["title"]),
        page_mm=(float(page["width_mm"]), float(page["height_mm"])),
        reference=(path.parent / raw["reference"]).resolve(), reference_dpi=int(raw.get("reference_dpi", 200)),
        fields=tuple(fields), rules=tuple(rules), pages=int(raw.get("pages", 1)), source=path,
        extra=dict(raw.get("extra") or {}),
    )


def _box(value: Any, fail) -> tuple[float, float, float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise fail("expected [x, y, w, h] in mm")
    try:
        x, y, w, h = (float(v) for v in value)
    except (TypeError, ValueError):
        raise fail("expected four numbers") from None
    if w <= 0 or h <= 0:
        raise fail("width and height must be positive")
    return x, y, w, h


def find_templates(dirs: list[Path]) -> dict[str, Path]:
    """Template name → YAML path, over the configured folders (an earlier folder wins)."""
    found: dict[str, Path] = {}
    for d in dirs:
        for path in sorted(Path(d).glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def template_by_name(name: str, dirs: list[Path]) -> Template:
    paths = find_templates(dirs)
    if name not in paths:
        raise ConfigError(f"no template named '{name}' (known: {', '.join(sorted(paths)) or 'none'})",
                          file=", ".join(str(d) for d in dirs))
    return load_template(paths[name])
