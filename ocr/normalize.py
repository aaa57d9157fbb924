"""Normalisation per field type: raw text as read (or typed) → the value a record holds.

NFKC first (full-width digits and half-width kana become ordinary), whitespace removed — except in a person's
name, which keeps one space between family and given name (``normalise_name``) — then per type: kana folded
with jaconv, 和暦 converted to ISO dates, postal codes as NNN-NNNN, phone/amount/individual-number as their
digits. Known recogniser confusions are corrected per type.
A value that cannot be normalised is returned as cleaned text; ``validate`` then says what is wrong with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import jaconv

# era → (first day, year 1 in the Gregorian calendar, last day)
ERAS: dict[str, tuple[date, int, date]] = {
    "令和": (date(2019, 5, 1), 2019, date(9999, 12, 31)),
    "平成": (date(1989, 1, 8), 1989, date(2019, 4, 30)),
    "昭和": (date(1926, 12, 25), 1926, date(1989, 1, 7)),
    "大正": (date(1912, 7, 30), 1912, date(1926, 12, 24)),
}
ERA_LETTERS = {"R": "令和", "H": "平成", "S": "昭和", "T": "大正"}

# what the recogniser is known to confuse, per field type (read → meant)
CONFUSIONS: dict[str, dict[str, str]] = {
    "date": {"今和": "令和", "令知": "令和", "合和": "令和", "平式": "平成", "昭知": "昭和", "口": "日",
             "ー": "-", "一": "-", "、": "."},
    "text": {"惠": "恵"},
    "digits": {"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "/": "1", "S": "5", "B": "8",
               "Z": "2", "z": "2", "g": "9", "q": "9"},
}


# a small kana is only written after these (ティ, ファ, シェ, キャ...); elsewhere the recogniser saw a big one
_SMALL_VOWEL_AFTER = set("ウフヴテデツチシジキギクグスズイヒ")
SMALL_Y_AFTER = set("キギシジチヂニヒビピミリテデフヴ")
_ENLARGE = {"ァ": "ア", "ィ": "イ", "ゥ": "ウ", "ェ": "エ", "ォ": "オ", "ャ": "ヤ", "ュ": "ユ", "ョ": "ヨ", "ッ": "ツ"}
# in Japanese words (and names) a small ッ comes only before an unvoiced k/s/t/p sound
KANA_CONSONANT = set("カキクケコサシスセソタチツテトパピプペポ")
# katakana that look like kanji: alone between kanji they are the kanji (大ロ → 大口), and the other way
# round among katakana (コ一ポ → コーポ)
_LOOKALIKE = {"ロ": "口", "エ": "工", "カ": "力", "ニ": "二", "ハ": "八", "タ": "夕", "ー": "一"}
_LOOKALIKE_KANA = {v: k for k, v in _LOOKALIKE.items()}


def _is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch in "々〆"


def _is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa" or ch == "ー"


def fix_small_kana(text: str) -> str:
    """Small kana where Japanese cannot have them become big (ヘィ → ヘイ, ハイッ7 → ハイツ7, さゅり → さゆり);
    hiragana follow the same rules as katakana."""
    hira = [ch for ch in text if "\u3041" <= ch <= "\u3096"]
    if hira:
        kata = fix_small_kana(jaconv.hira2kata(text))
        return "".join(k if k == t or not ("\u3041" <= t <= "\u3096") else jaconv.kata2hira(k)
                       for t, k in zip(text, kata))
    out = list(text)
    for i, ch in enumerate(out):
        prev = out[i - 1] if i else ""
        nxt = out[i + 1] if i + 1 < len(out) else ""
        if ch in "ァィゥェォ" and prev not in _SMALL_VOWEL_AFTER or ch in "ャュョ" and prev not in SMALL_Y_AFTER or ch == "ッ" and (nxt not in KANA_CONSONANT or not _is_katakana(prev)):
            out[i] = _ENLARGE[ch]
    return "".join(out)


def fix_lookalikes(text: str) -> str:
    """A lone katakana that looks like a kanji, with a kanji beside it and no katakana, is that kanji; such a
    kanji with katakana beside it and no kanji is the katakana."""
    out = list(text)
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else ""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        kanji_near = _is_kanji(prev) or _is_kanji(nxt)
        kana_near = _is_katakana(prev) or _is_katakana(nxt)
        if ch in _LOOKALIKE and kanji_near and not kana_near:
            out[i] = _LOOKALIKE[ch]
        elif ch in _LOOKALIKE_KANA and kana_near and not kanji_near:
            out[i] = _LOOKALIKE_KANA[ch]
    return "".join(out)


class DateError(ValueError):
    """A date as written that is not a real date (or not within its era)."""


def clean(text: str) -> str:
    """NFKC and no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def fix_confusions(text: str, kind: str) -> str:
    for wrong, right in CONFUSIONS.get(kind, {}).items():
        text = text.replace(wrong, right)
    return text


def digits_of(text: str) -> str:
    return "".join(ch for ch in fix_confusions(clean(text), "digits") if ch.isdigit())


def parse_date(text: str) -> date:
    """和暦 (令和6年4月1日, 令和元年…, R6.4.1) or 西暦 (2024年4月1日, 2024/4/1, 2024-04-01) → date.
    Raises DateError for a written date that does not exist or falls outside its era."""
    t = fix_confusions(clean(text), "date").replace("西暦", "")
    m = re.fullmatch(r"(令和|平成|昭和|大正|[RHST])(元|\d{1,2})[年./-](\d{1,2})[月./-](\d{1,2})日?", t)
    if m:
        era = ERA_LETTERS.get(m.group(1), m.group(1))
        start, first_year, end = ERAS[era]
        year = 1 if m.group(2) == "元" else int(m.group(2))
        if year < 1:
            raise DateError("era year 0")
        d = _date(first_year + year - 1, int(m.group(3)), int(m.group(4)))
        if not start <= d <= end:
            raise DateError(f"{era}{year}年 is outside the {era} era")
        return d
    m = re.fullmatch(r"(\d{4})[年./-](\d{1,2})[月./-](\d{1,2})日?", t)
    if m:
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", t)
    if m:
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise DateError("not a date as written (和暦 or 西暦)")


def _date(y: int, m: int, d: int) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise DateError("no such day in the calendar") from None


def repair_date(text: str) -> date | None:
    """The one real date a misread date can have been, or None (none, or more than one).

    Three known confusions: '1' read as '/' inside a 和暦 date (令和3年1/月 → 令和3年11月), separators
    dropped or misplaced in a 西暦 date (1966/31/8 → 1966-03-18 when that is the only valid split), and a
    handwritten '/' read as '1' (196613118 → 1966/3/18, again only when one date fits)."""
    t = fix_confusions(clean(text), "date")
    if re.search(r"[年月日]", t):
        try:
            return parse_date(t.replace("/", "1").replace("|", "1"))
        except DateError:
            return None
    digits = re.sub(r"\D", "", t)
    if not re.fullmatch(r"(19|20)\d{4,8}", digits):
        return None
    year, rest = int(digits[:4]), digits[4:]
    splits = [(rest[:cut], rest[cut:]) for cut in (1, 2)]
    if t.isdigit() and rest[:1] == "1":  # no separator was read: each '/' may be one of the 1s
        splits += [(rest[1:1 + cut], rest[2 + cut:]) for cut in (1, 2) if rest[1 + cut:2 + cut] == "1"]
    found = set()
    for m, d in splits:
        if 1 <= len(m) <= 2 and 1 <= len(d) <= 2:
            try:
                found.add(date(year, int(m), int(d)))
            except ValueError:
                pass
    return found.pop() if len(found) == 1 else None


FAINT_MIN_P = 0.01   # how nearly the recogniser must have read a dropped character (chosen on calib data)


def repair_date_by_faint_char(text: str, between: Sequence[tuple[str, float]]) -> date | None:
    """The real date a misread date becomes with one more digit (or 元) where the recogniser nearly read one
    (``between[k]``: its likeliest character between characters k-1 and k, see ``Reading.between``): a thin
    '1' beside a kanji, or the second '1' of '11', often loses to the blank (令和年5月7日, 令和2年0月24日).
    Of several, the most nearly read; None when no insertion makes a real date."""
    if len(between) != len(text) + 1:
        return None
    best: tuple[float, date] | None = None
    for k, (ch, p) in enumerate(between):
        if p < FAINT_MIN_P or not (ch.isdigit() or ch == "元"):
            continue
        try:
            d = parse_date(text[:k] + ch + text[k:])
        except DateError:
            continue
        if best is None or p > best[0]:
            best = (p, d)
    return best[1] if best else None


def to_wareki(d: date) -> str:
    """ISO date → 和暦 as a clerk writes it (令和6年4月1日; 元年 for the first year)."""
    for era, (start, first_year, end) in ERAS.items():
        if start <= d <= end:
            year = d.year - first_year + 1
            return f"{era}{'元' if year == 1 else year}年{d.month}月{d.day}日"
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass(frozen=True)
class Normalised:
    value: str
    ok: bool            # False: could not be brought into the type's form (validation will say why)
    repaired: str = ""  # a known confusion was repaired: the value is a good guess, a person confirms it


def normalise(field_type: str, raw: str) -> Normalised:
    """The normalised value of ``raw`` for a field of ``field_type`` (checkbox/choice are not text)."""
    t = clean(raw)
    if not t:
        return Normalised("", True)
    if field_type == "katakana":
        return Normalised(fix_small_kana(jaconv.hira2kata(t)), True)
    if field_type == "hiragana":
        return Normalised(jaconv.kata2hira(t), True)
    if field_type == "text":
        return Normalised(fix_lookalikes(fix_small_kana(fix_confusions(t, "text"))), True)
    if field_type == "date":
        try:
            return Normalised(parse_date(t).isoformat(), True)
        except DateError:
            fixed = repair_date(t)
            if fixed is not None:
                return Normalised(fixed.isoformat(), True, "date repaired from a misread separator")
            return Normalised(t, False)
    if field_type == "postal":
        d = digits_of(t)
        return Normalised(f"{d[:3]}-{d[3:]}", True) if len(d) == 7 else Normalised(t, False)
    if field_type == "amount":
        t = t.replace(".", ",").replace("、", ",").replace("円", "").replace("¥", "").replace(",", "")
        d = digits_of(t)
        return Normalised(d, bool(d) and len(d) == len(t))
    if field_type in ("phone", "individual_number", "digits"):
        d = digits_of(t)
        return Normalised(d, bool(d))
    return Normalised(t, True)


NO_NAME_GAP = "no gap between family and given name"


def normalise_name(field_type: str, raw: str) -> Normalised:
    """A person's name as "family given" with one half-width space (a full-width space or several count as
    one), each part normalised as the field's type. Without exactly one gap the name is returned run
    together: which characters are the family name is then for a person to say (``NO_NAME_GAP``)."""
    parts = unicodedata.normalize("NFKC", raw).split()
    if len(parts) != 2:
        return normalise(field_type, raw)
    family, given = (normalise(field_type, p).value for p in parts)
    return Normalised(f"{family} {given}", True)


def comparable(field_type: str, value: str | bool) -> str:
    """The form two values of a field are compared in (truth vs reading): spec rule of forms-spec.md."""
    if isinstance(value, bool):
        return "true" if value else "false"
    v = clean(str(value))
    if field_type in ("phone", "amount", "individual_number", "digits"):
        return "".join(ch for ch in v if ch.isdigit())
    if field_type == "postal":
        d = "".join(ch for ch in v if ch.isdigit())
        return f"{d[:3]}-{d[3:]}" if len(d) == 7 else v
    if field_type == "date":
        try:
            return parse_date(v).isoformat()
        except DateError:
            return v
    return v
