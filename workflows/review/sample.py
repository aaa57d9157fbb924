"""Sample documents waiting for review: filled pages, real crops of them, and OCR-like records in the store.

Used by the review tests, the benchmark and the screenshots in ``docs/``; not by the station itself. A page is
the template's blank reference image with fake (Faker ``ja_JP``) values written in a handwriting-style font;
each field's crop is cut from that page at its ``box_mm``, as the OCR pipeline would. Some open fields are
read wrong on purpose, so a reviewer has something to correct; ``SeededDocument.truth`` says what is right.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import jaconv
from PIL import Image, ImageDraw, ImageFont

from kakitori.paths import DataDir
from ocr.record import FieldResult, FieldStatus, Record, Value
from ocr.template import FieldSpec, FieldType, Template
from workflows.review.values import check_digit, wareki
from workflows.store import DocState, DocumentStore

HAND_FONT = Path("/usr/share/fonts/truetype/kiloji/kiloji_p.ttf")
FALLBACK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SIMILAR = {"ソ": "ン", "ン": "ソ", "シ": "ツ", "ツ": "シ", "1": "7", "7": "1", "0": "6", "6": "0", "3": "8", "8": "3",
           "5": "6", "2": "7", "9": "4", "4": "9", "田": "由", "本": "木", "木": "本", "川": "州", "子": "了"}


@dataclass(frozen=True)
class SeededDocument:
    doc_id: str
    truth: dict[str, Value]          # what is really written
    open: tuple[str, ...]            # fields left for review
    wrong: tuple[str, ...]           # open fields whose read value is wrong


def seed_waiting(store: DocumentStore, data_dir: Path, template: Template, n: int, *, seed: int = 0,
                 open_fields: tuple[int, int] = (2, 4), wrong_rate: float = 0.35, distinct_pages: int | None = None,
                 always_open: tuple[str, ...] = (), workflow: str = "review-sample",
                 target: str = "sample-legacy") -> list[SeededDocument]:
    """Put ``n`` documents in ``needs_review`` (received → read → needs_review), with pages and crops on disk.

    ``distinct_pages`` draws only that many filled pages and lets the other documents share them (with their
    values), which keeps a 1,000-document benchmark quick to set up. ``always_open`` fields are open in every
    document (e.g. the double-checked one).
    """
    rng = random.Random(seed)
    from faker import Faker

    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    dd = DataDir(Path(data_dir)).ensure()
    run = store.create_run(workflow, template=template.name, steps=["ocr", "review", "keyin"])
    pages: list[tuple[dict[str, Value], str, dict[str, str]]] = []
    seeded = []
    for i in range(n):
        doc_id = f"doc-{seed:04d}-{i:05d}"
        if distinct_pages is None or len(pages) < distinct_pages:
            truth = fake_values(template, fake, rng)
            page_path, crops = draw_document(template, truth, dd, doc_id)
            pages.append((truth, page_path, crops))
        truth, page_path, crops = pages[i % len(pages)]
        candidates = [f.name for f in template.fields if f.name not in always_open]
        k = rng.randint(*open_fields) - len(always_open)
        open_names = tuple(always_open) + tuple(rng.sample(candidates, max(0, min(k, len(candidates)))))
        fields, wrong = {}, []
        for spec in template.fields:
            value = truth[spec.name]
            if spec.name in open_names:
                read = value
                if rng.random() < wrong_rate:
                    read = misread(spec, value, rng)
                if read != value:
                    wrong.append(spec.name)
                status = FieldStatus.INVALID if spec.type is FieldType.INDIVIDUAL_NUMBER and read != value \
                    else FieldStatus.NEEDS_REVIEW
                conf = round(rng.uniform(0.45, 0.85), 3)
                reason = "individual number check digit is wrong" if status is FieldStatus.INVALID \
                    else f"low confidence ({conf:.3f})"
            else:
                read, status, reason, conf = value, FieldStatus.ACCEPTED, "", round(rng.uniform(0.96, 0.999), 3)
            fields[spec.name] = FieldResult(
                name=spec.name, type=spec.type.value, value=read, raw_text=str(read), confidence=conf,
                status=status, reason=reason, crop=crops[spec.name], page=spec.page)
        record = Record(document_id=doc_id, template=template.name, fields=fields, file=page_path,
                        registration_score=0.9, pages=template.pages)
        store.add_document(run.id, page_path, workflow=workflow, template=template.name, target=target, doc_id=doc_id)
        store.transition(doc_id, DocState.RECEIVED, DocState.READ, record=record)
        store.transition(doc_id, DocState.READ, DocState.NEEDS_REVIEW)
        seeded.append(SeededDocument(doc_id, dict(truth), open_names, tuple(wrong)))
    return seeded


def fake_values(template: Template, fake, rng: random.Random) -> dict[str, Value]:
    """Plausible normalised values for every field of the template."""
    today = date(2025, 4, 1) + timedelta(days=rng.randint(0, 300))
    out: dict[str, Value] = {}
    for spec in template.fields:
        t, name = spec.type, spec.name
        if t is FieldType.DATE:
            if "birth" in name:
                d = date(1940, 1, 1) + timedelta(days=rng.randint(0, 30000))
            elif name == "filing_date":
                d = today
            else:
                d = today - timedelta(days=rng.randint(0, 14))
            out[name] = d.isoformat()
        elif t is FieldType.CHOICE:
            out[name] = rng.choice(spec.options).value
        elif t is FieldType.CHECKBOX:
            out[name] = rng.random() < 0.5
        elif t is FieldType.KATAKANA:
            out[name] = _name(fake.kana_name()) if spec.person_name else _plain(fake.kana_name())
        elif t is FieldType.HIRAGANA:
            kana = _name(fake.kana_name()) if spec.person_name else _plain(fake.kana_name())
            out[name] = jaconv.kata2hira(kana)
        elif t is FieldType.POSTAL:
            out[name] = fake.zipcode()
        elif t is FieldType.PHONE:
            out[name] = rng.choice([f"0{rng.choice('789')}0-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                                    f"0{rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"])
        elif t is FieldType.INDIVIDUAL_NUMBER:
            first = "".join(str(rng.randint(0, 9)) for _ in range(11))
            out[name] = first + str(check_digit(first))
        elif t is FieldType.AMOUNT:
            out[name] = str(rng.randrange(800_000, 9_000_000, 1000))
        elif t is FieldType.DIGITS:
            out[name] = "".join(str(rng.randint(0, 9)) for _ in range(spec.comb or 6))
        elif "address" in name:
            out[name] = _plain(fake.address())
        else:
            out[name] = _name(fake.name()) if spec.person_name else _plain(fake.name())
    return out


def _name(text: str) -> str:
    """A person's name as the OCR normalises it: NFKC, one space between family and given name."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _plain(text: str) -> str:
    """As the OCR normalises text: NFKC, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def misread(spec: FieldSpec, value: Value, rng: random.Random) -> Value:
    """A plausible OCR mistake: a look-alike character, a flipped box, another option."""
    t = spec.type
    if t is FieldType.CHECKBOX:
        return not value
    if t is FieldType.CHOICE:
        return rng.choice([o.value for o in spec.options if o.value != value] or [value])
    if t is FieldType.DATE:
        return (date.fromisoformat(str(value)) + timedelta(days=rng.choice([-10, -1, 1, 10]))).isoformat()
    s = str(value)
    spots = [i for i, ch in enumerate(s) if ch in SIMILAR]
    if spots:
        i = rng.choice(spots)
        return s[:i] + SIMILAR[s[i]] + s[i + 1:]
    return s[:-1] if len(s) > 1 else s


def draw_document(template: Template, truth: dict[str, Value], dd: DataDir, doc_id: str) -> tuple[str, dict[str, str]]:
    """Write the filled page and one crop per field; returns their paths (relative to the data directory)."""
    page = Image.open(template.reference).convert("L") if template.reference.exists() else \
        Image.new("L", _page_px(template), 255)
    dpi = page.width / (template.page_mm[0] / 25.4)
    draw = ImageDraw.Draw(page)
    for spec in template.fields:
        _write(draw, spec, truth[spec.name], dpi)
    doc_dir = dd.document(doc_id)
    crop_dir = dd.crops(doc_id)
    doc_dir.mkdir(parents=True, exist_ok=True)
    crop_dir.mkdir(parents=True, exist_ok=True)
    page.save(doc_dir / "page.png", optimize=False, compress_level=1)
    crops = {}
    for spec in template.fields:
        x, y, w, h = template.mm_to_px(spec.box_mm, dpi)
        margin = round(1.5 * dpi / 25.4)
        box = (max(0, x - margin), max(0, y - margin), x + w + margin, y + h + margin)
        path = crop_dir / f"{spec.name}.png"
        page.crop(box).save(path, compress_level=1)
        crops[spec.name] = str(path.relative_to(dd.root))
    return str((doc_dir / "page.png").relative_to(dd.root)), crops


def _page_px(template: Template) -> tuple[int, int]:
    k = template.reference_dpi / 25.4
    return round(template.page_mm[0] * k), round(template.page_mm[1] * k)


def _font(size: int) -> ImageFont.FreeTypeFont:
    path = HAND_FONT if HAND_FONT.exists() else FALLBACK_FONT
    return ImageFont.truetype(str(path), max(8, size))


def _write(draw: ImageDraw.ImageDraw, spec: FieldSpec, value: Value, dpi: float) -> None:
    k = dpi / 25.4
    x, y, w, h = (v * k for v in spec.box_mm)
    if spec.type is FieldType.CHECKBOX:
        if value:
            draw.line([(x + w * .15, y + h * .5), (x + w * .45, y + h * .85), (x + w * .9, y + h * .1)], fill=20,
                      width=max(2, round(k * .5)))
        return
    if spec.type is FieldType.CHOICE:
        for o in spec.options:
            if o.value == value:
                ox, oy, ow, oh = (v * k for v in o.box_mm)
                pad = 1.2 * k
                draw.ellipse([ox - pad, oy - pad, ox + ow + pad, oy + oh + pad], outline=20,
                             width=max(2, round(k * .4)))
        return
    text = wareki(str(value)) if spec.type is FieldType.DATE and value else str(value)
    if spec.comb:
        text = text.replace("-", "")
        cell = w / spec.comb
        font = _font(round(min(cell, h) * .8))
        for i, ch in enumerate(text[: spec.comb]):
            draw.text((x + cell * (i + .5), y + h / 2), ch, fill=25, font=font, anchor="mm")
        return
    size = round(h * .7)
    font = _font(size)
    while size > 8 and draw.textlength(text, font=font) > w * .96:
        size -= 2
        font = _font(size)
    draw.text((x + 1.5 * k, y + h / 2), text, fill=25, font=font, anchor="lm")
