"""The reports: HTML with the ranked table and both inline charts, CSV for Excel, Markdown for a wiki."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest

from kakitori.cli import run
from tests.workflows.catalog_helpers import SAMPLE, write_run_report
from workflows.catalog.measured import MeasuredSet, load_measured
from workflows.catalog.model import load_catalog
from workflows.catalog.report import Report, render_csv, render_html, render_markdown
from workflows.catalog.score import Weights, score_catalog


def _report(measured: MeasuredSet | None = None) -> Report:
    cat = load_catalog(SAMPLE)
    weights = Weights.from_config({})
    measured = measured or MeasuredSet({})
    return Report(cat, score_catalog(cat, weights, measured), weights, measured, "catalog.yaml", datetime(2026, 4, 1))


@pytest.fixture(scope="module")
def report() -> Report:
    return _report()


def test_html_has_the_ranked_table_and_both_charts(report):
    html = render_html(report)
    n = len(report.scores)
    table = html[html.index('id="ranking-table"'):html.index("</table>", html.index('id="ranking-table"'))]
    assert table.count("<tr class=") == n
    first = report.scores[0].process
    assert table.index(f'data-id="{first.id}"') < table.index(f'data-id="{report.scores[-1].process.id}"')
    scatter = html[html.index('id="chart-suitability-value"'):]
    scatter = scatter[:scatter.index("</svg>")]
    assert scatter.count('<circle class="dot"') == n
    bars = html[html.index('id="chart-hours"'):]
    assert bars[:bars.index("</svg>")].count('<rect class="bar"') == n
    assert "上位候補と理由" in html and first.name in html


def test_html_is_self_contained(report):
    html = render_html(report)
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//[^"']*\.(js|css)""", html)
    assert "<link" not in html and "@import" not in html
    assert html.lstrip().startswith("<!DOCTYPE html>") and 'lang="ja"' in html


def test_html_gives_a_reason_for_each_top_candidate(report):
    html = render_html(report)
    top = html[html.index('id="top"'):html.index('id="charts"')]
    assert top.count("<li>") == 10
    for s in report.scores[:10]:
        assert s.process.name in top
    assert "削減見込み" in top


def test_csv_has_bom_header_first_and_one_row_per_process(report):
    text = render_csv(report)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["順位", "ID", "課", "業務"]
    assert len(rows) == 1 + len(report.scores)
    assert [r[1] for r in rows[1:]] == [s.process.id for s in report.scores]
    header = rows[0]
    assert "年間削減時間(純)" in header and "根拠" in header and "出典" in header
    assert rows[1][header.index("順位")] == "1"


def test_csv_file_is_written_with_a_byte_order_mark(tmp_path, config_file):
    out, csv_out = tmp_path / "r.html", tmp_path / "r.csv"
    assert run(["--config", str(config_file("")), "catalog", "score", "--catalog", str(SAMPLE),
                "--out", str(out), "--csv", str(csv_out)]) == 0
    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "順位".encode() in raw[:20]


def test_empty_catalog_still_gives_a_full_csv_header_and_a_page():
    cat = load_catalog(SAMPLE).model_copy(update={"processes": []})
    empty = Report(cat, [], Weights.from_config({}), MeasuredSet({}), "empty.yaml", datetime(2026, 4, 1))
    rows = list(csv.reader(io.StringIO(render_csv(empty))))
    assert len(rows) == 1 and "年間削減時間(純)" in rows[0] and "出典" in rows[0]
    assert 'id="chart-hours"' in render_html(empty)


def test_markdown_has_a_table_row_per_process(report):
    md = render_markdown(report)
    lines = md.splitlines()
    head = lines.index("| 順位 | 業務 | 課 | 年間件数 | 削減時間/年 | 適合度 | 容易性 | AI-OCR | 優先度 | 根拠 |")
    assert lines[head + 1].startswith("|---:|")
    body = [line for line in lines[head + 2:] if line.startswith("| ")]
    assert len(body) >= len(report.scores)
    assert body[0].startswith(f"| 1 | {report.scores[0].process.name} |")
    assert "## 出典" in md and "kuji-2020" in md


def test_measured_figures_are_shown_beside_the_estimate(tmp_path):
    write_run_report(tmp_path, "run-1", workflow="tennyu", review_rate=0.42, failure_rate=0.07, seconds_per_document=18)
    r = _report(load_measured(tmp_path))
    html = render_html(r)
    section = html[html.index('id="measured-table"'):]
    section = section[:section.index("</table>")]
    assert "住民異動届" in section and "42%" in section and "7.0%" in section and "0.30" in section
    assert "実測" in html
    md = render_markdown(r)
    assert "## 実測と推計" in md and "42%" in md
    rows = list(csv.DictReader(io.StringIO(render_csv(r))))
    row = next(x for x in rows if x["ID"] == "jumin-ido")
    assert row["根拠"] == "実測" and row["実測の件数"] == "100" and float(row["レビュー率"]) == pytest.approx(0.42)


def test_score_command_writes_all_three_reports(tmp_path, config_file, capsys):
    data = tmp_path / "data"
    write_run_report(data / "reports", "run-9", workflow="tennyu")
    out, csv_out, md_out = tmp_path / "o" / "report.html", tmp_path / "o" / "report.csv", tmp_path / "o" / "report.md"
    cfg = config_file(f"catalog:\n  file: {SAMPLE}\n")
    assert run(["--config", str(cfg), "catalog", "score", "--out", str(out), "--csv", str(csv_out),
                "--md", str(md_out), "--json"]) == 0
    assert out.exists() and csv_out.exists() and md_out.exists()
    printed = capsys.readouterr().out
    assert "1 with measured runs" in printed and printed.strip().splitlines()[-1].startswith("{")
    assert oct(out.stat().st_mode & 0o077) != "0o0"  # readable by others as usual, not a 0600 temp file


def test_score_command_refuses_unknown_weight(tmp_path, config_file, capsys):
    cfg = config_file(f"catalog:\n  file: {SAMPLE}\n  weights: {{speed: 2}}\n")
    assert run(["--config", str(cfg), "catalog", "score", "--out", str(tmp_path / "r.html")]) == 3
    assert "catalog.weights.speed" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
