"""The sample legacy system's screen fields: meaningless element ids, labels, and its server-side checks.

Like many core systems built in the 2000s, element ids say nothing (``TXT011`` is the family name), dates
are a 元号 select plus three half-width boxes, names and addresses must be full-width, and every error is a
message at the top of the page after a round trip to the server.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

ERAS: tuple[tuple[str, str, date], ...] = (  # code, name, first day
    ("1", "明治", date(1868, 10, 23)),
    ("2", "大正", date(1912, 7, 30)),
    ("3", "昭和", date(1926, 12, 25)),
    ("4", "平成", date(1989, 1, 8)),
    ("5", "令和", date(2019, 5, 1)),
)
ERA_NAMES = {code: name for code, name, _ in ERAS}
REASONS = {"1": "転入", "2": "転居", "3": "転出"}
SEXES = {"1": "男", "2": "女"}
RELATIONSHIPS = {"01": "本人", "02": "配偶者", "03": "子", "99": "その他"}


@dataclass(frozen=True)
class Field:
    """One value on the screens: its logical name (the database column), element id, label, checks."""

    name: str
    id: str
    label: str
    step: int                   # entry page 1..3
    kind: str = "text"          # text | zenkaku | katakana | digits | phone | select | radio | checkbox | memo
    required: bool = False
    max_length: int = 40
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DateField:
    """A date entered as 元号 select + year/month/day boxes; stored as four columns."""

    name: str
    label: str
    step: int
    ids: tuple[str, str, str, str]   # era select, year, month, day
    required: bool = True

    @property
    def columns(self) -> tuple[str, str, str, str]:
        return (f"{self.name}_era", f"{self.name}_year", f"{self.name}_month", f"{self.name}_day")


DATES = (
    DateField("filing", "届出日", 1, ("SEL001", "TXT001", "TXT002", "TXT003")),
    DateField("moved", "異動日", 1, ("SEL003", "TXT004", "TXT005", "TXT006")),
    DateField("birth", "生年月日", 2, ("SEL011", "TXT015", "TXT016", "TXT017")),
)

FIELDS = (
    Field("reason", "SEL002", "異動の種別", 1, "select", True, options=tuple(REASONS.items())),
    Field("family_name", "TXT011", "氏", 2, "zenkaku", True, 20),
    Field("given_name", "TXT012", "名", 2, "zenkaku", True, 20),
    Field("family_kana", "TXT013", "氏（カナ）", 2, "katakana", True, 30),
    Field("given_kana", "TXT014", "名（カナ）", 2, "katakana", True, 30),
    Field("sex", "RAD011", "性別", 2, "radio", True, options=tuple(SEXES.items())),
    Field("individual_number", "TXT018", "個人番号", 2, "mynumber", False, 12),
    Field("phone", "TXT019", "電話番号", 2, "phone", False, 13),
    Field("postal1", "TXT021", "郵便番号（上3桁）", 3, "digits", False, 3),
    Field("postal2", "TXT022", "郵便番号（下4桁）", 3, "digits", False, 4),
    Field("address", "TXT023", "住所", 3, "zenkaku", True, 60),
    Field("prev_address", "TXT024", "前住所", 3, "zenkaku", False, 60),
    Field("head_of_household", "TXT025", "世帯主", 3, "zenkaku", False, 30),
    Field("relationship", "SEL021", "続柄", 3, "select", False, options=tuple(RELATIONSHIPS.items())),
    Field("national_health", "CHK021", "国民健康保険に加入する", 3, "checkbox"),
    Field("keep_card", "CHK022", "マイナンバーカードを継続利用する", 3, "checkbox"),
    Field("memo", "TXT026", "受付メモ", 3, "memo", False, 40),
)

# the order in which the screens show them
LAYOUT: tuple[Field | DateField, ...] = (
    DATES[0], FIELDS[0], DATES[1],
    *FIELDS[1:5], DATES[2], *FIELDS[5:],
)
COLUMNS: tuple[str, ...] = (*(c for d in DATES for c in d.columns), *(f.name for f in FIELDS))
CHECKBOXES = frozenset(f.name for f in FIELDS if f.kind == "checkbox")
_KATAKANA = re.compile(r"^[ァ-ヶー]+$")


def to_iso(era: str, year: str, month: str, day: str) -> str | None:
    """An ISO date from 元号 code and half-width year/month/day, or None when it is no real date of that era."""
    if era not in ERA_NAMES or not all(re.fullmatch(r"\d{1,2}", v or "") for v in (year, month, day)):
        return None
    start = next(s for code, _, s in ERAS if code == era)
    try:
        d = date(start.year + int(year) - 1, int(month), int(day))
    except ValueError:
        return None
    following = [s for code, _, s in ERAS if code > era]
    if d < start or (following and d >= following[0]):
        return None
    return d.isoformat()


def wareki_text(era: str, year: str, month: str, day: str) -> str:
    return f"{ERA_NAMES.get(era, '')}{year}年{month}月{day}日" if era else ""


def date_text(values: dict[str, str], d: DateField) -> str:
    """A stored date as the screens show it, e.g. 令和6年4月1日."""
    return wareki_text(*(values.get(c, "") for c in d.columns))


def mynumber_ok(digits: str) -> bool:
    """The individual number's check digit (番号法施行規則 第5条)."""
    if not re.fullmatch(r"\d{12}", digits):
        return False
    body = [int(c) for c in digits[:11]][::-1]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(body, 1))
    rest = total % 11
    return int(digits[11]) == (0 if rest <= 1 else 11 - rest)


def _full_width(text: str) -> bool:
    return all(unicodedata.east_asian_width(c) in ("F", "W") for c in text)


def validate(step: int | None, values: dict[str, str]) -> list[str]:
    """The server's messages for one entry page (or every page when step is None): empty when all is well."""
    errors = []
    for d in DATES:
        if step not in (None, d.step):
            continue
        parts = [values.get(c, "") for c in d.columns]
        if not any(parts[1:]):
            if d.required:
                errors.append(f"{d.label}を入力してください。")
        elif to_iso(*parts) is None:
            errors.append(f"{d.label}が正しくありません。（年月日は半角数字）")
    for f in FIELDS:
        if step not in (None, f.step):
            continue
        value = values.get(f.name, "")
        if f.kind == "checkbox":
            continue
        if not value:
            if f.required:
                errors.append(f"{f.label}を入力してください。")
            continue
        if len(value) > f.max_length:
            errors.append(f"{f.label}は{f.max_length}文字以内で入力してください。")
        elif f.kind == "zenkaku" and not _full_width(value):
            errors.append(f"{f.label}は全角で入力してください。")
        elif f.kind == "katakana" and not _KATAKANA.match(value):
            errors.append(f"{f.label}は全角カタカナで入力してください。")
        elif f.kind == "digits" and not re.fullmatch(rf"\d{{{f.max_length}}}", value):
            errors.append(f"{f.label}は半角数字{f.max_length}桁で入力してください。")
        elif f.kind == "phone" and not re.fullmatch(r"\d{2,5}-\d{1,4}-\d{3,4}|\d{10,11}", value):
            errors.append(f"{f.label}は半角数字とハイフンで入力してください。")
        elif f.kind == "mynumber" and not mynumber_ok(value):
            errors.append(f"{f.label}が正しくありません。（12桁・チェックデジット）")
        elif f.kind in ("select", "radio") and value not in dict(f.options):
            errors.append(f"{f.label}を選択してください。")
        elif f.kind == "memo" and not value.isascii():
            errors.append(f"{f.label}は半角英数字で入力してください。")
    return errors
