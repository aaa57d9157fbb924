"""Commands of the `workflows` package, added to the `kakitori` command line.

    kakitori worker [--queues ocr,keyin] [--burst]       an rq worker (also: python worker.py)
    kakitori run WORKFLOW [--input DIR] [--no-wait]       a staff-triggered run, with a progress bar
    kakitori scheduler                                    overnight runs from the configured cron schedules
    kakitori jobs failed | requeue ID|--all | sweep       failed jobs and documents, and putting them back
    kakitori demo                                         the whole chain on sample scans, no servers needed
    kakitori bench pipeline --forms N --workers W         throughput, queue overhead, lost/duplicated records
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

ConfigOption = typer.Option(None, "--config", "-c", help="config.yaml to use (default: $KAKITORI_CONFIG, ./config.yaml).")
jobs_app = typer.Typer(help="Failed jobs and documents: list, requeue, sweep.", no_args_is_help=True)


def _settings(ctx: typer.Context, config: Optional[Path]):
    from kakitori.cli import settings

    return settings(ctx, config)


def worker(
    ctx: typer.Context,
    config: Optional[Path] = ConfigOption,
    queues: Optional[str] = typer.Option(None, "--queues", "-q", help="Comma-separated queues (default: all "
                                                                      "configured: ocr,keyin,report)."),
    burst: bool = typer.Option(False, "--burst", help="Quit when the queues are empty."),
    parts: Optional[str] = typer.Option(None, "--parts", help="module:factory giving other OCR/key-in parts "
                                                              "(tests of the queue machinery); default the real "
                                                              "ones."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every job (rq's INFO lines)."),
) -> None:
    """Start an rq worker on the configured Redis (JSON jobs, scheduler on, sweeper in its maintenance)."""
    import os

    from kakitori.errors import ConfigError
    from worker import start_worker

    cfg = _settings(ctx, config)
    if cfg.queue.redis_url == "embedded":
        raise ConfigError("queue.redis_url is 'embedded': jobs run inside `kakitori run`; a worker needs a Redis "
                          "URL (e.g. KAKITORI_QUEUE__REDIS_URL=redis://127.0.0.1:6379/0)", key="queue.redis_url")
    if cfg.source:  # jobs that load the config themselves find the same file
        os.environ.setdefault("KAKITORI_CONFIG", str(cfg.source))
    start_worker(cfg, [q.strip() for q in queues.split(",")] if queues else None, burst=burst, parts=parts,
                 verbose=verbose)


def run(
    ctx: typer.Context,
    workflow: str = typer.Argument(..., help="Workflow name (in workflows.dirs) or path to its YAML."),
    config: Optional[Path] = ConfigOption,
    input_dir: Optional[Path] = typer.Option(None, "--input", "-i", help="Folder of scans (default: the "
                                                                        "workflow's input)."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Enqueue and return (a worker does the rest)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Give up waiting after this many seconds."),
) -> None:
    """Run a workflow on a folder of scans: enqueue every scan and follow the run to its report."""
    from workflows.definition import find_workflow
    from workflows.jobs import sweep, use
    from workflows.runner import input_folder, start_run

    cfg = _settings(ctx, config)
    rt = use(cfg)
    rt.queue.ping()
    wf = find_workflow(workflow, cfg.workflows.dirs, targets=cfg.bots.targets)
    folder = input_folder(rt, wf, input_dir)
    scans = wf.scans(folder)
    if not scans:
        typer.echo(f"no scans in {folder} (patterns: {', '.join(wf.patterns)})")
        return
    if rt.queue.embedded and no_wait:
        typer.echo("note: the embedded queue runs jobs in this process; --no-wait ignored", err=True)
        no_wait = False
    if rt.queue.embedded:
        sweep(rt)  # documents a previous, interrupted embedded run left behind
    consume = input_dir is None and wf.folder is not None  # a watched folder is emptied as it is read
    run_ = start_run(rt, wf, scans, consume=consume, source=str(folder or ""))
    typer.echo(f"run {run_.id}: {len(scans)} document(s) of workflow {wf.name} enqueued")
    if no_wait:
        return
    _follow(rt, run_.id, len(scans), timeout)


def _follow(rt, run_id: str, total: int, timeout: float | None) -> None:
    from tqdm import tqdm

    from workflows.runner import follow_run
    from workflows.store import DocState

    with tqdm(total=total, unit="doc", desc=run_id[-8:], leave=True) as bar:
        def show(p) -> None:
            if p.settled != bar.n:
                bar.set_postfix(keyed=p.counts[DocState.KEYED], review=p.counts[DocState.NEEDS_REVIEW],
                                failed=p.counts[DocState.FAILED], refresh=False)
                bar.update(p.settled - bar.n)

        final = follow_run(rt, run_id, on_progress=show, timeout_s=timeout)
    c = final.counts
    typer.echo(f"keyed {c[DocState.KEYED]}, accepted {c[DocState.ACCEPTED]}, waiting for review "
               f"{c[DocState.NEEDS_REVIEW]}, failed {c[DocState.FAILED]}")
    typer.echo(f"report: {rt.data.report(run_id) / 'report.html'}")


def scheduler(
    ctx: typer.Context,
    config: Optional[Path] = ConfigOption,
    once: bool = typer.Option(False, "--once", help="Fire what is due now and exit (for cron/systemd timers)."),
) -> None:
    """Start runs at their cron times (workflows.schedules, and each workflow's `schedule:`).

    Several schedulers may run (one per machine): each fire time is claimed once in Redis, so only one of
    them starts the run.
    """
    from workflows.jobs import use
    from workflows.schedule import Scheduler

    cfg = _settings(ctx, config)
    rt = use(cfg)
    rt.queue.ping()
    sched = Scheduler(rt)
    if once:
        for run_id in sched.fire_due():
            typer.echo(f"started {run_id}")
        return
    typer.echo(f"scheduler: {len(sched.entries)} schedule(s): " + ", ".join(f"{e.workflow} '{e.cron}'"
                                                                           for e in sched.entries))
    sched.run_forever()


@jobs_app.command("failed")
def jobs_failed(
    ctx: typer.Context,
    config: Optional[Path] = ConfigOption,
    as_json: bool = typer.Option(False, "--json", help="One JSON object."),
) -> None:
    """List failed documents (with reasons) and the jobs rq gave up on."""
    from workflows.jobs import use
    from workflows.store import DocState

    rt = use(_settings(ctx, config))
    docs = rt.store.documents(states=[DocState.FAILED])
    queued = rt.queue.failed() if not rt.queue.embedded else []
    if as_json:
        typer.echo(json.dumps({"documents": [_failed_doc(d) for d in docs],
                               "jobs": [j.to_dict() for j in queued]}, ensure_ascii=False))
        return
    if not docs and not queued:
        typer.echo("no failed documents or jobs")
    for d in docs:
        f = _failed_doc(d)
        typer.echo(f"{d.id}  {f['stage']:<6} {f['kind']:<11} {f['file']}: {f['message']}"
                   + (f"  [{f['context']}]" if f["context"] else ""))
    for j in queued:
        typer.echo(f"job {j.id} ({j.queue}): {j.reason}")


def _failed_doc(d) -> dict:
    e = d.error or {}
    ctx = {k: v for k, v in (e.get("context") or {}).items() if k != "document"}
    return {"document": d.id, "run": d.run_id, "file": Path(d.file).name, "stage": e.get("stage", ""),
            "kind": e.get("kind", ""), "retryable": e.get("retryable", False), "message": e.get("message", ""),
            "context": " ".join(f"{k}={v}" for k, v in ctx.items())}


@jobs_app.command("requeue")
def jobs_requeue(
    ctx: typer.Context,
    ident: Optional[str] = typer.Argument(None, help="A failed document id, or a failed job id (keyin-doc-…, "
                                                      "report-run-…)."),
    config: Optional[Path] = ConfigOption,
    all_: bool = typer.Option(False, "--all", help="Requeue every failed document."),
) -> None:
    """Put failed documents back where they failed and enqueue their jobs again."""
    from kakitori.errors import BusinessError
    from workflows.jobs import requeue_document, use
    from workflows.store import DocState

    rt = use(_settings(ctx, config))
    if all_ == bool(ident):
        raise typer.BadParameter("give one document id, or --all")
    ids = [d.id for d in rt.store.documents(states=[DocState.FAILED])] if all_ else [ident]
    done = []
    # jobs of no document (a run's report) are requeued as rq jobs
    report_jobs = ([j.id for j in rt.queue.failed() if j.id.startswith("report-")] if all_
                   else [ident] if ident.startswith("report-") else [])
    for jid in report_jobs:
        if rt.queue.requeue_failed(jid):
            done.append(jid)
        elif not all_:
            raise BusinessError("no such failed job", job=jid)
    ids = [i for i in ids if i not in report_jobs]
    for doc_id in ids:
        for prefix in ("ocr-", "keyin-"):
            if doc_id.startswith(prefix) and rt.store.find(doc_id) is None:
                doc_id = doc_id.removeprefix(prefix)
        try:
            done.append(requeue_document(doc_id, rt))
        except BusinessError as exc:
            if not all_:
                raise
            typer.echo(f"skipped {doc_id}: {exc.message}", err=True)
    typer.echo(f"requeued {len(done)} job(s)" + (": " + ", ".join(done) if len(done) <= 10 and done else ""))
    if rt.queue.embedded and done:
        rt.queue.drain()


@jobs_app.command("sweep")
def jobs_sweep(ctx: typer.Context, config: Optional[Path] = ConfigOption) -> None:
    """Re-enqueue documents whose jobs were lost (a killed worker, a restarted Redis). Workers do this too."""
    from workflows.jobs import sweep, use

    rt = use(_settings(ctx, config))
    enqueued = sweep(rt)
    typer.echo(f"re-enqueued {len(enqueued)} job(s)")
    if rt.queue.embedded and enqueued:
        rt.queue.drain()


def demo(
    ctx: typer.Context,
    config: Optional[Path] = ConfigOption,
    count: int = typer.Option(4, "--count", "-n", help="Sample scans to generate."),
    seed: int = typer.Option(4242, "--seed", help="Seed of the sample scans."),
    resolve_review: bool = typer.Option(True, "--resolve-review/--leave-review",
                                        help="Demo shortcut: confirm fields waiting for review with the generator's "
                                             "true values, as a clerk would, so every document is keyed."),
) -> None:
    """The whole chain on the embedded queue: sample scans → OCR → review → key-in to the sample system → report."""
    from workflows.demo import run_demo

    cfg = _settings(ctx, config)
    outcome = run_demo(cfg, count=count, seed=seed, resolve_review=resolve_review, echo=typer.echo)
    typer.echo(f"report: {outcome.report_html}")


def bench_pipeline(
    ctx: typer.Context,
    config: Optional[Path] = ConfigOption,
    forms: int = typer.Option(20, "--forms", help="Generated forms to push through OCR and key-in."),
    workers: int = typer.Option(2, "--workers", "-w", help="Worker processes (scaling measured 1..W)."),
    trivial: int = typer.Option(2000, "--trivial-jobs", help="Trivial jobs to measure queue overhead with."),
    redis_url: Optional[str] = typer.Option(None, "--redis-url", help="A Redis no other worker uses (default: a "
                                                                      "private redis-server for the benchmark)."),
    as_json: bool = typer.Option(False, "--json", help="Last line: one JSON object."),
) -> None:
    """Throughput (forms/minute) through real workers on real Redis, queue overhead per job, lost/duplicates."""
    from workflows.bench import run_bench

    cfg = _settings(ctx, config)
    result = run_bench(cfg, forms=forms, workers=workers, trivial_jobs=trivial, redis_url=redis_url,
                       echo=typer.echo)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add this package's commands to the main app (and its benchmarks to `kakitori bench`)."""
    app.command("worker")(worker)
    app.command("run")(run)
    app.command("scheduler")(scheduler)
    app.command("demo")(demo)
    app.add_typer(jobs_app, name="jobs")
    bench.command("pipeline")(bench_pipeline)
