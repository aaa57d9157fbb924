"""The synthetic filled-form generator: N filled scans of a template and their truth, deterministic by seed.

Form ``i`` of a run depends only on (seed, template, i), so ``--count 10`` starts with the same five forms as
``--count 5``. Each form gets its own resident (Faker ja_JP + Japan Post data), its own hand (font, ink,
slant, size), optional real MNIST digits for digit-type fields, and its own scanner artefacts. The truth file
``truth.jsonl`` has one line per page (see docs/templates.md and the forms spec).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from loguru import logger
from PIL import Image

from kakitori.errors import BusinessError, ConfigError
from ocr.template import FieldType, Template
from samples.forms import content, scanner
from samples.forms.designs import DESIGNS
from samples.forms.drawing import Primitive, render_png
from samples.forms.handwriting import Style, Writer, lay_ink
from samples.forms.mnist import SPLITS, MnistDigits
from samples.forms.reference import TEMPLATES_DIR

DIGIT_TYPES = {FieldType.POSTAL, FieldType.PHONE, FieldType.INDIVIDUAL_NUMBER, FieldType.AMOUNT, FieldType.DIGITS,
               FieldType.DATE}
FORMATS = ("png", "jpg", "tiff", "pdf")


@dataclass(frozen=True)
class Options:
    count: int
    seed: int
    out: Path
    digits: str = "font"                 # font | mnist
    mnist_split: str | None = None       # train | calib | eval | calib2 (required with digits=mnist)
    mnist_path: Path | None = None       # default: the split's own file (samples.forms.mnist.default_path)
    format: str = "png"
    grey: bool = False
    artefacts: str = "light"
    born_digital: bool = False
    dpi: int = 200
    pages_per_file: int = 1

    def check(self) -> None:
        """Reject bad arguments with one clear line each."""
        if self.count <= 0:
            raise ConfigError(f"--count must be at least 1 (got {self.count})")
        if self.digits not in ("font", "mnist"):
            raise ConfigError(f"--digits must be 'font' or 'mnist' (got {self.digits!r})")
        if self.digits == "mnist" and self.mnist_split not in SPLITS:
            raise ConfigError("--digits mnist needs --mnist-split train|calib|eval|calib2 (eval only for reported "
                              "figures)")
        if self.format not in FORMATS:
            raise ConfigError(f"--format must be one of {', '.join(FORMATS)} (got {self.format!r})")
        if self.artefacts not in scanner.LEVELS:
            raise ConfigError(f"--artefacts must be one of {', '.join(scanner.LEVELS)} (got {self.artefacts!r})")
        if not 100 <= self.dpi <= 600:
            raise ConfigError(f"--dpi must be between 100 and 600 (got {self.dpi})")
        if self.pages_per_file < 1:
            raise ConfigError(f"--pages-per-file must be at least 1 (got {self.pages_per_file})")
        if self.pages_per_file > 1 and self.format not in ("tiff", "pdf"):
            raise ConfigError("--pages-per-file > 1 needs --format tiff or pdf")
        if self.born_digital and self.pages_per_file != 1:
            raise ConfigError("--born-digital writes one form per PDF (field names are unique per document)")


@dataclass(frozen=True)
class Filled:
    """One generated form page: the image (None for born-digital), its truth and how it was made."""

    index: int
    image: Image.Image | None
    entries: dict[str, content.Entry]
    scan: scanner.Scan
    mnist_indices: tuple[int, ...]


class Generator:
    """Generates filled forms of one template."""

    def __init__(self, template: Template, options: Options) -> None:
        options.check()
        self.template = template
        self.opt = options
        self.digits = MnistDigits(options.mnist_path, options.mnist_split) if options.digits == "mnist" else None
        self._blank: Image.Image | None = None
        self._items: tuple[Primitive, ...] | None = None

    # --- the printed form --------------------------------------------------------------------------------
    def printed_items(self) -> tuple[Primitive, ...]:
        """The vector drawing of the form (only the sample forms have one)."""
        if self._items is None:
            if not self._own_design():
                raise ConfigError("--born-digital needs a form drawn by samples/forms/designs.py",
                                  file=self.template.source)
            self._items = tuple(DESIGNS[self.template.name]().items)
        return self._items

    def blank(self) -> Image.Image:
        """The blank form at the scan dpi: redrawn for the sample forms, else the reference image rescaled."""
        if self._blank is None:
            if self._own_design():
                self._blank = render_png(self.printed_items(), self.template.page_mm, self.opt.dpi)
            else:
                ref = self.template.reference
                if not ref.exists():
                    raise ConfigError("reference image not found", file=ref)
                img = Image.open(ref).convert("L")
                k = self.opt.dpi / 25.4
                size = (round(self.template.page_mm[0] * k), round(self.template.page_mm[1] * k))
                self._blank = img.resize(size, Image.LANCZOS) if img.size != size else img
        return self._blank

    def _own_design(self) -> bool:
        src = self.template.source
        return self.template.name in DESIGNS and (src is None or src.resolve().parent == TEMPLATES_DIR.resolve())

    # --- one form ----------------------------------------------------------------------------------------
    def form(self, index: int) -> Filled:
        """Form ``index`` (0-based) of this run."""
        from faker import Faker

        rng = random.Random(f"{self.opt.seed}:{self.template.name}:{index}")
        fake = Faker("ja_JP")
        fake.seed_instance(rng.randrange(2**32))
        entries = content.fill(self.template, fake, rng)
        if self.opt.born_digital:
            return Filled(index, None, entries, scanner.Scan(), ())
        blank = self.blank()
        style = Style.random(rng)
        writer = Writer((blank.height, blank.width), self.opt.dpi, style, rng, self.digits)
        for f in self.template.fields:
            e = entries[f.name]
            box = self.template.mm_to_px(f.box_mm, self.opt.dpi)
            if f.type is FieldType.CHECKBOX:
                if e.written:
                    writer.tick(box)
            elif f.type is FieldType.CHOICE:
                if e.written:
                    option = next(o for o in f.options if o.value == e.written)
                    writer.circle(self.template.mm_to_px(option.box_mm, self.opt.dpi))
            elif e.written:
                writer.write(box, str(e.written), comb=f.comb, mnist_digits=f.type in DIGIT_TYPES)
        page = lay_ink(blank, writer.ink, style.ink, style.pressure, rng)
        scan = scanner.choose(self.opt.artefacts, rng)
        image = scanner.apply(page, scan, self.opt.dpi, rng, grey=self.opt.grey)
        return Filled(index, image, entries, scan, tuple(writer.used_digits))

    # --- a run -------------------------------------------------------------------------------------------
    def run(self) -> Iterator[dict]:
        """Write every file and ``truth.jsonl`` into the output folder; yield each truth line as written."""
        out = self.opt.out
        out.mkdir(parents=True, exist_ok=True)
        ext = "pdf" if self.opt.born_digital else {"tiff": "tif"}.get(self.opt.format, self.opt.format)
        per = self.opt.pages_per_file
        with (out / "truth.jsonl").open("w", encoding="utf-8") as truth:
            for start in range(0, self.opt.count, per):
                name = f"{start // per + 1:04d}.{ext}"
                forms = [self.form(i) for i in range(start, min(start + per, self.opt.count))]
                self._save(out / name, forms)
                for page, f in enumerate(forms, start=1):
                    line = self._truth(name, page, f)
                    truth.write(json.dumps(line, ensure_ascii=False) + "\n")
                    yield line
        logger.bind(template=self.template.name, count=self.opt.count, out=str(out)).info("sample forms generated")

    def _truth(self, name: str, page: int, f: Filled) -> dict:
        line = {"file": name, "page": page, "template": self.template.name,
                "fields": {k: e.truth for k, e in f.entries.items()},
                "dpi": self.opt.dpi, "digits": "typed" if self.opt.born_digital else self.opt.digits,
                "born_digital": self.opt.born_digital, "scan": f.scan.to_dict()}
        if self.digits is not None and not self.opt.born_digital:
            line["mnist_split"] = self.digits.split
            line["mnist_indices"] = list(f.mnist_indices)
        return line

    def _save(self, path: Path, forms: list[Filled]) -> None:
        if self.opt.born_digital:
            from samples.forms.pdf import write_born_digital

            write_born_digital(path, self.template, self.printed_items(), forms[0].entries)
            return
        images = [f.image for f in forms]
        dpi = (self.opt.dpi, self.opt.dpi)
        first, rest = images[0], images[1:]
        if self.opt.format == "png":
            first.save(path, dpi=dpi, compress_level=6)
        elif self.opt.format == "jpg":
            first.save(path, "JPEG", quality=90, dpi=dpi)
        elif self.opt.format == "tiff":
            first.save(path, "TIFF", save_all=True, append_images=rest, compression="tiff_deflate", dpi=dpi)
        else:
            first.save(path, "PDF", save_all=True, append_images=rest, resolution=float(self.opt.dpi))


def generate(template: Template, options: Options) -> list[dict]:
    """Generate ``options.count`` forms; return the truth lines."""
    try:
        return list(Generator(template, options).run())
    except OSError as exc:
        raise BusinessError(f"cannot write the samples: {exc.strerror or exc}", file=options.out) from None
