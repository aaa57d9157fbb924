from __future__ import annotations

from pathlib import Path

import pytest

from kakitori.config import DEFAULT_CONFIG, effective, load_config, secret
from kakitori.errors import ConfigError


def test_shipped_config_is_valid():
    cfg = load_config(DEFAULT_CONFIG, env={})
    assert cfg.queue.redis_url == "embedded"
    assert cfg.store_url.startswith("sqlite:///")
    assert all(p.is_absolute() for p in cfg.ocr.templates_dirs)


def test_unknown_key_is_named_with_its_path_and_file(config_file):
    path = config_file("ocr:\n  recogniser: pp-ocrv6-small\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert "ocr.recogniser" in str(err.value)
    assert "unknown key" in str(err.value)
    assert str(path) in str(err.value)


def test_wrong_type_says_what_was_expected(config_file):
    path = config_file("review:\n  port: eighty\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    msg = str(err.value)
    assert "review.port" in msg and "integer" in msg and "eighty" in msg


def test_nested_unknown_key_in_a_mapping_of_targets(config_file):
    path = config_file("bots:\n  targets:\n    juki:\n      kind: web\n      passwrd: x\n")
    with pytest.raises(ConfigError, match=r"bots\.targets\.juki\.passwrd"):
        load_config(path, env={})


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="not found") as err:
        load_config(missing, env={})
    assert str(missing) in str(err.value)


def test_malformed_yaml_names_line(config_file):
    path = config_file("ocr:\n  threads: [1, 2\nqueue: {}\n")
    with pytest.raises(ConfigError, match=r"malformed YAML: line \d+"):
        load_config(path, env={})


def test_top_level_must_be_a_mapping(config_file):
    path = config_file("data_dir: x\n")
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(path, env={})


def test_environment_overrides_nested_keys(config_file):
    path = config_file("")
    cfg = load_config(path, env={"KAKITORI_QUEUE__REDIS_URL": "redis://127.0.0.1:6379/3",
                                 "KAKITORI_OCR__THREADS": "1",
                                 "KAKITORI_SAMPLE_LEGACY_PASSWORD": "not-config"})
    assert cfg.queue.redis_url == "redis://127.0.0.1:6379/3"
    assert cfg.ocr.threads == 1


def test_bad_environment_override_names_the_variable(config_file):
    path = config_file("")
    with pytest.raises(ConfigError, match=r"KAKITORI_OCR__THREADS"):
        load_config(path, env={"KAKITORI_OCR__THREADS": "many"})


def test_password_in_a_url_is_refused(config_file):
    path = config_file("queue:\n  redis_url: redis://:hunter2@127.0.0.1:6379/0\n")
    with pytest.raises(ConfigError, match="redis_password_env") as err:
        load_config(path, env={})
    assert "hunter2" not in str(err.value)


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    path = tmp_path / "sub" / "config.yaml"
    path.parent.mkdir()
    path.write_text("data_dir: mydata\nocr:\n  templates_dirs: [forms]\n", encoding="utf-8")
    cfg = load_config(path, env={})
    assert cfg.data_dir == (tmp_path / "sub" / "mydata").resolve()
    assert cfg.ocr.templates_dirs == [(tmp_path / "sub" / "forms").resolve()]


def test_effective_config_shows_only_whether_secrets_are_set(config_file):
    cfg = load_config(config_file(""), env={})
    env = {"KAKITORI_SAMPLE_LEGACY_PASSWORD": "s3cret-pw"}
    shown = str(effective(cfg, env))
    assert "s3cret-pw" not in shown
    assert "KAKITORI_SAMPLE_LEGACY_PASSWORD (set)" in shown
    assert "KAKITORI_REVIEW_SECRET_KEY (not set)" in shown


def test_secret_reads_the_named_variable():
    assert secret("X_PW", env={"X_PW": "abc"}) == "abc"
    assert secret(None) is None
