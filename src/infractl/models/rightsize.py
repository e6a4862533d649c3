"""What `infractl cost rightsize ENV` reports (docs/finops.md#right-sizing): per resource its measured utilisation,
the size it has and the size the rule recommends, the monthly prices of both from the catalog and the saving, and how
far to trust it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

Kind = Literal["database", "nodes", "pod"]
Action = Literal["downsize", "upsize", "keep", "insufficient-data"]
Confidence = Literal["high", "medium", "low"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measurement(_Model):
    """One dimension of one resource over the lookback window."""

    dimension: Literal["cpu", "memory"]
    source: str  # where it was read, e.g. "CloudWatch AWS/RDS CPUUtilization DBInstanceIdentifier=dev-control-plane"
    samples: int = 0  # periods with a value
    expected: int = 0  # periods in the lookback window
    peak_percent: float | None = None  # the percentile of the samples, in percent of the current capacity
    unit: str = "percent"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def coverage_percent(self) -> float:
        return min(100.0, round(100 * self.samples / self.expected, 1)) if self.expected else 0.0


class Recommendation(_Model):
    kind: Kind
    name: str  # the DB instance identifier, the node group name, the pod (api, worker)
    current: str  # db.r6g.xlarge; 1 x t3.large; cpu 100m / memory 256Mi
    recommended: str | None = None  # None: no recommendation (insufficient data)
    action: Action = "keep"
    confidence: Confidence = "low"
    measurements: list[Measurement] = Field(default_factory=list)
    current_monthly_usd: float | None = None  # None: the catalog cannot price it (unpriced, never 0)
    recommended_monthly_usd: float | None = None
    basis: str = ""  # how the prices were computed
    reasons: list[str] = Field(default_factory=list)  # why this action (headroom, confidence, SLO burn, ...)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def monthly_saving_usd(self) -> float | None:
        """Current minus recommended (negative for an up-size); None when either side is unpriced."""
        if self.current_monthly_usd is None or self.recommended_monthly_usd is None:
            return None
        return round(self.current_monthly_usd - self.recommended_monthly_usd, 2)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def priced(self) -> bool:
        return self.current_monthly_usd is not None and (
            self.recommended is None or self.recommended_monthly_usd is not None
        )


class RightsizeReport(_Model):
    env: str
    emulated: bool = False
    region: str
    catalog_version: str
    lookback: str
    period: str
    percentile: float
    headroom_percent: dict[str, float]
    start: str  # ISO 8601, UTC
    end: str
    prometheus_url: str | None = None
    slo_burning: bool | None = None  # None: not known (no Prometheus)
    recommendations: list[Recommendation] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def monthly_saving_usd(self) -> float:
        """What the recommended down- and up-sizes save together per month (priced ones only)."""
        return round(sum(r.monthly_saving_usd or 0.0 for r in self.recommendations if r.action != "keep"), 2)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unpriced(self) -> list[str]:
        return [f"{r.kind}/{r.name}" for r in self.recommendations if not r.priced]
