"""Declarative mappings from a record's fields to one target system's screen fields.

A mapping file (``bots/mappings/<name>.yaml``) says, for one form ↔ screen pair, which record field fills
which screen field(s) and how the value is transformed (ISO date → 元号/年/月/日, zenkaku, name splitting,
code tables). Adding a new form or screen is then mostly configuration::

    name: sample-legacy
    template: juminido
    system: sample_legacy            # the page-object module in bots/pages/ (web targets)
    reference: memo                  # the screen field that carries the idempotency key
    fields:
      - {from: name, to: [family_name, given_name], transform: split_name, zenkaku: true}
      - {from: birth_date, to: [birth_era, birth_year, birth_month, birth_day], transform: wareki}
      - {from: sex, to: sex, transform: code, codes: {male: "1", female: "2"}}

Screen values are strings, or booleans for checkboxes. A value the transform cannot handle is a
``BusinessError`` naming the record field (never its value).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

import jaconv
import yaml

from kakitori.errors import BusinessError, ConfigError

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"

# (first day, era name): the eras a living resident's dates can fall in, newest first.
ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1868, 10, 23), "明治"),
)


def to_wareki(iso: str) -> tuple[str, int, int, int]:
    """An ISO date as (元号, year of the era, month, day); raises ValueError for dates before 明治."""
    d = date.fromisoformat(iso)
    for start, era in ERAS:
        if d >= start:
            return era, d.year - start.year + 1, d.month, d.day
    raise ValueError("date before 明治")


def zenkaku(text: str) -> str:
    """Full-width form of letters, digits, kana and spaces (what full-width-only legacy fields accept)."""
    return jaconv.h2z(unicodedata.normalize("NFKC", text), kana=True, ascii=True, digit=True)


def katakana(text: str) -> str:
    return zenkaku(jaconv.hira2kata(unicodedata.normalize("NFKC", text)))


@dataclass(frozen=True)
class FieldMap:
    """One record field → one or more screen fields, through one transform."""

    source: str
    targets: tuple[str, ...]
    transform: str = "text"
    zenkaku: bool = False
    codes: dict[str, str] = field(default_factory=dict)
    era_codes: dict[str, str] = field(default_factory=dict)

    def apply(self, value: Any) -> dict[str, Any]:
        try:
            out = TRANSFORMS[self.transform](self, value)
        except (ValueError, KeyError, TypeError) as exc:
            raise BusinessError(f"cannot map the value for the screen ({self.transform}): {_reason(exc)}",
                                field=self.source) from None
        if self.zenkaku:
            out = [zenkaku(v) if isinstance(v, str) else v for v in out]
        return dict(zip(self.targets, out, strict=True))


def _reason(exc: Exception) -> str:
    # the messages below are ours and name no value; library messages might, so they are replaced
    return str(exc) if isinstance(exc, _MappingProblem) else type(exc).__name__


class _MappingProblem(ValueError):
    pass


def _text(fm: FieldMap, value: Any) -> list[Any]:
    return ["" if value is None else str(value).strip()]


def _katakana(fm: FieldMap, value: Any) -> list[Any]:
    return [katakana(str(value or "").strip())]


def _split_name(fm: FieldMap, value: Any) -> list[Any]:
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        return ["", ""]
    parts = text.split()
    if len(parts) != 2:
        raise _MappingProblem("expected family and given name separated by one space")
    return parts


def _split_kana_name(fm: FieldMap, value: Any) -> list[Any]:
    return [katakana(p) for p in _split_name(fm, value)]


def _wareki(fm: FieldMap, value: Any) -> list[Any]:
    if not value:
        return ["", "", "", ""]
    era, year, month, day = to_wareki(str(value))
    code = fm.era_codes.get(era, era) if fm.era_codes else era
    return [code, str(year), str(month), str(day)]


def _code(fm: FieldMap, value: Any) -> list[Any]:
    if value in ("", None):
        return [""]
    if str(value) not in fm.codes:
        raise _MappingProblem(f"no screen code for this option (known: {', '.join(sorted(fm.codes))})")
    return [fm.codes[str(value)]]


def _checkbox(fm: FieldMap, value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value.strip().lower() in ("true", "1", "yes", "on")]
    return [bool(value)]


def _digits(fm: FieldMap, value: Any) -> list[Any]:
    return [re.sub(r"\D", "", unicodedata.normalize("NFKC", str(value or "")))]


def _split_postal(fm: FieldMap, value: Any) -> list[Any]:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", str(value or "")))
    if not digits:
        return ["", ""]
    if len(digits) != 7:
        raise _MappingProblem("a postal code has 7 digits")
    return [digits[:3], digits[3:]]


TRANSFORMS: dict[str, Callable[[FieldMap, Any], list[Any]]] = {
    "text": _text,
    "katakana": _katakana,
    "split_name": _split_name,
    "split_kana_name": _split_kana_name,
    "wareki": _wareki,
    "code": _code,
    "checkbox": _checkbox,
    "digits": _digits,
    "split_postal": _split_postal,
}


@dataclass(frozen=True)
class Mapping:
    """How one form's record is keyed into one target system's screens."""

    name: str
    template: str
    system: str
    reference: str
    fields: tuple[FieldMap, ...]
    constants: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None

    @property
    def screen_fields(self) -> tuple[str, ...]:
        names = [t for fm in self.fields for t in fm.targets]
        return (*names, *self.constants, self.reference)

    def apply(self, values: dict[str, Any], key: str) -> dict[str, Any]:
        """The screen values for one record, with the idempotency key in the reference field."""
        missing = [fm.source for fm in self.fields if fm.source not in values]
        if missing:
            raise BusinessError(f"record lacks fields the mapping needs: {', '.join(missing)}",
                                screen=self.name)
        screen: dict[str, Any] = dict(self.constants)
        for fm in self.fields:
            screen.update(fm.apply(values[fm.source]))
        screen[self.reference] = key
        return screen


def compare(expected: dict[str, Any], saved: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Screen fields whose saved value differs from what was keyed: name → (keyed, saved). Empty if all match."""

    def norm(v: Any) -> Any:
        return v if isinstance(v, bool) else unicodedata.normalize("NFC", str(v if v is not None else "")).strip()

    return {name: (want, saved.get(name)) for name, want in expected.items()
            if name not in saved or norm(want) != norm(saved[name])}


def load_mapping(name_or_path: str | Path) -> Mapping:
    """Load ``bots/mappings/<name>.yaml`` (or a path). Raises ConfigError naming the file and the problem."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = MAPPINGS_DIR / f"{name_or_path}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("mapping file not found", file=path) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"malformed YAML: {str(exc).splitlines()[0]}", file=path) from None
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping with keys name, template, system, reference, fields", file=path)
    unknown = set(raw) - {"name", "template", "system", "reference", "fields", "constants"}
    if unknown:
        raise ConfigError(f"unknown key(s): {', '.join(sorted(unknown))}", file=path)
    fields = []
    for i, f in enumerate(raw.get("fields") or []):
        where = f"fields[{i}]"
        if not isinstance(f, dict) or "from" not in f or "to" not in f:
            raise ConfigError(f"{where}: needs 'from' and 'to'", file=path)
        bad = set(f) - {"from", "to", "transform", "zenkaku", "codes", "era_codes"}
        if bad:
            raise ConfigError(f"{where}: unknown key(s): {', '.join(sorted(bad))}", file=path)
        transform = f.get("transform", "text")
        if transform not in TRANSFORMS:
            raise ConfigError(f"{where}: unknown transform '{transform}' (known: {', '.join(TRANSFORMS)})",
                              file=path)
        targets = tuple(f["to"]) if isinstance(f["to"], list) else (f["to"],)
        fields.append(FieldMap(
            source=f["from"], targets=targets, transform=transform, zenkaku=bool(f.get("zenkaku", False)),
            codes={str(k): str(v) for k, v in (f.get("codes") or {}).items()},
            era_codes={str(k): str(v) for k, v in (f.get("era_codes") or {}).items()},
        ))
    for key in ("name", "template", "system", "reference"):
        if not raw.get(key):
            raise ConfigError(f"missing key '{key}'", file=path)
    return Mapping(name=raw["name"], template=raw["template"], system=raw["system"], reference=raw["reference"],
                   fields=tuple(fields), constants=dict(raw.get("constants") or {}), source=path)
