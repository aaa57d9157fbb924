"""Commands of `workflows.review`, added to the `kakitori` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from kakitori.cli import settings

review_app = typer.Typer(help="The review station: clerks check the fields the machine is unsure of.",
                         no_args_is_help=True)


@review_app.command("serve")
def serve(
    ctx: typer.Context,
    port: int | None = typer.Option(None, "--port", "-p", help="Port (default: review.port in config)."),
    host: str | None = typer.Option(None, "--host", help="Address to listen on (default: review.host)."),
) -> None:
    """Start the review station web app (open http://HOST:PORT/ in Chromium/Edge and log in)."""
    from werkzeug.serving import make_server

    from workflows import jobs
    from workflows.review.app import create_app
    from workflows.store import DocumentStore

    cfg = settings(ctx)
    store = DocumentStore.from_settings(cfg)
    jobs.use(cfg, store=store)  # reviewed documents continue (key-in enqueued) through the same store
    app = create_app(cfg.review, store, cfg.data_dir, cfg.ocr.templates_dirs)
    host = host or cfg.review.host
    port = port or cfg.review.port
    server = make_server(host, port, app, threaded=True)
    typer.echo(f"review station on http://{host}:{server.server_port}/ (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        server.server_close()
        store.close()


@review_app.command("hash-password")
def hash_password_cmd(
    stdin: bool = typer.Option(False, "--stdin", help="Read the password from standard input (for scripts)."),
) -> None:
    """Make the password hash an IT officer puts in a reviewer's password_hash_env variable."""
    from workflows.review.auth import hash_password

    if stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("パスワード / password", hide_input=True, confirmation_prompt=True)
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(hashed)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this package's commands to the main app (and its benchmarks to `kakitori bench`)."""
    app.add_typer(review_app, name="review")

    @bench.command("review")
    def bench_review(
        documents: int = typer.Option(1000, "--documents", "-n", min=1, help="Documents waiting for review."),
        reviewed: int = typer.Option(20, "--reviewed", min=1, help="Documents the scripted clerk reviews."),
        as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON line at the end."),
        screenshots: Path | None = typer.Option(None, "--screenshots", help="Also save screenshots of the main "
                                                   "screens into this folder (docs/ uses them)."),
    ) -> None:
        """Review station speed in real Chromium: page load with N documents waiting, seconds per reviewed field."""
        from workflows.review.bench import capture_screenshots, run_bench

        if screenshots:
            capture_screenshots(screenshots, typer.echo)
        figures = run_bench(documents=documents, reviewed=reviewed, echo=typer.echo)
        if as_json:
            typer.echo(json.dumps(figures, ensure_ascii=False))
