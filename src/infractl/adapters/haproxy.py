"""Debian's haproxy as a stable PostgreSQL endpoint in front of a primary and its standby (the drill's DB failover,
docs/drills.md): one TCP frontend on loopback, two servers, and a health check that tells a primary from a standby.

haproxy's own `option pgsql-check` only sees that a server answers, and a standby answers too; so the check is an
external one (`option external-check`): a small script asks the server `select pg_is_in_recovery()` with psql and
exits 0 only for `f` (a primary). It needs `insecure-fork-wanted` and `external-check` in the global section (haproxy
forks the script). haproxy kills an external check that runs longer than the server's current check interval
(`timeout check` does not apply to it, measured on 2.6), and a fork of psql can take more than 100 ms on a loaded
machine: so a server that is up is checked every CHECK_INTER_MS (1 s: a slow check still passes), a server that is
down every DOWN_INTER_MS; one failure marks a server down, one success up. Until a dead primary's check fails, a
connection haproxy cannot open to it is redispatched to the other server (`option redispatch 1`) instead of being
retried on the dead one a second apart. Sessions on a server marked down are shut, so clients reconnect to the one
that is up. Callers wait for the checks' first verdict (`Runtime.wait_status`, on the stats socket) before using the
endpoint: until then haproxy counts every server up, the standby too. (With a 100 ms interval, a loaded machine marked
healthy servers down and cut every session: the db-failover drill then starved its clients.)

The same haproxy is the local rollout's traffic shifter (`infractl rollout`, issue 20): an HTTP endpoint in front
of a stable and a canary api (`http_config`, `start_http`) whose weights change at run time over the stats socket
(`Runtime`), without a reload and without losing a request (see `http_config` for how).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import socket
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from infractl.adapters import localservices as ls
from infractl.adapters import process
from infractl.errors import ExternalToolError, UsageError

CHECK_INTER_MS = 1000  # an up server: each check may take this long
DOWN_INTER_MS = 250  # a down server (a standby being promoted): each check may take this long
PG_BACKEND = "primary"
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
    port: int,
    servers: Sequence[tuple[str, str, int]],
    check_script: Path,
    *,
    inter_ms: int = CHECK_INTER_MS,
    stats_socket: Path | None = None,
) -> str:
    """A TCP frontend on 127.0.0.1:port to the first of servers (name, host, port) that passes the check."""
    lines = [
        "# written by infractl drill faults: the stable PostgreSQL endpoint",
        "global",
        "    insecure-fork-wanted",
        "    external-check",
        "    maxconn 512",
        *([f"    stats socket {stats_socket} mode 600 level admin"] if stats_socket else []),
        "defaults",
        "    mode tcp",
        "    timeout connect 1s",
        f"    timeout client {IDLE_TIMEOUT}",
        f"    timeout server {IDLE_TIMEOUT}",
        "    timeout check 1s",
        "frontend pg",
        f"    bind {ls.HOST}:{port}",
        f"    default_backend {PG_BACKEND}",
        f"backend {PG_BACKEND}",
        "    option redispatch 1",
        "    retries 2",
        "    option external-check",
        f'    external-check command "{check_script}"',
        '    external-check path "/usr/bin:/bin"',
        f"    default-server inter {inter_ms} downinter {DOWN_INTER_MS} fall 1 rise 1 on-marked-down shutdown-sessions",
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
    service `name`; healthy when the frontend accepts TCP connections. extra["stats_socket"]: its runtime API
    (Runtime(..., backend=PG_BACKEND)); wait_status before use."""
    base = Path(base).resolve()
    base.mkdir(parents=True, exist_ok=True)
    script = primary_check_script(base / f"{name}-check.sh", psql)
    sock = _socket_path(base, name)
    cfg = base / f"{name}.cfg"
    cfg.write_text(config(port, servers, script, stats_socket=sock))
    check_config(cfg)
    extra = {"config": str(cfg), "stats_socket": str(sock), "health": "tcp"}
    env = ls.service_env(process.clean_env(drop_prefixes=("PG",)))
    return ls.start_process(name, [binary(), "-db", "-f", str(cfg)], env, base, port, None, wait=wait, extra=extra)


def wait_status(endpoint: ls.Running, expected: Mapping[str, str], timeout: float) -> None:
    """The PostgreSQL endpoint of `start`: until its checks give each server the expected state, e.g. primary UP,
    replica DOWN (before that haproxy counts the standby up too)."""
    Runtime(Path(endpoint.extra["stats_socket"]), backend=PG_BACKEND).wait_status(expected, timeout)


# --- HTTP: the rollout's weighted endpoint ---------------------------------------------------------------------------

BACKEND = "api"
MAX_WEIGHT = 100  # weights are percent; haproxy's are relative (0..256), so a percent is used as is
HTTP_CHECK_INTER_MS = 500
HTTP_TIMEOUT = "30s"  # client and server inactivity; a request unanswered that long is resent (response-timeout)
RUNTIME_TIMEOUT_S = 5.0
DRAIN_POLL_S = 0.05
_UNIX_PATH_MAX = 107  # a Unix socket's path: 108 bytes with its NUL
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # a haproxy server name

HttpServer = tuple[str, str, int, int]  # name, host, port, weight (percent)


def http_config(
    port: int,
    servers: Sequence[HttpServer],
    stats_socket: Path,
    *,
    check_path: str = "/readyz",
    inter_ms: int = HTTP_CHECK_INTER_MS,
) -> str:
    """An HTTP frontend on 127.0.0.1:port to backend `api`: servers (name, host, port, weight percent) balanced
    round-robin by weight, each checked with GET check_path (200 = up) every inter_ms, and the runtime API on
    stats_socket (level admin, mode 600) to change the weights (`Runtime`).

    Nothing is lost while weights change or a server goes away:
    - each request is balanced on its own, keep-alive client connections included, so weight 0 means no new request;
      a request in flight finishes where it is (`Runtime.drain` waits for that);
    - a connection that fails (a server gone, not yet marked down by its check) is retried (`retries 3`) on another
      server (`option redispatch 1`); so is a request whose server closed the connection without an answer
      (`empty-response`, e.g. a reused idle connection the server just closed) or did not answer within
      HTTP_TIMEOUT (`response-timeout`) — but only an idempotent one (GET, HEAD, OPTIONS, PUT, DELETE) or one with
      an `Idempotency-Key`: sending any other request twice could do its work twice. To be resent a request must
      be whole in haproxy's buffer (16 KiB), hence `option http-buffer-request`; a larger body is never resent.
      One not resent is answered 502 (on a reused client connection: that connection closed, the client decides);
    - checks never cut a request (no `on-marked-down shutdown-sessions`).
    """
    if not servers:
        raise UsageError("the endpoint needs at least one server")
    _checked_weights({name: weight for name, _, _, weight in servers}, None)
    names = [name for name, _, _, _ in servers]
    if len(set(names)) != len(names):
        raise UsageError(f"the servers need distinct names, got {names}")
    bad = [name for name in names if not _NAME.match(name)]
    if bad:
        raise UsageError(f"server names are letters, digits, '_', '.', ':' and '-', got {bad}")
    if not check_path.startswith("/") or any(c.isspace() for c in check_path):
        raise UsageError(f"check_path must be a path starting with '/', got {check_path!r}")
    if "'" in str(stats_socket) or "\n" in str(stats_socket):
        raise UsageError(f"the stats socket path cannot hold a quote or a line break: {stats_socket}")
    lines = [
        "# written by infractl: the rollout's weighted HTTP endpoint",
        "global",
        "    maxconn 1024",
        f"    stats socket '{stats_socket}' mode 600 level admin",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        f"    timeout client {HTTP_TIMEOUT}",
        f"    timeout server {HTTP_TIMEOUT}",
        "    timeout http-request 10s",
        "    timeout http-keep-alive 10s",
        "    timeout check 2s",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response response-timeout",
        "frontend http",
        f"    bind {ls.HOST}:{port}",
        "    option forwardfor",
        f"    default_backend {BACKEND}",
        f"backend {BACKEND}",
        "    balance roundrobin",
        "    option http-buffer-request",
        "    acl idempotent method GET HEAD OPTIONS PUT DELETE",
        "    acl keyed req.hdr(idempotency-key) -m found",
        "    http-request disable-l7-retry unless idempotent || keyed",
        "    option httpchk",
        f"    http-check send meth GET uri {check_path} ver HTTP/1.1 hdr Host {ls.HOST}",
        "    http-check expect status 200",
        f"    default-server inter {inter_ms} fastinter {inter_ms} downinter {inter_ms} fall 2 rise 2",
    ]
    lines += [f"    server {name} {host}:{p} weight {weight} check" for name, host, p, weight in servers]
    return "\n".join(lines) + "\n"


def start_http(
    base: Path,
    port: int,
    servers: Sequence[HttpServer],
    *,
    name: str = "rollout-proxy",
    wait: float | None = ls.DEFAULT_WAIT_S,
    check_path: str = "/readyz",
    inter_ms: int = HTTP_CHECK_INTER_MS,
) -> ls.Running:
    """Write <base>/<name>.cfg (http_config, with check_path and inter_ms), check it (`haproxy -c`), start haproxy
    in the foreground (-db) as service `name`; healthy when the frontend accepts TCP connections.
    extra["stats_socket"] is the runtime API's socket (<base>/<name>.sock, or a short path under $TMPDIR when that
    one is too long for a Unix socket), extra["config"] the config file. Stop it with localservices.stop."""
    base = Path(base).resolve()
    base.mkdir(parents=True, exist_ok=True)
    sock = _socket_path(base, name)
    cfg = base / f"{name}.cfg"
    cfg.write_text(http_config(port, servers, sock, check_path=check_path, inter_ms=inter_ms))
    check_config(cfg)
    extra = {"config": str(cfg), "stats_socket": str(sock), "health": "tcp"}
    argv = [binary(), "-db", "-f", str(cfg)]
    return ls.start_process(name, argv, ls.service_env(), base, port, None, wait=wait, extra=extra)


def _socket_path(base: Path, name: str) -> Path:
    """<base>/<name>.sock, or one named after it in a private folder under $TMPDIR when that path is too long."""
    path = base / f"{name}.sock"
    if len(os.fsencode(path)) <= _UNIX_PATH_MAX:
        return path
    holder = Path(tempfile.gettempdir()) / "infractl-haproxy"
    holder.mkdir(mode=0o700, exist_ok=True)
    return holder / f"{hashlib.sha256(os.fsencode(path)).hexdigest()[:16]}.sock"


def _checked_weights(weights: Mapping[str, int], known: Sequence[str] | None) -> dict[str, int]:
    """weights as a dict, each a whole percent 0..100 of a known server (when known is given); else UsageError."""
    bad = [
        f"{name}: {weight!r}"
        for name, weight in weights.items()
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= MAX_WEIGHT
    ]
    if bad:
        raise UsageError(f"a weight is a whole percent from 0 to {MAX_WEIGHT}", details=bad)
    unknown = sorted(set(weights) - set(known)) if known is not None else []
    if unknown:
        raise UsageError(
            f"no server {', '.join(unknown)} in backend {BACKEND}", details=[f"servers: {', '.join(known or ())}"]
        )
    return dict(weights)


class Runtime:
    """haproxy's runtime API on its stats socket (plain `socket`, one connection a command line), for the servers
    of backend `api`. servers: their names, when known, so a wrong name is refused before anything is sent."""

    def __init__(
        self,
        socket: Path,
        *,
        servers: Sequence[str] | None = None,
        timeout: float = RUNTIME_TIMEOUT_S,
        backend: str = BACKEND,
    ):
        self.path = Path(socket)
        self.backend = backend
        self.servers = list(servers) if servers is not None else None
        self.timeout = timeout

    def command(self, line: str) -> str:
        """Send one command line (commands separated by `;`), return haproxy's whole answer."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(self.timeout)
                conn.connect(str(self.path))
                conn.sendall(line.encode() + b"\n")
                chunks = []
                while chunk := conn.recv(65536):  # haproxy closes the connection after its answer
                    chunks.append(chunk)
        except FileNotFoundError:
            raise ExternalToolError(
                f"haproxy runtime API: no socket {self.path}", hint="is the haproxy of start_http running?"
            ) from None
        except ConnectionRefusedError:
            raise ExternalToolError(f"haproxy runtime API: nothing listens on {self.path} (haproxy stopped?)") from None
        except TimeoutError:
            raise ExternalToolError(f"haproxy runtime API: no answer to `{line}` within {self.timeout:g} s") from None
        except OSError as exc:
            raise ExternalToolError(f"haproxy runtime API: {self.path}: {exc.strerror or exc}") from None
        return b"".join(chunks).decode(errors="replace")

    def set_weights(self, weights: Mapping[str, int]) -> None:
        """Set these servers' weights (percent) in one command line, so they apply together. Checked first (whole
        percent, known server, at least one server left with a weight) before anything changes; a weight haproxy
        refuses is an ExternalToolError naming the server.

        Raised weights go first on the line: haproxy's round-robin places a re-weighted server by the total weight
        at that moment, and lowering one first (a shrunken total) starved that server for up to a whole cycle
        (e.g. 0 of 300 picks at 25%); raised first, every run of requests after a change gets its share +-1."""
        wanted = _checked_weights(weights, self.servers)
        current = self.weights()
        _checked_weights(wanted, list(current))
        if wanted and not any({**current, **wanted}.values()):
            raise UsageError("these weights leave no server to take a request", details=[f"{wanted}"])
        changes = sorted(
            ((name, weight) for name, weight in wanted.items() if weight != current[name]),
            key=lambda change: change[1] < current[change[0]],
        )
        if not changes:
            return
        commands = [f"set weight {self.backend}/{name} {weight}" for name, weight in changes]
        line = ";".join(commands)
        answers = split_answers(self.command(line))
        if len(answers) != len(commands):
            raise ExternalToolError(f"haproxy runtime API: unexpected answer to `{line}`", details=answers)
        refused = [(name, answer) for (name, _), answer in zip(changes, answers, strict=True) if answer]
        if refused:
            applied = [name for (name, _), answer in zip(changes, answers, strict=True) if not answer]
            raise ExternalToolError(
                f"haproxy refused the weight of {', '.join(name for name, _ in refused)}",
                details=[f"{name}: {answer}" for name, answer in refused]
                + [f"applied: {', '.join(applied) or 'none'}"],
            )

    def weights(self) -> dict[str, int]:
        """Each server's weight (percent), as set: `show servers state` (srv_uweight)."""
        return parse_weights(self.command(f"show servers state {self.backend}"), self.backend)

    def sessions(self) -> dict[str, int]:
        """Each server's current sessions (requests it is serving now, plus any queued for it): `show stat`."""
        return {name: int(row["scur"]) + int(row["qcur"] or 0) for name, row in self._stats().items()}

    def status(self) -> dict[str, str]:
        """Each server's state as its checks see it: UP, DOWN, MAINT, `UP 1/2` (going down), …"""
        return {name: row["status"] for name, row in self._stats().items()}

    def drain(self, name: str, timeout: float) -> None:
        """Weight 0 for server `name` (no new request), then wait until it serves none: ExternalToolError naming it
        and what it still serves when that takes longer than timeout seconds."""
        self.set_weights({name: 0})
        deadline = time.monotonic() + timeout
        while True:
            left = self.sessions().get(name, 0)
            if not left:
                return
            if time.monotonic() >= deadline:
                raise ExternalToolError(
                    f"haproxy: server {name} still serves {left} request(s) {timeout:g} s after its weight went to 0",
                    hint="a request that long is still running there; drain again or stop it anyway",
                )
            time.sleep(DRAIN_POLL_S)

    def _stats(self) -> dict[str, dict[str, str]]:
        return parse_stat(self.command(f"show stat {self.backend} 4 -1"), self.backend)  # type 4: servers only

    def wait_status(self, expected: Mapping[str, str], timeout: float) -> None:
        """Until the checks give every named server the expected state (UP, DOWN); ExternalToolError after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.status()  # read once a round: an empty answer (no server yet) is not the expected state
            if all(now.get(n) == s for n, s in expected.items()):
                return
            if time.monotonic() >= deadline:
                raise ExternalToolError(
                    f"haproxy: the servers are {now} after {timeout:g} s, expected {dict(expected)}"
                )
            time.sleep(DRAIN_POLL_S)


def split_answers(answer: str) -> list[str]:
    """The answers to a command line, one per command: each ends with an empty line (an empty answer is that line)."""
    lines = answer.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    blocks, current = [], []
    for line in lines:
        if line:
            current.append(line)
        else:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def parse_weights(answer: str, backend: str = BACKEND) -> dict[str, int]:
    """The servers of backend `api` and their set weights from `show servers state` (a version line, a `# ` header
    of field names, one line of space-separated fields per server)."""
    rows = answer.splitlines()
    header = next((row[2:].split() for row in rows if row.startswith("# ")), [])
    if not {"be_name", "srv_name", "srv_uweight"} <= set(header):
        raise ExternalToolError("haproxy runtime API: unexpected answer to `show servers state`", details=rows[:5])
    found: dict[str, int] = {}
    for row in rows:
        fields = row.split()
        if row.startswith("#") or len(fields) != len(header):
            continue
        value = dict(zip(header, fields, strict=True))
        if value["be_name"] == backend:
            found[value["srv_name"]] = _number(value["srv_uweight"], "srv_uweight")
    return found


def parse_stat(answer: str, backend: str = BACKEND) -> dict[str, dict[str, str]]:
    """The server rows of backend `api` from `show stat` (CSV whose header line starts with `# `), by server name;
    each has at least numeric scur and qcur, and status."""
    if not answer.startswith("# "):
        raise ExternalToolError(
            "haproxy runtime API: unexpected answer to `show stat`", details=answer.splitlines()[:5]
        )
    reader = csv.DictReader(row for row in answer[2:].splitlines() if row)
    rows = {row["svname"]: row for row in reader if row.get("pxname") == backend and row.get("svname")}
    for row in rows.values():
        if row.get("status") is None:
            raise ExternalToolError("haproxy runtime API: `show stat` has no status column")
        for column in ("scur", "qcur"):
            _number(row.get(column) or "0", column)
    return rows


def _number(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ExternalToolError(f"haproxy runtime API: {what} is not a number: {text!r}") from None
