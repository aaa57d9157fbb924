"""Workflow YAML: strict validation with errors that name the file and the key; the sample workflows load."""

from __future__ import annotations

from pathlib import Path

import pytest

from kakitori.config import ROOT, BotsConfig
from kakitori.errors import ConfigError
from workflows.definition import find_workflow, load_workflow


def write(tmp_path: Path, text: str, name: str = "wf.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_workflows_load_and_name_a_configured_target():
    targets = BotsConfig().targets
    wf = find_workflow("tennyu", [ROOT / "samples" / "workflows"], targets=targets)
    assert wf.template == "juminido" and wf.target == "sample-legacy"
    assert wf.steps == ("ocr", "validate", "review", "keyin", "report")
    assert find_workflow("read-only", [ROOT / "samples" / "workflows"]).template == "auto"


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "name: x\nsteps: [ocr\n")
    with pytest.raises(ConfigError, match="malformed YAML: line") as err:
        load_workflow(path)
    assert str(path) in str(err.value)


def test_unknown_key_is_named(tmp_path):
    path = write(tmp_path, "name: x\ninput:\n  foldr: scans\n")
    with pytest.raises(ConfigError, match="unknown key") as err:
        load_workflow(path)
    assert "key=input.foldr" in str(err.value) and str(path) in str(err.value)


def test_missing_input_folder_is_named(tmp_path):
    path = write(tmp_path, "name: x\ninput:\n  folder: no-such-folder\n")
    with pytest.raises(ConfigError, match="input folder not found") as err:
        load_workflow(path)
    assert "key=input.folder" in str(err.value)


def test_missing_input_given_on_the_command_line_is_named(tmp_path):
    wf = load_workflow(write(tmp_path, "name: x\nsteps: [ocr, report]\n"))
    with pytest.raises(ConfigError, match="input folder not found") as err:
        wf.scans(tmp_path / "nope")
    assert "key=--input" in str(err.value)


@pytest.mark.parametrize("text, key, message", [
    ("name: x\nsteps: [keyin, ocr]\ntarget: t\n", "steps", "order"),
    ("name: x\nsteps: [ocr, typing]\n", "steps", "unknown step"),
    ("name: x\nsteps: [ocr, keyin]\n", "target", "names its target"),
    ("name: x\nschedule: 'every night'\n", "schedule", "not a cron expression"),
    ("title: no name\n", "name", "required key is missing"),
    ("name: x\nsteps: [ocr, keyin]\ntarget: nowhere\n", "target", "unknown target"),
])
def test_invalid_values_are_named(tmp_path, text, key, message):
    with pytest.raises(ConfigError, match=message) as err:
        load_workflow(write(tmp_path, text), targets=BotsConfig().targets)
    assert f"key={key}" in str(err.value)


def test_scans_are_found_by_pattern_and_sorted(tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("b.png", "a.PDF", "a.pdf", "notes.txt"):
        (tmp_path / "in" / name).write_bytes(b"x")
    wf = load_workflow(write(tmp_path, "name: x\ntarget: t\ninput:\n  folder: in\n"))
    assert [p.name for p in wf.scans()] == ["a.PDF", "a.pdf", "b.png"]


def test_unknown_workflow_lists_the_known_ones(tmp_path):
    write(tmp_path, "name: alpha\n", "alpha.yaml")
    with pytest.raises(ConfigError, match="known: alpha"):
        find_workflow("beta", [tmp_path])
