"""``socialid serve --processes N``: one parent that binds the port and starts the store,
and N serving processes forked from it, each restarted when it dies.

Why a parent that forks rather than N independent processes or gunicorn: the embedded
store must be started once, before any child, and stopped after the last one; the port
must be bound once, so that a taken port is one error line at start-up; and a child that
dies must come back without a supervisor from outside. The parent never runs an event
loop or a thread, so a fork from it at any time is safe.

On Linux each child has a listening socket of its own on the same port (SO_REUSEPORT),
so the kernel spreads connections evenly across the children: with one shared socket,
the child that wakes first takes every connection waiting, and a client's keep-alive
connections can all end up in one process. The parent holds every socket for the life
of the service, so connections that reach a dead child's socket wait in its queue for
its successor instead of being refused. Elsewhere the children share one socket.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

import structlog

from service.ingest.deliveries import FsyncUnavailable
from service.ops.logs import get_logger
from service.settings import ConfigError, Settings
from service.store.embedded import EmbeddedRedis

log = get_logger("socialid")

RunApp = Callable[[Settings, socket.socket, int], None]

# A child that dies this often within the window is not cured by restarts: stop loudly.
MAX_DEATHS = 5
DEATH_WINDOW = 60.0
_CONFIG_EXIT = 2  # a child's exit code for bad configuration: the same in every child
_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_LINUX = sys.platform.startswith("linux")


@dataclass
class Slot:
    """One serving process's place: its socket and who runs in it now."""

    number: int
    sock: socket.socket
    pid: int = 0
    deaths: deque[float] = field(default_factory=deque)
    restart_at: float | None = None


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one port, balanced by the kernel (Linux), else one
    socket ``count`` times. Fails, as one process would, when anyone holds the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Without SO_REUSEPORT: a service already listening with it (a second
        # `serve --processes` by mistake) makes this fail, instead of silently sharing.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        port = probe.getsockname()[1]
    socks: list[socket.socket] = []
    try:
        for _ in range(count if _LINUX else 1):
            sock = socket.socket(family, socket.SOCK_STREAM)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if _LINUX:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(socket.SOMAXCONN)
            sock.setblocking(False)
    except OSError:
        for sock in socks:
            sock.close()
        raise
    return socks * count if not _LINUX else socks


def supervise(settings: Settings, run_app: RunApp) -> int:
    structlog.contextvars.bind_contextvars(process=0)
    try:
        socks = bind_sockets(settings.host, settings.port, settings.processes)
    except OSError as exc:
        log.error("port_unavailable", host=settings.host, port=settings.port, error=exc.strerror)
        return 1
    server: EmbeddedRedis | None = None
    try:
        if settings.redis_url is None:
            # Started here, in the parent's main thread, so that it dies with the parent
            # (its parent-death signal follows the thread that started it).
            server = EmbeddedRedis.configured(settings.data_dir, settings)
            server.start()
            log.info(
                "store",
                kind="embedded",
                data_dir=str(settings.data_dir),
                pid=server.pid,
                allocator=server.allocator,
            )
            settings = settings.model_copy(update={"redis_url": server.url})
        slots = [Slot(n, sock) for n, sock in enumerate(socks, start=1)]
        code = Supervisor(settings, slots, server, run_app).run()
    finally:
        for sock in set(socks):
            sock.close()
        if server is not None:
            server.stop()
            log.info("store_stopped", kind="embedded")
    log.info("stopped", exit_code=code)
    return code


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        slots: list[Slot],
        server: EmbeddedRedis | None,
        run_app: RunApp,
    ) -> None:
        self._settings = settings
        self._slots = slots
        self._server = server
        self._run_app = run_app
        self._stop_signal: int | None = None
        self._parent = os.getpid()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stop_signal = signum

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _SIGNALS}
        try:
            for slot in self._slots:
                self._start(slot)
            code = self._watch()
            return self._stop_all(code)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _watch(self) -> int:
        """Until asked to stop (0), or until the service cannot go on (its exit code)."""
        while self._stop_signal is None:
            now = time.monotonic()
            for slot in self._slots:
                if slot.pid:
                    code = self._reap(slot)
                    if code is not None:
                        return code
                elif slot.restart_at is not None and now >= slot.restart_at:
                    self._start(slot)
            if self._server is not None and not self._server.running():
                log.error("store_died", kind="embedded")
                return 1
            time.sleep(0.1)  # a signal ends the wait early (its handler sets the flag)
        log.info("stopping", signal=signal.Signals(self._stop_signal).name)
        return 0

    def _reap(self, slot: Slot) -> int | None:
        """A dead child restarted later; an exit code when the service must stop."""
        pid, status = os.waitpid(slot.pid, os.WNOHANG)
        if pid == 0:
            return None
        exit_code = os.waitstatus_to_exitcode(status)
        slot.pid = 0
        if exit_code == _CONFIG_EXIT:
            log.error("process_failed", process=slot.number, pid=pid, exit_code=exit_code)
            return _CONFIG_EXIT
        now = time.monotonic()
        slot.deaths.append(now)
        while slot.deaths and slot.deaths[0] < now - DEATH_WINDOW:
            slot.deaths.popleft()
        died: dict[str, object] = {"process": slot.number, "pid": pid}
        if exit_code < 0:
            died["signal"] = signal.Signals(-exit_code).name
        else:
            died["exit_code"] = exit_code
        if len(slot.deaths) >= MAX_DEATHS:
            log.error("process_keeps_dying", deaths=len(slot.deaths), window_s=DEATH_WINDOW, **died)
            return 1
        # At once the first time; then backing off, so that a crash loop does not spin.
        slot.restart_at = now + 0.5 * (len(slot.deaths) - 1)
        log.error("process_died", restart_in_s=slot.restart_at - now, **died)
        return None

    def _start(self, slot: Slot) -> None:
        slot.restart_at = None
        # Signals wait until the child has put back the default handlers: one that came
        # in between would otherwise only set the parent's flag in the child's memory.
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                self._child(slot)  # never returns
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        slot.pid = pid
        log.info("process_started", process=slot.number, pid=pid)

    def _child(self, slot: Slot) -> None:
        code = 1
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            # Its own process group: a Ctrl-C at the terminal reaches the parent alone,
            # which stops the children in order, rather than every process at once.
            os.setpgid(0, 0)
            _die_with_parent(self._parent)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
            structlog.contextvars.bind_contextvars(process=slot.number)
            for other in {s.sock for s in self._slots} - {slot.sock}:
                other.close()
            self._run_app(self._settings, slot.sock, slot.number)
            code = 0
        except (ConfigError, FsyncUnavailable) as exc:
            print(f"socialid: {exc}", file=sys.stderr)
            code = _CONFIG_EXIT
        except BaseException:
            log.exception("process_crashed", process=slot.number)
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)  # never back into the parent's code, nor its clean-up

    def _stop_all(self, code: int) -> int:
        """SIGTERM to every child, which drains as a single process does; the ones still
        running after their own time limits are killed, and the exit code says so."""
        for slot in self._slots:
            if slot.pid:
                os.kill(slot.pid, signal.SIGTERM)
        # A child drains its requests, then its worker and dispatcher: each has the time.
        deadline = time.monotonic() + 2 * self._settings.shutdown_timeout + 5
        for slot in self._slots:
            while slot.pid and time.monotonic() < deadline:
                pid, status = os.waitpid(slot.pid, os.WNOHANG)
                if pid:
                    slot.pid = 0
                    exit_code = os.waitstatus_to_exitcode(status)
                    if exit_code != 0:
                        log.error("process_failed", process=slot.number, exit_code=exit_code)
                        code = code or 1
                else:
                    time.sleep(0.05)
            if slot.pid:
                log.error("process_killed", process=slot.number, pid=slot.pid)
                os.kill(slot.pid, signal.SIGKILL)
                os.waitpid(slot.pid, 0)
                slot.pid = 0
                code = code or 1
        return code


def _die_with_parent(parent: int) -> None:
    """The child gets SIGTERM when the parent dies, even by SIGKILL (Linux): no serving
    process outlives the parent that owns the port and the store."""
    if _LINUX:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
