"""`kakitori demo` with the network cut off: the README's first command works on a closed city network.

The real parts throughout: the sample generator, the PP-OCR pipeline, the sample legacy web app (a
subprocess), Chromium keying in through Playwright, the embedded queue, the SQLite store, the run report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_demo_runs_end_to_end_without_network(tmp_path):
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to cut the network off")
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\n"
                      f"ocr:\n  templates_dirs: [{ROOT / 'samples' / 'templates'}]\n"
                      f"workflows:\n  dirs: [{ROOT / 'samples' / 'workflows'}]\n", encoding="utf-8")
    kakitori = ROOT / ".venv" / "bin" / "kakitori"
    proc = subprocess.run(
        ["unshare", "-rn", "sh", "-c", f'ip link set lo up && exec "{kakitori}" --config "{config}" demo --count 2'],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(Path.home()), "LANG": "C.UTF-8"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    report_line = [line for line in proc.stdout.splitlines() if line.startswith("report: ")][-1]
    html = Path(report_line.removeprefix("report: "))
    data = json.loads((html.parent / "report.json").read_text(encoding="utf-8"))
    assert html.is_file() and "処理結果レポート" in html.read_text(encoding="utf-8")
    assert data["documents"] == 2
    assert data["states"]["keyed"] == 2, [(f["file"], f["stage"], f["message"]) for f in data["failures"]]
    assert "4/4 done" in proc.stdout
