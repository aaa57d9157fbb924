"""What a reviewer types, turned into a field's normalised value (the same form the OCR record holds).

Clerks type fast and loosely: full-width digits, ``R6.4.1`` or ``令和6年4月1日`` for a date, a postal code
without its hyphen. ``parse_entry`` accepts those and returns the normalised value (ISO dates, ``NNN-NNNN``,
digits only, ``True``/``False``, an option's value; a person's name as "family given" with one half-width
space), or raises ``EntryError`` with a Japanese message the page shows beside the field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date

import jaconv

from ocr.record import Value
from ocr.template import FieldSpec, FieldType

ERAS = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018,
        "M": 1867, "T": 1911, "S": 1925, "H": 1988, "R": 2018}
_ERA_DATE = re.compile(r"^(明治|大正|昭和|平成|令和|[MTSHR])\s*(元|\d{1,2})[年./\-](\d{1,2})[月./\-](\d{1,2})日?$")
_ISO_DATE = re.compile(r"^(\d{4})[年./\-](\d{1,2})[月./\-](\d{1,2})日?$")


class EntryError(ValueError):
    """A typed value that cannot be this field's value; the message is shown to the clerk."""


def parse_entry(spec: FieldSpec, text: str) -> Value:
    """The normalised value of ``text`` typed (or toggled) for the field ``spec``."""
    t = spec.type
    if t is FieldType.CHECKBOX:
        return text.strip().lower() in ("1", "true", "on", "yes", "✓", "レ")
    if spec.person_name:
        return _person_name(spec, text)
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    if t is FieldType.CHOICE:
        values = [o.value for o in spec.options]
        if s and s not in values:
            raise EntryError("選択肢から選んでください")
        return s
    if not s:
        if spec.required:
            raise EntryError("必須項目です")
        return ""
    if spec.max_length and len(s) > spec.max_length and t in (FieldType.TEXT, FieldType.KATAKANA, FieldType.HIRAGANA):
        raise EntryError(f"{spec.max_length}文字以内で入力してください")
    if t is FieldType.DATE:
        return _date(s)
    if t is FieldType.POSTAL:
        d = _digits(s)
        if len(d) != 7:
            raise EntryError("郵便番号は7桁です")
        return f"{d[:3]}-{d[3:]}"
    if t is FieldType.PHONE:
        d = _digits(s.replace("-", "").replace("ー", ""))
        if not 10 <= len(d) <= 11 or not d.startswith("0"):
            raise EntryError("電話番号は0で始まる10〜11桁です")
        return s.replace("ー", "-")
    if t is FieldType.INDIVIDUAL_NUMBER:
        d = _digits(s)
        if len(d) != 12:
            raise EntryError("個人番号は12桁です")
        if check_digit(d[:11]) != int(d[11]):
            raise EntryError("個人番号の検査用数字が一致しません")
        return d
    if t is FieldType.AMOUNT:
        return _digits(s.replace(",", "").removesuffix("円"))
    if t is FieldType.DIGITS:
        return _digits(s)
    if t is FieldType.KATAKANA:
        k = jaconv.hira2kata(s)
        if not re.fullmatch(r"[\u30A0-\u30FF]+", k):
            raise EntryError("カタカナで入力してください")
        return k
    if t is FieldType.HIRAGANA:
        h = jaconv.kata2hira(s)
        if not re.fullmatch(r"[\u3040-\u309Fー]+", h):
            raise EntryError("ひらがなで入力してください")
        return h
    return s


def _person_name(spec: FieldSpec, text: str) -> str:
    """A person's name as "family given": a full-width space or several spaces become one half-width space;
    without a space the name is refused (the legacy screens key 氏 and 名 separately)."""
    parts = unicodedata.normalize("NFKC", text).split()
    if not parts:
        if spec.required:
            raise EntryError("必須項目です")
        return ""
    if len(parts) == 1:
        raise EntryError("氏と名の間に空白を入れてください")
    if len(parts) > 2:
        raise EntryError("空白は氏と名の間に1つだけ入れてください")
    whole = replace(spec, person_name=False, max_length=None)
    family, given = (str(parse_entry(whole, p)) for p in parts)
    if spec.max_length and len(family) + len(given) > spec.max_length:
        raise EntryError(f"{spec.max_length}文字以内で入力してください")
    return f"{family} {given}"


def display(spec: FieldSpec, value: Value) -> str:
    """A value as the input box shows it (checkbox → "1"/"", everything else as is)."""
    if spec.type is FieldType.CHECKBOX:
        return "1" if value is True or value == "true" else ""
    return "" if value is None else str(value)


def wareki(iso: str) -> str:
    """An ISO date as residents write it: 令和6年4月1日 (平成, 昭和 for older ones; 西暦 before 1926)."""
    d = date.fromisoformat(iso)
    for era, start, base in (("令和", date(2019, 5, 1), 2018), ("平成", date(1989, 1, 8), 1988),
                             ("昭和", date(1926, 12, 25), 1925)):
        if d >= start:
            return f"{era}{'元' if d.year == base + 1 else d.year - base}年{d.month}月{d.day}日"
    return f"{d.year}年{d.month}月{d.day}日"


def check_digit(first11: str) -> int:
    """The check digit of an individual number (マイナンバー) from its first 11 digits."""
    total = 0
    for n, ch in enumerate(reversed(first11), start=1):
        total += int(ch) * (n + 1 if n <= 6 else n - 5)
    r = total % 11
    return 0 if r <= 1 else 11 - r


def _digits(s: str) -> str:
    if not re.fullmatch(r"[\d\-]+", s):
        raise EntryError("数字で入力してください")
    return s.replace("-", "")


def _date(s: str) -> str:
    m = _ERA_DATE.match(s)
    if m:
        year = ERAS[m.group(1)] + (1 if m.group(2) == "元" else int(m.group(2)))
        month, day = int(m.group(3)), int(m.group(4))
    elif m := _ISO_DATE.match(s):
        year, month, day = (int(g) for g in m.groups())
    elif re.fullmatch(r"\d{8}", s):
        year, month, day = int(s[:4]), int(s[4:6]), int(s[6:])
    else:
        raise EntryError("日付は 令和6年4月1日、R6.4.1、2024-04-01 のように入力してください")
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise EntryError("存在しない日付です") from None
