"""The catalog's scoring reports: one self-contained HTML page for managers, CSV for spreadsheets, Markdown
for a wiki. All three are built from the same ranked rows, so they never disagree.

The HTML carries its CSS and its two SVG charts inline and loads nothing (it must open on a closed city
network). The CSV is UTF-8 with a byte-order mark so that Excel on a Japanese Windows opens it as UTF-8.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from workflows.catalog import charts
from workflows.catalog.measured import MeasuredSet
from workflows.catalog.model import Catalog, Source
from workflows.catalog.score import FACTOR_LABELS, GROUPS, GROUP_LABELS, Score, Weights, reason

TEMPLATES = Path(__file__).resolve().parent / "templates"
TOP = 10
CSV_COLUMNS = (
    "順位", "ID", "課", "業務", "年間件数", "繁忙月", "手作業(分/件)", "自動化後の職員作業(分/件)",
    "適合度(1-5)", "実装容易性(1-5)", "AI-OCR適合(1-5)", "優先度(0-100)",
    "年間削減時間(純)", "総削減時間", "確認時間", "構築時間", "保守時間/年", "人年換算",
    "レビュー率", "失敗率", "機械処理(分/件)", "根拠", "ワークフロー", "実測の件数", "実測の実行回数",
    *(FACTOR_LABELS[k] for keys in GROUPS.values() for k in keys if k != "hours_saved"),
    "押し上げ要因", "課題", "注意", "出典",
)


@dataclass(frozen=True)
class Report:
    """Everything one rendering needs: the catalog, its ranked scores, the weights and the measured runs."""

    catalog: Catalog
    scores: list[Score]
    weights: Weights
    measured: MeasuredSet
    catalog_file: str
    generated: datetime

    def basis(self, s: Score) -> str:
        """実測 (a Kakitori run measured it), 出典あり (a published case), or 推計 (estimates only)."""
        if s.measured:
            return "実測"
        return "推計" if s.process.estimated_only else "出典あり・推計"

    def rows(self) -> list[dict[str, Any]]:
        """One row per process, best first, with the columns of the CSV (and the Markdown's subset)."""
        a = self.catalog.assumptions
        rows = []
        for s in self.scores:
            p, h, m = s.process, s.hours, s.measured
            row: dict[str, Any] = {
                "順位": s.rank, "ID": p.id, "課": p.department, "業務": p.name,
                "年間件数": p.volume_per_year, "繁忙月": " ".join(f"{mo}月" for mo in p.peak_months),
                "手作業(分/件)": _num(p.minutes_by_hand, 2), "自動化後の職員作業(分/件)": _num(h.minutes_after, 2),
                "適合度(1-5)": _num(s.suitability, 2), "実装容易性(1-5)": _num(s.ease, 2),
                "AI-OCR適合(1-5)": "" if s.ocr_fit is None else _num(s.ocr_fit, 2),
                "優先度(0-100)": _num(s.priority, 1),
                "年間削減時間(純)": _num(h.net, 0), "総削減時間": _num(h.gross, 0), "確認時間": _num(h.review, 0),
                "構築時間": _num(h.build, 0), "保守時間/年": _num(h.upkeep, 0),
                "人年換算": _num(max(h.net, 0.0) / a.hours_per_fte, 2),
                "レビュー率": _num(h.review_rate, 3), "失敗率": _num(h.failure_rate, 3),
                "機械処理(分/件)": _num(h.bot_minutes_per_record, 2),
                "根拠": self.basis(s), "ワークフロー": p.workflow or "",
                "実測の件数": m.documents if m else "", "実測の実行回数": m.runs if m else "",
            }
            for key in (k for keys in GROUPS.values() for k in keys if k != "hours_saved"):
                found = next((f for f in s.factors if f.key == key), None)
                row[FACTOR_LABELS[key]] = "" if found is None else int(found.level)
            row["押し上げ要因"] = " / ".join(f"{f.label}: {f.detail}" for f in s.up)
            row["課題"] = " / ".join(f"{f.label}: {f.detail}" for f in s.down)
            row["注意"] = " / ".join(s.warnings)
            row["出典"] = " / ".join(self.source_text(src) for src in p.sources)
            rows.append(row)
        return rows

    def source_text(self, src: Source) -> str:
        if src.ref is not None:
            ref = self.catalog.references[src.ref]
            return f"{ref.publisher}「{ref.title}」" + (f"({src.note})" if src.note else "")
        return f"推計: {src.estimate}"

    def reason(self, s: Score) -> str:
        return reason(s, self.catalog.assumptions)

    def totals(self) -> dict[str, float]:
        positive = [s.hours.net for s in self.scores if s.hours.net > 0]
        top = [s.hours.net for s in self.scores[:TOP] if s.hours.net > 0]
        return {
            "processes": len(self.scores), "hours": sum(positive), "top_hours": sum(top),
            "fte": sum(positive) / self.catalog.assumptions.hours_per_fte,
            "measured": sum(1 for s in self.scores if s.measured),
            "estimated_only": sum(1 for s in self.scores if s.process.estimated_only and not s.measured),
            "negative": sum(1 for s in self.scores if s.hours.net < 0),
        }


def _num(value: float, digits: int) -> float | int:
    return int(round(value)) if digits == 0 else round(value, digits)


def render_html(report: Report) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("report.html")
    return template.render(
        r=report, totals=report.totals(), top=TOP, a=report.catalog.assumptions,
        scatter=charts.suitability_value(report.scores, TOP), bars=charts.hours_bars(report.scores, TOP),
        groups=GROUPS, group_labels=GROUP_LABELS, factor_labels=FACTOR_LABELS,
        measured_scores=[s for s in report.scores if s.measured],
    )


def render_csv(report: Report) -> str:
    rows = report.rows()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    t = report.totals()
    lines = [
        f"# 自動化候補の評価({report.catalog.city or report.catalog_file})",
        "",
        f"- 作成: {report.generated:%Y-%m-%d %H:%M}、カタログ: `{report.catalog_file}`",
        f"- 対象業務 {t['processes']} 件、削減見込みの合計 年間約 {t['hours']:,.0f} 時間(約 {t['fte']:.1f} 人分)、"
        f"上位{TOP}件で 約 {t['top_hours']:,.0f} 時間",
        f"- 実測あり {t['measured']} 件、推計のみ {t['estimated_only']} 件、自動化で時間が増える見込み {t['negative']} 件",
        "",
        "| 順位 | 業務 | 課 | 年間件数 | 削減時間/年 | 適合度 | 容易性 | AI-OCR | 優先度 | 根拠 |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in report.scores:
        ocr = "—" if s.ocr_fit is None else f"{s.ocr_fit:.1f}"
        lines.append("| " + " | ".join(_md_cell(v) for v in (
            s.rank, s.process.name, s.process.department, f"{s.process.volume_per_year:,}", f"{s.hours.net:,.0f}",
            f"{s.suitability:.1f}", f"{s.ease:.1f}", ocr, f"{s.priority:.1f}", report.basis(s))) + " |")
    lines += ["", f"## 上位{min(TOP, len(report.scores))}件の理由", ""]
    for s in report.scores[:TOP]:
        lines.append(f"{s.rank}. **{_md_cell(s.process.name)}**({s.process.department}): {report.reason(s)}")
    if any(s.measured for s in report.scores):
        lines += ["", "## 実測と推計", "",
                  "| 業務 | 機械処理 分/件(推計→実測) | レビュー率(推計→実測) | 失敗率(推計→実測) | 削減時間/年(推計→実測) |",
                  "|---|---:|---:|---:|---:|"]
        for s in report.scores:
            if s.measured:
                e, h = s.estimated_hours, s.hours
                lines.append(f"| {_md_cell(s.process.name)}"
                             f" | {e.bot_minutes_per_record:.2f} → {h.bot_minutes_per_record:.2f}"
                             f" | {e.review_rate:.0%} → {h.review_rate:.0%}"
                             f" | {e.failure_rate:.1%} → {h.failure_rate:.1%} | {e.net:,.0f} → {h.net:,.0f} |")
    lines += ["", "## 出典", ""]
    for key, ref in report.catalog.references.items():
        year = f"、{ref.year}年" if ref.year else ""
        url = f" <{ref.url}>" if ref.url else ""
        lines.append(f"- `{key}`: {ref.publisher}「{ref.title}」{year}{url} — {ref.figures}")
    lines += ["", "評価方法は docs/scoring.md を参照。推計の数値は業務量調査の実数に置き換えてから判断すること。", ""]
    return "\n".join(lines)
