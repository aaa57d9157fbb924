"""Record → screen mapping: 元号 dates, zenkaku, split names, codes; clear errors without values."""

from __future__ import annotations

import pytest

from bots.mapping import compare, load_mapping, to_wareki
from kakitori.errors import BusinessError, ConfigError

VALUES = {
    "filing_date": "2024-04-01", "reason": "tennyu", "moved_on": "2019-04-30", "name": "山田 太郎",
    "name_kana": "やまだ ﾀﾛｳ", "birth_date": "1989-01-08", "sex": "male", "postal_code": "832-8555",
    "address": "福岡県柳川市本町87-1", "prev_address": "", "phone": "0944-73-8111",
    "individual_number": "1234 5678 9018", "head_of_household": "山田 太郎", "relationship": "self",
    "national_health": True, "keep_card": "false",
}


@pytest.mark.parametrize("iso, expected", [
    ("2019-05-01", ("令和", 1, 5, 1)), ("2019-04-30", ("平成", 31, 4, 30)), ("1989-01-07", ("昭和", 64, 1, 7)),
    ("1989-01-08", ("平成", 1, 1, 8)), ("1926-12-25", ("昭和", 1, 12, 25)), ("1912-07-30", ("大正", 1, 7, 30)),
])
def test_iso_dates_become_the_right_era(iso, expected):
    assert to_wareki(iso) == expected


def test_sample_legacy_mapping_fills_screen_fields():
    screen = load_mapping("sample-legacy").apply(VALUES, "KK-X")
    assert (screen["moved_era"], screen["moved_year"]) == ("4", "31")
    birth = (screen["birth_era"], screen["birth_year"], screen["birth_month"], screen["birth_day"])
    assert birth == ("4", "1", "1", "8")
    assert (screen["family_name"], screen["given_name"]) == ("山田", "太郎")
    assert (screen["family_kana"], screen["given_kana"]) == ("ヤマダ", "タロウ")
    assert screen["address"] == "福岡県柳川市本町８７－１"
    assert screen["head_of_household"] == "山田\u3000太郎"
    assert (screen["postal1"], screen["postal2"]) == ("832", "8555")
    assert screen["individual_number"] == "123456789018"
    assert (screen["sex"], screen["relationship"], screen["reason"]) == ("1", "01", "1")
    assert screen["national_health"] is True and screen["keep_card"] is False
    assert screen["memo"] == "KK-X" and screen["prev_address"] == ""


def test_a_name_without_a_space_is_a_business_error_naming_the_field_not_the_value():
    with pytest.raises(BusinessError) as caught:
        load_mapping("sample-legacy").apply({**VALUES, "name": "山田太郎"}, "KK-X")
    assert caught.value.context["field"] == "name" and "山田" not in str(caught.value)


def test_an_unknown_option_is_a_business_error():
    with pytest.raises(BusinessError, match="no screen code"):
        load_mapping("sample-legacy").apply({**VALUES, "sex": "x"}, "KK-X")


def test_compare_reports_only_differing_fields():
    assert compare({"a": "x", "b": True}, {"a": "x ", "b": True}) == {}
    assert compare({"a": "x", "b": True}, {"a": "y", "b": False}) == {"a": ("x", "y"), "b": (True, False)}


def test_bad_mapping_file_is_a_config_error_naming_the_key(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("name: m\ntemplate: t\nsystem: s\nreference: memo\n"
                    "fields:\n  - {from: a, to: b, transform: nope}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown transform 'nope'"):
        load_mapping(path)
