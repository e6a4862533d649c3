"""The API's fault switch, for dev and test stacks only (docs/runtime.md#fault-switch): it makes the API fail on
purpose so that SLO alerts can be seen firing on a live stack.

CONTROLPLANE_FAULTS_FILE=<path> (unset = the switch is not installed; production never sets it). The file is JSON,
read again whenever it changes (mtime, size, or a new file renamed over it):

    {"error_rate": 0.0..1.0, "latency_ms": N, "routes": ["/v1/..."]}     (every key optional; routes: all)

A missing file is no fault. Probes (/livez, /readyz) are never touched. Of the other requests (of `routes`: a route
template such as `/v1/tenants/{tenant}/runs`, or a path prefix), each waits `latency_ms` first, then `error_rate` of
them are answered 503 `application/problem+json` (`fault injected`) without reaching the app. The middleware sits
inside the request metrics, so an injected 503 is counted, and burns the availability SLO, like a real one.
Every change of the configuration is logged at WARNING.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute

from controlplane.metrics import PROBES, route_template

log = logging.getLogger(__name__)

DETAIL = "fault injected"
_BODY = json.dumps({"title": "Service Unavailable", "status": 503, "detail": DETAIL}).encode()


@dataclass(frozen=True)
class FaultConfig:
    error_rate: float = 0.0
    latency_ms: int = 0
    routes: tuple[str, ...] = ()  # empty: every non-probe route

    @property
    def active(self) -> bool:
        return self.error_rate > 0 or self.latency_ms > 0

    def applies(self, route: str, path: str) -> bool:
        if route in PROBES or path in PROBES:
            return False
        return not self.routes or any(route == r or path.startswith(r) for r in self.routes)

    def describe(self) -> str:
        where = ", ".join(self.routes) if self.routes else "every route"
        return f"error_rate={self.error_rate} latency_ms={self.latency_ms} on {where}"


NO_FAULT = FaultConfig()


def parse(data: Any) -> FaultConfig:
    """A FaultConfig from the file's JSON; ValueError naming what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    unknown = set(data) - {"error_rate", "latency_ms", "routes"}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    rate = data.get("error_rate", 0.0)
    latency = data.get("latency_ms", 0)
    routes = data.get("routes") or []
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise ValueError("error_rate must be a number from 0.0 to 1.0")
    if isinstance(latency, bool) or not isinstance(latency, int | float) or not 0 <= latency <= 600_000:
        raise ValueError("latency_ms must be a number of milliseconds from 0 to 600000")
    if not isinstance(routes, list) or not all(isinstance(r, str) and r.startswith("/") for r in routes):
        raise ValueError("routes must be a list of paths or route templates starting with /")
    return FaultConfig(float(rate), int(latency), tuple(routes))


class FaultSource:
    """The file's configuration, read again when it changes: its inode, mtime or size (a file replaced by a rename,
    as editors and `mv` do, is a new inode even within the clock's granularity), or its presence."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None  # (inode, mtime_ns, size) of what was read; None: no file
        self._config = NO_FAULT
        self._read_once = False

    def current(self) -> FaultConfig:
        try:
            st = os.stat(self.path)
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if self._read_once and stamp == self._stamp:
            return self._config
        self._stamp, self._read_once = stamp, True
        self._change(self._load() if stamp is not None else NO_FAULT)
        return self._config

    def _load(self) -> FaultConfig:
        try:
            return parse(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return NO_FAULT
        except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
            log.warning("fault switch: %s is not a valid fault file (%s): no fault injected", self.path, exc)
            return NO_FAULT

    def _change(self, config: FaultConfig) -> None:
        if config == self._config:
            return
        self._config = config
        if config.active:
            log.warning("fault switch: injecting faults from %s: %s", self.path, config.describe())
        else:
            log.warning("fault switch: no fault injected (%s)", self.path)


class FaultSwitch:
    """Pure ASGI middleware: see the module docstring."""

    def __init__(
        self, app: Any, path: Path, routes: Sequence[BaseRoute] = (), *, rng: random.Random | None = None
    ) -> None:
        self.app = app
        self.source = FaultSource(path)
        self.routes = routes  # the app's routes: a request's template is known before routing
        self.rng = rng or random.Random()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        config = self.source.current()
        if not config.active or not config.applies(route_template(scope, self.routes), scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        if config.error_rate and self.rng.random() < config.error_rate:
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(_BODY)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _BODY})
            return
        await self.app(scope, receive, send)
