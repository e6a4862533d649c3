"""The pure parts of `infractl validate` / `infractl cost`: plan splitting, gates, pricing rules, source facts,
report shapes, change detection. The engines (terraform, checkov, moto) are exercised in tests/integration."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from infractl.adapters import checkov
from infractl.errors import ConfigError
from infractl.models.environment import Environment
from infractl.models.project import Project
from infractl.models.stacks import Manifest, Stack
from infractl.models.validation import Cell, CostLine, EnvCost, Finding, ValidationReport
from infractl.services.stacks import graph, tfsource
from infractl.services.validate import changes, placement, planroot, pricing, reports, runstate, security, tagging

REPO = Path(__file__).resolve().parents[2]


def env(name: str = "dev") -> Environment:
    return Environment.model_validate(yaml.safe_load((REPO / "environments" / f"{name}.yaml").read_text()))


def catalog() -> pricing.Catalog:
    return pricing.load_catalog(Project(root=REPO, work_dir=REPO / ".infractl"))


# ---------------------------------------------------------------- the generated root and its plan
PROVIDERS = """
provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = var.tags # the env's tags
  }
}

provider "aws" {
  alias  = "dr"
  region = var.dr_region
}
"""
INPUTS = {"region": "eu-west-1", "dr_region": "eu-central-1", "account_id": "123456789012", "tags": {"a": "${x}"}}


def test_provider_blocks_are_lifted_rendered_with_the_env_values(tmp_path):
    (tmp_path / "providers.tf").write_text(PROVIDERS)
    (tmp_path / "main.tf").write_text('resource "aws_sns_topic" "t" {}\n')
    lifted = planroot.lift_providers(tmp_path, INPUTS)
    assert lifted.files == {"providers.tf"}
    (default_alias, default_body), (dr_alias, dr_body) = lifted.blocks
    assert (default_alias, dr_alias) == (None, "dr")
    assert default_body.splitlines() == [
        'region              = "eu-west-1"',
        'allowed_account_ids = ["123456789012"]',
        "",
        "default_tags {",
        '  tags = {"a": "$${x}"}',  # JSON is HCL; template sequences escaped
        "}",
    ]
    assert dr_body == 'region = "eu-central-1"'


@pytest.mark.parametrize(
    "text, inputs",
    [
        (PROVIDERS.replace("var.region", "local.region"), INPUTS),  # reads something other than a variable
        (PROVIDERS, {k: v for k, v in INPUTS.items() if k != "dr_region"}),  # a variable the stack is not given
        (PROVIDERS + "locals {\n  a = 1\n}\n", INPUTS),  # the file holds other blocks
        (PROVIDERS.replace('alias  = "dr"', 'alias  = "dr"\n  access_key = "x"'), INPUTS),  # credentials
        ('provider "google" {\n  project = var.region\n}\n', INPUTS),  # another provider
        (
            PROVIDERS.replace(
                "region = var.dr_region",
                "region = var.dr_region\n  assume_role_with_web_identity {\n    role_arn = var.region\n  }",
            ),
            INPUTS,
        ),
    ],
)
def test_provider_blocks_that_cannot_move_keep_their_stack(tmp_path, text, inputs):
    (tmp_path / "providers.tf").write_text(text)
    assert planroot.lift_providers(tmp_path, inputs) is None


def test_the_alias_override_declares_what_the_root_passes():
    text = planroot.aliases_override(["dr"], ">= 5.60, < 6.0")
    assert "configuration_aliases = [aws.dr]" in text and 'version               = ">= 5.60, < 6.0"' in text


def test_example_inputs_fill_upstream_outputs_and_name_a_missing_one():
    project = Project(root=REPO, work_dir=REPO / ".infractl")
    manifest = graph.load_manifest(project)
    prod = env("prod")
    cluster = Stack(name="cluster", spec=manifest.stacks["cluster"])
    inputs = planroot.example_inputs(cluster, prod, manifest, display="stacks.yaml")
    assert (
        inputs["secrets_kms_key_arn"]
        == f"arn:aws:kms:{prod.region}:{prod.account}:key/00000000-0000-4000-8000-000000000002"
    )
    assert inputs["vpc_id"].startswith("vpc-") and inputs["environment"] == "prod"

    stacks = {k: v.model_dump() for k, v in manifest.stacks.items()}
    del stacks["network"]["example_outputs"]["network_cidr"]
    broken = Manifest.model_validate({"stacks": stacks})
    with pytest.raises(ConfigError) as info:
        planroot.example_inputs(cluster, prod, broken, display="stacks.yaml")
    assert "stacks.yaml: stacks.network.example_outputs.network_cidr: missing" in info.value.message


COMPOSITE = {
    "format_version": "1.2",
    "planned_values": {
        "root_module": {
            "child_modules": [
                {
                    "address": "module.dev",
                    "child_modules": [
                        {
                            "address": "module.dev.module.kms",
                            "resources": [
                                {"address": 'module.dev.module.kms.aws_kms_key.this["logs"]', "type": "aws_kms_key"}
                            ],
                        }
                    ],
                },
                {"address": "module.prod", "resources": [{"address": "module.prod.aws_sns_topic.t"}]},
            ]
        }
    },
    "resource_changes": [
        {
            "address": 'module.dev.module.kms.aws_kms_key.this["logs"]',
            "module_address": "module.dev.module.kms",
            "mode": "managed",
            "type": "aws_kms_key",
            "change": {"actions": ["create"], "after": {}},
        },
        {
            "address": "module.prod.aws_sns_topic.t",
            "module_address": "module.prod",
            "mode": "managed",
            "type": "aws_sns_topic",
            "change": {"actions": ["create"], "after": {}},
        },
    ],
    "configuration": {
        "provider_config": {
            "module.dev:aws": {
                "name": "aws",
                "module_address": "module.dev",
                "expressions": {"region": {"references": ["var.region"]}},
            },
            "module.dev:aws.dr": {"name": "aws", "alias": "dr", "module_address": "module.dev"},
            "module.prod:aws": {"name": "aws", "module_address": "module.prod"},
        },
        "root_module": {
            "module_calls": {
                "dev": {
                    "source": "../s",
                    "expressions": {"region": {"constant_value": "eu-west-1"}},
                    "module": {"module_calls": {"kms": {"module": {}}}},
                },
                "prod": {"source": "../s", "expressions": {}, "module": {}},
            }
        },
    },
}


def test_split_plan_gives_each_env_the_shape_of_its_own_stack_plan():
    dev = planroot.split_plan(COMPOSITE, "dev")
    assert [r["address"] for r in dev["resource_changes"]] == ['module.kms.aws_kms_key.this["logs"]']
    assert dev["resource_changes"][0]["module_address"] == "module.kms"
    assert dev["planned_values"]["root_module"]["child_modules"][0]["address"] == "module.kms"
    assert dev["planned_values"]["root_module"]["child_modules"][0]["resources"][0]["address"] == (
        'module.kms.aws_kms_key.this["logs"]'
    )
    assert set(dev["configuration"]["provider_config"]) == {"aws", "aws.dr"}
    assert "module_address" not in dev["configuration"]["provider_config"]["aws"]
    assert dev["variables"] == {"region": {"value": "eu-west-1"}}
    prod = planroot.split_plan(COMPOSITE, "prod")
    assert [r["address"] for r in prod["resource_changes"]] == ["aws_sns_topic.t"]


# ---------------------------------------------------------------- tags gate
def _change(address: str, after: dict, unknown: dict | None = None, actions=("create",)) -> dict:
    parsed = tfsource.parse_address(address)
    return {
        "address": address,
        "mode": "managed",
        "type": parsed.type,
        "name": parsed.name,
        "change": {"actions": list(actions), "after": after, "after_unknown": unknown or {}},
    }


def test_tag_gate_names_missing_and_wrong_tags_and_ignores_untaggable_types():
    dev = env()
    good = dict(dev.stack_tags)  # the env's tags + tenant=shared (tenant rules: tests/unit/test_tenant_tags.py)
    plan = {
        "resource_changes": [
            _change("aws_sns_topic.ok", {"tags_all": good}),
            _change("aws_sns_topic.missing", {"tags_all": {"environment": "dev"}}),
            _change("aws_sns_topic.wrong", {"tags_all": {**good, "owner": "someone"}}),
            _change("aws_route.untaggable", {"destination_cidr_block": "0.0.0.0/0"}),
            _change("aws_sns_topic.gone", {}, actions=("delete",)),
            # no default_tags: tags_all stays unknown at plan time, the resource's own tags are what it gets
            _change("aws_kms_key.bare", {"tags": None}, {"tags_all": True}),
            _change("aws_kms_key.own", {"tags": good}, {"tags_all": True}),
            _change("aws_kms_key.later", {}, {"tags_all": True, "tags": True}),
        ]
    }
    found = {f.address: f.message for f in tagging.tag_findings(plan, dev, "kms") if f.rule == "required-tags"}
    assert set(found) == {"aws_sns_topic.missing", "aws_sns_topic.wrong", "aws_kms_key.bare", "aws_kms_key.later"}
    assert found["aws_kms_key.bare"] == "missing required tags environment, service, owner, cost-center"
    assert found["aws_kms_key.later"] == "its tags are unknown until apply"
    assert found["aws_sns_topic.missing"] == "missing required tags service, owner, cost-center"
    assert "owner='someone' (expected 'platform-team')" in found["aws_sns_topic.wrong"]


# ---------------------------------------------------------------- pricing
def test_rds_price_doubles_for_multi_az_and_counts_storage():
    c = catalog()
    prices = c.regions["eu-west-1"]
    rc = _change(
        "module.rds.aws_db_instance.this",
        {"instance_class": "db.r6g.xlarge", "multi_az": True, "allocated_storage": 200, "storage_type": "gp3"},
    )
    cost = pricing.estimate(c, env("prod"), {"data": {"resource_changes": [rc]}}, True)
    expected = 2 * (prices.rds_hourly["db.r6g.xlarge"] * c.hours_per_month + prices.rds_storage_gb_month["gp3"] * 200)
    assert cost.lines[0].monthly_usd == round(expected, 2)
    assert "Multi-AZ" in cost.lines[0].basis


def test_node_group_price_counts_desired_nodes_and_the_launch_template_volume():
    c = catalog()
    prices = c.regions["eu-west-1"]
    group = _change(
        'module.eks.aws_eks_node_group.tenant["standard"]',
        {"instance_types": ["m6i.xlarge"], "scaling_config": [{"desired_size": 3}]},
    )
    group["module_address"] = "module.eks"
    template = _change(
        'module.eks.aws_launch_template.node["standard"]',
        {"block_device_mappings": [{"ebs": [{"volume_size": 100, "volume_type": "gp3"}]}]},
    )
    template["module_address"] = "module.eks"
    cost = pricing.estimate(c, env("prod"), {"cluster": {"resource_changes": [group, template]}}, True)
    by_type = {line.type: line for line in cost.lines}
    node = prices.ec2_hourly["m6i.xlarge"] * c.hours_per_month + prices.ebs_gb_month["gp3"] * 100
    assert by_type["aws_eks_node_group"].monthly_usd == round(3 * node, 2)
    assert by_type["aws_launch_template"].monthly_usd == 0.0


def test_unknown_types_are_unpriced_never_zero_and_fail_the_cost_gate():
    c = catalog()
    plan = {"resource_changes": [_change("aws_sqs_queue.q", {}), _change("aws_kms_key.k", {})]}
    cost = pricing.estimate(c, env("dev"), {"kms": plan}, False)
    assert cost.unpriced == ["aws_sqs_queue.q"]
    assert cost.total_usd == c.regions["eu-west-1"].monthly["aws_kms_key"]
    found = pricing.findings(cost, c)
    assert [(f.gate, f.rule, f.address) for f in found] == [("cost", "unpriced", "aws_sqs_queue.q")]
    assert "not counted as zero" in found[0].message


def test_over_budget_is_an_env_finding_and_says_when_the_total_is_partial():
    c = catalog()
    plan = {"resource_changes": [_change(f"aws_kms_key.k{i}", {}) for i in range(3)]}
    small = env("dev").model_copy(update={"budget": env("dev").budget.model_copy(update={"monthly_usd": 2.0})})
    found = pricing.findings(pricing.estimate(c, small, {"kms": plan}, False), c)
    assert [(f.rule, f.stack, f.env) for f in found] == [("over-budget", "*", "dev")]
    assert "exceeds the budget of $2.00" in found[0].message and "planned stacks only" in found[0].message


def test_a_resource_on_the_dr_provider_is_priced_in_the_dr_region():
    plan = {
        "variables": {"dr_region": {"value": "eu-central-1"}},
        "resource_changes": [
            {**_change("module.dr.aws_nat_gateway.n", {}), "module_address": "module.dr"},
        ],
        "configuration": {
            "provider_config": {"aws.dr": {"expressions": {"region": {"references": ["var.dr_region"]}}}},
            "root_module": {
                "module_calls": {
                    "dr": {
                        "module": {
                            "resources": [{"type": "aws_nat_gateway", "name": "n", "provider_config_key": "aws.dr"}]
                        }
                    }
                }
            },
        },
    }
    c = catalog()
    cost = pricing.estimate(c, env("dev"), {"network": plan}, True)
    assert cost.lines[0].monthly_usd == round(c.regions["eu-central-1"].hourly["aws_nat_gateway"] * 730, 2)
    assert cost.lines[0].basis.endswith("(eu-central-1)")


# ---------------------------------------------------------------- source facts
def test_source_facts_find_module_folders_declarations_and_skip_comments(tmp_path):
    (tmp_path / "modules" / "m").mkdir(parents=True)
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text('module "child" {\n  source = "../modules/m"\n}\n')
    (tmp_path / "modules" / "m" / "main.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n'
        "  #checkov:skip=CKV_AWS_18:logs go elsewhere\n"
        "  #checkov:skip=CKV_AWS_21\n"
        '  bucket = "x"\n'
        "}\n"
    )
    stack = tmp_path / "stack"
    assert tfsource.module_dirs(stack) == [stack, tmp_path / "modules" / "m"]
    where, folder = tfsource.locate(stack, 'module.child.aws_s3_bucket.b["k"]')
    assert (where.line, folder) == (1, tmp_path / "modules" / "m")
    skips = {(s.check_id, s.reason, s.line, s.resource) for s in tfsource.skips_in(folder)}
    assert skips == {
        ("CKV_AWS_18", "logs go elsewhere", 2, ("aws_s3_bucket", "b")),
        ("CKV_AWS_21", "", 3, ("aws_s3_bucket", "b")),
    }
    assert tfsource.inline_skip(stack, "module.child.aws_s3_bucket.b", "CKV_AWS_18").reason == "logs go elsewhere"
    assert tfsource.inline_skip(stack, "module.child.aws_s3_bucket.b", "CKV_AWS_99") is None


def test_a_source_finding_the_plans_evaluated_in_every_env_is_superseded():
    f = Finding(
        gate="security",
        rule="CKV_AWS_338",
        stack="network",
        env=None,
        message="m",
        address="module.network.aws_cloudwatch_log_group.flow_log",
    )
    key = (("network",), "managed", "aws_cloudwatch_log_group", "flow_log")
    seen = {("network", "dev", "CKV_AWS_338", key)}
    assert not security.superseded(f, ["dev", "prod"], seen)
    seen.add(("network", "prod", "CKV_AWS_338", key))
    assert security.superseded(f, ["dev", "prod"], seen)
    assert not security.superseded(f, [], seen)


def test_checkov_output_is_read_whatever_its_shape(tmp_path):
    item = {
        "check_id": "CKV_AWS_1",
        "check_name": "n",
        "resource": "aws_x.y",
        "file_path": "/a.tf",
        "file_line_range": [3, 9],
        "suppress_comment": "",
    }
    one = {"check_type": "terraform", "results": {"failed_checks": [item], "passed_checks": [item]}}
    empty = {"check_type": "terraform_plan", "summary": {"passed": 0}}
    for text in (json.dumps(one), json.dumps([one, empty]), json.dumps(one) + "\n" + json.dumps(one)):
        results = checkov.parse(text, cwd=tmp_path)
        assert {r.status for r in results} == {"failed", "passed"}
        assert results[0].file == str(tmp_path / "a.tf") and results[0].lines == (3, 9)
    skipped = {**item, "suppress_comment": None, "check_result": {"result": "SKIPPED", "suppress_comment": "why"}}
    doc = {"results": {"skipped_checks": [skipped]}}
    assert [(r.status, r.reason) for r in checkov.parse(json.dumps(doc), cwd=tmp_path)] == [("skipped", "why")]


# ---------------------------------------------------------------- reports
def _report() -> ValidationReport:
    findings = [
        Finding(gate="fmt", rule="unformatted", stack="kms", env=None, message="not formatted", file="terraform/x.tf"),
        Finding(
            gate="tags",
            rule="required-tags",
            stack="kms",
            env="dev",
            message="missing owner",
            address="aws_sns_topic.t",
            file="terraform/y.tf",
            line=4,
        ),
        Finding(gate="cost", rule="over-budget", stack="*", env="dev", message="over", file="environments/dev.yaml"),
    ]
    gates = {"fmt": "fail", "validate": "pass", "plan": "pass", "security": "pass", "tags": "fail", "cost": "fail"}
    cells = [Cell(stack="kms", env="dev", gates=gates), Cell(stack="kms", env="prod", gates={**gates, "tags": "pass"})]
    cost = EnvCost(
        env="dev",
        catalog_version="v",
        budget_usd=1,
        complete=True,
        lines=[CostLine(stack="kms", address="a", type="aws_kms_key", monthly_usd=2.0, basis="b")],
    )
    return ValidationReport(
        envs=["dev", "prod"], stacks=["kms"], cells=cells, findings=findings, waived=[], costs={"dev": cost}
    )


def test_sarif_has_one_result_per_finding_with_rule_and_location():
    doc = reports.sarif(_report())
    assert doc["version"] == "2.1.0"
    results = doc["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["fmt/unformatted", "tags/required-tags", "cost/over-budget"]
    tag = results[1]["locations"][0]
    assert tag["physicalLocation"] == {"artifactLocation": {"uri": "terraform/y.tf"}, "region": {"startLine": 4}}
    assert tag["logicalLocations"][0]["fullyQualifiedName"] == "kms:aws_sns_topic.t"
    rules = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert rules == {"fmt/unformatted", "tags/required-tags", "cost/over-budget"}


def test_junit_has_a_failed_case_per_finding_and_a_case_per_passing_gate(tmp_path):
    written = reports.write(_report(), tmp_path)
    assert [p.name for p in written] == ["validate.json", "validate.junit.xml", "validate.sarif"]
    root = ET.parse(tmp_path / "validate.junit.xml").getroot()
    failures = root.findall(".//testcase/failure")
    assert len(failures) == 3
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert suites["tags"].get("failures") == "1" and suites["tags"].get("tests") == "2"  # prod passed, dev failed
    assert len(suites["validate"].findall("testcase")) == 1  # static gates: once per stack
    assert json.loads((tmp_path / "validate.json").read_text())["ok"] is False


# ---------------------------------------------------------------- --changed-since
def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(project: Path) -> Path:
    (project / "pricing").mkdir()
    (project / "pricing" / "aws.yaml").write_text((REPO / "pricing" / "aws.yaml").read_text())
    _git(project, "init", "-q", "-b", "main")
    _git(project, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base", "--allow-empty")
    _git(project, "add", "-A")
    _git(project, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "tree")
    return project


def _affected(project: Path, ref: str = "HEAD") -> dict[str, set[str]]:
    p = Project(root=project, work_dir=project / ".infractl")
    return changes.affected_cells(p, graph.load_manifest(p), ref, ["dev", "prod", "staging"])


ALL_ENVS = {"dev", "prod", "staging"}


def test_nothing_changed_validates_nothing(repo):
    assert _affected(repo) == {}


def test_a_module_change_selects_every_stack_using_it_and_their_dependents(repo):
    with (repo / "terraform" / "modules" / "aws" / "rds" / "main.tf").open("a") as f:
        f.write("\n# touched\n")
    assert _affected(repo) == {"data": ALL_ENVS}
    with (repo / "terraform" / "modules" / "aws" / "kms" / "main.tf").open("a") as f:
        f.write("\n# touched\n")
    # kms module: the kms and evidence stacks use it; network, cluster, data, ci and registry depend on them
    assert set(_affected(repo)) == {"kms", "evidence", "network", "cluster", "data", "ci", "registry"}


def test_a_deleted_module_file_still_selects_the_stacks_using_it(repo):
    (repo / "terraform" / "modules" / "aws" / "budgets" / "outputs.tf").unlink()
    assert _affected(repo) == {"finops": ALL_ENVS}


def test_an_env_file_change_selects_every_stack_in_that_env_only_and_shared_files_count(repo):
    with (repo / "environments" / "staging.yaml").open("a") as f:
        f.write("\n# touched\n")
    assert _affected(repo) == {
        s: {"staging"} for s in ("kms", "network", "cluster", "data", "evidence", "ci", "finops", "registry")
    }
    _git(repo, "checkout", "-q", "--", "environments/staging.yaml")
    with (repo / "terraform" / "stacks" / "aws" / "_shared" / "common_variables.tf").open("a") as f:
        f.write("\n# touched\n")
    assert set(_affected(repo)) == {"kms", "network", "cluster", "data", "evidence", "ci", "finops", "registry"}


def test_committed_changes_count_from_the_merge_base(repo):
    (repo / "terraform" / "stacks" / "aws" / "finops" / "extra.tf").write_text("locals {}\n")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "finops")
    assert _affected(repo, "HEAD~1") == {"finops": ALL_ENVS}
    from infractl.errors import UsageError

    with pytest.raises(UsageError, match="not a commit"):
        _affected(repo, "no-such-branch")


# ---------------------------------------------------------------- attribution, placement, isolation
@pytest.fixture
def engine(tmp_path, monkeypatch):
    """A RunState over the repository's stacks (nothing is run)."""
    from infractl.models.runs import NullProgress
    from infractl.services.context import Context
    from infractl.settings import Settings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALREALREALREAL")
    monkeypatch.setenv("AWS_PROFILE", "prod-admin")
    project = Project(root=REPO, work_dir=tmp_path / "work")
    ctx = Context(project=project, settings=Settings(), environ=dict(__import__("os").environ))
    manifest = graph.load_manifest(project)
    v = runstate.RunState(ctx, manifest, {"dev": env()}, NullProgress(), 2, False)
    works = {n: runstate.StackWork(Stack(name=n, spec=manifest.stacks[n]), ["dev"]) for n in ("kms", "evidence")}
    return v, works


def test_an_error_belongs_to_the_stack_its_address_starts_in_not_a_nested_module_of_the_same_name(engine, tmp_path):
    v, works = engine
    both = list(works.values())
    root = tmp_path / "src" / "_infractl_plan_root"
    nested = {"severity": "error", "summary": "x", "address": "module.evidence.module.kms.aws_kms_key.this"}
    assert [w.stack.name for w in placement.owners(v, nested, both, root)] == ["evidence"]
    in_text = {"severity": "error", "summary": "bad", "detail": "with module.evidence.module.kms.aws_kms_key.this"}
    assert [w.stack.name for w in placement.owners(v, in_text, both, root)] == ["evidence"]
    stack_file = {"severity": "error", "summary": "x", "range": {"filename": "../stacks/aws/kms/main.tf"}}
    assert [w.stack.name for w in placement.owners(v, stack_file, both, root)] == ["kms"]
    module_file = {
        "severity": "error",
        "summary": "x",
        "range": {"filename": str(REPO / "terraform/modules/aws/kms/main.tf")},
    }
    # both use it
    assert sorted(w.stack.name for w in placement.owners(v, module_file, both, root)) == ["evidence", "kms"]
    assert placement.owners(v, {"severity": "error", "summary": "provider failed"}, both, root) == []


def test_every_finding_gets_a_file_for_code_scanning(engine):
    v, _ = engine
    placed = placement.place(v, Finding(gate="plan", rule="terraform-error", stack="kms", env="dev", message="m"))
    assert placed.file == "terraform/stacks/aws/kms/main.tf"
    env_wide = placement.place(v, Finding(gate="plan", rule="terraform-error", stack="*", env="prod", message="m"))
    assert env_wide.file == "environments/prod.yaml"
    located = placement.place(
        v,
        Finding(
            gate="tags",
            rule="required-tags",
            stack="data",
            env="dev",
            message="m",
            address="module.rds.aws_db_instance.this",
        ),
    )
    assert located.file == "terraform/modules/aws/rds/main.tf" and located.line > 1


def test_terraform_for_validate_sees_no_aws_setup_of_this_machine(engine, tmp_path):
    v, _ = engine
    child = v.runner(tmp_path, tmp_path, ("dev", "kms"), "kms").env
    assert not {k for k in child if k.startswith("AWS_")} - {
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_EC2_METADATA_DISABLED",
    }
    assert child["AWS_CONFIG_FILE"] == child["AWS_SHARED_CREDENTIALS_FILE"] == __import__("os").devnull


def test_checkov_runs_on_an_allowlisted_environment_with_its_own_configuration(tmp_path):
    fake = tmp_path / "checkov"
    fake.write_text(
        "#!/bin/sh\n"
        f'env > "{tmp_path}/env.txt"; echo "$@" > "{tmp_path}/args.txt"; pwd > "{tmp_path}/cwd.txt"\n'
        'echo \'{"check_type": "terraform", "results": {}}\'\n'
    )
    fake.chmod(0o755)
    base = {"PATH": "/usr/bin:/bin", "CKV_SKIP_CHECK": "CKV_AWS_1", "BC_API_KEY": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    scratch = tmp_path / "scratch"
    assert checkov.scan(str(fake), scratch=scratch, base_env=base, directory=tmp_path) == []
    seen = dict(line.split("=", 1) for line in (tmp_path / "env.txt").read_text().splitlines() if "=" in line)
    assert not {"CKV_SKIP_CHECK", "BC_API_KEY", "AWS_SECRET_ACCESS_KEY"} & seen.keys()
    assert seen["HOME"] == str(scratch) and (tmp_path / "cwd.txt").read_text().strip() == str(scratch)
    args = (tmp_path / "args.txt").read_text().split()
    assert args[:2] == ["--config-file", str(scratch / "checkov.yaml")] and "--skip-download" in args


def test_split_plan_drops_the_emulator_settings_and_keeps_provider_keys_resolvable():
    doc = json.loads(json.dumps(COMPOSITE))
    doc["configuration"]["provider_config"]["aws.p1"] = {
        "name": "aws",
        "alias": "p1",
        "expressions": {
            "region": {"constant_value": "eu-west-1"},
            "access_key": {"constant_value": "INFRACTL1"},
            "endpoints": [{"s3": {"constant_value": "https://127.0.0.1:1"}}],
        },
    }
    doc["configuration"]["root_module"]["module_calls"]["dev"]["module"]["module_calls"]["kms"]["module"] = {
        "resources": [
            {
                "address": "aws_kms_key.this",
                "type": "aws_kms_key",
                "name": "this",
                "provider_config_key": "module.dev:aws.dr",
            }
        ]
    }
    dev = planroot.split_plan(doc, "dev")
    assert dev["configuration"]["provider_config"]["aws.p1"]["expressions"] == {
        "region": {"constant_value": "eu-west-1"}
    }
    kms = dev["configuration"]["root_module"]["module_calls"]["kms"]["module"]
    assert kms["resources"][0]["provider_config_key"] == "aws.dr"
    assert "aws.dr" in dev["configuration"]["provider_config"]


def test_example_outputs_fill_only_the_four_names(engine):
    v, _ = engine
    stacks = {k: s.model_dump() for k, s in v.manifest.stacks.items()}
    stacks["kms"]["example_outputs"]["logs_key_id"] = '{"policy": "{region}-{unknown}"}'
    manifest = Manifest.model_validate({"stacks": stacks})
    network = Stack(name="network", spec=manifest.stacks["network"])
    inputs = planroot.example_inputs(network, env(), manifest, display="stacks.yaml")
    assert inputs["flow_log_kms_key_arn"] == '{"policy": "eu-west-1-{unknown}"}'
