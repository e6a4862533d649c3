"""The sizes a resource can take and what they cost: RDS classes and EC2 instance types of one family (the catalog's
priced ones), pod requests in steps. Capacities are AWS's published vCPU and memory per size (the RDS DB instance
class and EC2 instance type pages); prices come from pricing/aws.yaml only, never from here."""

from __future__ import annotations

import math
from dataclasses import dataclass

from infractl.models.pricing import Catalog

GIB = 2**30
MIB = 2**20
# vCPU, memory GiB (AWS: "DB instance classes" hardware specifications; "Amazon EC2 instance types")
RDS_SIZES: dict[str, tuple[float, float]] = {
    "db.t4g.micro": (2, 1),
    "db.t4g.small": (2, 2),
    "db.t4g.medium": (2, 4),
    "db.t4g.large": (2, 8),
    "db.t4g.xlarge": (4, 16),
    "db.t4g.2xlarge": (8, 32),
    "db.m6g.large": (2, 8),
    "db.m6g.xlarge": (4, 16),
    "db.m6g.2xlarge": (8, 32),
    "db.m6g.4xlarge": (16, 64),
    "db.r6g.large": (2, 16),
    "db.r6g.xlarge": (4, 32),
    "db.r6g.2xlarge": (8, 64),
    "db.r6g.4xlarge": (16, 128),
}
EC2_SIZES: dict[str, tuple[float, float]] = {
    "t3.small": (2, 2),
    "t3.medium": (2, 4),
    "t3.large": (2, 8),
    "t3.xlarge": (4, 16),
    "t3.2xlarge": (8, 32),
    "m5.large": (2, 8),
    "m5.xlarge": (4, 16),
    "m6i.large": (2, 8),
    "m6i.xlarge": (4, 16),
    "m6i.2xlarge": (8, 32),
    "m6g.large": (2, 8),
    "m6g.xlarge": (4, 16),
    "m7g.large": (2, 8),
    "m7g.xlarge": (4, 16),
}
# Pod requests move in steps: CPU in 50m, memory in 64Mi, never below one step.
POD_STEPS = {"cpu": 0.05, "memory": 64 * MIB}


@dataclass(frozen=True)
class Size:
    name: str
    cpu: float  # vCPU (cores for a pod)
    memory: float  # bytes
    hourly: float | None  # the catalog's price in the region; None: unpriced

    def capacity(self, dimension: str) -> float:
        return self.cpu if dimension == "cpu" else self.memory


def family(name: str) -> str:
    """db.r6g.xlarge -> db.r6g; t3.large -> t3."""
    return name.rsplit(".", 1)[0]


def ladder(catalog: Catalog, region: str, kind: str, current: str) -> tuple[Size | None, list[Size]]:
    """(the current size, every size of its family the catalog prices in the region, smallest first). The current
    size is None when its capacity is unknown here; it is in the ladder even when unpriced."""
    prices = catalog.regions.get(region)
    sizes = RDS_SIZES if kind == "database" else EC2_SIZES
    table = (prices.rds_hourly if kind == "database" else prices.ec2_hourly) if prices else {}

    def size(name: str) -> Size:
        cpu, mem = sizes[name]
        return Size(name, cpu, mem * GIB, table.get(name))

    if current not in sizes:
        return None, []
    steps = [size(n) for n in sizes if family(n) == family(current) and (n in table or n == current)]
    return size(current), sorted(steps, key=lambda s: (s.cpu, s.memory))


def pod_size(cpu: float, memory: float) -> Size:
    return Size(f"cpu {cpu_text(cpu)} / memory {memory_text(memory)}", cpu, memory, None)


def pod_step(dimension: str, need: float) -> float:
    """The smallest request in steps of POD_STEPS[dimension] that is at least `need`."""
    step = POD_STEPS[dimension]
    return max(step, math.ceil(round(need / step, 6)) * step)


def cpu_text(cores: float) -> str:
    return f"{round(cores * 1000):d}m"


def memory_text(n: float) -> str:
    if n >= GIB and n % GIB == 0:
        return f"{int(n // GIB)}Gi"
    return f"{round(n / MIB):d}Mi"


def quantity(value: object) -> float:
    """A Kubernetes quantity as a number: CPU in cores ("250m" -> 0.25), memory in bytes ("1Gi" -> 2**30)."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": MIB, "Gi": GIB, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)
