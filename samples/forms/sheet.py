"""Laying out a form: rows of label cells and writing cells, giving the printed drawing and the template fields.

A form design calls ``Sheet.row`` with cells (``Label``, ``Write``, ``Comb``, ``Choice``, ``Check``, ``Note``);
the sheet places them left to right, emits the printed primitives, and records each field's ``FieldSpec`` with
its ``box_mm`` computed from the very numbers it drew. The template YAML is written from these specs, so the
reference image and the template can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from ocr.template import FieldSpec, FieldType, Option, Rule
from samples.forms import fonts
from samples.forms.drawing import Circle, Line, Primitive, Rect, Text

PAGE_MM = (210.0, 297.0)
MARK_MM, MARK_INSET_MM = 6.0, 8.0          # corner registration marks: 6 mm squares, 8 mm in from each corner
LEFT_MM, RIGHT_MM = 18.0, 192.0
LABEL_MM = 3.2                             # printed label size (≈ 9 pt)
PAD_MM = 1.0                               # writing area = cell inset by this much, clear of the printed border
LABEL_FILL = 232                           # light grey label cells, as on real city-hall forms


@dataclass(frozen=True)
class Label:
    """A printed label cell (grey); ``\\n`` splits lines."""

    text: str
    w: float
    size: float = LABEL_MM


@dataclass(frozen=True)
class Note:
    """A printed cell with no field (instructions, a unit, an empty spacer)."""

    text: str = ""
    w: float | None = None
    size: float = 2.6


@dataclass(frozen=True)
class Write:
    """A free writing cell; ``suffix`` is printed at its right end (e.g. 円) and is not part of the area."""

    name: str
    label: str
    type: FieldType
    w: float | None = None
    required: bool = False
    max_length: int | None = None
    suffix: str = ""
    review: str = "single"
    person_name: bool = False  # "family given": the value keeps one space between the two


@dataclass(frozen=True)
class Comb:
    """A row of ``n`` printed boxes, one character each; thick dividers after the counts in ``groups``."""

    name: str
    label: str
    type: FieldType
    n: int
    box_w: float = 7.5
    groups: tuple[int, ...] = ()
    w: float | None = None
    required: bool = False
    review: str = "single"


@dataclass(frozen=True)
class Choice:
    """Printed options (value, label); the resident draws a ○ around one."""

    name: str
    label: str
    options: tuple[tuple[str, str], ...]
    w: float | None = None
    required: bool = False


@dataclass(frozen=True)
class Check:
    """A printed □ followed by its statement; the resident ticks the box."""

    name: str
    label: str
    text: str
    w: float | None = None


Cell = Union[Label, Note, Write, Comb, Choice, Check]


@dataclass
class Sheet:
    """One A4 page being laid out, top to bottom."""

    name: str
    title: str
    items: list[Primitive] = field(default_factory=list)
    fields: list[FieldSpec] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    y: float = 20.0
    _frame_top: float | None = None

    def __post_init__(self) -> None:
        for x, y in self.corner_marks():
            self.items.append(Rect(x, y, MARK_MM, MARK_MM, fill=0, stroke=False))

    @staticmethod
    def corner_marks() -> list[tuple[float, float]]:
        """Top-left corners (mm) of the four registration marks: TL, TR, BL, BR."""
        w, h = PAGE_MM
        far_x, far_y = w - MARK_INSET_MM - MARK_MM, h - MARK_INSET_MM - MARK_MM
        return [(MARK_INSET_MM, MARK_INSET_MM), (far_x, MARK_INSET_MM), (MARK_INSET_MM, far_y), (far_x, far_y)]

    # --- free printing -------------------------------------------------------------------------------------
    def text(self, x: float, text: str, size: float = LABEL_MM, anchor: str = "l", bold: bool = False,
             dy: float | None = None) -> None:
        """Print one line at the current y (advancing y by ``dy``, default the line height)."""
        self.items.append(Text(x, self.y + size * 0.7, text, size, anchor, bold))
        self.y += size * 1.5 if dy is None else dy

    def gap(self, mm: float) -> None:
        self.y += mm

    def begin_frame(self) -> None:
        """Start the thick frame (太枠) around the part the resident fills in."""
        self._frame_top = self.y

    def end_frame(self) -> None:
        top, self._frame_top = self._frame_top, None
        self.items.append(Rect(LEFT_MM, top, RIGHT_MM - LEFT_MM, self.y - top, line_mm=0.6))

    # --- rows ----------------------------------------------------------------------------------------------
    def row(self, h: float, *cells: Cell) -> None:
        """Place ``cells`` left to right in a row of height ``h``; cells without a width share what is left."""
        fixed = sum(c.w if c.w is not None else 0.0 for c in cells if not isinstance(c, Comb) or c.w is not None)
        fixed += sum(c.n * c.box_w + 6.0 for c in cells if isinstance(c, Comb) and c.w is None)
        free = [c for c in cells if c.w is None and not isinstance(c, Comb)]
        share = (RIGHT_MM - LEFT_MM - fixed) / len(free) if free else 0.0
        if free and share <= 0:
            raise ValueError(f"{self.name}: row at y={self.y} is wider than the page")
        x = LEFT_MM
        for c in cells:
            if isinstance(c, Comb) and c.w is None:
                w = c.n * c.box_w + 6.0
            else:
                w = c.w if c.w is not None else share
            self._cell(c, x, self.y, w, h)
            x += w
        self.y += h

    def _cell(self, c: Cell, x: float, y: float, w: float, h: float) -> None:
        if isinstance(c, Label):
            self.items.append(Rect(x, y, w, h, fill=LABEL_FILL))
            lines = c.text.split("\n")
            step = c.size * 1.25
            top = y + h / 2 - step * (len(lines) - 1) / 2
            for i, line in enumerate(lines):
                size = c.size if i == 0 else c.size * 0.8
                self.items.append(Text(x + w / 2, top + i * step, line, size, "m"))
            return
        self.items.append(Rect(x, y, w, h))
        if isinstance(c, Note):
            if c.text:
                self.items.append(Text(x + 1.5, y + h / 2, c.text, c.size))
        elif isinstance(c, Write):
            right = x + w - PAD_MM
            if c.suffix:
                self.items.append(Text(x + w - 1.5, y + h / 2, c.suffix, LABEL_MM, "r"))
                right -= fonts.text_width_mm(c.suffix, LABEL_MM) + 1.5
            box = (x + PAD_MM, y + PAD_MM, right - x - PAD_MM, h - 2 * PAD_MM)
            self._field(c.name, c.label, c.type, box, required=c.required, max_length=c.max_length, review=c.review,
                        person_name=c.person_name)
        elif isinstance(c, Comb):
            self._comb(c, x, y, w, h)
        elif isinstance(c, Choice):
            self._choice(c, x, y, w, h)
        elif isinstance(c, Check):
            side = 4.5
            bx, by = x + 2.5, y + (h - side) / 2
            self.items.append(Rect(bx, by, side, side, line_mm=0.3))
            self.items.append(Text(bx + side + 1.5, y + h / 2, c.text, LABEL_MM))
            self._field(c.name, c.label, FieldType.CHECKBOX, (bx, by, side, side))

    def _comb(self, c: Comb, x: float, y: float, w: float, h: float) -> None:
        cx, cy, ch = x + 3.0, y + 1.5, h - 3.0
        cw = c.n * c.box_w
        if cw > w - 3.0:
            raise ValueError(f"{self.name}: comb '{c.name}' does not fit its cell")
        self.items.append(Rect(cx, cy, cw, ch, line_mm=0.3))
        for i in range(1, c.n):
            thick = i in c.groups
            self.items.append(Line(cx + i * c.box_w, cy, cx + i * c.box_w, cy + ch,
                                   line_mm=0.45 if thick else 0.18, dashed=not thick))
        self._field(c.name, c.label, c.type, (cx, cy, cw, ch), comb=c.n, required=c.required,
                    max_length=c.n, review=c.review)

    def _choice(self, c: Choice, x: float, y: float, w: float, h: float) -> None:
        slot = w / len(c.options)
        options = []
        for i, (value, label) in enumerate(c.options):
            mid = x + (i + 0.5) * slot
            tw = fonts.text_width_mm(label, LABEL_MM)
            self.items.append(Text(mid, y + h / 2, label, LABEL_MM, "m"))
            options.append(Option(value, label, _r((mid - tw / 2 - 1.2, y + h / 2 - LABEL_MM / 2 - 1.2,
                                                    tw + 2.4, LABEL_MM + 2.4))))
        self._field(c.name, c.label, FieldType.CHOICE, (x + PAD_MM, y + PAD_MM, w - 2 * PAD_MM, h - 2 * PAD_MM),
                    options=tuple(options), required=c.required)

    def _field(self, name: str, label: str, ftype: FieldType, box: tuple[float, float, float, float], *,
               comb: int | None = None, options: tuple[Option, ...] = (), required: bool = False,
               max_length: int | None = None, review: str = "single", person_name: bool = False) -> None:
        if any(f.name == name for f in self.fields):
            raise ValueError(f"{self.name}: duplicate field '{name}'")
        self.fields.append(FieldSpec(name=name, label=label, type=ftype, box_mm=_r(box), comb=comb,
                                     options=options, required=required, max_length=max_length, review=review,
                                     person_name=person_name))

    def rule(self, rule: str, *names: str, message: str = "") -> None:
        self.rules.append(Rule(rule, names, message))

    # --- printed furniture ---------------------------------------------------------------------------------
    def office_box(self, y: float, stamps: tuple[str, ...] = ("受付", "審査", "入力", "照合")) -> None:
        """The 市使用欄 at the bottom: a reception-stamp circle and sign-off boxes (printed only)."""
        h = 30.0
        self.items.append(Rect(LEFT_MM, y, RIGHT_MM - LEFT_MM, h, line_mm=0.35))
        self.items.append(Rect(LEFT_MM, y, 8.0, h, fill=LABEL_FILL))
        for i, ch in enumerate("市使用欄"):
            self.items.append(Text(LEFT_MM + 4.0, y + 6.0 + i * 6.0, ch, 3.0, "m"))
        self.items.append(Circle(LEFT_MM + 24.0, y + h / 2, 12.0, line_mm=0.2))
        self.items.append(Text(LEFT_MM + 24.0, y + h / 2, "受付印", 2.6, "m"))
        sx = RIGHT_MM - len(stamps) * 16.0
        for i, s in enumerate(stamps):
            bx = sx + i * 16.0
            self.items.append(Rect(bx, y, 16.0, 6.0, fill=LABEL_FILL))
            self.items.append(Text(bx + 8.0, y + 3.0, s, 2.6, "m"))
            self.items.append(Rect(bx, y + 6.0, 16.0, h - 6.0))
        self.items.append(Text(LEFT_MM + 40.0, y + 4.0, "処理記録", 2.6))
        for j in range(1, 4):
            self.items.append(Line(LEFT_MM + 40.0, y + 4.0 + j * 7.0, sx - 3.0, y + 4.0 + j * 7.0, line_mm=0.15,
                                   dashed=True))


def _r(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return tuple(round(v, 2) for v in box)  # type: ignore[return-value]
