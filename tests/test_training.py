"""`socialid train` and model versions against the real store: fit, store, activate,
roll back, with every resolver picking the active version up without a restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from matchers.model import DEFAULT_PARAMS
from service.cli.main import main
from service.resolution.modelstore import ModelStore, VersionExists
from service.resolution.training import train
from service.settings import Settings
from service.store.keynames import KeySchema
from service.wiring import build_stores
from tests.helpers import AppClient, MakeClient, admin, command_env

pytestmark = pytest.mark.cluster

_NAMES = ["Ann", "Ben", "Cara", "Dev", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jo"]
_FAMILIES = ["King", "Shah", "Okafor", "Novak"]


async def _book(client: AppClient) -> None:
    for i in range(40):
        doc = {
            "given_name": _NAMES[i % 10],
            "family_name": _FAMILIES[i % 4],
            "date_of_birth": f"19{50 + i}-0{1 + i % 9}-1{i % 9}",
            "addresses": [{"postcode": f"LS{i % 5} 3AG"}],
            "emails": [f"p{i}@example.com"],
        }
        resp = await client.put(f"/v1/customers/C-{i}", json=doc, headers=admin())
        assert resp.status == 201


async def _version(client: AppClient) -> Any:
    query = {"given_name": "Ann", "family_name": "King", "address": {"postcode": "LS0 3AG"}}
    resp = await client.post("/v1/resolve", json=query, headers=admin())
    assert resp.status == 200
    return (await resp.json())["model_version"]


async def test_a_fit_is_stored_and_used_once_activated(
    client: AppClient,
    redis: aioredis.Redis,
    keys: KeySchema,
    make_settings: Callable[..., Settings],
) -> None:
    await _book(client)
    stores = build_stores(redis, make_settings(), keys)
    result = await train(
        redis,
        keys,
        stores.resolver,
        stores.models,
        region="GB",
        sample_size=40,
        random_pairs=2_000,
        seed=1,
    )
    assert result.sampled_customers == 40
    assert result.report.random_pairs == 2_000
    version = result.params.version
    assert await stores.models.versions() == [version]
    assert await _version(client) == DEFAULT_PARAMS.version  # stored, not active

    await stores.models.activate(version)
    assert await _version(client) == version  # the running app picked it up
    await stores.models.activate("")
    assert await _version(client) == DEFAULT_PARAMS.version


def test_model_cli_lists_and_refuses_unknown_versions(
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    key_prefix: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in command_env(redis_url, key_prefix).items():
        monkeypatch.setenv(name, value)
    assert main(["model", "list"]) == 0
    assert "* defaults" in capsys.readouterr().out
    assert main(["model", "activate", "fit-never"]) == 1
    assert "no model version fit-never" in capsys.readouterr().out


async def _weights(client: AppClient) -> list[float]:
    query = {"given_name": "Ann", "family_name": "King", "address": {"postcode": "LS0 3AG"}}
    resp = await client.post("/v1/resolve", json=query, headers=admin())
    assert resp.status == 200
    return [c["match_weight"] for c in (await resp.json())["candidates"]]


async def test_a_stored_version_never_changes_so_every_process_scores_alike(
    make_client: MakeClient, redis: aioredis.Redis, keys: KeySchema
) -> None:
    # Two apps on one store, as two serve processes: each keeps the parameters of the
    # active version once loaded, and reads the store again only when the version changes.
    first, second = await make_client(), await make_client()
    await _book(first)
    models = ModelStore(redis, keys)
    await models.save(DEFAULT_PARAMS.model_copy(update={"version": "fit-same"}))
    await models.activate("fit-same")
    before = await _weights(first)
    other = DEFAULT_PARAMS.model_copy(update={"version": "fit-same", "prior": 1e-3})
    with pytest.raises(VersionExists):
        await models.save(other)
    assert await _weights(second) == await _weights(first) == before


async def test_fits_in_the_same_second_are_two_versions(
    client: AppClient,
    redis: aioredis.Redis,
    keys: KeySchema,
    make_settings: Callable[..., Settings],
) -> None:
    await _book(client)
    stores = build_stores(redis, make_settings(), keys)
    fits = [
        await train(
            redis,
            keys,
            stores.resolver,
            stores.models,
            region="GB",
            sample_size=10,
            random_pairs=10,
            seed=seed,
        )
        for seed in (1, 2)
    ]
    versions = [fit.params.version for fit in fits]
    assert versions[0] != versions[1]
    assert sorted(await stores.models.versions()) == sorted(versions)
