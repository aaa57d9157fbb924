from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kakitori.cli import run
from kakitori.errors import ApplicationError, BusinessError, ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_help_lists_commands(capsys):
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    assert "config" in out and "bench" in out


def test_config_check_passes_on_shipped_config(capsys):
    assert run(["config", "check", "--config", str(ROOT / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert ": OK" in out and "redis_url: embedded" in out


def test_config_check_json_masks_secrets(capsys, config_file, monkeypatch):
    monkeypatch.setenv("KAKITORI_REVIEW_SECRET_KEY", "topsecret-key")
    assert run(["config", "check", "--json", "--config", str(config_file(""))]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["review"]["secret_key_env"] == "KAKITORI_REVIEW_SECRET_KEY (set)"
    assert "topsecret-key" not in out


def test_config_check_fails_naming_unknown_key(capsys, config_file):
    path = config_file("queue:\n  redis_urll: embedded\n")
    assert run(["config", "check", "--config", str(path)]) == ConfigError.exit_code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "queue.redis_urll" in err and str(path) in err


def test_global_config_option_is_used(capsys, config_file):
    path = config_file("bogus: 1\n")
    assert run(["--config", str(path), "config", "check"]) == ConfigError.exit_code
    assert "bogus" in capsys.readouterr().err


def test_usage_error_exit_code(capsys):
    assert run(["config", "check", "--no-such-flag"]) == 2


def test_exit_codes_follow_the_error_model():
    assert len({ConfigError.exit_code, BusinessError.exit_code, ApplicationError.exit_code, 0, 1, 2}) == 6
    assert ApplicationError("x").retryable and not BusinessError("x").retryable


def test_error_names_its_context():
    err = BusinessError("page matches no template", file="scan.pdf", page=2)
    assert str(err) == "file=scan.pdf page=2: page matches no template"
    assert err.to_dict()["context"] == {"file": "scan.pdf", "page": "2"}


def test_installed_console_script_and_module_run():
    exe = Path(sys.executable).parent / "kakitori"
    env = {**os.environ, "KAKITORI_CONFIG": str(ROOT / "config.yaml")}
    done = subprocess.run([str(exe), "config", "check"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([sys.executable, "-m", "kakitori", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "kakitori" in done.stdout
