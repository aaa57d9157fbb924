"""Fault injection for the sample legacy system: what makes real RPA hard, at a chosen rate.

Per request (static files aside) the app draws one number; below ``rate`` it injects one fault:

* ``error_before``: HTTP 500 before the request is handled (nothing saved)
* ``error_after``: HTTP 500 after it was handled (e.g. the application *was* saved, the clerk sees an error)
* ``stall``: the response comes ``stall_s`` late (after handling), longer than a bot waits
* ``expire``: the session is dropped: the request lands on the login page
* ``rename``: the page's element ids come out renamed (a "screen change"), names unchanged

Besides faults, ``slow_rate`` of requests take ``slow_s`` longer (a busy host), still within a bot's patience.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

KINDS = ("error_before", "error_after", "stall", "expire", "rename")
WEIGHTS = (0.25, 0.25, 0.15, 0.2, 0.15)


@dataclass(frozen=True)
class FaultConfig:
    rate: float = 0.0
    stall_s: float = 8.0
    slow_rate: float = 0.0
    slow_s: float = 1.0
    seed: int | None = None
    kinds: tuple[str, ...] = KINDS
    paths: tuple[str, ...] = ()      # only requests under these path prefixes get faults (empty: all)


class FaultInjector:
    """Draws faults for requests; thread-safe, reproducible with a seed."""

    def __init__(self, cfg: FaultConfig) -> None:
        unknown = set(cfg.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kind(s): {', '.join(sorted(unknown))} (known: {', '.join(KINDS)})")
        self.cfg = cfg
        self._rng = random.Random(cfg.seed)
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {k: 0 for k in KINDS}

    def draw(self, path: str) -> str | None:
        """The fault for this request, if any."""
        if self.cfg.paths and not path.startswith(self.cfg.paths):
            return None
        with self._lock:
            if self.cfg.rate <= 0 or self._rng.random() >= self.cfg.rate:
                return None
            weights = [w for k, w in zip(KINDS, WEIGHTS) if k in self.cfg.kinds]
            kind = self._rng.choices([k for k in KINDS if k in self.cfg.kinds], weights)[0]
            self.counts[kind] += 1
            return kind

    def slow(self) -> float:
        """Extra seconds this request takes (0 for most)."""
        with self._lock:
            return self.cfg.slow_s if self.cfg.slow_rate > 0 and self._rng.random() < self.cfg.slow_rate else 0.0
