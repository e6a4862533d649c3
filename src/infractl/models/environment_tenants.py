"""Tier C tenants of the environment model (environments/<env>.yaml `tenants:`): their node group and, optionally,
their own database instance. Part of models/environment.py, which re-exports these names."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Tier C tenants' node groups join stacks.cluster.tenant_tiers under this prefix: tenant "acme" -> tier "c-acme"
# (node group <cluster>-tenant-c-acme, label node.infractl.io/tier=c-acme, taint tenant-tier=c-acme:NoSchedule).
DEDICATED_TIER_PREFIX = "c-"

# A dedicated instance's class as each cloud names it (its data stack's module checks it again): pattern, example.
INSTANCE_CLASSES = {
    "aws": (re.compile(r"db\.[a-z0-9-]+\.[a-z0-9]+"), "db.t4g.micro"),
    "azure": (re.compile(r"(B|GP|MO)_Standard_[A-Za-z0-9_]+"), "GP_Standard_D2ds_v5"),
    "gcp": (re.compile(r"db-[a-z0-9-]+"), "db-custom-2-8192"),
}
MAX_STORAGE_GIB = 65536


class _Strict(BaseModel):
    # As environment.py's: no unknown keys, no coercion, no inf or nan.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class NodeGroup(_Strict):
    """A node group of the cluster stack (the shape of stacks.cluster.tenant_tiers.<tier>)."""

    instance_types: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$")]] = Field(min_length=1)
    min_size: int = Field(ge=0)
    max_size: int = Field(ge=1)
    desired_size: int = Field(ge=0)
    disk_gib: int = Field(default=100, ge=20)

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroup:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"need min_size <= desired_size <= max_size, got {self.min_size}, {self.desired_size}, {self.max_size}"
            )
        return self


class DedicatedInstance(_Strict):
    """A tier C tenant's own database instance, beside the shared one (the data stack's `tenant_instances`): same
    engine version, key, subnets, security rules, backups and deletion protection as the shared instance."""

    instance_class: str = Field(min_length=1)  # checked against the env's cloud (INSTANCE_CLASSES)
    allocated_storage_gib: int = Field(default=20, ge=20, le=MAX_STORAGE_GIB)
    # Storage autoscaling ceiling; None: no autoscaling (the ceiling is the allocation).
    max_allocated_storage_gib: int | None = Field(default=None, ge=20, le=MAX_STORAGE_GIB)
    multi_az: bool = False

    @model_validator(mode="after")
    def _storage(self) -> DedicatedInstance:
        if self.max_allocated_storage_gib is not None and self.max_allocated_storage_gib < self.allocated_storage_gib:
            raise ValueError(
                f"max_allocated_storage_gib ({self.max_allocated_storage_gib}) is below allocated_storage_gib"
                f" ({self.allocated_storage_gib})"
            )
        return self

    def stack_settings(self) -> dict[str, object]:
        """The object of the data stack's tenant_instances.<tenant>."""
        return {
            "instance_class": self.instance_class,
            "allocated_storage_gib": self.allocated_storage_gib,
            "max_allocated_storage_gib": self.max_allocated_storage_gib or self.allocated_storage_gib,
            "multi_az": self.multi_az,
        }


class TenantDatabase(_Strict):
    """Where a tier C tenant's database lives: on the shared instance (its own database and role, made by
    `infractl tenant create`) unless it has a dedicated instance."""

    dedicated_instance: DedicatedInstance | None = None


class DedicatedTenant(_Strict):
    """A tier C tenant: its own namespace, ServiceAccount, Vault role, NetworkPolicies and node group
    (docs/render.md), its own database, optionally on its own instance (docs/environments.md#tenants)."""

    # 1-18 characters: its tier c-<name> must pass the cluster stack's tier-name rule (at most 20, no trailing -).
    name: str = Field(pattern=r"^[a-z]([a-z0-9-]{0,16}[a-z0-9])?$")
    node_group: NodeGroup
    database: TenantDatabase | None = None

    @model_validator(mode="after")
    def _identifiers(self) -> DedicatedTenant:
        if self.dedicated_instance and "--" in self.name:
            raise ValueError(
                f"name {self.name!r} has two consecutive hyphens, which its instance's name (an RDS identifier"
                " <env>-tenant-<name>) cannot: rename the tenant or drop its dedicated_instance"
            )
        return self

    @property
    def tier(self) -> str:
        return f"{DEDICATED_TIER_PREFIX}{self.name}"

    @property
    def database_name(self) -> str:
        """Its database (and role): tenant_<name with - as _>, on the shared or its dedicated instance."""
        return "tenant_" + self.name.replace("-", "_")

    @property
    def dedicated_instance(self) -> DedicatedInstance | None:
        return self.database.dedicated_instance if self.database else None

    def instance_class_problem(self, cloud: str) -> str | None:
        """Why its dedicated instance's class is not one of `cloud`'s, or None."""
        instance = self.dedicated_instance
        pattern, example = INSTANCE_CLASSES.get(cloud, (None, ""))
        if instance is None or pattern is None or pattern.fullmatch(instance.instance_class):
            return None
        return (
            f"{self.name}: database.dedicated_instance.instance_class {instance.instance_class!r} is not a database"
            f" instance class on {cloud} (such as {example})"
        )
