"""Fixtures for the bots: the real sample legacy app on a free port (in a thread), configs, records."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from kakitori.config import BotsConfig, BrowserConfig, TargetConfig
from kakitori.paths import DataDir
from samples.legacy_app.app import PASSWORD_ENV, AppConfig
from samples.legacy_app.faults import FaultConfig
from samples.legacy_app.records import synthetic_records
from samples.legacy_app.server import LegacyAppServer

PASSWORD = "test-pass-7f3a"


@pytest.fixture
def legacy_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., LegacyAppServer]]:
    """Start the sample legacy app (own database, free port) with the given options; stopped after the test."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    servers: list[LegacyAppServer] = []

    def start(faults: FaultConfig = FaultConfig(), idle_timeout_s: float = 600.0, db: Path | None = None,
              password: str = PASSWORD) -> LegacyAppServer:
        cfg = AppConfig(db=db or tmp_path / f"legacy-{len(servers)}.db", password=password,
                        idle_timeout_s=idle_timeout_s, faults=faults)
        servers.append(LegacyAppServer(cfg).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def bots_config(url: str, retries: int = 2, timeout_ms: int = 5000) -> BotsConfig:
    return BotsConfig(
        browser=BrowserConfig(timeout_ms=timeout_ms),
        retries=retries,
        targets={"sample-legacy": TargetConfig(base_url=url)},
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data").ensure()


@pytest.fixture
def records() -> list[dict]:
    return synthetic_records(6, seed=7)
