"""Born-digital PDFs: a form filled in on a PC (e-application output). The page is the vector form with the
values typed on it, and an AcroForm field per template field holding the value, named as the template field.

Field kinds: text fields (``/Tx``, value = the text as typed, e.g. 令和6年4月1日 or 832-8555), checkboxes
(``/Btn``, ``/V /Yes`` or ``/Off``) and radio groups for choices (``/V /<option value>``). reportlab cannot
build a text field's appearance for CJK text, so the field is created empty and its ``/V`` set afterwards; the
typed text on the page is what a viewer shows. Values are PDF text strings (UTF-16BE with a BOM for Japanese):
decode them with ``pdfminer.utils.decode_text``.
"""

from __future__ import annotations

from pathlib import Path

from ocr.template import FieldType, Template
from samples.forms.content import Entry
from samples.forms.drawing import Primitive, Text, render_pdf


def write_born_digital(path: Path, template: Template, items: tuple[Primitive, ...],
                       entries: dict[str, Entry]) -> None:
    """Write one filled form as a born-digital PDF at ``path``."""
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfdoc import PDFString
    from reportlab.pdfgen import canvas as rl_canvas

    width, height = template.page_mm
    c = rl_canvas.Canvas(str(path), pagesize=(width * mm, height * mm), invariant=1)
    c.setTitle(template.title)
    c.setCreator("kakitori samples forms --born-digital")
    typed: list[Primitive] = []
    form = c.acroForm
    for f in template.fields:
        e = entries.get(f.name)
        value = e.written if e else ""
        x, y, w, h = f.box_mm
        if f.type is FieldType.CHECKBOX:
            side = min(w, h)
            form.checkbox(name=f.name, x=x * mm, y=(height - y - side) * mm, size=side * mm, checked=bool(value),
                          buttonStyle="check", borderWidth=0.5, fillColor=None)
        elif f.type is FieldType.CHOICE:
            for o in f.options:
                ox, oy, ow, oh = o.box_mm
                side = min(oh, 4.0)
                form.radio(name=f.name, value=o.value, selected=(o.value == value), x=(ox - side - 0.5) * mm,
                           y=(height - oy - oh / 2 - side / 2) * mm, size=side * mm, buttonStyle="circle",
                           borderWidth=0.5, fillColor=None)
        else:
            text = _typed(f.type, str(value))
            form.textfield(name=f.name, value="", x=x * mm, y=(height - y - h) * mm, width=w * mm, height=h * mm,
                           borderWidth=0, fillColor=None, maxlen=f.comb or 0)
            annot = c._doc.idToObject[form.fields[-1].name]  # reportlab has no API to set a CJK /V
            annot.dict["V"] = annot.dict["DV"] = PDFString(text)
            if text and f.comb:
                cw = w / f.comb
                start = f.comb - len(str(value))
                typed += [Text(x + (start + i + 0.5) * cw, y + h / 2, ch, min(4.2, h * 0.55), "m")
                          for i, ch in enumerate(str(value)[-f.comb:])]
            elif text:
                typed.append(Text(x + 1.5, y + h / 2, text, min(4.2, h * 0.55)))
    render_pdf(c, tuple(items) + tuple(typed), template.page_mm)
    c.showPage()
    c.save()


def _typed(ftype: FieldType, written: str) -> str:
    """What a PC form holds: postal codes with their hyphen, everything else as the resident entered it."""
    if ftype is FieldType.POSTAL and len(written) == 7 and "-" not in written:
        return f"{written[:3]}-{written[3:]}"
    return written

