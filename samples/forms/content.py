"""What one resident writes on one form: for every field, the text (or mark) as written and its normalised truth.

The three sample forms get coherent stories (a move within the same city has a previous address in that city,
the head of household shares the family name, an agent's application carries a power of attorney, …). Any
other template is filled field by field from its field types, so a city's own template can be generated too.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from faker import Faker

from ocr.template import FieldSpec, FieldType, Template
from samples.forms import resident as R

Truth = str | bool


@dataclass(frozen=True)
class Entry:
    """One field as filled: ``written`` is what the pen puts down ('' or False = left empty); ``truth`` is the
    normalised value the truth file holds."""

    written: str | bool
    truth: Truth


def text(written: str) -> Entry:
    return Entry(written, re.sub(r"\s+", "", R.nfkc(written)))


def date_entry(d: date, rng: random.Random, western: float = 0.25) -> Entry:
    return Entry(R.written_date(d, rng, western=western), d.isoformat())


def postal_entry(place: R.Place) -> Entry:
    return Entry(place.postal_code.replace("-", ""), place.postal_code)


def digits_entry(digits: str) -> Entry:
    return Entry(digits, digits)


def amount_entry(yen: int, rng: random.Random) -> Entry:
    return Entry(R.amount_written(yen, rng), str(yen))


def phone_entry(rng: random.Random) -> Entry:
    p = R.phone(rng)
    return Entry(p, p)


def mark(on: bool) -> Entry:
    return Entry(on, on)


def choice(value: str) -> Entry:
    return Entry(value, value)


EMPTY = Entry("", "")


def person_name(entry: Entry) -> Entry:
    """A person-name field's truth keeps the gap the writer left between family and given name as one
    half-width space (the value is "family given"; legacy screens key the two separately)."""
    if not isinstance(entry.written, str) or not entry.written:
        return entry
    return Entry(entry.written, " ".join(R.nfkc(entry.written).split()))


def name_entry(p: R.Person) -> Entry:
    return text(f"{p.family} {p.given}")


def kana_entry(p: R.Person) -> Entry:
    return text(f"{p.family_kana} {p.given_kana}")


def filing_day(rng: random.Random) -> date:
    return R.random_date(rng, date(2019, 5, 1), date(2026, 3, 31))


def maybe(rng: random.Random, p: float, entry: Entry) -> Entry:
    """``entry`` with probability ``p``, else the field is left empty."""
    return entry if rng.random() < p else (Entry(False, False) if isinstance(entry.written, bool) else EMPTY)


# --- the sample forms ---------------------------------------------------------------------------------------
def juminido(fake: Faker, rng: random.Random) -> dict[str, Entry]:
    filed = filing_day(rng)
    moved = filed - timedelta(days=rng.randrange(0, 14))
    relationship = rng.choices(("self", "spouse", "child", "other"), (0.55, 0.2, 0.2, 0.05))[0]
    born = (date(1995, 1, 1), date(2018, 12, 31)) if relationship == "child" else (date(1938, 1, 1), date(2004, 12, 31))
    me = R.person(fake, rng, born)
    if relationship == "self":
        head = me
    elif relationship == "other":
        head = R.person(fake, rng, (date(1940, 1, 1), date(1990, 1, 1)))
    else:
        head = R.person(fake, rng, (date(1940, 1, 1), date(1990, 1, 1)), family=(me.family, me.family_kana),
                        sex="female" if me.sex == "male" and relationship == "spouse" else None)
    reason = rng.choices(("tennyu", "tenkyo", "tenshutsu"), (0.5, 0.3, 0.2))[0]
    new = R.random_place(rng)
    prev = R.random_place(rng, near=new) if reason == "tenkyo" else R.random_place(rng)
    return {
        "filing_date": Entry(R.wareki(filed, gannen=rng.random() < 0.5), filed.isoformat()),
        "reason": choice(reason),
        "moved_on": date_entry(moved, rng, 0.15),
        "name": name_entry(me),
        "name_kana": kana_entry(me),
        "birth_date": date_entry(me.birth, rng, 0.25),
        "sex": choice(me.sex),
        "postal_code": postal_entry(new),
        "address": text(R.street_address(new, rng, _building(fake, rng))),
        "prev_address": maybe(rng, 0.92, text(R.street_address(prev, rng, _building(fake, rng)))),
        "phone": maybe(rng, 0.85, phone_entry(rng)),
        "individual_number": maybe(rng, 0.8, digits_entry(R.individual_number(rng))),
        "head_of_household": maybe(rng, 0.95, name_entry(head)),
        "relationship": maybe(rng, 0.95, choice(relationship)),
        "national_health": mark(rng.random() < 0.3),
        "keep_card": mark(rng.random() < 0.5),
    }


BANKS = ("柿取信用金庫", "ゆうちょ銀行", "みずほ銀行", "三井住友銀行", "りそな銀行", "柿取農業協同組合",
         "三菱UFJ銀行", "第一地方銀行")


def jidoteate(fake: Faker, rng: random.Random) -> dict[str, Entry]:
    filed = filing_day(rng)
    claimant = R.person(fake, rng, (date(1972, 1, 1), date(2000, 12, 31)))
    fam = (claimant.family, claimant.family_kana)
    child = R.person(fake, rng, (filed - timedelta(days=17 * 365), filed - timedelta(days=30)), family=fam)
    spouse = R.person(fake, rng, (date(1970, 1, 1), date(2000, 12, 31)), family=fam,
                      sex="female" if claimant.sex == "male" else "male")
    place = R.random_place(rng)
    return {
        "filing_date": Entry(R.wareki(filed, gannen=rng.random() < 0.5), filed.isoformat()),
        "sex": choice(claimant.sex),
        "claimant_kana": kana_entry(claimant),
        "claimant_name": name_entry(claimant),
        "birth_date": date_entry(claimant.birth, rng),
        "postal_code": postal_entry(place),
        "phone": maybe(rng, 0.9, phone_entry(rng)),
        "address": text(R.street_address(place, rng, _building(fake, rng))),
        "individual_number": digits_entry(R.individual_number(rng)),
        "pension": choice(rng.choices(("kosei", "kokumin", "kyosai"), (0.6, 0.3, 0.1))[0]),
        "annual_income": maybe(rng, 0.9, amount_entry(rng.randrange(80, 1200) * 10_000 + rng.randrange(0, 10) * 1000,
                                                       rng)),
        "spouse_name": maybe(rng, 0.8, name_entry(spouse)),
        "child_kana": kana_entry(child),
        "child_name": name_entry(child),
        "child_birth_date": date_entry(child.birth, rng),
        "child_lives_with": mark(rng.random() < 0.9),
        "child_supported": mark(rng.random() < 0.95),
        "bank_name": maybe(rng, 0.95, text(rng.choice(BANKS))),
        "account_type": maybe(rng, 0.95, choice(rng.choices(("futsu", "toza"), (0.9, 0.1))[0])),
        "account_number": digits_entry("".join(str(rng.randrange(10)) for _ in range(7))),
    }


def inkan(fake: Faker, rng: random.Random) -> dict[str, Entry]:
    filed = filing_day(rng)
    me = R.person(fake, rng, (date(1940, 1, 1), date(2008, 12, 31)))
    place = R.random_place(rng)
    applicant = rng.choices(("self", "agent"), (0.8, 0.2))[0]
    method = rng.choices(("card", "license", "passport", "guarantor"), (0.45, 0.3, 0.1, 0.15))[0]
    guarantor = R.person(fake, rng, (date(1940, 1, 1), date(2000, 1, 1)))
    agent = R.person(fake, rng, (date(1940, 1, 1), date(2000, 1, 1)))
    return {
        "filing_date": Entry(R.wareki(filed, gannen=rng.random() < 0.5), filed.isoformat()),
        "applicant": choice(applicant),
        "name_kana": kana_entry(me),
        "name": name_entry(me),
        "sex": choice(me.sex),
        "birth_date": date_entry(me.birth, rng),
        "phone": maybe(rng, 0.85, phone_entry(rng)),
        "postal_code": postal_entry(place),
        "address": text(R.street_address(place, rng, _building(fake, rng))),
        "id_method": choice(method),
        "license_number": digits_entry("".join(str(rng.randrange(10)) for _ in range(12)))
        if method == "license" else EMPTY,
        "guarantor_name": name_entry(guarantor) if method == "guarantor" else EMPTY,
        "guarantor_seal_number": digits_entry(f"{rng.randrange(1, 999999):06d}") if method == "guarantor" else EMPTY,
        "agent_name": name_entry(agent) if applicant == "agent" else EMPTY,
        "power_of_attorney": mark(applicant == "agent"),
        "sworn": mark(rng.random() < 0.95),
    }


def _building(fake: Faker, rng: random.Random) -> str:
    return fake.building_name() if rng.random() < 0.35 else ""


STORIES: dict[str, Callable[[Faker, random.Random], dict[str, Entry]]] = {
    "juminido": juminido, "jidoteate": jidoteate, "inkan": inkan,
}


# --- any other template -------------------------------------------------------------------------------------
def by_type(f: FieldSpec, fake: Faker, rng: random.Random, place: R.Place) -> Entry:
    """A plausible value for a field of a template the generator has no story for; postal codes and addresses
    all come from the resident's ``place`` so that they agree."""
    t = f.type
    if t is FieldType.TEXT:
        if any(k in f.label for k in ("住所", "所在")):
            return text(R.street_address(place, rng))
        return name_entry(R.person(fake, rng, (date(1940, 1, 1), date(2005, 1, 1))))
    if t is FieldType.KATAKANA:
        return kana_entry(R.person(fake, rng, (date(1940, 1, 1), date(2005, 1, 1))))
    if t is FieldType.HIRAGANA:
        import jaconv

        return text(jaconv.kata2hira(R.person(fake, rng, (date(1940, 1, 1), date(2005, 1, 1))).kana))
    if t is FieldType.DIGITS:
        n = f.comb or min(f.max_length or 8, 12)
        return digits_entry("".join(str(rng.randrange(10)) for _ in range(n)))
    if t is FieldType.POSTAL:
        return postal_entry(place)
    if t is FieldType.PHONE:
        return phone_entry(rng)
    if t is FieldType.DATE:
        return date_entry(R.random_date(rng, date(1950, 1, 1), date(2025, 12, 31)), rng)
    if t is FieldType.AMOUNT:
        return amount_entry(rng.randrange(1, 5000) * 1000, rng)
    if t is FieldType.INDIVIDUAL_NUMBER:
        return digits_entry(R.individual_number(rng))
    if t is FieldType.CHECKBOX:
        return mark(rng.random() < 0.5)
    return choice(rng.choice(f.options).value)


def fill(template: Template, fake: Faker, rng: random.Random) -> dict[str, Entry]:
    """Every field of ``template`` as one resident fills it in, in the template's field order."""
    story = STORIES.get(template.name)
    values = story(fake, rng) if story else {}
    place = R.random_place(rng) if any(f.name not in values for f in template.fields) else None
    out = {}
    for f in template.fields:
        if f.name not in values:
            values[f.name] = by_type(f, fake, rng, place) if (f.required or rng.random() < 0.85) else \
                (Entry(False, False) if f.type is FieldType.CHECKBOX else EMPTY)
        out[f.name] = person_name(values[f.name]) if f.person_name else values[f.name]
    return out
