"""The native dev stack under a rollout (docs/delivery.md#locally): one haproxy in front of two slots, `stable` (the
stack's api on its port) and `canary` (a second api on a port kept for canaries), whose weights change at run time
through haproxy's runtime API; the canary's metrics scraped by the stack's Prometheus with track="canary" (a file_sd
file Prometheus picks up by itself); each api's release label in its X-Controlplane-Release header.

What a rollout starts is recorded in the dev state under `rollout-*` names, so `dev status` shows it and `dev down`
stops it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infractl.adapters import files, haproxy
from infractl.adapters import localservices as ls
from infractl.adapters import prometheus as prom
from infractl.errors import ExternalToolError, UsageError
from infractl.services.dev import monitoring, native
from infractl.services.dev.contract import INFRA
from infractl.services.dev.statefile import UP_HINT, RecordedServices, dev_dir, load_state, locked

PROXY = "rollout-proxy"
CANARY = "rollout-canary"
STABLE_SERVER, CANARY_SERVER = "stable", "canary"
SCRAPE_WAIT_S = 30.0
UP_WAIT_S = 30.0


@dataclass
class Stack(RecordedServices):
    """The running native dev stack, as the rollout sees it."""

    work_dir: Path
    root: Path
    directory: Path
    state: dict[str, Any]

    @property
    def prometheus_url(self) -> str:
        return f"http://{ls.HOST}:{self.ports['prometheus']}"

    @property
    def rollout_dir(self) -> Path:
        path = self.directory / "rollout"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # --- the proxy -----------------------------------------------------------------------------------------------

    def proxy(self) -> ls.Running:
        """The rollout endpoint: reused while it runs in front of the stack's current api port, else (re)started
        with stable 100 %, canary 0."""
        api_port = self.ports["api"]
        if self.has(PROXY):
            r = self.service(PROXY)
            if ls.is_healthy(r) and int(r.extra.get("stable_port", 0)) == api_port:
                return r
            ls.stop(r)
            self.forget(PROXY)
        old = self.state.get("rollout_ports") or {}
        port = _reuse(old.get("endpoint"))
        canary_port = _reuse(old.get("canary"))
        servers = [(STABLE_SERVER, ls.HOST, api_port, 100), (CANARY_SERVER, ls.HOST, canary_port, 0)]
        r = haproxy.start_http(self.rollout_dir, port, servers, name=PROXY)
        r = ls.Running(
            r.name,
            r.pid,
            r.host,
            r.port,
            r.log,
            {**r.extra, "stable_port": str(api_port), "canary_port": str(canary_port)},
        )
        self.state["rollout_ports"] = {"endpoint": port, "canary": canary_port}
        self.record(r)
        return r

    def runtime(self) -> haproxy.Runtime:
        return haproxy.Runtime(Path(self.service(PROXY).extra["stats_socket"]))

    def wait_up(self, server: str, timeout: float = UP_WAIT_S) -> None:
        """Until haproxy's checks see `server` UP: weight on a server still marked down would send its share
        nowhere (haproxy answers 503 when no server is up)."""
        rt = self.runtime()
        deadline = time.monotonic() + timeout
        while (state := rt.status().get(server, "")) != "UP":
            if time.monotonic() > deadline:
                raise ExternalToolError(
                    f"haproxy does not see the {server} api up within {timeout:.0f} s (it says {state or 'nothing'})",
                    hint=f"look at {self.rollout_dir / (PROXY + '.log')} and infractl dev logs",
                )
            time.sleep(0.1)

    def endpoint_url(self) -> str:
        return f"http://{ls.HOST}:{self.service(PROXY).port}"

    # --- the apps -----------------------------------------------------------------------------------------------

    def start_canary(self, release: str, rollout_id: str) -> ls.Running:
        """The canary api (this checkout's code, labelled `release`) on the canary slot, its own fault switch and
        metrics port; returns once it is ready and Prometheus scrapes it."""
        self.stop_canary()
        port = int(self.service(PROXY).extra["canary_port"])
        if not ls.port_is_free(port):
            raise ExternalToolError(
                f"the canary port {port} is taken by another process",
                hint="infractl rollout abort dev, then run the rollout again (a new endpoint picks a free port)",
            )
        ports = {**self.ports, "api": port, "api_metrics": ls.free_port()}
        faults = monitoring.faults_file(self.directory, canary=True)
        r = native.start_app(
            "api",
            self.directory,
            self.root,
            ports,
            str(self.state["root_token"]),
            service=CANARY,
            faults=faults,
            release=release,
        )
        self.record(r)
        ls.wait_healthy(r, native.READY_TIMEOUT_S)
        target = f"{ls.HOST}:{r.extra['metrics_port']}"
        labels = {"track": "canary", "rollout": rollout_id}
        files.write_json(_targets_file(self.directory), [{"targets": [target], "labels": labels}])
        self.wait_scraped("canary", target)
        self.wait_up(CANARY_SERVER)
        return r

    def stop_canary(self) -> None:
        _targets_file(self.directory).unlink(missing_ok=True)
        if self.has(CANARY):
            ls.stop(self.service(CANARY))
            self.forget(CANARY)

    def restart_stable(self, release: str) -> ls.Running:
        """The stack's api again on its port, labelled `release` (the proxy sends it nothing meanwhile)."""
        old = self.service("api")
        ls.stop(old)
        r = native.start_app(
            "api", self.directory, self.root, self.ports, str(self.state["root_token"]), release=release
        )
        self.record(r)
        ls.wait_healthy(r, native.READY_TIMEOUT_S)
        self.wait_scraped("stable", f"{ls.HOST}:{r.extra['metrics_port']}")
        self.wait_up(STABLE_SERVER)
        return r

    def stable_release(self) -> str:
        return self.service("api").extra.get("release") or "workspace"

    def wait_scraped(self, track: str, target: str) -> None:
        """Until Prometheus has scraped target (up == 1): the analysis must not judge a canary it cannot see."""
        expr = f'max(up{{job="{monitoring.API_JOB}", track="{track}", instance="{target}"}})'
        deadline = time.monotonic() + SCRAPE_WAIT_S
        while prom.scalar(self.prometheus_url, expr) != 1.0:
            if time.monotonic() > deadline:
                raise ExternalToolError(
                    f"Prometheus does not scrape the {track} api at {target} within {SCRAPE_WAIT_S:.0f} s",
                    hint=f"look at {self.directory / 'prometheus.log'}",
                )
            time.sleep(0.2)


def _targets_file(directory: Path) -> Path:
    return monitoring.targets_dir(directory) / "rollout-canary.json"


def _reuse(port: Any) -> int:
    """The port used last time when it is free again (clients keep their endpoint), else a new one."""
    if isinstance(port, int) and ls.port_is_free(port):
        return port
    return ls.free_port()


def require_native(work_dir: Path) -> None:
    state = load_state(dev_dir(work_dir))
    if state.get("mode") == "docker":
        raise UsageError(
            "rollout runs on the native dev stack only: it starts the canary api beside the stable one and puts"
            " haproxy in front of both, which compose's fixed containers do not allow",
            hint="infractl dev down && infractl dev up --no-docker",
        )
    if state.get("mode") != "native" or not state.get("services"):
        raise UsageError("the dev stack is not running", hint=UP_HINT)


@contextlib.contextmanager
def opened(work_dir: Path, root: Path) -> Iterator[Stack]:
    """The running native dev stack, locked (one rollout, up or down at a time)."""
    require_native(work_dir)
    directory = dev_dir(work_dir)
    with locked(directory):
        stack = Stack(work_dir, root, directory, load_state(directory))
        down = [n for n in (*INFRA, "api") if not stack.has(n) or not ls.is_healthy(stack.service(n))]
        if down:
            raise UsageError(
                f"the dev stack is not healthy: {', '.join(down)}",
                hint="infractl dev status; `infractl dev up --no-docker` restarts what is down",
            )
        yield stack


def peek(work_dir: Path, root: Path) -> Stack | None:
    """The stack without the lock (status: read only); None when no native stack runs."""
    directory = dev_dir(work_dir)
    state = load_state(directory)
    if state.get("mode") != "native" or not state.get("services"):
        return None
    return Stack(work_dir, root, directory, state)
