"""The embedded store: a real server in a child process, persistent and exclusive."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import redis

from service.store.embedded import DataDirBusy, EmbeddedRedis, pid_alive, socket_path_for


def test_data_survives_a_stop_and_start(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        redis.Redis.from_url(server.url).set("greeting", "hello")
    assert not server.socket_path.exists() or not server.ping()
    with EmbeddedRedis(tmp_path) as again:
        assert redis.Redis.from_url(again.url).get("greeting") == b"hello"
    assert (tmp_path / "appendonlydir").is_dir()


def _mapped_libraries(pid: int | None) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="preloaded on Linux only")
def test_the_server_allocates_with_mimalloc_unless_told_otherwise(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "default") as server:
        assert server.allocator == "mimalloc"
        assert "libmimalloc" in _mapped_libraries(server.pid)
        client = redis.Redis.from_url(server.url)
        client.set("k", "v" * 10_000)
        assert client.get("k") == b"v" * 10_000
    with EmbeddedRedis(tmp_path / "libc", allocator="libc") as server:
        assert server.allocator == "libc"
        assert "libmimalloc" not in _mapped_libraries(server.pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="preloaded on Linux only")
def test_a_library_the_loader_refuses_is_reported_as_libc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_library = tmp_path / "libmimalloc.so"
    not_a_library.write_text("not an ELF file")
    monkeypatch.setattr("service.store.embedded.mimalloc_library", lambda: not_a_library)
    with EmbeddedRedis(tmp_path / "store") as server:
        assert server.allocator == "libc"
        assert redis.Redis.from_url(server.url).ping()


def test_the_data_dir_is_private(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "store") as server:
        redis.Redis.from_url(server.url).set("k", "v")
    assert (tmp_path / "store").stat().st_mode & 0o777 == 0o700


def test_listens_on_a_unix_socket_only(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        client = redis.Redis.from_url(server.url)
        assert client.config_get("port") == {"port": "0"}
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert server.url.startswith("unix://")


def test_stop_ends_the_child_process(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path)
    server.start()
    pid = server.pid
    assert pid is not None
    assert pid_alive(pid)
    server.stop()
    assert not pid_alive(pid)


def test_one_data_dir_serves_one_service(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path), pytest.raises(DataDirBusy):
        EmbeddedRedis(tmp_path).start()
    # Free again once the first one stopped.
    with EmbeddedRedis(tmp_path) as server:
        assert server.ping()


def test_a_deep_data_dir_gets_a_short_socket_path(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["a-rather-long-directory-name"] * 6)
    path = socket_path_for(deep)
    assert len(str(path)) <= 100
    assert path == socket_path_for(deep)
    with EmbeddedRedis(deep) as server:
        assert server.ping()
