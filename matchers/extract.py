"""Identifiers found in free text, with their positions: what a message says about who
sent it ("account 55-1234-88", "order 4411", an e-mail address, a phone number).

Bounded: only the first ``MAX_TEXT`` characters are read and every pattern is linear, so
any input, however hostile, is scanned in bounded time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import phonenumbers

from matchers.contact import normalize_email
from matchers.postcodes import UK_POSTCODE, normalize_postcode
from matchers.text import MAX_TEXT

Kind = Literal["account_number", "email", "phone", "postcode", "order_number", "case_number"]

DEFAULT_ACCOUNT_PATTERN = r"\b\d{2}-\d{4}-\d{2}\b"
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_ORDER = re.compile(
    r"\border\s*(?:no\.?|number|num|#|id)?\s*[:#]?\s*([A-Z]{0,3}-?\d{3,12})\b", re.IGNORECASE
)
_CASE = re.compile(
    r"\b(?:case|ticket|ref(?:erence)?|complaint)\s*(?:no\.?|number|num|#|id)?\s*[:#]?\s*"
    r"([A-Z]{0,4}-?\d{3,10})\b",
    re.IGNORECASE,
)
_MAX_PHONE_TRIES = 50
# A number that follows what people call it ("acct no. 31052228", "a/c 3105 2228", "my
# account is 31-05-22-28", "customer number ..."), in whatever form: digits in groups
# split by single spaces or dashes, perhaps after a short letter prefix.
_ACCOUNT_CUE = re.compile(
    r"\b(?:account|acct|acc|a/c|customer|cust|ref(?:erence)?)\.?"
    r"(?:\s*(?:no\.?|nr\.?|number|num|#|id|ref))?\s*(?:is\b|was\b|[:#=-])?\s*"
    r"([A-Z]{0,3}-?\d(?:[ -]?\d){4,19})(?!\d)",
    re.IGNORECASE,
)
_GROUP_BREAK = re.compile(r"[ -]")


@dataclass(frozen=True, slots=True)
class Found:
    kind: Kind
    value: str  # normal form
    start: int
    end: int
    # Read after a cue rather than by the account pattern: a number only the book can
    # confirm (one no account holds is not an identifier).
    cued: bool = False


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mod11_ok(digits: str) -> bool:
    """Weights 2, 3, 4, ... from the right of the body; check digit 11 - sum % 11 (10 and
    11 read as 0)."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * w for d, w in zip(reversed(body), range(2, 2 + len(body)), strict=True))
    return (11 - total % 11) % 11 % 10 == check


CHECK_DIGITS: dict[str, Callable[[str], bool]] = {"luhn": luhn_ok, "mod11": mod11_ok}


def extract(
    text: str,
    *,
    region: str = "GB",
    account_pattern: str = DEFAULT_ACCOUNT_PATTERN,
    check_digit: str | None = None,
    phone_leniency: Literal["valid", "possible"] = "valid",
) -> list[Found]:
    """Every identifier in ``text``, in order of position; overlapping finds of a weaker
    kind (a phone number inside an account number) are dropped."""
    text = text[:MAX_TEXT]
    found: list[Found] = []
    verify = CHECK_DIGITS[check_digit] if check_digit else None
    for m in re.finditer(account_pattern, text):
        digits = re.sub(r"\D", "", m.group(0))
        if digits and (verify is None or verify(digits)):
            found.append(Found("account_number", m.group(0), m.start(), m.end()))
    cued = list(_cued_accounts(text, verify))
    for m in _EMAIL.finditer(text):
        email = normalize_email(m.group(0).strip(".'"))
        if email:
            found.append(Found("email", email, m.start(), m.end()))
    for m in _ORDER.finditer(text):
        found.append(Found("order_number", m.group(1).upper(), m.start(1), m.end(1)))
    for m in _CASE.finditer(text):
        found.append(Found("case_number", m.group(1).upper(), m.start(1), m.end(1)))
    if region == "GB":
        for m in UK_POSTCODE.finditer(text):
            code = normalize_postcode(m.group(0), region)
            if code:
                found.append(Found("postcode", code, m.start(), m.end()))
    # In free text only valid numbers count (a run of digits is not a phone number); a
    # rep typing into a search box means a number even in a reserved range.
    leniency = (
        phonenumbers.Leniency.VALID if phone_leniency == "valid" else phonenumbers.Leniency.POSSIBLE
    )
    matcher = phonenumbers.PhoneNumberMatcher(
        text, region, leniency=leniency, max_tries=_MAX_PHONE_TRIES
    )
    for match in matcher:
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        found.append(Found("phone", e164, match.start, match.end))
    kept = _without_overlaps(found)
    # Cued numbers stand beside the other finds rather than displacing them: "ref 4411"
    # may be a case, "my account is 07700 900123" a phone, and only the book can say.
    accounts = [f for f in kept if f.kind == "account_number"]
    kept += [f for f in cued if all(f.end <= a.start or f.start >= a.end for a in accounts)]
    return sorted(kept, key=lambda f: (f.start, f.cued))


def _cued_accounts(text: str, verify: Callable[[str], bool] | None) -> list[Found]:
    """Each number after an account cue, whole and cut at each break between its groups
    ("a/c 4011 7733 2 weeks ago" may mean 40117733): a form no account holds is simply
    not found in the book."""
    out = []
    for m in _ACCOUNT_CUE.finditer(text):
        raw, start = m.group(1), m.start(1)
        breaks = [b.start() for b in _GROUP_BREAK.finditer(raw)]
        ends = [len(raw), *reversed(breaks)]
        for end in ends:
            value = raw[:end].rstrip(" -")
            digits = re.sub(r"\D", "", value)
            if len(digits) >= 6 and (verify is None or verify(digits)):
                out.append(Found("account_number", value, start, start + end, cued=True))
    return out


# When two finds overlap, the more specific one stays.
_RANK: dict[str, int] = {
    "email": 0,
    "account_number": 1,
    "order_number": 2,
    "case_number": 2,
    "phone": 3,
    "postcode": 4,
}


def _without_overlaps(found: list[Found]) -> list[Found]:
    kept: list[Found] = []
    for item in sorted(found, key=lambda f: (_RANK[f.kind], f.start)):
        if all(item.end <= k.start or item.start >= k.end for k in kept):
            kept.append(item)
    return sorted(kept, key=lambda f: f.start)
