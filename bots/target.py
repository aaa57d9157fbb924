"""The seam to one legacy system: the page objects of a target behind three clerk-level verbs.

A web target (Playwright) and a desktop target (pyautogui) both implement ``TargetSystem``; the key-in
loop (idempotency ledger, read-back verification, retries) is written once against this protocol.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Receipt:
    """Proof of what was keyed: the target's own id for the entry, and what it holds now."""

    idempotency_key: str
    target: str
    entry_id: str                      # e.g. the receipt number shown on the completion screen
    status: str = "keyed"              # keyed | already_keyed | dry_run
    saved: dict[str, Any] = field(default_factory=dict)   # values read back from the target's screens
    screenshots: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Receipt":
        return cls(**d)


class TargetSystem(Protocol):
    """One legacy system, seen as a clerk sees it. Screen values are already mapped from the record."""

    name: str

    def find(self, key: str) -> str | None:
        """The entry id already keyed under this idempotency key in the target, if any (searching the system)."""

    def create(self, key: str, values: dict[str, Any]) -> str:
        """Key a new entry; returns its entry id. Raises BusinessError when the system rejects a value."""

    def read(self, entry_id: str) -> dict[str, Any]:
        """The saved values of an entry, read back from the target's screens."""


@runtime_checkable
class Rehearsing(Protocol):
    """A target that can rehearse: fill every screen, stop before the final confirm (dry run)."""

    def rehearse(self, key: str, values: dict[str, Any]) -> list[str]:
        """Fill every screen for these values without saving; returns the screenshots taken at each step."""


@runtime_checkable
class Capturing(Protocol):
    """A target that can keep evidence of what its screen shows when an item fails."""

    def capture(self, label: str) -> list[str]:
        """Save a screenshot (or more) of the current screen under a label; returns the file paths."""
