"""Overnight runs: cron schedules that start workflow runs, fired once even when several schedulers run.

Schedules come from ``workflows.schedules`` in config.yaml (``{workflow, cron, input}``) and from each
workflow's own ``schedule:`` key. At each fire time a scheduler claims ``(workflow, cron, fire time)`` in
Redis (SET NX): the first claims it and starts the run, the others skip it. A run started from a schedule
reads the workflow's watched folder (or the schedule's ``input``) and moves the scans it takes, so the next
night starts from what arrived since.

rq 3's own cron (``rq cron``) enqueues a function on a cron string but does not keep two cron processes from
both enqueueing it; this small loop (croniter) adds that guarantee and starts runs with the store written
first, like ``kakitori run``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from croniter import croniter
from loguru import logger

from kakitori.errors import ConfigError, KakitoriError
from workflows.definition import find_workflow
from workflows.jobs import Runtime
from workflows.runner import input_folder, start_run

CLAIM_TTL_S = 2 * 86400


@dataclass(frozen=True)
class Entry:
    workflow: str
    cron: str
    input: Path | None = None


class Scheduler:
    def __init__(self, rt: Runtime, *, now: datetime | None = None) -> None:
        self.rt = rt
        self.entries = self._entries()
        start = now or datetime.now(UTC).astimezone()
        self._next = {e: croniter(e.cron, start).get_next(datetime) for e in self.entries}

    def _entries(self) -> list[Entry]:
        cfg = self.rt.settings
        entries = []
        for i, s in enumerate(cfg.workflows.schedules):
            if not croniter.is_valid(s.cron):
                raise ConfigError(f"not a cron expression: {s.cron!r}", file=cfg.source,
                                  key=f"workflows.schedules.{i}.cron")
            entries.append(Entry(s.workflow, s.cron, s.input))
        for folder in cfg.workflows.dirs:
            for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
                wf = find_workflow(str(path), cfg.workflows.dirs)
                if wf.schedule and Entry(wf.name, wf.schedule) not in entries:
                    entries.append(Entry(wf.name, wf.schedule))
        return entries

    def fire_due(self, now: datetime | None = None) -> list[str]:
        """Start every run whose fire time has come (claiming each once); returns the run ids started here."""
        now = now or datetime.now(UTC).astimezone()
        started = []
        for entry, due in list(self._next.items()):
            if due > now:
                continue
            self._next[entry] = croniter(entry.cron, now).get_next(datetime)
            claim = f"cron:{entry.workflow}:{entry.cron}:{int(due.timestamp())}"
            if not self.rt.queue.claim_once(claim, CLAIM_TTL_S):
                logger.bind(workflow=entry.workflow).info("scheduled run already started by another scheduler")
                continue
            try:
                run_id = self._start(entry)
            except KakitoriError as exc:  # one bad schedule must not stop the others
                logger.bind(workflow=entry.workflow, kind=exc.kind).error("scheduled run not started: {e}", e=str(exc))
                continue
            if run_id:
                started.append(run_id)
        return started

    def _start(self, entry: Entry) -> str | None:
        cfg = self.rt.settings
        wf = find_workflow(entry.workflow, cfg.workflows.dirs, targets=cfg.bots.targets)
        folder = input_folder(self.rt, wf, entry.input)
        scans = wf.scans(folder)
        if not scans:
            logger.bind(workflow=wf.name).info("scheduled run: no scans waiting")
            return None
        run = start_run(self.rt, wf, scans, consume=True, source=str(folder or ""))
        return run.id

    def run_forever(self, poll_s: float = 15.0) -> None:
        while True:
            self.fire_due()
            if self.rt.queue.embedded:
                self.rt.queue.drain()
            time.sleep(poll_s)
