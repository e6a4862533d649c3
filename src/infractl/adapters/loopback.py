"""Ports on the loopback interface for the local services and the tests: a free one to listen on, and whether one
is free. Picked below the kernel's ephemeral range, which outgoing connections draw their source ports from."""

from __future__ import annotations

import math
import random
import socket
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing uses right now, below the kernel's ephemeral range: a port the kernel
    hands out (bind to 0) can be taken as the source port of any outgoing connection before the service binds it.
    Each process walks that range from a random start, so its ports never repeat and two processes rarely meet, in
    steps of STEP: a service may also listen on its port + 1 (OpenBao's cluster port), which the next pick skips."""
    global _cursor
    low, high = _PORTS
    for _ in range(high - low):
        _cursor = low + (_cursor + _STEP - low) % (high - low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, _cursor))  # no SO_REUSEADDR: a port with connections in TIME_WAIT is passed over
            except OSError:
                continue
            return _cursor
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # the whole range in use: any free port
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _port_range() -> tuple[int, int]:
    """[10000, the first ephemeral port): where free_port picks."""
    try:
        first = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first = 32768  # Linux's default
    return (10000, first) if first - 10000 >= 2000 else (first, 65536)


_PORTS = _port_range()
_STEP = next(n for n in (7, 11, 13) if math.gcd(n, _PORTS[1] - _PORTS[0]) == 1)  # coprime: the walk meets every port
_cursor = random.randrange(*_PORTS)


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when port can be bound on host now (nothing listens on it). SO_REUSEADDR as servers set it, so a port
    whose last connections linger in TIME_WAIT counts as free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
