"""Request bodies into pydantic models (with the errors clients need), and back out."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter

from service.http.problems import ProblemError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
_OBJECT: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def require_type(request: web.Request, *types: str) -> None:
    """415 unless the body is one of ``types`` (``+json`` types count as JSON)."""
    ctype = request.content_type
    if ctype not in types and not (ctype.endswith("+json") and "application/json" in types):
        raise ProblemError(
            415,
            f"Send the body as {' or '.join(types)} (got {ctype or 'no content type'}).",
            slug="unsupported-media-type",
        )


def _require_json(request: web.Request) -> None:
    require_type(request, "application/json")


async def read_model(
    request: web.Request, model: type[M], context: dict[str, Any] | None = None
) -> M:
    """Parse and validate in one step; pydantic's errors become 400 or 422 upstream."""
    _require_json(request)
    # request.read() enforces the app's client_max_size and raises 413 past it.
    return model.model_validate_json(await request.read(), context=context)


async def read_as(request: web.Request, adapter: TypeAdapter[T]) -> T:
    _require_json(request)
    return adapter.validate_json(await request.read())


def query_model(request: web.Request, model: type[M], lists: frozenset[str] = frozenset()) -> M:
    """Query parameters into a model; names in ``lists`` may repeat."""
    raw: dict[str, object] = {}
    for key in request.query:
        values = request.query.getall(key)
        raw[key] = values if key in lists else values[-1]
    return model.model_validate(raw)


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """A JSON object body, unvalidated (merge patches)."""
    _require_json(request)
    return _OBJECT.validate_json(await request.read())


def json_model(model: BaseModel, status: int = 200) -> web.Response:
    """Serialise a response model with pydantic (fields that are None left out)."""
    # As bytes: aiohttp sends bytes as they are, but wraps a str in a payload object
    # first, which showed in the profile of the webhook path.
    return web.Response(
        body=model.model_dump_json(exclude_none=True).encode(),
        status=status,
        content_type="application/json",
    )
