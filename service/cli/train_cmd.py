"""``socialid train`` and ``socialid model``: fit, inspect, activate, roll back, and calibrate
the model against the links and rejections reps made for senders it scored."""

from __future__ import annotations

import argparse

import redis.asyncio as aioredis

from matchers.calibration import Calibration, calibrate, labelled
from matchers.model import DEFAULT_PARAMS
from service.conversations.messages import MessageStore
from service.resolution.links import IdentityLinks
from service.resolution.modelstore import ModelStore, UnknownVersion
from service.resolution.training import print_training, train
from service.schemas import Channel
from service.settings import Settings
from service.store.client import cli_redis
from service.store.keynames import KeySchema
from service.store.redistypes import members
from service.wiring import build_stores

_CHUNK = 500
# Links a person made or the customer proved; imports and the record's own identities
# say nothing about the model.
HUMAN_METHODS = frozenset({"rep_confirmed", "customer_verified"})


async def model_calibration(
    redis: aioredis.Redis, keys: KeySchema, messages: MessageStore, links: IdentityLinks
) -> Calibration:
    pairs: list[tuple[float, int]] = []
    labels: dict[tuple[str, str], tuple[str | None, frozenset[str]]] = {}
    start = 0
    while True:
        ids = members(await redis.zrange(keys.messages("all"), start, start + _CHUNK - 1))
        if not ids:
            break
        start += len(ids)
        for stored in (await messages.many(ids)).values():
            if stored.resolution.method != "model" or not stored.resolution.candidates:
                continue
            channel, sender = stored.message.channel, stored.message.sender.external_id
            if (channel.value, sender) not in labels:
                state = await links.state(Channel(channel.value), sender)
                human = state.link if state.link and state.link.method in HUMAN_METHODS else None
                labels[(channel.value, sender)] = (
                    human.customer_id if human and human.source == "api" else None,
                    frozenset(state.rejected),
                )
            confirmed, rejected = labels[(channel.value, sender)]
            candidates = [
                (c.customer_id, c.match_probability) for c in stored.resolution.candidates
            ]
            pairs += labelled(candidates, confirmed, rejected)
    return calibrate(pairs)


DEFAULTS = "defaults"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fit = sub.add_parser("train", help="re-fit the model's m and u on the customer book")
    fit.add_argument("--sample", type=int, default=5_000, help="customers sampled")
    fit.add_argument("--random-pairs", type=int, default=100_000, help="pairs for u")
    fit.add_argument("--activate", action="store_true", help="use the fit at once")
    fit.add_argument("--seed", type=int, help="for a repeatable sample")
    model = sub.add_parser("model", help="list fitted model versions, or activate one")
    msub = model.add_subparsers(dest="model_command", required=True)
    msub.add_parser("list", help="stored versions; * marks the active one")
    use = msub.add_parser("activate", help=f"activate a version ({DEFAULTS}: shipped values)")
    use.add_argument("version")
    msub.add_parser(
        "calibration", help="the model's probabilities against reps' confirmed and rejected links"
    )


async def run_train(settings: Settings, args: argparse.Namespace) -> int:
    async with cli_redis(settings) as client:
        stores = build_stores(client, settings, KeySchema(settings.key_prefix))
        shipped = await stores.models.load(await stores.models.active_version())
        result = await train(
            client,
            stores.keys,
            stores.resolver,
            stores.models,
            region=settings.default_region,
            sample_size=args.sample,
            random_pairs=args.random_pairs,
            activate=args.activate,
            seed=args.seed,
        )
        print_training(result, shipped)
    return 0


def print_calibration(result: Calibration) -> None:
    if not result.pairs:
        print("no labels yet: no model answer names a candidate a rep confirmed or rejected")
        return
    print(
        f"{result.pairs:,} labelled candidates ({result.positives:,} confirmed); "
        f"Brier score {result.brier:.4f} (0 is perfect)"
    )
    print(f"{'predicted':>14} {'count':>7} {'mean predicted':>15} {'confirmed':>10}")
    for b in result.bins:
        print(f"{b.low:6.1f} - {b.high:4.1f} {b.count:7,} {b.predicted:15.3f} {b.observed:10.3f}")


async def run_model(settings: Settings, args: argparse.Namespace) -> int:
    async with cli_redis(settings) as client:
        if args.model_command == "calibration":
            stores = build_stores(client, settings, KeySchema(settings.key_prefix))
            print_calibration(
                await model_calibration(client, stores.keys, stores.messages, stores.links)
            )
            return 0
        models = ModelStore(client, KeySchema(settings.key_prefix))
        active = await models.active_version()
        if args.model_command == "list":
            marker = "*" if not active else " "
            print(f"{marker} {DEFAULTS} ({DEFAULT_PARAMS.version}, shipped)")
            for version in await models.versions():
                print(f"{'*' if version == active else ' '} {version}")
            return 0
        version = "" if args.version == DEFAULTS else args.version
        try:
            await models.activate(version)
        except UnknownVersion:
            print(f"socialid: no model version {args.version}; see socialid model list")
            return 1
        print(f"active: {args.version}")
    return 0
