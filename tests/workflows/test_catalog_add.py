"""Adding processes: from a CSV or prompts, validated, with errors naming row and column, written atomically."""

from __future__ import annotations

import os

import pytest
import yaml
from typer.testing import CliRunner

from kakitori.cli import app, run
from kakitori.errors import BusinessError
from tests.workflows.catalog_helpers import SAMPLE, process_data, write_catalog
from workflows.catalog import catalog_file
from workflows.catalog.catalog_file import add_processes
from workflows.catalog.model import load_catalog
from workflows.catalog.rows import COLUMNS, read_csv

HEADER = ",".join(c.key for c in COLUMNS)
GOOD = ("kenshin-hagaki,健康づくり課,受診申込はがきの入力,,6000,4 5,1.5,handwritten_paper,,structured,8,95%,0.05,"
        "健康管理システム:vdi,12,minor,,sop,flagged,,ref:kuji-2020:アンケート集計の例; estimate:件数は推計,")
SECOND = ("yoyaku-shukei,生涯学習課,施設予約の集計,,360,,30,digital,,structured,0,1,0.02,"
          "予約システム:web; 月報:excel,25,none,,input_files,every_record,,estimate:推計,")


@pytest.fixture
def catalog(tmp_path):
    return write_catalog(tmp_path / "catalog.yaml", [process_data(id="existing")])


def _csv(tmp_path, *rows, encoding="utf-8-sig", header=HEADER):
    path = tmp_path / "new.csv"
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode(encoding))
    return path


def test_rows_from_csv_are_added_and_comments_kept(tmp_path, catalog, capsys, config_file):
    assert run(["--config", str(config_file("")), "catalog", "add", "--catalog", str(catalog),
                "--from-csv", str(_csv(tmp_path, GOOD, SECOND))]) == 0
    assert "comments kept" in capsys.readouterr().out
    text = catalog.read_text(encoding="utf-8")
    assert text.startswith("# my comment\n")
    cat = load_catalog(catalog)
    assert [p.id for p in cat.processes] == ["existing", "kenshin-hagaki", "yoyaku-shukei"]
    added = cat.process("kenshin-hagaki")
    assert added.peak_months == [4, 5] and added.rule_based_share == 0.95 and added.sources[0].ref == "kuji-2020"
    assert [s.kind.value for s in cat.process("yoyaku-shukei").systems] == ["web", "excel"]


def test_bad_row_names_row_and_column_and_leaves_the_catalog_untouched(tmp_path, catalog, capsys, config_file):
    before = catalog.read_bytes()
    bad = SECOND.replace(",360,", ",三百六十,")
    assert run(["--config", str(config_file("")), "catalog", "add", "--catalog", str(catalog),
                "--from-csv", str(_csv(tmp_path, GOOD, bad))]) == 4
    err = capsys.readouterr().err
    assert "row=3" in err and "column=volume_per_year" in err and "new.csv" in err
    assert len(err.strip().splitlines()) == 1
    assert catalog.read_bytes() == before


@pytest.mark.parametrize("change, column", [
    ((",handwritten_paper,", ",paper,"), "medium"),
    ((",95%,", ",1.5,"), "rule_based_share"),
    ((",95%,", ",many,"), "rule_based_share"),
    (("健康管理システム:vdi", "健康管理システム"), "systems"),
    (("健康管理システム:vdi", "健康管理システム:mainframe"), "systems"),
    (("ref:kuji-2020:アンケート集計の例", "ref:nowhere"), "sources"),
    ((",4 5,", ",13,"), "peak_months"),
    (("kenshin-hagaki", "Kenshin Hagaki"), "id"),
    ((",受診申込はがきの入力,", ",,"), "name"),
])
def test_each_kind_of_bad_cell_is_named(tmp_path, catalog, change, column):
    row = GOOD.replace(*change)
    with pytest.raises(BusinessError) as err:
        read_csv(_csv(tmp_path, row), ["kuji-2020"])
    assert err.value.context["row"] == 2 and err.value.context["column"] == column


def test_unknown_and_missing_columns_are_named_on_the_header_row(tmp_path):
    with pytest.raises(BusinessError) as err:
        read_csv(_csv(tmp_path, GOOD, header=HEADER.replace("volume_per_year", "volume")))
    assert err.value.context == {"file": tmp_path / "new.csv", "row": 1, "column": "volume"}
    header = HEADER.replace(",steps", "")
    with pytest.raises(BusinessError) as err:
        read_csv(_csv(tmp_path, GOOD.replace(",12,minor", ",minor"), header=header))
    assert err.value.context["column"] == "steps"


def test_an_id_already_in_the_catalog_is_refused(tmp_path, catalog):
    with pytest.raises(BusinessError) as err:
        read_csv(_csv(tmp_path, GOOD, GOOD), ["kuji-2020"], {"existing"})
    assert err.value.context["row"] == 3 and err.value.context["column"] == "id"


def test_excel_shift_jis_csv_is_read(tmp_path):
    procs = read_csv(_csv(tmp_path, GOOD, encoding="cp932"), ["kuji-2020"])
    assert procs[0].department == "健康づくり課"


def test_a_crash_while_writing_leaves_the_old_catalog(tmp_path, catalog, monkeypatch):
    before = catalog.read_bytes()
    new = read_csv(_csv(tmp_path, GOOD), ["kuji-2020"])

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(catalog_file.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        add_processes(catalog, new)
    assert catalog.read_bytes() == before
    assert not [n for n in os.listdir(catalog.parent) if n.endswith(".tmp")]  # no temporary file left


def test_catalog_whose_processes_are_not_last_is_rewritten_and_says_so(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"processes": [process_data(id="a")], "references": {}}, allow_unicode=True),
                    encoding="utf-8")
    new = read_csv(_csv(tmp_path, SECOND))
    assert add_processes(path, new) == "rewritten"
    assert [p.id for p in load_catalog(path).processes] == ["a", "yoyaku-shukei"]


def test_adding_to_the_sample_catalog_keeps_every_comment(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    comments = [line for line in path.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("#")]
    assert add_processes(path, read_csv(_csv(tmp_path, SECOND))) == "appended"
    text = path.read_text(encoding="utf-8")
    assert all(c in text for c in comments)
    assert load_catalog(path).processes[-1].id == "yoyaku-shukei"


def test_prompts_ask_again_for_a_bad_answer(tmp_path, catalog, config_file):
    answers = {
        "id": "inu-toroku", "department": "生活環境課", "name": "犬の登録", "description": "", "volume_per_year": "abc",
        "peak_months": "4", "minutes_by_hand": "2", "medium": "handwritten_paper", "digital_share": "",
        "structure": "structured", "fields": "10", "rule_based_share": "0.95", "exception_share": "0.05",
        "systems": "畜犬登録システム:desktop", "steps": "15", "expected_change": "none", "change_note": "",
        "documentation": "sop", "check": "flagged", "workflow": "", "sources": "estimate:推計", "notes": "",
    }
    typed = "\n".join(answers[c.key] for c in COLUMNS) + "\n4500\n"
    result = CliRunner().invoke(app, ["--config", str(config_file("")), "catalog", "add", "--catalog", str(catalog)],
                                input=typed)
    assert result.exit_code == 0, result.output
    assert "volume_per_year" in result.output
    assert load_catalog(catalog).process("inu-toroku").volume_per_year == 4500


def test_first_process_can_be_added_to_an_empty_catalog(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("# 新しいカタログ\nversion: 1\nprocesses:\n", encoding="utf-8")
    assert add_processes(path, read_csv(_csv(tmp_path, SECOND))) == "appended"
    assert path.read_text(encoding="utf-8").startswith("# 新しいカタログ\n")
    assert [p.id for p in load_catalog(path).processes] == ["yoyaku-shukei"]


def test_check_command_counts_processes(config_file, capsys):
    assert run(["--config", str(config_file("")), "catalog", "check", "--catalog", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert ": OK" in out and "processes" in out and "references" in out
