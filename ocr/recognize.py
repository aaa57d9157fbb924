"""Recognisers: field crops + the field type's charset → readings with per-character probabilities.

The one seam is ``Recognizer``. The real implementation runs PaddleOCR's PP-OCRv6 small text recogniser (the
ONNX file inside the ``rapidocr`` wheel) directly through onnxruntime, so that crops are batched, CTC decoding
is constrained to the characters a field may hold (a digits field cannot read 'O' or '日'), and each
character keeps its own probability. Nothing here downloads anything: the model is a local file or an error.
"""

from __future__ import annotations

import importlib.util
import math
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from kakitori.errors import ConfigError

# Hub-backed libraries (rapidocr, paddleocr, paddlex, huggingface_hub, modelscope) honour these; set before
# any of them is imported so that a missing local model fails instead of reaching for the network.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "MODELSCOPE_OFFLINE": "1",
    "PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK": "True",
}


def go_offline() -> None:
    """Tell every hub-backed library in this process that there is no network."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


@dataclass(frozen=True)
class Charset:
    """The characters a field may contain (after NFKC); ``None`` chars means any character of the model,
    narrowed to characters Japanese text uses (those of Windows-31J / JIS X 0208 + extensions) when
    ``japanese`` — the model also knows thousands of Chinese-only forms such as 絕 that a Japanese form never
    holds. ``lookalikes``: characters outside the set that, in such a field, can only be a written allowed
    one seen another way (a handwritten 7 read as '>', a 1 as '/', 令 as 今): they are not rejected mass."""

    name: str
    chars: frozenset[str] | None = None
    japanese: bool = False
    lookalikes: frozenset[str] = frozenset()

    def allows(self, ch: str) -> bool:
        n = unicodedata.normalize("NFKC", ch)
        if self.chars is not None:
            return n in self.chars
        if self.japanese:
            try:
                n.encode("cp932")
            except UnicodeEncodeError:
                return False
            # names and addresses use no brackets or symbols beyond these
            if unicodedata.category(n[:1] or " ")[0] in "PS" and n not in JAPANESE_MARKS:
                return False
        return True


JAPANESE_MARKS = frozenset("-ー・々〆ヶ()/.,&'")


def _chars(*parts: str) -> frozenset[str]:
    return frozenset("".join(parts))


_DIGITS = "0123456789"
_KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ー・ "
_HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097)) + "ー "
_ERAS = "令和平成昭和大正元"
# what PP-OCR read, outside the charset, on handwritten digit fields of calib forms (seed 77): a 1 as / \ | ( ,
# a 7 as > <, a 5 as S, a 2 as Z 乙, a 0 as O 〇, a 6 as G b, a gap as a space
_DIGIT_LOOKALIKES = "/\\|()<>SsZz乙Oo〇Gb "
# a written hyphen read as a dash (– on 36 of 240 calib phone numbers, seeds 77-79 and 201); in dates, 令 read
# as 命 会 合 冷 and 日 as 曰 (the same forms): seen that way, not rejected
_DASHES = "–—−‐"
_DATE_LOOKALIKES = "今命会合冷曰"

CHARSETS: dict[str, Charset] = {
    "any": Charset("any"),
    "text": Charset("text", japanese=True),
    "digits": Charset("digits", _chars(_DIGITS), lookalikes=_chars(_DIGIT_LOOKALIKES)),
    # a written hyphen may look like ー or 一, a comma like '.' or '、': allowed here, dropped when normalised
    "postal": Charset("postal", _chars(_DIGITS, "-〒ー一"), lookalikes=_chars(_DIGIT_LOOKALIKES, _DASHES)),
    "phone": Charset("phone", _chars(_DIGITS, "-()ー一"), lookalikes=_chars(_DIGIT_LOOKALIKES, _DASHES, "~")),
    "amount": Charset("amount", _chars(_DIGITS, ",.、円¥"), lookalikes=_chars(_DIGIT_LOOKALIKES)),
    "individual_number": Charset("individual_number", _chars(_DIGITS), lookalikes=_chars(_DIGIT_LOOKALIKES)),
    "date": Charset("date", _chars(_DIGITS, _ERAS, "年月日西暦/.-ー一、"),
                    lookalikes=_chars(_DIGIT_LOOKALIKES, _DATE_LOOKALIKES)),
    "katakana": Charset("katakana", _chars(_KATAKANA)),
    "hiragana": Charset("hiragana", _chars(_HIRAGANA)),
}


def charset_for(field_type: str) -> Charset:
    """The charset a field of this type may hold (text: any character Japanese writing uses)."""
    return CHARSETS.get(field_type, CHARSETS["any"])


@dataclass(frozen=True)
class Reading:
    """One crop's reading: the text, each character's probability, where it sits (``positions``: centre as
    a fraction of the crop's width), its runner-up characters with their probabilities (``candidates``), and
    how much the model wanted characters outside the charset (``rejected_mass``: the largest probability
    it gave disallowed characters at any frame — a '日' seen in a digits field), and the character it nearly
    read in each space between them (``between``: a thin '1' beside a kanji often loses to the blank)."""

    text: str
    char_probs: tuple[float, ...] = ()
    rejected_mass: float = 0.0
    engine: str = ""
    positions: tuple[float, ...] = field(default=(), compare=False)
    candidates: tuple[tuple[tuple[str, float], ...], ...] = field(default=(), compare=False)
    # between[k]: the likeliest character the model nearly read between characters k-1 and k (k = 0: before
    # the first, k = len(text): after the last), with its best frame's probability; ("", 0.0) for none
    between: tuple[tuple[str, float], ...] = field(default=(), compare=False)

    @property
    def confidence(self) -> float:
        """The weakest character's probability (1.0 for an empty reading)."""
        return min(self.char_probs, default=1.0)

    def characters(self) -> list[Reading]:
        """The reading cut into one single-character reading per character (a comb field read as one line,
        handed back box by box)."""
        return [Reading(ch, (self.char_probs[i],), self.rejected_mass, self.engine, (0.5,),
                        (self.candidates[i],) if i < len(self.candidates) else ())
                for i, ch in enumerate(self.text)]


class Recognizer(Protocol):
    """Crops (grey or BGR uint8, one text line each) → one ``Reading`` per crop."""

    name: str

    def read(self, crops: Sequence[np.ndarray], charset: Charset | Sequence[Charset]) -> list[Reading]: ...


def rapidocr_model_path(filename: str = "PP-OCRv6_rec_small.onnx") -> Path:
    """The model file shipped inside the installed ``rapidocr`` wheel (found without importing rapidocr)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the rapidocr package is not installed (it ships the PP-OCR model)", file=filename)
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / filename
    if not path.is_file():
        raise ConfigError("PP-OCR model file missing from the rapidocr wheel (reinstall rapidocr==3.10.0)",
                          file=path)
    return path


class CTCRecognizer:
    """What every PP-OCR-style text recogniser shares, whatever runs the network: crops batched by width, and
    greedy CTC decoding constrained to a charset. A subclass names itself, passes its CTC ``classes`` (0 =
    blank, then the model's characters) and runs one batch in ``_run``."""

    name = ""
    HEIGHT = 48
    BATCH = 16
    MIN_WIDTH = 8  # a batch narrower than this (px at HEIGHT) is padded to it

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes: tuple[str, ...] = tuple(classes)
        self._masks: dict[Charset, np.ndarray] = {}
        self._projections: dict[Charset, tuple[np.ndarray, np.ndarray, tuple[str, ...], np.ndarray]] = {}

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """One N×3×H×W float batch → N × frames × classes probabilities (softmax over classes)."""
        raise NotImplementedError

    def _mask(self, charset: Charset) -> np.ndarray:
        """For a large charset (Japanese text): which classes it allows (blank always). Cached per charset."""
        if charset not in self._masks:
            self._masks[charset] = np.array([i == 0 or charset.allows(c) for i, c in enumerate(self.classes)],
                                            dtype=np.float32)
        return self._masks[charset]

    def _projection(self, charset: Charset) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], np.ndarray]:
        """For a constrained charset: the allowed class columns, a 0/1 matrix folding them onto their NFKC
        character (the model has both '1' and '１'; their probabilities add up), those characters (index 0 =
        blank), and the columns of its look-alikes (not counted as rejected mass). Cached per charset."""
        if charset in self._projections:
            return self._projections[charset]
        labels = [""] + sorted({unicodedata.normalize("NFKC", c) for c in self.classes[1:] if charset.allows(c)})
        where = {c: i for i, c in enumerate(labels)}
        cols = [0] + [i for i, c in enumerate(self.classes) if i > 0 and charset.allows(c)]
        alike = [i for i, c in enumerate(self.classes)
                 if i > 0 and not charset.allows(c) and unicodedata.normalize("NFKC", c) in charset.lookalikes]
        fold = np.zeros((len(cols), len(labels)), dtype=np.float32)
        fold[0, 0] = 1.0
        for k, i in enumerate(cols[1:], start=1):
            fold[k, where[unicodedata.normalize("NFKC", self.classes[i])]] = 1.0
        self._projections[charset] = (np.asarray(cols), fold, tuple(labels), np.asarray(alike, dtype=int))
        return self._projections[charset]

    def probabilities(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Per-frame class probabilities for each crop (frames × classes). Crops of similar width share a
        batch, so that little time goes into padding."""
        imgs = [_prepare(c, self.HEIGHT) for c in crops]
        order = sorted(range(len(imgs)), key=lambda i: imgs[i].shape[2])
        out: list[np.ndarray | None] = [None] * len(crops)
        batches: list[list[int]] = []
        for i in order:
            if batches and len(batches[-1]) < self.BATCH and imgs[i].shape[2] <= 1.25 * imgs[batches[-1][0]].shape[2]:
                batches[-1].append(i)
            else:
                batches.append([i])
        for idx in batches:
            width = max(self.MIN_WIDTH, max(imgs[i].shape[2] for i in idx))
            batch = np.zeros((len(idx), 3, self.HEIGHT, width), dtype=np.float32)
            for k, i in enumerate(idx):
                batch[k, :, :, : imgs[i].shape[2]] = imgs[i]
            probs = self._run(batch)
            for k, i in enumerate(idx):
                frames = math.ceil(probs.shape[1] * imgs[i].shape[2] / width)
                out[i] = probs[k, : max(1, frames)]
        return out  # type: ignore[return-value]

    def read(self, crops: Sequence[np.ndarray], charset: Charset | Sequence[Charset]) -> list[Reading]:
        if not crops:
            return []
        charsets = [charset] * len(crops) if isinstance(charset, Charset) else list(charset)
        return [self.decode(p, cs) for p, cs in zip(self.probabilities(crops), charsets)]

    def decode(self, probs: np.ndarray, charset: Charset) -> Reading:
        """Greedy CTC decoding over the allowed classes only; a character's probability is its best frame's
        renormalised probability."""
        if charset.chars is None and not charset.japanese:  # the softmax already sums to one
            labels, norm = self.classes, probs
            total = np.ones((len(probs), 1), dtype=np.float32)
        elif charset.chars is None:
            labels = self.classes
            sub = probs * self._mask(charset)
            total = sub.sum(axis=1, keepdims=True) + 1e-9
            norm = sub / total
        else:
            cols, fold, labels, alike = self._projection(charset)
            sub = probs[:, cols] @ fold
            total = sub.sum(axis=1, keepdims=True) + 1e-9
            norm = sub / total
            total = total + probs[:, alike].sum(axis=1, keepdims=True)  # look-alikes are not rejected mass
        best = norm.argmax(axis=1)
        chars: list[dict] = []
        prev = 0
        for t, cls in enumerate(best):
            p = float(norm[t, cls])
            if cls != 0 and cls != prev:
                chars.append({"ch": labels[cls], "p": p, "t": [t], "best_t": t})
            elif cls != 0 and cls == prev:
                chars[-1]["t"].append(t)
                if p > chars[-1]["p"]:
                    chars[-1]["p"], chars[-1]["best_t"] = p, t
            prev = cls
        n = max(len(norm), 1)
        candidates = []
        for c in chars:
            row = norm[c["best_t"]].copy()
            row[0] = 0.0
            top = np.argpartition(row, -4)[-4:] if len(row) > 4 else np.arange(len(row))
            top = top[np.argsort(row[top])[::-1]]
            candidates.append(tuple((labels[k], float(row[k])) for k in top if row[k] > 1e-4))
        edges = [-1] + [t for c in chars for t in (c["t"][0], c["t"][-1])] + [len(norm)]
        between = []
        for lo, hi in zip(edges[::2], edges[1::2]):
            frames = norm[lo + 1:hi, 1:]
            if frames.size == 0:
                between.append(("", 0.0))
                continue
            t, k = np.unravel_index(int(frames.argmax()), frames.shape)
            between.append((labels[k + 1], float(frames[t, k])))
        return Reading(
            text="".join(c["ch"] for c in chars), char_probs=tuple(c["p"] for c in chars),
            rejected_mass=float(np.clip(1.0 - total.min(), 0.0, 1.0)) if len(total) else 0.0,
            engine=self.name, positions=tuple((np.mean(c["t"]) + 0.5) / n for c in chars),
            candidates=tuple(candidates), between=tuple(between),
        )


def onnx_session(path: Path, threads: int):  # -> onnxruntime.InferenceSession (imported here only)
    """An onnxruntime CPU session for a shipped model, ``threads`` threads within an operator, quiet."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


class PPOCRRecognizer(CTCRecognizer):
    """PP-OCRv6 small recogniser through onnxruntime, with charset-constrained CTC decoding."""

    name = "pp-ocrv6-small"

    def __init__(self, model_path: Path | None = None, threads: int = 2) -> None:
        path = Path(model_path) if model_path else rapidocr_model_path()
        if not path.is_file():
            raise ConfigError("recogniser model file not found", file=path)
        self.session = onnx_session(path, threads)
        meta = self.session.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise ConfigError("model has no 'character' metadata (not a PP-OCR rec model?)", file=path)
        # CTC classes: 0 = blank, then the model's characters, then the space character.
        super().__init__(("",) + tuple(meta["character"].splitlines()) + (" ",))
        self.input_name = self.session.get_inputs()[0].name

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch})[0]


def _prepare(crop: np.ndarray, height: int) -> np.ndarray:
    """A crop as the recogniser's normalised CHW float input, at ``height`` px, width kept in proportion."""
    img = crop if crop.ndim == 3 else cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    h, w = img.shape[:2]
    new_w = max(8, min(math.ceil(height * w / max(h, 1)), 1600))
    img = cv2.resize(img, (new_w, height), interpolation=cv2.INTER_AREA if h > height else cv2.INTER_LINEAR)
    x = img.astype(np.float32).transpose(2, 0, 1) / 255.0
    return (x - 0.5) / 0.5


def make_recognizer(kind: str, threads: int = 2, paddle_model_dir: Path | None = None) -> Recognizer:
    """The recogniser named in ``OcrConfig.recognizer`` (``paddle_model_dir``: ``OcrConfig.paddle_model_dir``)."""
    go_offline()
    if kind == "pp-ocrv6-small":
        return PPOCRRecognizer(threads=threads)
    if kind == "pp-ocrv5-mobile-paddle":  # the optional extra: imported only when chosen
        from ocr.paddle_recognizer import PaddleRecognizer

        return PaddleRecognizer(paddle_model_dir, threads=threads)
    raise ConfigError(f"unknown recogniser {kind!r}", key="ocr.recognizer")
