"""The versioned price catalog (pricing/aws.yaml) as read by services/validate/pricing.py: per region, hourly and
monthly prices by resource type and the sized prices (EC2, EBS, RDS); free and usage-only types; the catalog's
version and date, which every cost report names.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RegionPrices(BaseModel):
    """The prices of one region, per resource type or size."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hourly: dict[str, float] = Field(default_factory=dict)
    monthly: dict[str, float] = Field(default_factory=dict)
    ec2_hourly: dict[str, float] = Field(default_factory=dict)
    ebs_gb_month: dict[str, float] = Field(default_factory=dict)
    rds_hourly: dict[str, float] = Field(default_factory=dict)
    rds_storage_gb_month: dict[str, float] = Field(default_factory=dict)
    # aws_vpc_endpoint by vpc_endpoint_type (Interface, GatewayLoadBalancer): per AZ (ENI) and hour; Gateway is free
    vpc_endpoint_hourly: dict[str, float] = Field(default_factory=dict)


class Catalog(BaseModel):
    """pricing/aws.yaml; `file` is where it was read from (set by load_catalog)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    currency: str = "USD"
    prices_as_of: str = ""
    hours_per_month: float = Field(default=730, gt=0)
    free: list[str] = Field(default_factory=list)
    usage_only: dict[str, str] = Field(default_factory=dict)
    regions: dict[str, RegionPrices]
    file: str = ""
