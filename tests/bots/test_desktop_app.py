"""The sample desktop app's rules and storage (no display needed), and its mapping from juminido records."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bots.desktop.pages import ENTRY_FIELDS as BOT_ENTRY_FIELDS
from bots.keyin import record_values
from bots.mapping import load_mapping
from kakitori.cli import run
from samples.desktop_app.form import ENTRY_FIELDS, validate
from samples.desktop_app.store import ResidentStore
from samples.legacy_app.records import synthetic_records

TODAY = date(2026, 1, 15)


def screen_values(**changes) -> dict:
    values = {"application_ref": "KK-0123ABC", "reason": "転入", "moved_on": "20240401", "name": "山田　太郎",
              "name_kana": "ヤマダ　タロウ", "birth_date": "19900102", "sex": "男", "postal_code": "832-8555",
              "address": "福岡県柳川市本町８７－１", "prev_address": "", "phone": "0944-73-8111",
              "head_of_household": "山田　太郎", "relationship": "本人", "national_health": True}
    return {**values, **changes}


def test_every_mapped_synthetic_record_passes_the_apps_validation():
    mapping = load_mapping("sample-desktop")
    for record in synthetic_records(25, seed=31, prefix="desk"):
        values = mapping.apply(record_values(record), "KK-0123ABC")
        assert validate(values, today=TODAY) is None, record["document_id"]


def test_the_bots_page_objects_know_the_apps_fields_in_tab_order():
    assert list(BOT_ENTRY_FIELDS.items()) == [(f.name, f.label) for f in ENTRY_FIELDS]


@pytest.mark.parametrize("changes, message", [
    ({"name_kana": "ﾔﾏﾀﾞ ﾀﾛｳ"}, "フリガナは全角カタカナで入力してください。"),
    ({"name": "山田 太郎"}, "氏名は全角で入力してください。"),
    ({"address": "福岡県柳川市本町87-1"}, "住所は全角で入力してください。"),
    ({"moved_on": "20240231"}, "異動日は西暦8桁（例：20240401）で正しい日付を入力してください。"),
    ({"moved_on": "2024/04/01"}, "異動日は西暦8桁（例：20240401）で正しい日付を入力してください。"),
    ({"moved_on": "20260301"}, "異動日に未来の日付は入力できません。"),
    ({"birth_date": "20240501"}, "生年月日は異動日より前の日付を入力してください。"),
    ({"postal_code": "8328555"}, "郵便番号は「123-4567」の形式で入力してください。"),
    ({"reason": "転籍"}, "異動の種別は一覧から選択してください。"),
    ({"name": ""}, "氏名を入力してください。"),
    ({"application_ref": "受付1"}, "申請受付番号は半角英数字とハイフンで入力してください。"),
])
def test_validation_names_the_field_by_label_and_never_echoes_the_value(changes, message):
    got = validate(screen_values(**changes), today=TODAY)
    assert got == message
    assert not any(str(v) in got for v in changes.values() if v)


def test_store_numbers_entries_and_searches_by_reference_number_kana_and_birth_date(tmp_path):
    store = ResidentStore(tmp_path / "app.db")
    first = store.add(screen_values())
    second = store.add(screen_values(application_ref="KK-OTHER", name_kana="ヤマモト　ハナコ", birth_date="19851111"))
    assert (first, second) == ("00000001", "00000002")
    assert [r.resident_no for r in store.search(application_ref="KK-0123ABC")] == [first]
    assert [r.resident_no for r in store.search(number=second)] == [second]
    assert [r.resident_no for r in store.search(kana="ヤマ")] == [first, second]
    assert [r.resident_no for r in store.search(kana="ヤマダタロウ")] == [first]      # spaces ignored
    assert [r.resident_no for r in store.search(kana="ヤマ", birth_date="19851111")] == [second]
    assert store.search(number="x1") == [] and store.get("abc") is None
    assert store.get(first).values["national_health"] is True


def test_export_prints_one_json_line_per_entry(tmp_path, capsys, config_file):
    store = ResidentStore(tmp_path / "app.db")
    store.add(screen_values())
    assert run(["-c", str(config_file()), "desktop-app", "export", "--db", str(tmp_path / "app.db")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1 and rows[0]["resident_no"] == "00000001" and rows[0]["name"] == "山田　太郎"


def test_export_of_a_missing_database_is_a_config_error(tmp_path, capsys, config_file):
    assert run(["-c", str(config_file()), "desktop-app", "export", "--db", str(tmp_path / "none.db")]) == 3
    assert "no such database" in capsys.readouterr().err


def test_the_app_refuses_to_start_without_the_clerks_password(tmp_path, capsys, config_file, monkeypatch):
    monkeypatch.delenv("KAKITORI_SAMPLE_DESKTOP_PASSWORD", raising=False)
    assert run(["-c", str(config_file()), "desktop-app", "run", "--db", str(tmp_path / "app.db")]) == 3
    assert "KAKITORI_SAMPLE_DESKTOP_PASSWORD" in capsys.readouterr().err
