"""The HTML report in real Chromium: it renders offline, shows the table and both charts, and loads nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kakitori.cli import run
from tests.workflows.catalog_helpers import SAMPLE, write_run_report

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.integration
def test_report_renders_in_chromium_with_table_and_charts(tmp_path, config_file):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists() or shutil.which("chromium"), "Chromium is part of the setup (Debian package chromium)"
    write_run_report(tmp_path / "data" / "reports", "run-1", workflow="tennyu")
    out = tmp_path / "report.html"
    assert run(["--config", str(config_file(f"catalog:\n  file: {SAMPLE}\n")), "catalog", "score",
                "--out", str(out)]) == 0

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.on("request", lambda req: requests.append(req.url))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(out.as_uri())
            page.wait_for_load_state("load")

            rows = page.locator("#ranking-table tbody tr")
            assert rows.count() >= 30
            assert rows.first.is_visible()
            assert rows.first.locator("td").first.inner_text().strip() == "1"
            for chart in ("#chart-suitability-value", "#chart-hours"):
                box = page.locator(chart).bounding_box()
                assert box and box["width"] > 300 and box["height"] > 200, chart
            dot = page.locator("#chart-suitability-value circle.dot").first.bounding_box()
            assert dot and dot["width"] > 3  # the dots are drawn, not just present in the markup
            assert page.locator("#chart-hours rect.bar").count() == rows.count()
            assert page.get_by_text("上位候補と理由").is_visible()
            assert page.locator("#measured-table tbody tr").count() == 1
            # Japanese text is laid out with a CJK font: the heading is wider than a row of tofu boxes would be
            heading = page.locator("header h1").bounding_box()
            assert heading and heading["width"] > 200
            shot = tmp_path / "shot.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 20_000
        finally:
            browser.close()
    assert all(url.startswith(("file:", "data:", "about:")) for url in requests), requests
    assert not errors, errors
