"""FinOps settings of the environment model (environments/<env>.yaml `finops:` and `autoscaling:`): which resources
are tenant-scoped (the tag gate's `tenant` tag) and the HPA numbers the charts render. Part of models/environment.py,
which re-exports these names (docs/finops.md)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Every taggable resource carries TENANT_TAG: the tenant's name on a tenant-scoped resource, SHARED on all others.
TENANT_TAG = "tenant"
SHARED = "shared"
TENANT_PLACEHOLDER = "{tenant}"


class _Strict(BaseModel):
    # As environment.py's: no unknown keys, no coercion, no inf or nan.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class TenantResource(_Strict):
    """Resources of one stack that belong to one tier C tenant: `address` is a resource address of the stack's plan
    (module path included) where `{tenant}` stands for a tenant's name, listed in `tenants:`, and `*` for any text.
    A resource matching it for tenant T carries tenant=T; every other taggable resource carries tenant=shared."""

    stack: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    address: str = Field(min_length=1)

    @field_validator("address")
    @classmethod
    def _one_placeholder(cls, v: str) -> str:
        if v.count(TENANT_PLACEHOLDER) != 1:
            raise ValueError(f"must hold {TENANT_PLACEHOLDER} exactly once (where the tenant's name is), got {v!r}")
        return v

    def pattern(self, tenants: list[str]) -> re.Pattern[str] | None:
        """The address as a regular expression whose group `tenant` is one of `tenants`; None without tenants."""
        if not tenants:
            return None
        names = "|".join(re.escape(t) for t in sorted(tenants, key=len, reverse=True))
        before, after = self.address.split(TENANT_PLACEHOLDER)

        def glob(text: str) -> str:
            return ".*".join(re.escape(part) for part in text.split("*"))

        return re.compile(f"{glob(before)}(?P<tenant>{names}){glob(after)}")


# The aws stacks' tenant-scoped resources: a tier C tenant's node group and its launch template (tier c-<name>,
# terraform/modules/aws/eks), and everything of its dedicated database instance (module.tenant_rds["<name>"]).
DEFAULT_TENANT_RESOURCES = (
    TenantResource(stack="cluster", address='module.eks.aws_eks_node_group.tenant["c-{tenant}"]'),
    TenantResource(stack="cluster", address='module.eks.aws_launch_template.node["c-{tenant}"]'),
    TenantResource(stack="data", address='module.tenant_rds["{tenant}"].*'),
)


class Finops(_Strict):
    """Cost attribution: which resources are a tenant's (the tag gate, docs/finops.md#tags)."""

    tenant_resources: list[TenantResource] = Field(default_factory=lambda: list(DEFAULT_TENANT_RESOURCES))


class ApiScaling(_Strict):
    """The api's HorizontalPodAutoscaler: from its replicas (one per AZ, capped by the system node group's desired
    size) up to max_replicas, at target_cpu_percent of the pods' CPU requests."""

    max_replicas: int = Field(default=6, ge=1, le=100)
    target_cpu_percent: int = Field(default=70, ge=10, le=100)


class WorkerScaling(_Strict):
    """Every worker pool's and tier C tenant's HPA: from its node group's desired_size to its max_size."""

    target_cpu_percent: int = Field(default=70, ge=10, le=100)


class CollectorScaling(_Strict):
    """The OTel Collector's HPA (memory-bound): off, or from its replicas up to max_replicas."""

    enabled: bool = False
    max_replicas: int = Field(default=6, ge=1, le=100)
    target_memory_percent: int = Field(default=70, ge=10, le=100)


class Autoscaling(_Strict):
    """The HPA numbers the charts render (docs/finops.md#autoscaling); node group sizes stay in stacks.cluster and
    tenants[].node_group, storage ceilings in stacks.data and tenants[].database."""

    api: ApiScaling = Field(default_factory=ApiScaling)
    workers: WorkerScaling = Field(default_factory=WorkerScaling)
    otel_collector: CollectorScaling = Field(default_factory=CollectorScaling)
