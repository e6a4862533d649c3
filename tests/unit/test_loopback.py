"""free_port picks below the kernel's ephemeral range (a port the kernel hands out can become an outgoing
connection's source port before the service binds it), never the same port twice in a process, and a free one."""

from __future__ import annotations

import itertools
import socket
from pathlib import Path

from infractl.adapters import loopback


def test_ports_are_below_the_ephemeral_range_distinct_and_bindable():
    first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [loopback.free_port() for _ in range(200)]
    assert len(set(ports)) == 200
    assert all(10000 <= p < first_ephemeral for p in ports)
    assert all(abs(a - b) > 1 for a, b in itertools.pairwise(ports))  # a service's port + 1 stays free
    for p in ports[:20]:
        with socket.socket() as s:
            s.bind((loopback.HOST, p))


def test_a_port_in_use_is_passed_over():
    taken = socket.socket()
    try:
        port = loopback.free_port()
        taken.bind((loopback.HOST, port))
        taken.listen()
        loopback._cursor = port - loopback._STEP  # the next pick would be the taken port
        assert loopback.free_port() != port
    finally:
        taken.close()
