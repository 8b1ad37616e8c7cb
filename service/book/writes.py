"""What a write of customers takes and answers, and the ways it is refused."""

from __future__ import annotations

from typing import NamedTuple

from service.errors import DomainError


class IdentityConflict(DomainError):
    """An identity in the document is already linked to another customer."""

    status, slug = 409, "identity-conflict"

    def __init__(self, channel: str, other_customer: str) -> None:
        super().__init__(
            f"The {channel} identity in this document is linked to another customer; "
            "unlink it there first."
        )
        self.channel = channel
        self.other_customer = other_customer


class PreconditionFailed(DomainError):
    """If-Match did not match the stored document."""

    status, slug = 412, "precondition-failed"
    default_detail = "The customer changed since you read it (If-Match)."


class Contended(DomainError):
    """The document kept changing under us; the caller may retry later."""

    status, slug = 409, "contended"
    default_detail = "The record is being changed by someone else; retry."


class PutResult(NamedTuple):
    created: bool
    etag: str  # "" from put_many and reindex_many, which need none


# Shared: every result of a write without etags is one of these (named tuples are
# immutable).
_CREATED, _UPDATED = PutResult(True, ""), PutResult(False, "")


class Prepared(NamedTuple):
    """What writing a customer needs that does not depend on what is stored: the bulk of
    the work (profile, index entries, serialised record), done before the write. The
    importer prepares a batch while the one before it is being written. It holds no
    model: a batch of validated records kept alive until written would cost more to
    allocate than to serialise. A named tuple, as is PutResult: one of each is made
    per customer imported."""

    customer_id: str
    doc: str
    index_list: str


# What stopped a write, as the exception a caller raises (put) or reports (put_many).
Refused = PreconditionFailed | IdentityConflict
