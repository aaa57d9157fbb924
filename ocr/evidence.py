"""Evidence for one field's reading: what was read, how sure the readers are together, whether they agree.

PP-OCR alone is over-confident, so digits get a second, independent reader (``ocr.digits``). Each digit the
recogniser read is matched to the handwritten glyph under it (by its position in the crop, or by its comb
box); the classifier reads that glyph; the two probability vectors are multiplied (a product of experts) and
renormalised. A field's score is the product of its characters' fused probabilities, except in a digit
field or date the two readers agree on, where it rests on each reader's weakest digit (``margin_score``; a
date's other characters' probabilities multiply it); ``agree``
says whether the two readers chose the same digit everywhere and every written glyph was accounted for. The
trust rule (``ocr.trust``) turns this, with the validators' verdict, into a field status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import cv2
import numpy as np

from ocr.crop import FieldCrop
from ocr.digits import DigitClassifier, Glyph, join, segment
from ocr.normalize import FAINT_MIN_P, KANA_CONSONANT, SMALL_Y_AFTER
from ocr.recognize import Reading
from ocr.template import PURE_DIGIT_TYPES

EPS = 1e-3
DIGITS = "0123456789"
SEPARATORS = "-,./ー一、"
DIGIT_TYPES = PURE_DIGIT_TYPES | {"date"}


@dataclass(frozen=True)
class Evidence:
    """``text``: the fused reading (raw, before normalisation); ``score``: how sure the readers are that every
    character is right, 0..1 (the threshold per field type comes from calib data); ``agree``: the second
    reader agrees (None where there is no second reader);
    ``doubts``: how many characters the readers disagree on (``UNSURE``: the reading's shape is in doubt — a
    skipped box, a digit dropped — so no single check digit can make up for it)."""

    text: str
    score: float
    agree: bool | None = None
    note: str = ""
    doubts: int = 0
    alternatives: tuple[tuple[int, str], ...] = ()   # (position in text, another reading) where in doubt
    fallback: str = ""   # the classifier's reading of runs that did not line up, to try if text is no valid value
    runners_up: tuple[tuple[int, str, float], ...] = ()  # comb: (box, second likeliest digit, its probability)


UNSURE = 99
# The second reader confirms a digit only when it is itself fairly sure of it: on calib forms (seeds 77 and 78,
# 7,100 digits) the two readers agreed on a wrong digit 5 times (a 4 closed at the top read as 9 by both), each
# time with the classifier under 0.7, and agreed on 36 right digits with it that low.
CONFIRM_MIN_P = 0.7


def confirms(p_cls: np.ndarray, digit: int) -> bool:
    """Whether the classifier's probabilities confirm ``digit``: its likeliest, and at least CONFIRM_MIN_P."""
    return int(p_cls.argmax()) == digit and float(p_cls[digit]) >= CONFIRM_MIN_P


def ocr_vector(reading: Reading, i: int) -> np.ndarray:
    """PP-OCR's probabilities over the ten digits for its i-th character."""
    v = np.full(10, EPS)
    for ch, p in reading.candidates[i] if i < len(reading.candidates) else ():
        if ch in DIGITS:
            v[int(ch)] += p
    return v / v.sum()


def fuse(p_ocr: np.ndarray, p_cls: np.ndarray) -> np.ndarray:
    f = (p_ocr + EPS) * (p_cls + EPS)
    return f / f.sum()


LOGIT_EPS = 1e-6
MARGIN_SCALE = 8.0


def logit(p: float) -> float:
    return float(np.log(p + LOGIT_EPS) - np.log(1.0 - p + LOGIT_EPS))


def margin_score(weakest_cls: float, weakest_ocr: float) -> float:
    """A digit field's score from its weakest digit for each reader: the sum of the lowest log-odds the
    classifier gives any chosen digit and the lowest PP-OCR gives any, squashed into 0..1. The product of the
    fused probabilities saturates near 1 for every long string the readers agree on, right or wrong; the
    weakest digits keep apart more of them (see docs/ocr.md, "Eighth session")."""
    return float(1.0 / (1.0 + np.exp(-(weakest_cls + weakest_ocr) / MARGIN_SCALE)))


def text_evidence(reading: Reading) -> Evidence:
    """A field with one reader: its weakest character, discounted by how much it wanted other characters."""
    score = float(np.prod(reading.char_probs)) if reading.char_probs else 0.0
    return Evidence(reading.text, score * (1.0 - reading.rejected_mass), None)


def comb_evidence(cells: Sequence[np.ndarray | None], cell_readings: Sequence[Reading | None],
                  classifier: DigitClassifier) -> Evidence:
    """One digit per printed box: both readers read each box alone (the whole-field reading is not used: the
    recogniser reads spaced-out comb digits worse than single ones)."""
    filled = [i for i, c in enumerate(cells) if c is not None]
    if not filled:
        return Evidence("", 0.0, False, "no box filled")
    crops = [cells[i] for i in filled]
    p_cls = classifier.proba(crops)  # type: ignore[arg-type]
    text, doubts, alternatives, runners_up = [], 0, [], []
    weakest_cls = weakest_ocr = np.inf
    for k, i in enumerate(filled):
        r = cell_readings[i]
        if r is None or len(r.text) != 1:
            p_ocr = np.full(10, 0.1)
        else:
            p_ocr = ocr_vector(r, 0)
        f = fuse(p_ocr, p_cls[k])
        d = int(f.argmax())
        if not (confirms(p_cls[k], d) and d == int(p_ocr.argmax())):
            doubts += 1
            alternatives += [(k, str(a)) for a in {int(p_cls[k].argmax()), int(p_ocr.argmax())} if a != d]
        text.append(str(d))
        weakest_cls = min(weakest_cls, logit(float(p_cls[k][d])))
        weakest_ocr = min(weakest_ocr, logit(float(p_ocr[d])))
        second = int(np.argsort(f)[-2])
        runners_up.append((k, str(second), float(f[second])))
    value = "".join(text)
    score = margin_score(weakest_cls, weakest_ocr)
    note = "the two digit readers disagree or one is unsure" if doubts else ""
    if filled != list(range(filled[0], filled[-1] + 1)):
        doubts, note = UNSURE, "a comb box is skipped"
    agree = doubts == 0
    return Evidence(value, score, agree, note, doubts, tuple(alternatives), runners_up=tuple(runners_up))


def _runs(text: str) -> list[tuple[int, int]]:
    """(start, end) index ranges of the digit runs in a reading; separators (- , . /) do not end a run."""
    runs, start = [], None
    for i, ch in enumerate(text + " "):
        if ch in DIGITS and start is None:
            start = i
        elif ch not in DIGITS + SEPARATORS and start is not None:
            runs.append((start, i))
            start = None
    return runs


@dataclass(frozen=True)
class Run:
    """One run of digits in a reading and the written glyphs found where it lies."""

    start: int
    end: int
    chars: tuple[int, ...]      # indices of the run's digits in the reading
    glyphs: tuple[int, ...]     # indices of the non-separator glyphs within the run's extent

    @property
    def fits(self) -> bool:
        return len(self.chars) == len(self.glyphs)


def _runs_with_glyphs(glyphs: list[Glyph], reading: Reading, width: int, height: int) -> list[Run]:
    """Each digit run of the reading with the glyphs under it.

    The recogniser's character positions are only roughly where the ink is, so a run's extent is bounded by
    its neighbouring non-digit characters (a kanji such as 年 takes about a character's width around its
    position; '-' separators are separator glyphs and are skipped), and digits are matched in order."""
    text = reading.text
    digits = [j for j, g in enumerate(glyphs) if not g.separator]
    centre = {j: glyphs[j].x + glyphs[j].width / 2 for j in digits}
    runs = []
    for a, b in _runs(text):
        lo = reading.positions[a - 1] * width + 0.45 * height if a > 0 else -np.inf
        hi = reading.positions[b] * width - 0.45 * height if b < len(text) else np.inf
        runs.append(Run(a, b, tuple(i for i in range(a, b) if text[i] in DIGITS),
                        tuple(j for j in digits if lo < centre[j] < hi)))
    return runs


def _realign(run: Run, glyphs: list[Glyph], reading: Reading, width: int, line_h: float
             ) -> list[tuple[Glyph, int | None]] | None:
    """A run of a pure digit string whose digits and written glyphs differ in number, matched again by
    position where one of two known slips explains the difference: each digit the recogniser read goes to
    the glyph its centre lies in (or the nearest); a glyph no digit went to that nearly touches a neighbour
    with one is that digit's second stroke and is joined to it (a 6 written as '(' and 'o', cut in two);
    two digits on one glyph no wider than a digit are one digit read twice ('60' for that 6), left to the
    classifier. Returns the run's digits in order as (glyph, index of the recogniser's digit or None), or
    None where anything else is amiss (a digit dropped, two digits touching): nothing is guessed then."""
    ids = list(run.glyphs)
    if not ids:
        return None
    spans = {j: (glyphs[j].x, glyphs[j].x + glyphs[j].width) for j in ids}
    owner: dict[int, list[int]] = {j: [] for j in ids}
    for i in run.chars:
        x = reading.positions[i] * width
        owner[min(ids, key=lambda j: max(spans[j][0] - x, x - spans[j][1], 0.0))].append(i)
    joined: dict[int, Glyph] = {}
    for k, j in enumerate(ids):
        if owner[j]:
            continue
        near = [(spans[n][0] - spans[j][1] if n > j else spans[j][0] - spans[n][1], n)
                for n in (ids[k - 1] if k else None, ids[k + 1] if k + 1 < len(ids) else None)
                if n is not None and len(owner[n]) == 1 and n not in joined]
        if not near:
            return None
        gap, n = min(near)
        both = join(glyphs[n], glyphs[j])
        if gap > 0.2 * line_h or both.width > 1.0 * line_h:
            return None
        joined[n] = both
    units: list[tuple[Glyph, int | None]] = []
    for j in ids:
        chars, glyph = owner[j], joined.get(j, glyphs[j])
        if len(chars) == 1:
            units.append((glyph, chars[0]))
        elif len(chars) == 2 and glyph.width <= 1.15 * line_h:
            units.append((glyph, None))
        elif chars:
            return None
    return units


def string_evidence(crop: FieldCrop, reading: Reading, classifier: DigitClassifier, pure_digits: bool,
                    first: str = DIGITS, glyphs: list[Glyph] | None = None, glyph_line: Reading | None = None
                    ) -> Evidence:
    """A digit string without comb boxes (phone, amount, a date's numbers): the glyphs under PP-OCR's digits
    are read again by the classifier and the two readings fused. Where a run of digits and the glyphs under
    it differ in number (a digit dropped, invented, or two read as one), the two are matched again by
    position where a known slip explains it (``_realign``), or else the classifier's reading of the glyphs
    replaces a run without separators (with separators, where glyphs are less sure to be digits, it is the
    ``fallback``, tried when the reading is no valid value) — a better guess either way, never trusted: the
    field goes to a person. In a date, kanji
    beside the digits make the glyphs unreliable: PP-OCR's run stays (with a digit it nearly read put back
    where the glyphs count one more), and the classifier's reading is only the ``fallback``. ``first``: the
    digits the field's first digit can be (a phone number's is 0); another one read there is replaced by the
    likeliest of these and the field goes to a person. ``glyphs``: the crop's segmentation, where the caller
    has it already (else it is made here); ``glyph_line``: PP-OCR's reading of their digits set out evenly,
    as a comb's boxes are (``crop.comb_line``); where it holds one digit per digit glyph, its probabilities
    stand for PP-OCR's on those glyphs (``_line_digits``)."""
    allowed_first = np.array([str(d) in first for d in range(10)], dtype=float)
    first_digit = next((i for i, ch in enumerate(reading.text) if ch in DIGITS), -1)
    glyphs = segment(crop.image) if glyphs is None else glyphs
    line_h = float(np.percentile([g.height for g in glyphs], 75)) if glyphs else 1.0
    runs = _runs_with_glyphs(glyphs, reading, crop.image.shape[1], line_h)
    text = reading.text
    wanted = sorted({j for r in runs for j in r.glyphs})
    p_cls = dict(zip(wanted, classifier.proba([glyphs[j].image for j in wanted]))) if wanted else {}
    on_line = _line_digits(glyph_line, glyphs) if pure_digits else {}
    doubts, note = 0, ""
    if pure_digits and sum(len(r.glyphs) for r in runs) != sum(not g.separator for g in glyphs):
        doubts, note = UNSURE, "a written character was not read"
    out, alt, score, pos = [], [], 1.0, 0
    # a digit string agreed on is scored by margin_score of these: the classifier's weakest digit and
    # PP-OCR's as written (not the glyph line's: the reading whose weakest digit was replayed on calib data)
    weakest_cls = weakest_ocr = np.inf
    for run in runs:
        out.extend(text[pos:run.start])
        alt.extend(text[pos:run.start])
        score *= float(np.prod(reading.char_probs[pos:run.start]))
        if run.fits:
            chars = list(text[run.start:run.end])
            for i, j in zip(run.chars, run.glyphs):
                k = on_line.get(j)
                p_written = ocr_vector(reading, i)
                if glyph_line is not None and k is not None:
                    seen, p_seen = (glyph_line, k), ocr_vector(glyph_line, k)
                else:
                    seen, p_seen = (reading, i), p_written
                f = fuse(p_seen, p_cls[j])
                if i == first_digit:
                    f = f * allowed_first / float((f * allowed_first).sum())
                d = int(f.argmax())
                read_as = int(seen[0].text[seen[1]])
                if not confirms(p_cls[j], read_as) or d != read_as:
                    doubts, note = doubts + 1, note or "the two digit readers disagree or one is unsure"
                chars[i - run.start] = str(d)
                score *= float(f[d])
                weakest_cls = min(weakest_cls, logit(float(p_cls[j][d])))
                weakest_ocr = min(weakest_ocr, logit(float(p_written[d])))
            score *= float(np.prod([reading.char_probs[i] for i in range(run.start, run.end) if i not in run.chars]))
            out.extend(chars)
            alt.extend(chars)
        elif pure_digits and (units := _realign(run, glyphs, reading, crop.image.shape[1], line_h)):
            # a known slip explains the mismatch: a better guess, never trusted
            doubts, note = UNSURE, note or "digits and written characters do not line up"
            for (g, i), p in zip(units, classifier.proba([g.image for g, _ in units])):
                f = fuse(ocr_vector(reading, i), p) if i is not None else p
                if not any(ch in DIGITS for ch in out):
                    f = f * allowed_first
                out.append(str(int(f.argmax())))
                alt.append(out[-1])
            score *= 0.5
        else:
            doubts, note = UNSURE, note or "digits and written characters do not line up"
            separators = any(ch not in DIGITS for ch in text[run.start:run.end])
            guess = [str(int(p_cls[j].argmax())) for j in run.glyphs] if pure_digits or not separators else []
            if pure_digits:
                out.extend(guess if guess and not separators else text[run.start:run.end])
            else:
                out.extend(_with_faint_digit(reading, run) if len(run.glyphs) == len(run.chars) + 1
                           else text[run.start:run.end])
            alt.extend(guess or text[run.start:run.end])
            score *= 0.5
        pos = run.end
    out.extend(text[pos:])
    alt.extend(text[pos:])
    score *= float(np.prod(reading.char_probs[pos:]))
    fallback = "".join(alt) if alt != out else ""
    # a digit the recogniser nearly read between two characters may be one it dropped ('12' read as '2');
    # not in a digit string whose written glyphs, each no wider than a digit, match its digits one to one
    # (a dropped digit would be a glyph more; two touching digits, one wide glyph)
    counted = pure_digits and doubts < UNSURE and all(
        glyphs[j].width <= line_h for r in runs for j in r.glyphs)
    missed = 0.0 if counted else max((p for ch, p in reading.between if ch in DIGITS), default=0.0)
    if doubts == 0 and np.isfinite(weakest_cls):
        # no doubt: every run fitted, and its digits are the ones both readers read. A date also rests on its
        # other characters (an era or 年 read wrong; docs/ocr.md, "Ninth session"); a pure digit string's
        # separators do not count, as its validators check them
        fused = {i for r in runs for i in r.chars}
        others = 1.0 if pure_digits else float(np.prod([p for i, p in enumerate(reading.char_probs)
                                                         if i not in fused]))
        score = margin_score(weakest_cls, weakest_ocr) * others
    return Evidence("".join(out), score * (1.0 - reading.rejected_mass) * (1.0 - missed), doubts == 0, note,
                    doubts, fallback=fallback)


def _line_digits(glyph_line: Reading | None, glyphs: list[Glyph]) -> dict[int, int]:
    """Which character of the glyph line reads each digit glyph (glyph index -> character index), where
    the line holds exactly one digit per digit glyph; else none. PP-OCR reads handwritten digits set out
    evenly better than as written: on calib forms, 226 of 243 digit strings right against 218."""
    digit_glyphs = [j for j, g in enumerate(glyphs) if not g.separator]
    if glyph_line is None or len(glyph_line.text) != len(digit_glyphs) or not glyph_line.text.isdigit():
        return {}
    return {j: k for k, j in enumerate(digit_glyphs)}


def _with_faint_digit(reading: Reading, run: Run) -> str:
    """A run with one glyph more than digits: the digit the recogniser nearly read inside it (the second '1'
    of '11' merged into one) put back, or the run as read when there is none."""
    text = reading.text[run.start:run.end]
    slots = [(p, k) for k in range(run.start, run.end + 1) if k < len(reading.between)
             for ch, p in [reading.between[k]] if ch.isdigit() and p >= FAINT_MIN_P]
    if not slots:
        return text
    _, k = max(slots)
    return text[:k - run.start] + reading.between[k][0] + text[k - run.start:]


SMALL_KANA = {"ッ": "ツ", "ャ": "ヤ", "ュ": "ユ", "ョ": "ヨ", "ァ": "ア", "ィ": "イ", "ゥ": "ウ", "ェ": "エ", "ォ": "オ"}
BIG_KANA = {v: k for k, v in SMALL_KANA.items()}


def _char_sizes(image: np.ndarray, reading: Reading) -> list[float]:
    """Size (the longer side of its ink's box) of each character: every ink blob goes to the character whose
    position (from the recogniser) is nearest its centre."""
    ink = (image < 160).astype(np.uint8)
    count, _, stats, cents = cv2.connectedComponentsWithStats(ink, connectivity=8)
    xs = np.array(reading.positions) * image.shape[1]
    lo = np.full((len(xs), 2), np.inf)
    hi = np.full((len(xs), 2), -np.inf)
    for i in range(1, count):
        x, y, w, h, area = stats[i]
        if area < 4:
            continue
        k = int(np.argmin(np.abs(xs - cents[i][0])))
        lo[k] = np.minimum(lo[k], (x, y))
        hi[k] = np.maximum(hi[k], (x + w, y + h))
    return [float(max(b - a)) if np.isfinite(a).all() else 0.0 for a, b in zip(lo, hi)]


def kana_evidence(crop: FieldCrop, reading: Reading) -> Evidence:
    """A katakana field: small and big kana (ッ/ツ, ュ/ユ...) differ only in size, which the recogniser often
    gets wrong. Where Japanese allows both (シュ and シユ, ット and ツト) the written character's size against
    the line's is the better guess, but a person confirms it; elsewhere normalisation settles it."""
    ev = text_evidence(reading)
    if not any(ch in SMALL_KANA or ch in BIG_KANA for ch in reading.text):
        return ev
    heights = _char_sizes(crop.image, reading)
    full = float(np.percentile([h for h, ch in zip(heights, reading.text) if ch != "ー"] or [1.0], 75))
    out, doubtful = list(reading.text), False
    for i, (ch, h) in enumerate(zip(reading.text, heights)):
        if ch not in SMALL_KANA and ch not in BIG_KANA:
            continue
        rel = h / max(full, 1.0)
        if rel >= 0.85:
            out[i] = SMALL_KANA.get(ch, ch)
        elif rel <= 0.7:
            out[i] = BIG_KANA.get(ch, ch)
        prev = out[i - 1] if i else ""
        nxt = reading.text[i + 1] if i + 1 < len(reading.text) else ""
        doubtful |= ((out[i] in "ャュョヤユヨ" and prev in SMALL_Y_AFTER)
                     or (out[i] in "ッツ" and nxt in KANA_CONSONANT))
    note = "small or big kana unclear" if doubtful else ""
    return Evidence("".join(out), ev.score, False if doubtful else None, note)


NAME_GAP_RATIO = 1.2   # the family/given gap must be this much wider than any other (see docs/ocr.md)


def _widest_blank(image: np.ndarray) -> float | None:
    """Where (x in px) the widest run of ink-free columns between the first and last ink lies, if any."""
    cols = (image < 160).any(axis=0)
    xs = np.flatnonzero(cols)
    if len(xs) == 0:
        return None
    best, start = (0, None), None
    for x in range(int(xs[0]), int(xs[-1]) + 1):
        if not cols[x] and start is None:
            start = x
        elif cols[x] and start is not None:
            best, start = max(best, (x - start, (start + x) / 2), key=lambda r: r[0]), None
    return best[1]


def name_with_gap(text: str, positions: Sequence[float], image: np.ndarray | None = None) -> str:
    """A person's name read as one line, as "family given": the space the recogniser emitted, or else the
    widest gap between neighbouring characters' positions when it is clearly (``NAME_GAP_RATIO``) wider than
    every other gap, or, short of that, when it is the single widest and the crop's widest ink-free stretch
    (``image``) lies in it too. Otherwise the name run together: the pipeline then sends it to a person,
    never guessing where the family name ends."""
    parts = text.split()
    if len(parts) == 2:
        return " ".join(parts)
    letters = [(ch, p) for ch, p in zip(text, positions) if not ch.isspace()] if len(positions) == len(text) else []
    joined = "".join(parts)
    if len(letters) != len(joined) or len(letters) < 3:
        return f"{joined[0]} {joined[1]}" if len(joined) == 2 else joined
    spaced = set()   # several spaces emitted: the gap must be at one of them
    k = -1
    for ch in text:
        if ch.isspace():
            spaced.add(k)
        else:
            k += 1
    gaps = [b[1] - a[1] for a, b in pairwise(letters)]
    order = sorted(range(len(gaps)), key=gaps.__getitem__, reverse=True)
    best, second = order[0], order[1]
    if spaced - {-1, len(letters) - 1} and best not in spaced:
        return joined
    if gaps[best] < NAME_GAP_RATIO * gaps[second]:
        blank = _widest_blank(image) if image is not None and gaps[best] > gaps[second] + 1e-9 else None
        if blank is None or sum(p * image.shape[1] < blank for _, p in letters) - 1 != best:
            return joined
    return f"{joined[:best + 1]} {joined[best + 1:]}"
