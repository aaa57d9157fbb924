"""``kakitori demo``: the whole chain on one machine, no servers, no network.

Generates a few filled 住民異動届 scans, starts the sample legacy web system (a subprocess on a free local
port, its password passed by environment), runs the ``tennyu`` workflow on the embedded queue (jobs run in
this process), and prints where the run report is.

Review: documents with fields the machine is unsure of wait for a clerk. With ``resolve_review`` (the
default) the demo plays that clerk — **a demo shortcut**: each open field is set to the generator's true
value (from ``truth.jsonl``), audited as user ``demo-clerk``, and the document continues to key-in exactly as
after a real review. With ``--leave-review`` they stay waiting (``kakitori review serve`` shows them) and the
report counts them as waiting.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kakitori.config import Settings
from kakitori.errors import ApplicationError
from ocr.normalize import comparable
from ocr.record import FieldResult
from workflows import jobs
from workflows.definition import find_workflow
from workflows.runner import follow_run, start_run
from workflows.store import DocState, new_id

DEMO_WORKFLOW = "tennyu"
DEMO_TEMPLATE = "juminido"
DEMO_TARGET = "sample-legacy"
DEMO_CLERK = "demo-clerk"
LEGACY_PASSWORD_ENV = "KAKITORI_SAMPLE_LEGACY_PASSWORD"


@dataclass(frozen=True)
class DemoOutcome:
    run_id: str
    counts: dict[str, int]
    report_html: Path
    report_json: Path
    resolved_fields: int
    truth_matches: int
    truth_fields: int


def run_demo(cfg: Settings, *, count: int = 4, seed: int = 4242, resolve_review: bool = True,
             echo: Callable[[str], Any] = print) -> DemoOutcome:
    from ocr.template import template_by_name
    from samples.forms.generator import Options, generate

    cfg = cfg.model_copy(deep=True)
    cfg.queue.redis_url = "embedded"  # the demo never needs a Redis
    work = cfg.data_dir / "demo" / new_id("")
    scans_dir = work / "scans"
    echo(f"1/4 generating {count} sample scans of {DEMO_TEMPLATE} (seed {seed}) → {scans_dir}")
    truth = {line["file"]: line["fields"] for line in generate(
        template_by_name(DEMO_TEMPLATE, list(cfg.ocr.templates_dirs)), Options(count=count, seed=seed, out=scans_dir))}

    password = os.environ.get(LEGACY_PASSWORD_ENV) or secrets.token_urlsafe(12)
    os.environ[LEGACY_PASSWORD_ENV] = password  # the bots read it from here (bots.targets.*.password_env)
    with legacy_app(work / "legacy.db", password) as url:
        echo(f"2/4 sample legacy system running at {url}")
        target = cfg.bots.targets[DEMO_TARGET]
        target.base_url = url
        target.password_env = LEGACY_PASSWORD_ENV
        rt = jobs.use(cfg)
        wf = find_workflow(DEMO_WORKFLOW, cfg.workflows.dirs, targets=cfg.bots.targets)
        scans = wf.scans(scans_dir)
        run = start_run(rt, wf, scans, source=str(scans_dir))
        echo(f"3/4 run {run.id}: reading and keying {len(scans)} document(s) (embedded queue, in this process)")
        shown: set[int] = set()

        def progress(p: Any) -> None:
            if p.settled not in shown:
                shown.add(p.settled)
                echo(f"    {p.settled}/{p.total} settled: " + ", ".join(
                    f"{s.value} {n}" for s, n in p.counts.items() if n))

        follow_run(rt, run.id, on_progress=progress)
        resolved = 0
        if resolve_review:
            resolved = _play_the_clerk(rt, run.id, truth)
            if resolved:
                echo(f"    demo shortcut: {resolved} unsure field(s) confirmed with the true values as "
                     f"'{DEMO_CLERK}' (audited); those documents continue to key-in")
            final = follow_run(rt, run.id, on_progress=progress)
        else:
            final = follow_run(rt, run.id)
        matches, compared = _compare_with_truth(rt, run.id, truth)
    counts = {s.value: n for s, n in final.counts.items() if n}
    folder = rt.data.report(run.id)
    echo("4/4 done: " + ", ".join(f"{k} {v}" for k, v in counts.items())
         + f"; keyed values matching the truth: {matches}/{compared} fields")
    return DemoOutcome(run_id=run.id, counts=counts, report_html=folder / "report.html",
                       report_json=folder / "report.json", resolved_fields=resolved, truth_matches=matches,
                       truth_fields=compared)


def _play_the_clerk(rt: jobs.Runtime, run_id: str, truth: dict[str, dict[str, Any]]) -> int:
    """The demo shortcut: resolve each open field with the generator's true value, then continue."""
    resolved = 0
    for doc in rt.store.documents(run_id=run_id, states=[DocState.NEEDS_REVIEW]):
        true_values = truth.get(Path(doc.file).name, {})
        for name in doc.open_fields:
            field = doc.record.fields.get(name) if doc.record else None
            true = true_values.get(name, field.value if field else "")
            rt.store.correct_field(doc.id, name, clerk_value(field, true), user=DEMO_CLERK, role="reviewer")
            resolved += 1
        if rt.store.mark_reviewed(doc.id, DEMO_CLERK):
            jobs.continue_after_review(doc.id)
    return resolved


def clerk_value(field: FieldResult | None, true: Any) -> Any:
    """What the scripted clerk enters: the value as read when it is right (confirmed), else the true value."""
    if field is None:
        return true
    same = comparable(field.type, field.value) == comparable(field.type, true)
    # a name read without its family/given gap is not right: the clerk types the gap
    same_gap = (" " in str(field.value)) == (" " in str(true))
    return field.value if same and same_gap else true


def _compare_with_truth(rt: jobs.Runtime, run_id: str, truth: dict[str, dict[str, Any]]) -> tuple[int, int]:
    """How many keyed field values equal the generator's truth (a sanity figure, not the OCR benchmark)."""
    matches = compared = 0
    for doc in rt.store.documents(run_id=run_id, states=[DocState.KEYED]):
        true_values = truth.get(Path(doc.file).name)
        if not true_values or doc.record is None:
            continue
        for name, f in doc.record.fields.items():
            if name in true_values:
                compared += 1
                matches += comparable(f.type, f.value) == comparable(f.type, true_values[name])
    return matches, compared


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def legacy_app(db: Path, password: str, *, timeout_s: float = 30.0) -> Iterator[str]:
    """The sample legacy web system as a subprocess on a free 127.0.0.1 port; yields its URL, stops it after."""
    port = free_port()
    db.parent.mkdir(parents=True, exist_ok=True)
    log = open(db.with_suffix(".log"), "wb")
    env = {**os.environ, LEGACY_PASSWORD_ENV: password}
    proc = subprocess.Popen([sys.executable, "-m", "kakitori", "legacy-app", "serve", "--port", str(port),
                             "--db", str(db)], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise ApplicationError(f"the sample legacy app exited ({proc.returncode}); see {log.name}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise ApplicationError(f"the sample legacy app did not start in {timeout_s:.0f} s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

