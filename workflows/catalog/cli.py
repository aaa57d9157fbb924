"""Commands of `workflows.catalog`: ``kakitori catalog score|add|check``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

catalog_app = typer.Typer(help="The automation candidate catalog: score it, add processes, check it.",
                          no_args_is_help=True)

CatalogOption = typer.Option(None, "--catalog", help="catalog YAML (default: catalog.file in config.yaml)")


def _catalog_path(ctx: typer.Context, given: Path | None) -> Path:
    from kakitori.cli import settings

    cfg = settings(ctx)  # also sets up logging, even when --catalog names the file
    return given or cfg.catalog.file


@catalog_app.command("score")
def score(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="the HTML report to write"),
    catalog: Optional[Path] = CatalogOption,
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="also write a CSV (UTF-8 with BOM, for Excel)"),
    md_out: Optional[Path] = typer.Option(None, "--md", help="also write a Markdown report"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON summary as the last line"),
) -> None:
    """Score every process of the catalog and write the ranked report (HTML, and CSV/Markdown if asked)."""
    from kakitori.cli import settings
    from kakitori.paths import DataDir
    from workflows.catalog.catalog_file import write_atomic
    from workflows.catalog.measured import load_measured
    from workflows.catalog.model import load_catalog
    from workflows.catalog.report import Report, render_csv, render_html, render_markdown
    from workflows.catalog.score import Weights, score_catalog

    cfg = settings(ctx)
    path = catalog or cfg.catalog.file
    cat = load_catalog(path)
    weights = Weights.from_config(cfg.catalog.weights, file=cfg.source)
    measured = load_measured(DataDir(cfg.data_dir).root / "reports")
    report = Report(cat, score_catalog(cat, weights, measured), weights, measured, path.name, datetime.now())
    write_atomic(out, render_html(report))
    written = [out]
    if csv_out:
        write_atomic(csv_out, render_csv(report), bom=True)
        written.append(csv_out)
    if md_out:
        write_atomic(md_out, render_markdown(report))
        written.append(md_out)
    totals = report.totals()
    typer.echo(f"{totals['processes']} processes scored ({totals['measured']} with measured runs); "
               f"positive savings {totals['hours']:,.0f} h/year")
    for s in report.scores[:5]:
        typer.echo(f"  {s.rank:>2}. {s.priority:5.1f}  {s.hours.net:>7,.0f} h/year  {s.process.id}  {s.process.name}")
    for p in written:
        typer.echo(f"wrote {p}")
    if as_json:
        top = [{"rank": s.rank, "id": s.process.id, "priority": round(s.priority, 1), "hours": round(s.hours.net)}
               for s in report.scores[:5]]
        typer.echo(json.dumps({**{k: round(v, 1) for k, v in totals.items()}, "top": top}, ensure_ascii=False))


@catalog_app.command("check")
def check(ctx: typer.Context, catalog: Optional[Path] = CatalogOption) -> None:
    """Validate the catalog file and say how many processes and references it holds."""
    from workflows.catalog.model import load_catalog

    path = _catalog_path(ctx, catalog)
    cat = load_catalog(path)
    estimated = sum(1 for p in cat.processes if p.estimated_only)
    typer.echo(f"{path}: OK — {len(cat.processes)} processes ({estimated} from estimates only), "
               f"{len(cat.references)} references")


@catalog_app.command("add")
def add(
    ctx: typer.Context,
    catalog: Optional[Path] = CatalogOption,
    from_csv: Optional[Path] = typer.Option(None, "--from-csv", help="add every row of this CSV (header = keys)"),
) -> None:
    """Add processes: one by answering prompts, or many from a CSV. Nothing is written unless all are valid."""
    from workflows.catalog.catalog_file import add_processes
    from workflows.catalog.model import load_catalog
    from workflows.catalog.rows import read_csv

    path = _catalog_path(ctx, catalog)
    cat = load_catalog(path)
    if from_csv:
        new = read_csv(from_csv, cat.references, {p.id for p in cat.processes})
    else:
        new = [_prompt_process(cat.references, {p.id for p in cat.processes})]
    how = add_processes(path, new)
    note = "comments kept" if how == "appended" else "file rewritten from its data: comments were not kept"
    typer.echo(f"added {len(new)} process(es) to {path} ({note}): {', '.join(p.id for p in new)}")


def _prompt_process(references, taken: set[str]):
    """Ask for each column; a bad answer is asked again with the reason, until the whole process is valid."""
    from workflows.catalog.rows import COLUMNS, CellError, check_references, process_from_row

    if references:
        typer.echo("references: " + ", ".join(references))
    cells: dict[str, str] = {}
    ask = [c.key for c in COLUMNS]
    while True:
        for column in COLUMNS:
            if column.key in ask:
                default = cells.get(column.key, "" if not column.required else None)
                cells[column.key] = typer.prompt(f"{column.key} — {column.help}", default=default,
                                                 show_default=bool(default))
        try:
            proc = process_from_row(cells)
            check_references(proc, references)
            if proc.id in taken:
                raise CellError("id", f"id '{proc.id}' is already in the catalog")
            return proc
        except CellError as exc:
            typer.echo(f"column '{exc.column}': {exc}", err=True)
            ask = [exc.column if exc.column in {c.key for c in COLUMNS} else "id"]


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this package's commands to the main app (and its benchmarks to `kakitori bench`)."""
    app.add_typer(catalog_app, name="catalog")
