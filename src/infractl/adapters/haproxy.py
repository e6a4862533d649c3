"""Debian's haproxy as a stable PostgreSQL endpoint in front of a primary and its standby (the drill's DB failover,
docs/drills.md): one TCP frontend on loopback, two servers, and a health check that tells a primary from a standby.

haproxy's own `option pgsql-check` only sees that a server answers, and a standby answers too; so the check is an
external one (`option external-check`): a small script asks the server `select pg_is_in_recovery()` with psql and
exits 0 only for `f` (a primary). It needs `insecure-fork-wanted` and `external-check` in the global section (haproxy
forks the script). Checked every CHECK_INTER_MS, one failure marks a server down, one success up; sessions on a server
marked down are shut, so clients reconnect to the one that is up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from infractl.adapters import localservices as ls
from infractl.adapters import process

CHECK_INTER_MS = 100
IDLE_TIMEOUT = "30m"  # a pooled connection may sit idle: haproxy must not cut it


def binary() -> str:
    return ls.apt_tool("haproxy", "haproxy")


def primary_check_script(path: Path, psql: str, user: str = ls.PG_ADMIN_USER) -> Path:
    """The external check: exit 0 only when the server haproxy names (argv 3 and 4) is a primary."""
    path.write_text(
        "#!/bin/sh\n"
        "# written by infractl: haproxy's external check; $3 $4 = the server's address and port\n"
        f'out=$(PGCONNECT_TIMEOUT=1 "{psql}" -X -q -w -h "$3" -p "$4" -U {user} -d postgres -tAc '
        '"select pg_is_in_recovery()" 2>/dev/null)\n'
        '[ "$out" = "f" ]\n'
    )
    os.chmod(path, 0o755)
    return path


def config(
    port: int, servers: Sequence[tuple[str, str, int]], check_script: Path, *, inter_ms: int = CHECK_INTER_MS
) -> str:
    """A TCP frontend on 127.0.0.1:port to the first of servers (name, host, port) that passes the check."""
    lines = [
        "# written by infractl drill faults: the stable PostgreSQL endpoint",
        "global",
        "    insecure-fork-wanted",
        "    external-check",
        "    maxconn 512",
        "defaults",
        "    mode tcp",
        "    timeout connect 1s",
        f"    timeout client {IDLE_TIMEOUT}",
        f"    timeout server {IDLE_TIMEOUT}",
        "    timeout check 1s",
        "frontend pg",
        f"    bind {ls.HOST}:{port}",
        "    default_backend primary",
        "backend primary",
        "    option external-check",
        f'    external-check command "{check_script}"',
        '    external-check path "/usr/bin:/bin"',
        f"    default-server inter {inter_ms} fastinter {inter_ms} downinter {inter_ms} fall 1 rise 1"
        " on-marked-down shutdown-sessions",
    ]
    lines += [f"    server {name} {host}:{p} check" for name, host, p in servers]
    return "\n".join(lines) + "\n"


def check_config(path: Path) -> None:
    """`haproxy -c`: a config haproxy refuses is an ExternalToolError with its message."""
    process.run([binary(), "-c", "-q", "-f", str(path)], timeout=30)


def start(
    base: Path,
    port: int,
    servers: Sequence[tuple[str, str, int]],
    *,
    psql: str,
    name: str = "haproxy",
    wait: float | None = ls.DEFAULT_WAIT_S,
) -> ls.Running:
    """Write <base>/<name>.cfg and its check script, check the config, start haproxy in the foreground (-db) as
    service `name`; healthy when the frontend accepts TCP connections."""
    base = Path(base).resolve()
    base.mkdir(parents=True, exist_ok=True)
    script = primary_check_script(base / f"{name}-check.sh", psql)
    cfg = base / f"{name}.cfg"
    cfg.write_text(config(port, servers, script))
    check_config(cfg)
    extra = {"config": str(cfg), "health": "tcp"}
    env = ls.service_env(process.clean_env(drop_prefixes=("PG",)))
    return ls.start_process(name, [binary(), "-db", "-f", str(cfg)], env, base, port, None, wait=wait, extra=extra)
