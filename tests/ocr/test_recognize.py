"""The PP-OCR recogniser run through onnxruntime: charset-constrained decoding, per-character probabilities,
and no network, ever."""

from __future__ import annotations

import socket
import sys

import numpy as np
import pytest

from ocr.crop import comb_line
from ocr.recognize import CHARSETS, PPOCRRecognizer, charset_for

from .conftest import text_line


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection or resolve a name fails, as in the city's closed network."""

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def recognizer():
    return PPOCRRecognizer(threads=2)


@pytest.mark.integration
def test_reads_handwriting_style_text_with_per_character_probabilities(recognizer):
    r = recognizer.read([text_line("山田太郎")], charset_for("text"))[0]
    assert r.text == "山田太郎"
    assert len(r.char_probs) == len(r.positions) == len(r.candidates) == 4
    assert all(0.0 <= p <= 1.0 for p in r.char_probs)
    assert list(r.positions) == sorted(r.positions)


@pytest.mark.integration
def test_a_comb_field_s_boxes_read_as_one_line_come_back_box_by_box(recognizer):
    boxes = [text_line(d, size=48) for d in "8328555"]
    line = recognizer.read([comb_line(boxes)], CHARSETS["digits"])[0]
    assert line.text == "8328555"
    per_box = line.characters()
    assert [r.text for r in per_box] == list("8328555")
    assert all(len(r.char_probs) == 1 and r.candidates and r.candidates[0][0][0] == r.text for r in per_box)


@pytest.mark.integration
def test_reading_keeps_what_it_nearly_read_in_each_space_between_characters(recognizer):
    r = recognizer.read([text_line("令和6年4月1日")], CHARSETS["date"])[0]
    assert len(r.between) == len(r.text) + 1
    assert all(0.0 <= p <= 1.0 and (ch == "" or CHARSETS["date"].allows(ch)) for ch, p in r.between)
    assert max(p for _, p in r.between) < 0.5  # a clean line: nothing was nearly read and then dropped


@pytest.mark.integration
def test_digit_field_cannot_read_letters_or_kanji(recognizer):
    crop = text_line("12日O5")
    free = recognizer.read([crop], CHARSETS["any"])[0]
    digits = recognizer.read([crop], CHARSETS["digits"])[0]
    assert not set(free.text) <= set("0123456789")
    assert set(digits.text) <= set("0123456789") and digits.text
    assert digits.rejected_mass > 0.1  # the model wanted other characters: evidence against trusting it


@pytest.mark.integration
def test_a_digit_seen_as_a_look_alike_letter_is_not_held_against_the_reading(recognizer):
    def frames(*wanted):  # one frame per (character, probability, runner-up digit), a blank between
        probs = np.zeros((2 * len(wanted), len(recognizer.classes)), np.float32)
        for t, (ch, p, digit) in enumerate(wanted):
            probs[2 * t, recognizer.classes.index(ch)] = p
            probs[2 * t, recognizer.classes.index(digit)] = 1 - p
            probs[2 * t + 1, 0] = 1.0
        return probs

    seven = recognizer.decode(frames((">", 0.9, "7"), ("S", 0.8, "5")), CHARSETS["digits"])
    assert seven.text == "75" and seven.rejected_mass < 0.01     # a 7 read as '>', a 5 as 'S'
    kanji = recognizer.decode(frames((">", 0.9, "7"), ("日", 0.8, "5")), CHARSETS["digits"])
    assert kanji.text == "75" and kanji.rejected_mass > 0.7      # a 日 in a digits field still counts
    assert recognizer.decode(frames((">", 0.9, "7"),), CHARSETS["katakana"]).rejected_mass > 0.8
    # a written hyphen seen as a dash in a phone number, 令 seen as 命 in a date: not held against them
    assert recognizer.decode(frames(("0", 0.9, "9"), ("–", 0.6, "-")), CHARSETS["phone"]).rejected_mass < 0.01
    assert recognizer.decode(frames(("命", 0.7, "令"), ("和", 0.9, "1")), CHARSETS["date"]).rejected_mass < 0.01
    assert recognizer.decode(frames(("命", 0.7, "令"),), CHARSETS["text"]).text == "命"


@pytest.mark.integration
def test_full_width_and_ascii_digits_are_one_character(recognizer):
    r = recognizer.read([text_line("０９４４-７３")], CHARSETS["phone"])[0]
    assert r.text == "0944-73"


@pytest.mark.integration
def test_batched_crops_read_like_single_crops(recognizer):
    crops = [text_line("令和6年4月1日"), text_line("0944"), text_line("福岡県久留米市東町"), text_line("カトウ")]
    sets = [CHARSETS["date"], CHARSETS["digits"], charset_for("text"), CHARSETS["katakana"]]
    batched = [r.text for r in recognizer.read(crops, sets)]
    single = [recognizer.read([c], s)[0].text for c, s in zip(crops, sets)]
    assert batched == single == ["令和6年4月1日", "0944", "福岡県久留米市東町", "カトウ"]


@pytest.mark.integration
def test_model_loads_and_reads_with_the_network_unreachable(no_network, generated, engine):
    folder = generated("juminido", count=1, seed=21)
    fresh = PPOCRRecognizer(threads=1)  # loading the model must not reach for a hub
    assert fresh.read([text_line("0944")], CHARSETS["digits"])[0].text == "0944"
    records = engine.read(folder / "0001.png")
    assert records and records[0].registration_score > 0.5
    assert "rapidocr.main" not in sys.modules  # rapidocr's own engine (which can download) is never loaded
