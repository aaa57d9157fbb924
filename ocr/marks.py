"""Checkboxes and circled choices, read by ink density on the aligned page (no model).

The printed form is erased first (see ``crop.printed_mask``), so only the writer's ink is counted. A checkbox
is ticked when enough of its inside is inked; a choice is the option with clearly the most new ink around its
printed label (where the ○ is drawn). Each reading carries a confidence in 0..1 that says how far it is from
the decision boundary; the trust rule sends the doubtful ones to a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocr.template import FieldSpec

TICK_ON = 0.06          # inked fraction of a checkbox's inside above which it is ticked
TICK_OFF = 0.015        # ...and under which it is surely empty; in between: ask a person
CIRCLE_MARGIN_MM = 3.0  # the ○ around an option label lies within this margin of the label's box
CIRCLE_MIN_MM2 = 4.0    # less new ink than this around every option: nothing chosen


@dataclass(frozen=True)
class MarkReading:
    value: bool | str           # checkbox: True/False; choice: the option value, "" when none is circled
    confidence: float
    evidence: str               # a short why, for reviewers: "inked 23%", "tennyu 41 mm² vs 3 mm²"


def _ink(aligned: np.ndarray, printed: np.ndarray, box: tuple[float, float, float, float], dpi: float,
         threshold: int, margin_mm: float = 0.0) -> tuple[int, int]:
    """(ink pixels, total pixels) of the writer's ink inside a box (mm) grown by ``margin_mm``."""
    k = dpi / 25.4
    x, y, w, h = box
    x0, y0 = max(0, round((x - margin_mm) * k)), max(0, round((y - margin_mm) * k))
    x1 = min(aligned.shape[1], round((x + w + margin_mm) * k))
    y1 = min(aligned.shape[0], round((y + h + margin_mm) * k))
    ink = (aligned[y0:y1, x0:x1] < threshold) & ~printed[y0:y1, x0:x1]
    return int(ink.sum()), max(1, ink.size)


def read_checkbox(aligned: np.ndarray, printed: np.ndarray, spec: FieldSpec, dpi: float, threshold: int
                  ) -> MarkReading:
    x, y, w, h = spec.box_mm
    inset = 0.12
    inner = (x + w * inset, y + h * inset, w * (1 - 2 * inset), h * (1 - 2 * inset))
    ink, total = _ink(aligned, printed, inner, dpi, threshold)
    frac = ink / total
    if frac >= TICK_ON:
        conf = min(1.0, 0.5 + 0.5 * (frac - TICK_ON) / TICK_ON)
        return MarkReading(True, round(conf, 3), f"inked {frac:.0%}")
    if frac <= TICK_OFF:
        conf = min(1.0, 0.5 + 0.5 * (TICK_OFF - frac) / TICK_OFF)
        return MarkReading(False, round(conf, 3), f"inked {frac:.1%}")
    return MarkReading(frac >= (TICK_ON + TICK_OFF) / 2, 0.3, f"faint mark ({frac:.1%} inked)")


def read_choice(aligned: np.ndarray, printed: np.ndarray, spec: FieldSpec, dpi: float, threshold: int
                ) -> MarkReading:
    mm2 = (25.4 / dpi) ** 2
    inks = [_ink(aligned, printed, o.box_mm, dpi, threshold, CIRCLE_MARGIN_MM)[0] * mm2 for o in spec.options]
    order = np.argsort(inks)[::-1]
    first, second = inks[order[0]], inks[order[1]]
    top = spec.options[order[0]].value
    evidence = f"{top} {first:.0f} mm² vs {second:.0f} mm²"
    if first < CIRCLE_MIN_MM2:
        return MarkReading("", min(1.0, 0.5 + 0.5 * (CIRCLE_MIN_MM2 - first) / CIRCLE_MIN_MM2), "nothing circled")
    ratio = second / first
    # one clear ○: the runner-up has at most a third of the ink (stray strokes); two circles: ask a person
    conf = float(np.clip(1.0 - ratio * 1.5, 0.0, 1.0))
    return MarkReading(top, round(conf, 3), evidence)
