"""``socialid train`` and ``socialid model``: fit, inspect, activate, roll back."""

from __future__ import annotations

import argparse

from matchers.calibration import Calibration
from matchers.model import DEFAULT_PARAMS, ModelParams
from service.resolution.labels import model_calibration
from service.resolution.modelstore import ModelStore, UnknownVersion
from service.resolution.training import Training, train
from service.settings import Settings
from service.store.client import cli_redis
from service.store.keynames import KeySchema
from service.wiring import build_stores

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


def print_training(result: Training, shipped: ModelParams) -> None:
    report = result.report
    print(
        f"sampled {result.sampled_customers:,} customers: {report.random_pairs:,} random "
        f"pairs, {report.blocked_pairs:,} blocked pairs"
    )
    for session in report.sessions:
        verdict = "used" if session.used else f"not used: {session.why_not}"
        print(
            f"EM on pairs agreeing on {session.blocked_on}: {session.pairs:,} pairs, "
            f"{session.iterations} iterations, matches {session.match_share:.2%}; {verdict}"
        )
    print(f"{'field / level':<40} {'weight was':>10} {'now':>8} {'m':>9} {'u':>10}")
    for field, levels in result.params.levels.items():
        for level, now in levels.items():
            was = shipped.levels.get(field, {}).get(level)
            before = f"{was.weight:10.2f}" if was else f"{'-':>10}"
            mark = "  (kept)" if f"{field}/{level}" in report.kept else ""
            print(
                f"{field + ' / ' + level:<40} {before} {now.weight:8.2f} {now.m:9.4f} "
                f"{now.u:10.2e}{mark}"
            )
    version = result.params.version
    state = "active" if result.activated else f"stored; use: socialid model activate {version}"
    print(f"version {version}: {state}")


async def run_train(settings: Settings, args: argparse.Namespace) -> int:
    async with cli_redis(settings) as client:
        stores = build_stores(client, settings, KeySchema(settings.key_prefix))
        shipped = await stores.models.load(await stores.models.active_version())
        result = await train(
            client, stores.keys, stores.resolver, stores.models, region=settings.default_region,
            sample_size=args.sample, random_pairs=args.random_pairs, activate=args.activate,
            seed=args.seed,
        )  # fmt: skip
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
