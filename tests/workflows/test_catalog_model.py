"""The catalog schema: the sample is valid and complete, and bad files fail naming the key."""

from __future__ import annotations

import pytest

from kakitori.errors import ConfigError
from tests.workflows.catalog_helpers import SAMPLE, process_data
from workflows.catalog.model import Check, Medium, load_catalog, parse_catalog


def test_sample_catalog_has_thirty_processes_with_sources():
    cat = load_catalog(SAMPLE)
    assert len(cat.processes) >= 30
    for proc in cat.processes:
        assert proc.sources, proc.id
        for src in proc.sources:
            assert src.ref is None or src.ref in cat.references
    cited = {src.ref for p in cat.processes for src in p.sources if src.ref}
    assert {"kuji-2020", "chiba-2019", "meguro-2019", "tsukuba-2018"} <= cited
    assert any(p.estimated_only for p in cat.processes) and any(not p.estimated_only for p in cat.processes)


def test_sample_catalog_covers_the_processes_the_issue_names():
    names = " ".join(p.name for p in load_catalog(SAMPLE).processes)
    for word in ("住民異動届", "児童手当 認定請求", "ワンストップ特例", "国民健康保険", "要介護", "給与支払報告書",
                 "申告書", "会計伝票", "アンケート", "公共施設予約"):
        assert word in names, word


def test_sample_catalog_uses_every_medium_and_check_mode():
    cat = load_catalog(SAMPLE)
    assert {p.medium for p in cat.processes} == set(Medium)
    assert {p.check for p in cat.processes} == set(Check)


def test_unknown_key_is_named_with_the_process_id():
    with pytest.raises(ConfigError) as err:
        parse_catalog({"processes": [process_data(id="jumin-ido", volume=3)]}, "cat.yaml")
    assert "processes[0] (jumin-ido).volume" in str(err.value) and "cat.yaml" in str(err.value)


def test_bad_enum_value_lists_the_allowed_values():
    with pytest.raises(ConfigError, match=r"processes\[0\] \(sample-entry\)\.medium.*'handwritten_paper'"):
        parse_catalog({"processes": [process_data(medium="paper")]})


def test_nested_error_names_the_system():
    with pytest.raises(ConfigError, match=r"systems\[0\]\.kind"):
        parse_catalog({"processes": [process_data(systems=[{"name": "x", "kind": "mainframe"}])]})


def test_unknown_reference_is_an_error():
    with pytest.raises(ConfigError, match="unknown reference 'nowhere'"):
        parse_catalog({"processes": [process_data(sources=[{"ref": "nowhere"}])]})


def test_source_needs_exactly_one_of_ref_or_estimate():
    with pytest.raises(ConfigError, match="exactly one"):
        parse_catalog({"processes": [process_data(sources=[{"note": "only a note"}])]})


def test_duplicate_ids_are_refused():
    with pytest.raises(ConfigError, match="id used twice"):
        parse_catalog({"processes": [process_data(), process_data()]})


def test_share_out_of_range_is_refused():
    with pytest.raises(ConfigError, match="rule_based_share"):
        parse_catalog({"processes": [process_data(rule_based_share=1.5)]})


def test_malformed_yaml_names_the_line(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("processes:\n  - id: a\n   bad: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line"):
        load_catalog(path)


def test_assumptions_must_cover_every_medium():
    with pytest.raises(ConfigError, match="prep_minutes"):
        parse_catalog({"assumptions": {"prep_minutes": {"pdf": 0.1}}})
