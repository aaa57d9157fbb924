"""Shared fixtures. Integration tests use the real parts (Redis, PostgreSQL, Chromium, PP-OCR models)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def config_file(tmp_path: Path):
    """Write a config.yaml (text) into a temporary folder, with data_dir inside it; returns a writer."""

    def write(text: str = "") -> Path:
        path = tmp_path / "config.yaml"
        path.write_text(text if "data_dir" in text else f"data_dir: {tmp_path / 'data'}\n{text}", encoding="utf-8")
        return path

    return write
