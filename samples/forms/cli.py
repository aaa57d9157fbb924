"""Commands of `samples.forms`, added to the `kakitori` command line.

    kakitori samples forms --template NAME --count N --seed S --out DIR [...]   filled scans + truth.jsonl
    kakitori samples templates [--out DIR]                                      redraw the sample templates
    kakitori samples overlay --template NAME --out FILE.png                     field boxes over the reference
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

SAMPLES_HELP = "Sample forms, templates and legacy systems (demo, tests, benchmarks)."


def forms(
    ctx: typer.Context,
    template: str = typer.Option(..., "--template", "-t", help="Template name (juminido, jidoteate, inkan, or a "
                                                               "configured one)."),
    count: int = typer.Option(10, "--count", "-n", help="Number of filled forms."),
    seed: int = typer.Option(0, "--seed", help="Random seed (tune on seeds < 1000, report on seeds ≥ 1000)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (scans + truth.jsonl)."),
    digits: str = typer.Option("font", "--digits", help="font: handwriting fonts; mnist: real MNIST digits in "
                                                        "digit-type fields."),
    mnist_split: Optional[str] = typer.Option(
        None, "--mnist-split", help="train|calib|eval|calib2: the MNIST part to draw from (needed with --digits "
                                    "mnist; calib2 is fetched by scripts/fetch_mnist_calib.sh)."),
    mnist_path: Optional[Path] = typer.Option(
        None, "--mnist-path", help="The digits file (default: ../shared/data/mnist-dev/mnist_test_first5000.npz; "
                                   "for calib2, data/mnist-calib/mnist_test_last5000.npz)."),
    fmt: str = typer.Option("png", "--format", help="png, jpg, tiff or pdf."),
    grey: bool = typer.Option(False, "--grey", help="1-channel grey scans instead of colour."),
    artefacts: str = typer.Option("light", "--artefacts", help="Scanner artefacts: none, light or heavy."),
    born_digital: bool = typer.Option(False, "--born-digital", help="PDFs filled on a PC: typed text and AcroForm "
                                                                     "fields, no scan."),
    dpi: int = typer.Option(200, "--dpi", help="Scan resolution."),
    pages_per_file: int = typer.Option(1, "--pages-per-file", help="Forms per file (multi-page tiff/pdf)."),
) -> None:
    """Generate filled, scanned sample forms and DIR/truth.jsonl (one line per page), deterministic by seed."""
    from kakitori.cli import settings
    from ocr.template import template_by_name
    from samples.forms.generator import Options, generate

    cfg = settings(ctx)
    tpl = template_by_name(template, list(cfg.ocr.templates_dirs))
    options = Options(count=count, seed=seed, out=out, digits=digits, mnist_split=mnist_split,
                      mnist_path=mnist_path, format=fmt, grey=grey, artefacts=artefacts,
                      born_digital=born_digital, dpi=dpi, pages_per_file=pages_per_file)
    lines = generate(tpl, options)
    files = len({line["file"] for line in lines})
    typer.echo(f"{len(lines)} {tpl.name} forms in {files} files → {out} (truth: {out / 'truth.jsonl'})")


def templates(
    out: Optional[Path] = typer.Option(None, "--out", help="Folder (default: samples/templates/)."),
    dpi: int = typer.Option(200, "--dpi", help="Reference image resolution."),
) -> None:
    """Redraw the sample forms' blank reference PNGs and write their template YAML (box_mm from the layout)."""
    from samples.forms.designs import DESIGNS
    from samples.forms.reference import TEMPLATES_DIR, write_template

    for name in DESIGNS:
        tpl = write_template(name, out or TEMPLATES_DIR, dpi)
        typer.echo(f"{tpl.source}: {len(tpl.fields)} fields, reference {tpl.reference.name}")


def overlay(
    ctx: typer.Context,
    template: str = typer.Option(..., "--template", "-t", help="Template name."),
    out: Path = typer.Option(..., "--out", "-o", help="PNG to write."),
) -> None:
    """Draw a template's field boxes over its reference image, to check box_mm by eye."""
    from kakitori.cli import settings
    from ocr.template import template_by_name
    from samples.forms.reference import overlay as draw_overlay

    tpl = template_by_name(template, list(settings(ctx).ocr.templates_dirs))
    draw_overlay(tpl).save(out)
    typer.echo(f"{out}: {len(tpl.fields)} fields of {tpl.name}")


def samples_group(app: typer.Typer) -> typer.Typer:
    """The shared `kakitori samples` group: found if another samples package made it, else made here."""
    for info in app.registered_groups:
        if info.name == "samples" and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help=SAMPLES_HELP, no_args_is_help=True)
    app.add_typer(group, name="samples")
    return group


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this package's commands to the main app (and its benchmarks to `kakitori bench`)."""
    group = samples_group(app)
    group.command("forms")(forms)
    group.command("templates")(templates)
    group.command("overlay")(overlay)
