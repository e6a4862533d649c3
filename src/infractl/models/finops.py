"""The autoscaling strategy of one environment as numbers (services/render/autoscaling.py, docs/finops.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class ScalingRow(BaseModel):
    """One thing that scales, between min and max: an HPA (pods), a node group (nodes) or a database's storage (GiB,
    RDS storage autoscaling up to max)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["hpa", "node-group", "storage"]
    name: str
    min: int
    max: int
    target: str = ""  # what an HPA scales on ("cpu 70%"); "off" for an HPA that is not rendered


class AutoscalingPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    env: str
    rows: list[ScalingRow]

    def of(self, kind: str) -> dict[str, ScalingRow]:
        return {r.name: r for r in self.rows if r.kind == kind}
