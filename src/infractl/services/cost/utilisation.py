"""Measured utilisation over the lookback window (docs/finops.md#right-sizing), as recommend.Samples: percent of the
current capacity per period.

- RDS (database): CloudWatch AWS/RDS by DBInstanceIdentifier: CPUUtilization (Maximum per period) and
  FreeableMemory (Minimum per period: used = capacity - freeable).
- EKS node groups (nodes): the node group's Auto Scaling groups (eks:DescribeNodegroup), then CloudWatch AWS/EC2
  CPUUtilization by AutoScalingGroupName (Maximum: the busiest node) and, where the CloudWatch agent publishes it with
  `append_dimensions: {AutoScalingGroupName}`, CWAgent mem_used_percent.
- Pods (api, worker): Prometheus, the highest replica per step: rate(process_cpu_seconds_total) and
  max_over_time(process_resident_memory_bytes), against the pod's requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from infractl.adapters import cloudwatch, prometheus
from infractl.adapters.aws import AwsTarget
from infractl.models.environment_rightsize import Rightsize
from infractl.models.slo import format_duration
from infractl.services.cost.ladder import Size
from infractl.services.cost.recommend import Samples

RDS, EC2, AGENT = "AWS/RDS", "AWS/EC2", "CWAgent"
POD_CPU = 'max(rate(process_cpu_seconds_total{{job="{job}"}}[{window}]))'
POD_MEMORY = 'max(max_over_time(process_resident_memory_bytes{{job="{job}"}}[{window}]))'
SLO_FIRING = 'count(ALERTS{{alertstate="firing",slo!="",env="{env}"}})'


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    period_s: int

    @property
    def expected(self) -> int:
        """The periods in the window: what full coverage is."""
        return int((self.end - self.start).total_seconds() // self.period_s)

    @property
    def period(self) -> str:
        return format_duration(self.period_s)


def window(settings: Rightsize, now: datetime) -> Window:
    """The lookback window ending at `now`, its start and end on period boundaries (CloudWatch aligns periods)."""
    lookback, period = settings.seconds()
    end = datetime.fromtimestamp(int(now.timestamp()) // period * period, now.tzinfo)
    return Window(end - timedelta(seconds=lookback), end, period)


def _percent(points: list[tuple[datetime, float]]) -> list[float]:
    return [min(100.0, max(0.0, v)) for _, v in points]


def database(target: AwsTarget, identifier: str, size: Size, w: Window) -> list[Samples]:
    dims = {"DBInstanceIdentifier": identifier}
    where = f"DBInstanceIdentifier={identifier}"
    cpu = cloudwatch.statistics(target, RDS, "CPUUtilization", dims, w.start, w.end, w.period_s, "Maximum")
    free = cloudwatch.statistics(target, RDS, "FreeableMemory", dims, w.start, w.end, w.period_s, "Minimum")
    used = [100 * (1 - v / size.memory) for _, v in free]
    return [
        Samples("cpu", _percent(cpu), w.expected, f"CloudWatch {RDS} CPUUtilization (Maximum) {where}"),
        Samples(
            "memory",
            [min(100.0, max(0.0, u)) for u in used],
            w.expected,
            f"CloudWatch {RDS} FreeableMemory (Minimum) {where}",
        ),
    ]


def node_group(target: AwsTarget, cluster: str, name: str, w: Window) -> tuple[list[Samples], str | None]:
    """The node group's samples, or ([], why) when EKS does not know it."""
    groups = cloudwatch.node_group_asgs(target, cluster, name)
    if groups is None:
        return [], f"node group {name} not found in EKS cluster {cluster} (not applied?)"
    if not groups:
        return [], f"node group {name} of cluster {cluster} has no Auto Scaling group yet"
    found = []
    for dimension, namespace, metric in (("cpu", EC2, "CPUUtilization"), ("memory", AGENT, "mem_used_percent")):
        merged: dict[datetime, float] = {}
        for asg in groups:
            dims = {"AutoScalingGroupName": asg}
            for at, v in cloudwatch.statistics(target, namespace, metric, dims, w.start, w.end, w.period_s):
                merged[at] = max(v, merged.get(at, v))
        where = f"AutoScalingGroupName={','.join(groups)}"
        source = f"CloudWatch {namespace} {metric} (Maximum) {where}"
        found.append(Samples(dimension, _percent(sorted(merged.items())), w.expected, source))
    return found, None


def pod(prometheus_url: str, job: str, size: Size, w: Window) -> list[Samples]:
    """The busiest replica of a job against its requests (size: cores and bytes requested)."""
    found = []
    for dimension, template, capacity in (("cpu", POD_CPU, size.cpu), ("memory", POD_MEMORY, size.memory)):
        expr = template.format(job=job, window=w.period)
        points = prometheus.series(prometheus_url, expr, w.start + timedelta(seconds=w.period_s), w.end, w.period_s)
        percents = [100 * v / capacity for _, v in points] if capacity else []
        found.append(Samples(dimension, percents, w.expected, f"Prometheus {expr}"))
    return found


def slo_burning(prometheus_url: str, env: str) -> bool:
    """True while any SLO alert of the env fires (the burn-rate and freshness alerts of `infractl slo render`)."""
    return (prometheus.scalar(prometheus_url, SLO_FIRING.format(env=env)) or 0) > 0
