"""The ``kakitori`` command line: the edge where config is loaded and logging is set up.

Each package adds its own commands from ``<package>/cli.py`` through ``register(app, bench)``; commands
import heavy libraries (OpenCV, onnxruntime, Playwright) inside their bodies so that ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from loguru import logger

from kakitori import __version__
from kakitori.config import Settings, effective, load_config
from kakitori.errors import EXIT_CODES, KakitoriError
from kakitori.logs import setup_logging
from kakitori.paths import DataDir

COMMAND_MODULES = (
    "ocr.cli", "bots.cli", "workflows.cli", "workflows.catalog.cli", "workflows.review.cli",
    "samples.forms.cli", "samples.legacy_app.cli", "samples.desktop_app.cli",
)

app = typer.Typer(
    name="kakitori",
    help="Kakitori (書き取り): read handwritten forms, key them into legacy systems, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()),
)
bench = typer.Typer(help="Benchmarks: print figures (they are not tests).", no_args_is_help=True)
config_app = typer.Typer(help="Check and show the configuration.", no_args_is_help=True)
app.add_typer(bench, name="bench")
app.add_typer(config_app, name="config")

ConfigOption = typer.Option(None, "--config", "-c", help="config.yaml to use (default: $KAKITORI_CONFIG, ./config.yaml).")


class State:
    """Per-invocation state: the config path chosen on the command line, and the settings once loaded."""

    def __init__(self, config_path: Path | None = None) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None

    def settings(self, config_path: Path | None = None, *, log: bool = True) -> Settings:
        if self._settings is None:
            self._settings = load_config(config_path or self.config_path)
            if log:
                setup_logging(self._settings.logging, DataDir(self._settings.data_dir).logs)
        return self._settings


def settings(ctx: typer.Context, config_path: Path | None = None) -> Settings:
    """The settings for this invocation, loaded once (and logging configured) on first use."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj.settings(config_path)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"kakitori {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    ctx: typer.Context,
    config: Optional[Path] = ConfigOption,
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    ctx.obj = State(config)


@config_app.command("check")
def config_check(
    ctx: typer.Context,
    config: Optional[Path] = ConfigOption,
    as_json: bool = typer.Option(False, "--json", help="Print the effective configuration as JSON."),
) -> None:
    """Validate the configuration and print it, with secrets masked."""
    root = ctx.find_root()
    state = root.obj if isinstance(root.obj, State) else State()
    cfg = state.settings(config, log=False)
    data = effective(cfg)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        import yaml

        typer.echo(f"# {cfg.source}: OK")
        typer.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False).rstrip())


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app, bench)


def run(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turn Kakitori errors into one clear line and an exit code."""
    try:
        rv = app(args=argv, prog_name="kakitori", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except typer.TyperException as exc:  # click's usage errors, as vendored by Typer
        exc.show()
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except KakitoriError as exc:
        logger.bind(**exc.to_dict()).debug("command failed")
        typer.echo(f"error ({exc.kind}): {exc}", err=True)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the edge: log the traceback, show one line
        logger.opt(exception=exc).error("unexpected error")
        typer.echo(f"error (internal): {type(exc).__name__}: {exc} (details in the log file)", err=True)
        return 1
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(run())
