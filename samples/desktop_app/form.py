"""The entry form of the sample desktop app: its fields, labels, and the legacy validation rules.

The rules are the kind a 1990s core system enforces at the 登録 button: full-width-only name and address
fields, katakana-only フリガナ, codes from fixed lists, dates as eight digits ``YYYYMMDD`` (西暦). The first failing rule is
shown to the clerk in an 入力エラー dialog naming the field by its label (never echoing the value).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str = "text"            # text | zenkaku | katakana | date | postal | phone | ascii | choice | check
    required: bool = True
    options: tuple[str, ...] = ()
    max_length: int = 40


ENTRY_FIELDS = (
    FormField("application_ref", "申請受付番号", "ascii", required=False, max_length=32),
    FormField("reason", "異動の種別", "choice", options=("転入", "転居", "転出")),
    FormField("moved_on", "異動日", "date"),
    FormField("name", "氏名", "zenkaku", max_length=30),
    FormField("name_kana", "フリガナ", "katakana", max_length=40),
    FormField("birth_date", "生年月日", "date"),
    FormField("sex", "性別", "choice", options=("男", "女")),
    FormField("postal_code", "郵便番号", "postal"),
    FormField("address", "住所", "zenkaku", max_length=60),
    FormField("prev_address", "前住所", "zenkaku", required=False, max_length=60),
    FormField("phone", "電話番号", "phone", required=False, max_length=15),
    FormField("head_of_household", "世帯主", "zenkaku", required=False, max_length=30),
    FormField("relationship", "続柄", "choice", options=("本人", "配偶者", "子", "その他")),
    FormField("national_health", "国民健康保険に加入する", "check", required=False),
)
FIELD_BY_NAME = {f.name: f for f in ENTRY_FIELDS}

# The read-only view (登録内容照会) labels: the form's, plus the system's own fields.
VIEW_LABELS = {"resident_no": "住民番号", **{f.name: f.label for f in ENTRY_FIELDS}, "created_at": "登録日時"}
VIEW_ORDER = ("resident_no", *(f.name for f in ENTRY_FIELDS), "created_at")
CHECK_TEXT = {True: "加入する", False: "加入しない"}

_KATAKANA = re.compile(r"^[ァ-ヶー　・]+$")
_ASCII_REF = re.compile(r"^[A-Za-z0-9-]+$")
_POSTAL = re.compile(r"^\d{3}-\d{4}$")
_PHONE = re.compile(r"^\d{2,5}-\d{1,4}-\d{3,4}$|^\d{10,11}$")
_DATE = re.compile(r"^\d{8}$")


def is_zenkaku(text: str) -> bool:
    """True when every character is full-width (East Asian width F or W), as legacy name fields demand."""
    return all(unicodedata.east_asian_width(ch) in ("F", "W") for ch in text)


def parse_date(text: str) -> date | None:
    """A date keyed as eight digits (YYYYMMDD), or None when it is not one."""
    if not _DATE.match(text):
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def validate(values: dict[str, object], today: date | None = None) -> str | None:
    """The first validation message for these screen values, or None when the entry may be saved."""
    today = today or date.today()
    for spec in ENTRY_FIELDS:
        value = values.get(spec.name, "")
        if spec.kind == "check":
            continue
        text = str(value)
        if not text:
            if spec.required:
                return f"{spec.label}を入力してください。"
            continue
        if len(text) > spec.max_length:
            return f"{spec.label}は{spec.max_length}文字以内で入力してください。"
        message = _check(spec, text, today)
        if message:
            return message
    moved, born = parse_date(str(values.get("moved_on", ""))), parse_date(str(values.get("birth_date", "")))
    if moved and born and born > moved:
        return "生年月日は異動日より前の日付を入力してください。"
    return None


def _check(spec: FormField, text: str, today: date) -> str | None:
    label = spec.label
    if spec.kind == "ascii" and not _ASCII_REF.match(text):
        return f"{label}は半角英数字とハイフンで入力してください。"
    if spec.kind == "zenkaku" and not is_zenkaku(text):
        return f"{label}は全角で入力してください。"
    if spec.kind == "katakana" and not _KATAKANA.match(text):
        return f"{label}は全角カタカナで入力してください。"
    if spec.kind == "choice" and text not in spec.options:
        return f"{label}は一覧から選択してください。"
    if spec.kind == "postal" and not _POSTAL.match(text):
        return f"{label}は「123-4567」の形式で入力してください。"
    if spec.kind == "phone" and not _PHONE.match(text):
        return f"{label}は半角数字とハイフンで入力してください。"
    if spec.kind == "date":
        parsed = parse_date(text)
        if parsed is None:
            return f"{label}は西暦8桁（例：20240401）で正しい日付を入力してください。"
        if parsed > today:
            return f"{label}に未来の日付は入力できません。"
    return None


def show_date(text: str) -> str:
    """How the inquiry screens display a keyed date: ``YYYY/MM/DD`` (other text is shown as it is)."""
    return f"{text[:4]}/{text[4:6]}/{text[6:]}" if parse_date(text) else text
