"""The blocking index: which customers share a value a query can find them by.

The index maps a value (an e-mail, a phone, a phonetic surname with initial, ...) to the
customers holding it. A key per value costs ~200 bytes of Redis memory for what is mostly
one customer, so values are hashed into buckets: a hash per kind and bucket whose field
is the value's digest and whose value the space-separated ids. Small hashes stay
listpack-encoded (a few bytes per entry). A value shared by more customers than fit in 64
bytes spills to a set of its own. Digests keep the keyspace free of e-mails and phones in
clear and of any length.

An entry is named by its kind and digest ("em:Xq3..."); ``index_location`` says where it
lives, and ``_index_location.lua`` is the same rule for the scripts that write entries
(tested to agree). The key names themselves are in ``service.store.keynames``.
"""

from __future__ import annotations

import binascii
import hashlib
import string
from functools import lru_cache

from service.store.keynames import KeySchema

# Buckets per kind of blocking value: about 64 values per bucket at a million customers,
# well inside Redis's listpack limit (128 entries by default). Changing it re-addresses
# every entry: only with a rebuilt index.
INDEX_BUCKETS = 1 << 14

# Kinds whose entries only count customers (term frequency), never list them.
COUNTED_KINDS = frozenset({"fn", "gn"})

_IDENTIFIER_KINDS = frozenset({"em", "ph", "ac", "hd"})
# Kinds whose value is usually one customer's alone when first written (a postcode holds a
# household or two): the scripts try to write such an entry as new before reading it.
_SELDOM_SHARED_KINDS = _IDENTIFIER_KINDS | {"pc"}
# More than all name and place entries of one query together.
IDENTIFIER_VOTE = 100
_PLACE_OR_BIRTH_KINDS = frozenset({"dob", "pc", "st"})
_PLACE_OR_BIRTH_VOTE = 10
# Identifiers, then what narrows most among the rest: a street or full name holds a few
# people, a given name within a town many.
_BLOCKING_KINDS = ("em", "ph", "ac", "hd", "dob", "pc", "st", "nf", "nt", "nm", "gt", "gd", "gx")
_BLOCKING_ORDER = {k: i for i, k in enumerate((*_BLOCKING_KINDS, "hh"))}

_B64 = {
    ch: i for i, ch in enumerate(string.ascii_uppercase + string.ascii_lowercase + "0123456789-_")
}
_URLSAFE = bytes.maketrans(b"+/", b"-_")

# A hasher per kind that has read "kind:" already: copying it costs less than making a
# new one with its parameters, once for every entry of every customer imported.
_HASHERS: dict[str, hashlib.blake2b] = {}


def _entry_of(kind: str, value: str) -> str:
    hasher = _HASHERS.get(kind)
    if hasher is None:
        hasher = _HASHERS[kind] = hashlib.blake2b(f"{kind}:".encode(), digest_size=9)
    digest = hasher.copy()
    digest.update(value.encode())
    # base64.urlsafe_b64encode, without its two Python-level calls per entry.
    encoded = binascii.b2a_base64(digest.digest(), newline=False).translate(_URLSAFE)
    return f"{kind}:{encoded.decode()}"


# Birthdays and name keys repeat across a book: cached. The kinds seldom shared (e-mails,
# phones, accounts, handles, postcodes) would only fill a cache and miss: 2% of the
# synthetic book's postcodes repeat, half of its birthdays.
_entry_of_repeating = lru_cache(maxsize=131_072)(_entry_of)


def index_entry(kind: str, value: str) -> str:
    """The compact name of one blocking value: its kind and digest. Entry names are
    field names in the store, so their form is pinned by a test."""
    if kind in _SELDOM_SHARED_KINDS:
        return _entry_of(kind, value)
    return _entry_of_repeating(kind, value)


def index_kind(entry: str) -> str:
    return entry.partition(":")[0]


def index_location(keys: KeySchema, entry: str) -> tuple[str, str, str]:
    """Where an entry lives: its bucket hash, its field there, its spill-over set."""
    kind, _, field = entry.partition(":")
    bucket = _bucket(keys, kind, bucket_number(field))
    return bucket, field, keys.index_spill(bucket, field)


def bucket_number(field: str) -> int:
    """The bucket of a kind an entry's field (its digest) goes in."""
    # The first three base64 characters are 18 bits of the digest.
    return (_B64[field[0]] << 12 | _B64[field[1]] << 6 | _B64[field[2]]) % INDEX_BUCKETS


# A batch of puts places tens of thousands of entries in a few thousand buckets: their
# names are made once.
@lru_cache(maxsize=65_536)
def _bucket(keys: KeySchema, kind: str, number: int) -> str:
    return keys.index_bucket(kind, number)


def index_rank(entry: str) -> int:
    """Order of blocking entries by how much they narrow: identifiers first, names
    last."""
    return _BLOCKING_ORDER.get(index_kind(entry), len(_BLOCKING_ORDER))


def index_vote(entry: str) -> int:
    """How much sharing the entry counts for when candidates must be cut: an identifier
    (e-mail, phone, account, handle) outweighs everything else together; a birthday,
    postcode or street outweighs every name key of a query together (a namesake is found
    by many keys of one name, which all say the same thing)."""
    kind = index_kind(entry)
    if kind in _IDENTIFIER_KINDS:
        return IDENTIFIER_VOTE
    return _PLACE_OR_BIRTH_VOTE if kind in _PLACE_OR_BIRTH_KINDS else 1
