"""Which index entries a customer document implies. Pure: the store applies the diff.

Owned keys are exclusive (one customer per key): the exact identity links. Index
entries are shared (many customers per value): the matching engine's blocking values,
named and placed by ``service.book.blocking``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from matchers.names import canonical_forms, family_parts, phonetic
from matchers.places import Place
from matchers.profile import Profile, build_profile, pack
from service.book.blocking import index_entry
from service.schemas import Customer
from service.store.keynames import identity_suffix

# In an index list, the line between the entries and the identities the record owns.
OWNED_MARK = "~"


def owned_identities(customer: Customer | None) -> list[str]:
    """The identities the record links to the customer, as ``identity_suffix`` forms."""
    if customer is None or not customer.identities:
        return []
    return sorted({identity_suffix(i.channel, i.external_id) for i in customer.identities})


def owned_identities_of_raw(raw: str) -> list[str]:
    """The same from a stored document that may no longer validate (erasure must still
    find every link)."""
    try:
        doc = json.loads(raw)
        identities = doc.get("identities", []) if isinstance(doc, dict) else []
        return sorted(
            {
                identity_suffix(str(i["channel"]), str(i["external_id"]))
                for i in identities
                if isinstance(i, dict) and "channel" in i and "external_id" in i
            }
        )
    except ValueError:
        return []


def set_entries(customer: Customer | None, region: str = "GB") -> list[str]:
    """The blocking entries the customer belongs to: the values a query can find them
    by, and their surname's count."""
    if customer is None:
        return []
    return entries_of(profile_of(customer, region))


def index_record(customer: Customer, region: str = "GB") -> str:
    """What the customer's index key holds: the packed matching profile (candidates are
    scored from it, not from the record), the entries, then the identities the record
    owns (so that the next write can move both without reading the record)."""
    profile = profile_of(customer, region)
    return "\n".join([pack(profile), *entries_of(profile), OWNED_MARK, *owned_identities(customer)])


def entries_of(profile: Profile) -> list[str]:
    entries = blocking_keys(profile)
    entries.update(entry for _, entry in name_counters(profile))
    return sorted(entries)


_ENTRY = re.compile(r"[a-z]+:[A-Za-z0-9_-]{12}")


def recorded_entries(index: str) -> list[str]:
    """The entries of a customer's index list, as the put script wrote them. The packed
    profile above them, or a damaged line, is not an entry."""
    entries = index.partition(f"\n{OWNED_MARK}\n")[0].split("\n")
    return [line for line in entries if _ENTRY.fullmatch(line)]


def profile_of(customer: Customer, region: str = "GB") -> Profile:
    """The customer as the matcher sees them."""
    return build_profile(
        given=customer.given_name,
        family=customer.family_name,
        name=customer.name,
        emails=customer.emails,
        phones=customer.phones,
        date_of_birth=customer.date_of_birth,
        places=[
            Place(a.postcode, a.country, a.city, a.line1)
            for a in customer.addresses
            if a.postcode or a.city or a.line1
        ],
        accounts=[a.number for a in customer.accounts],
        handles=[i.handle for i in customer.identities if i.handle],
        region=region,
        normalised=True,
        household=customer.household.id if customer.household else None,
    )


def blocking_keys(profile: Profile, *, query: bool = False) -> set[str]:
    """Exact identifiers, date of birth, postcode, street, and name keys: the sound of the surname
    with the initial of each form of the given name (Bill: B and W), alone and within
    each town; the full name in each form; each form of the given name within the
    district. Identifiers mentioned in text are looked up where the record keeps them.
    ``query``: also the keys of a name written family name first ("Kowalski Rachel")."""
    exact = (
        ("em", profile.emails),
        ("ph", profile.phones),
        ("ac", profile.accounts),
        ("pc", profile.postcodes),
        ("hd", profile.handle_ids),
        ("st", profile.streets),
    )
    out = {index_entry(kind, value) for kind, values in exact for value in values}
    if profile.dob is not None:
        out.add(index_entry("dob", profile.dob.isoformat()))
    if profile.household:
        out.add(index_entry("hh", profile.household))
    given, family = profile.given, profile.family
    forms = blocking_forms(given) if given else ("",)
    if family:
        _name_keys(out, family, forms, profile.towns)
        if query and given:
            _name_keys(out, given, blocking_forms(family), profile.towns)
            # A nickname may stand for any of its formal names (Ricky: Richard, Eric,
            # Frederick, ...); a record keeps one, the query looks for each by full name
            # and sound. Only the query pays for it: records seldom hold nicknames.
            whole, sounds = family.replace(" ", ""), _sounds(family)
            for formal in sorted(canonical_forms(given) - set(forms))[:_MAX_FORMAL]:
                out.add(index_entry("nf", f"{formal} {whole}"))
                for sound in sounds:
                    out.add(index_entry("nm", f"{sound}:{formal[0]}"))
    if given:
        for form in forms:
            for d in profile.districts:
                out.add(index_entry("gd", f"{form}:{d}"))
            for town in profile.towns:
                out.add(index_entry("gt", f"{form}:{town}"))
    for tokens in profile.handles:
        if len(tokens) >= 2 and not family:
            # A handle like "dana_king" or "DanaKing84" stands in for a name.
            sound = phonetic(tokens[-1])
            if sound:
                out.add(index_entry("nm", f"{sound}:{tokens[0][0]}"))
    for kind, value in profile.mentioned:
        tag = _MENTIONED_KINDS.get(kind)
        if tag:
            out.add(index_entry(tag, value))
    return out


def _name_keys(out: set[str], family: str, forms: tuple[str, ...], towns: frozenset[str]) -> None:
    """The keys a family name and the forms of a given name are found by. The full name
    finds "Rachel Smith" among a million without reading every Smith R; the town does the
    same for a sound-alike surname."""
    # The name whole ("Mac Donald" is MacDonald) and each part of a double-barrelled name
    # on its own ("Dana Lee" finds Dana King-Lee); particles never alone (every "van" is
    # not one family).
    whole = family.replace(" ", "")
    sounds = _sounds(family)
    for form in forms:
        initial = form[:1]
        for sound in sounds:
            out.add(index_entry("nm", f"{sound}:{initial}"))
            for town in towns:
                out.add(index_entry("nt", f"{sound}:{initial}:{town}"))
        if form:
            out.add(index_entry("nf", f"{form} {whole}"))
            if len(whole) >= 4:
                # A slip in the surname changes its sound, but not both its ends.
                out.add(index_entry("gx", f"{form}:{whole[:3]}:"))
                out.add(index_entry("gx", f"{form}::{whole[-3:]}"))


def _sounds(family: str) -> set[str]:
    return {s for s in (phonetic(p) for p in (family.replace(" ", ""), *family_parts(family))) if s}


_MAX_FORMAL = 12
_MENTIONED_KINDS = {"email": "em", "phone": "ph", "account_number": "ac"}


@lru_cache(maxsize=65_536)
def blocking_forms(given: str) -> tuple[str, ...]:
    """The given name itself, and one formal name it may stand for (Bill: William)."""
    return (given, *sorted(canonical_forms(given) - {given})[:1])


def name_counters(profile: Profile) -> list[tuple[str, str]]:
    """(field, counter entry) of how many customers share the family name and the given
    name (term frequencies: "Smith" and "John" say less than "Okonkwo" and "Lyndon")."""
    out = []
    if profile.family:
        out.append(("family_name", index_entry("fn", profile.family)))
    if profile.given:
        out.append(("given_name", index_entry("gn", profile.given)))
    return out
