"""Synthetic 住民異動届 (juminido) records for key-in tests and benchmarks, made with Faker (ja_JP).

They have the shape of ``Record.to_dict()`` with every field accepted, so a benchmark of the bots does not
depend on OCR. Reproducible with a seed.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from faker import Faker

FIELD_TYPES = {
    "filing_date": "date", "reason": "choice", "moved_on": "date", "name": "text", "name_kana": "katakana",
    "birth_date": "date", "sex": "choice", "postal_code": "postal", "address": "text", "prev_address": "text",
    "phone": "phone", "individual_number": "individual_number", "head_of_household": "text",
    "relationship": "choice", "national_health": "checkbox", "keep_card": "checkbox",
}


def individual_number(rng: random.Random) -> str:
    """A random 12-digit individual number with a valid check digit."""
    body = [rng.randint(0, 9) for _ in range(11)]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(body), 1))
    rest = total % 11
    return "".join(map(str, body)) + str(0 if rest <= 1 else 11 - rest)


def juminido_values(fake: Faker, rng: random.Random) -> dict[str, Any]:
    """One plausible 転入届's normalised values (ISO dates, NNN-NNNN postal codes, option values)."""
    family, family_kana, _ = fake.last_name_pair()
    sex = rng.choice(("male", "female"))
    given, given_kana, _ = fake.first_name_male_pair() if sex == "male" else fake.first_name_female_pair()
    filing = date(2024, 4, 1) + timedelta(days=rng.randint(0, 600))
    moved = filing - timedelta(days=rng.randint(0, 13))
    birth = fake.date_of_birth(minimum_age=18, maximum_age=95)
    is_head = rng.random() < 0.6
    head = f"{family} {given}" if is_head else f"{family} {fake.first_name()}"
    return {
        "filing_date": filing.isoformat(), "reason": "tennyu", "moved_on": moved.isoformat(),
        "name": f"{family} {given}", "name_kana": f"{family_kana} {given_kana}", "birth_date": birth.isoformat(),
        "sex": sex, "postal_code": fake.zipcode(), "address": fake.address().split(" ")[0],
        "prev_address": fake.address().split(" ")[0], "phone": fake.phone_number(),
        "individual_number": individual_number(rng), "head_of_household": head,
        "relationship": "self" if is_head else rng.choice(("spouse", "child", "other")),
        "national_health": rng.random() < 0.4, "keep_card": rng.random() < 0.8,
    }


def synthetic_records(n: int, seed: int = 4242, prefix: str = "synth") -> list[dict[str, Any]]:
    """``n`` juminido records as ``Record.to_dict()`` would give them, every field accepted."""
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    records = []
    for i in range(1, n + 1):
        values = juminido_values(fake, rng)
        records.append({
            "document_id": f"{prefix}-{seed}-{i:05d}", "template": "juminido", "file": "", "source": "synthetic",
            "registration_score": 1.0, "pages": 1, "needs_review": False, "timings_ms": {},
            "fields": {name: {"name": name, "type": FIELD_TYPES[name], "value": value, "raw_text": "",
                              "confidence": 1.0, "status": "accepted", "reason": "", "crop": None, "page": 1}
                       for name, value in values.items()},
        })
    return records
