"""Progressive delivery settings of an environment (environments/<env>.yaml `delivery:`, docs/delivery.md). Part of
models/environment.py, which re-exports these names. What judges a step is never here: the thresholds come from the
SLO definitions (slo/*.yaml and the env's `slo.objectives`); this section says how traffic moves and how often the
analysis samples."""

from __future__ import annotations

import itertools
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from infractl.models.slo import bounded_duration

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


_duration = bounded_duration  # one duration rule for the env model (models/slo.py)


class Analysis(_Strict):
    """How a step is judged: every `interval`, each SLO of the analysed service is sampled over the last `window`
    for the canary only; a step passes after `samples` passing samples in a row; one breaching sample rolls back."""

    interval: Annotated[str, _duration(1, 600)] = "30s"  # between two samples
    window: Annotated[str, _duration(2, 3600)] = "1m"  # the PromQL window of a sample ({{window}} in the SLIs)
    samples: int = Field(3, ge=1, le=100)  # passing samples a step needs
    min_requests: int = Field(20, ge=1)  # fewer canary requests in the window: the sample is inconclusive
    max_inconclusive: int = Field(10, ge=0)  # inconclusive samples in a row before the rollout fails (no traffic)
    service: str = "api"  # the SLOs judged: every SLO of this service (slo/<area>.yaml `service:`)
    # Kubernetes: the Prometheus label naming the pods' template hash (Argo Rollouts' canary selector)
    canary_label: Annotated[str, Field(pattern=LABEL_NAME.pattern)] = "rollouts_pod_template_hash"


class Delivery(_Strict):
    """How a release reaches the API's traffic (docs/delivery.md)."""

    progressive: bool = False  # Kubernetes: render and deploy the API as an Argo Rollout with an AnalysisTemplate
    strategy: Literal["canary", "blue-green"] = "canary"
    steps: list[Annotated[int, Field(ge=1, le=100)]] = Field(default_factory=lambda: [10, 25, 50, 100])
    analysis: Analysis = Field(default_factory=Analysis)
    # the local rollout (the dev stack) only: requests per second infractl itself sends through the endpoint while it
    # runs, so that a step has canary traffic to judge on an idle stack (0: only the traffic others send)
    load_rps: int = Field(0, ge=0, le=500)
    # blue-green: how long the new version serves 100 % under analysis before the old one is stopped
    bake: Annotated[str, _duration(1, 3600)] = "1m"

    @field_validator("steps")
    @classmethod
    def _increasing(cls, steps: list[int]) -> list[int]:
        if not steps:
            raise ValueError("give at least one step, e.g. [10, 25, 50, 100]")
        if any(b <= a for a, b in itertools.pairwise(steps)):
            raise ValueError(f"{steps}: weights must increase, e.g. [10, 25, 50, 100]")
        if steps[-1] != 100:
            raise ValueError(f"{steps}: the last step must be 100 (the canary takes all traffic before promotion)")
        return steps


def steps_text(steps: list[int]) -> str:
    return ",".join(str(s) for s in steps)
