"""A person's name is "family given" with one half-width space: the space the recogniser emitted, or a clearly
widest gap between characters, or else the name goes to a person — never a guessed split."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest

from kakitori.config import OcrConfig
from ocr.evidence import name_with_gap
from ocr.normalize import NO_NAME_GAP, normalise_name
from ocr.pipeline import OcrEngine
from ocr.recognize import Charset, Reading
from ocr.record import FieldStatus

from .conftest import TEMPLATES


@pytest.mark.parametrize("text, positions, expected", [
    ("井上 直人", (0.1, 0.3, 0.5, 0.6, 0.8), "井上 直人"),            # the recogniser emitted the space
    ("井上　直人", (0.1, 0.3, 0.5, 0.6, 0.8), "井上 直人"),           # a full-width one
    ("後藤千代", (0.10, 0.25, 0.55, 0.70), "後藤 千代"),              # no space, one gap twice the others
    ("佐々木一郎", (0.1, 0.2, 0.3, 0.55, 0.65), "佐々木 一郎"),
    ("後藤千代", (0.10, 0.30, 0.50, 0.70), "後藤千代"),               # even spacing: no gap to find
    ("後藤千代", (0.10, 0.30, 0.52, 0.70), "後藤千代"),               # a gap only a little wider: not clear
    ("森薫", (0.3, 0.7), "森 薫"),                                   # two characters split one way only
    ("山 田太 郎", (0.1, 0.15, 0.2, 0.5, 0.55, 0.6), "山田太郎"),     # two spaces, widest gap at neither
    ("後藤千代", (), "後藤千代"),                                      # no positions: nothing to measure
])
def test_family_and_given_name_are_split_only_at_a_clear_gap(text, positions, expected):
    assert name_with_gap(text, positions) == expected


def test_several_emitted_spaces_are_settled_by_the_widest_gap_among_them():
    # 林 加 奈 with the gap after 林 clearly widest: that space is the one between family and given name
    assert name_with_gap("林 加 奈", (0.1, 0.3, 0.5, 0.6, 0.65)) == "林 加奈"


def test_a_name_keeps_one_half_width_space_and_each_part_is_normalised():
    assert normalise_name("text", "山田　 太郎").value == "山田 太郎"
    assert normalise_name("katakana", "やまだ たろう").value == "ヤマダ タロウ"
    assert normalise_name("katakana", "ハヤシッ カナ").value == "ハヤシツ カナ"   # no small ッ at a part's end
    assert normalise_name("text", "山田太郎").value == "山田太郎"               # no gap: run together
    assert normalise_name("text", "山 田 太郎").value == "山田太郎"
    assert normalise_name("text", "").value == ""


class CannedRecognizer:
    """Reads every text field as ``reading`` and everything else as nothing: the name field's fate is then
    decided by the pipeline's name rule alone."""

    name = "canned"

    def __init__(self) -> None:
        self.reading = Reading("")

    def read(self, crops: Sequence[np.ndarray], charset: Charset | Sequence[Charset]) -> list[Reading]:
        charsets = [charset] * len(crops) if isinstance(charset, Charset) else list(charset)
        return [self.reading if cs.name == "text" else Reading("") for cs in charsets]


@pytest.fixture(scope="module")
def canned_engine():
    recognizer = CannedRecognizer()
    return OcrEngine(OcrConfig(templates_dirs=[TEMPLATES], save_crops=False), recognizer=recognizer), recognizer


def _sure(text: str, positions: tuple[float, ...]) -> Reading:
    return Reading(text, (0.9999,) * len(text), 0.0, "canned", positions)


def test_a_name_read_without_any_gap_goes_to_review_with_the_reason(canned_engine, generated):
    engine, recognizer = canned_engine
    recognizer.reading = _sure("山田太郎", (0.1, 0.3, 0.5, 0.7))
    (record,) = engine.read(generated("juminido", count=2, seed=5) / "0001.png")
    name = record.fields["name"]
    assert name.status is FieldStatus.NEEDS_REVIEW and NO_NAME_GAP in name.reason
    assert name.value == "山田太郎"


@pytest.mark.parametrize("text, positions", [
    ("山田 太郎", (0.1, 0.3, 0.45, 0.6, 0.8)),    # emitted space
    ("山田太郎", (0.1, 0.25, 0.6, 0.75)),          # clear gap
])
def test_a_name_with_its_gap_is_accepted_as_family_space_given(canned_engine, generated, text, positions):
    engine, recognizer = canned_engine
    recognizer.reading = _sure(text, positions)
    (record,) = engine.read(generated("juminido", count=2, seed=5) / "0001.png")
    name = record.fields["name"]
    assert name.status is FieldStatus.ACCEPTED and name.value == "山田 太郎", name.reason
    assert name.raw_text == text


@pytest.mark.integration
def test_real_model_names_that_pass_are_split_exactly_where_the_writer_left_the_gap(engine, generated):
    folder = generated("juminido", count=3, seed=12)
    names = [f.name for f in engine.templates["juminido"].fields if f.person_name]
    seen = 0
    for line in map(json.loads, (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines()):
        (record,) = engine.read(folder / line["file"])
        for n in names:
            f, truth = record.fields[n], line["fields"][n]
            if not truth:
                continue
            seen += 1
            if f.status is FieldStatus.ACCEPTED:
                assert f.value == truth, n            # the space exactly where the writer left it
            if f.value and " " not in f.value:
                assert f.status is not FieldStatus.ACCEPTED and (NO_NAME_GAP in f.reason
                                                                or f.status is FieldStatus.INVALID), n
    assert seen >= 6


@pytest.mark.integration
def test_born_digital_name_keeps_its_typed_space(engine, generated):
    folder = generated("juminido", count=1, seed=9, born_digital=True, format="pdf")
    (line,) = [json.loads(x) for x in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    (record,) = engine.read(folder / line["file"])
    assert record.fields["name"].value == line["fields"]["name"] and " " in line["fields"]["name"]
    assert record.fields["name"].status is FieldStatus.ACCEPTED


def _blocks(widths_between: list[int], block: int = 20, height: int = 30) -> np.ndarray:
    """A white crop with black blocks (characters) separated by the given blank widths (px)."""
    width = block * (len(widths_between) + 1) + sum(widths_between) + 20
    image = np.full((height, width), 255, np.uint8)
    x = 10
    for gap in [*widths_between, 0]:
        image[5:25, x:x + block] = 0
        x += block + gap
    return image


def test_a_gap_only_slightly_widest_counts_when_the_ink_has_its_widest_blank_there_too():
    text, positions = "ヤマダタロウ", (0.10, 0.25, 0.40, 0.565, 0.715, 0.865)   # widest gap only 1.1×
    assert name_with_gap(text, positions) == "ヤマダタロウ"
    blank_there = _blocks([6, 6, 14, 6, 6])          # widest ink-free stretch after ダ
    assert name_with_gap(text, positions, blank_there) == "ヤマダ タロウ"
    blank_elsewhere = _blocks([14, 6, 6, 6, 6])      # after ヤ: the two pieces of evidence disagree
    assert name_with_gap(text, positions, blank_elsewhere) == "ヤマダタロウ"
    even = (0.10, 0.25, 0.40, 0.55, 0.70, 0.85)      # no single widest gap: the ink alone never decides
    assert name_with_gap(text, even, blank_there) == "ヤマダタロウ"
