"""``kakitori bench pipeline``: forms through real worker processes on a real Redis, and what the queue costs.

Three measurements, all on a private redis-server started for the benchmark (unless ``--redis-url`` names
one), so nobody's queues are touched:

1. Queue overhead per job: one worker process drains ``trivial_jobs`` no-op jobs; wall time / jobs.
2. Throughput and scaling: N generated 住民異動届 scans through OCR → review → key-in into the sample legacy
   app with 1..W worker processes (the models load at worker start, before the clock starts). Fields the
   machine is unsure of are resolved by a scripted reviewer (the generator's true values) the moment they
   appear, so every form goes through to key-in.
3. Lost and duplicated records: documents that ended neither keyed nor failed-with-a-reason, or that the
   target does not hold; entries the target holds more than once for one idempotency key.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
import yaml
from rq import Worker
from rq.serializers import JSONSerializer

from kakitori.config import ROOT, Settings, load_config
from kakitori.errors import ApplicationError, ConfigError
from workflows import jobs
from workflows.definition import find_workflow
from workflows.demo import (
    DEMO_CLERK,
    DEMO_TARGET,
    DEMO_TEMPLATE,
    DEMO_WORKFLOW,
    LEGACY_PASSWORD_ENV,
    clerk_value,
    legacy_app,
)
from workflows.runner import start_run
from workflows.store import TERMINAL, DocState


def run_bench(cfg: Settings, *, forms: int, workers: int, trivial_jobs: int = 2000, redis_url: str | None = None,
              echo: Callable[[str], Any] = print) -> dict[str, Any]:
    from ocr.template import template_by_name
    from samples.forms.generator import Options, generate

    if forms < 1 or workers < 1:
        raise ConfigError("--forms and --workers must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="kakitori-bench-"))
    try:
        with _redis(redis_url, work) as url:
            echo(f"redis: {url}")
            overhead = _overhead(cfg, url, work, trivial_jobs)
            echo(f"queue overhead: {overhead['overhead_ms_per_job']:.2f} ms per job wall-clock, "
                 f"{overhead['worker_cpu_ms_per_job']:.2f} ms worker CPU (1 worker, {trivial_jobs} trivial jobs); "
                 f"enqueue {overhead['enqueue_ms_per_job']:.3f} ms per job; load average {os.getloadavg()[0]:.1f} "
                 f"on {os.cpu_count()} CPUs")
            scans = work / "scans"
            echo(f"generating {forms} {DEMO_TEMPLATE} scans …")
            truth = {line["file"]: line["fields"] for line in generate(
                template_by_name(DEMO_TEMPLATE, list(cfg.ocr.templates_dirs)),
                Options(count=forms, seed=4242, out=scans))}
            password = secrets.token_urlsafe(12)
            os.environ[LEGACY_PASSWORD_ENV] = password
            scaling, last = {}, {}
            for w in range(1, workers + 1):
                last = _pipeline(cfg, url, work / f"w{w}", scans, truth, w, password)
                scaling[w] = round(last["forms_per_minute"], 1)
                echo(f"{w} worker(s): {last['forms_per_minute']:.1f} forms/min ({last['seconds']:.1f} s for "
                     f"{forms}); keyed {last['keyed']}, failed {last['failed']}, lost {last['lost']}, "
                     f"duplicates {last['duplicates']}, reviewed fields {last['reviewed_fields']}; OCR threads per "
                     f"worker {last['ocr_threads']}; load average {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_1000 = 1000 / last["forms_per_minute"] if last["forms_per_minute"] else float("inf")
    echo(f"→ {last['forms_per_minute']:.1f} forms/min with {workers} worker(s): 1,000 forms in ≈ {per_1000:.0f} min")
    return {
        "forms": forms, "workers": workers, "forms_per_minute": round(last["forms_per_minute"], 2),
        "minutes_per_1000_forms": round(per_1000, 1), "scaling_forms_per_minute": scaling,
        "overhead_ms_per_job": round(overhead["overhead_ms_per_job"], 3),
        "overhead_worker_cpu_ms_per_job": round(overhead["worker_cpu_ms_per_job"], 3),
        "enqueue_ms_per_job": round(overhead["enqueue_ms_per_job"], 4),
        "lost": last["lost"], "duplicates": last["duplicates"], "keyed": last["keyed"], "failed": last["failed"],
        "failure_reasons": last["failure_reasons"], "reviewed_fields": last["reviewed_fields"],
        "ocr_threads_per_worker": last["ocr_threads"], "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 1),
    }


def _overhead(cfg: Settings, url: str, work: Path, n: int) -> dict[str, float]:
    settings = _settings_for(cfg, url, work / "overhead")
    rt = jobs.use(settings)
    with _workers(settings, work / "overhead", 1, queues="report") as procs:
        q = rt.queue.queue("report")
        registry = q.finished_job_registry
        target = registry.count + n  # a shared --redis-url may hold earlier results: count from here
        cpu_before = _cpu_seconds(procs[0].pid)
        started = time.perf_counter()
        with rt.queue.connection.pipeline() as pipe:
            q.enqueue_many([q.prepare_data(jobs.noop, (i,), result_ttl=60) for i in range(n)], pipeline=pipe)
            pipe.execute()
        enqueued = time.perf_counter()
        while registry.count < target:
            if time.perf_counter() - started > 120:
                raise ApplicationError(f"trivial jobs not done after 120 s ({n - target + registry.count}/{n})")
            time.sleep(0.02)
        done = time.perf_counter()
        cpu = _cpu_seconds(procs[0].pid) - cpu_before
    rt.store.close()
    return {"overhead_ms_per_job": (done - started) * 1000 / n, "enqueue_ms_per_job": (enqueued - started) * 1000 / n,
            "worker_cpu_ms_per_job": cpu * 1000 / n}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): the worker's own cost, whatever else loads the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pipeline(cfg: Settings, url: str, work: Path, scans: Path, truth: dict[str, dict], n_workers: int,
              password: str) -> dict[str, Any]:
    with legacy_app(work / "legacy.db", password) as legacy_url:
        threads = ocr_threads_per_worker(cfg.ocr.threads, n_workers)
        settings = _settings_for(cfg, url, work, legacy_url, ocr_threads=threads)
        rt = jobs.use(settings)
        wf = find_workflow(DEMO_WORKFLOW, settings.workflows.dirs, targets=settings.bots.targets)
        with _workers(settings, work, n_workers):
            stop = threading.Event()
            reviewed = [0]
            reviewer = threading.Thread(target=_scripted_reviewer, args=(rt, truth, stop, reviewed), daemon=True)
            reviewer.start()
            started = time.perf_counter()
            run = start_run(rt, wf, wf.scans(scans), source=str(scans))
            total = len(truth)
            deadline = started + max(600, total * 20)
            while True:
                counts = rt.store.count_by_state(run.id)
                if sum(counts[s] for s in TERMINAL) >= total:
                    break
                if time.perf_counter() > deadline:
                    break
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            stop.set()
            reviewer.join()
        docs = rt.store.documents(run_id=run.id)
        from samples.legacy_app.store import Store

        memos = Counter(row.get("memo", "") for row in Store(work / "legacy.db").export())
    keys = {(d.receipt or {}).get("idempotency_key") for d in docs if d.state is DocState.KEYED}
    lost = sum(1 for d in docs if d.state not in TERMINAL) + sum(1 for k in keys if k and memos.get(k, 0) == 0)
    failures = Counter(f"{(d.error or {}).get('stage')}: {(d.error or {}).get('message')}" for d in docs
                       if d.state is DocState.FAILED)
    rt.store.close()
    return {"seconds": seconds, "forms_per_minute": len(docs) / seconds * 60 if seconds else 0.0,
            "keyed": sum(1 for d in docs if d.state is DocState.KEYED),
            "failed": sum(1 for d in docs if d.state is DocState.FAILED), "lost": lost,
            "duplicates": sum(n - 1 for memo, n in memos.items() if memo and n > 1),
            "reviewed_fields": reviewed[0], "failure_reasons": dict(failures.most_common(5)), "ocr_threads": threads}


def _scripted_reviewer(rt: jobs.Runtime, truth: dict[str, dict], stop: threading.Event, reviewed: list[int]) -> None:
    """A clerk who resolves each open field at once with the true value (the benchmark measures machines)."""
    while not stop.is_set():
        for doc in rt.store.waiting_for_review(limit=100).items:
            values = truth.get(Path(doc.file).name, {})
            for name in doc.open_fields:
                field = doc.record.fields.get(name) if doc.record else None
                true = values.get(name, field.value if field else "")
                rt.store.correct_field(doc.id, name, clerk_value(field, true), user=DEMO_CLERK)
                reviewed[0] += 1
            if rt.store.mark_reviewed(doc.id, DEMO_CLERK):
                jobs.continue_after_review(doc.id)
        stop.wait(0.1)


def ocr_threads_per_worker(configured: int, workers: int, cpus: int | None = None) -> int:
    """OCR threads per worker process when ``workers`` share this machine's CPUs: at most the configured number,
    at least one. Two workers with two threads each on two cores run slower than with one each (measured: ~25 %
    more worker CPU per form, 43 against 49 forms/min)."""
    return max(1, min(configured, (cpus or os.cpu_count() or 1) // workers))


def _settings_for(cfg: Settings, url: str, work: Path, legacy_url: str | None = None,
                  ocr_threads: int | None = None) -> Settings:
    """The benchmark's own config file (a worker process loads it): its Redis, data folder and target."""
    data = cfg.model_dump(mode="json")
    if ocr_threads is not None:
        data["ocr"]["threads"] = ocr_threads
    data["data_dir"] = str(work / "data")
    data["queue"]["redis_url"] = url
    data["queue"]["redis_password_env"] = None
    data["store"]["url"] = "sqlite:///{data_dir}/kakitori.db"
    data["store"]["password_env"] = None
    data["logging"]["level"] = "WARNING"
    if legacy_url:
        target = data["bots"]["targets"][DEMO_TARGET]
        target["base_url"] = legacy_url
        target["password_env"] = LEGACY_PASSWORD_ENV
    work.mkdir(parents=True, exist_ok=True)
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path, env={k: v for k, v in os.environ.items() if not k.startswith("KAKITORI_")})


@contextmanager
def _workers(settings: Settings, work: Path, n: int, queues: str | None = None) -> Iterator[list[subprocess.Popen]]:
    """``n`` worker processes, started and registered (models loaded) before the block runs."""
    conn = redis.Redis.from_url(settings.queue.redis_url)
    args = [sys.executable, str(ROOT / "worker.py"), "--config", str(settings.source)]
    if queues:
        args += ["--queues", queues]
    procs = []
    logs = []
    for i in range(n):
        logs.append(open(work / f"worker{i}.log", "wb"))
        procs.append(subprocess.Popen(args, cwd=ROOT, stdout=logs[-1], stderr=subprocess.STDOUT,
                                      start_new_session=True))
    try:
        deadline = time.monotonic() + 180
        while len(Worker.all(connection=conn, serializer=JSONSerializer)) < n:
            if any(p.poll() is not None for p in procs):
                raise ApplicationError(f"a benchmark worker exited; see {work}/worker*.log")
            if time.monotonic() > deadline:
                raise ApplicationError("benchmark workers did not start in 180 s")
            time.sleep(0.1)
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for log in logs:
            log.close()


@contextmanager
def _redis(url: str | None, work: Path) -> Iterator[str]:
    """The given Redis, or a private redis-server on a free port (no persistence) for the benchmark's life."""
    if url:
        yield url
        return
    if shutil.which("redis-server") is None:
        raise ConfigError("no Redis: give --redis-url or install redis-server", key="--redis-url")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        conn = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                conn.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise ApplicationError("private redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
