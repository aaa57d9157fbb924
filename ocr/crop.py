"""Field crops: the writing inside each cell of an aligned page, with the printed form taken away.

Because the page is registered onto the blank reference, the form's own ink (cell borders, comb dividers,
printed labels) is known pixel for pixel: it is erased (with a little tolerance for registration error), then
any long straight line that survived is removed too, and specks are dropped. What remains is the writing,
trimmed to its bounding box — the recogniser reads better without the border. Comb fields are also split into
one crop per printed box. Pure image maths.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr.template import TEXT_TYPES, FieldSpec, Template

MARGIN_MM = 1.2         # writing may overshoot the writing area a little
ERASE_TOL_PX = 2        # registration tolerance when erasing the printed form
MIN_SPECK_MM2 = 0.12    # ink blobs smaller than this are scanner noise...
MARK_NEAR_MM = 0.8      # ...unless they lie this close to the writing, in a text field: a voicing mark (゛, ゜)
MIN_MARK_PX = 3         # is a blob that small, often fainter than the strokes it belongs to
EMPTY_INK_MM2 = 1.5     # less writing than this in a field: empty


@dataclass(frozen=True)
class FieldCrop:
    """A field's cleaned writing (grey, ink dark on white, trimmed) and, for comb fields, one crop per box
    (``None`` for an empty box). ``ink_mm2``: how much writing there is."""

    name: str
    image: np.ndarray
    empty: bool
    ink_mm2: float
    cells: tuple[np.ndarray | None, ...] = ()


def ink_threshold(aligned: np.ndarray) -> int:
    """The grey level under which a pixel is ink, for the whole page (Otsu, kept within sane bounds)."""
    small = aligned[::4, ::4]
    t, _ = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return int(np.clip(t, 90, 200))


def printed_mask(reference: np.ndarray) -> np.ndarray:
    """The blank form's ink, widened by the registration tolerance (computed once per template)."""
    ink = (reference < 200).astype(np.uint8)
    k = 2 * ERASE_TOL_PX + 1
    return cv2.dilate(ink, np.ones((k, k), np.uint8)).astype(bool)


def _box(spec_box: tuple[float, float, float, float], dpi: float, shape: tuple[int, ...], margin_mm: float
         ) -> tuple[int, int, int, int]:
    k = dpi / 25.4
    x, y, w, h = spec_box
    x0 = max(0, round((x - margin_mm) * k))
    y0 = max(0, round((y - margin_mm) * k))
    x1 = min(shape[1], round((x + w + margin_mm) * k))
    y1 = min(shape[0], round((y + h + margin_mm) * k))
    return x0, y0, x1, y1


def writing(aligned: np.ndarray, printed: np.ndarray, box: tuple[int, int, int, int], threshold: int,
            dpi: float, keep_marks: bool = False) -> np.ndarray:
    """Boolean ink mask of the handwriting inside ``box`` (page px), printed form and specks removed.
    ``keep_marks``: a blob too small to be writing is kept where it nearly touches writing (the two strokes of a
    ゛ are each about a speck's size: dropped, ベ reads as ヘ). Not for digit fields, where a speck beside a digit
    would be taken for a separator."""
    x0, y0, x1, y1 = box
    grey = aligned[y0:y1, x0:x1]
    ink = (grey < threshold) & ~printed[y0:y1, x0:x1]
    u8 = ink.astype(np.uint8)
    # form lines that registration error left behind span (nearly) the whole box; handwriting does not
    h, w = u8.shape
    lines = cv2.morphologyEx(u8, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(0.7 * w)), 1)))
    lines |= cv2.morphologyEx(u8, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(3, int(0.7 * h)))))
    u8 &= 1 - lines
    min_px = MIN_SPECK_MM2 * (dpi / 25.4) ** 2
    count, labels, stats, _ = cv2.connectedComponentsWithStats(u8, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_px
    if keep_marks and keep.any():
        small = np.flatnonzero(~keep & (stats[:, cv2.CC_STAT_AREA] >= MIN_MARK_PX))[1:]  # [0]: the background
        if len(small):
            near = max(1, round(MARK_NEAR_MM * dpi / 25.4))
            reach = cv2.dilate(keep[labels].astype(np.uint8), np.ones((2 * near + 1, 2 * near + 1), np.uint8))
            keep[np.intersect1d(small, labels[reach > 0])] = True
    return keep[labels]


def _render(aligned: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int], dpi: float) -> np.ndarray:
    """The writing's grey pixels on white, trimmed to the ink with a small white border."""
    x0, y0, x1, y1 = box
    grey = aligned[y0:y1, x0:x1]
    soft = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    out = np.where(soft, grey, 255).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return np.full((8, 8), 255, np.uint8)
    pad = max(2, round(dpi / 25.4))
    out = out[max(0, ys.min() - pad):ys.max() + pad + 1, max(0, xs.min() - pad):xs.max() + pad + 1]
    # the recogniser expects a little white around a line of text
    return cv2.copyMakeBorder(out, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)


def crop_field(aligned: np.ndarray, printed: np.ndarray, spec: FieldSpec, dpi: float, threshold: int
               ) -> FieldCrop:
    """Cut one text-like field out of an aligned page."""
    box = _box(spec.box_mm, dpi, aligned.shape, MARGIN_MM)
    mask = writing(aligned, printed, box, threshold, dpi, keep_marks=spec.type.value in TEXT_TYPES)
    ink_mm2 = float(mask.sum()) / (dpi / 25.4) ** 2
    empty = ink_mm2 < EMPTY_INK_MM2
    image = _render(aligned, mask, box, dpi)
    cells: tuple[np.ndarray | None, ...] = ()
    if spec.comb and not empty:
        cells = tuple(_comb_cells(aligned, mask, box, spec, dpi))
    return FieldCrop(spec.name, image, empty, round(ink_mm2, 2), cells)


def _comb_cells(aligned: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int], spec: FieldSpec,
                dpi: float) -> list[np.ndarray | None]:
    """Split a comb field's writing into its printed boxes: each ink blob goes to the box its centre is in, and a
    small fragment goes with the nearest big blob, so a digit that overshoots its divider stays whole."""
    k = dpi / 25.4
    x, _, w, _ = spec.box_mm
    n = int(spec.comb or 1)
    edges = [(x + w * i / n) * k - box[0] for i in range(n + 1)]
    # erasing a printed divider cuts a stroke that crosses it: a small fragment next to a big blob belongs
    # to that blob (a digit overshooting its box), wherever the fragment's centre lies
    count, labels, stats, cents = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    area = stats[:, cv2.CC_STAT_AREA]
    owner = np.zeros(count, dtype=int)
    for i in range(1, count):
        owner[i] = int(np.clip(np.searchsorted(edges, cents[i][0]) - 1, 0, n - 1))
    big = area[1:].max() if count > 1 else 0
    for i in range(1, count):
        if area[i] >= 0.15 * big:
            continue
        piece = (labels == i).astype(np.uint8)
        for reach in (5, 9, 13, 17):  # the nearest big blob within ~1 mm
            near = cv2.dilate(piece, np.ones((reach, reach), np.uint8)).astype(bool)
            touching = [j for j in np.unique(labels[near]) if j not in (0, i) and area[j] >= 0.15 * big]
            if touching:
                owner[i] = owner[max(touching, key=lambda j: area[j])]
                break
    cells: list[np.ndarray | None] = []
    min_ink = EMPTY_INK_MM2 * k * k / 3
    for j in range(n):
        ids = [i for i in range(1, count) if owner[i] == j]
        cell = np.isin(labels, ids) if ids else np.zeros_like(mask)
        if cell.sum() < min_ink:
            cells.append(None)
            continue
        cells.append(_render(aligned, cell, box, dpi))
    return cells


COMB_LINE_GAP = 0.35    # space between characters of a comb field set in one line, in line heights


def comb_line(cells: list[np.ndarray]) -> np.ndarray:
    """A comb field's filled boxes set side by side as one line of writing: each box's ink trimmed, centred on
    a common height, ``COMB_LINE_GAP`` apart, with a white margin. The recogniser reads a line of digits far
    better than digits one by one (on calib forms: 99.0 % of digits against 93.6 %)."""
    inks = []
    for cell in cells:
        ys, xs = np.nonzero(cell < 160)
        inks.append(cell[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if len(xs) else cell)
    h = max(c.shape[0] for c in inks)
    gap = max(1, int(h * COMB_LINE_GAP))
    parts = []
    for c in inks:
        canvas = np.full((h, c.shape[1]), 255, np.uint8)
        y0 = (h - c.shape[0]) // 2
        canvas[y0:y0 + c.shape[0]] = c
        parts += [canvas, np.full((h, gap), 255, np.uint8)]
    line = np.concatenate(parts[:-1], axis=1)
    return cv2.copyMakeBorder(line, gap, gap, gap, gap, cv2.BORDER_CONSTANT, value=255)


def crop_fields(aligned: np.ndarray, printed: np.ndarray, template: Template, page: int = 1
                ) -> dict[str, FieldCrop]:
    """Crops of every text-like (non-mark) field on one page of the form."""
    dpi = float(template.reference_dpi)
    threshold = ink_threshold(aligned)
    return {f.name: crop_field(aligned, printed, f, dpi, threshold)
            for f in template.fields if not f.is_mark and f.page == page}
