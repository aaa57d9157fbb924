"""Commands of `samples.legacy_app`, added to the `kakitori` command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

legacy = typer.Typer(help="The sample legacy web system (what the bots key into in tests, benchmarks, demo).",
                     no_args_is_help=True)


@legacy.command("serve")
def serve_command(
    ctx: typer.Context,
    port: int = typer.Option(8765, help="Port on 127.0.0.1 (bots.targets.sample-legacy.base_url points here)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    db: Optional[Path] = typer.Option(None, help="SQLite file (default: <data_dir>/sample-legacy.db)."),
    faults: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of requests given a fault (0 = none)."),
    fault_kinds: str = typer.Option("error_before,error_after,stall,expire,rename",
                                    help="Which faults to inject (comma-separated)."),
    stall_s: float = typer.Option(8.0, min=0.0, help="How late a stalled response comes."),
    slow: float = typer.Option(0.01, min=0.0, max=1.0, help="Share of requests that are slow (not faults)."),
    slow_s: float = typer.Option(0.5, min=0.0, help="How much longer a slow request takes."),
    idle_timeout_s: float = typer.Option(600.0, min=0.1, help="Idle seconds before a session expires."),
    lockout_s: float = typer.Option(300.0, min=0.0, help="How long an account stays locked after 5 failures."),
    seed: Optional[int] = typer.Option(None, help="Seed for faults and slow responses (reproducible runs)."),
) -> None:
    """Run the sample legacy web system. Login: clerk01 / $KAKITORI_SAMPLE_LEGACY_PASSWORD
    (default 'kakitori-sample' for this sample only)."""
    import os

    from kakitori.cli import settings
    from kakitori.errors import ConfigError
    from samples.legacy_app.app import PASSWORD_ENV, config_from_env
    from samples.legacy_app.faults import FaultConfig, FaultInjector
    from samples.legacy_app.server import serve

    cfg = settings(ctx)
    try:
        fault_cfg = FaultConfig(rate=faults, stall_s=stall_s, slow_rate=slow, slow_s=slow_s, seed=seed,
                                kinds=tuple(k.strip() for k in fault_kinds.split(",") if k.strip()))
        FaultInjector(fault_cfg)  # validates the kinds
    except ValueError as exc:
        raise ConfigError(str(exc), key="--fault-kinds") from None
    db = db or cfg.data_dir / "sample-legacy.db"
    app_cfg = config_from_env(db, idle_timeout_s=idle_timeout_s, lockout_s=lockout_s, faults=fault_cfg)
    if not os.environ.get(PASSWORD_ENV):
        typer.echo(f"note: {PASSWORD_ENV} is not set: using the sample's documented default password", err=True)
    typer.echo(f"sample legacy system on http://{host}:{port}/  (db {db}, faults {faults:g})", err=True)
    serve(app_cfg, host, port)


@legacy.command("export")
def export_command(db: Path = typer.Option(..., help="The app's SQLite file.")) -> None:
    """Print every saved application as JSON lines (for tests and benchmarks)."""
    from kakitori.errors import ConfigError
    from samples.legacy_app.server import export

    if not db.exists():
        raise ConfigError("database not found", file=db)
    for row in export(db):
        typer.echo(json.dumps(row, ensure_ascii=False))


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this package's commands to the main app (and its benchmarks to `kakitori bench`)."""
    app.add_typer(legacy, name="legacy-app")
