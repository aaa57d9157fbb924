"""The key-in loop, written once for every target system (web or desktop) over the ``TargetSystem`` seam.

For each record: map its values to screen values, then

    ledger verified? → done (already keyed)
    ledger.start → entry id from the ledger, or target.find(key) (search the system before creating)
                 → none found: target.create(key, values)
    ledger.created(entry_id) → target.read(entry_id) → compare every field → ledger.verified → Receipt

A crash anywhere leaves the ledger in ``started`` or ``created``; the next run finds the half-done entry
(by the ledger's entry id or by searching the target for the key) and verifies it instead of keying again.
Application errors (timeouts, HTTP 500, expired sessions, a changed screen) are retried with backoff;
business errors (the system rejects a value, a read-back mismatch) are raised at once for a person.

``key_in`` keys one record in its own job (one browser context; on a worker's thread, the context and
login a previous job left, when it ended well: see ``bots.session``); ``KeyInJob`` keeps one target open for
many records (a batch, a benchmark).
"""

from __future__ import annotations

import importlib
import time
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, Callable

from loguru import logger

from bots.ledger import Ledger, LedgerState, idempotency_key, ledger_url
from bots.mapping import Mapping, compare, load_mapping
from bots.target import Capturing, Receipt, Rehearsing, TargetSystem
from kakitori.config import BotsConfig, TargetConfig
from kakitori.errors import ApplicationError, BusinessError, ConfigError, KakitoriError
from kakitori.paths import DataDir

# kind → (module, function): function(name, bots_cfg, data_dir, job_id) -> context manager of a TargetSystem
OPENERS: dict[str, tuple[str, str]] = {
    "web": ("bots.session", "open_web_target"),
    "desktop": ("bots.desktop", "open_desktop_target"),
}

TargetOpener = Callable[[str, BotsConfig, DataDir, str], AbstractContextManager[TargetSystem]]


class ReadBackMismatch(BusinessError):
    """What the target saved differs from what was keyed. ``diff`` (field → (keyed, saved)) holds the values;
    the message names only the fields."""

    def __init__(self, diff: dict[str, tuple[Any, Any]], **context: Any) -> None:
        super().__init__(f"read-back mismatch in {len(diff)} field(s): {', '.join(sorted(diff))}", **context)
        self.diff = diff


def target_config(target_name: str, bots_cfg: BotsConfig) -> TargetConfig:
    try:
        return bots_cfg.targets[target_name]
    except KeyError:
        known = ", ".join(sorted(bots_cfg.targets)) or "none"
        raise ConfigError(f"unknown key-in target '{target_name}' (configured: {known})",
                          key="bots.targets") from None


def open_target(target_name: str, bots_cfg: BotsConfig, data_dir: DataDir,
                job_id: str) -> AbstractContextManager[TargetSystem]:
    """Open the configured target system for one job (a browser context, a desktop app session)."""
    kind = target_config(target_name, bots_cfg).kind
    module, function = OPENERS[kind]
    opener: TargetOpener = getattr(importlib.import_module(module), function)
    return opener(target_name, bots_cfg, data_dir, job_id)


def record_values(record: dict[str, Any]) -> dict[str, Any]:
    """Field name → value from ``Record.to_dict()``."""
    try:
        return {name: f["value"] for name, f in record["fields"].items()}
    except (KeyError, TypeError, AttributeError):
        raise BusinessError("not a record: expected fields.<name>.value",
                            document=record.get("document_id") if isinstance(record, dict) else None) from None


class KeyInJob:
    """One key-in job: one target session (opened on enter, closed on exit) and the ledger, many records."""

    def __init__(self, target_name: str, bots_cfg: BotsConfig, data_dir: DataDir, job_id: str, *,
                 dry_run: bool = False, ledger: str | None = None, backoff_s: float = 0.5,
                 opener: TargetOpener | None = None) -> None:
        self.target_name = target_name
        self.bots_cfg = bots_cfg
        self.data_dir = data_dir
        self.job_id = job_id
        self.dry_run = dry_run
        self.backoff_s = backoff_s
        self.mapping: Mapping = load_mapping(target_config(target_name, bots_cfg).mapping)
        self._ledger_url = ledger or ledger_url(data_dir.ledger)
        self._opener = opener
        self._stack = ExitStack()
        self.target: TargetSystem | None = None
        self.ledger: Ledger | None = None

    def __enter__(self) -> "KeyInJob":
        try:
            self.ledger = Ledger(self._ledger_url)
            self._stack.callback(self.ledger.close)
            cm = (self._opener(self.target_name, self.bots_cfg, self.data_dir, self.job_id) if self._opener
                  else open_target(self.target_name, self.bots_cfg, self.data_dir, self.job_id))
            self.target = self._stack.enter_context(cm)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        # the exception goes on to the target's session: a session that saw one is not kept for another job
        return self._stack.__exit__(exc_type, exc, tb)

    def key(self, record: dict[str, Any]) -> Receipt:
        """Key one record (``Record.to_dict()``) into the target; returns the receipt or raises."""
        assert self.target is not None and self.ledger is not None, "use KeyInJob as a context manager"
        target, ledger = self.target, self.ledger
        started = time.perf_counter()
        document_id = str(record.get("document_id", ""))
        template = str(record.get("template", ""))
        if template != self.mapping.template:
            raise BusinessError(f"target '{self.target_name}' takes '{self.mapping.template}' records, "
                                f"not '{template}'", document=document_id)
        values = record_values(record)
        key = idempotency_key(document_id, template, values)
        try:
            screen = self.mapping.apply(values, key)
        except BusinessError as exc:
            exc.context.setdefault("document", document_id)
            raise
        log = logger.bind(document=document_id, key=key, target=self.target_name, job=self.job_id)

        if self.dry_run:
            if not isinstance(target, Rehearsing):
                raise ConfigError(f"target '{self.target_name}' has no dry-run mode")
            shots = target.rehearse(key, screen)
            log.info("dry run: filled every screen, not confirmed ({n} screenshots)", n=len(shots))
            return Receipt(key, self.target_name, "", status="dry_run", screenshots=shots,
                           elapsed_ms=_ms(started))

        seen = ledger.get(key, self.target_name)
        if seen and seen.state == LedgerState.VERIFIED:
            log.info("already keyed and verified (ledger): entry {entry}", entry=seen.entry_id)
            return Receipt(key, self.target_name, seen.entry_id, status="already_keyed", elapsed_ms=_ms(started))
        entry_id = ledger.start(key, self.target_name, document_id, self.job_id).entry_id
        status = "already_keyed"  # unless this run creates the entry

        for attempt in range(self.bots_cfg.retries + 1):
            try:
                if not entry_id:
                    entry_id = target.find(key) or ""
                    if entry_id:
                        log.info("found in the target before creating: entry {entry}", entry=entry_id)
                    else:
                        entry_id = target.create(key, screen)
                        status = "keyed"
                    ledger.created(key, self.target_name, entry_id)
                saved = target.read(entry_id)
                diff = compare(screen, saved)
                if diff:
                    raise ReadBackMismatch(diff, document=document_id, entry=entry_id, target=self.target_name)
                ledger.verified(key, self.target_name, entry_id)
                log.info("keyed and verified: entry {entry} ({status}, attempt {n})",
                         entry=entry_id, status=status, n=attempt + 1)
                return Receipt(key, self.target_name, entry_id, status=status, saved=saved,
                               elapsed_ms=_ms(started))
            except ApplicationError as exc:
                self._evidence(exc, key, attempt)
                if attempt >= self.bots_cfg.retries:
                    ledger.failed(key, self.target_name, str(exc))
                    exc.context.setdefault("document", document_id)
                    raise
                log.warning("attempt {n} failed, retrying: {error}", n=attempt + 1, error=str(exc))
                time.sleep(self.backoff_s * 2**attempt)
            except KakitoriError as exc:
                self._evidence(exc, key, attempt)
                ledger.failed(key, self.target_name, str(exc))
                exc.context.setdefault("document", document_id)
                raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _evidence(self, exc: KakitoriError, key: str, attempt: int) -> None:
        if isinstance(self.target, Capturing):
            try:
                shots = self.target.capture(f"{key}-{attempt + 1}")
            except KakitoriError as err:  # evidence is best effort: the original error matters more
                logger.warning("could not capture the failed screen: {error}", error=str(err))
                return
            if shots:
                exc.context["screenshot"] = shots[-1]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def key_in(record: dict, target_name: str, bots_cfg: BotsConfig, data_dir: DataDir, job_id: str,
           dry_run: bool = False) -> Receipt:
    """Key one record into a target in its own job: open the target, key, verify, close (always).

    ``record`` is ``Record.to_dict()``. Raises ``BusinessError`` (a value rejected, a read-back mismatch:
    a person must look) or ``ApplicationError`` (retries exhausted: safe to retry the job later). Failure
    screenshots go to ``data_dir.screenshots(job_id)``, a browser trace to ``data_dir.trace(job_id)``.
    """
    with KeyInJob(target_name, bots_cfg, data_dir, job_id, dry_run=dry_run) as job:
        return job.key(record)


def load_records(path: Path) -> list[dict[str, Any]]:
    """Records from a JSON-lines file (one ``Record.to_dict()`` per line); BusinessError names the line."""
    import json

    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BusinessError("records file not found", file=path) from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BusinessError(f"not JSON: {exc.msg}", file=path, line=n) from None
        if not isinstance(record, dict) or "document_id" not in record or "fields" not in record:
            raise BusinessError("not a record (needs document_id, template, fields)", file=path, line=n)
        records.append(record)
    return records
