"""The one base class of every error a caller's request can cause.

Each error knows its HTTP status, its problem type (``slug``, a key of
``http.problems.PROBLEM_TYPES``) and its title, so the HTTP layer renders every one of
them the same way, in one place (``http.middleware.error_middleware``). The domain code
raises them without knowing about HTTP; the CLI prints ``detail``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, NamedTuple


class FieldIssue(NamedTuple):
    """One field of the request that is wrong: a JSON Pointer to it, and why."""

    pointer: str
    message: str
    code: str


class DomainError(Exception):
    """Subclasses set the class attributes; an instance may override them."""

    status: int = 400
    slug: str = "about:blank"
    default_detail: str = ""

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        errors: list[FieldIssue] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)
        # Instance attributes shadow the class defaults only where given.
        if status is not None:
            self.status = status
        if slug is not None:
            self.slug = slug
        self.title = title or HTTPStatus(self.status).phrase
        self.errors = errors
        # Members of the problem object beyond RFC 9457's (the current owner of a
        # conversation another rep claimed first).
        self.extensions = extensions or {}
