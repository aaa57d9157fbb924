"""`kakitori keyin` and the browser lookup, as a clerk and an IT officer meet them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bots.session import chromium_path
from kakitori.config import BrowserConfig
from kakitori.errors import ConfigError
from samples.legacy_app.records import synthetic_records
from tests.bots.conftest import PASSWORD


def run_cli(*args: str, config: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "KAKITORI_SAMPLE_LEGACY_PASSWORD": PASSWORD}
    return subprocess.run([sys.executable, "-m", "kakitori", "-c", str(config), *args], capture_output=True,
                          text=True, timeout=120, env=env)


def write_records(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.integration
def test_keyin_command_keys_records_and_prints_a_summary(legacy_app, config_file, tmp_path):
    app = legacy_app()
    config = config_file(f"bots:\n  targets:\n    sample-legacy: {{base_url: '{app.url}'}}\n")
    records = write_records(tmp_path / "records.jsonl", synthetic_records(2, seed=5))
    out = tmp_path / "results.jsonl"
    done = run_cli("keyin", str(records), "--target", "sample-legacy", "--out", str(out), config=config)
    assert done.returncode == 0, done.stderr
    assert "2 record(s)" in done.stdout and "keyed 2" in done.stdout
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in results] == ["keyed", "keyed"]
    assert {r["entry_id"] for r in results} == {row["receipt_no"] for row in app.store.export()}


def test_keyin_command_names_the_bad_line_of_a_records_file(config_file, tmp_path):
    records = tmp_path / "records.jsonl"
    records.write_text("{not json\n", encoding="utf-8")
    done = run_cli("keyin", str(records), config=config_file(""))
    assert done.returncode == 4
    assert "line=1" in done.stderr and "Traceback" not in done.stderr


def test_an_unknown_target_is_a_config_error(config_file, tmp_path):
    records = write_records(tmp_path / "records.jsonl", synthetic_records(1))
    done = run_cli("keyin", str(records), "--target", "nope", config=config_file(""))
    assert done.returncode == 3 and "unknown key-in target 'nope'" in done.stderr


def test_configured_browser_that_does_not_exist_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="browser executable not found"):
        chromium_path(BrowserConfig(executable_path=tmp_path / "no-chromium"))


def test_browser_auto_detect_prefers_playwrights_own_then_the_os(tmp_path):
    bundled = tmp_path / "chrome"
    bundled.write_text("")
    assert chromium_path(BrowserConfig(), str(bundled)) is None  # Playwright launches its own
    found = chromium_path(BrowserConfig(), str(tmp_path / "absent"))
    assert found is not None and Path(found).exists()


def test_browser_auto_detect_prefers_the_os_headless_shell_for_headless_runs(tmp_path, monkeypatch):
    from bots import session

    shell = tmp_path / "chromium-headless-shell"
    shell.write_text("")
    monkeypatch.setattr(session, "OS_HEADLESS_SHELLS", (str(shell),))
    assert chromium_path(BrowserConfig(headless=True), str(tmp_path / "absent")) == str(shell)
    shown = chromium_path(BrowserConfig(headless=False), str(tmp_path / "absent"))  # a visible browser: the full one
    assert shown is not None and shown != str(shell) and Path(shown).exists()
