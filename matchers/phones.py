"""E.164 for plain phone numbers without ``phonenumbers.parse``.

``parse`` spends most of its ~20 µs on work a plain number never needs: RFC 3966, extensions,
vanity letters, Unicode digits, building a PhoneNumber; without this path an import costs a
quarter more instructions per customer on the importer's side. For input made only of ASCII
digits, common separators and an optional leading "+", :func:`fast_e164` replays the steps of
``parse`` + ``is_possible_number`` + ``format_number(E164)`` (phonenumberutil.py) that can
change the result, on the library's own metadata. It answers only where it can show the
library would give the same string; None means "ask libphonenumber", and that includes every
number the library rejects, so a gap in this replay can cost speed but never change a result.
The replay follows the library's private code, so pyproject.toml pins phonenumbers to the one
version it was checked against; tests/test_phone_fastpath.py checks the agreement, and is
what must pass before the pin moves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS, PhoneMetadata

# phonenumberutil's _MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN and _MAX_INPUT_STRING_LENGTH
# (private there; the tests pin them).
MIN_NSN = 2
MAX_NSN = 17
MAX_INPUT = 250

# Nothing here can be a letter, an extension marker ("x", "#", ",", ";"), an RFC 3966 part or
# a non-ASCII digit, which is what lets the generic clean-up of parse() be skipped. The "+"
# may only come before every digit: anywhere else parse() refuses the string.
_PLAIN = re.compile(r"[ ().-]*(\+?)[0-9 ().-]*")
_NON_GEO = "001"

# ValidationResult of _test_number_length, as far as parse() and is_possible_number care.
_POSSIBLE, _LOCAL_ONLY, _TOO_SHORT, _TOO_LONG, _INVALID = range(5)

# The calling code at the start of the digits after "+", as parse() reads it: the shortest
# of the first 1-3 digits that is an assigned code.
_CODE_AT: dict[str, tuple[int, int]] = {}  # first three digits -> (code, its length)
for _n in range(1000):
    _head = f"{_n:03d}"
    if _head[0] != "0":
        for _width in (1, 2, 3):
            if int(_head[:_width]) in COUNTRY_CODE_TO_REGION_CODE:
                _CODE_AT[_head] = (int(_head[:_width]), _width)
                break


@dataclass(frozen=True, slots=True)
class _Plan:
    """What parsing a national number needs from one region's (or calling code's) metadata."""

    code: str
    national_prefix: re.Pattern[str] | None
    has_transform: bool
    general: re.Pattern[str] | None
    idd: re.Pattern[str] | None
    keeps_stripped: frozenset[int]  # NSN lengths for which parse() keeps the prefix stripped
    possible: frozenset[int]  # NSN lengths that is_possible_number accepts


def _length_result(length: int, lengths: tuple[int, ...], local: tuple[int, ...]) -> int:
    # _test_number_length for PhoneNumberType.UNKNOWN, in its order: it reads the first and
    # last possible lengths as minimum and maximum.
    if length in local:
        return _LOCAL_ONLY
    if lengths[0] == length:
        return _POSSIBLE
    if lengths[0] > length:
        return _TOO_SHORT
    if lengths[-1] < length:
        return _TOO_LONG
    return _POSSIBLE if length in lengths[1:] else _INVALID


def _plan(metadata: PhoneMetadata | None) -> _Plan | None:
    general = None if metadata is None else metadata.general_desc
    if metadata is None or general is None or not general.possible_length:
        return None  # the library takes branches of its own (or fails): leave them to it
    results = [
        _length_result(n, general.possible_length, general.possible_length_local_only)
        for n in range(MAX_INPUT + 1)
    ]
    prefix, pattern = metadata.national_prefix_for_parsing, general.national_number_pattern
    idd = metadata.international_prefix
    return _Plan(
        code=str(metadata.country_code),
        national_prefix=re.compile(prefix) if prefix else None,
        has_transform=bool(metadata.national_prefix_transform_rule),
        general=re.compile(pattern) if pattern else None,
        # parse() uses "NonMatch" when there is no prefix, which never matches digits; an
        # empty prefix matches everything.
        idd=None if idd is None else re.compile(idd),
        keeps_stripped=frozenset(n for n, r in enumerate(results) if r in (_POSSIBLE, _TOO_LONG)),
        possible=frozenset(n for n, r in enumerate(results) if r in (_POSSIBLE, _LOCAL_ONLY)),
    )


@cache
def _region_plan(region: str) -> _Plan | None:
    return _plan(PhoneMetadata.metadata_for_region(region, None))


@cache
def _code_plan(code: int) -> _Plan | None:
    # Shared calling codes are parsed and checked with the main region's metadata only.
    main = COUNTRY_CODE_TO_REGION_CODE[code][0]
    return _plan(PhoneMetadata.metadata_for_region_or_calling_code(code, main))


def _strip_national_prefix(number: str, plan: _Plan) -> str | None:
    """The number _maybe_strip_national_prefix_carrier_code returns; None where the region's
    transform rule would rewrite it (a handful of regions: left to the library)."""
    if not number or plan.national_prefix is None:
        return number
    match = plan.national_prefix.match(number)
    if match is None:
        return number
    if plan.has_transform:
        groups = match.groups()
        if not groups or groups[-1] is not None:
            return None
    stripped = number[match.end() :]
    general = plan.general
    # A number that fits the national pattern keeps its prefix unless what remains fits too.
    if general is not None and general.fullmatch(number) and not general.fullmatch(stripped):
        return number
    return stripped


def _e164(national: str, parsing: _Plan, checking: _Plan) -> str | None:
    if len(national) < MIN_NSN:
        return None
    stripped = _strip_national_prefix(national, parsing)
    if stripped is None:
        return None
    # parse() keeps the stripping only if the rest is not too short (or local-only) to dial.
    if len(stripped) in parsing.keeps_stripped:
        national = stripped
    if not MIN_NSN <= len(national) <= MAX_NSN or len(national) not in checking.possible:
        return None
    # format_number(E164) is "+", the code, and the NSN with its leading zeros (parse keeps
    # them as italian_leading_zero / number_of_leading_zeros), i.e. the string itself.
    return f"+{checking.code}{national}"


def fast_e164(raw: str, default_region: str) -> str | None:
    """``raw`` in E.164 when it is a plain number libphonenumber would parse as a possible
    one, None when the answer is for libphonenumber to give (including "not a number")."""
    if len(raw) > MAX_INPUT:
        return None
    plain = _PLAIN.fullmatch(raw)
    if plain is None:
        return None
    # Faster than str.translate or re.sub for strings this short.
    digits = (
        raw[plain.end(1) :]
        .replace(" ", "")
        .replace("-", "")
        .replace(".", "")
        .replace("(", "")
        .replace(")", "")
    )
    # Two digits or fewer take parse()'s short-number and too-short branches.
    if len(digits) < 3:
        return None
    if plain.group(1):
        found = _CODE_AT.get(digits[:3])
        # No assigned code after "+": parse() retries the digits as a national number.
        if found is None:
            return None
        code, width = found
        # With the number's own region as default and no metadata for it (only "001"),
        # parse() skips national prefix handling.
        if default_region == _NON_GEO and COUNTRY_CODE_TO_REGION_CODE[code][0] == _NON_GEO:
            return None
        plan = _code_plan(code)
        if plan is None:
            return None
        return _e164(digits[width:], plan, plan)
    if default_region not in SUPPORTED_REGIONS:
        return None
    parsing = _region_plan(default_region)
    if parsing is None:
        return None
    # A national number that starts like the region's international prefix or its own calling
    # code may be read as international by parse(): left to the library.
    if (parsing.idd is not None and parsing.idd.match(digits)) or digits.startswith(parsing.code):
        return None
    checking = _code_plan(int(parsing.code))
    if checking is None:
        return None
    return _e164(digits, parsing, checking)
