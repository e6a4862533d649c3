"""What the dev stack is made of, and the contract its api and worker get: the service names, their ports, and the
environment variables (docs/dev.md). Pure: nothing here starts or stops anything; assign_ports only asks whether a
port is free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from infractl.adapters import localservices as ls
from infractl.adapters import process
from infractl.errors import UsageError

HOST = ls.HOST
# Native default ports: the same as compose publishes (docs/dev.md). `temporal_ui` belongs to the temporal service.
DEFAULT_PORTS: dict[str, int] = {
    "postgres": 5432,
    "temporal": 7233,
    "temporal_ui": 8233,
    "openbao": 8200,
    "s3": 9000,
    "otlp": 4318,
    "prometheus": 9090,
    "alertmanager": 9093,
    "alerts": 9094,
    "api": 8080,
    "api_metrics": 9464,  # the api's GET /metrics (its own HTTP server)
    "worker_metrics": 9465,  # the worker's
}
INFRA = ("postgres", "openbao", "s3", "otlp", "temporal")  # start order (they start in parallel)
MONITORING = ("alerts", "alertmanager", "prometheus")  # start with the infrastructure; the app does not need them
APP = ("api", "worker")
SERVICES = INFRA + MONITORING + APP
METRICS_PORTS = {"api": "api_metrics", "worker": "worker_metrics"}  # an app service -> the port of its /metrics
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


def env_contract(
    ports: Mapping[str, int], root_token: str, *, service: str | None = None, faults_file: Path | None = None
) -> dict[str, str]:
    """The variables the api, the worker and the migration get in native mode (compose sets the same names).

    The api and the worker also get the address of their metrics server (CONTROLPLANE_METRICS_HOST/_PORT); the api
    gets the fault switch's file (CONTROLPLANE_FAULTS_FILE) when faults_file is given.
    """
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
    metrics = METRICS_PORTS.get(service or "")
    if metrics and metrics in ports:  # a state recorded before the metrics ports existed has none
        env["CONTROLPLANE_METRICS_HOST"] = HOST
        env["CONTROLPLANE_METRICS_PORT"] = str(ports[metrics])
    if service == "api" and faults_file is not None:
        env["CONTROLPLANE_FAULTS_FILE"] = str(faults_file)
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
