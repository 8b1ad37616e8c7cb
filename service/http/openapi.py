"""The OpenAPI 3.1 description, built from the routes that run and their pydantic models.

A handler declares what it reads and answers with ``documented(...)``; the scopes come
from ``requires``, the paths and methods from the router itself. A route nobody
documented still appears (its docstring as summary), so the description never omits
what the service answers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from service import __version__
from service.http.middleware import scopes_of
from service.http.problems import Problem

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_DOC_ATTR = "__socialid_doc__"
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class Doc:
    summary: str
    body: type[BaseModel] | None = None
    body_type: str = "application/json"
    query: type[BaseModel] | None = None
    responses: dict[int, type[BaseModel] | None] = field(default_factory=dict)
    tag: str | None = None
    produces: str | None = None  # the media type of a 2xx answer without a model


def documented(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    body_type: str = "application/json",
    query: type[BaseModel] | None = None,
    responses: dict[int, type[BaseModel] | None] | None = None,
    tag: str | None = None,
    produces: str | None = None,
) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        doc = Doc(summary, body, body_type, query, responses or {200: None}, tag, produces)
        setattr(handler, _DOC_ATTR, doc)
        return handler

    return mark


def _tag(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    if parts[:1] == ["v1"]:
        parts = parts[1:]
    return parts[0] if parts else "service"


def build_openapi(app: web.Application) -> dict[str, Any]:
    docs: list[tuple[str, str, Handler, Doc]] = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method in ("HEAD", "*"):
            continue
        path = resource.canonical
        handler = route.handler
        doc = getattr(handler, _DOC_ATTR, None)
        if doc is None:
            first = (handler.__doc__ or handler.__name__.replace("_", " ")).strip()
            doc = Doc(summary=first.splitlines()[0])
        docs.append((path, route.method.lower(), handler, doc))
    models: set[type[BaseModel]] = {Problem}
    for _, _, _, doc in docs:
        models.update(m for m in (doc.body, doc.query) if m is not None)
        models.update(m for m in doc.responses.values() if m is not None)
    mode: dict[type[BaseModel], JsonSchemaMode] = {
        m: "validation" if any(m in (d.body, d.query) for *_, d in docs) else "serialization"
        for m in models
    }
    refs, schema = models_json_schema(
        [(m, mode[m]) for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.get("$defs", {})
    answers = [m.__name__ for m in models if mode[m] == "serialization"]
    for name in _reachable(components, answers):
        _optional_nulls(components[name])
    paths: dict[str, dict[str, Any]] = {}
    for path, method, handler, doc in docs:
        paths.setdefault(path, {})[method] = _operation(path, method, handler, doc, refs, mode)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "socialid",
            "version": __version__,
            "description": "Identity resolution and customer context for social customer care.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _reachable(components: dict[str, Any], roots: list[str]) -> set[str]:
    """The components the roots refer to, however deep (an answer's nested models are
    answered with ``exclude_none`` too)."""
    seen: set[str] = set()
    todo = [r for r in roots if r in components]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [r for r in _refs(components[name]) if r in components]
    return seen


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        own = [ref.rsplit("/", 1)[-1]] if isinstance(ref, str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _optional_nulls(component: dict[str, Any]) -> None:
    """Answers leave out fields that are None (``exclude_none``): such a field is not
    required in the description of an answer."""
    properties = component.get("properties", {})
    nullable = {
        name
        for name, spec in properties.items()
        if any(option.get("type") == "null" for option in spec.get("anyOf", []))
    }
    if "required" in component:
        component["required"] = [r for r in component["required"] if r not in nullable]


def _operation(
    path: str,
    method: str,
    handler: Handler,
    doc: Doc,
    refs: dict[Any, dict[str, Any]],
    mode: dict[type[BaseModel], JsonSchemaMode],
) -> dict[str, Any]:
    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return refs[(model, mode[model])]

    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(path)
    ]
    if doc.query is not None:
        properties = doc.query.model_json_schema(ref_template="#/components/schemas/{model}")[
            "properties"
        ]
        for name, info in doc.query.model_fields.items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": info.is_required(),
                    "schema": properties.get(name, {}),
                }
            )
    problem = {"application/problem+json": {"schema": ref(Problem)}}
    responses: dict[str, Any] = {}
    for status, model in doc.responses.items():
        content: dict[str, Any] | None = None
        if model is not None:
            content = {"application/json": {"schema": ref(model)}}
        elif doc.produces and status < 300:
            content = {
                doc.produces: {
                    "schema": {"type": "string"}
                    if "json" not in doc.produces
                    else {"type": "object"}
                }
            }
        responses[str(status)] = {
            "description": "OK" if status < 300 else "See detail",
            **({"content": content} if content else {}),
        }
    responses["default"] = {"description": "A problem (RFC 9457)", "content": problem}
    operation: dict[str, Any] = {
        "summary": doc.summary,
        "operationId": f"{method}_{handler.__name__}",
        "tags": [doc.tag or _tag(path)],
        "parameters": params,
        "responses": responses,
    }
    scopes = scopes_of(handler)
    if path.startswith("/v1/") or scopes:
        operation["security"] = [{"bearer": []}]
        if scopes:
            operation["description"] = "Scopes: " + ", ".join(sorted(scopes)) + "."
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {doc.body_type: {"schema": ref(doc.body)}},
        }
    return operation
