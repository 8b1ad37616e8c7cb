"""Every error is an RFC 9457 problem: 400/404/405/413/415/422 and a 500 without internals."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from structlog.testing import capture_logs

from service.http.problems import PROBLEM_TYPES
from service.store.keynames import KeySchema
from tests.helpers import PROBLEM, AppClient, MakeClient, admin

pytestmark = pytest.mark.cluster


def _json_headers() -> dict[str, str]:
    return {**admin(), "Content-Type": "application/json"}


async def _problem(resp: object) -> dict[str, Any]:
    from aiohttp import ClientResponse

    assert isinstance(resp, ClientResponse)
    assert resp.content_type == PROBLEM
    body: dict[str, Any] = await resp.json(content_type=PROBLEM)
    assert body["status"] == resp.status
    assert str(body["type"]).startswith("/problems/")
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return body


async def test_every_problem_type_dereferences(client: AppClient) -> None:
    for slug in PROBLEM_TYPES:
        resp = await client.get(f"/problems/{slug}")
        assert resp.status == 200
        assert PROBLEM_TYPES[slug] in await resp.text()
    assert (await client.get("/problems/no-such-problem")).status == 404


async def test_malformed_json_is_400(client: AppClient) -> None:
    resp = await client.put(
        "/v1/customers/C-1", data=b'{"given_name": "Dana"', headers=_json_headers()
    )
    assert resp.status == 400
    body = await _problem(resp)
    assert str(body["type"]).endswith("/malformed-json")


async def test_wrong_content_type_is_415(client: AppClient) -> None:
    resp = await client.put(
        "/v1/customers/C-1",
        data=b"given_name=Dana",
        headers={**admin(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 415
    await _problem(resp)


async def test_unknown_and_bad_fields_are_422_with_json_pointers(client: AppClient) -> None:
    payload = {"given_name": "Dana", "nickname": "D", "accounts": [{"number": ""}]}
    resp = await client.put("/v1/customers/C-1", json=payload, headers=admin())
    assert resp.status == 422
    body = await _problem(resp)
    errors = body["errors"]
    assert isinstance(errors, list)
    pointers = {e["pointer"] for e in errors}
    assert pointers == {"/nickname", "/accounts/0/number"}
    assert all(e["message"] and e["code"] for e in errors)


async def test_validation_errors_do_not_echo_the_input(client: AppClient) -> None:
    payload = {"emails": "dana.king@example.com"}  # a string where a list belongs
    resp = await client.put("/v1/customers/C-1", json=payload, headers=admin())
    assert resp.status == 422
    assert "dana.king@example.com" not in await resp.text()


async def test_an_impossible_customer_id_in_the_path_is_404(client: AppClient) -> None:
    for bad in ("x" * 129, "%20C-1", "C-1%20", "C-1%0A", "-C-1"):
        resp = await client.put(f"/v1/customers/{bad}", json={}, headers=admin())
        assert resp.status == 404, bad
        await _problem(resp)


async def test_body_over_the_limit_is_413(make_client: MakeClient) -> None:
    client = await make_client(max_body_bytes=2048)
    big = json.dumps({"given_name": "x" * 100, "attributes": {"blob": "y" * 4000}})
    resp = await client.put("/v1/customers/C-1", data=big, headers=_json_headers())
    assert resp.status == 413
    await _problem(resp)


async def test_unknown_route_is_404_problem(client: AppClient) -> None:
    resp = await client.get("/nothing/here")
    assert resp.status == 404
    await _problem(resp)


async def test_wrong_method_is_405_problem_with_allow(client: AppClient) -> None:
    resp = await client.post("/health/live")
    assert resp.status == 405
    await _problem(resp)
    assert "GET" in resp.headers["Allow"]


async def test_infinite_numbers_are_refused(client: AppClient) -> None:
    body = b'{"attributes": {"x": 1e400}}'
    resp = await client.put("/v1/customers/C-1", data=body, headers=_json_headers())
    assert resp.status == 422


async def test_a_stored_record_that_no_longer_validates_is_a_logged_500(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    await redis.set(keys.customer("C-old"), '{"id": "C-old", "nickname": "from an old version"}')
    with capture_logs() as logs:
        resp = await client.get("/v1/customers/C-old", headers=admin())
    assert resp.status == 500
    await _problem(resp)
    assert any(e["event"] == "unhandled_error" for e in logs)


async def test_a_redis_error_that_is_not_an_outage_is_a_500_not_a_retry(
    client: AppClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    await redis.hset(keys.customer("C-odd"), "f", "v")  # WRONGTYPE for a GET
    resp = await client.get("/v1/customers/C-odd", headers=admin())
    assert resp.status == 500
    assert "Retry-After" not in resp.headers


async def test_unexpected_exception_is_500_without_internals(make_client: MakeClient) -> None:
    async def boom(_request: web.Request) -> web.Response:
        raise RuntimeError("secret internal detail")

    client = await make_client(app_hook=lambda app: app.router.add_get("/boom", boom))
    resp = await client.get("/boom", headers={"X-Request-ID": "req-500-check"})
    assert resp.status == 500
    body = await _problem(resp)
    assert body["request_id"] == "req-500-check"
    assert "secret internal detail" not in await resp.text()
    assert "RuntimeError" not in await resp.text()


def test_every_domain_error_names_a_documented_problem_type() -> None:
    """A domain error whose slug has no documented type would be answered as about:blank,
    losing the link a client follows to learn what went wrong."""
    import service.wiring  # noqa: F401  (imports every module that defines one)
    from service.errors import DomainError
    from service.http.problems import ProblemError

    def subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
        found = []
        for sub in cls.__subclasses__():
            found += [sub, *subclasses(sub)]
        return found

    fixed = [c for c in subclasses(DomainError) if c is not ProblemError and "slug" in vars(c)]
    assert len(fixed) >= 5
    for cls in fixed:
        assert cls.slug in PROBLEM_TYPES, cls
        assert cls.default_detail or cls.__init__ is not DomainError.__init__, cls
