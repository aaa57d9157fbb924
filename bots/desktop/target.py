"""The sample desktop 住民記録 app as a ``TargetSystem``: the key-in loop's three verbs, driven by pyautogui.

``find`` searches the app by 申請受付番号 (where the bot keys its idempotency key), ``create`` fills and
registers the 異動届入力 form, ``read`` opens the entry's 登録内容照会 view and copies it. The key-in loop
(``bots/keyin.py``) adds the ledger, the read-back comparison and the retries, as for a web target.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger

from bots.desktop.pages import DesktopPages
from bots.desktop.screen import IMAGES, Screen
from kakitori.config import BotsConfig, TargetConfig, secret
from kakitori.errors import ApplicationError, ConfigError
from kakitori.paths import DataDir


class DesktopTarget:
    """One clerk workstation running the desktop app, keyed through its screens (find / create / read)."""

    def __init__(self, name: str, pages: DesktopPages, screenshots: Path) -> None:
        self.name = name
        self.pages = pages
        self.screenshots = screenshots

    def find(self, key: str) -> str | None:
        started = time.perf_counter()
        entry_id = None
        if self.pages.search(application_ref=key):
            entry_id = str(self.pages.open_first_result()["resident_no"])
        logger.bind(target=self.name, key=key, found=bool(entry_id)).info("searched by key in {ms} ms",
                                                                         ms=_ms(started))
        return entry_id

    def create(self, key: str, values: dict[str, Any]) -> str:
        started = time.perf_counter()
        self.pages.open_entry_form()
        self.pages.fill_entry({**values, "application_ref": key})
        entry_id = self.pages.register()
        logger.bind(target=self.name, key=key, entry=entry_id, fields=len(values)).info(
            "registered in {ms} ms", ms=_ms(started))
        return entry_id

    def read(self, entry_id: str) -> dict[str, Any]:
        started = time.perf_counter()
        if not self.pages.search(number=entry_id):
            raise ApplicationError("the entry is not in the app", screen="住民検索", entry=entry_id)
        saved = self.pages.open_first_result()
        if saved.get("resident_no") != entry_id:
            raise ApplicationError("the search opened another entry", screen="登録内容照会", entry=entry_id)
        logger.bind(target=self.name, entry=entry_id).info("read back in {ms} ms", ms=_ms(started))
        return saved

    def rehearse(self, key: str, values: dict[str, Any]) -> list[str]:
        """Dry run: fill the form, screenshot it, leave without registering."""
        self.pages.open_entry_form()
        self.pages.fill_entry({**values, "application_ref": key})
        shots = self.capture(f"{key}-dry-run")
        self.pages.leave_entry()
        return shots

    def capture(self, label: str) -> list[str]:
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S.%f")
        path = self.pages.screen.screenshot(self.screenshots / f"{stamp}-{label}.png")
        return [str(path)]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def make_desktop_target(target_cfg: TargetConfig, data_dir: DataDir | Path, job_id: str, *,
                        name: str = "sample-desktop", images: Path = IMAGES,
                        timeout_s: float = 10.0) -> DesktopTarget:
    """The desktop target for one job: the app must already be open on ``$DISPLAY`` (as on a clerk's PC).

    The clerk's password comes from the environment variable named by ``target_cfg.password_env``.
    Failure screenshots go to ``data_dir.screenshots(job_id)``.
    """
    if target_cfg.kind != "desktop":
        raise ConfigError(f"target '{name}' is kind '{target_cfg.kind}', not desktop", key=f"bots.targets.{name}")
    password = secret(target_cfg.password_env)
    if not password:
        raise ConfigError(f"set the clerk's password for target '{name}' in the environment variable "
                          f"{target_cfg.password_env}", key=f"bots.targets.{name}.password_env")
    if not password.isascii():
        raise ConfigError("the clerk's password must be ASCII: it is typed, never pasted",
                          key=f"bots.targets.{name}.password_env")
    data_dir = data_dir if isinstance(data_dir, DataDir) else DataDir(Path(data_dir))
    screen = Screen(images, timeout_s=timeout_s)
    return DesktopTarget(name, DesktopPages(screen, target_cfg.username, password), data_dir.screenshots(job_id))


@contextmanager
def open_desktop_target(target_name: str, bots_cfg: BotsConfig, data_dir: DataDir, job_id: str, *,
                        timeout_s: float = 10.0) -> Iterator[DesktopTarget]:
    """The key-in loop's opener for ``kind: desktop`` targets (see ``bots.keyin.OPENERS``)."""
    target = make_desktop_target(bots_cfg.targets[target_name], data_dir, job_id, name=target_name,
                                 timeout_s=timeout_s)
    try:
        yield target
    finally:
        target.pages.screen.close()
