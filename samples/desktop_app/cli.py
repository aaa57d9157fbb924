"""Commands of `samples.desktop_app`, added to the `kakitori` command line.

    kakitori desktop-app run [--db PATH] [--delay-ms N]     open the sample 住民記録 app (needs a display)
    kakitori desktop-app export [--db PATH]                 print what was saved, one JSON line per entry
    kakitori desktop-app capture-images [--out DIR]         re-cut the desktop bot's reference images
    kakitori bench desktop-keyin [--records N] [--json]     the desktop bot's figures, on a private Xvfb
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kakitori.errors import ConfigError

PASSWORD_ENV = "KAKITORI_SAMPLE_DESKTOP_PASSWORD"

desktop_app = typer.Typer(help="The sample legacy desktop app (Tk) that the desktop bot keys into.",
                          no_args_is_help=True)

DbOption = typer.Option(None, "--db", help="SQLite file of the app (default: <data_dir>/desktop-app.db).")
OutOption = typer.Option(None, "--out", help="Folder for the PNGs (default: the bot's own).")


def _db_path(ctx: typer.Context, db: Path | None) -> Path:
    if db is not None:
        return db
    from kakitori.cli import settings

    return settings(ctx).data_dir / "desktop-app.db"


@desktop_app.command("run")
def run(
    ctx: typer.Context,
    db: Path | None = DbOption,
    username: str = typer.Option("clerk01", "--username", help="The clerk id the app accepts."),
    password_env: str = typer.Option(PASSWORD_ENV, "--password-env",
                                     help="Environment variable holding the clerk's password."),
    delay_ms: int = typer.Option(0, "--delay-ms", min=0, help="Pretend the save takes this long (a slow host)."),
) -> None:
    """Open the sample 住民記録 app on the current display ($DISPLAY) and run until its window is closed."""
    from kakitori.cli import settings
    from kakitori.config import secret

    cfg = settings(ctx)  # logging goes to the data directory's log file

    password = secret(password_env)
    if not password:
        raise ConfigError(f"set the clerk's password in the environment variable {password_env}")
    import tkinter

    from loguru import logger

    from samples.desktop_app.app import DesktopApp
    from samples.desktop_app.store import ResidentStore

    path = db or cfg.data_dir / "desktop-app.db"
    try:
        app = DesktopApp(ResidentStore(path), username, password, delay_ms=delay_ms)
    except tkinter.TclError as exc:
        raise ConfigError(f"cannot open a window (is DISPLAY set to a running X server?): {exc}") from None
    logger.bind(db=str(path)).info("sample desktop app started")
    app.run()


@desktop_app.command("export")
def export(ctx: typer.Context, db: Path | None = DbOption) -> None:
    """Print every saved entry as one JSON line (for tests and benchmarks)."""
    from samples.desktop_app.store import ResidentStore

    path = _db_path(ctx, db)
    if not path.exists():
        raise ConfigError("no such database", file=path)
    for resident in ResidentStore(path).all():
        typer.echo(json.dumps(resident.to_dict(), ensure_ascii=False))


@desktop_app.command("capture-images")
def capture_images(
    out: Path | None = OutOption,
) -> None:
    """Open the app on $DISPLAY, walk its screens and dialogs, and save the bot's reference images.

    Run this after changing the app's look, or on a machine whose fonts render differently.
    """
    from samples.desktop_app.capture import capture

    for path in capture(out):
        typer.echo(path)


def bench_desktop_keyin(
    ctx: typer.Context,
    records: int = typer.Option(20, "--records", min=1, help="How many synthetic records to key."),
    seed: int = typer.Option(4242, help="Seed of the synthetic records."),
    delay_ms: int = typer.Option(0, "--delay-ms", min=0, help="The app's pretended save time."),
    as_json: bool = typer.Option(False, "--json", help="Last line: the figures as one JSON object."),
) -> None:
    """Key N synthetic records into a fresh sample desktop app on a private Xvfb (pyautogui, one worker)."""
    from tqdm import tqdm

    from bots.bench import summary_lines
    from kakitori.cli import settings
    from samples.desktop_app.bench import run_desktop_bench
    from samples.legacy_app.records import synthetic_records

    settings(ctx)  # logging
    items = synthetic_records(records, seed=seed, prefix="desk")
    with tqdm(total=records, unit="rec", desc="bench desktop-keyin", disable=None) as bar:
        figures = run_desktop_bench(items, delay_ms=delay_ms, progress=lambda i: bar.update(1))
    for line in summary_lines(figures, "desktop app on Xvfb, 1 worker"):
        typer.echo(line)
    if as_json:
        typer.echo(json.dumps(figures, ensure_ascii=False))


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this package's commands to the main app (and its benchmarks to `kakitori bench`)."""
    app.add_typer(desktop_app, name="desktop-app")
    bench.command("desktop-keyin")(bench_desktop_keyin)
