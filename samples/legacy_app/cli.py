"""Commands of `samples.legacy_app`, added to the `kakitori` command line."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this package's commands to the main app (and its benchmarks to `kakitori bench`)."""
