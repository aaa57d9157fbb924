"""Scoring properties: value grows with volume, creative paper work ranks low, weights move ranks as said."""

from __future__ import annotations

import pytest

from kakitori.errors import ConfigError
from tests.workflows.catalog_helpers import SAMPLE, make_catalog, make_process
from workflows.catalog.model import Assumptions, load_catalog
from workflows.catalog.score import DEFAULT_WEIGHTS, GROUPS, Weights, hours, reason, score_catalog, score_process

A = Assumptions()
W = Weights.from_config({})


@pytest.mark.parametrize("proc", load_catalog(SAMPLE).processes, ids=lambda p: p.id)
def test_more_volume_never_lowers_value_or_priority(proc):
    values, priorities = [], []
    for volume in (0, 10, 100, 1_000, 10_000, 100_000, 1_000_000):
        s = score_process(proc.model_copy(update={"volume_per_year": volume}), A, W)
        values.append(s.value)
        priorities.append(s.priority)
    assert values == sorted(values) and priorities == sorted(priorities)
    assert values[0] == 0.0


def test_value_grows_with_volume_for_a_process_that_pays_off():
    small = hours(make_process(volume_per_year=1_000), A)
    large = hours(make_process(volume_per_year=10_000), A)
    assert large.net > small.net > 0


def test_creative_paper_process_ranks_below_digital_rule_based_one():
    creative = make_process(id="creative", medium="handwritten_paper", structure="unstructured",
                            rule_based_share=0.1, exception_share=0.5, documentation="none",
                            expected_change="some", check="every_field")
    digital = make_process(id="digital", medium="digital", structure="structured", rule_based_share=0.95,
                           exception_share=0.05, documentation="sop", expected_change="none")
    ranked = score_catalog(make_catalog(creative, digital), W)
    assert [s.process.id for s in ranked] == ["digital", "creative"]
    assert ranked[0].suitability > ranked[1].suitability and ranked[0].value > ranked[1].value


def test_checking_every_field_can_cost_more_time_than_keying_by_hand():
    keyed_fast = make_process(minutes_by_hand=0.4, medium="printed_paper", fields=6, check="every_field")
    s = score_process(keyed_fast, A, W)
    assert s.hours.minutes_after > keyed_fast.minutes_by_hand
    assert s.hours.net < 0 and s.value == 0.0
    assert any("目視" in w for w in s.warnings)
    flagged = score_process(make_process(minutes_by_hand=0.4, medium="printed_paper", fields=6), A, W)
    assert flagged.hours.review < s.hours.review


def test_more_exceptions_and_judgement_lower_the_hours_saved():
    base = hours(make_process(), A)
    assert hours(make_process(exception_share=0.4), A).net < base.net
    assert hours(make_process(rule_based_share=0.4), A).net < base.net


def test_handwriting_needs_more_review_than_print():
    handwritten = hours(make_process(medium="handwritten_paper"), A)
    assert handwritten.review > hours(make_process(medium="printed_paper"), A).review


def _order(scores):
    return [s.process.id for s in scores]


def test_value_only_weights_rank_by_hours_saved():
    cat = load_catalog(SAMPLE)
    w = Weights.from_config({"suitability": 0, "ease": 0, "ocr_fit": 0, "value": 1})
    ranked = score_catalog(cat, w)
    values = [s.value for s in ranked]
    assert values == sorted(values, reverse=True)


def test_suitability_only_weights_rank_by_suitability():
    ranked = score_catalog(load_catalog(SAMPLE), Weights.from_config({"ease": 0, "ocr_fit": 0, "value": 0}))
    levels = [round(s.suitability, 6) for s in ranked]
    assert levels == sorted(levels, reverse=True)


def test_raising_a_factor_weight_never_lowers_the_rank_of_the_best_process_on_it():
    cat = load_catalog(SAMPLE)
    base = score_catalog(cat, W)
    best = max(base, key=lambda s: (s.factor("stability").level, s.priority)).process.id
    heavier = score_catalog(cat, Weights.from_config({"stability": 10.0}))
    rank = {s.process.id: s.rank for s in base}
    rank_heavier = {s.process.id: s.rank for s in heavier}
    assert rank_heavier[best] <= rank[best]
    assert _order(heavier) != _order(base)  # the weight does change the ranking


def test_priority_is_the_sum_of_its_factor_points_and_drivers_are_explained():
    for s in score_catalog(load_catalog(SAMPLE), W):
        assert sum(f.points for f in s.factors) == pytest.approx(s.priority)
        assert 0 <= s.priority <= 100
        assert s.up or s.down, s.process.id
        assert reason(s, A)


def test_digital_input_needs_no_ocr_and_says_so():
    s = score_catalog(make_catalog(make_process(medium="digital")), W)[0]
    assert s.ocr_fit is None and "AI-OCRは不要" in reason(s, A)
    assert not any(f.group == "ocr_fit" for f in s.factors)


def test_every_weight_key_is_known_and_unknown_ones_are_refused():
    assert set(GROUPS) <= set(DEFAULT_WEIGHTS)
    with pytest.raises(ConfigError, match="catalog.weights.speed"):
        Weights.from_config({"speed": 1.0})
    with pytest.raises(ConfigError, match="must not be negative"):
        Weights.from_config({"value": -1.0})
    with pytest.raises(ConfigError, match="at least one group"):
        Weights.from_config({"suitability": 0, "ease": 0, "ocr_fit": 0, "value": 0})


def test_weights_from_config_file_are_used(config_file):
    from kakitori.config import load_config

    cfg = load_config(config_file("catalog:\n  weights: {value: 0.9, documentation: 0}\n"))
    w = Weights.from_config(cfg.catalog.weights)
    assert w["value"] == 0.9 and w["documentation"] == 0 and w["rules"] == 1.0
