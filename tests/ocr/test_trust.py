"""The trust rule and how its thresholds are chosen."""

from __future__ import annotations

from ocr.calibrate import threshold_for
from ocr.evidence import Evidence
from ocr.record import FieldStatus
from ocr.trust import TrustRule
from ocr.validate import individual_number_ok


def test_one_digit_in_doubt_is_forgiven_by_a_check_digit_only_when_that_digit_is_not_0():
    rule = TrustRule(min_score={"individual_number": 0.3})
    # both pass their check digit; one box in doubt each
    assert individual_number_ok("123456789018") and individual_number_ok("317309330750")
    doubt = {"agree": False, "note": "the two digit readers disagree or one is unsure", "doubts": 1}
    sure = rule.judge_text("individual_number", Evidence("123456789018", 0.9, **doubt), [], empty=False,
                           required=True)
    assert sure.status is FieldStatus.ACCEPTED
    # check digit 0 stands for remainders 0 and 1: 317309330700 (one digit off) checks too
    assert individual_number_ok("317309330700")
    zero = rule.judge_text("individual_number", Evidence("317309330750", 0.9, **doubt), [], empty=False,
                           required=True)
    assert zero.status is FieldStatus.NEEDS_REVIEW


def test_a_threshold_leaves_at_most_its_budget_of_wrong_fields_among_those_that_pass():
    right = [0.95] * 998 + [0.6, 0.7]
    assert threshold_for(right, [], floor=0.5, budget=0.001) == 0.5          # nothing wrong: the floor
    assert threshold_for(right, [0.9], floor=0.5, budget=0.001) == 0.5       # 1 in 1,001 is within 0.1 %
    assert threshold_for(right, [0.9, 0.92], floor=0.5, budget=0.001) == 0.922   # 2 are not: above both
    assert threshold_for(right, [0.55, 0.92], floor=0.5, budget=0.001) == 0.552  # above the low one suffices
    assert threshold_for(right[:10], [0.999], floor=0.5, budget=0.001) == 1.0    # never above 1


def test_a_date_read_as_digits_alone_goes_to_a_person():
    from ocr.pipeline import _date_separator_verdict
    from ocr.trust import Verdict

    accepted = Verdict(FieldStatus.ACCEPTED)
    # 2004/2/7 with each '/' read as 1 is 20041217, a real date: nothing but the missing separators tells
    assert _date_separator_verdict("date", "20041217", accepted).status is FieldStatus.NEEDS_REVIEW
    assert "'/'" in _date_separator_verdict("date", "20041217", accepted).reason
    assert _date_separator_verdict("date", "2004/2/7", accepted) is accepted
    assert _date_separator_verdict("date", "令和6年4月1日", accepted) is accepted
    assert _date_separator_verdict("digits", "20041217", accepted) is accepted


def test_the_digit_types_share_one_budget_and_the_cheapest_threshold_rises():
    from ocr.calibrate import group_thresholds

    floors = {"phone": 0.3, "postal": 0.3}
    # 2 wrong among 2,002 passing fields together: within 0.1 %, every type stays at its floor
    fine = {"phone": ([0.95] * 1000, [0.99]), "postal": ([0.95] * 1000, [0.9])}
    assert group_thresholds(fine, floors, 0.001) == floors
    # 3 wrong among 1,503: over. Shutting out postal's wrong 0.6 and 0.9 costs no right field, phone's 0.99
    # would cost 500
    over = {"phone": ([0.95] * 500 + [0.999] * 500, [0.99]), "postal": ([0.95] * 500, [0.9, 0.6])}
    assert group_thresholds(over, floors, 0.001) == {"phone": 0.3, "postal": 0.902}
    # nothing left to raise but above 1: that type passes nothing
    worst = {"phone": ([0.95] * 10, [1.0]), "postal": ([0.95] * 10, [])}
    assert group_thresholds(worst, floors, 0.001) == {"phone": 1.0, "postal": 0.3}


def test_a_bigger_digit_budget_passes_more_digit_fields_and_more_wrong_ones():
    from ocr.bench import Outcome
    from ocr.calibrate import trade_off

    def field(ftype: str, confidence: float, correct: bool, status: str = "accepted") -> Outcome:
        return Outcome("f.png", ftype, ftype, "1", "1" if correct else "7", correct, status, confidence, "")

    outcomes = ([field("phone", 0.95, True)] * 900 + [field("phone", 0.99, False)]
                + [field("phone", 0.999, True)] * 100 + [field("phone", 0.2, True, "needs_review")] * 99)
    strict, loose = trade_off(outcomes, budgets=(0.0005, 0.002))
    assert strict == {"budget": 0.0005, "auto_accept_rate": 100 / 1100, "silent_error_rate": 0.0}
    assert loose == {"budget": 0.002, "auto_accept_rate": 1001 / 1100, "silent_error_rate": 1 / 1001}


def test_the_date_budget_is_chosen_apart_from_the_digit_budget(tmp_path, capsys):
    from ocr.bench import Outcome
    from ocr.calibrate import choose, main, save_outcomes
    from ocr.trust import TrustRule

    def date(i: int, confidence: float, correct: bool) -> Outcome:
        return Outcome(f"{i:04d}.png", "born", "date", "2025-08-26", "2025-08-26" if correct else "2020-08-26",
                       correct, "accepted", confidence, "")

    # 800 right dates from 0.9 to 0.9999, one wrong at 0.998: one wrong in 801 (0.125 %) fits a 0.15 % budget
    # and not a 0.1 % one, which shuts dates out (a threshold of 1.0) since no right date scores above it
    outcomes = [date(i, 0.9 + 0.0999 * i / 799, True) for i in range(800)] + [date(800, 0.998, False)]
    strict, loose = choose(outcomes, date_budget=0.001)["date"], choose(outcomes, date_budget=0.0015)["date"]
    assert strict == 1.0 and loose == 0.5   # the dates' floor
    path = tmp_path / "calib.jsonl"
    save_outcomes(outcomes, path)
    main(["--from-outcomes", str(path), "--out", str(tmp_path / "trust.json"), "--date-budget", "0.0015"])
    rule = TrustRule.load(tmp_path / "trust.json")
    assert rule.min_score["date"] == 0.5 and rule.source.endswith("(digit budget 0.001, date budget 0.0015)")
    capsys.readouterr()


def test_calib_outcomes_kept_in_a_file_choose_the_same_thresholds_without_reading_forms_again(tmp_path, capsys):
    from ocr.bench import Outcome
    from ocr.calibrate import choose, load_outcomes, main, save_outcomes
    from ocr.trust import TrustRule

    outcomes = ([Outcome(f"{i:04d}.png", "tel", "phone", "0944738111", "0944738111", True, "accepted", 0.95, "")
                 for i in range(900)]
                + [Outcome("0901.png", "tel", "phone", "0944738111", "0944738171", False, "accepted", 0.99, ""),
                   Outcome("0902.png", "name", "text", "山田 花子", "山田 花子", True, "accepted", 0.9, "")])
    path = tmp_path / "calib.jsonl"
    save_outcomes(outcomes, path)
    assert load_outcomes(path) == outcomes
    out = tmp_path / "trust.json"
    main(["--from-outcomes", str(path), "--out", str(out), "--digit-budget", "0.0005"])
    assert "digit budget 0.05%:" in capsys.readouterr().out
    rule = TrustRule.load(out)
    assert rule.min_score == choose(outcomes, 0.0005) and rule.min_score["phone"] == 0.992
    assert rule.source == "calibrated on calib.jsonl (digit budget 0.0005)"


def test_an_outcomes_file_that_is_missing_or_foreign_is_named(tmp_path, capsys):
    import pytest

    from ocr.calibrate import main

    for name, text in (("missing.jsonl", None), ("foreign.jsonl", '{"file": "a.png"}\n')):
        path = tmp_path / name
        if text is not None:
            path.write_text(text, encoding="utf-8")
        with pytest.raises(SystemExit) as exit_:
            main(["--from-outcomes", str(path), "--out", str(tmp_path / "trust.json")])
        err = capsys.readouterr().err
        assert exit_.value.code == 4 and name in err and "Traceback" not in err
    assert not (tmp_path / "trust.json").exists()
