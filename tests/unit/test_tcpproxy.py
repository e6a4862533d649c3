"""The drill's TCP proxy against a local echo server: it forwards, a blackhole holds bytes (nothing dropped, nothing
answered), heal delivers what was held, new connections during a cut are accepted but not served, stop closes
everything."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from infractl.adapters.tcpproxy import TcpProxy


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _recv(sock: socket.socket, n: int, timeout: float) -> bytes:
    sock.settimeout(timeout)
    got = b""
    while len(got) < n:
        chunk = sock.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def test_forwards(echo: int) -> None:
    with TcpProxy("127.0.0.1", echo, name="t") as proxy, socket.create_connection(("127.0.0.1", proxy.port)) as s:
        s.sendall(b"hello")
        assert _recv(s, 5, 5) == b"hello"
    assert proxy.stats.accepted == 1


def test_blackhole_holds_and_heal_delivers(echo: int) -> None:
    with TcpProxy("127.0.0.1", echo, name="t") as proxy:
        s = socket.create_connection(("127.0.0.1", proxy.port))
        s.sendall(b"before")
        assert _recv(s, 6, 5) == b"before"
        proxy.blackhole()
        assert proxy.cut
        s.sendall(b"during")
        with pytest.raises(TimeoutError):
            _recv(s, 1, 0.5)  # nothing comes back while cut, and the connection is not closed
        # a new connection is accepted and held, never served
        s2 = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
        s2.sendall(b"new")
        with pytest.raises(TimeoutError):
            _recv(s2, 1, 0.3)
        proxy.heal()
        assert _recv(s, 6, 5) == b"during"  # held, not dropped
        assert _recv(s2, 3, 5) == b"new"
        assert proxy.stats.partitions == 1
        s.close()
        s2.close()


def test_stop_closes_connections(echo: int) -> None:
    proxy = TcpProxy("127.0.0.1", echo, name="t").start()
    s = socket.create_connection(("127.0.0.1", proxy.port))
    s.sendall(b"x")
    assert _recv(s, 1, 5) == b"x"
    proxy.stop()
    assert _recv(s, 1, 5) == b""  # closed by the proxy
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=1).close()
    s.close()


def test_target_down_closes_client() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    with TcpProxy("127.0.0.1", dead, name="t") as proxy, socket.create_connection(("127.0.0.1", proxy.port)) as s:
        assert _recv(s, 1, 5) == b""
    assert proxy.stats.failed == 1
