"""The local development stack: the control plane's dependencies, the API and the worker on this machine. This is
what `infractl dev` (cli/dev.py) calls: up, status, down, env and logs, each dispatching to the stack's mode.

Native mode (no Docker engine): every service is a process on 127.0.0.1 (native.py), recorded in
<work_dir>/dev/state.json (statefile.py). Docker mode: `docker compose` with the project's compose.yaml (compose.py).
Both give the api and the worker the same environment contract (contract.py, docs/dev.md).

Prometheus, Alertmanager and the alert receiver run beside them (monitoring.py); `fault` sets the api's fault switch.

Services here never print: they report progress through a callback and return the models of infractl.models.dev.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from infractl.adapters import localservices as ls
from infractl.errors import ExternalToolError, UsageError
from infractl.models.dev import DevStatus, DownResult, EnvContract, FaultSwitch, Progress
from infractl.services.dev import compose, monitoring, native
from infractl.services.dev.compose import stream_logs as docker_logs
from infractl.services.dev.contract import env_contract, mask, parse_port_overrides
from infractl.services.dev.logs import follow, log_files, tail
from infractl.services.dev.statefile import dev_dir, empty_state, load_state, locked, private_dir, recorded_alive

# What cli/dev.py calls. The names imported above from contract, compose and logs are part of it, so that the CLI
# finds every entry point here; each is defined (and documented) in its own module.
__all__ = [
    "choose_mode",
    "docker_logs",
    "down",
    "env",
    "fault",
    "follow",
    "log_files",
    "mode_of",
    "parse_port_overrides",
    "status",
    "tail",
    "up",
]


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


def mode_of(work_dir: Path) -> str:
    """The mode the recorded stack runs in: native, docker, or none."""
    return load_state(dev_dir(work_dir)).get("mode") or "none"


def up(
    work_dir: Path,
    root: Path,
    *,
    docker: bool | None = None,
    port_offset: int = 0,
    port_overrides: Mapping[str, int] | None = None,
    with_app: bool = True,
    progress: Progress = lambda _m: None,
    rules: monitoring.RulesSource | None = None,
) -> DevStatus:
    """Start (or reuse) the dev stack. Idempotent: a healthy service recorded by an earlier `up` is reused.

    rules writes the Prometheus rule files (the SLO rules of the dev env) into the folder it is given and returns
    their paths; None: Prometheus loads no rule file. A reused Prometheus re-reads changed rules (reload)."""
    directory = dev_dir(work_dir)
    private_dir(directory)
    with locked(directory):
        state = load_state(directory)
        recorded_mode = state.get("mode") if recorded_alive(state) else None
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
            return compose.up(directory, root, state, progress, rules)
        return native.up(directory, root, state, port_offset, dict(port_overrides or {}), with_app, progress, rules)


def status(work_dir: Path, root: Path) -> DevStatus:
    """The health of each service of the recorded stack (mode "none" when nothing is recorded)."""
    directory = dev_dir(work_dir)
    state = load_state(directory)
    if state.get("mode") == "docker":
        return compose.status(directory, root, state)
    if not state["services"]:
        return DevStatus(mode="none", work_dir=str(directory))
    return native.status(directory, state)


def down(work_dir: Path, root: Path, *, purge: bool = False, progress: Progress = lambda _m: None) -> DownResult:
    """Stop what `up` started (and only that), newest first; verify no process of it survives."""
    directory = dev_dir(work_dir)
    if not directory.is_dir():
        return DownResult(mode="none")
    with locked(directory):
        state = load_state(directory)
        if state.get("mode") == "docker":
            return compose.down(directory, root, state, purge, progress)
        return native.down(directory, state, purge, progress)


def env(work_dir: Path, *, show_secrets: bool = False, service: str | None = None) -> EnvContract:
    """The environment contract of the running native stack, secrets masked unless show_secrets."""
    directory = dev_dir(work_dir)
    state = load_state(directory)
    if state.get("mode") == "docker":
        raise UsageError("the dev stack runs in Docker: its contract is in compose.yaml")
    if not state["services"] or not state.get("root_token"):
        raise UsageError("the dev stack is not running", hint="start it with `infractl dev up`")
    faults = monitoring.faults_file(directory)
    contract = env_contract(state["ports"], state["root_token"], service=service, faults_file=faults)
    shown, masked = mask(contract, show_secrets=show_secrets)
    return EnvContract(mode="native", variables=shown, masked=masked)


def fault(
    work_dir: Path,
    *,
    error_rate: float | None = None,
    latency_ms: int | None = None,
    routes: list[str] | None = None,
    clear: bool = False,
    canary: bool = False,
) -> FaultSwitch:
    """Set (or clear) the api's fault switch, <dev>/faults.json, which a native stack's api re-reads when it changes;
    with no argument, report it. canary: the switch of a rollout's canary (docs/delivery.md). Native mode only:
    compose's api has no fault switch."""
    directory = dev_dir(work_dir)
    private_dir(directory)
    if load_state(directory).get("mode") == "docker":
        raise UsageError(
            "the fault switch is for the native dev stack: compose's api does not read one",
            hint="run the stack natively: infractl dev down && infractl dev up --no-docker",
        )
    return monitoring.set_faults(
        directory, error_rate=error_rate, latency_ms=latency_ms, routes=routes, clear=clear, canary=canary
    )
