"""Worker setup: numpy's math threads follow the worker's OCR threads (or what the administrator set)."""

from __future__ import annotations

import os
import subprocess
import sys

from kakitori.config import ROOT

THREADS_AFTER_NUMPY = """
import os, sys, worker
worker.limit_math_threads(int(sys.argv[1]))
import numpy
numpy.ones((64, 64)) @ numpy.ones((64, 64))
print(len(os.listdir('/proc/self/task')))
"""


def _threads(ocr_threads: int, **env: str) -> int:
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", THREADS_AFTER_NUMPY, str(ocr_threads)], cwd=ROOT, check=True,
                          capture_output=True, text=True, env={**clean, **env}, timeout=60)
    return int(done.stdout.strip())


def test_numpy_gets_the_workers_ocr_threads_not_one_per_core():
    assert _threads(1) == 1  # the process's only thread: no OpenBLAS pool spinning beside the OCR
    assert _threads(2) == min(2, os.cpu_count() or 1)  # OpenBLAS never starts more threads than cores


def test_math_threads_set_by_the_administrator_win():
    assert _threads(1, OPENBLAS_NUM_THREADS="2") == min(2, os.cpu_count() or 1)
