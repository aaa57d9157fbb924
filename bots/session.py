"""Browser sessions: Chromium from the OS through Playwright, evidence on failure.

No browser is downloaded: the executable comes from ``BrowserConfig.executable_path`` or is found here
(Playwright's own Chromium where a machine has one, else the distribution's ``chromium-headless-shell`` for
headless runs, else its ``chromium``). A Playwright trace is kept only when something failed.

A job opens one context (cookies, one page). By default it is closed in ``finally`` however the job ends. A
worker thread that called ``keep_browser_open`` keeps one Chromium, and may keep the context of a job that
ended well for its next job on the same target and account (``keep_as``): a new context and a fresh login cost
about 1.3 s of CPU per job in full Chromium, more than the keying itself. A kept context is closed as soon as a
job using it fails, and replaced after ``KEEP_CONTEXT_JOBS`` jobs or ``KEEP_CONTEXT_S`` seconds (long-lived
contexts grow); its trace is recorded per job, in chunks.
"""

from __future__ import annotations

import atexit
import importlib
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from loguru import logger

from kakitori.config import BotsConfig, BrowserConfig, TargetConfig, secret
from kakitori.errors import ApplicationError, ConfigError
from kakitori.paths import DataDir

LAUNCH_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
)
# Debian's chromium-headless-shell: the same engine without the desktop browser around it (what Playwright
# itself runs headless); a new context costs about a fifth of full Chromium's, a page load about half
OS_HEADLESS_SHELLS = ("/usr/bin/chromium-headless-shell",)
OS_CHROMIUMS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
KEEP_CONTEXT_JOBS = 100
KEEP_CONTEXT_S = 1800.0


def chromium_path(cfg: BrowserConfig, bundled: str | None = None) -> str | None:
    """The Chromium to launch: the configured one, else Playwright's own if present (None), else the OS's."""
    if cfg.executable_path:
        if not cfg.executable_path.exists():
            raise ConfigError("browser executable not found", key="bots.browser.executable_path",
                              file=cfg.executable_path)
        return str(cfg.executable_path)
    if bundled and Path(bundled).exists():
        return None
    shells = OS_HEADLESS_SHELLS if cfg.headless else ()
    for candidate in (*shells, *OS_CHROMIUMS, shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    raise ConfigError("no Chromium found: install the OS package (apt install chromium) or set "
                      "bots.browser.executable_path", key="bots.browser.executable_path")


def credentials(target: TargetConfig, target_name: str) -> tuple[str, str]:
    """User id and password for a target; the password from its environment variable or the OS keyring."""
    password = secret(target.password_env)
    if not password:
        raise ConfigError(f"no password for target '{target_name}': set the environment variable "
                          f"{target.password_env} (or store it in the OS keyring under 'kakitori')",
                          key=f"bots.targets.{target_name}.password_env")
    return target.username, password


@dataclass
class _KeptContext:
    """A context and its page left open by a job that ended well, for the thread's next job on the same key.

    ``state`` is what the target's page objects noted about the page (logged in, dialogs handled); it lives and
    dies with the context.
    """

    key: tuple
    context: Any
    page: Any
    state: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    jobs: int = 0

    def usable_for(self, key: tuple) -> bool:
        return (self.key == key and self.jobs < KEEP_CONTEXT_JOBS
                and time.monotonic() - self.started < KEEP_CONTEXT_S and not self.page.is_closed())


class _KeptBrowser:
    """One Chromium kept running between the jobs of a long-lived worker thread (a launch costs about a second),
    and the context the last job left for the next one.

    Only the thread that asked for it uses it: Playwright's sync API is bound to the thread that started it, so
    other threads launch per job and close everything after it, as before.
    """

    def __init__(self) -> None:
        self.thread: int | None = None
        self._pw = self._browser = None
        self._key: tuple | None = None
        self._context: _KeptContext | None = None

    def browser(self, cfg: BrowserConfig):
        from playwright.sync_api import sync_playwright

        key = (cfg.executable_path, cfg.headless)
        if self._browser is not None and self._browser.is_connected() and self._key == key:
            return self._browser
        self.close()  # gone (crashed, killed) or configured differently: start afresh
        self._pw = sync_playwright().start()
        path = chromium_path(cfg, self._pw.chromium.executable_path)
        self._browser = self._pw.chromium.launch(executable_path=path, headless=cfg.headless, args=list(LAUNCH_ARGS))
        self._key = key
        return self._browser

    def take_context(self, key: tuple) -> _KeptContext | None:
        """The kept context if it still serves ``key`` (it is the caller's until given back), else None."""
        kept, self._context = self._context, None
        if kept is None:
            return None
        if kept.usable_for(key):
            return kept
        _close_context(kept.context)  # another target or account, too old, or its page is gone
        return None

    def give_back(self, kept: _KeptContext) -> None:
        """Keep ``kept`` for the next job (one context at a time: a different one kept before is closed)."""
        if self._context is not None and self._context is not kept:
            _close_context(self._context.context)
        self._context = kept

    def close(self) -> None:
        from playwright.sync_api import Error as PlaywrightError

        try:
            if self._browser is not None and self._browser.is_connected():
                self._browser.close()
        except PlaywrightError:
            pass  # the process is already gone
        finally:
            if self._pw is not None:
                self._pw.stop()
            self._pw = self._browser = self._key = self._context = None


def _close_context(context: Any) -> None:
    from playwright.sync_api import Error as PlaywrightError

    try:
        context.close()
    except PlaywrightError as exc:  # its browser is gone already
        logger.debug("kept context did not close cleanly: {error}", error=str(exc).splitlines()[0])


_kept = _KeptBrowser()


def keep_browser_open() -> None:
    """Let the calling thread's jobs share one Chromium process (a worker calls this once, at start)."""
    if _kept.thread is None:
        atexit.register(_kept.close)
    _kept.thread = threading.get_ident()


class BrowserSession:
    """Playwright, one context and one page for one job, in its own Chromium or the worker's kept one.

    With ``keep_as`` (target, address, account) on a keeping thread, the context a previous job left is reused
    (``reused`` is True then) and this one is left for the next job if nothing failed.
    """

    def __init__(self, cfg: BrowserConfig, shots_dir: Path, trace_path: Path, keep_as: tuple | None = None) -> None:
        self.cfg = cfg
        self.shots_dir = shots_dir
        self.trace_path = trace_path
        self.keep_as = keep_as
        self.failed = False
        self.reused = False
        self.state: dict[str, Any] = {}
        self._pw = self._browser = self._context = None
        self._kept: _KeptContext | None = None
        self.page = None

    def __enter__(self) -> "BrowserSession":
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        try:
            keeping = _kept.thread == threading.get_ident()
            if keeping:
                browser = _kept.browser(self.cfg)
                self._kept = _kept.take_context(self.keep_as) if self.keep_as is not None else None
            else:
                self._pw = sync_playwright().start()
                path = chromium_path(self.cfg, self._pw.chromium.executable_path)
                self._browser = browser = self._pw.chromium.launch(executable_path=path, headless=self.cfg.headless,
                                                                   args=list(LAUNCH_ARGS))
            if self._kept is not None:
                self.reused = True
                self._context, self.page, self.state = self._kept.context, self._kept.page, self._kept.state
                self._context.set_default_timeout(self.cfg.timeout_ms)
                if self.cfg.trace_on_failure:
                    self._context.tracing.start_chunk()  # this job's part of the context's trace
            else:
                self._context = browser.new_context(locale="ja-JP", viewport={"width": 1024, "height": 860})
                self._context.set_default_timeout(self.cfg.timeout_ms)
                if self.cfg.trace_on_failure:
                    # actions, network and console; DOM snapshots would cost ~15% of the rate (a screenshot of
                    # the failed screen is taken anyway)
                    self._context.tracing.start(snapshots=False)
                self.page = self._context.new_page()
                if keeping and self.keep_as is not None:
                    self._kept = _KeptContext(self.keep_as, self._context, self.page, self.state)
        except PlaywrightError as exc:
            self.failed = True  # nothing half-started is kept
            self.close()
            raise ApplicationError(f"could not start the browser: {str(exc).splitlines()[0]}") from None
        except BaseException:
            self.failed = True
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        if exc_type is not None:
            self.failed = True
        self.close()

    def close(self) -> None:
        """Stop this job's trace (kept only after a failure); close the context unless it is left for the next
        job, and an own browser. Safe to call twice."""
        from playwright.sync_api import Error as PlaywrightError

        kept, self._kept = self._kept, None
        try:
            if self._context is not None:
                if self.cfg.trace_on_failure:
                    path = str(self.trace_path) if self.failed else None
                    if path:
                        self.trace_path.parent.mkdir(parents=True, exist_ok=True)
                    if kept is not None:
                        self._context.tracing.stop_chunk(path=path)
                    else:
                        self._context.tracing.stop(path=path)
                    if path:
                        logger.info("browser trace kept: {path}", path=path)
                if kept is not None and not self.failed:
                    kept.jobs += 1
                    _kept.give_back(kept)
                    kept = None
                else:
                    self._context.close()
            if self._browser is not None:
                self._browser.close()
        except PlaywrightError as exc:  # a crashed browser cannot be closed politely; the process is gone
            logger.warning("browser did not close cleanly: {error}", error=str(exc).splitlines()[0])
            if kept is not None:
                _close_context(kept.context)
        finally:
            if self._pw is not None:
                self._pw.stop()
            self._pw = self._browser = self._context = self.page = None

    def screenshot(self, label: str) -> str:
        """A full-page screenshot named after the label, in the job's screenshot folder."""
        self.shots_dir.mkdir(parents=True, exist_ok=True)
        path = self.shots_dir / f"{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return str(path)


@contextmanager
def open_web_target(target_name: str, bots_cfg: BotsConfig, data_dir: DataDir, job_id: str) -> Iterator:
    """A web target for one job: a browser session and the page objects of the target's system.

    On a worker's keeping thread the session of the previous job on this target and account is reused (still
    logged in); the page objects log in again whenever the system shows its login page.
    """
    from bots.mapping import load_mapping

    target_cfg = bots_cfg.targets[target_name]
    system = load_mapping(target_cfg.mapping).system
    try:
        pages = importlib.import_module(f"bots.pages.{system}")
    except ModuleNotFoundError:
        raise ConfigError(f"no page objects for system '{system}' (bots/pages/{system}.py)",
                          key=f"bots.targets.{target_name}.mapping") from None
    user, password = credentials(target_cfg, target_name)
    keep_as = (target_name, target_cfg.base_url, user)
    with BrowserSession(bots_cfg.browser, data_dir.screenshots(job_id), data_dir.trace(job_id),
                        keep_as=keep_as) as session:
        yield pages.Target(target_name, target_cfg, session, user, password)
