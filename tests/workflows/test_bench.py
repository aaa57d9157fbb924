"""The pipeline benchmark's worker setup: workers sharing a machine's CPUs share its OCR threads."""

from __future__ import annotations

import yaml

from kakitori.config import load_config
from workflows.bench import _settings_for, ocr_threads_per_worker


def test_workers_sharing_the_cpus_get_their_share_of_ocr_threads():
    assert ocr_threads_per_worker(2, workers=1, cpus=2) == 2
    assert ocr_threads_per_worker(2, workers=2, cpus=2) == 1
    assert ocr_threads_per_worker(2, workers=3, cpus=2) == 1   # never none
    assert ocr_threads_per_worker(2, workers=2, cpus=8) == 2   # never more than configured
    assert ocr_threads_per_worker(4, workers=2, cpus=8) == 4


def test_the_workers_config_file_carries_their_ocr_threads(tmp_path):
    settings = _settings_for(load_config(), "redis://127.0.0.1:1/0", tmp_path, ocr_threads=1)
    assert settings.ocr.threads == 1
    assert yaml.safe_load(settings.source.read_text(encoding="utf-8"))["ocr"]["threads"] == 1
