"""The right-sizing rule (docs/finops.md#right-sizing), pure: from the samples of each dimension (percent of the
current capacity) to the size to recommend.

- peak = the percentile of a dimension's samples; demand = peak x the current capacity.
- target utilisation = 100 % - headroom; a size fits when demand / its capacity <= target in every measured
  dimension. A dimension with fewer than min_samples samples counts as unmeasured: never reduced.
- recommended = the smallest fitting size of the ladder (instances: the family's priced sizes; pods: requests in
  steps). Larger than now: an up-size; smaller: a down-size.
- confidence from the coverage of the lookback window (periods with a sample / periods): high >= 80 %, medium >= 50 %,
  low below. Low confidence, or SLOs burning error budget, hold every dimension at least at its current capacity: no
  down-size, an up-size still goes through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from infractl.models.rightsize import Action, Confidence, Measurement
from infractl.services.cost.ladder import Size, cpu_text, memory_text, pod_size, pod_step

HIGH_COVERAGE, MEDIUM_COVERAGE = 80.0, 50.0
EPSILON = 1e-9
DIMENSIONS = ("cpu", "memory")


@dataclass(frozen=True)
class Samples:
    """One dimension's samples over the lookback window, in percent of the current capacity."""

    dimension: str
    percents: list[float]
    expected: int
    source: str


@dataclass
class Decision:
    recommended: Size | None
    action: Action
    confidence: Confidence
    measurements: list[Measurement]
    reasons: list[str] = field(default_factory=list)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank (p=100: the maximum; p=50 of [1, 2, 3, 4]: 2)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(round(p / 100 * len(ordered), 9)))
    return ordered[min(rank, len(ordered)) - 1]


def confidence(coverage_percent: float) -> Confidence:
    if coverage_percent >= HIGH_COVERAGE:
        return "high"
    return "medium" if coverage_percent >= MEDIUM_COVERAGE else "low"


def _amount(dimension: str, value: float, pod: bool) -> str:
    if dimension == "memory":
        return memory_text(value)
    return cpu_text(value) if pod else f"{value:.2f} vCPU"


def decide(
    current: Size,
    ladder: list[Size] | None,
    samples: list[Samples],
    *,
    headroom_percent: float,
    percentile_p: float,
    min_samples: int,
    slo_burning: bool | None = False,
) -> Decision:
    """The recommendation for one resource. ladder None: a pod, whose requests move in steps (ladder.pod_step)."""
    target = (100 - headroom_percent) / 100
    pod = ladder is None
    measurements = [
        Measurement(
            dimension=s.dimension,  # type: ignore[arg-type]
            source=s.source,
            samples=len(s.percents),
            expected=s.expected,
            peak_percent=round(percentile(s.percents, percentile_p), 2) if s.percents else None,
        )
        for s in samples
    ]
    usable = {s.dimension: s for s in samples if len(s.percents) >= min_samples}
    if not usable:
        most = max((len(s.percents) for s in samples), default=0)
        return Decision(
            None,
            "insufficient-data",
            "low",
            measurements,
            [f"{most} sample(s) in the lookback window, fewer than min_samples ({min_samples}): no recommendation"],
        )
    coverage = min((100 * len(s.percents) / s.expected for s in usable.values() if s.expected), default=0.0)
    coverage = min(100.0, coverage)  # a period split across two samples must not read as more than full
    trust = confidence(coverage)
    reasons: list[str] = []
    hold = trust == "low" or bool(slo_burning)
    required: dict[str, float] = {}
    for dim in DIMENSIONS:
        have = current.capacity(dim)
        s = usable.get(dim)
        if s is None:
            required[dim] = have
            if any(x.dimension == dim for x in samples) or not pod:
                reasons.append(f"{dim} not measured enough: kept at least at {_amount(dim, have, pod)}")
            continue
        peak = percentile(s.percents, percentile_p)
        need = peak / 100 * have / target
        if pod:
            need = pod_step(dim, need)
        reasons.append(
            f"{dim} p{percentile_p:g} {peak:.1f} % of {_amount(dim, have, pod)}: needs {_amount(dim, need, pod)}"
            f" to stay at or below {target:.0%} ({headroom_percent:g} % headroom)"
        )
        required[dim] = max(need, have) if hold else need
    if trust == "low":
        reasons.append(f"low confidence (samples cover {coverage:.0f} % of the lookback window): no down-size")
    if slo_burning:
        reasons.append("the env's SLOs are burning error budget (a firing SLO alert): no down-size")
    if pod:
        recommended = pod_size(required["cpu"], required["memory"])
    else:
        fits = [
            size
            for size in ladder or []
            if all(size.capacity(d) + EPSILON >= required[d] * (1 - EPSILON) for d in DIMENSIONS)
        ]
        if fits:
            recommended = fits[0]
        else:
            recommended = (ladder or [current])[-1]
            reasons.append(f"even {recommended.name}, the family's largest priced size, leaves less than the headroom")
    return Decision(recommended, _action(current, recommended), trust, measurements, reasons)


def _action(current: Size, recommended: Size) -> Action:
    if recommended.name == current.name or (recommended.cpu == current.cpu and recommended.memory == current.memory):
        return "keep"
    if recommended.cpu <= current.cpu and recommended.memory <= current.memory:
        return "downsize"
    return "upsize"
