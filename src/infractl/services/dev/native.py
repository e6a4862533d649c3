"""Native mode of the dev stack: every service a process on 127.0.0.1, started through
infractl.adapters.localservices and recorded in the state file. `up` reuses what still runs healthy (reloading a
reused Prometheus or Alertmanager whose config changed, monitoring.py), then seeds and migrates
(python -m controlplane.devtools.seed / controlplane.migrate) and starts the api and the worker.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from infractl.adapters import localservices as ls
from infractl.adapters import postgres, process
from infractl.errors import CommandError, ExternalToolError
from infractl.models.dev import DevStatus, DownResult, Health, Progress, ServiceStatus
from infractl.services.dev import monitoring
from infractl.services.dev.contract import (
    APP,
    DB_NAME,
    HOST,
    INFRA,
    METRICS_PORTS,
    MONITORING,
    SERVICES,
    assign_ports,
    env_contract,
    process_env,
)
from infractl.services.dev.statefile import empty_state, now, record, save_state

START_TIMEOUT_S = 60.0
READY_TIMEOUT_S = 60.0


# --- up ----------------------------------------------------------------------------------------------------------


def up(
    directory: Path,
    root: Path,
    state: dict[str, Any],
    offset: int,
    overrides: dict[str, int],
    with_app: bool,
    progress: Progress,
    rules: monitoring.RulesSource | None = None,
) -> DevStatus:
    """Start (or reuse) every service on loopback; the caller holds the lock and chose native mode. rules writes the
    rule files Prometheus loads (none when None)."""
    needed = ("controlplane.devtools.otlp_receiver", "controlplane.devtools.alert_receiver")
    needed += ("controlplane.devtools.seed", "controlplane.migrate")
    _require_runtime(needed + (("controlplane.api", "controlplane.worker") if with_app else ()))
    monitoring.require_binaries()
    state["mode"] = "native"
    state.setdefault("started_at", now())
    services: dict[str, dict[str, Any]] = state["services"]
    actions: dict[str, str] = {}

    # 1. what still runs from an earlier `up`
    keep: dict[str, int] = {}
    for name in INFRA + MONITORING:
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
            if r.extra.get("metrics_port"):
                keep[METRICS_PORTS[name]] = int(r.extra["metrics_port"])
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
    changed = monitoring.prepare(directory, ports, rules)  # the config files of Prometheus and Alertmanager

    # 2. the infrastructure and the monitoring, in parallel
    launchers: dict[str, Callable[[], ls.Running]] = {
        "postgres": lambda: start_postgres(directory, ports["postgres"], wait=None),
        "openbao": lambda: ls.start_openbao(directory, ports["openbao"], root_token, wait=None),
        "s3": lambda: ls.start_moto_s3(directory, ports["s3"], wait=None),
        "otlp": lambda: ls.start_otlp_receiver(directory, ports["otlp"], wait=None),
        "temporal": lambda: ls.start_temporal(directory, ports["temporal"], ports["temporal_ui"], wait=None),
        "alerts": lambda: ls.start_alert_receiver(directory, ports["alerts"], wait=None),
        "alertmanager": lambda: ls.start_alertmanager(
            directory, ports["alertmanager"], monitoring.alertmanager_file(directory), wait=None
        ),
        "prometheus": lambda: ls.start_prometheus(
            directory, ports["prometheus"], monitoring.prometheus_file(directory), wait=None
        ),
    }
    started: list[ls.Running] = []
    try:
        for name in INFRA + MONITORING:
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
    reused = {n: services[n] for n in MONITORING if actions.get(n) == "reused"}
    for name in monitoring.reload_changed(directory, reused, changed):
        actions[name] = "reloaded"
        progress(f"{name}: its config or rule files changed, reloaded")
    fault = monitoring.read_faults(directory)
    if fault is not None:
        notes.append(f"a fault is set in {monitoring.faults_file(directory)}: {fault.model_dump(exclude_none=True)}")
        progress(f"note: {notes[-1]} (clear it with `infractl dev fault --clear`)")

    # 3. seed and migrate (both idempotent, every time: a restarted OpenBao has lost its secrets)
    admin_url = services["postgres"]["extra"]["admin_url"]
    _seed(directory, ports, root_token, admin_url, progress)
    # the whole chain, contract included: no older api/worker of this checkout needs a removed shape, and the
    # ledger (0005) comes after the contract 0004
    _step(directory, "migrate", ports, root_token, root, progress, args=("--phase", "contract"))

    # 4. the api and the worker
    if with_app:
        try:
            for name in APP:
                if name in services:
                    actions[name] = "reused"
                    progress(f"{name}: reusing pid {services[name]['pid']}")
                    continue
                r = start_app(name, directory, root, ports, root_token)
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
    return status(directory, state, actions=actions, notes=notes)


def start_postgres(directory: Path, port: int, *, wait: float | None) -> ls.Running:
    """The dev stack's PostgreSQL, archiving its WAL continuously (docs/drills.md): the one launcher of `up` and of
    the drills that restart it."""
    return ls.start_postgres(directory, port, wait=wait, settings=postgres.dev_archive_settings(directory))


def start_app(
    name: str,
    directory: Path,
    root: Path,
    ports: Mapping[str, int],
    root_token: str,
    *,
    service: str | None = None,
    faults: Path | None = None,
    release: str = "",
) -> ls.Running:
    """The api or the worker with the contract made of these ports (the drills pass other ports: a proxy, an
    endpoint); the one launcher of `up`, of the drills and of the rollout's canary. service: the name it is recorded
    under (default: name); faults: the api's fault switch file (default: the stack's); release: its release label
    (CONTROLPLANE_RELEASE, the X-Controlplane-Release header; docs/delivery.md)."""
    faults = faults or monitoring.faults_file(directory)
    env = process_env(env_contract(ports, root_token, service=name, faults_file=faults))
    if release:
        env["CONTROLPLANE_RELEASE"] = release
    argv = [sys.executable, "-m", f"controlplane.{name}"]
    extra = {"metrics_port": str(ports[METRICS_PORTS[name]])}
    if release:
        extra["release"] = release
    label = service or name
    if name == "api":
        api = f"http://{HOST}:{ports['api']}"
        extra["faults_file"] = str(faults)
        health = f"{api}/livez"
        r = ls.start_process(
            label, argv, env, directory, ports["api"], health, wait=START_TIMEOUT_S, extra=extra, cwd=root
        )
        # status reports the api healthy when it is ready (every dependency answers)
        return replace(r, extra={**r.extra, "health_url": f"{api}/readyz"})
    return ls.start_process(label, argv, env, directory, 0, None, wait=START_TIMEOUT_S, extra=extra, cwd=root)


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
    args: tuple[str, ...] = (),
) -> None:
    """Run `python -m controlplane.<name> ARGS` once with the contract; its output goes to <dev>/<name>.log."""
    module = "controlplane.devtools.seed" if name == "seed" else f"controlplane.{name}"
    env = process_env({**env_contract(ports, root_token, service=name), **(extra_env or {})})
    log = directory / f"{name}.log"
    t0 = time.monotonic()
    _append(log, f"--- {now()} {module}")
    try:
        done = process.run([sys.executable, "-m", module, *args], env=env, cwd=cwd)
    except CommandError as exc:
        _append(log, exc.stderr_tail)
        raise ExternalToolError(
            f"{name} failed: python -m {module} exited with {exc.returncode}",
            details=exc.details[-process.LOG_TAIL_LINES :],
            hint=f"full log: {log}",
        ) from None
    _append(log, "\n".join(filter(None, [done.stdout, done.stderr])))
    progress(f"{name}: done ({time.monotonic() - t0:.1f} s)")


# --- status ------------------------------------------------------------------------------------------------------


def status(
    directory: Path,
    state: Mapping[str, Any],
    *,
    actions: Mapping[str, str] | None = None,
    notes: list[str] | None = None,
) -> DevStatus:
    """The health of every recorded service; `up` passes what it did to each (actions) and its notes."""
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
        "prometheus": r.extra.get("url"),
        "alertmanager": r.extra.get("url"),
        "alerts": r.extra.get("alerts_url"),
    }.get(r.name, r.url if r.port else None)


PUBLIC_DETAILS = ("ui_url", "http_port", "out", "endpoint", "endpoint_url", "addr", "data_dir", "health_url")
PUBLIC_DETAILS += ("url", "config", "alerts_url", "metrics_port", "faults_file")


def public_details(r: ls.Running) -> dict[str, str]:
    """What status may show of a service's extra: never a token, password or key."""
    return {k: v for k, v in r.extra.items() if k in PUBLIC_DETAILS}


# --- down --------------------------------------------------------------------------------------------------------


def down(directory: Path, state: dict[str, Any], purge: bool, progress: Progress) -> DownResult:
    """Stop what `up` started (and only that), newest first; verify no process of it survives. The caller holds the
    lock."""
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
    """Delete the data of a stopped native stack: PostgreSQL's cluster and WAL archive, Temporal's SQLite file, the
    traces, the monitoring's data."""
    purged = []
    if postgres.remove_server_dir(directory, postgres.ARCHIVE_DIR):
        purged.append("wal-archive")
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
    return purged + monitoring.purge(directory)


# --- helpers -----------------------------------------------------------------------------------------------------


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


def _append(path: Path, text: str) -> None:
    if not text:
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(text.rstrip("\n") + "\n")
