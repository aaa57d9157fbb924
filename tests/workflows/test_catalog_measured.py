"""Measured beats estimated: run reports of a workflow replace the estimated rates in the score."""

from __future__ import annotations

import json

import pytest

from tests.workflows.catalog_helpers import make_catalog, make_process, write_run_report
from workflows.catalog.measured import load_measured
from workflows.catalog.model import Assumptions
from workflows.catalog.score import Weights, score_catalog

W = Weights.from_config({})


def test_runs_of_one_workflow_are_pooled_by_documents(tmp_path):
    write_run_report(tmp_path, "run-a", documents=100, review_rate=0.1, failure_rate=0.0, seconds_per_document=10)
    write_run_report(tmp_path, "run-b", documents=300, review_rate=0.3, failure_rate=0.04, seconds_per_document=20)
    m = load_measured(tmp_path).get("tennyu")
    assert m.runs == 2 and m.documents == 400
    assert m.review_rate == pytest.approx(0.25)
    assert m.failure_rate == pytest.approx(0.03)
    assert m.minutes_per_record == pytest.approx(17.5 / 60)
    assert m.run_ids == ("run-a", "run-b")


def test_measured_rates_replace_the_estimates_in_the_score(tmp_path):
    write_run_report(tmp_path, "run-1", review_rate=0.4, failure_rate=0.1, seconds_per_document=30,
                     fields={"name": {"review_rate": 0.3, "correction_rate": 0.1},
                             "address": {"review_rate": 0.5, "correction_rate": 0.2}})
    measured = load_measured(tmp_path)
    proc = make_process(workflow="tennyu")
    s = score_catalog(make_catalog(proc), W, measured)[0]
    assert s.measured is not None
    assert s.hours.review_rate == pytest.approx(0.4) and s.hours.failure_rate == pytest.approx(0.1)
    assert s.hours.bot_minutes_per_record == pytest.approx(0.5)
    assert s.estimated_hours.failure_rate == Assumptions().failure_rate
    # the measured field review rate (0.4) is far above the estimate (0.12), so fewer hours are saved
    assert s.hours.net < s.estimated_hours.net


def test_a_better_measured_run_raises_the_value(tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    write_run_report(good, "g", review_rate=0.05, failure_rate=0.0, fields={})
    write_run_report(bad, "b", review_rate=0.9, failure_rate=0.3, fields={})
    proc = make_process(workflow="tennyu")
    s_good = score_catalog(make_catalog(proc), W, load_measured(good))[0]
    s_bad = score_catalog(make_catalog(proc), W, load_measured(bad))[0]
    assert s_good.value > s_bad.value and s_good.priority > s_bad.priority


def test_process_without_runs_keeps_its_estimates(tmp_path):
    write_run_report(tmp_path, "other", workflow="some-other-workflow")
    s = score_catalog(make_catalog(make_process(workflow="tennyu")), W, load_measured(tmp_path))[0]
    assert s.measured is None and s.hours == s.estimated_hours


def test_unusable_report_files_are_named_not_fatal(tmp_path):
    write_run_report(tmp_path, "good")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "report.json").write_text("{not json", encoding="utf-8")
    write_run_report(tmp_path, "bad-rate", review_rate=1.7)
    (tmp_path / "catalog-report").mkdir()
    (tmp_path / "catalog-report" / "report.json").write_text(json.dumps({"kind": "catalog"}), encoding="utf-8")
    write_run_report(tmp_path, "empty", documents=0)
    found = load_measured(tmp_path)
    assert found.get("tennyu").run_ids == ("good",)
    assert len(found.skipped) == 2
    assert any(s.startswith("broken/") for s in found.skipped) and any("bad-rate" in s for s in found.skipped)


def test_missing_reports_folder_means_no_measurements(tmp_path):
    assert load_measured(tmp_path / "nowhere").by_workflow == {}


def test_few_measured_documents_are_flagged_as_indicative(tmp_path):
    write_run_report(tmp_path, "tiny", documents=2, failure_rate=1.0)
    s = score_catalog(make_catalog(make_process(workflow="tennyu")), W, load_measured(tmp_path))[0]
    assert s.hours.failure_rate == 1.0 and s.value == 0.0
    assert any("2件のみ" in w for w in s.warnings)
