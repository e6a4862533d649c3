"""The right-sizing settings of an environment (environments/<env>.yaml `rightsize:`, docs/finops.md#right-sizing).
Part of models/environment.py. `infractl cost rightsize ENV` measures utilisation over `lookback` in samples of
`period`, takes the `percentile` of each resource's samples and recommends the smallest size that keeps that peak at
or below 100 % - headroom_percent of its kind. The headroom is never below MIN_HEADROOM_PERCENT: the SLOs need spare
capacity for a burst, a failed-over replica or a rollout's extra pods."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from infractl.models.slo import bounded_duration, parse_duration

MIN_HEADROOM_PERCENT = 10  # the floor every env keeps: below it a p95 peak leaves nothing for the SLOs' bursts


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


_duration = bounded_duration  # one duration rule for the env model (models/slo.py)


Headroom = Annotated[float, Field(ge=MIN_HEADROOM_PERCENT, le=90)]


class RightsizeHeadroom(_Strict):
    """Spare capacity kept above the measured peak, in percent of the recommended size, per kind of resource."""

    database: Headroom = 30  # RDS: failover, vacuum and a checkpoint on top of the peak
    nodes: Headroom = 25  # EKS node groups: a node drained for an upgrade, the rollout's surge pods
    pods: Headroom = 20  # pod requests: the HPA scales at 70 % of the request anyway


class Rightsize(_Strict):
    lookback: Annotated[str, _duration(3_600, 90 * 86_400)] = "14d"  # the window measured, back from now
    period: Annotated[str, _duration(60, 86_400)] = "5m"  # one sample: CloudWatch's period, Prometheus' step
    percentile: float = Field(default=95, ge=50, le=100)  # of the samples; 100 is the maximum
    headroom_percent: RightsizeHeadroom = Field(default_factory=RightsizeHeadroom)
    min_samples: int = Field(default=12, ge=1)  # fewer samples: no recommendation at all
    # the env's Prometheus (pods); emulate mode uses the dev stack's, `--prometheus URL` overrides both
    prometheus_url: Annotated[str | None, Field(pattern=r"^https?://[^\s]+$")] = None

    @model_validator(mode="after")
    def _window(self) -> Rightsize:
        samples = parse_duration(self.lookback) // parse_duration(self.period)
        if samples < 2:
            raise ValueError(f"lookback {self.lookback} holds fewer than 2 periods of {self.period}")
        if samples > 10_000:  # a Prometheus range query answers at most 11,000 points
            raise ValueError(f"lookback {self.lookback} / period {self.period} is {samples} samples: at most 10000")
        if self.min_samples > samples:
            raise ValueError(f"min_samples {self.min_samples} exceeds the {samples} periods in the lookback")
        return self

    def seconds(self) -> tuple[int, int]:
        """(lookback, period) in seconds."""
        return parse_duration(self.lookback), parse_duration(self.period)
