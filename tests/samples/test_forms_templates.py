"""The three sample forms: their templates load, agree with the drawing code, and put boxes where the ink goes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocr.template import FieldType, load_template
from samples.forms.designs import DESIGNS
from samples.forms.reference import TEMPLATES_DIR, write_template

NAMES = sorted(DESIGNS)

JUMINIDO_SPEC = {
    "filing_date": "date", "reason": "choice", "moved_on": "date", "name": "text", "name_kana": "katakana",
    "birth_date": "date", "sex": "choice", "postal_code": "postal", "address": "text", "prev_address": "text",
    "phone": "phone", "individual_number": "individual_number", "head_of_household": "text",
    "relationship": "choice", "national_health": "checkbox", "keep_card": "checkbox",
}


def px(box, dpi=200):
    k = dpi / 25.4
    x, y, w, h = box
    return round(x * k), round(y * k), round((x + w) * k), round((y + h) * k)


@pytest.mark.parametrize("name", NAMES)
def test_sample_template_loads_with_its_reference_image(name):
    t = load_template(TEMPLATES_DIR / f"{name}.yaml")
    assert t.name == name and t.page_mm == (210.0, 297.0) and t.reference_dpi == 200
    with Image.open(t.reference) as img:
        assert img.size == (1654, 2339)
    assert 12 <= len(t.fields) <= 20
    types = {f.type for f in t.fields}
    assert {FieldType.DATE, FieldType.KATAKANA, FieldType.TEXT, FieldType.CHECKBOX, FieldType.CHOICE} <= types
    assert any(f.comb for f in t.fields)
    assert types & {FieldType.DIGITS, FieldType.POSTAL, FieldType.INDIVIDUAL_NUMBER}
    for f in t.fields:
        x, y, w, h = f.box_mm
        assert 14 < x and x + w < 196 and 14 < y and y + h < 283, f.name  # inside the corner marks
    assert len(t.extra["corner_marks_mm"]) == 4


def test_juminido_has_exactly_the_field_names_and_types_of_the_spec():
    t = load_template(TEMPLATES_DIR / "juminido.yaml")
    assert {f.name: f.type.value for f in t.fields} == JUMINIDO_SPEC
    assert t.field("postal_code").comb == 7 and t.field("individual_number").comb == 12
    assert [o.value for o in t.field("reason").options] == ["tennyu", "tenkyo", "tenshutsu"]
    assert [o.value for o in t.field("relationship").options] == ["self", "spouse", "child", "other"]
    assert {(r.rule, r.fields) for r in t.rules} == {("before", ("birth_date", "filing_date")),
                                                     ("before", ("moved_on", "filing_date"))}


PERSON_NAMES = {
    "juminido": {"name", "name_kana", "head_of_household"},
    "jidoteate": {"claimant_name", "claimant_kana", "spouse_name", "child_name", "child_kana"},
    "inkan": {"name", "name_kana", "guarantor_name", "agent_name"},
}


@pytest.mark.parametrize("name", NAMES)
def test_every_person_name_field_is_marked_and_nothing_else(name):
    t = load_template(TEMPLATES_DIR / f"{name}.yaml")
    assert {f.name for f in t.fields if f.person_name} == PERSON_NAMES[name]


def test_jidoteate_has_an_amount_field():
    t = load_template(TEMPLATES_DIR / "jidoteate.yaml")
    assert any(f.type is FieldType.AMOUNT for f in t.fields)


@pytest.mark.parametrize("name", NAMES)
def test_committed_template_and_image_are_what_the_layout_code_draws(name, tmp_path):
    fresh = write_template(name, tmp_path)
    assert (tmp_path / f"{name}.yaml").read_text(encoding="utf-8") == \
        (TEMPLATES_DIR / f"{name}.yaml").read_text(encoding="utf-8"), "run `kakitori samples templates`"
    a = np.asarray(Image.open(fresh.reference).convert("L"), np.int16)
    b = np.asarray(Image.open(TEMPLATES_DIR / f"{name}.png").convert("L"), np.int16)
    assert a.shape == b.shape
    assert (np.abs(a - b) > 96).mean() < 0.0005  # tolerate anti-aliasing of another FreeType, not a moved line


@pytest.mark.parametrize("name", NAMES)
def test_writing_areas_are_clear_of_printed_lines_and_options_hold_their_labels(name):
    t = load_template(TEMPLATES_DIR / f"{name}.yaml")
    page = np.asarray(Image.open(t.reference).convert("L"))
    for f in t.fields:
        x0, y0, x1, y1 = px(f.box_mm)
        if f.type is FieldType.CHOICE:
            for o in f.options:
                ox0, oy0, ox1, oy1 = px(o.box_mm)
                assert (page[oy0:oy1, ox0:ox1] < 128).sum() > 20, (f.name, o.value)
        elif f.comb:
            cw = (x1 - x0) / f.comb
            for i in range(f.comb):  # each comb box: ink only on its printed divider lines
                inner = page[y0 + 3:y1 - 3, round(x0 + i * cw) + 3:round(x0 + (i + 1) * cw) - 3]
                assert (inner < 128).sum() == 0, (f.name, i)
        elif f.type is FieldType.CHECKBOX:
            assert (page[y0 + 2:y1 - 2, x0 + 2:x1 - 2] < 128).sum() == 0, f.name
            assert (page[y0 - 1:y0 + 2, x0:x1] < 128).sum() > 0, f.name  # the printed square's edge
        else:
            assert (page[y0 + 1:y1 - 1, x0 + 1:x1 - 1] < 128).sum() == 0, f.name


def test_corner_marks_are_black_squares_where_the_template_says():
    t = load_template(TEMPLATES_DIR / "juminido.yaml")
    page = np.asarray(Image.open(t.reference).convert("L"))
    for box in t.extra["corner_marks_mm"]:
        x0, y0, x1, y1 = px(box)
        assert page[y0 + 2:y1 - 2, x0 + 2:x1 - 2].max() < 60
        assert page[y0 - 6:y0 - 3, x0:x1].min() > 200  # white paper around it


def test_templates_command_writes_all_three(tmp_path, capsys):
    from kakitori.cli import run

    assert run(["samples", "templates", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == sorted(
        [f"{n}.yaml" for n in NAMES] + [f"{n}.png" for n in NAMES])
