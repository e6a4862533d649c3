"""The local development stack: the control plane's dependencies, the API and the worker on this machine.

Native mode (no Docker engine): every service is a process on 127.0.0.1, started through
infractl.adapters.localservices, recorded in <work_dir>/dev/state.json. Docker mode: `docker compose` with the
project's compose.yaml. Both give the api and the worker the same environment contract (docs/dev.md).

Services here never print: they report progress through a callback and return pydantic models.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, computed_field

from infractl.adapters import files, process
from infractl.adapters import localservices as ls
from infractl.errors import CommandError, ConfigError, ExternalToolError, UsageError

Progress = Callable[[str], None]

STATE_VERSION = 1
HOST = ls.HOST
# Native default ports: the same as compose publishes (docs/dev.md). `temporal_ui` belongs to the temporal service.
DEFAULT_PORTS: dict[str, int] = {
    "postgres": 5432,
    "temporal": 7233,
    "temporal_ui": 8233,
    "openbao": 8200,
    "s3": 9000,
    "otlp": 4318,
    "api": 8080,
}
INFRA = ("postgres", "openbao", "s3", "otlp", "temporal")  # start order (they start in parallel)
APP = ("api", "worker")
SERVICES = INFRA + APP
STEP_LOGS = ("seed", "migrate")  # one-shot steps of `up`, logged like services

DB_NAME = "controlplane"
DB_USER = "controlplane"
TEMPORAL_NAMESPACE = "default"
TASK_QUEUE = "controlplane-runs"
S3_REGION = "eu-west-1"
EVIDENCE_BUCKET = "controlplane-evidence"

SECRET_ENV = ("VAULT_TOKEN",)  # values `infractl dev env` masks unless --show-secrets
MASK = "********"
# Our own variables are dropped from the environment the api/worker inherit, so nothing stale leaks in.
DROPPED_ENV_PREFIXES = ("CONTROLPLANE_", "VAULT_", "BAO_", "OTEL_", "AWS_")

START_TIMEOUT_S = 60.0
READY_TIMEOUT_S = 60.0
STEP_TIMEOUT_S = 120.0


# --- models ------------------------------------------------------------------------------------------------------

Health = Literal["healthy", "unhealthy", "stopped", "completed"]  # completed: a one-shot (compose seed, migrate)


class ServiceStatus(BaseModel):
    name: str
    health: Health
    pid: int | None = None
    address: str | None = None  # host:port of its main port
    url: str | None = None  # where a developer points a browser or client
    log: str | None = None
    started_by_us: bool = True
    action: str | None = None  # set by `up`: started | reused | restarted
    details: dict[str, str] = {}


class DevStatus(BaseModel):
    mode: Literal["native", "docker", "none"]
    work_dir: str
    services: list[ServiceStatus] = []
    ports: dict[str, int] = {}
    started_at: str | None = None
    notes: list[str] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def running(self) -> bool:
        return any(s.health != "stopped" for s in self.services)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def healthy(self) -> bool:
        return bool(self.services) and all(s.health in ("healthy", "completed") for s in self.services)


class DownResult(BaseModel):
    mode: Literal["native", "docker", "none"]
    stopped: list[str] = []  # services stopped by this call
    already_stopped: list[str] = []  # recorded, but no longer running
    purged: list[str] = []  # data removed (--purge)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def nothing_to_do(self) -> bool:
        return not self.stopped and not self.purged


class EnvContract(BaseModel):
    mode: Literal["native", "docker", "none"]
    variables: dict[str, str]
    masked: list[str] = []


# --- paths and state (pure) --------------------------------------------------------------------------------------


def dev_dir(work_dir: Path) -> Path:
    return work_dir / "dev"


def state_path(directory: Path) -> Path:
    return directory / "state.json"


def empty_state() -> dict[str, Any]:
    return {"version": STATE_VERSION, "mode": None, "services": {}, "ports": {}}


def load_state(directory: Path) -> dict[str, Any]:
    """The recorded state, or an empty one. A corrupt file is a ConfigError naming it."""
    path = state_path(directory)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return empty_state()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: not valid JSON ({exc})", hint="stop leftover processes by hand, then delete the file"
        ) from None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        raise ConfigError(f"{path}: unknown state format", hint="stop leftover processes by hand, then delete it")
    data.setdefault("services", {})
    data.setdefault("ports", {})
    return data


def save_state(directory: Path, state: Mapping[str, Any]) -> None:
    """Write atomically, readable by the owner only (it holds the dev root token)."""
    files.write_json(state_path(directory), dict(state))


def record(r: ls.Running, *, started_by_us: bool = True) -> dict[str, Any]:
    return {**r.to_dict(), "started_by_us": started_by_us}


# --- ports (pure) ------------------------------------------------------------------------------------------------


def assign_ports(
    *,
    offset: int = 0,
    overrides: Mapping[str, int] | None = None,
    keep: Mapping[str, int] | None = None,
    is_free: Callable[[int], bool] = ls.port_is_free,
    pick_free: Callable[[], int] = ls.free_port,
) -> tuple[dict[str, int], list[str]]:
    """The port of every service: kept (a reused service), else the override, else default + offset; a taken
    default falls back to a free port (with a note). Returns (ports, notes). An override that is taken, or a port
    out of range, is a UsageError."""
    overrides = dict(overrides or {})
    keep = dict(keep or {})
    unknown = sorted(set(overrides) - set(DEFAULT_PORTS))
    if unknown:
        raise UsageError(f"unknown service in --port: {', '.join(unknown)}", hint=f"one of {', '.join(DEFAULT_PORTS)}")
    ports: dict[str, int] = {}
    notes: list[str] = []
    taken: set[int] = set(keep.values())
    for name, default in DEFAULT_PORTS.items():
        if name in keep:
            ports[name] = keep[name]
            continue
        if name in overrides:
            port = overrides[name]
            _check_range(name, port)
            if port in taken or not is_free(port):
                raise UsageError(f"{name}: port {port} is already in use", hint="choose another with --port")
        else:
            port = default + offset
            _check_range(name, port, hint="choose a smaller --port-offset")
            if port in taken or not is_free(port):
                wanted = port
                port = pick_free()
                while port in taken:
                    port = pick_free()
                notes.append(f"{name}: port {wanted} is taken, using {port}")
        ports[name] = port
        taken.add(port)
    return ports, notes


def _check_range(name: str, port: int, hint: str | None = None) -> None:
    if not 1 <= port <= 65535:
        raise UsageError(f"{name}: port {port} is out of range 1-65535", hint=hint)


def parse_port_overrides(items: list[str]) -> dict[str, int]:
    """`--port postgres=15432` (repeatable) -> {"postgres": 15432}."""
    result: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise UsageError(f"--port {item}: expected SERVICE=PORT, e.g. postgres=15432")
        result[name.strip()] = int(value)
    return result


# --- the environment contract (pure) ------------------------------------------------------------------------------


def env_contract(ports: Mapping[str, int], root_token: str, *, service: str | None = None) -> dict[str, str]:
    """The variables the api, the worker and the migration get in native mode (compose sets the same names)."""
    env = {
        "CONTROLPLANE_DB_HOST": HOST,
        "CONTROLPLANE_DB_PORT": str(ports["postgres"]),
        "CONTROLPLANE_DB_NAME": DB_NAME,
        "CONTROLPLANE_DB_USER": DB_USER,
        "CONTROLPLANE_TEMPORAL_ADDRESS": f"{HOST}:{ports['temporal']}",
        "CONTROLPLANE_TEMPORAL_NAMESPACE": TEMPORAL_NAMESPACE,
        "CONTROLPLANE_TASK_QUEUE": TASK_QUEUE,
        "CONTROLPLANE_S3_ENDPOINT_URL": f"http://{HOST}:{ports['s3']}",
        "CONTROLPLANE_S3_REGION": S3_REGION,
        "CONTROLPLANE_S3_CREDENTIALS": "vault",
        "CONTROLPLANE_EVIDENCE_BUCKET": EVIDENCE_BUCKET,
        "VAULT_ADDR": f"http://{HOST}:{ports['openbao']}",
        "VAULT_TOKEN": root_token,
        "CONTROLPLANE_VAULT_AUTH": "token",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{HOST}:{ports['otlp']}",
        "CONTROLPLANE_API_HOST": HOST,
        "CONTROLPLANE_API_PORT": str(ports["api"]),
    }
    if service:
        env["OTEL_SERVICE_NAME"] = f"controlplane-{service}"
    return env


def mask(env: Mapping[str, str], *, show_secrets: bool = False) -> tuple[dict[str, str], list[str]]:
    if show_secrets:
        return dict(env), []
    masked = [k for k in env if k in SECRET_ENV and env[k]]
    return {k: (MASK if k in masked else v) for k, v in env.items()}, masked


def process_env(contract: Mapping[str, str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The full environment of an app process: ours without stale contract variables, plus the contract."""
    env = process.clean_env(base, drop_prefixes=DROPPED_ENV_PREFIXES)
    env.update(contract)
    return ls.service_env(env)


# --- mode --------------------------------------------------------------------------------------------------------


def choose_mode(docker: bool | None, *, engine_available: Callable[[], bool] = ls.docker_engine_available) -> str:
    """--docker / --no-docker, else docker when an engine answers."""
    if docker is False:
        return "native"
    available = engine_available()
    if docker and not available:
        raise ExternalToolError(
            "--docker: no Docker engine reachable",
            hint="start dockerd (or set DOCKER_HOST), or run natively with --no-docker",
        )
    return "docker" if available else "native"


# --- up ----------------------------------------------------------------------------------------------------------


def up(
    work_dir: Path,
    root: Path,
    *,
    docker: bool | None = None,
    port_offset: int = 0,
    port_overrides: Mapping[str, int] | None = None,
    with_app: bool = True,
    progress: Progress = lambda _m: None,
) -> DevStatus:
    """Start (or reuse) the dev stack. Idempotent: a healthy service recorded by an earlier `up` is reused."""
    directory = dev_dir(work_dir)
    _private_dir(directory)
    with _locked(directory):
        state = load_state(directory)
        recorded_mode = state.get("mode") if _recorded_alive(state) else None
        if recorded_mode is None:  # nothing of an earlier stack runs: start from a clean record (token kept)
            state = {**empty_state(), "root_token": state.get("root_token")}
        mode = choose_mode(docker) if recorded_mode is None else recorded_mode
        if docker is not None and recorded_mode and (mode == "docker") != docker:
            raise UsageError(
                f"the dev stack already runs in {recorded_mode} mode",
                hint="stop it first with `infractl dev down`",
            )
        if mode == "docker":
            if port_offset or port_overrides:
                raise UsageError(
                    "--port-offset and --port apply to native mode only (compose.yaml fixes the published ports)",
                    hint="use --no-docker",
                )
            return _docker_up(directory, root, state, progress)
        return _native_up(directory, root, state, port_offset, dict(port_overrides or {}), with_app, progress)


def _native_up(
    directory: Path,
    root: Path,
    state: dict[str, Any],
    offset: int,
    overrides: dict[str, int],
    with_app: bool,
    progress: Progress,
) -> DevStatus:
    needed = ("controlplane.devtools.otlp_receiver", "controlplane.devtools.seed", "controlplane.migrate")
    _require_runtime(needed + (("controlplane.api", "controlplane.worker") if with_app else ()))
    state["mode"] = "native"
    state.setdefault("started_at", _now())
    services: dict[str, dict[str, Any]] = state["services"]
    actions: dict[str, str] = {}

    # 1. what still runs from an earlier `up`
    keep: dict[str, int] = {}
    for name in INFRA:
        entry = services.get(name)
        if entry is None:
            continue
        r = ls.Running.from_dict(entry)
        healthy = ls.is_healthy(r)
        if not healthy and ls.survivors(r):
            progress(f"{name}: recorded pid {r.pid} runs but is not healthy yet, waiting for it")
            with contextlib.suppress(ExternalToolError):
                ls.wait_healthy(r, 10)
                healthy = True
        if healthy:
            keep[name] = r.port
            if name == "temporal" and r.extra.get("ui_port"):
                keep["temporal_ui"] = int(r.extra["ui_port"])
            continue
        progress(f"{name}: recorded pid {r.pid} is not healthy, restarting it")
        ls.stop(r)
        services.pop(name)
    infra_kept = set(INFRA) <= set(keep)
    for name in APP:  # the app restarts when any dependency restarts: it must see the new ports and secrets
        entry = services.get(name)
        if entry is None:
            continue
        r = ls.Running.from_dict(entry)
        if infra_kept and ls.is_healthy(r):
            if r.port:
                keep[name] = r.port
            continue
        if ls.survivors(r):
            progress(f"{name}: stopping pid {r.pid} ({'a dependency restarts' if not infra_kept else 'not healthy'})")
        ls.stop(r)
        services.pop(name)
    ports, notes = assign_ports(offset=offset, overrides=overrides, keep=keep)
    for note in notes:
        progress(note)
    state["ports"] = ports
    root_token = state.get("root_token") or f"dev-{secrets.token_urlsafe(18)}"
    state["root_token"] = root_token

    # 2. the infrastructure, in parallel
    launchers: dict[str, Callable[[], ls.Running]] = {
        "postgres": lambda: ls.start_postgres(directory, ports["postgres"], wait=None),
        "openbao": lambda: ls.start_openbao(directory, ports["openbao"], root_token, wait=None),
        "s3": lambda: ls.start_moto_s3(directory, ports["s3"], wait=None),
        "otlp": lambda: ls.start_otlp_receiver(directory, ports["otlp"], wait=None),
        "temporal": lambda: ls.start_temporal(directory, ports["temporal"], ports["temporal_ui"], wait=None),
    }
    started: list[ls.Running] = []
    try:
        for name in INFRA:
            if name in keep:
                actions[name] = "reused"
                progress(f"{name}: reusing pid {services[name]['pid']} on {HOST}:{keep[name]}")
                continue
            progress(f"{name}: starting on {HOST}:{ports[name]}")
            r = launchers[name]()
            services[name] = record(r)
            started.append(r)
            actions[name] = "started"
        save_state(directory, state)
        for r in started:
            t0 = time.monotonic()
            ls.wait_healthy(r, START_TIMEOUT_S)
            progress(f"{r.name}: healthy ({time.monotonic() - t0:.1f} s)")
    finally:
        save_state(directory, state)

    # 3. seed and migrate (both idempotent, every time: a restarted OpenBao has lost its secrets)
    admin_url = services["postgres"]["extra"]["admin_url"]
    _seed(directory, ports, root_token, admin_url, progress)
    _step(directory, "migrate", ports, root_token, root, progress)

    # 4. the api and the worker
    if with_app:
        try:
            for name in APP:
                if name in services:
                    actions[name] = "reused"
                    progress(f"{name}: reusing pid {services[name]['pid']}")
                    continue
                r = _start_app(name, directory, root, ports, root_token)
                services[name] = record(r)
                actions[name] = "started"
                save_state(directory, state)
                progress(f"{name}: started (pid {r.pid})")
            api = ls.Running.from_dict(services["api"])
            t0 = time.monotonic()
            ls.wait_healthy(api, READY_TIMEOUT_S)
            progress(f"api: ready at {api.url}/readyz ({time.monotonic() - t0:.1f} s)")
            worker = ls.Running.from_dict(services["worker"])
            if not ls.is_healthy(worker):
                ls.wait_healthy(worker, 0)  # raises with the worker's log tail
        finally:
            save_state(directory, state)
    return _native_status(directory, state, actions=actions, notes=notes)


def _start_app(name: str, directory: Path, root: Path, ports: Mapping[str, int], root_token: str) -> ls.Running:
    env = process_env(env_contract(ports, root_token, service=name))
    argv = [sys.executable, "-m", f"controlplane.{name}"]
    if name == "api":
        api = f"http://{HOST}:{ports['api']}"
        r = ls.start_process(name, argv, env, directory, ports["api"], f"{api}/livez", wait=START_TIMEOUT_S, cwd=root)
        # status reports the api healthy when it is ready (every dependency answers)
        return replace(r, extra={**r.extra, "health_url": f"{api}/readyz"})
    return ls.start_process(name, argv, env, directory, 0, None, wait=START_TIMEOUT_S, cwd=root)


def _seed(directory: Path, ports: Mapping[str, int], root_token: str, admin_url: str, progress: Progress) -> None:
    """The runtime's dev seed (the one compose runs too): DB role + database with a password kept in OpenBao,
    S3 keys in OpenBao, the evidence bucket. Idempotent: secrets already in OpenBao are kept."""
    _step(directory, "seed", ports, root_token, directory, progress, extra_env={"CONTROLPLANE_DB_ADMIN_URL": admin_url})


def _step(
    directory: Path,
    name: str,
    ports: Mapping[str, int],
    root_token: str,
    cwd: Path,
    progress: Progress,
    *,
    extra_env: Mapping[str, str] | None = None,
) -> None:
    """Run `python -m controlplane.<name>` once with the contract; its output goes to <dev>/<name>.log."""
    module = "controlplane.devtools.seed" if name == "seed" else f"controlplane.{name}"
    env = process_env({**env_contract(ports, root_token, service=name), **(extra_env or {})})
    log = directory / f"{name}.log"
    t0 = time.monotonic()
    _append(log, f"--- {_now()} {module}")
    try:
        done = process.run([sys.executable, "-m", module], env=env, cwd=cwd)
    except CommandError as exc:
        _append(log, exc.stderr_tail)
        raise ExternalToolError(
            f"{name} failed: python -m {module} exited with {exc.returncode}",
            details=exc.details[-ls.LOG_TAIL_LINES :],
            hint=f"full log: {log}",
        ) from None
    _append(log, "\n".join(filter(None, [done.stdout, done.stderr])))
    progress(f"{name}: done ({time.monotonic() - t0:.1f} s)")


# --- status ------------------------------------------------------------------------------------------------------


def status(work_dir: Path, root: Path) -> DevStatus:
    directory = dev_dir(work_dir)
    state = load_state(directory)
    if state.get("mode") == "docker":
        return _docker_status(directory, root, state)
    if not state["services"]:
        return DevStatus(mode="none", work_dir=str(directory))
    return _native_status(directory, state)


def _native_status(
    directory: Path,
    state: Mapping[str, Any],
    *,
    actions: Mapping[str, str] | None = None,
    notes: list[str] | None = None,
) -> DevStatus:
    items = []
    for name in SERVICES:
        entry = state["services"].get(name)
        if entry is None:
            continue
        r = ls.Running.from_dict(entry)
        if ls.is_healthy(r):
            health: Health = "healthy"
        else:
            health = "unhealthy" if ls.survivors(r) else "stopped"
        items.append(
            ServiceStatus(
                name=name,
                health=health,
                pid=r.pid if health != "stopped" else None,
                address=r.address if r.port else None,
                url=_service_url(r),
                log=str(r.log),
                started_by_us=bool(entry.get("started_by_us", True)),
                action=(actions or {}).get(name),
                details=public_details(r),
            )
        )
    return DevStatus(
        mode="native",
        work_dir=str(directory),
        services=items,
        ports=dict(state.get("ports", {})),
        started_at=state.get("started_at"),
        notes=list(notes or []),
    )


def _service_url(r: ls.Running) -> str | None:
    return {
        "postgres": f"postgresql://{r.host}:{r.port}/{DB_NAME}",
        "temporal": r.extra.get("ui_url"),
        "openbao": r.extra.get("addr"),
        "s3": r.extra.get("endpoint_url"),
        "otlp": f"{r.url}/traces",
        "api": f"{r.url}/docs",
    }.get(r.name, r.url if r.port else None)


PUBLIC_DETAILS = ("ui_url", "http_port", "out", "endpoint", "endpoint_url", "addr", "data_dir", "health_url")


def public_details(r: ls.Running) -> dict[str, str]:
    """What status may show of a service's extra: never a token, password or key."""
    return {k: v for k, v in r.extra.items() if k in PUBLIC_DETAILS}


# --- down --------------------------------------------------------------------------------------------------------


def down(work_dir: Path, root: Path, *, purge: bool = False, progress: Progress = lambda _m: None) -> DownResult:
    """Stop what `up` started (and only that), newest first; verify no process of it survives."""
    directory = dev_dir(work_dir)
    if not directory.is_dir():
        return DownResult(mode="none")
    with _locked(directory):
        state = load_state(directory)
        if state.get("mode") == "docker":
            return _docker_down(directory, root, state, purge, progress)
        result = DownResult(mode="native" if state["services"] else "none")
        services: dict[str, dict[str, Any]] = state["services"]
        left: dict[str, list[int]] = {}
        order = [n for n in reversed(SERVICES) if n in services] + [n for n in services if n not in SERVICES]
        for name in order:
            entry = services[name]
            r = ls.Running.from_dict(entry)
            if not entry.get("started_by_us", True):
                continue
            was_running = bool(ls.survivors(r))
            if was_running:
                progress(f"{name}: stopping pid {r.pid}")
            rest = ls.stop(r)
            if rest:
                left[name] = rest
                continue
            (result.stopped if was_running else result.already_stopped).append(name)
            services.pop(name)
        if left:
            save_state(directory, state)
            raise ExternalToolError(
                "some processes did not stop",
                details=[f"{n}: pids {', '.join(map(str, pids))}" for n, pids in left.items()],
                hint="run `infractl dev down` again, or kill them by pid",
            )
        if purge:
            result.purged = _purge(directory, state)
        state = {**empty_state(), "root_token": state.get("root_token")} if not purge else empty_state()
        save_state(directory, state)
        return result


def _purge(directory: Path, state: Mapping[str, Any]) -> list[str]:
    """Delete the data of a stopped native stack: PostgreSQL's cluster, Temporal's SQLite file, the traces."""
    purged = []
    pg = ls.Running(name="postgres", pid=0, host=HOST, port=0, log=directory / "postgres.log")
    link = directory / "postgres-data"
    data = link.resolve() if link.exists() else None
    if data is not None and (data / "PG_VERSION").is_file():
        ls.remove_postgres_data(replace(pg, extra={"data_dir": str(data)}))
        with contextlib.suppress(FileNotFoundError):
            if link.is_symlink():
                link.unlink()
        purged.append("postgres")
    for name, names in (
        ("temporal", ("temporal.db", "temporal.db-wal", "temporal.db-shm")),
        ("otlp", ("traces.jsonl",)),
    ):
        removed = False
        for f in names:
            with contextlib.suppress(FileNotFoundError):
                (directory / f).unlink()
                removed = True
        if removed:
            purged.append(name)
    return purged


# --- env ---------------------------------------------------------------------------------------------------------


def env(work_dir: Path, *, show_secrets: bool = False, service: str | None = None) -> EnvContract:
    """The environment contract of the running native stack, secrets masked unless show_secrets."""
    directory = dev_dir(work_dir)
    state = load_state(directory)
    if state.get("mode") == "docker":
        raise UsageError("the dev stack runs in Docker: its contract is in compose.yaml")
    if not state["services"] or not state.get("root_token"):
        raise UsageError("the dev stack is not running", hint="start it with `infractl dev up`")
    contract = env_contract(state["ports"], state["root_token"], service=service)
    shown, masked = mask(contract, show_secrets=show_secrets)
    return EnvContract(mode="native", variables=shown, masked=masked)


# --- logs --------------------------------------------------------------------------------------------------------


def log_files(work_dir: Path, service: str | None = None) -> dict[str, Path]:
    """The log file of each service (and of the seed and migrate steps) of the native stack."""
    directory = dev_dir(work_dir)
    names = SERVICES + STEP_LOGS
    if service is not None and service not in names:
        raise UsageError(f"unknown service {service!r}", hint=f"one of {', '.join(names)}")
    state = load_state(directory)
    files = {}
    for name in names if service is None else (service,):
        entry = state["services"].get(name)
        path = Path(entry["log"]) if entry else directory / f"{name}.log"
        if path.is_file() or service is not None:
            files[name] = path
    return files


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def plain(line: str) -> str:
    """A log line without terminal colour codes (moto colours its access log)."""
    return _ANSI.sub("", line)


def tail(files: Mapping[str, Path], lines: int) -> Iterator[tuple[str, str]]:
    for name, path in files.items():
        for line in ls.tail_file(path, lines):
            yield name, plain(line)


def follow(files: Mapping[str, Path], *, poll_s: float = 0.3) -> Iterator[tuple[str, str]]:
    """New lines appended to files, forever (the caller stops on Ctrl-C)."""
    offsets = {name: (path.stat().st_size if path.exists() else 0) for name, path in files.items()}
    partial = {name: "" for name in files}
    while True:
        quiet = True
        for name, path in files.items():
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            if size < offsets[name]:  # truncated or replaced
                offsets[name] = 0
            if size == offsets[name]:
                continue
            with open(path, "rb") as fh:
                fh.seek(offsets[name])
                chunk = fh.read()
            offsets[name] += len(chunk)
            text = partial[name] + chunk.decode("utf-8", errors="replace")
            *complete, partial[name] = text.split("\n")
            for line in complete:
                quiet = False
                yield name, plain(line)
        if quiet:
            time.sleep(poll_s)


def docker_logs_argv(root: Path, service: str | None, lines: int, follow_: bool) -> list[str]:
    argv = [*_compose(root), "logs", "--no-color", "--tail", str(lines)]
    if follow_:
        argv.append("--follow")
    if service:
        argv.append(service)
    return argv


def mode_of(work_dir: Path) -> str:
    return load_state(dev_dir(work_dir)).get("mode") or "none"


# --- Docker mode -------------------------------------------------------------------------------------------------


def compose_file(root: Path) -> Path:
    path = root / "compose.yaml"
    if not path.is_file():
        raise ConfigError(f"{path} not found", hint="Docker mode needs the project's compose.yaml; or use --no-docker")
    return path


def compose_base_argv(command: list[str], root: Path) -> list[str]:
    """The compose invocation every Docker-mode call shares (pure: unit-tested)."""
    return [*command, "-f", str(root / "compose.yaml"), "--project-directory", str(root)]


def _compose(root: Path) -> list[str]:
    compose_file(root)
    return compose_base_argv(ls.compose_command(), root)


def _docker_up(directory: Path, root: Path, state: dict[str, Any], progress: Progress) -> DevStatus:
    argv = [*_compose(root), "up", "-d", "--wait"]
    progress("docker compose up -d --wait (builds the images on first use)")
    state.update({"mode": "docker", "started_at": state.get("started_at") or _now(), "compose_file": str(root)})
    save_state(directory, state)
    try:
        process.run(argv, cwd=root, on_line=progress)
    except CommandError as exc:
        raise ExternalToolError(
            f"docker compose up failed (exit {exc.returncode})",
            details=exc.details[-ls.LOG_TAIL_LINES :],
            hint="see `infractl dev logs SERVICE`; stop with `infractl dev down`",
        ) from None
    return _docker_status(directory, root, state)


def _docker_status(directory: Path, root: Path, state: Mapping[str, Any]) -> DevStatus:
    try:
        done = process.run([*_compose(root), "ps", "--all", "--format", "json"], cwd=root)
    except CommandError as exc:
        raise ExternalToolError("docker compose ps failed", details=exc.details) from None
    return DevStatus(
        mode="docker",
        work_dir=str(directory),
        services=parse_compose_ps(done.stdout),
        started_at=state.get("started_at"),
    )


def parse_compose_ps(text: str) -> list[ServiceStatus]:
    """`compose ps --format json`: a JSON array (older v2) or one object per line (v2.21+)."""
    text = text.strip()
    if not text:
        return []
    rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line]
    items = []
    for row in rows:
        state = str(row.get("State", "")).lower()
        health_text = str(row.get("Health", "")).lower()
        if state == "exited" and row.get("ExitCode") == 0:
            health: Health = "completed"
        elif state != "running":
            health = "stopped"
        elif health_text in ("", "healthy"):
            health = "healthy"
        else:
            health = "unhealthy"
        ports = [p for p in row.get("Publishers") or [] if p.get("PublishedPort")]
        address = f"{HOST}:{ports[0]['PublishedPort']}" if ports else None
        items.append(
            ServiceStatus(
                name=str(row.get("Service") or row.get("Name")),
                health=health,
                address=address,
                details={"container": str(row.get("Name", "")), "state": state, "status": str(row.get("Status", ""))},
            )
        )
    return items


def _docker_down(directory: Path, root: Path, state: Mapping[str, Any], purge: bool, progress: Progress) -> DownResult:
    argv = [*_compose(root), "down", "--remove-orphans"]
    if purge:
        argv.append("--volumes")
    progress("docker compose down")
    before = [s.name for s in _docker_status(directory, root, state).services if s.health != "stopped"]
    try:
        process.run(argv, cwd=root, on_line=progress)
    except CommandError as exc:
        raise ExternalToolError(f"docker compose down failed (exit {exc.returncode})", details=exc.details) from None
    save_state(directory, empty_state())
    return DownResult(mode="docker", stopped=before, purged=["volumes"] if purge else [])


# --- helpers -----------------------------------------------------------------------------------------------------


def _recorded_alive(state: Mapping[str, Any]) -> bool:
    if state.get("mode") == "docker":
        return True
    return any(ls.survivors(ls.Running.from_dict(e)) for e in state.get("services", {}).values())


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _require_runtime(modules: tuple[str, ...]) -> None:
    missing = [m for m in modules if not _module_exists(m)]
    if missing:
        raise ExternalToolError(
            f"the control plane runtime is not installed: {', '.join(missing)} not found",
            hint="install the project with its runtime and devtools extras (make install),"
            " or start only the dependencies with --no-app",
        )


def _private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    # The state and the logs (which may hold the dev root token) are 0600; the folder is 0711 so that the `postgres`
    # user (when infractl runs as root) can reach its data folder inside without listing the rest.
    os.chmod(directory, 0o711)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One `up`/`down` at a time per work dir."""
    import fcntl

    with open(directory / "lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                "another `infractl dev up/down` is running on this work folder", hint="wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _append(path: Path, text: str) -> None:
    if not text:
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(text.rstrip("\n") + "\n")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
