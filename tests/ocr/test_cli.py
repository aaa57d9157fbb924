"""`kakitori ocr` and `kakitori bench ocr` from the command line."""

from __future__ import annotations

import json

import pytest

from kakitori.cli import run
from kakitori.errors import BusinessError

from .conftest import TEMPLATES

pytestmark = pytest.mark.integration


@pytest.fixture
def cli_config(config_file):
    return config_file(f"ocr:\n  templates_dirs: [{TEMPLATES}]\n")


def test_ocr_json_prints_one_record_per_line(cli_config, generated, capsys):
    folder = generated("juminido", count=2, seed=5)
    assert run(["--config", str(cli_config), "ocr", str(folder / "0001.png"), str(folder / "0002.png"), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in lines] == ["0001.png", "0002.png"]
    assert all(r["template"] == "juminido" and "postal_code" in r["fields"] for r in lines)


def test_ocr_bad_file_is_one_clear_line_and_exit_code_4(cli_config, tmp_path, capsys):
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert run(["--config", str(cli_config), "ocr", str(tmp_path / "empty.pdf")]) == BusinessError.exit_code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "empty.pdf" in err[0] and "Traceback" not in err[0]


def test_bench_ocr_json_last_line_has_the_figures(cli_config, generated, capsys):
    folder = generated("juminido", count=2, seed=5)
    assert run(["--config", str(cli_config), "bench", "ocr", "--data", str(folder), "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    keys = {"field_accuracy", "cer", "auto_accept_rate", "silent_error_rate", "forms_per_second"}
    assert keys <= set(result) and result["forms"] == 2
    assert keys - {"forms_per_second"} <= set(result["by_type"]["postal"])
    assert 0.0 <= result["silent_error_rate"] <= 1.0 and result["field_accuracy"] > 0.7


def test_calibrate_prints_the_budget_trade_off_and_writes_the_thresholds(cli_config, generated, tmp_path, capsys):
    from ocr.calibrate import main
    from ocr.trust import TrustRule

    folder = generated("juminido", count=2, seed=5)
    out = tmp_path / "trust.json"
    main(["--config", str(cli_config), "--data", str(folder), "--out", str(out), "--digit-budget", "0.002"])
    printed = capsys.readouterr().out
    assert "digit budget 0.10%:" in printed and "digit budget 0.20%:" in printed
    rule = TrustRule.load(out)
    assert {"phone", "postal", "individual_number", "date", "text"} <= set(rule.min_score)
    assert all(0.0 < v <= 1.0 for v in rule.min_score.values())
    assert rule.source.endswith("(digit budget 0.002)")


def test_calibrate_names_a_folder_without_truth_and_refuses_a_budget_out_of_range(cli_config, tmp_path, capsys):
    from ocr.calibrate import main

    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(cli_config), "--data", str(tmp_path), "--out", str(tmp_path / "trust.json")])
    err = capsys.readouterr().err
    assert exit_.value.code == BusinessError.exit_code and str(tmp_path) in err and "truth.jsonl" in err
    assert "Traceback" not in err and not (tmp_path / "trust.json").exists()
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(cli_config), "--data", str(tmp_path), "--digit-budget", "-0.001"])
    assert exit_.value.code == 2 and "--digit-budget" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(cli_config), "--data", str(tmp_path), "--date-budget", "1.5"])
    assert exit_.value.code == 2 and "--date-budget" in capsys.readouterr().err
