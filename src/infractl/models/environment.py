"""The environment model: environments/<name>.yaml. Data, not code; validated before anything runs."""

from __future__ import annotations

import functools
import ipaddress
import math
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from infractl.models.environment_delivery import Analysis, Delivery  # noqa: F401
from infractl.models.environment_evidence import STANDARD_CLASS, EvidenceConfig, RetentionClass  # noqa: F401
from infractl.models.environment_finops import (  # noqa: F401
    SHARED,
    TENANT_TAG,
    Autoscaling,
    Finops,
    TenantResource,
)
from infractl.models.environment_rightsize import Rightsize
from infractl.models.environment_slo import SloConfig
from infractl.models.environment_state import KMS_KEY, StateConfig  # noqa: F401

# Tier C tenants live in environment_tenants.py (re-exported here: the env model is one import).
from infractl.models.environment_tenants import (  # noqa: F401
    DEDICATED_TIER_PREFIX,
    DedicatedInstance,
    DedicatedTenant,
    NodeGroup,
    TenantDatabase,
)

REQUIRED_TAGS = ("environment", "service", "owner", "cost-center")
# Patterns are matched whole (fullmatch: `$` would accept a trailing newline) and in ASCII ([0-9], not \d, which
# matches Arabic-Indic and fullwidth digits too).
NAME = re.compile(r"[a-z][a-z0-9-]{0,15}")
AWS_ACCOUNT = re.compile(r"[0-9]{12}")
# AWS tags (docs/environments.md#tags): per resource at most 50; a key 1-128 and a value 0-256 characters of
# letters, numbers and separators (Unicode \p{L}, \p{N}, \p{Z}) and _ . : / = + - @; `aws:` is reserved.
MAX_TAGS = 50
TAG_PUNCTUATION = frozenset("_.:/=+-@")


@functools.cache
def aws_regions() -> dict[str, str]:
    """Every AWS region -> its partition (aws, aws-cn, aws-us-gov, ...), from botocore's own partitions data
    (installed with boto3, offline). Pseudo-regions such as `aws-global` are left out."""
    from botocore.loaders import create_loader

    data = create_loader().load_data("partitions")
    return {
        region: partition["id"]
        for partition in data["partitions"]
        for region in partition["regions"]
        if not region.endswith("-global")
    }


def _tag_text(kind: str, text: str, limit: int) -> str | None:
    """Why `text` is not a valid AWS tag key/value, or None."""
    if len(text) > limit:
        return f"{kind} {text[:40]!r}... is longer than {limit} characters"
    bad = sorted({ch for ch in text if unicodedata.category(ch)[0] not in "LNZ" and ch not in TAG_PUNCTUATION})
    if bad:
        return (
            f"{kind} {text!r} has character(s) {' '.join(repr(ch) for ch in bad)} AWS does not allow in tags"
            " (letters, numbers, spaces and _ . : / = + - @)"
        )
    if text.lower().startswith("aws:"):
        return f"{kind} {text!r} starts with 'aws:', which AWS reserves"
    return None


def _finite(value: Any, path: str = "") -> Any:
    """Refuse inf and nan anywhere in free-form data (they would reach Terraform's inputs as non-JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path or 'value'}: {value} is not a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            _finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _finite(item, f"{path}.{i}" if path else str(i))
    return value


FreeForm = Annotated[dict[str, Any], AfterValidator(_finite)]


class _Strict(BaseModel):
    # strict: no coercion (`az_count: true` is not 1, "3" is not 3); no inf or nan for floats.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _network_cidr(v: str) -> str:
    try:
        ipaddress.ip_network(v, strict=True)
    except ValueError as exc:
        raise ValueError(f"not a network CIDR: {exc}") from None
    return v


# An IPv4 or IPv6 network address, no host bits set.
Cidr = Annotated[str, AfterValidator(_network_cidr)]


class EgressRule(_Strict):
    """A destination workloads may reach outside the VPC."""

    description: str = Field(min_length=1)
    cidr: Cidr
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(min_length=1)


class Network(_Strict):
    cidr: str
    az_count: int = Field(ge=1, le=4)
    nat_gateways: Literal["none", "single", "per_az"] = "single"
    egress_allowlist: list[EgressRule] = Field(default_factory=list)

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        try:
            net = ipaddress.IPv4Network(v, strict=True)
        except ValueError as exc:
            raise ValueError(f"not an IPv4 network CIDR: {exc}") from None
        if not 16 <= net.prefixlen <= 24:
            raise ValueError(f"prefix /{net.prefixlen} out of range: use /16 to /24")
        return v


class Budget(_Strict):
    monthly_usd: float = Field(gt=0)
    alert_emails: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(default_factory=list)
    alert_thresholds_percent: list[Annotated[int, Field(gt=0, le=200)]] = Field(default_factory=lambda: [50, 80, 100])


class Recovery(_Strict):
    """The recovery objectives `infractl drill dr` measures, and whether drills may run here (docs/drills.md):
    allowed; confirm (only with --yes); refused (prod: a reviewed change to confirm allows them)."""

    rpo_minutes: int = Field(gt=0)
    rto_minutes: int = Field(gt=0)
    drills: Literal["allowed", "confirm", "refused"] = "allowed"


class Approval(_Strict):
    required: bool = False
    approvers: list[str] = Field(default_factory=list)
    min_approvals: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Approval:
        if self.required and self.min_approvals < 1:
            raise ValueError("min_approvals must be at least 1 when approval is required")
        if self.min_approvals > len(self.approvers):
            raise ValueError(f"min_approvals ({self.min_approvals}) exceeds the {len(self.approvers)} approvers")
        return self


class Promotion(_Strict):
    """Where a release may come from (docs/release.md): `infractl promote FROM TO` refuses any FROM not listed in
    `sources`, so a release cannot skip a stage unless the target environment says it may. Empty: no promotion into
    it (the first stage: `infractl release build` pushes there)."""

    sources: list[str] = Field(default_factory=list)

    @field_validator("sources")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        bad = [n for n in v if not NAME.fullmatch(n)]
        if bad:
            raise ValueError(f"not an environment name: {', '.join(bad)}")
        if len(set(v)) != len(v):
            raise ValueError("an environment is listed twice")
        return v


class CheckSkip(_Strict):
    """A checkov check waived in this environment only, for a written reason (docs/validate.md). For a waiver that
    holds in every environment, put `#checkov:skip=CHECK:reason` in the resource block instead."""

    check: str = Field(pattern=r"^CKV2?_[A-Z0-9]+_[0-9]+$")
    stack: str = "*"  # stack name or glob
    address: str = "*"  # resource address (within the stack) or glob, e.g. module.rds.*
    reason: str = Field(min_length=10)


class Validation(_Strict):
    skip_checks: list[CheckSkip] = Field(default_factory=list)


# The images `infractl render` pins by digest (docs/render.md): env model key -> the chart that runs it.
IMAGE_NAMES = (
    "controlplane-api",
    "controlplane-worker",
    "temporal-server",
    "temporal-admin-tools",
    "temporal-ui",
    "postgres",
    "otel-collector",
)


class Image(_Strict):
    """An image pinned by digest: the charts never render a mutable tag."""

    repository: str = Field(pattern=r"^[^@:\s]+(:[0-9]+)?(/[^@:\s]+)*$")
    digest: str = Field(pattern=r"^sha256:[a-f0-9]{64}$")


EXPORTER_TYPES = (
    "otlp",
    "otlphttp",
    "debug",
    "awsxray",
    "awsemf",
    "awscloudwatchlogs",
    "prometheusremotewrite",
)


class Exporter(_Strict):
    """One OTel Collector exporter. Its egress rule is derived: an in-cluster endpoint
    (<service>.<namespace>.svc[.cluster.local][:port]) allows that namespace on that port; a backend outside the cluster
    needs `egress_cidrs` (a NetworkPolicy cannot name a host)."""

    type: Literal[EXPORTER_TYPES]  # type: ignore[valid-type]
    config: FreeForm = Field(default_factory=dict)
    egress_cidrs: list[Cidr] = Field(default_factory=list)
    # The backend pods' ports, when its Service maps the endpoint's port to another one: a NetworkPolicy matches the
    # port after the Service translates it. Default: the endpoint's port.
    egress_ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(default_factory=list)


class Observability(_Strict):
    """The OTel Collector's exporters per signal (a signal without exporters has no pipeline)."""

    traces: list[Exporter] = Field(default_factory=list)
    metrics: list[Exporter] = Field(default_factory=list)
    logs: list[Exporter] = Field(default_factory=list)


class Environment(_Strict):
    name: str
    cloud: Literal["aws", "azure", "gcp"]
    account: str
    region: str
    dr_region: str | None = None
    network: Network
    tags: dict[str, str]
    budget: Budget
    recovery: Recovery
    approval: Approval = Field(default_factory=Approval)
    promotion: Promotion = Field(default_factory=Promotion)
    state: StateConfig = Field(default_factory=StateConfig)
    stacks: dict[str, FreeForm] = Field(default_factory=dict)
    validation: Validation = Field(default_factory=Validation)
    # Image digests the Helm charts deploy (IMAGE_NAMES); optional: `infractl render` renders a missing one with an
    # all-zero digest and says so, `infractl deploy` refuses it.
    images: dict[str, Image] | None = None
    # Tier C tenants; their node groups join the cluster stack's tenant tiers (tenant_node_groups), their dedicated
    # database instances the data stack's (tenant_instances).
    tenants: list[DedicatedTenant] = Field(default_factory=list)
    # which resources are a tenant's (the tag gate's tenant tag) (models/environment_finops.py, docs/finops.md)
    finops: Finops = Field(default_factory=Finops)
    # the HPA numbers the charts render (models/environment_finops.py, docs/finops.md#autoscaling)
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)
    observability: Observability = Field(default_factory=Observability)
    # The evidence ledger (models/environment_evidence.py, docs/evidence.md): signer, checkpoints, retention classes.
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    # SLO period, scrape interval, runbook links, objectives (models/environment_slo.py, docs/slo.md)
    slo: SloConfig = Field(default_factory=SloConfig)
    # progressive delivery: strategy, canary steps, analysis sampling (models/environment_delivery.py, docs/delivery.md)
    delivery: Delivery = Field(default_factory=Delivery)
    # right-sizing: lookback, percentile, headroom per kind (models/environment_rightsize.py, docs/finops.md)
    rightsize: Rightsize = Field(default_factory=Rightsize)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tenant_node_groups(self) -> dict[str, Any]:
        """The cluster stack's `tenant_tiers`: stacks.cluster.tenant_tiers plus one node group per tier C tenant."""
        cluster = self.stacks.get("cluster") or {}
        shared = cluster.get("tenant_tiers") if isinstance(cluster, dict) else None
        groups = dict(shared) if isinstance(shared, dict) else {}
        for tenant in self.tenants:
            groups[tenant.tier] = tenant.node_group.model_dump()
        return groups

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tenant_instances(self) -> dict[str, dict[str, Any]]:
        """The data stack's `tenant_instances`: tenant name -> its dedicated instance's settings, for each tier C
        tenant with `database.dedicated_instance` (the others' databases live on the shared instance)."""
        return {t.name: i.stack_settings() for t in self.tenants if (i := t.dedicated_instance)}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stack_tags(self) -> dict[str, str]:
        """The stacks' `tags` (their providers' default_tags): the env's tags plus tenant=shared. A tenant-scoped
        resource overrides it with its tenant's name (finops.tenant_resources, docs/finops.md#tags)."""
        return {**self.tags, TENANT_TAG: SHARED}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tier_tenants(self) -> dict[str, str]:
        """The cluster stack's `tier_tenants`: the node group tier of each tier C tenant -> the tenant's name (its
        node group, launch template, instances and volumes carry tenant=<name>; the other tiers are shared)."""
        return {t.tier: t.name for t in self.tenants}

    @model_validator(mode="after")
    def _tenants(self) -> Environment:
        names = [t.name for t in self.tenants]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"tenants: listed twice: {', '.join(twice)}")
        cluster = self.stacks.get("cluster") or {}
        shared = cluster.get("tenant_tiers") if isinstance(cluster, dict) else None
        clash = sorted(set(shared or {}) & {t.tier for t in self.tenants}) if isinstance(shared, dict) else []
        if clash:
            raise ValueError(
                f"stacks.cluster.tenant_tiers: {', '.join(clash)} is the node group of a tier C tenant; rename the tier"
            )
        return self

    @model_validator(mode="after")
    def _promotion(self) -> Environment:
        if self.name in self.promotion.sources:
            raise ValueError(f"promotion.sources: {self.name} cannot be promoted from itself")
        return self

    @field_validator("tenants")
    @classmethod
    def _tenant_instances(cls, v: list[DedicatedTenant], info: ValidationInfo) -> list[DedicatedTenant]:
        problems = [p for t in v if (p := t.instance_class_problem(info.data.get("cloud") or ""))]
        if problems:
            raise ValueError(problems[0])
        return v

    @field_validator("images")
    @classmethod
    def _images(cls, v: dict[str, Image] | None) -> dict[str, Image] | None:
        unknown = sorted(set(v or {}) - set(IMAGE_NAMES))
        if unknown:
            raise ValueError(f"unknown image(s) {', '.join(unknown)}; known: {', '.join(IMAGE_NAMES)}")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME.fullmatch(v):
            raise ValueError("use 1-16 lowercase letters, digits or hyphens, starting with a letter")
        return v

    @field_validator("account")
    @classmethod
    def _account(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("cloud") == "aws" and not AWS_ACCOUNT.fullmatch(v):
            raise ValueError("an AWS account ID is 12 digits (quote it in YAML)")
        return v

    @field_validator("region", "dr_region")
    @classmethod
    def _region(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None or info.data.get("cloud") != "aws":
            return v
        regions = aws_regions()
        if v not in regions:
            raise ValueError("not an AWS region name such as eu-west-1 (the regions in botocore's partitions data)")
        if info.field_name == "dr_region":
            region = info.data.get("region")
            if v == region:
                raise ValueError("dr_region must differ from region")
            if region in regions and regions[region] != regions[v]:
                raise ValueError(f"{v!r} is in partition {regions[v]}, region {region!r} in {regions[region]}")
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        missing = [t for t in REQUIRED_TAGS if not v.get(t)]
        if missing:
            raise ValueError(f"missing required tag(s): {', '.join(missing)}")
        if TENANT_TAG in v:
            raise ValueError(
                f"{TENANT_TAG}: set by infractl ({TENANT_TAG}={SHARED}, or the tenant's name on its resources):"
                " remove it from tags"
            )
        if len(v) + 1 > MAX_TAGS:
            raise ValueError(f"{len(v)} tags and {TENANT_TAG}: AWS allows at most {MAX_TAGS} per resource")
        for key, value in v.items():
            problem = ("key is empty" if not key else _tag_text("key", key, 128)) or _tag_text("value", value, 256)
            if problem:
                raise ValueError(f"{key}: {problem}")
        name = info.data.get("name")
        if name is not None and v["environment"] != name:
            raise ValueError(f"tags.environment ({v['environment']!r}) must equal name ({name!r})")
        return v

    def own_image_repository(self, image: str) -> str | None:
        """Where this environment's registry keeps one of our images (one repository per environment, made by the
        registry stack: terraform/stacks/aws/registry); None where the cloud has no default here."""
        if self.cloud == "aws":
            return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/{self.name}/{image}"
        return None

    def state_bucket(self, account: str | None = None) -> str:
        """The state bucket: explicit, or derived from the account, region and env."""
        return self.state.bucket or f"infractl-tfstate-{account or self.account}-{self.region}-{self.name}"

    def tenant_backup_bucket(self) -> str:
        """Where `infractl tenant backup` writes (the aws data stack's output tenant_backup_bucket, same rule):
        account, region and env make the global name unique; at most 49 characters, so that its access-log bucket
        "<name>-access-logs" fits S3's 63."""
        return f"bkp-{self.account}-{self.region}-{self.name}"

    def evidence_bucket(self) -> str:
        """The WORM bucket of the ledger's payloads and checkpoints (the aws evidence stack's bucket, same rule)."""
        return f"infractl-evidence-{self.account}-{self.region}-{self.name}"

    def evidence_retention(self) -> tuple[str, dict[str, int]]:
        """(Object Lock mode, days per retention class): `standard` is the bucket's default retention
        (stacks.evidence.retention_days), the others come from evidence.retention_classes."""
        stack = self.stacks.get("evidence") or {}
        mode = str(stack.get("object_lock_mode", "COMPLIANCE"))
        classes = {STANDARD_CLASS: int(stack.get("retention_days", 1))}
        classes.update({name: c.days for name, c in self.evidence.retention_classes.items()})
        return mode, classes

    def state_lock_table(self) -> str | None:
        if self.state.lock != "dynamodb":
            return None
        return self.state.dynamodb_table or f"infractl-tflock-{self.name}"


class EnvironmentSummary(_Strict):
    name: str
    cloud: str
    account: str
    region: str
    azs: int
    nat_gateways: str
    monthly_budget_usd: float
    approval_required: bool
    file: str


class Difference(_Strict):
    path: str
    a: Any = None
    b: Any = None


class EnvironmentDiff(_Strict):
    a: str
    b: str
    differences: list[Difference]
