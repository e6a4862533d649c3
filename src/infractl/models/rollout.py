"""Progressive delivery (docs/delivery.md): what judges a step (Criterion), one analysis sample, the rollout's state
(kept in <dev>/rollout/state.json while it runs and after) and what `infractl rollout` returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["pass", "breach", "inconclusive"]
Status = Literal["running", "interrupted", "succeeded", "rolled-back", "aborted", "failed"]
FINAL: tuple[str, ...] = ("succeeded", "rolled-back", "aborted", "failed")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Criterion(_Model):
    """One SLO as a canary check: `query` is the canary's error ratio over the analysis window, `requests_query` the
    canary's requests in it; the step breaches when the ratio exceeds max_error_ratio (1 - objective/100)."""

    slo: str
    objective: float  # percent
    max_error_ratio: float
    query: str
    requests_query: str


class Sample(_Model):
    at: datetime
    slo: str
    error_ratio: float | None
    requests: float | None
    max_error_ratio: float
    verdict: Verdict


class Step(_Model):
    """One traffic step: the canary's weight, its samples, how it ended."""

    weight: int  # the canary's percent (blue-green: 100 for the switch)
    started_at: datetime
    finished_at: datetime | None = None
    verdict: Literal["running", "passed", "breached", "inconclusive", "interrupted"] = "running"
    samples: list[Sample] = Field(default_factory=list)


class Rollback(_Model):
    """How the traffic went back to stable: the first breaching sample, when stable had 100 % again."""

    reason: str
    breach_at: datetime | None = None  # the analysis sample that breached (None: an abort, an error)
    first_bad_scrape_at: datetime | None = None  # the first scrape of the canary's errors (Prometheus' timestamp)
    stable_at: datetime  # the proxy confirmed stable 100 %, canary 0
    seconds: float | None = None  # first_bad_scrape_at (else breach_at) -> stable_at


class RolloutState(_Model):
    id: str  # the canary's scrape target carries rollout=<id>: the analysis judges this canary's series only
    env: str
    release: str  # what is rolled out (a release version: releases/<V>.json)
    digest: str | None = None  # its api image digest (locally the canary runs this checkout's code, labelled V)
    stable: str  # what served before (the stable track's release label)
    strategy: Literal["canary", "blue-green"]
    steps: list[int]
    status: Status = "running"
    reason: str | None = None
    runbook: str = "docs/runbooks/rollout-failed.md"
    pid: int | None = None  # the process driving the rollout (a dead pid with status running: interrupted)
    promoting: bool = False  # the stable api is being restarted as the release: traffic must stay on the canary
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    weights: dict[str, int] = Field(default_factory=dict)  # stable / canary, as the proxy last confirmed
    endpoint: str | None = None  # the proxy's URL clients use
    interval_s: float = 0
    history: list[Step] = Field(default_factory=list)
    rollback: Rollback | None = None
    files: list[str] = Field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.status in FINAL


class RolloutStatus(_Model):
    """`infractl rollout status`: the saved state, what the proxy says now, and what an operator can do."""

    state: RolloutState | None
    live_weights: dict[str, int] | None  # None: no proxy running
    canary_running: bool
    explanation: str
    next: list[str] = Field(default_factory=list)
