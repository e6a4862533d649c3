"""`infractl cost` and the cost gate on Terraform nobody here wrote: a provider's region from a local or a variable,
interface VPC endpoints, a plan file's stack, and the types public VPC, KMS and S3 modules create."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infractl.models.environment import Environment
from infractl.models.project import Project
from infractl.models.stacks import Manifest
from infractl.models.validation import CostLine, EnvCost
from infractl.services.stacks import tfsource
from infractl.services.validate import costing, planroot, pricing

REPO = Path(__file__).resolve().parents[2]
STACKS = REPO / "terraform" / "stacks"


def env(name: str = "dev") -> Environment:
    return Environment.model_validate(yaml.safe_load((REPO / "environments" / f"{name}.yaml").read_text()))


def catalog() -> pricing.Catalog:
    return pricing.load_catalog(Project(root=REPO, work_dir=REPO / ".infractl"))


def _change(address: str, after: dict, module: str = "") -> dict:
    parsed = tfsource.parse_address(address)
    return {
        "address": address,
        "module_address": module,
        "mode": "managed",
        "type": parsed.type,
        "name": parsed.name,
        "change": {"actions": ["create"], "after": after, "after_unknown": {}},
    }


def _plan(region: dict[str, Any], *changes: dict, variables: dict | None = None) -> dict:
    """A stack's plan whose resources use the default aws provider, its region expression as given."""
    return {
        "variables": {k: {"value": v} for k, v in (variables or {}).items()},
        "resource_changes": list(changes),
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "expressions": {"region": region}}},
            "root_module": {
                "resources": [{"type": c["type"], "name": c["name"], "provider_config_key": "aws"} for c in changes]
            },
        },
    }


NAT = _change("aws_nat_gateway.this", {})


# ---------------------------------------------------------------- (a) the region of a provider
@pytest.mark.parametrize(
    ("source", "variables"),
    [
        ('locals {\n  region = "eu-central-1"\n}\n', {}),
        ('locals {\n  region = var.home\n}\nvariable "home" {\n  type = string\n}\n', {"home": "eu-central-1"}),
        ('locals {\n  region = var.home\n}\nvariable "home" {\n  default = "eu-central-1"\n}\n', {}),
    ],
    ids=["literal-local", "local-of-a-variable", "local-of-a-variable-default"],
)
def test_a_provider_region_from_a_local_is_read_from_the_stack(tmp_path, source, variables):
    (tmp_path / "main.tf").write_text(source)
    c = catalog()
    plan = _plan({"references": ["local.region"]}, NAT, variables=variables)
    cost = pricing.estimate(c, env("dev"), {"edge": plan}, True, sources={"edge": tmp_path})
    [line] = cost.lines
    assert (line.region, line.region_unknown) == ("eu-central-1", "")
    assert line.monthly_usd == round(c.regions["eu-central-1"].hourly["aws_nat_gateway"] * 730, 2)
    assert line.basis.endswith("(eu-central-1)")
    assert pricing.findings(cost, c) == []


def test_a_provider_region_from_a_variable_default_is_used_when_the_plan_has_no_value(tmp_path):
    (tmp_path / "variables.tf").write_text('variable "where" {\n  type    = string\n  default = "eu-central-1"\n}\n')
    plan = _plan({"references": ["var.where"]}, NAT)
    [line] = pricing.estimate(catalog(), env("dev"), {"edge": plan}, True, sources={"edge": tmp_path}).lines
    assert line.region == "eu-central-1" and not line.region_unknown


@pytest.mark.parametrize(
    ("source", "with_sources", "why"),
    [
        ("locals {\n  region = data.aws_region.current.name\n}\n", True, "not a literal"),
        ('locals {\n  region = "eu-central-1"\n}\n', False, "sources are not at hand"),
        ("", True, "not found in the module's locals"),
    ],
    ids=["computed-local", "plan-file-without-sources", "no-such-local"],
)
def test_an_unknown_region_is_said_with_the_region_assumed(tmp_path, source, with_sources, why):
    (tmp_path / "main.tf").write_text(source)
    c = catalog()
    plan = _plan({"references": ["local.region"]}, NAT, _change("aws_kms_key.k", {}))
    sources = {"edge": tmp_path} if with_sources else None
    cost = pricing.estimate(c, env("dev"), {"edge": plan}, True, sources=sources)
    for line in cost.lines:
        assert line.region == "eu-west-1" and why in line.region_unknown
        assert "region unknown: priced at eu-west-1, the env's region" in line.basis
    [found] = pricing.findings(cost, c)
    assert (found.gate, found.rule, found.stack, found.env) == ("cost", "region-unknown", "edge", "dev")
    assert (
        "provider aws" in found.message and "2 resource(s) priced at dev's region eu-west-1 (assumed)" in found.message
    )


# ---------------------------------------------------------------- (b) interface VPC endpoints
def test_an_interface_endpoint_costs_an_hour_per_subnet_and_a_gateway_endpoint_nothing():
    c = catalog()
    hourly = c.regions["eu-west-1"].vpc_endpoint_hourly["Interface"]
    three = _change("aws_vpc_endpoint.kms", {"vpc_endpoint_type": "Interface", "subnet_ids": ["s-1", "s-2", "s-3"]})
    gateway = _change("aws_vpc_endpoint.s3", {"vpc_endpoint_type": "Gateway"})
    extra = _change("aws_vpc_endpoint_subnet_association.more", {})
    plan = _plan({"constant_value": "eu-west-1"}, three, gateway, extra)
    lines = {line.address: line for line in pricing.estimate(c, env("dev"), {"net": plan}, True).lines}
    assert lines["aws_vpc_endpoint.kms"].monthly_usd == round(hourly * 730 * 3, 2) > 0
    assert "3 subnet(s)" in lines["aws_vpc_endpoint.kms"].basis and "per GB" in lines["aws_vpc_endpoint.kms"].basis
    assert lines["aws_vpc_endpoint.s3"].monthly_usd == 0.0 and "gateway endpoint" in lines["aws_vpc_endpoint.s3"].basis
    assert lines["aws_vpc_endpoint_subnet_association.more"].monthly_usd == round(hourly * 730, 2)


def test_an_interface_endpoint_whose_subnets_are_planned_with_it_counts_them_else_assumes_the_az_count():
    c = catalog()
    hourly = c.regions["eu-west-1"].vpc_endpoint_hourly["Interface"]
    endpoint = _change("aws_vpc_endpoint.kms", {"vpc_endpoint_type": "Interface"})
    subnets = [_change(f"aws_subnet.this[{i}]", {}) for i in range(3)]
    plan = _plan({"constant_value": "eu-west-1"}, endpoint, *subnets)
    config = plan["configuration"]["root_module"]["resources"][0]
    config["expressions"] = {"subnet_ids": {"references": ["aws_subnet.this[*].id", "aws_subnet.this"]}}
    [line] = [x for x in pricing.estimate(c, env("dev"), {"net": plan}, True).lines if x.type == "aws_vpc_endpoint"]
    assert line.monthly_usd == round(hourly * 730 * 3, 2) and "3 subnet(s) planned with it" in line.basis
    config["expressions"] = {"subnet_ids": {"references": ["var.subnet_ids"]}}  # from outside: not countable
    [line] = [x for x in pricing.estimate(c, env("dev"), {"net": plan}, True).lines if x.type == "aws_vpc_endpoint"]
    azs = env("dev").network.az_count
    assert line.monthly_usd == round(hourly * 730 * azs, 2) and f"{azs} AZ(s) (network.az_count) assumed" in line.basis


# ---------------------------------------------------------------- (c) which stack a plan file is of
def _manifest() -> Manifest:
    return Manifest.model_validate(yaml.safe_load((REPO / "terraform" / "stacks" / "stacks.yaml").read_text()))


def _env_cost(*lines: tuple[str, str]) -> EnvCost:
    return EnvCost(
        env="dev",
        catalog_version="x",
        budget_usd=1,
        complete=False,
        lines=[CostLine(stack=s, address=a, type=a.split(".")[-2], monthly_usd=1.0, basis="") for s, a in lines],
    )


def test_a_stack_plan_file_is_attributed_to_its_stack_whatever_stack_was_asked_for():
    manifest = _manifest()
    data_inputs = manifest.stacks["data"].inputs
    doc = {
        "variables": {name: {"value": "x"} for name in data_inputs},
        "resource_changes": [_change("module.rds.aws_db_instance.this", {}, "module.rds")],
    }
    planned = _env_cost(("kms", 'module.kms.aws_kms_key.this["logs"]'))  # `cost dev --stack kms`
    parts, note = costing.attribute(doc, manifest, planned, STACKS)
    assert list(parts) == ["data"] and "stack data" in note
    # stacks with the same inputs are told apart by the resources their sources declare
    same_inputs = manifest.model_copy(
        update={
            "stacks": {n: s.model_copy(update={"inputs": {"region": "env.region"}}) for n, s in manifest.stacks.items()}
        }
    )
    doc["variables"] = {"region": {"value": "eu-west-1"}}
    parts, _ = costing.attribute(doc, same_inputs, _env_cost(), STACKS)
    assert list(parts) == ["data"]


def test_a_plan_of_the_generated_root_is_split_per_stack_and_an_unknown_plan_is_not_given_a_stack():
    manifest = _manifest()
    root = {
        "resource_changes": [
            _change("module.kms.module.kms.aws_kms_key.this", {}, "module.kms.module.kms"),
            _change("module.finops.aws_budgets_budget.this", {}, "module.finops"),
        ],
    }
    parts, note = costing.attribute(root, manifest, _env_cost(), STACKS)
    assert set(parts) == {"kms", "finops"} and "kms" in note
    assert parts["kms"]["resource_changes"][0]["address"] == "module.kms.aws_kms_key.this"
    assert parts["kms"] == planroot.split_plan(root, "kms")
    stranger = {"variables": {"zone": {"value": "z"}}, "resource_changes": [_change("aws_sqs_queue.q", {})]}
    parts, note = costing.attribute(stranger, manifest, _env_cost(("kms", "x.y")), STACKS)
    assert list(parts) == [costing.UNATTRIBUTED] and "no stack's sources, inputs or resources match it" in note


# ---------------------------------------------------------------- (d) what public VPC, KMS and S3 modules create
PUBLIC_MODULE_TYPES = {
    # priced: a fixed charge the plan determines
    "aws_nat_gateway": "priced",
    "aws_eip": "priced",
    "aws_kms_key": "priced",
    "aws_kms_replica_key": "priced",
    "aws_kms_external_key": "priced",
    "aws_kms_replica_external_key": "priced",
    "aws_vpn_connection": "priced",
    "aws_cloudwatch_metric_alarm": "priced",
    # usage only: said, with what drives the charge
    "aws_s3_bucket": "usage",
    "aws_s3_object": "usage",
    "aws_flow_log": "usage",
    "aws_cloudwatch_log_group": "usage",
    "aws_s3_bucket_accelerate_configuration": "usage",
    "aws_s3_bucket_analytics_configuration": "usage",
    "aws_s3_bucket_intelligent_tiering_configuration": "usage",
    "aws_s3_bucket_inventory": "usage",
    "aws_s3_bucket_metric": "usage",
    "aws_s3_bucket_replication_configuration": "usage",
    # no charge of their own
    **dict.fromkeys(
        [
            "aws_customer_gateway",
            "aws_vpn_gateway",
            "aws_vpn_gateway_attachment",
            "aws_vpn_gateway_route_propagation",
            "aws_default_network_acl",
            "aws_default_route_table",
            "aws_default_security_group",
            "aws_network_acl",
            "aws_network_acl_rule",
            "aws_egress_only_internet_gateway",
            "aws_vpc_dhcp_options",
            "aws_vpc_dhcp_options_association",
            "aws_vpc_ipv4_cidr_block_association",
            "aws_elasticache_subnet_group",
            "aws_redshift_subnet_group",
            "aws_db_subnet_group",
            "aws_vpc_endpoint_route_table_association",
            "aws_kms_grant",
            "aws_s3_bucket_acl",
            "aws_s3_bucket_cors_configuration",
            "aws_s3_bucket_website_configuration",
            "aws_s3_bucket_request_payment_configuration",
            "aws_s3_bucket_notification",
            "aws_iam_policy_attachment",
        ],
        "free",
    ),
}


def test_the_types_public_vpc_kms_and_s3_modules_create_are_priced_free_or_usage_never_silently_zero():
    c = catalog()
    changes = [_change(f"{t}.this", {}) for t in PUBLIC_MODULE_TYPES]
    cost = pricing.estimate(c, env("dev"), {"public": _plan({"constant_value": "eu-west-1"}, *changes)}, True)
    seen = {}
    for line in cost.lines:
        if line.monthly_usd is None:
            seen[line.type] = "unpriced"
        elif line.monthly_usd > 0:
            seen[line.type] = "priced"
        elif "usage-based" in line.basis:
            seen[line.type] = "usage"
        else:
            assert line.basis == "no charge of its own", line
            seen[line.type] = "free"
    assert seen == PUBLIC_MODULE_TYPES
    bucket = next(line for line in cost.lines if line.type == "aws_s3_bucket")
    assert "storage" in bucket.basis and "not estimated" in bucket.basis
    # a type the catalog does not know stays unpriced and fails the gate: listed, not counted
    odd = pricing.estimate(
        c, env("dev"), {"x": _plan({"constant_value": "eu-west-1"}, _change("aws_mq_broker.b", {}))}, True
    )
    assert odd.unpriced == ["aws_mq_broker.b"] and [f.rule for f in pricing.findings(odd, c)] == ["unpriced"]
