"""Normalisers and validators: 和暦, kana, postal codes, phone numbers, check digits, known confusions."""

from __future__ import annotations

from datetime import date

import pytest

from ocr.normalize import (
    DateError,
    comparable,
    normalise,
    parse_date,
    repair_date,
    repair_date_by_faint_char,
    to_wareki,
)
from ocr.template import Rule
from ocr.validate import check_rule, check_value, individual_number_ok, postal_matches_address


@pytest.mark.parametrize("written,iso", [
    ("令和6年4月1日", "2024-04-01"), ("令和元年5月1日", "2019-05-01"), ("平成31年4月30日", "2019-04-30"),
    ("平成元年1月8日", "1989-01-08"), ("昭和64年1月7日", "1989-01-07"), ("大正15年12月24日", "1926-12-24"),
    ("R6.4.1", "2024-04-01"), ("H 1.1.8", "1989-01-08"), ("２０２４年４月１日", "2024-04-01"),
    ("2024/4/1", "2024-04-01"), ("西暦2020年2月29日", "2020-02-29"), ("今和6年4月1日", "2024-04-01"),
])
def test_written_dates_become_iso(written, iso):
    assert normalise("date", written).value == iso
    assert parse_date(written) == date.fromisoformat(iso)


@pytest.mark.parametrize("written", [
    "平成31年5月1日",   # 令和 had begun
    "令和元年4月30日",  # 令和 had not begun
    "昭和64年1月8日",   # 平成 had begun
    "平成元年1月7日",
    "令和5年2月29日",   # not a leap year
    "令和6年13月1日",
    "令和0年1月1日",
])
def test_impossible_dates_are_refused(written):
    with pytest.raises(DateError):
        parse_date(written)
    assert not normalise("date", written).ok


def test_iso_to_wareki_writes_gannen_for_the_first_year():
    assert to_wareki(date(2019, 5, 1)) == "令和元年5月1日"
    assert to_wareki(date(2019, 4, 30)) == "平成31年4月30日"
    assert to_wareki(date(1989, 1, 7)) == "昭和64年1月7日"


def test_date_with_a_misplaced_separator_is_repaired_only_when_one_date_fits():
    assert repair_date("1966/31/8") == date(1966, 3, 18)       # 31/8 is no date; 3/18 is
    assert repair_date("2020/11/2") is None                     # 1/12 or 11/2: a person decides
    assert repair_date("昭和33年1/月30日") == date(1958, 11, 30)  # '1' read as '/'
    n = normalise("date", "1966/31/8")
    assert n.value == "1966-03-18" and n.repaired


def test_handwritten_slashes_read_as_ones_are_repaired_only_when_one_date_fits():
    assert repair_date("195318118") == date(1953, 8, 18)     # 1953/8/18 with both '/' read as '1'
    assert repair_date("19881316") == date(1988, 3, 6)
    assert repair_date("200012127") == date(2000, 2, 27)
    assert repair_date("199011111") is None                  # 1990/1/11 or 1990/11/1: a person decides
    n = normalise("date", "196613118")
    assert n.value == "1966-03-18" and n.repaired


def _between(text: str, **faint: tuple[str, float]) -> list[tuple[str, float]]:
    slots = [("", 0.0)] * (len(text) + 1)
    for k, v in faint.items():
        slots[int(k[1:])] = v
    return slots


def test_a_date_missing_a_digit_the_recogniser_nearly_read_gets_it_back():
    # 令和元年 / 令和1年 with its thin '1' lost beside the kanji
    assert repair_date_by_faint_char("令和年5月7日", _between("令和年5月7日", k2=("1", 0.33))) == date(2019, 5, 7)
    # the second '1' of 11月
    assert repair_date_by_faint_char("令和2年0月24日", _between("令和2年0月24日", k4=("1", 0.02))) == \
        date(2020, 10, 24)
    # of two insertions that make a date, the more nearly read one
    text = "令和3年1月4日"
    assert repair_date_by_faint_char(text, _between(text, k4=("1", 0.1), k6=("2", 0.3))) == date(2021, 1, 24)
    assert repair_date_by_faint_char(text, _between(text, k4=("1", 0.3), k6=("2", 0.1))) == date(2021, 11, 4)


def test_no_faint_digit_or_one_too_faint_leaves_the_date_unrepaired():
    assert repair_date_by_faint_char("令和年5月7日", _between("令和年5月7日")) is None
    assert repair_date_by_faint_char("令和年5月7日", _between("令和年5月7日", k2=("1", 0.001))) is None
    assert repair_date_by_faint_char("令和年5月7日", _between("令和年5月7日", k7=("9", 0.9))) is None  # no date
    assert repair_date_by_faint_char("令和年5月7日", [("1", 0.9)]) is None  # slots do not match the text


def test_individual_number_check_digit():
    assert individual_number_ok("123456789018")
    assert not individual_number_ok("123456789017")
    assert not individual_number_ok("12345678901")
    assert check_value("individual_number", "123456789017") == ["individual number check digit is wrong"]


def test_postal_code_format_and_existence():
    assert normalise("postal", "〒832-8555").value == "832-8555"
    assert normalise("postal", "８３２８５５５").value == "832-8555"
    assert check_value("postal", "832-8555") == []
    assert check_value("postal", "000-0000") == ["postal code does not exist"]
    assert check_value("postal", "83-28555") == ["postal code is not NNN-NNNN"]


def test_postal_code_and_address_must_agree():
    assert postal_matches_address("100-0001", "東京都千代田区千代田1-1")
    assert postal_matches_address("100-0001", "千代田区千代田1-1")
    assert not postal_matches_address("100-0001", "東京都港区芝公園4-2-8")
    rule = Rule("postal_address", ("postal_code", "address"))
    assert check_rule(rule, {"postal_code": "100-0001", "address": "大阪府大阪市北区梅田1"}) is not None


def test_phone_and_amount_keep_their_digits():
    assert normalise("phone", "0944-73-8111").value == "0944738111"
    assert check_value("phone", "0944738111") == []
    assert check_value("phone", "944738111") != []
    assert check_value("phone", "09012345678") == [] and check_value("phone", "0312345678") == []
    assert check_value("phone", "0901234567") == ["a phone number starting 090 has 11 digits"]   # a digit dropped
    assert check_value("phone", "03123456789") == ["a phone number starting 031 has 10 digits"]  # one invented
    assert normalise("amount", "3,500,000円").value == "3500000"
    assert normalise("amount", "3.500.000").value == "3500000"  # '.' read for ','
    assert check_value("amount", "0350") == ["amount starts with 0"]


def test_a_landlines_local_exchange_never_starts_0_or_1():
    from ocr.validate import local_exchange_ok

    assert local_exchange_ok("0427-79-7469") and local_exchange_ok("03-5555-1234") and local_exchange_ok("092-711-4111")
    assert not local_exchange_ok("0427-19-7469")          # a 7 read as 1: 0427-19 is nobody's exchange
    assert not local_exchange_ok("03-1234-5678") and not local_exchange_ok("０９４２－１２－３４５６")
    assert local_exchange_ok("0120-123-456") and local_exchange_ok("0570-012-345")   # not a place's number
    assert local_exchange_ok("090-1234-5678") and local_exchange_ok("0427197469")   # mobile; groups unknown
    assert check_value("phone", "0427197469", written="0427-19-7469") == [
        "a local exchange number (the middle group) never starts 0 or 1"]
    assert check_value("phone", "0427797469", written="0427-79-7469") == []


def test_0a0_numbers_that_nobody_has_are_invalid():
    # 020 (machines, pagers) and 030/040 (unassigned) are nobody's number: a 7 read as 2 in 070 is caught
    assert check_value("phone", "02012345678") == ["no person's phone number starts 020 (050, 060, 070, 080 or 090)"]
    assert check_value("phone", "04012345678") != []
    assert check_value("phone", "06012345678") == []          # opened to mobiles in 2024
    assert check_value("phone", "07001773039") == ["no phone number starts 070-0 (reserved)"]   # a 6 read as 0
    assert check_value("phone", "09001234567") != [] and check_value("phone", "09011234567") == []
    assert check_value("phone", "05012345678") == [] and check_value("phone", "08001234567") == []
    assert check_value("phone", "0120123456") == [] and check_value("phone", "08001234567") == []


def test_kana_fields_fold_and_fix_small_kana():
    assert normalise("katakana", "やまだ たろう").value == "ヤマダタロウ"
    assert normalise("katakana", "ヤマグチリョウヘィ").value == "ヤマグチリョウヘイ"
    assert normalise("katakana", "マッモト").value == "マツモト"
    assert normalise("katakana", "ホッカイドウ").value == "ホッカイドウ"
    assert normalise("hiragana", "ヤマダ").value == "やまだ"
    assert check_value("katakana", "ヤマダ太郎") == ["not katakana"]


def test_text_fixes_known_confusions_but_keeps_real_katakana():
    assert normalise("text", "鹿児島県伊佐市大ロ小川内").value == "鹿児島県伊佐市大口小川内"
    assert normalise("text", "ハイツ702").value == "ハイツ702"
    assert normalise("text", "ハイッ702").value == "ハイツ702"
    assert normalise("text", "ロイヤル 惠").value == "ロイヤル恵"
    assert normalise("text", "山田　太郎").value == "山田太郎"


def test_cross_field_before_rule():
    rule = Rule("before", ("birth_date", "filing_date"))
    assert check_rule(rule, {"birth_date": "1990-01-01", "filing_date": "2024-04-01"}) is None
    assert check_rule(rule, {"birth_date": "2025-01-01", "filing_date": "2024-04-01"}) is not None
    assert check_rule(rule, {"birth_date": "", "filing_date": "2024-04-01"}) is None


def test_truth_and_reading_are_compared_after_normalisation():
    assert comparable("phone", "0944-73-8111") == comparable("phone", "0944738111")
    assert comparable("date", "令和6年4月1日") == "2024-04-01"
    assert comparable("text", "山田 太郎") == comparable("text", "山田太郎")
    assert comparable("checkbox", True) == "true"
