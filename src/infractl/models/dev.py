"""Results of `infractl dev` (up, status, down, env, fault), and the progress callback its services report to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

Progress = Callable[[str], None]
Mode = Literal["native", "docker", "none"]
Health = Literal["healthy", "unhealthy", "stopped", "completed"]  # completed: a one-shot (compose seed, migrate)


class ServiceStatus(BaseModel):
    name: str
    health: Health
    pid: int | None = None
    address: str | None = None  # host:port of its main port
    url: str | None = None  # where a developer points a browser or client
    log: str | None = None
    started_by_us: bool = True
    action: str | None = None  # set by `up`: started | reused | reloaded (a reused one re-read its config)
    details: dict[str, str] = {}


class DevStatus(BaseModel):
    mode: Mode
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
    mode: Mode
    stopped: list[str] = []  # services stopped by this call
    already_stopped: list[str] = []  # recorded, but no longer running
    purged: list[str] = []  # data removed (--purge)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def nothing_to_do(self) -> bool:
        return not self.stopped and not self.purged


class EnvContract(BaseModel):
    mode: Mode
    variables: dict[str, str]
    masked: list[str] = []


class Faults(BaseModel):
    """The api's fault switch (the file CONTROLPLANE_FAULTS_FILE names): answer error_rate of the non-probe requests
    (of routes, when given) with 503, and add latency_ms to each."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(0, ge=0)
    routes: list[str] | None = None

    @property
    def active(self) -> bool:
        return self.error_rate > 0 or self.latency_ms > 0


class FaultSwitch(BaseModel):
    file: str
    faults: Faults | None = None  # None: no fault set (the file is absent)
    changed: bool = False
