"""Start a Kakitori worker: ``python worker.py [--config PATH]`` (same as ``kakitori worker``)."""

from __future__ import annotations

import sys

from kakitori.cli import run

if __name__ == "__main__":
    sys.exit(run(["worker", *sys.argv[1:]]))
