"""The ``socialid`` command: serve, demo, version, keys."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence

import uvloop

from service import __version__
from service.book.importer import ImportAborted, ImportSummary
from service.cli import (
    deliver_cmd,
    import_cmd,
    outreach_cmd,
    reindex_cmd,
    serve_cmd,
    train_cmd,
    worker_cmd,
)
from service.cli.import_cmd import BadHeader, detect_format, open_source, print_summary, run_import
from service.cli.outreach_cmd import BadIdFile
from service.http.apikeys import ApiKeyStore, Scope
from service.ingest.deliveries import FsyncUnavailable
from service.ops.heap import bulk_allocation
from service.ops.logs import configure_logging
from service.schemas.conversation import REP_ID_PATTERN
from service.settings import ConfigError, Settings, load_settings
from service.store.client import cli_redis
from service.store.embedded import EmbeddedStoreError
from service.store.keynames import KeySchema


def _scopes(value: str) -> frozenset[Scope]:
    try:
        return frozenset(Scope(s.strip()) for s in value.split(",") if s.strip())
    except ValueError:
        known = ", ".join(s.value for s in Scope)
        raise argparse.ArgumentTypeError(f"scopes are a comma list of: {known}") from None


def _rep(value: str) -> str:
    if not re.fullmatch(REP_ID_PATTERN, value):
        raise argparse.ArgumentTypeError("a rep id is letters, digits and . _ : @ -")
    return value


def _processes_flag(bench: argparse.ArgumentParser) -> None:
    bench.add_argument(
        "--processes",
        type=int,
        nargs="+",
        default=[1],
        metavar="N",
        help="serve processes, a round for each count (1 2: the gain, in one run)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="socialid",
        description="Identity resolution and customer context for social customer care.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve_cmd.add_parser(sub)
    demo = sub.add_parser("demo", help="run the whole flow on sample data and print it")
    demo.add_argument(
        "--data-dir", help="keep the demo's store here (default: a temporary directory)"
    )
    demo.add_argument(
        "--console",
        action="store_true",
        help="then keep the service running with two reps' keys for the console (Ctrl-C ends)",
    )
    sub.add_parser("version", help="print the version")

    imp = sub.add_parser("import", help="bulk import customers or events (NDJSON or CSV)")
    imp.add_argument("kind", choices=["customers", "events"])
    imp.add_argument("file", help="path, or - for stdin")
    imp.add_argument("--format", choices=["ndjson", "csv"], help="default: by file extension")
    imp.add_argument(
        "--from-line", type=int, default=1, help="skip the lines before this one (resume)"
    )
    imp.add_argument(
        "--jobs",
        type=import_cmd.jobs_argument,
        default=1,
        help="processes that prepare customers, 0 for one per CPU (default: 1)",
    )

    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bsub = bench.add_subparsers(dest="bench_command", required=True)
    bench_import = bsub.add_parser("import", help="import a synthetic book, print rate/memory")
    bench_import.add_argument("--customers", type=int, default=100_000)
    bench_import.add_argument("--jobs", default="1", help="compare, e.g. 1,2 (0: one per CPU)")
    bench_quality = bsub.add_parser("quality", help="resolution quality on known truth")
    bench_quality.add_argument("--customers", type=int, default=20_000)
    bench_quality.add_argument(
        "--fitted", action="store_true", help="fit the model on the book first (socialid train)"
    )
    bench_quality.add_argument("--seed", type=int, default=11, help="of the synthetic book")
    bench_quality.add_argument(
        "--topics",
        action="store_true",
        help="precision and recall of message topics on the labelled sets in tests/data",
    )
    bench_quality.add_argument(
        "--febrl",
        type=int,
        choices=(1, 2, 3),
        help="on FEBRL N instead, beside Splink (needs the peer extra; --customers unused)",
    )
    bench_lookup = bsub.add_parser("lookup", help="lookups of linked identities, p50/p99")
    bench_lookup.add_argument("--customers", type=int, default=10_000)
    bench_lookup.add_argument("--lookups", type=int, default=20_000)
    bench_lookup.add_argument("--concurrency", type=int, default=16)
    bench_lookup.add_argument("--events", type=int, default=20, help="history per customer")
    _processes_flag(bench_lookup)

    bench_resolve = bsub.add_parser("resolve", help="POST /v1/resolve latency on a large book")
    bench_resolve.add_argument("--customers", type=int, default=1_000_000)
    bench_resolve.add_argument(
        "--store",
        choices=("single", "cluster", "both"),
        default="single",
        help="one embedded server, a local three-master cluster, or both in one run",
    )
    bench_outreach = bsub.add_parser("outreach", help="bulk outreach checks, customers/s")
    bench_outreach.add_argument("--customers", type=int, default=50_000)
    bench_outreach.add_argument("--calls", type=int, default=10, help="of 10,000 ids, per kind")
    bench_ingest = bsub.add_parser("ingest", help="signed webhook deliveries, rate and delay")
    bench_ingest.add_argument("--customers", type=int, default=10_000)
    bench_ingest.add_argument("--burst", type=int, default=20_000, help="deliveries, max rate")
    bench_ingest.add_argument("--rate", type=int, default=1000, help="sustained deliveries/s")
    bench_ingest.add_argument("--seconds", type=float, default=30.0)
    bench_ingest.add_argument("--concurrency", type=int, default=64)
    bench_ingest.add_argument(
        "--store",
        choices=("single", "cluster"),
        default="single",
        help="the embedded server, or a local three-master cluster with append-only files",
    )
    _processes_flag(bench_ingest)

    train_cmd.add_parsers(sub)
    worker_cmd.add_parser(sub)
    deliver_cmd.add_parser(sub)
    reindex_cmd.add_parser(sub)
    outreach_cmd.add_parser(sub)

    keys = sub.add_parser("keys", help="manage API keys")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    create = ksub.add_parser("create", help="issue a key; its token is printed once")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", required=True, type=_scopes, help="e.g. rep,integration")
    create.add_argument(
        "--rep", type=_rep, help="bind the key to a rep: every request made with it acts as them"
    )
    ksub.add_parser("list", help="list keys (never their tokens)")
    revoke = ksub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id")
    return parser


async def _keys(settings: Settings, args: argparse.Namespace) -> int:
    async with cli_redis(settings) as client:
        store = ApiKeyStore(client, KeySchema(settings.key_prefix), admin_token=None)
        if args.keys_command == "create":
            issued = await store.create(args.name, args.scopes, args.rep)
            print(f"key id:  {issued.key_id}")
            print(f"scopes:  {','.join(issued.scopes)}")
            if issued.rep:
                print(f"rep:     {issued.rep}")
            print(f"token:   {issued.token}")
            print("The token is shown only this once; store it in your secret manager.")
        elif args.keys_command == "list":
            for key in await store.list_keys():
                created = key.created_at.isoformat(timespec="seconds")
                scopes = ",".join(key.scopes)
                print(f"{key.key_id}  {key.name:<24} {scopes:<24} {key.rep or '-':<16} {created}")
        else:
            if not await store.revoke(args.key_id):
                print(f"socialid: no key with id {args.key_id}", file=sys.stderr)
                return 1
            print(f"revoked {args.key_id}")
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    latest: list[ImportSummary] = []
    raw, size = open_source(args.file)
    fmt = detect_format(args.file, args.format)
    try:
        with raw, bulk_allocation():
            summary = asyncio.run(
                run_import(settings, args.kind, raw, size, fmt, args.from_line, latest, args.jobs)
            )
    except KeyboardInterrupt:
        done = latest[0].committed_through_line if latest else args.from_line - 1
        print(f"\ninterrupted: lines up to {done} are written; resume with --from-line {done + 1}")
        return 130
    print_summary(summary)
    if summary.aborted:
        return 2
    return 1 if summary.rejected else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "version":
        print(f"socialid {__version__}")
        return 0
    try:
        settings = load_settings()
        # Loggers are kept once built only by the long-running commands: a command run
        # in-process (tests, the CLI's own) must leave logging as it found it.
        long_running = args.command in ("serve", "worker")
        configure_logging(settings.log_level, settings.resolved_log_format, cache=long_running)
        if args.command == "serve":
            return serve_cmd.serve(serve_cmd.configured(settings, args))
        if args.command == "demo":
            from service.cli.demo import run_demo

            try:
                return asyncio.run(run_demo(settings, args.data_dir, console=args.console))
            except KeyboardInterrupt:
                return 0  # --console runs until Ctrl-C
        if args.command == "import":
            return _import(settings, args)
        if args.command == "bench":
            from service.bench import commands as bench

            if args.bench_command == "quality" and args.topics:
                from service.bench.topics_quality import bench_topics

                return bench_topics(settings.taxonomy())
            if args.bench_command == "quality" and args.febrl:
                from service.bench.febrl import bench_febrl

                return asyncio.run(bench_febrl(settings, args.febrl))
            if args.bench_command == "quality":
                return asyncio.run(
                    bench.bench_quality(settings, args.customers, args.fitted, seed=args.seed)
                )
            if args.bench_command == "resolve":
                from service.bench.resolve_latency import bench_resolve

                return asyncio.run(bench_resolve(settings, args.customers, args.store))
            if args.bench_command == "ingest":
                from service.bench.ingest_load import bench_ingest

                return asyncio.run(
                    bench_ingest(
                        settings,
                        args.customers,
                        args.burst,
                        args.rate,
                        args.seconds,
                        args.concurrency,
                        args.processes,
                        args.store,
                    )
                )
            if args.bench_command == "outreach":
                from service.bench.outreach_load import bench_outreach

                return asyncio.run(bench_outreach(args.customers, args.calls))
            if args.bench_command == "lookup":
                from service.bench.lookup_load import bench_lookup

                return asyncio.run(
                    bench_lookup(
                        args.customers, args.lookups, args.concurrency, args.events, args.processes
                    )
                )
            with bulk_allocation():  # as `socialid import` runs
                return asyncio.run(bench.bench_import(settings, args.customers, args.jobs))
        if args.command == "train":
            return asyncio.run(train_cmd.run_train(settings, args))
        if args.command == "deliver":
            return deliver_cmd.run_deliver(settings, args)
        if args.command == "worker":
            return uvloop.run(worker_cmd.run_worker(settings))
        if args.command == "reindex":
            with bulk_allocation():
                return asyncio.run(reindex_cmd.run_reindex(settings))
        if args.command == "outreach":
            return outreach_cmd.run_check(settings, args)
        if args.command == "model":
            return asyncio.run(train_cmd.run_model(settings, args))
        return asyncio.run(_keys(settings, args))
    except ConfigError as exc:
        print(f"socialid: {exc}", file=sys.stderr)
        return 2
    except (BadHeader, ImportAborted, BadIdFile, OSError) as exc:
        print(f"socialid: {exc}", file=sys.stderr)
        return 2
    except FsyncUnavailable as exc:
        print(f"socialid: {exc}", file=sys.stderr)
        return 2
    except EmbeddedStoreError as exc:
        print(f"socialid: embedded store: {exc}", file=sys.stderr)
        return 1
