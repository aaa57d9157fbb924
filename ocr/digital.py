"""Born-digital PDFs (filled on a PC, e-application output): values read from the file, no OCR.

Two sources, in order: AcroForm fields (each widget annotation's ``/T`` name and ``/V`` value, read per page
from ``page.annots[i]["data"]`` — resolving the whole AcroForm tree at once can recurse forever), mapped to the
template by field name; otherwise the text layer, mapped by position (the characters inside each field's
``box_mm``). A PDF with neither (a scanned PDF) is not digital and goes to OCR.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kakitori.errors import BusinessError
from ocr.template import FieldSpec, FieldType, Template

PT_PER_MM = 72 / 25.4
TICKS = {"✓", "✔", "レ", "☑", "■", "●", "x", "X", "×", "○", "◯", "v", "V"}


@dataclass(frozen=True)
class DigitalPage:
    """What a born-digital page holds: raw values by template field name, and how they were found."""

    page: int
    values: dict[str, str | bool]
    how: str                     # "acroform" or "text"


def _text(value: Any) -> str:
    from pdfminer.psparser import PSLiteral
    from pdfminer.utils import decode_text

    if isinstance(value, PSLiteral):
        return str(value.name)
    if isinstance(value, bytes):
        return decode_text(value)
    return "" if value is None else str(value)


def acroform_fields(page) -> dict[str, Any]:
    """Field name → value of the page's form widgets (a radio group's value is its selected kid's state)."""
    from pdfminer.pdftypes import resolve1

    found: dict[str, Any] = {}
    for annot in page.annots or []:
        data = annot.get("data") or {}
        if _text(data.get("Subtype")) != "Widget":
            continue
        name, value, parent = data.get("T"), data.get("V"), resolve1(data.get("Parent"))
        if name is None and isinstance(parent, dict):
            name = parent.get("T")
            value = parent.get("V", value)
        if name is None:
            continue
        key = _text(name)
        state = _text(data.get("AS")) if data.get("AS") is not None else None
        ftype = _text(data.get("FT") or (parent.get("FT") if isinstance(parent, dict) else None))
        if ftype == "Btn":
            # checkbox: /Yes-like vs /Off; radio kid: its own state when selected
            chosen = _text(value) if value is not None else (state or "Off")
            if chosen != "Off" or key not in found:
                found[key] = chosen
        else:
            found[key] = _text(value)
    return found


def _box_text(page, spec_box: tuple[float, float, float, float], scale: float) -> str:
    x, y, w, h = (v * PT_PER_MM * scale for v in spec_box)
    bbox = (max(0, x), max(0, y), min(page.width, x + w), min(page.height, y + h))
    if bbox[2] <= bbox[0] or bbox[3] <= bbox[1]:
        return ""
    return (page.crop(bbox).extract_text() or "").strip()


def _from_text_layer(page, template: Template, page_no: int) -> dict[str, str | bool]:
    scale = page.width / (template.page_mm[0] * PT_PER_MM)
    values: dict[str, str | bool] = {}
    for f in template.fields:
        if f.page != page_no:
            continue
        if f.type is FieldType.CHOICE:
            marked = [o.value for o in f.options if _box_text(page, o.box_mm, scale).strip() in TICKS]
            values[f.name] = marked[0] if len(marked) == 1 else ""
        else:
            text = _box_text(page, f.box_mm, scale)
            values[f.name] = bool(set(text) & TICKS) if f.type is FieldType.CHECKBOX else text
    return values


def _acro_value(spec: FieldSpec, raw: str) -> str | bool:
    if spec.type is FieldType.CHECKBOX:
        return raw not in ("", "Off", "No", "false", "0")
    if spec.type is FieldType.CHOICE:
        for o in spec.options:
            if raw in (o.value, o.label):
                return o.value
        return "" if raw in ("", "Off") else raw
    return raw


def read_digital(path: Path, template: Template) -> list[DigitalPage] | None:
    """The values of a born-digital PDF laid out as ``template``, one entry per page; None when the PDF has
    no form fields and no text in any field's box (a scan: use OCR)."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.psparser import PSException

    try:
        pdf = pdfplumber.open(path)
    except PDFPasswordIncorrect:
        raise BusinessError("the PDF is password-protected; ask for an unprotected copy", file=path.name) from None
    except (PSException, ValueError, KeyError, TypeError) as exc:
        raise BusinessError(f"the PDF cannot be parsed ({type(exc).__name__})", file=path.name) from None
    pages: list[DigitalPage] = []
    with pdf:
        for i, page in enumerate(pdf.pages, start=1):
            acro = acroform_fields(page)
            names = {f.name for f in template.fields}
            if acro and names & set(acro):
                values = {f.name: _acro_value(f, acro.get(f.name, "")) for f in template.fields}
                pages.append(DigitalPage(i, values, "acroform"))
                continue
            if not page.chars:
                continue
            values = _from_text_layer(page, template, ((i - 1) % template.pages) + 1)
            if any(v not in ("", False) for v in values.values()):
                pages.append(DigitalPage(i, values, "text"))
    return pages or None


def digital_template(path: Path, templates: list[Template]) -> Template | None:
    """The template a born-digital PDF was filled in on: the most AcroForm names in common, else the one
    whose title appears in the text layer. None: not recognisably one of ours."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        if not pdf.pages:
            return None
        page = pdf.pages[0]
        acro = set(acroform_fields(page))
        if acro:
            best = max(templates, key=lambda t: len(acro & {f.name for f in t.fields}))
            if acro & {f.name for f in best.fields}:
                return best
        text = (page.extract_text() or "").replace(" ", "")
        for t in templates:
            if t.title.replace(" ", "") in text:
                return t
    return None
