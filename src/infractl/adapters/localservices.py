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
import os
import socket
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from infractl.adapters import docker, loopback, postgres, process
from infractl.errors import ConfigError, ExternalToolError

HOST = "127.0.0.1"
DEFAULT_WAIT_S = 30.0
PG_ADMIN_USER = postgres.ADMIN_USER
# the dev stack's Docker mode asks these through this module
docker_engine_available = docker.engine_available
compose_command = docker.compose_command


@dataclass(frozen=True)
class Running:
    name: str  # postgres | temporal | openbao | s3 | otlp | prometheus | alertmanager | alerts | api | worker | …
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


# --- ports (adapters/loopback.py) ----------------------------------------------------------------------------------

free_port = loopback.free_port
port_is_free = loopback.port_is_free


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


def start_postgres(
    base: Path,
    port: int,
    *,
    wait: float | None = DEFAULT_WAIT_S,
    name: str = "postgres",
    data: Path | None = None,
    settings: Mapping[str, str] | None = None,
) -> Running:
    """PostgreSQL on 127.0.0.1:port, data in <base>/postgres-data (initdb on first use, kept afterwards; as root in
    a private $TMPDIR/infractl-postgres folder when the `postgres` user cannot reach <base>: see postgres.data_dir).
    The admin role `postgres` trusts loopback (extra["admin_url"]), every other role needs its password; no Unix
    socket; as root every step runs as `postgres`. data: start that existing cluster instead (a restored backup, a
    replica) as service `name`; settings: more server settings (-c), e.g. WAL archiving or a recovery target."""
    base = Path(base).resolve()
    base.mkdir(parents=True, exist_ok=True)
    bindir = postgres.find_bindir()
    as_root = os.geteuid() == 0
    data = postgres.cluster_dir(bindir, base, as_root, data)
    argv = postgres.server_argv(bindir, data, HOST, port, as_root=as_root, settings=settings)
    info = {
        "health": "pg",
        "data_dir": str(data),
        "bindir": str(bindir),
        "admin_user": PG_ADMIN_USER,
        "admin_url": f"postgresql://{PG_ADMIN_USER}@{HOST}:{port}/postgres",
        "run_as": PG_ADMIN_USER if as_root else "",
    }
    env = process.clean_env(drop_prefixes=("PG",))
    return start_process(name, argv, env, base, port, None, wait=wait, extra=info)


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
    """The AWS emulator (moto with infractl's patches, so Object Lock is enforced as on S3) on 127.0.0.1:port,
    plain HTTP, in memory, as the S3 endpoint; it accepts any access key."""
    base = Path(base).resolve()
    argv = [sys.executable, "-m", "infractl.adapters.emulator_server", "-H", HOST, "-p", str(port)]
    env = process.clean_env(service_env(), drop_prefixes=("AWS_",))
    health = f"http://{HOST}:{port}/moto-api/"
    extra = {"endpoint_url": f"http://{HOST}:{port}"}
    return start_process("s3", argv, env, base, port, health, wait=wait, extra=extra)


def start_otlp_receiver(base: Path, port: int, *, wait: float | None = DEFAULT_WAIT_S) -> Running:
    """The local OTLP/HTTP receiver (controlplane.devtools.otlp_receiver) on 127.0.0.1:port.

    Every span and metric point it receives is appended as one JSON line to extra["out"] (<base>/traces.jsonl).
    """
    return _receiver("otlp", "otlp_receiver", Path(base).resolve() / "traces.jsonl", port, wait, "endpoint", "")


def start_alert_receiver(base: Path, port: int, *, wait: float | None = DEFAULT_WAIT_S) -> Running:
    """The local Alertmanager webhook receiver (controlplane.devtools.alert_receiver) on 127.0.0.1:port.

    Every alert of every notification is appended as one JSON line to extra["out"] (<base>/alerts.jsonl); GET
    extra["alerts_url"] lists them.
    """
    return _receiver(
        "alerts", "alert_receiver", Path(base).resolve() / "alerts.jsonl", port, wait, "alerts_url", "/alerts"
    )


def _receiver(name: str, module: str, out: Path, port: int, wait: float | None, key: str, path: str) -> Running:
    argv = [sys.executable, "-m", f"controlplane.devtools.{module}", "--host", HOST, "--port", str(port), "--out", out]
    extra = {"out": str(out), key: f"http://{HOST}:{port}{path}"}
    health = f"http://{HOST}:{port}/healthz"
    return start_process(name, argv, service_env(), out.parent, port, health, wait=wait, extra=extra)


def start_prometheus(
    base: Path, port: int, config: Path, *, resend_delay: str = "2s", wait: float | None = DEFAULT_WAIT_S
) -> Running:
    """Debian's Prometheus on 127.0.0.1:port with the config file `config`, its TSDB in <base>/prometheus-data (kept
    across restarts), exemplar storage on, and the lifecycle API on, so that `reload` applies a changed config or
    rule file without a restart. Healthy when /-/ready answers.

    Firing alerts are re-sent every resend_delay (Prometheus' default, 1m, suits production; here a first send that
    precedes the discovery of Alertmanager would otherwise arrive a minute late), and Alertmanager resolves an alert
    Prometheus stops sending after 4 * max(resend_delay, evaluation interval)."""
    base = Path(base).resolve()
    url = f"http://{HOST}:{port}"
    argv = [
        apt_tool("prometheus", "prometheus"),
        f"--config.file={Path(config).resolve()}",
        f"--storage.tsdb.path={base / 'prometheus-data'}",
        f"--web.listen-address={HOST}:{port}",
        f"--web.external-url={url}",
        "--web.enable-lifecycle",
        "--enable-feature=exemplar-storage",
        f"--rules.alert.resend-delay={resend_delay}",
    ]
    extra = {"url": url, "config": str(config), "data_dir": str(base / "prometheus-data")}
    return start_process("prometheus", argv, service_env(), base, port, f"{url}/-/ready", wait=wait, extra=extra)


def start_alertmanager(base: Path, port: int, config: Path, *, wait: float | None = DEFAULT_WAIT_S) -> Running:
    """Debian's Alertmanager on 127.0.0.1:port with the config file `config`, its silences and notification log in
    <base>/alertmanager-data, clustering off (its default cluster port, 9094, is the alert receiver's). Healthy when
    /-/ready answers; `reload` applies a changed config."""
    base = Path(base).resolve()
    url = f"http://{HOST}:{port}"
    argv = [
        apt_tool("prometheus-alertmanager", "prometheus-alertmanager"),
        f"--config.file={Path(config).resolve()}",
        f"--storage.path={base / 'alertmanager-data'}",
        f"--web.listen-address={HOST}:{port}",
        f"--web.external-url={url}",
        "--cluster.listen-address=",
    ]
    extra = {"url": url, "config": str(config), "data_dir": str(base / "alertmanager-data")}
    return start_process("alertmanager", argv, service_env(), base, port, f"{url}/-/ready", wait=wait, extra=extra)


def reload(r: Running) -> None:
    """Ask a running Prometheus or Alertmanager to re-read its config (and rule files): POST /-/reload. A config it
    refuses is a ConfigError carrying the service's own message; it keeps running on the previous one."""
    reload_url(r.name, f"{r.extra.get('url') or r.url}/-/reload")


def reload_url(name: str, url: str) -> None:
    """POST url (a /-/reload endpoint); see reload."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, method="POST", data=b""), timeout=30):
            return
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace").strip()
        raise ConfigError(f"{name} refused the new config: {body or exc.reason}", hint="see its log") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ExternalToolError(f"{name}: cannot reach {url}: {exc}") from None


# --- health ------------------------------------------------------------------------------------------------------


HTTP_PROBE_TIMEOUT_S = 2.0  # a service may ask for longer: extra["health_timeout"]


def is_healthy(r: Running) -> bool:
    """The process (the very one started, not a recycled pid) is alive and its probe answers."""
    if not _same_process(r):
        return False
    kind = r.extra.get("health", "tcp" if r.port else "pid")
    if kind == "http":
        timeout = float(r.extra.get("health_timeout") or HTTP_PROBE_TIMEOUT_S)
        return _http_ok(r.extra.get("health_url") or r.url, r.extra.get("ca_file") or None, timeout=timeout)
    if kind == "pg":
        return _pg_ready(r)
    if kind == "tcp":
        return _tcp_open(r.host, r.port)
    return True


def wait_healthy(r: Running, timeout: float) -> None:
    """Block until r is healthy; raise ExternalToolError naming the service and its log tail when it exits or
    does not become healthy within timeout seconds."""
    process.wait_ready(r.handle, lambda: is_healthy(r), timeout, name=r.name, log=r.log, where=f"port {r.port}")


# --- stop --------------------------------------------------------------------------------------------------------


def stop(r: Running, timeout: float = 10) -> list[int]:
    """Stop r and everything in its process group: SIGTERM, then SIGKILL after timeout seconds. Returns the pids
    that survived it (see survivors; empty when it did its job).

    PostgreSQL is asked first with `pg_ctl stop -m fast` (as the postgres user when root). A pid that is no longer
    the process that was started (recycled) is left alone. Idempotent.
    """
    if _same_process(r) and r.extra.get("health") == "pg" and r.extra.get("data_dir"):
        postgres.ctl_stop(r.extra.get("bindir", ""), r.extra["data_dir"], r.extra.get("run_as", ""), timeout)
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
    if not _same_process(r):
        postgres.remove_data(Path(r.extra.get("data_dir", "")))


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


def apt_tool(name: str, package: str) -> str:
    """A binary that Debian's package installs (make install adds it to the machine)."""
    hint = f"install Debian's {package} package: apt-get install --no-install-recommends {package} (make install does)"
    return process.find_binary(name, hint=hint)


def _pg_ready(r: Running) -> bool:
    ready = postgres.ready(r.host, r.port, r.extra.get("bindir"))
    return _tcp_open(r.host, r.port) if ready is None else ready


def _http_ok(url: str, ca_file: str | None = None, *, timeout: float = 2.0) -> bool:
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]  # loopback: never via a proxy
    if ca_file:
        try:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca_file)))
        except OSError:  # the CA file is gone or unreadable: nothing can be verified
            return False
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=timeout) as resp:
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


def start_registry(base: Path, port: int, *, wait: float | None = DEFAULT_WAIT_S) -> Running:
    """Debian's `docker-registry` (CNCF distribution 2.8) on 127.0.0.1:port, plain HTTP, no auth.

    Its config is <base>/config.yml (written on every start), its blobs and manifests live in <base>/storage (kept
    across restarts), deletes are enabled. The access log is on: with the rest of its output it goes to
    <base>/registry.log, where `adapters.registry.count_uploads` reads the uploads the server completed. The upload
    state secret is random per start and passed in the environment (never in a file or argv).
    """
    import json
    import secrets

    base = Path(base).resolve()
    storage = base / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    config = base / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n  formatter: text\n  accesslog:\n    disabled: false\n"
        f"storage:\n  filesystem:\n    rootdirectory: {json.dumps(str(storage))}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: {HOST}:{port}\n"
    )
    binary = process.find_binary(
        "docker-registry", hint="install Debian's docker-registry package (make install does it)"
    )
    env = process.clean_env(service_env(), drop_prefixes=("REGISTRY_",))
    env["REGISTRY_HTTP_SECRET"] = secrets.token_hex(32)
    extra = {"url": f"http://{HOST}:{port}", "storage": str(storage), "config": str(config)}
    health = f"http://{HOST}:{port}/v2/"
    return start_process("registry", [binary, "serve", str(config)], env, base, port, health, wait=wait, extra=extra)
