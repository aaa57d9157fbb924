"""The whole pipeline on forms made by the sample generator, with the real PP-OCR model: records, trust,
orientation, multi-page files, born-digital PDFs and the bad inputs of issue 3."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from kakitori.config import OcrConfig
from kakitori.errors import BusinessError, ConfigError
from kakitori.paths import DataDir
from ocr.normalize import comparable
from ocr.pipeline import OcrEngine
from ocr.record import FieldStatus, Record

from .conftest import MNIST, TEMPLATES

pytestmark = pytest.mark.integration


def _truth(folder):
    return [json.loads(line) for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines()]


def _correct(record: Record, fields: dict) -> dict[str, bool]:
    return {n: comparable(record.fields[n].type, record.fields[n].value) == comparable(record.fields[n].type, v)
            for n, v in fields.items()}


def test_generated_forms_become_validated_records(engine, generated):
    folder = generated("juminido", count=2, seed=5)
    for line in _truth(folder):
        (record,) = engine.read(folder / line["file"])
        assert record.template == "juminido" and record.registration_score > 0.6
        assert set(record.fields) == set(line["fields"])
        correct = _correct(record, line["fields"])
        assert sum(correct.values()) >= 0.8 * len(correct)
        # a field that passes unreviewed must be right
        passed = [n for n, f in record.fields.items() if f.status in (FieldStatus.ACCEPTED, FieldStatus.EMPTY)]
        assert passed and all(correct[n] for n in passed)
        assert {"load", "register", "crop", "recognise", "validate", "total"} <= set(record.timings_ms)
        assert Record.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_every_sample_template_is_read(engine, generated):
    for name in ("jidoteate", "inkan"):
        folder = generated(name, count=1, seed=6)
        (line,) = _truth(folder)
        (record,) = engine.read(folder / line["file"])
        assert record.template == name
        correct = _correct(record, line["fields"])
        assert sum(correct.values()) >= 0.75 * len(correct)


def test_upside_down_scan_reads_like_the_upright_one(engine, generated, tmp_path):
    folder = generated("juminido", count=2, seed=5)
    image = cv2.imread(str(folder / "0001.png"))
    cv2.imwrite(str(tmp_path / "turned.png"), cv2.rotate(image, cv2.ROTATE_180))
    upright = engine.read(folder / "0001.png")[0]
    turned = engine.read(tmp_path / "turned.png")[0]
    assert turned.values() == upright.values()


def test_crops_are_saved_for_reviewers_under_the_data_dir(engine, generated, tmp_path):
    folder = generated("juminido", count=2, seed=5)
    cfg = OcrConfig(templates_dirs=[TEMPLATES], save_crops=True)
    with_crops = OcrEngine(cfg, DataDir(tmp_path), recognizer=engine.recognizer, classifier=engine.classifier)
    (record,) = with_crops.read(folder / "0002.png", document_id="doc-42")
    assert record.document_id == "doc-42"
    paths = [f.crop for f in record.fields.values()]
    assert all(p and p.startswith(str(tmp_path / "crops" / "doc-42")) for p in paths)
    assert cv2.imread(paths[0]) is not None


def test_multi_page_tiff_gives_one_record_per_form(engine, generated):
    folder = generated("juminido", count=2, seed=8, format="tiff", pages_per_file=2, grey=True)
    lines = _truth(folder)
    records = engine.read(folder / lines[0]["file"], document_id="batch")
    assert [r.document_id for r in records] == ["batch-p001", "batch-p002"]
    for record, line in zip(records, lines):
        correct = _correct(record, line["fields"])
        assert sum(correct.values()) >= 0.8 * len(correct)


def test_born_digital_pdf_is_read_without_ocr(engine, generated):
    folder = generated("juminido", count=1, seed=9, born_digital=True, format="pdf")
    (line,) = _truth(folder)
    (record,) = engine.read(folder / line["file"])
    assert record.source == "pdf-text"
    assert all(_correct(record, line["fields"]).values())


def test_wrong_template_named_is_a_business_error(engine, generated):
    folder = generated("juminido", count=2, seed=5)
    with pytest.raises(BusinessError, match="matches no template") as err:
        engine.read(folder / "0001.png", template="inkan")
    assert err.value.context == {"file": "0001.png", "page": 1}
    with pytest.raises(ConfigError, match="no template named"):
        engine.read(folder / "0001.png", template="nosuch")


def test_blank_page_in_a_pdf_is_named(engine, generated, tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder = generated("juminido", count=2, seed=5)
    c = canvas.Canvas(str(tmp_path / "two.pdf"), pagesize=A4)
    c.drawImage(str(folder / "0001.png"), 0, 0, *A4)
    c.showPage()
    c.showPage()  # a blank back side
    c.save()
    with pytest.raises(BusinessError, match="blank") as err:
        engine.read(tmp_path / "two.pdf")
    assert err.value.context == {"file": "two.pdf", "page": 2}


def test_photo_instead_of_a_form_is_a_business_error(engine, tmp_path):
    rng = np.random.default_rng(3)
    photo = cv2.GaussianBlur(rng.integers(0, 255, (900, 1200, 3), dtype=np.uint8), (0, 0), 6)
    cv2.imwrite(str(tmp_path / "holiday.jpg"), cv2.normalize(photo, None, 0, 255, cv2.NORM_MINMAX))
    with pytest.raises(BusinessError) as err:
        engine.read(tmp_path / "holiday.jpg")
    assert err.value.context["file"] == "holiday.jpg"


@pytest.mark.skipif(not MNIST.exists(), reason="needs ../shared/data/mnist-dev (absent on a user's machine)")
def test_real_handwritten_digits_pass_only_when_right(engine, generated):
    folder = generated("juminido", count=2, seed=31, digits="mnist", mnist_split="calib")
    for line in _truth(folder):
        (record,) = engine.read(folder / line["file"])
        correct = _correct(record, line["fields"])
        for name, f in record.fields.items():
            if f.status is FieldStatus.ACCEPTED:
                assert correct[name], name
