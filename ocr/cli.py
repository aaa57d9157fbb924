"""Commands of the `ocr` package, added to the `kakitori` command line.

    kakitori ocr FILE... --template NAME|auto [--json]     read scans / PDFs into records
    kakitori bench ocr --data DIR [--json]                  accuracy, trust and speed on generated forms
"""

from __future__ import annotations

import json
from pathlib import Path

import typer


def ocr(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Scans (PDF, TIFF, PNG, JPEG) or born-digital PDFs."),
    template: str = typer.Option("auto", "--template", "-t", help="Template name, or auto (best match)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON record per line (per form read)."),
    document_id: str | None = typer.Option(None, "--id", help="Document id (default: from the file name)."),
) -> None:
    """Read forms: one record per form, each field with its value, confidence and status."""
    from kakitori.cli import settings
    from kakitori.paths import DataDir
    from ocr.pipeline import OcrEngine

    cfg = settings(ctx)
    engine = OcrEngine(cfg.ocr, DataDir(cfg.data_dir) if cfg.ocr.save_crops else None)
    for path in files:
        for record in engine.read(path, template=template, document_id=document_id if len(files) == 1 else None):
            if as_json:
                typer.echo(json.dumps(record.to_dict(), ensure_ascii=False))
                continue
            open_fields = [f for f in record.fields.values() if f.open]
            typer.echo(f"{record.file} → {record.document_id}: {record.template} "
                       f"(registration {record.registration_score:.2f}, {record.source}), "
                       f"{len(open_fields)} of {len(record.fields)} fields need a person")
            for f in record.fields.values():
                mark = "  " if not f.open else "! "
                why = f"  ({f.reason})" if f.reason else ""
                typer.echo(f"  {mark}{f.name:<22} {f.status.value:<13} {f.confidence:5.3f}{why}")


def bench_ocr(
    ctx: typer.Context,
    data: list[Path] = typer.Option(..., "--data", help="Folder with scans and truth.jsonl (kakitori samples "
                                                         "forms); repeat for several folders."),
    as_json: bool = typer.Option(False, "--json", help="Last line: one JSON object with the figures."),
    limit: int | None = typer.Option(None, "--limit", help="Read only the first N files."),
) -> None:
    """Field accuracy, CER, auto-accept and silent-error rates per field type; forms/s end to end."""
    from kakitori.cli import settings
    from ocr import bench
    from ocr.pipeline import OcrEngine

    cfg = settings(ctx)
    ocr_cfg = cfg.ocr.model_copy(update={"save_crops": False})
    engine = OcrEngine(ocr_cfg)
    outcomes, totals = [], {"seconds": 0.0, "forms": 0, "failed_forms": 0, "fields": 0}
    for folder in data:
        got, t = bench.run(engine, folder, limit)
        outcomes.extend(got)
        totals = {k: totals[k] + t[k] for k in totals}
    result = bench.report(outcomes, totals)
    result.update({"data": [str(d) for d in data], "recognizer": engine.recognizer.name, "trust_rule": engine.trust.source,
                   "threads": cfg.ocr.threads})
    typer.echo(bench.render(result))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this package's commands to the main app (and its benchmarks to `kakitori bench`)."""
    app.command("ocr")(ocr)
    bench.command("ocr")(bench_ocr)
