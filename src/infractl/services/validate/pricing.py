"""Monthly cost of a plan from the versioned price catalog (pricing/aws.yaml): the cost gate and `infractl cost`.

A resource is priced by the first rule that fits: free types, usage-only types (0 fixed, usage named), flat
hourly or monthly prices, and the sized rules for RDS instances and EKS node groups. Anything else is unpriced:
listed, never counted as zero, and it fails the cost gate until the catalog prices it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infractl.adapters import files
from infractl.models.environment import Environment
from infractl.models.pricing import Catalog, RegionPrices
from infractl.models.project import Project, install_root
from infractl.models.validation import CostLine, EnvCost, Finding
from infractl.services.stacks import tfsource

CATALOG = Path("pricing") / "aws.yaml"


def catalog_path(project: Project) -> Path:
    """The project's own pricing/aws.yaml, else the one of the infractl checkout running (a project of its own need
    not copy it)."""
    path = project.root / CATALOG
    home = install_root()
    if not path.is_file() and home is not None and (home / CATALOG).is_file():
        return home / CATALOG
    return path


def load_catalog(project: Project) -> Catalog:
    path = catalog_path(project)
    shown = project.rel(path)
    catalog = files.validate(Catalog, files.read_yaml(path, display=shown), display=shown)
    return catalog.model_copy(update={"file": shown})


# ---------------------------------------------------------------- which region a resource lives in
def _config_node(plan: dict[str, Any], module_address: str | None) -> dict[str, Any]:
    node = plan.get("configuration", {}).get("root_module", {})
    parsed = tfsource.parse_address(f"{module_address}.x.y") if module_address else None
    for name in parsed.modules if parsed else ():
        node = node.get("module_calls", {}).get(name, {}).get("module", {})
    return node


def resource_region(plan: dict[str, Any], rc: dict[str, Any], default: str) -> str:
    """The region of the provider configuration a resource uses (e.g. the DR alias), else the env's region."""
    parsed = tfsource.parse_address(rc["address"])
    if parsed is None:
        return default
    node = _config_node(plan, rc.get("module_address"))
    key = next(
        (
            r.get("provider_config_key")
            for r in node.get("resources", [])
            if r.get("type") == parsed.type and r.get("name") == parsed.name
        ),
        None,
    )
    provider = plan.get("configuration", {}).get("provider_config", {}).get(key or "", {})
    region = provider.get("expressions", {}).get("region", {})
    if "constant_value" in region:
        return str(region["constant_value"])
    for ref in region.get("references", []):
        if ref.startswith("var."):
            value = plan.get("variables", {}).get(ref[4:], {}).get("value")
            if isinstance(value, str):
                return value
    return default


# ---------------------------------------------------------------- pricing rules
def _price(catalog: Catalog, region: str, rc: dict[str, Any], plan: dict[str, Any]) -> tuple[float | None, str]:
    kind = rc["type"]
    after = rc.get("change", {}).get("after") or {}
    hours = catalog.hours_per_month
    if kind in catalog.free:
        return 0.0, "no charge of its own"
    if kind in catalog.usage_only:
        return 0.0, f"usage-based ({catalog.usage_only[kind]}): not estimated"
    prices = catalog.regions.get(region)
    if prices is None:
        return None, f"no prices for region {region} in the catalog"
    if kind in prices.hourly:
        return prices.hourly[kind] * hours, f"{prices.hourly[kind]}/h x {hours:g} h"
    if kind in prices.monthly:
        return prices.monthly[kind], f"{prices.monthly[kind]}/month"
    if kind == "aws_db_instance":
        return _rds(prices, after, hours)
    if kind == "aws_eks_node_group":
        return _node_group(prices, rc, plan, hours)
    return None, f"no price for {kind} in the catalog"


def _rds(prices: RegionPrices, after: dict[str, Any], hours: float) -> tuple[float | None, str]:
    klass = after.get("instance_class")
    storage_type = after.get("storage_type") or "gp2"
    size = after.get("allocated_storage") or 0
    copies = 2 if after.get("multi_az") else 1
    if klass not in prices.rds_hourly:
        return None, f"no price for RDS instance class {klass}"
    if storage_type not in prices.rds_storage_gb_month:
        return None, f"no price for RDS storage type {storage_type}"
    compute = prices.rds_hourly[klass] * hours * copies
    storage = prices.rds_storage_gb_month[storage_type] * size * copies
    az = "Multi-AZ" if copies == 2 else "Single-AZ"
    return compute + storage, f"{klass} {az} {prices.rds_hourly[klass]}/h + {size} GiB {storage_type}"


def _node_group(
    prices: RegionPrices, rc: dict[str, Any], plan: dict[str, Any], hours: float
) -> tuple[float | None, str]:
    after = rc["change"].get("after") or {}
    scaling = (after.get("scaling_config") or [{}])[0]
    desired = scaling.get("desired_size") or 0
    types = after.get("instance_types") or []
    if not types:
        return None, "instance types unknown at plan time"
    first = types[0]  # the node group launches its first listed type while capacity allows
    if first not in prices.ec2_hourly:
        return None, f"no price for EC2 instance type {first}"
    disk_gib, disk_type = _node_disk(rc, plan)
    disk = prices.ebs_gb_month.get(disk_type, 0.0) * disk_gib if disk_gib else 0.0
    total = desired * (prices.ec2_hourly[first] * hours + disk)
    disk_note = f" + {disk_gib} GiB {disk_type}" if disk_gib else ""
    return total, f"{desired} x {first} {prices.ec2_hourly[first]}/h{disk_note}"


def _node_disk(rc: dict[str, Any], plan: dict[str, Any]) -> tuple[int, str]:
    """The root volume of the node group's launch template: the template in the same module whose key is the
    node group's key (or name, for a single node group)."""
    parsed = tfsource.parse_address(rc["address"])
    key = parsed.key if parsed and parsed.key is not None else (parsed.name if parsed else None)
    for other in plan.get("resource_changes", []):
        if other.get("type") != "aws_launch_template" or other.get("module_address") != rc.get("module_address"):
            continue
        other_parsed = tfsource.parse_address(other["address"])
        if other_parsed is None or other_parsed.key != key:
            continue
        for mapping in (other["change"].get("after") or {}).get("block_device_mappings") or []:
            for ebs in mapping.get("ebs") or []:
                return int(ebs.get("volume_size") or 0), str(ebs.get("volume_type") or "gp3")
    return 0, "gp3"


def estimate(catalog: Catalog, env: Environment, plans: dict[str, dict[str, Any]], complete: bool) -> EnvCost:
    """The monthly cost of creating every resource of these stacks' plans (stack -> plan JSON)."""
    lines = []
    for stack, plan in plans.items():
        for rc in plan.get("resource_changes", []):
            actions = rc.get("change", {}).get("actions", [])
            if rc.get("mode") != "managed" or not ({"create", "update", "no-op"} & set(actions)):
                continue
            region = resource_region(plan, rc, env.region)
            monthly, basis = _price(catalog, region, rc, plan)
            if region != env.region:
                basis = f"{basis} ({region})"
            lines.append(
                CostLine(
                    stack=stack,
                    address=rc["address"],
                    type=rc["type"],
                    monthly_usd=None if monthly is None else round(monthly, 2),
                    basis=basis,
                )
            )
    return EnvCost(
        env=env.name,
        catalog_version=catalog.version,
        budget_usd=env.budget.monthly_usd,
        lines=lines,
        complete=complete,
    )


def findings(cost: EnvCost, catalog: Catalog) -> list[Finding]:
    found = [
        Finding(
            gate="cost",
            rule="unpriced",
            stack=line.stack,
            env=cost.env,
            address=line.address,
            message=f"{line.basis}: unpriced, not counted as zero; add it to {catalog.file} (docs/validate.md)",
        )
        for line in cost.lines
        if line.monthly_usd is None
    ]
    if cost.total_usd > cost.budget_usd:
        scope = "" if cost.complete else " (planned stacks only: the full environment costs more)"
        found.append(
            Finding(
                gate="cost",
                rule="over-budget",
                stack="*",
                env=cost.env,
                message=f"estimated ${cost.total_usd:,.2f}/month{scope} exceeds the budget of"
                f" ${cost.budget_usd:,.2f} (budget.monthly_usd); catalog {catalog.version}",
                file=f"environments/{cost.env}.yaml",
            )
        )
    return found
