"""The second digit reader: segmentation, the shipped classifier, and how its agreement becomes evidence."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocr.crop import FieldCrop
from ocr.digits import DigitClassifier, DigitCNN, normalise_digit, segment
from ocr.evidence import comb_evidence, string_evidence
from ocr.recognize import Reading

from .conftest import MNIST, text_line


def _line(text: str) -> np.ndarray:
    return text_line(text, size=48)


class FakeClassifier:
    """Says what it is told, per crop, in order."""

    def __init__(self, digits: list[int], p: float = 0.99):
        self.digits, self.p = list(digits), p

    def proba(self, crops):
        out = np.full((len(crops), 10), (1 - self.p) / 9)
        for i in range(len(crops)):
            out[i, self.digits.pop(0)] = self.p
        return out


def _reading(text: str, p: float = 0.99, positions=None) -> Reading:
    n = len(text)
    return Reading(text, (p,) * n, 0.0, "fake", tuple(positions or [(i + 0.5) / n for i in range(n)]),
                   tuple(((ch, p),) for ch in text))


def test_segmentation_finds_digits_and_hyphens_left_to_right():
    glyphs = segment(_line("0944-73"))
    assert [g.separator for g in glyphs] == [False] * 4 + [True] + [False] * 2
    assert [g.x for g in glyphs] == sorted(g.x for g in glyphs)


def test_a_hyphen_touching_a_digit_is_cut_off_it():
    line = _line("3  8").copy()
    ys, xs = np.nonzero(line < 160)
    eight_x = int(xs[xs > xs.mean()].min())                 # the 8's left edge
    mid = int((ys.min() + ys.max()) / 2)
    cv2.line(line, (eight_x - 22, mid), (eight_x + 2, mid), 0, 3)   # a hyphen drawn on, touching the 8
    glyphs = segment(line)
    assert [g.separator for g in glyphs] == [False, True, False]
    assert glyphs[2].x >= eight_x - 3                        # the 8 alone, not the 8 with a tail
    model = DigitClassifier.load()
    assert int(model.proba([glyphs[2].image])[0].argmax()) == 8


def test_a_digit_s_own_strokes_are_not_cut_as_a_hyphen():
    for text in ("2", "4", "7", "5"):
        line = _line(f"1{text}1")
        assert [g.separator for g in segment(line)] == [False, False, False], text


def test_normalised_digit_is_mnist_like():
    d = normalise_digit(_line("7"))
    assert d.shape == (28, 28) and d.max() == pytest.approx(1.0)
    ys, xs = np.nonzero(d > 0.2)
    assert 18 <= ys.max() - ys.min() <= 21     # the longer side scaled to 20 px, as in MNIST
    assert abs(xs.mean() - 14) < 3              # centred by mass


def test_shipped_classifier_reads_font_digits():
    model = DigitClassifier.load()
    crops = [g.image for g in segment(_line("0123456789"))]
    assert "".join(str(int(p.argmax())) for p in model.proba(crops)) == "0123456789"


@pytest.mark.skipif(not MNIST.exists(), reason="needs ../shared/data/mnist-dev (absent on a user's machine)")
def test_shipped_classifier_reads_handwritten_digits_it_was_not_trained_on():
    data = np.load(MNIST)
    images, labels = data["images"][3000:3500], data["labels"][3000:3500]  # calib split, not train
    grey = [255 - np.kron(im, np.ones((2, 2), np.uint8)) for im in images]
    acc = (DigitClassifier.load().proba(grey).argmax(1) == labels).mean()
    assert acc >= 0.975


@pytest.mark.skipif(not MNIST.exists(), reason="needs ../shared/data/mnist-dev (absent on a user's machine)")
def test_cnn_reads_handwritten_digits_better_than_the_perceptrons_alone():
    data = np.load(MNIST)
    images, labels = data["images"][3000:4000], data["labels"][3000:4000]  # calib split, not train
    digits = np.stack([normalise_digit(255 - np.kron(im, np.ones((2, 2), np.uint8))) for im in images])
    cnn = DigitCNN().proba_normalised(digits)
    mlp = DigitClassifier.load(cnn_path=None).proba_normalised(digits)
    assert np.allclose(cnn.sum(axis=1), 1.0, atol=1e-4)
    assert (cnn.argmax(1) == labels).mean() > (mlp.argmax(1) == labels).mean()


def test_missing_cnn_weights_name_the_file(tmp_path):
    from kakitori.errors import ConfigError

    with pytest.raises(ConfigError, match="digits_cnn.onnx"):
        DigitCNN(tmp_path / "digits_cnn.onnx")


def test_comb_fields_agree_only_when_both_readers_read_every_box_alike():
    cells = [np.zeros((10, 10), np.uint8)] * 3 + [None]
    readings = [_reading(d) for d in "123"] + [None]
    agree = comb_evidence(cells, readings, FakeClassifier([1, 2, 3]))
    assert agree.text == "123" and agree.agree is True and agree.score > 0.7
    # the score rests on the weakest box: a classifier less sure of the boxes lowers it
    less_sure = comb_evidence(cells, readings, FakeClassifier([1, 2, 3], p=0.9))
    assert less_sure.agree is True and less_sure.score < agree.score
    differ = comb_evidence(cells, readings, FakeClassifier([1, 7, 3]))
    assert differ.agree is False
    skipped = comb_evidence([cells[0], None, cells[1]], [readings[0], None, readings[1]],
                            FakeClassifier([1, 2]))
    assert skipped.agree is False and "skipped" in skipped.note


def test_an_unsure_second_reader_does_not_confirm_even_the_same_digit():
    cells = [np.zeros((10, 10), np.uint8)] * 3
    readings = [_reading(d) for d in "149"]
    sure = comb_evidence(cells, readings, FakeClassifier([1, 4, 9], p=0.9))
    assert sure.agree is True
    unsure = comb_evidence(cells, readings, FakeClassifier([1, 4, 9], p=0.6))  # a 4 or a 9? it cannot say
    assert unsure.text == "149" and unsure.agree is False and "unsure" in unsure.note


def test_a_digit_the_recogniser_dropped_is_noticed_and_guessed_from_the_glyphs():
    crop = _line("0944-73")
    fc = FieldCrop("phone", crop, False, 10.0)
    glyphs = segment(crop)
    width = crop.shape[1]
    centres = [(g.x + (g.image.shape[1] - 4) / 2) / width for g in glyphs if not g.separator]
    full = string_evidence(fc, _reading("094473", positions=centres), FakeClassifier([0, 9, 4, 4, 7, 3]), True)
    assert full.agree is True and full.text == "094473"
    dropped = string_evidence(fc, _reading("09473", positions=centres[:3] + centres[4:]),
                              FakeClassifier([0, 9, 4, 4, 7, 3]), True)
    assert dropped.agree is False
    assert dropped.text == "094473"  # the classifier's reading of the six glyphs: a better guess, for review


def test_with_separators_in_the_run_the_glyph_reading_of_a_dropped_digit_is_the_fallback():
    crop = _line("0944-73")
    fc = FieldCrop("phone", crop, False, 10.0)
    glyphs = segment(crop)
    centres = [(g.x + g.width / 2) / crop.shape[1] for g in glyphs]   # 0 9 4 4 - 7 3
    dropped = string_evidence(fc, _reading("094-73", positions=centres[:3] + centres[4:]),
                              FakeClassifier([0, 9, 4, 4, 7, 3]), True)
    assert dropped.agree is False
    assert dropped.text == "094-73"       # a separator may be a glyph taken for a digit: the line reading stays
    assert dropped.fallback == "094473"   # the classifier's digit-by-digit reading, tried if that is invalid
    full = string_evidence(fc, _reading("0944-73", positions=centres), FakeClassifier([0, 9, 4, 4, 7, 3]), True)
    assert full.agree is True and full.fallback == ""


def test_a_phone_number_s_first_digit_is_a_zero_whatever_both_readers_say():
    crop = _line("0944-73")
    fc = FieldCrop("phone", crop, False, 10.0)
    centres = [(g.x + (g.image.shape[1] - 4) / 2) / crop.shape[1] for g in segment(crop) if not g.separator]
    ev = string_evidence(fc, _reading("694473", positions=centres), FakeClassifier([6, 9, 4, 4, 7, 3]), True,
                         first="0")
    assert ev.text == "094473" and ev.agree is False     # corrected, and shown to a person
    same = string_evidence(fc, _reading("694473", positions=centres), FakeClassifier([6, 9, 4, 4, 7, 3]), True)
    assert same.text == "694473" and same.agree is True  # any first digit where the type allows it


def test_in_a_date_the_recognisers_run_stays_and_the_glyph_reading_is_only_a_fallback():
    crop = _line("0944-73")
    fc = FieldCrop("birth_date", crop, False, 10.0)
    glyphs = segment(crop)
    centres = [(g.x + (g.image.shape[1] - 4) / 2) / crop.shape[1] for g in glyphs if not g.separator]
    dropped = string_evidence(fc, _reading("09473", positions=centres[:3] + centres[4:]),
                              FakeClassifier([0, 9, 4, 4, 7, 3]), False)
    assert dropped.agree is False and dropped.text == "09473"   # kanji beside a date's digits fool the glyphs
    assert dropped.fallback == "094473"
    full = string_evidence(fc, _reading("094473", positions=centres), FakeClassifier([0, 9, 4, 4, 7, 3]), False)
    assert full.fallback == ""                                  # nothing to fall back on when the runs fit


def test_a_date_run_with_one_glyph_more_gets_back_the_digit_the_recogniser_nearly_read():
    crop = _line("0944-73")
    fc = FieldCrop("birth_date", crop, False, 10.0)
    glyphs = segment(crop)
    centres = [(g.x + (g.image.shape[1] - 4) / 2) / crop.shape[1] for g in glyphs if not g.separator]
    merged = _reading("09473", positions=centres[:3] + centres[4:])
    between = [("", 0.0)] * 6
    between[3] = ("4", 0.2)                                    # the second 4 of 44, nearly read
    ev = string_evidence(fc, Reading(merged.text, merged.char_probs, 0.0, "fake", merged.positions,
                                     merged.candidates, tuple(between)), FakeClassifier([0, 9, 4, 4, 7, 3]), False)
    assert ev.text == "094473" and ev.agree is False           # a better guess, still for a person


def test_a_digit_nearly_read_between_characters_lowers_the_fields_score():
    crop = _line("0944-73")
    fc = FieldCrop("birth_date", crop, False, 10.0)
    glyphs = segment(crop)
    centres = [(g.x + (g.image.shape[1] - 4) / 2) / crop.shape[1] for g in glyphs if not g.separator]
    clean = _reading("094473", positions=centres)
    doubt = [("", 0.0)] * 7
    doubt[2] = ("1", 0.3)                                      # a '1' the recogniser nearly read: maybe dropped
    nearly = Reading(clean.text, clean.char_probs, 0.0, "fake", clean.positions, clean.candidates, tuple(doubt))
    plain = string_evidence(fc, clean, FakeClassifier([0, 9, 4, 4, 7, 3]), False)
    worried = string_evidence(fc, nearly, FakeClassifier([0, 9, 4, 4, 7, 3]), False)
    assert worried.text == plain.text
    assert worried.score == pytest.approx(plain.score * 0.7)


class RecordingClassifier(FakeClassifier):
    """A FakeClassifier that keeps the crops it was shown."""

    def __init__(self, digits: list[int]):
        super().__init__(digits)
        self.seen: list[np.ndarray] = []

    def proba(self, crops):
        self.seen += list(crops)
        return super().proba(crops)


def _six_cut_in_two() -> tuple[np.ndarray, list[float]]:
    """'06' with the 6 cut by a thin white line into a left and a right stroke (a 6 written as '(' and 'o');
    the centres of the 0 and of the whole 6, as fractions of the width."""
    line = _line("06").copy()
    (zero, six) = [g for g in segment(line) if not g.separator]
    cut = six.x + (six.image.shape[1] - 4) // 2
    line[:, cut:cut + 2] = 255
    width = line.shape[1]
    return line, [(g.x + (g.image.shape[1] - 4) / 2) / width for g in (zero, six)]


def test_a_digit_cut_in_two_strokes_is_joined_again_and_read_whole():
    line, (c0, c6) = _six_cut_in_two()
    assert len([g for g in segment(line) if not g.separator]) == 3          # segmentation sees three glyphs
    clf = RecordingClassifier([0, 6, 6, 0, 6])      # the three glyphs, then the two digits matched again
    ev = string_evidence(FieldCrop("phone", line, False, 10.0), _reading("06", positions=[c0, c6]), clf, True)
    assert ev.text == "06" and ev.agree is False                             # a better guess, for a person
    six_width = clf.seen[-1].shape[1]
    halves = [g.image.shape[1] for g in segment(line)[1:]]
    assert six_width > max(halves) + 5                                       # the classifier saw the whole 6


def test_one_written_digit_read_as_two_is_left_to_the_classifier():
    line = _line("0-6")
    zero, dash, six = segment(line)
    w = line.shape[1]

    def at(g, f):
        return (g.x + f * (g.image.shape[1] - 4)) / w

    reading = _reading("0-60", positions=[at(zero, 0.5), at(dash, 0.5), at(six, 0.3), at(six, 0.7)])
    ev = string_evidence(FieldCrop("phone", line, False, 10.0), reading, FakeClassifier([0, 6, 0, 6]), True)
    assert ev.text == "06" and ev.agree is False                             # '60' on one 6-wide glyph: one digit


def test_a_digit_nearly_read_is_no_doubt_where_the_glyphs_count_the_digits_one_to_one():
    def nearly(line: np.ndarray, text: str) -> tuple[float, float]:
        fc = FieldCrop("phone", line, False, 10.0)
        glyphs = [g for g in segment(line) if not g.separator]
        centres = [(g.x + (g.image.shape[1] - 4) / 2) / line.shape[1] for g in glyphs]
        clean = _reading(text, positions=centres)
        doubt = [("", 0.0)] * (len(text) + 1)
        doubt[1] = ("1", 0.3)
        worried = Reading(clean.text, clean.char_probs, 0.0, "fake", clean.positions, clean.candidates, tuple(doubt))
        digits = [int(ch) for ch in text]
        return (string_evidence(fc, clean, FakeClassifier(list(digits)), True).score,
                string_evidence(fc, worried, FakeClassifier(list(digits)), True).score)

    plain, worried = nearly(_line("0944"), "0944")
    assert worried == pytest.approx(plain)          # four glyphs, four digits: nothing was dropped
    wide = _line("0944").copy()
    ys, xs = np.nonzero(wide < 160)
    wide[ys.min() + 5, xs.min():xs.max()] = 0       # a stroke joining them all: one glyph wider than a digit
    plain, worried = nearly(wide, "0")
    assert worried == pytest.approx(plain * 0.7)    # a digit may hide in it: the doubt stays


def test_the_glyph_line_reading_stands_for_the_recogniser_where_it_holds_one_digit_per_glyph():
    crop = _line("0944-73")
    fc = FieldCrop("phone", crop, False, 10.0)
    centres = [(g.x + (g.image.shape[1] - 4) / 2) / crop.shape[1] for g in segment(crop) if not g.separator]
    whole = _reading("0944-79", positions=centres[:4] + [0.8] + centres[4:])   # the last digit misread
    alone = string_evidence(fc, whole, FakeClassifier([0, 9, 4, 4, 7, 3]), True)
    assert alone.agree is False                                      # the two readers disagree on the 3
    lined = string_evidence(fc, whole, FakeClassifier([0, 9, 4, 4, 7, 3]), True, glyph_line=_reading("094473"))
    assert lined.text == "0944-73" and lined.agree is True           # the written digits set out evenly: a 3
    short = string_evidence(fc, whole, FakeClassifier([0, 9, 4, 4, 7, 3]), True, glyph_line=_reading("09473"))
    assert short.agree is False                                      # a digit short: not used


def test_a_digit_fields_score_rests_on_each_readers_weakest_digit():
    from ocr.evidence import logit, margin_score

    sure, unsure = logit(0.99999), logit(0.99)
    assert 0.0 < margin_score(unsure, unsure) < margin_score(unsure, sure) < margin_score(sure, sure) < 1.0
    # products saturate: ten digits at 0.99999 and ten at 0.9999 are both about 1; the margins keep them apart
    assert margin_score(sure, sure) - margin_score(logit(0.9999), logit(0.9999)) > 0.02


def test_a_dates_score_rests_on_each_readers_weakest_digit_and_its_other_characters():
    from ocr.evidence import logit, margin_score, ocr_vector

    crop = _line("0944-73")
    fc = FieldCrop("birth_date", crop, False, 10.0)
    centres = [(g.x + (g.image.shape[1] - 4) / 2) / crop.shape[1] for g in segment(crop) if not g.separator]
    reading = _reading("0944-73", positions=centres[:4] + [0.65] + centres[4:])

    class Unsure(FakeClassifier):        # sure of every digit but the third, which it barely confirms
        def proba(self, crops):
            out = super().proba(crops)
            out[2] = np.full(10, 0.25 / 9)
            out[2, 4] = 0.75
            return out

    sure = string_evidence(fc, reading, FakeClassifier([0, 9, 4, 4, 7, 3]), False)
    barely = string_evidence(fc, reading, Unsure([0, 9, 4, 4, 7, 3]), False)
    assert sure.agree and barely.agree and barely.text == sure.text == "0944-73"
    written = float(ocr_vector(reading, 0)[0])                 # PP-OCR's probability of each digit as written
    # the weakest digit of each reader, times the probabilities of the characters that are no digit ('-')
    assert barely.score == pytest.approx(margin_score(logit(0.75), logit(written)) * 0.99, rel=1e-6)
    assert sure.score == pytest.approx(margin_score(logit(0.99), logit(written)) * 0.99, rel=1e-6)
    assert sure.score - barely.score > 0.05    # the fused probability of that digit moves by 0.0003 only
