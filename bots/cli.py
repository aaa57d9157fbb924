"""Commands of the `bots` package, added to the `kakitori` command line."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Optional

import typer


def keyin_command(
    ctx: typer.Context,
    records: Path = typer.Argument(..., help="Records as JSON lines (one Record.to_dict() per line)."),
    target: str = typer.Option("sample-legacy", help="Target system (bots.targets in config.yaml)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Fill every screen, stop before the final confirm, "
                                                           "screenshot each step."),
    job_id: Optional[str] = typer.Option(None, help="Job id (folder for screenshots and traces)."),
    out: Optional[Path] = typer.Option(None, help="Write one result per record here (JSON lines)."),
) -> None:
    """Key records into a legacy system: never twice, each one read back and compared."""
    from tqdm import tqdm

    from bots.keyin import KeyInJob, load_records
    from kakitori.cli import settings
    from kakitori.errors import BusinessError, KakitoriError
    from kakitori.paths import DataDir, safe_id

    cfg = settings(ctx)
    items = load_records(records)
    job = safe_id(job_id or f"keyin-{time.strftime('%Y%m%d-%H%M%S')}", "job id")
    data_dir = DataDir(cfg.data_dir).ensure()
    counts: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    lines = []
    started = time.perf_counter()
    with KeyInJob(target, cfg.bots, data_dir, job, dry_run=dry_run) as keyin, \
            tqdm(total=len(items), unit="rec", desc=f"keyin {target}", disable=None) as bar:
        for record in items:
            doc = record.get("document_id", "")
            try:
                receipt = keyin.key(record)
                counts[receipt.status] += 1
                lines.append({"document_id": doc, **receipt.to_dict()})
            except KakitoriError as exc:
                counts["failed"] += 1
                kinds[exc.kind] += 1
                lines.append({"document_id": doc, "status": "failed", **exc.to_dict()})
                tqdm.write(f"failed ({exc.kind}): {exc}")
            bar.update(1)
    elapsed = time.perf_counter() - started
    if out:
        out.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do"
    typer.echo(f"{len(items)} record(s) in {elapsed:.1f} s: {summary}")
    if dry_run:
        typer.echo(f"dry-run screenshots: {data_dir.screenshots(job)}")
    if counts["failed"]:
        typer.echo(f"failures: screenshots in {data_dir.screenshots(job)}, trace {data_dir.trace(job)}")
        raise typer.Exit(BusinessError.exit_code if kinds["business"] else 5)


def bench_keyin_command(
    ctx: typer.Context,
    records: int = typer.Option(50, "--records", min=1, help="How many synthetic records to key."),
    faults: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of the app's requests given a fault."),
    seed: int = typer.Option(4242, help="Seed of the synthetic records and of the faults."),
    timeout_ms: int = typer.Option(4000, min=500, help="The bot's patience per screen in this benchmark."),
    as_json: bool = typer.Option(False, "--json", help="Last line: the figures as one JSON object."),
) -> None:
    """Key N synthetic records into a fresh sample legacy app with one worker; print the figures."""
    from tqdm import tqdm

    from bots.bench import run_keyin_bench, summary_lines
    from kakitori.cli import settings
    from samples.legacy_app.records import synthetic_records

    cfg = settings(ctx)
    browser = cfg.bots.browser.model_copy(update={"timeout_ms": timeout_ms})
    bots_cfg = cfg.bots.model_copy(update={"browser": browser})
    items = synthetic_records(records, seed=seed)
    with tqdm(total=records, unit="rec", desc="bench keyin", disable=None) as bar:
        figures = run_keyin_bench(items, bots_cfg, faults=faults, seed=seed, progress=lambda i: bar.update(1))
    for line in summary_lines(figures, f"faults {faults:g}, 1 worker"):
        typer.echo(line)
    if as_json:
        typer.echo(json.dumps(figures, ensure_ascii=False))


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this package's commands to the main app (and its benchmarks to `kakitori bench`)."""
    app.command("keyin")(keyin_command)
    bench.command("keyin")(bench_keyin_command)
