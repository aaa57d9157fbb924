"""Browser sessions: Chromium from the OS through Playwright, one context per job, evidence on failure.

No browser is downloaded: the executable comes from ``BrowserConfig.executable_path`` or is found here
(Playwright's own Chromium where a machine has one, else the distribution's ``chromium``). The context is
closed in ``finally`` however the job ends (long-lived contexts leak memory); a Playwright trace is kept
only when something failed.
"""

from __future__ import annotations

import atexit
import importlib
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from loguru import logger

from kakitori.config import BotsConfig, BrowserConfig, TargetConfig, secret
from kakitori.errors import ApplicationError, ConfigError
from kakitori.paths import DataDir

LAUNCH_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
)
OS_CHROMIUMS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path(cfg: BrowserConfig, bundled: str | None = None) -> str | None:
    """The Chromium to launch: the configured one, else Playwright's own if present (None), else the OS's."""
    if cfg.executable_path:
        if not cfg.executable_path.exists():
            raise ConfigError("browser executable not found", key="bots.browser.executable_path",
                              file=cfg.executable_path)
        return str(cfg.executable_path)
    if bundled and Path(bundled).exists():
        return None
    for candidate in (*OS_CHROMIUMS, shutil.which("chromium") or ""):
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


class _KeptBrowser:
    """One Chromium kept running between the jobs of a long-lived worker thread (a launch costs about a second).

    Each job still gets its own context, closed when the job ends. Only the thread that asked for it uses it:
    Playwright's sync API is bound to the thread that started it, so other threads launch per job as before.
    """

    def __init__(self) -> None:
        self.thread: int | None = None
        self._pw = self._browser = None
        self._key: tuple | None = None

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
            self._pw = self._browser = self._key = None


_kept = _KeptBrowser()


def keep_browser_open() -> None:
    """Let the calling thread's jobs share one Chromium process (a worker calls this once, at start)."""
    if _kept.thread is None:
        atexit.register(_kept.close)
    _kept.thread = threading.get_ident()


class BrowserSession:
    """Playwright, one context and one page for one job, in its own Chromium or the worker's kept one."""

    def __init__(self, cfg: BrowserConfig, shots_dir: Path, trace_path: Path) -> None:
        self.cfg = cfg
        self.shots_dir = shots_dir
        self.trace_path = trace_path
        self.failed = False
        self._pw = self._browser = self._context = None
        self.page = None

    def __enter__(self) -> "BrowserSession":
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        try:
            if _kept.thread == threading.get_ident():
                browser = _kept.browser(self.cfg)
            else:
                self._pw = sync_playwright().start()
                path = chromium_path(self.cfg, self._pw.chromium.executable_path)
                self._browser = browser = self._pw.chromium.launch(executable_path=path, headless=self.cfg.headless,
                                                                   args=list(LAUNCH_ARGS))
            self._context = browser.new_context(locale="ja-JP", viewport={"width": 1024, "height": 860})
            self._context.set_default_timeout(self.cfg.timeout_ms)
            if self.cfg.trace_on_failure:
                # actions, network and console; DOM snapshots would cost ~15% of the rate (a screenshot of the
                # failed screen is taken anyway)
                self._context.tracing.start(snapshots=False)
            self.page = self._context.new_page()
        except PlaywrightError as exc:
            self.close()
            raise ApplicationError(f"could not start the browser: {str(exc).splitlines()[0]}") from None
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        if exc_type is not None:
            self.failed = True
        self.close()

    def close(self) -> None:
        """Stop tracing (kept only after a failure), close the context and an own browser. Safe to call twice."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            if self._context is not None:
                if self.cfg.trace_on_failure:
                    if self.failed:
                        self.trace_path.parent.mkdir(parents=True, exist_ok=True)
                        self._context.tracing.stop(path=str(self.trace_path))
                        logger.info("browser trace kept: {path}", path=str(self.trace_path))
                    else:
                        self._context.tracing.stop()
                self._context.close()
            if self._browser is not None:
                self._browser.close()
        except PlaywrightError as exc:  # a crashed browser cannot be closed politely; the process is gone
            logger.warning("browser did not close cleanly: {error}", error=str(exc).splitlines()[0])
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
    """A web target for one job: a browser session and the page objects of the target's system."""
    from bots.mapping import load_mapping

    target_cfg = bots_cfg.targets[target_name]
    system = load_mapping(target_cfg.mapping).system
    try:
        pages = importlib.import_module(f"bots.pages.{system}")
    except ModuleNotFoundError:
        raise ConfigError(f"no page objects for system '{system}' (bots/pages/{system}.py)",
                          key=f"bots.targets.{target_name}.mapping") from None
    user, password = credentials(target_cfg, target_name)
    with BrowserSession(bots_cfg.browser, data_dir.screenshots(job_id), data_dir.trace(job_id)) as session:
        yield pages.Target(target_name, target_cfg, session, user, password)
