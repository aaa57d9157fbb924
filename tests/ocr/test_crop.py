"""Cropping: the printed form is erased, comb boxes are split, empty fields are recognised as empty."""

from __future__ import annotations

import cv2
import numpy as np

from ocr.crop import comb_line, crop_field, printed_mask, writing
from ocr.template import FieldSpec, FieldType

DPI = 200.0
K = DPI / 25.4


def _px(mm: float) -> int:
    return round(mm * K)


def _comb_form(n: int = 7, x: float = 20.0, y: float = 20.0, w: float = 52.5, h: float = 10.0):
    """A blank page with one comb field of ``n`` boxes, its border and dividers printed."""
    ref = np.full((_px(60), _px(100)), 255, np.uint8)
    cv2.rectangle(ref, (_px(x), _px(y)), (_px(x + w), _px(y + h)), 0, 2)
    for i in range(1, n):
        xi = _px(x + w * i / n)
        cv2.line(ref, (xi, _px(y)), (xi, _px(y + h)), 0, 1)
    spec = FieldSpec("postal_code", "郵便番号", FieldType.POSTAL, (x, y, w, h), comb=n)
    return ref, spec


def _write_blob(page: np.ndarray, cx_mm: float, cy_mm: float, tall_mm: float = 6.0) -> None:
    """A handwritten-ish stroke: an ellipse outline, like a '0'."""
    cv2.ellipse(page, (_px(cx_mm), _px(cy_mm)), (_px(tall_mm / 3), _px(tall_mm / 2)), 0, 0, 360, 30, 3)


def test_comb_split_puts_each_character_in_its_box():
    ref, spec = _comb_form()
    page = ref.copy()
    filled = [0, 1, 2, 4, 6]
    for i in filled:
        _write_blob(page, 20 + 52.5 / 7 * (i + 0.5), 25)
    crop = crop_field(page, printed_mask(ref), spec, DPI, 128)
    assert not crop.empty
    assert [c is not None for c in crop.cells] == [i in filled for i in range(7)]


def test_character_overshooting_its_divider_stays_whole():
    ref, spec = _comb_form()
    page = ref.copy()
    # a wide character centred in box 3 whose right edge crosses into box 4
    cv2.ellipse(page, (_px(20 + 52.5 / 7 * 3.6), _px(25)), (_px(3.4), _px(3)), 0, 0, 360, 30, 3)
    crop = crop_field(page, printed_mask(ref), spec, DPI, 128)
    assert [c is not None for c in crop.cells] == [False, False, False, True, False, False, False]


def test_printed_border_and_dividers_alone_are_an_empty_field():
    ref, spec = _comb_form()
    shifted = np.roll(ref, (1, 1), axis=(0, 1))  # a registration error of one pixel
    crop = crop_field(shifted, printed_mask(ref), spec, DPI, 128)
    assert crop.empty and crop.ink_mm2 < 1.0


def test_field_crop_is_trimmed_to_the_writing():
    ref = np.full((_px(40), _px(120)), 255, np.uint8)
    cv2.rectangle(ref, (_px(10), _px(10)), (_px(110), _px(25)), 0, 2)
    spec = FieldSpec("name", "氏名", FieldType.TEXT, (10, 10, 100, 15))
    page = ref.copy()
    _write_blob(page, 30, 17.5)
    crop = crop_field(page, printed_mask(ref), spec, DPI, 128)
    assert not crop.empty
    h, w = crop.image.shape
    assert w < _px(15) and h < _px(12)           # the writing, not the whole 100 mm cell
    assert (crop.image[:, :2] == 255).all()      # no border line left at the edge


def test_scanner_specks_are_not_writing():
    ref = np.full((_px(40), _px(120)), 255, np.uint8)
    spec = FieldSpec("name", "氏名", FieldType.TEXT, (10, 10, 100, 15))
    page = ref.copy()
    rng = np.random.default_rng(0)
    ys, xs = rng.integers(_px(10), _px(25), 40), rng.integers(_px(10), _px(110), 40)
    page[ys, xs] = 0
    assert crop_field(page, printed_mask(ref), spec, DPI, 128).empty


def test_a_voicing_mark_beside_writing_is_kept_in_text_fields_only():
    # a kana's body and, at its top right, the two short strokes of a ゛ (each smaller than a speck), and a
    # speck of the same size far from any writing
    ref = np.full((_px(40), _px(120)), 255, np.uint8)
    page = ref.copy()
    cv2.ellipse(page, (_px(30), _px(20)), (_px(2), _px(3)), 0, 0, 360, 30, 3)
    for x in (31.2, 31.6):
        page[_px(16.6):_px(16.6) + 2, _px(x):_px(x) + 2] = 40
    page[_px(20):_px(20) + 2, _px(90):_px(90) + 2] = 40
    printed = printed_mask(ref)
    box = (0, 0, page.shape[1], page.shape[0])
    text = writing(page, printed, box, 128, DPI, keep_marks=True)
    assert text[_px(16.6), _px(31.2)] and text[_px(16.6), _px(31.6)]   # both strokes of the mark kept
    assert not text[_px(20), _px(90)]                                  # the lone speck is still noise
    digits = writing(page, printed, box, 128, DPI)
    assert not digits[_px(16.6), _px(31.2)] and digits[_px(23), _px(30)]
    kana = FieldSpec("name_kana", "フリガナ", FieldType.KATAKANA, (10, 10, 100, 15))
    postal = FieldSpec("postal_code", "郵便番号", FieldType.POSTAL, (10, 10, 100, 15))
    assert _ink(crop_field(page, printed, kana, DPI, 128).image) > _ink(crop_field(page, printed, postal, DPI, 128).image)


def _ink(a: np.ndarray) -> int:
    return int((a < 160).sum())


def test_comb_boxes_are_set_in_one_line_of_their_ink():
    small = np.full((30, 20), 255, np.uint8)
    cv2.circle(small, (10, 15), 6, 0, 2)
    tall = np.full((60, 30), 255, np.uint8)
    cv2.line(tall, (15, 5), (15, 50), 0, 3)
    line = comb_line([small, tall, small])
    assert _ink(line) == 2 * _ink(small) + _ink(tall)          # every box's ink, nothing else
    assert line.shape[0] < 60 + 2 * 20                      # the tallest box's ink with a margin
    cols = np.flatnonzero((line < 160).any(axis=0))
    runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    assert len(runs) == 3                                   # three characters, apart
