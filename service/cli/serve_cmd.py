"""``socialid serve``: the HTTP service, in one process or in several sharing the port."""

from __future__ import annotations

import argparse
import socket

import uvloop
from aiohttp import web
from pydantic import ValidationError

from service import __version__
from service.ops.heap import freeze_startup_heap
from service.ops.logs import get_logger
from service.settings import ConfigError, Settings, describe_validation_error

_MAX_LINE = 64 * 1024


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve", help="run the HTTP service (configured by SOCIALID_* variables)"
    )
    serve.add_argument(
        "--processes",
        type=int,
        metavar="N",
        help="HTTP processes sharing the port, each with its own worker "
        "(default: SOCIALID_PROCESSES, else 1)",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="run no ingestion worker or events dispatcher here (as SOCIALID_WORKER=false)",
    )


def configured(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with the command line's flags applied (validated as the env is)."""
    update: dict[str, object] = {}
    if args.processes is not None:
        update["processes"] = args.processes
    if args.no_worker:
        update["worker"] = False
    if not update:
        return settings
    try:
        return type(settings).model_validate({**settings.model_dump(), **update})
    except ValidationError as exc:
        raise ConfigError(
            describe_validation_error(exc).replace("SOCIALID_PROCESSES", "--processes")
        ) from None


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to the address and listening (IPv6 when the host is one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def serve(settings: Settings) -> int:
    log = get_logger("socialid")
    log.info(
        "starting",
        version=__version__,
        host=settings.host,
        port=settings.port,
        processes=settings.processes,
    )
    if settings.admin_token is None:
        log.warning("no_admin_token", hint="set SOCIALID_ADMIN_TOKEN or issue keys")
    if settings.processes > 1:
        from service.cli.supervisor import supervise

        return supervise(settings, run_app_on)
    try:
        # Bound before anything starts: a taken port is one line and an exit at once, not
        # a store and a worker started for a server that can never answer.
        sock = listening_socket(settings.host, settings.port)
    except OSError as exc:
        log.error("port_unavailable", host=settings.host, port=settings.port, error=exc.strerror)
        return 1
    run_app_on(settings, sock, 1)
    log.info("stopped")
    return 0


def run_app_on(settings: Settings, sock: socket.socket, process: int) -> None:
    """The app on a bound socket until SIGTERM or SIGINT (the whole life of a process)."""
    from service.http.app import create_app

    app = create_app(settings, process=process)
    freeze_startup_heap()
    web.run_app(
        app,
        sock=sock,
        shutdown_timeout=settings.shutdown_timeout,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
        # A request line or header up to 64 KB reaches the service, which answers a bad
        # one with problem+json; past 8 KB (aiohttp's default) its parser would answer
        # in plain text. The body limit is SOCIALID_MAX_BODY_BYTES.
        max_line_size=_MAX_LINE,
        max_field_size=_MAX_LINE,
    )
