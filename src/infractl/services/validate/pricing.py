"""Monthly cost of a plan from the versioned price catalog (pricing/aws.yaml): the cost gate and `infractl cost`.

A resource is priced by the first rule that fits: free types, usage-only types (0 fixed, usage named), flat
hourly or monthly prices, and the sized rules for RDS instances and EKS node groups. Anything else is unpriced:
listed, never counted as zero, and it fails the cost gate until the catalog prices it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infractl.adapters import files, hcl
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
@dataclass(frozen=True)
class Region:
    """The region a resource is priced in; `unknown` says why it could not be told (then `name` is the env's
    region, assumed)."""

    name: str
    unknown: str = ""


def _config_node(plan: dict[str, Any], module_address: str | None) -> dict[str, Any]:
    node = plan.get("configuration", {}).get("root_module", {})
    parsed = tfsource.parse_address(f"{module_address}.x.y") if module_address else None
    for name in parsed.modules if parsed else ():
        node = node.get("module_calls", {}).get(name, {}).get("module", {})
    return node


def _provider_key(plan: dict[str, Any], rc: dict[str, Any]) -> str | None:
    parsed = tfsource.parse_address(rc["address"])
    if parsed is None:
        return None
    node = _config_node(plan, rc.get("module_address"))
    return next(
        (
            r.get("provider_config_key")
            for r in node.get("resources", [])
            if r.get("type") == parsed.type and r.get("name") == parsed.name
        ),
        None,
    )


def _literal(expr: str | None) -> str | None:
    """The value of a quoted string without template sequences, else None."""
    if expr and expr.startswith('"') and expr.endswith('"') and "${" not in expr:
        value = hcl.string_value(expr)
        return value if isinstance(value, str) else None
    return None


def _module_sources(source: Path | None, modules: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """(variable defaults, locals) of a module of the stack, as written in its .tf files."""
    directory = tfsource.module_dir_of(source, modules) if source is not None else None
    defaults: dict[str, str] = {}
    found: dict[str, str] = {}
    for tf in sorted(directory.glob("*.tf")) if directory is not None else []:
        text = tf.read_text(encoding="utf-8")
        try:
            for block in hcl.read_blocks(text, "variable"):
                if "default" in block.attributes:
                    defaults[block.name] = block.attributes["default"]
            found.update(hcl.read_locals(text))
        except ValueError:  # does not parse: fmt and validate say where
            continue
    return defaults, found


def _variable(plan: dict[str, Any], modules: tuple[str, ...], name: str, defaults: dict[str, str]) -> str | None:
    """A variable's value: the plan's (the root's values, a module call's constant arguments), else a literal
    default in the module's source."""
    if not modules:
        value = plan.get("variables", {}).get(name, {}).get("value")
        if isinstance(value, str):
            return value
    else:
        parent = _config_node(plan, ".".join(f"module.{m}" for m in modules[:-1]) or None)
        call = parent.get("module_calls", {}).get(modules[-1], {})
        expr = call.get("expressions", {}).get(name, {})
        if isinstance(expr.get("constant_value"), str):
            return expr["constant_value"]
        if expr:  # the caller passes a computed value: the default does not apply
            return None
    return _literal(defaults.get(name))


def provider_region(plan: dict[str, Any], key: str | None, default: str, source: Path | None) -> Region:
    """The region of one provider configuration of a stack's plan: a literal, a variable (the plan's value or a
    literal default) or a local with a literal value (or a variable), read from the stack's sources; anything else is
    unknown and the env's region `default` is assumed."""
    provider = plan.get("configuration", {}).get("provider_config", {}).get(key or "")
    if provider is None:
        return Region(default)  # no configuration of its own in the plan: the env's provider
    shown = f"provider {key}"
    expr = provider.get("expressions", {}).get("region")
    if expr is None:
        return Region(default, f"{shown} sets no region (it would come from the runner's AWS settings)")
    if "constant_value" in expr:
        return Region(str(expr["constant_value"]))
    refs = [r for r in expr.get("references", []) if r.count(".") == 1]  # var.x, local.x (not var.x.y)
    if len(refs) != 1 or not refs[0].startswith(("var.", "local.")):
        return Region(default, f"{shown}: region is computed ({', '.join(expr.get('references', [])) or '?'})")
    parsed = tfsource.parse_address(f"{provider.get('module_address')}.x.y") if provider.get("module_address") else None
    modules = parsed.modules if parsed else ()
    defaults, found = _module_sources(source, modules)
    kind, name = refs[0].split(".")
    if kind == "local":
        if source is None:
            return Region(default, f"{shown}: region = {refs[0]} (the stack's sources are not at hand)")
        if name not in found:
            return Region(default, f"{shown}: region = {refs[0]}, not found in the module's locals")
        value = _literal(found[name])
        inner = re.fullmatch(r"var\.([A-Za-z0-9_-]+)", found[name])
        if value is None and inner:
            value = _variable(plan, modules, inner.group(1), defaults)
        if value is None:
            return Region(default, f"{shown}: region = {refs[0]} = {found[name]}, not a literal")
        return Region(value)
    value = _variable(plan, modules, name, defaults)
    if value is None:
        return Region(default, f"{shown}: region = {refs[0]} has no literal value in the plan or the sources")
    return Region(value)


def resource_region(plan: dict[str, Any], rc: dict[str, Any], default: str, source: Path | None = None) -> Region:
    """The region of the provider configuration a resource uses (e.g. the DR alias), else the env's region."""
    return provider_region(plan, _provider_key(plan, rc), default, source)


# ---------------------------------------------------------------- pricing rules
def _price(
    catalog: Catalog, region: str, rc: dict[str, Any], plan: dict[str, Any], azs: int
) -> tuple[float | None, str]:
    kind = rc["type"]
    after = rc.get("change", {}).get("after") or {}
    hours = catalog.hours_per_month
    if kind in catalog.free:
        return 0.0, "no charge of its own"
    if kind in catalog.usage_only:
        return 0.0, f"usage-based ({catalog.usage_only[kind]}): not estimated"
    if kind == "aws_vpc_endpoint" and (after.get("vpc_endpoint_type") or "Gateway") == "Gateway":
        return 0.0, "gateway endpoint (S3, DynamoDB): no charge"
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
    if kind == "aws_vpc_endpoint":
        return _endpoint(prices, rc, plan, hours, azs)
    if kind == "aws_vpc_endpoint_subnet_association":  # one more AZ (ENI) of an interface endpoint
        hourly = prices.vpc_endpoint_hourly.get("Interface")
        if hourly is None:
            return None, "no price for Interface VPC endpoints in the catalog"
        return hourly * hours, f"one more AZ of an interface endpoint: {hourly}/h + per GB processed (usage)"
    return None, f"no price for {kind} in the catalog"


def _planned_subnets(plan: dict[str, Any], rc: dict[str, Any]) -> int:
    """How many subnets an endpoint's subnet_ids name when they are created in the same plan: the instances of the
    aws_subnet resources it references in its own module (0 when it references anything else)."""
    parsed = tfsource.parse_address(rc["address"])
    node = _config_node(plan, rc.get("module_address"))
    config = next(
        (
            r
            for r in node.get("resources", [])
            if parsed and (r.get("type"), r.get("name")) == (parsed.type, parsed.name)
        ),
        {},
    )
    refs = {r for r in config.get("expressions", {}).get("subnet_ids", {}).get("references", []) if r.count(".") == 1}
    if not refs or any(not r.startswith("aws_subnet.") for r in refs):
        return 0
    names = {r.split(".")[1] for r in refs}
    return sum(
        1
        for other in plan.get("resource_changes", [])
        if other.get("type") == "aws_subnet"
        and other.get("module_address") == rc.get("module_address")
        and other.get("name") in names
        and {"create", "update", "no-op"} & set(other.get("change", {}).get("actions", []))
    )


def _endpoint(
    prices: RegionPrices, rc: dict[str, Any], plan: dict[str, Any], hours: float, azs: int
) -> tuple[float | None, str]:
    """Interface (and Gateway Load Balancer) endpoints: an ENI per subnet (AZ), each billed by the hour, plus data
    processed per GB (usage). The subnets are often created in the same plan: then their number is unknown and the
    env's AZ count is assumed, and said."""
    kind = (rc["change"].get("after") or {}).get("vpc_endpoint_type")
    hourly = prices.vpc_endpoint_hourly.get(str(kind))
    if hourly is None:
        return None, f"no price for {kind} VPC endpoints in the catalog"
    after = rc["change"].get("after") or {}
    subnets = after.get("subnet_ids")
    planned = _planned_subnets(plan, rc)
    if isinstance(subnets, list) and subnets:
        count, how = len(subnets), f"{len(subnets)} subnet(s)"
    elif planned:
        count, how = planned, f"{planned} subnet(s) planned with it"
    else:
        count, how = azs, f"subnets unknown at plan time: {azs} AZ(s) (network.az_count) assumed"
    return hourly * hours * count, f"{kind} endpoint {hourly}/h x {how} + per GB processed (usage)"


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


def estimate(
    catalog: Catalog,
    env: Environment,
    plans: dict[str, dict[str, Any]],
    complete: bool,
    sources: dict[str, Path] | None = None,
) -> EnvCost:
    """The monthly cost of creating every resource of these stacks' plans (stack -> plan JSON); `sources` (stack ->
    its folder) lets a provider's region be read from the stack's locals and variable defaults."""
    lines = []
    for stack, plan in plans.items():
        regions: dict[str | None, Region] = {}
        for rc in plan.get("resource_changes", []):
            actions = rc.get("change", {}).get("actions", [])
            if rc.get("mode") != "managed" or not ({"create", "update", "no-op"} & set(actions)):
                continue
            key = _provider_key(plan, rc)
            if key not in regions:
                regions[key] = provider_region(plan, key, env.region, (sources or {}).get(stack))
            region = regions[key]
            monthly, basis = _price(catalog, region.name, rc, plan, env.network.az_count)
            if region.unknown:
                basis = f"{basis} (region unknown: priced at {region.name}, the env's region)"
            elif region.name != env.region:
                basis = f"{basis} ({region.name})"
            lines.append(
                CostLine(
                    stack=stack,
                    address=rc["address"],
                    type=rc["type"],
                    monthly_usd=None if monthly is None else round(monthly, 2),
                    basis=basis,
                    region=region.name,
                    region_unknown=region.unknown,
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
    unknown: dict[tuple[str, str], list[str]] = {}
    for line in cost.lines:
        if line.region_unknown:
            unknown.setdefault((line.stack, line.region_unknown), []).append(line.address)
    for (stack, why), addresses in unknown.items():
        found.append(
            Finding(
                gate="cost",
                rule="region-unknown",
                stack=stack,
                env=cost.env,
                address=addresses[0],
                message=f"{why}: {len(addresses)} resource(s) priced at {cost.env}'s region"
                f" {next(x.region for x in cost.lines if x.stack == stack and x.region_unknown == why)} (assumed);"
                " give the provider a literal region, or a variable or local with a literal value",
            )
        )
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
