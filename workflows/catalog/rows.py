"""Processes from flat rows: a CSV file exported from a spreadsheet, or answers typed at a prompt.

A row has one cell per column, named like the catalog's keys. Lists fit in one cell: ``peak_months`` as
``3 4`` (or ``3,4`` / ``3月、4月``), ``systems`` as ``住民記録システム:vdi; 連絡票:excel``, ``sources`` as
``ref:kuji-2020:what was taken; estimate:how it was estimated``. Shares take ``0.85`` or ``85%``. Any
error names the row (as a spreadsheet shows it: the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError

from kakitori.errors import BusinessError
from workflows.catalog.model import Process, describe_error


@dataclass(frozen=True)
class Column:
    key: str
    help: str
    required: bool = True


COLUMNS: tuple[Column, ...] = (
    Column("id", "英小文字・数字・'-' の識別子(例 jumin-ido)"),
    Column("department", "担当課(例 市民課)"),
    Column("name", "業務名(例 住民異動届の入力)"),
    Column("description", "業務の説明", required=False),
    Column("volume_per_year", "年間件数(整数)"),
    Column("peak_months", "繁忙月(例 3 4)", required=False),
    Column("minutes_by_hand", "手作業の時間(分/件、自動化で置き換わる部分)"),
    Column("medium", "入力媒体: handwritten_paper / printed_paper / pdf / digital"),
    Column("digital_share", "すでに電子で届く割合(0〜1 または %)", required=False),
    Column("structure", "入力の構造: structured / mostly_structured / mixed / mostly_unstructured / unstructured"),
    Column("fields", "1件あたりの入力項目数"),
    Column("rule_based_share", "ルールで決まる判断の割合(0〜1 または %)"),
    Column("exception_share", "例外(人が判断する)ケースの割合(0〜1 または %)"),
    Column("systems", "操作するシステム: 名前:種類; …(種類 web / desktop / vdi / excel)"),
    Column("steps", "1件あたりの画面操作ステップ数"),
    Column("expected_change", "今後の手続・画面の変更: none / minor / some / several / major"),
    Column("change_note", "変更の内容", required=False),
    Column("documentation", "文書化: none / input_files / process_map / sop / detailed_instructions"),
    Column("check", "自動化後の確認: flagged / every_record / every_field"),
    Column("workflow", "Kakitori のワークフロー名", required=False),
    Column("sources", "数値の出典: ref:キー:内容; estimate:推計の方法"),
    Column("notes", "備考", required=False),
)
KEYS = {c.key for c in COLUMNS}
_SPLIT = re.compile(r"\s*[;；\n]\s*")


class CellError(ValueError):
    """A cell that cannot be read; the caller adds the row."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def _share(column: str, text: str) -> float:
    try:
        return float(text[:-1]) / 100.0 if text.endswith(("%", "%")) else float(text)
    except ValueError:
        raise CellError(column, f"expected a share like 0.85 or 85%, got {text!r}") from None


def _months(text: str) -> list[int]:
    parts = [p for p in re.split(r"[\s,、，;；]+", text.replace("月", " ")) if p]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise CellError("peak_months", f"expected month numbers like '3 4', got {text!r}") from None


def _systems(text: str) -> list[dict[str, str]]:
    out = []
    for item in filter(None, _SPLIT.split(text)):
        name, sep, kind = item.replace(":", ":").rpartition(":")
        if not sep or not name.strip():
            raise CellError("systems", f"expected 'name:kind' (kind web/desktop/vdi/excel), got {item!r}")
        out.append({"name": name.strip(), "kind": kind.strip()})
    return out


def _sources(text: str) -> list[dict[str, str]]:
    out = []
    for item in filter(None, _SPLIT.split(text)):
        kind, sep, rest = item.replace(":", ":").partition(":")
        kind = kind.strip().lower()
        if sep and kind == "ref":
            key, _, note = rest.partition(":")
            out.append({"ref": key.strip(), "note": note.strip()})
        elif sep and kind in ("estimate", "推計"):
            out.append({"estimate": rest.strip()})
        else:
            raise CellError("sources", f"expected 'ref:key:note' or 'estimate:how', got {item!r}")
    return out


def process_from_row(cells: dict[str, str]) -> Process:
    """Build and validate one process from its cells; raises ``CellError`` naming the column."""
    data: dict[str, Any] = {}
    for column in COLUMNS:
        text = (cells.get(column.key) or "").strip()
        if not text:
            if column.required:
                raise CellError(column.key, "required, but empty")
            continue
        if column.key in ("digital_share", "rule_based_share", "exception_share"):
            data[column.key] = _share(column.key, text)
        elif column.key == "peak_months":
            data[column.key] = _months(text)
        elif column.key == "systems":
            data[column.key] = _systems(text)
        elif column.key == "sources":
            data[column.key] = _sources(text)
        else:
            data[column.key] = text
    try:
        return Process.model_validate(data)
    except ValidationError as exc:
        column = str(exc.errors()[0]["loc"][0])
        message = describe_error(exc, data).split(": ", 1)[-1]
        raise CellError(column, message) from None


def check_references(proc: Process, references: Iterable[str]) -> None:
    known = set(references)
    for src in proc.sources:
        if src.ref is not None and src.ref not in known:
            raise CellError("sources", f"unknown reference '{src.ref}' (known: {', '.join(sorted(known)) or 'none'})")


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):  # Excel on Japanese Windows saves CSV as cp932 unless told otherwise
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BusinessError("the CSV is neither UTF-8 nor Shift_JIS (cp932); save it as 'CSV UTF-8'", file=path)


def read_csv(path: Path, references: Iterable[str] = (), taken: Iterable[str] = ()) -> list[Process]:
    """Read every row of a CSV as a process. The first bad row stops the import with its row and column."""
    try:
        text = _decode(path)
    except OSError as exc:
        raise BusinessError(f"cannot read the CSV: {exc}", file=path) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise BusinessError("the CSV is empty (expected a header row)", file=path, row=1)
    reader.fieldnames = header
    unknown = [h for h in header if h not in KEYS]
    if unknown:
        raise BusinessError(f"unknown column (expected some of: {', '.join(c.key for c in COLUMNS)})",
                            file=path, row=1, column=unknown[0])
    missing = [c.key for c in COLUMNS if c.required and c.key not in header]
    if missing:
        raise BusinessError("required column missing from the header", file=path, row=1, column=missing[0])
    seen = set(taken)
    references = list(references)
    out = []
    for row_no, cells in enumerate(reader, start=2):
        if None in cells:
            raise BusinessError("more cells than header columns", file=path, row=row_no, column=f"#{len(header) + 1}")
        if not any((v or "").strip() for v in cells.values()):
            continue
        try:
            proc = process_from_row(cells)
            check_references(proc, references)
        except CellError as exc:
            raise BusinessError(str(exc), file=path, row=row_no, column=exc.column) from None
        if proc.id in seen:
            raise BusinessError(f"id '{proc.id}' is already in the catalog or earlier in the CSV",
                                file=path, row=row_no, column="id")
        seen.add(proc.id)
        out.append(proc)
    if not out:
        raise BusinessError("no data rows under the header", file=path, row=2)
    return out
