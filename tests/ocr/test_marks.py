"""Checkboxes and circled choices are read by ink density, with a confidence."""

from __future__ import annotations

import cv2
import numpy as np

from ocr.crop import printed_mask
from ocr.marks import read_checkbox, read_choice
from ocr.template import FieldSpec, FieldType, Option

DPI = 200.0
K = DPI / 25.4


def _px(mm: float) -> int:
    return round(mm * K)


def _checkbox():
    ref = np.full((_px(30), _px(30)), 255, np.uint8)
    cv2.rectangle(ref, (_px(10), _px(10)), (_px(14.5), _px(14.5)), 0, 2)
    return ref, FieldSpec("national_health", "国保", FieldType.CHECKBOX, (10, 10, 4.5, 4.5))


def test_ticked_checkbox_reads_true_with_confidence():
    ref, spec = _checkbox()
    page = ref.copy()
    cv2.line(page, (_px(10.8), _px(12.5)), (_px(12), _px(14)), 20, 4)
    cv2.line(page, (_px(12), _px(14)), (_px(14), _px(10.5)), 20, 4)
    m = read_checkbox(page, printed_mask(ref), spec, DPI, 128)
    assert m.value is True and m.confidence >= 0.5


def test_empty_checkbox_reads_false_even_with_its_printed_border():
    ref, spec = _checkbox()
    m = read_checkbox(np.roll(ref, 1, axis=1), printed_mask(ref), spec, DPI, 128)
    assert m.value is False and m.confidence >= 0.9


def test_small_stray_mark_in_a_checkbox_is_low_confidence():
    ref, spec = _checkbox()
    page = ref.copy()
    cv2.line(page, (_px(11.8), _px(12)), (_px(12.4), _px(12.2)), 20, 3)
    m = read_checkbox(page, printed_mask(ref), spec, DPI, 128)
    assert m.confidence < 0.5


def _choice():
    ref = np.full((_px(30), _px(80)), 255, np.uint8)
    options = []
    for i, (value, x) in enumerate((("tennyu", 10), ("tenkyo", 30), ("tenshutsu", 50))):
        cv2.putText(ref, "AB", (_px(x), _px(16)), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
        options.append(Option(value, value, (x, 10.0, 8.8, 7.0)))
    return ref, FieldSpec("reason", "異動の種別", FieldType.CHOICE, (5, 5, 70, 15), options=tuple(options))


def _circle(page: np.ndarray, x: float) -> None:
    cv2.ellipse(page, (_px(x + 4.4), _px(13.5)), (_px(6.5), _px(5)), 0, 0, 360, 20, 3)


def test_circled_option_is_the_choice():
    ref, spec = _choice()
    page = ref.copy()
    _circle(page, 30)
    m = read_choice(page, printed_mask(ref), spec, DPI, 128)
    assert m.value == "tenkyo" and m.confidence >= 0.5


def test_no_circle_is_an_empty_choice():
    ref, spec = _choice()
    assert read_choice(ref.copy(), printed_mask(ref), spec, DPI, 128).value == ""


def test_two_circles_are_not_trusted():
    ref, spec = _choice()
    page = ref.copy()
    _circle(page, 10)
    _circle(page, 50)
    assert read_choice(page, printed_mask(ref), spec, DPI, 128).confidence < 0.5
