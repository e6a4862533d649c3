"""`infractl validate` and `infractl cost` for real: terraform fmt/init/validate/plan against the session's moto
server, checkov from its tool virtualenv, the report files parsed back.

The clean tree is validated once for the module (every stack x dev, staging and prod); the planted faults share
one run on a broken copy (two stacks, dev only), each asserted by gate, rule and the offender's address.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from infractl.cli.main import main
from tests.conftest import REPO

CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"
STACKS = {"kms", "network", "cluster", "data", "evidence", "ci", "finops", "registry"}
GATES = {"fmt", "validate", "parity", "plan", "security", "tags", "cost"}


def _copy_project(dest: Path) -> Path:
    for folder in ("environments", "terraform", "pricing"):
        shutil.copytree(
            REPO / folder, dest / folder, symlinks=True, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*")
        )
    (dest / "docs").mkdir()
    shutil.copy(REPO / "docs" / "parity.md", dest / "docs" / "parity.md")  # the parity gate compares it
    return dest


@pytest.fixture(scope="module")
def validate_env(work_dir, mirror):
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: `make tools` installs checkov into its own virtualenv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INFRACTL_WORK_DIR", str(work_dir))
        mp.setenv("INFRACTL_PROVIDER_MIRROR", mirror)
        mp.setenv("INFRACTL_CHECKOV_BIN", str(CHECKOV))
        mp.delenv("INFRACTL_ROOT", raising=False)
        mp.delenv("CI", raising=False)
        yield work_dir


def _run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def clean(validate_env, tmp_path_factory):
    """The clean tree validated once: (project, report folder, exit code, stdout)."""
    project = _copy_project(tmp_path_factory.mktemp("clean") / "project")
    out_dir = project / "out"
    code = main(["--root", str(project), "validate", "--report-dir", str(out_dir)])
    return project, out_dir, code


def test_the_clean_tree_passes_every_gate_for_every_env(clean):
    project, out_dir, code = clean
    report = json.loads((out_dir / "validate.json").read_text())
    failing = [(f["gate"], f["stack"], f["env"], f["message"]) for f in report["findings"]]
    assert code == 0, failing
    assert report["ok"] is True and failing == []
    assert {(c["stack"], c["env"]) for c in report["cells"]} == {
        (s, e) for s in STACKS for e in ("dev", "staging", "prod")
    }
    for cell in report["cells"]:
        assert cell["gates"] == dict.fromkeys(GATES, "pass"), cell
    # every env is priced against its own budget with the versioned catalog, nothing unpriced
    catalog = yaml.safe_load((project / "pricing" / "aws.yaml").read_text())
    for env in ("dev", "staging", "prod"):
        cost = report["costs"][env]
        assert cost["catalog_version"] == catalog["version"] and cost["complete"] is True
        assert cost["unpriced"] == [] and 0 < cost["total_usd"] <= cost["budget_usd"]
    # the waived checkov failures all carry their written reason and where it is
    assert report["waived"] and all(w["reason"] and w["where"] for w in report["waived"])
    # the contract of every cloud holds; azure and gcp are said to be checked without their provider schema
    assert report["parity"]["ok"] is True and report["parity"]["docs"] == "unchanged"
    assert {c["cloud"] for c in report["parity"]["clouds"] if not c["schema_validated"]} == {"azure", "gcp"}


def test_the_clean_reports_parse_and_are_empty_of_findings(clean):
    _, out_dir, _ = clean
    sarif = json.loads((out_dir / "validate.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []
    junit = ET.parse(out_dir / "validate.junit.xml").getroot()
    assert junit.findall(".//failure") == []
    # static gates once per stack; plan, security, tags and cost once per (stack, env)
    cases = junit.findall(".//testcase")
    assert len(cases) == 3 * len(STACKS) + 4 * 3 * len(STACKS)


def test_cost_compares_two_envs_and_a_plan_file(clean, capsys):
    project, _, _ = clean
    code, out, _ = _run(capsys, "--root", str(project), "cost", "dev", "--stack", "data", "--compare", "prod", "--json")
    assert code == 0
    result = json.loads(out)
    catalog = yaml.safe_load((project / "pricing" / "aws.yaml").read_text())
    prices = catalog["regions"]["eu-west-1"]
    dev_env = yaml.safe_load((project / "environments" / "dev.yaml").read_text())["stacks"]["data"]
    dev_db = (
        prices["rds_hourly"][dev_env["instance_class"]] * 730
        + prices["rds_storage_gb_month"]["gp3"] * (dev_env["allocated_storage_gib"])
    )
    lines = {line["address"]: line for line in result["env"]["lines"] if line["type"] == "aws_db_instance"}
    assert lines["module.rds.aws_db_instance.this"]["monthly_usd"] == round(dev_db, 2)
    # dev's tier C tenant initech on its own instance (tenants[].database.dedicated_instance)
    (tenant,) = yaml.safe_load((project / "environments" / "dev.yaml").read_text())["tenants"]
    instance = tenant["database"]["dedicated_instance"]
    tenant_db = (
        prices["rds_hourly"][instance["instance_class"]] * 730
        + prices["rds_storage_gb_month"]["gp3"] * instance["allocated_storage_gib"]
    )
    assert lines['module.tenant_rds["initech"].aws_db_instance.this']["monthly_usd"] == round(tenant_db, 2)
    assert set(lines) == {"module.rds.aws_db_instance.this", 'module.tenant_rds["initech"].aws_db_instance.this'}
    assert result["delta_usd"] == round(result["other"]["total_usd"] - result["env"]["total_usd"], 2) > 0
    assert any(d["address"] == "module.rds.aws_db_instance.this" and d["delta_usd"] > 0 for d in result["differences"])

    # the prod plan JSON validate wrote, given as a file, prices the same as planning prod
    plan_file = project.parent / "prod.plan.json"
    shutil.copy(Path(os.environ["INFRACTL_WORK_DIR"]) / "validate" / "envs" / "prod" / "data.plan.json", plan_file)
    code, out, _ = _run(
        capsys, "--root", str(project), "cost", "dev", "--stack", "data", "--compare", str(plan_file), "--json"
    )
    assert code == 0
    by_file = json.loads(out)
    assert by_file["other"]["total_usd"] == result["other"]["total_usd"]
    assert by_file["differences"] == result["differences"]


def test_cost_refuses_a_file_that_is_not_a_plan(clean, capsys, tmp_path):
    project, _, _ = clean
    bogus = tmp_path / "plan.json"
    bogus.write_text('{"hello": 1}')
    code, _, err = _run(capsys, "--root", str(project), "cost", "dev", "--compare", str(bogus))
    assert code == 3
    assert "resource_changes: missing" in err and "Traceback" not in err


# ---------------------------------------------------------------- planted faults
UNFORMATTED = "locals {\n  answer=42\n}\n"
SYNTAX_ERROR = 'resource "aws_sns_topic" "broken" {\n  name = \n'
PLANTED = """
# an SQS queue without encryption (checkov CKV_AWS_27) of a type the catalog does not price
resource "aws_sqs_queue" "plain" {
  name = "${var.environment}-plain"
}

# a checkov skip without a reason
resource "aws_cloudwatch_log_group" "unexplained" {
  #checkov:skip=CKV_AWS_158
  name              = "${var.environment}-unexplained"
  retention_in_days = 400
}

# a provider without default_tags: its resources miss the required tags
provider "aws" {
  alias               = "untagged"
  region              = var.region
  allowed_account_ids = [var.account_id]
}

resource "aws_kms_key" "untagged" {
  provider            = aws.untagged
  description         = "planted: no required tags"
  enable_key_rotation = true
}

# a tenant's resource (the planted finops.tenant_resources entry) with only the default_tags' tenant = "shared"
resource "aws_kms_key" "tenant_initech" {
  description         = "planted: initech's key without tenant = initech"
  enable_key_rotation = true
}

# a shared resource tagged as a tenant's
resource "aws_kms_key" "mislabelled" {
  description         = "planted: a shared key tagged tenant = initech"
  enable_key_rotation = true
  tags                = { tenant = "initech" }
}
"""
# dev's tenant-scoped resources get one more pattern: the kms stack's aws_kms_key.tenant_<tenant>
PLANTED_TENANT_RESOURCE = "    - {stack: kms, address: 'aws_kms_key.tenant_{tenant}'}\n"


# the other clouds' stacks are scanned statically: a checkov failure, a skip without reason, a contract violation
PLANTED_AZURE = """
resource "azurerm_storage_account" "planted" {
  name                     = "plantedweaktls"
  resource_group_name      = "planted"
  location                 = var.region
  account_tier             = "Standard"
  account_replication_type = "LRS"
  min_tls_version          = "TLS1_0"
}
"""
PLANTED_GCP = """
output "planted" {
  description = "not in the contract"
  value       = 1
}

resource "google_storage_bucket" "planted" {
  #checkov:skip=CKV_GCP_62
  name     = "planted"
  location = "EU"
}
"""


@pytest.fixture(scope="module")
def planted(validate_env, tmp_path_factory):
    project = _copy_project(tmp_path_factory.mktemp("planted") / "project")
    (project / "terraform" / "stacks" / "azure" / "evidence" / "planted.tf").write_text(PLANTED_AZURE)
    (project / "terraform" / "stacks" / "gcp" / "network" / "planted.tf").write_text(PLANTED_GCP)
    kms = project / "terraform" / "stacks" / "aws" / "kms"
    (kms / "planted.tf").write_text(PLANTED)
    (kms / "unformatted.tf").write_text(UNFORMATTED)
    (project / "terraform" / "modules" / "aws" / "kms" / "unformatted.tf").write_text(UNFORMATTED)  # a module's
    (project / "terraform" / "stacks" / "aws" / "finops" / "broken.tf").write_text(SYNTAX_ERROR)
    # the ci stack's own provider block loses its default_tags: its lifted configuration must lose them too
    providers = project / "terraform" / "stacks" / "aws" / "ci" / "providers.tf"
    providers.write_text(providers.read_text().replace("default_tags {\n    tags = var.tags\n  }\n", ""))
    dev = project / "environments" / "dev.yaml"
    text = dev.read_text().replace("monthly_usd: 1500", "monthly_usd: 2")
    dev.write_text(text.replace("  tenant_resources:\n", "  tenant_resources:\n" + PLANTED_TENANT_RESOURCE, 1))
    out_dir = project / "out"
    args = ["validate", "-e", "dev", "-s", "kms", "-s", "finops", "-s", "ci", "--report-dir", str(out_dir)]
    code = main(["--root", str(project), *args])
    report = json.loads((out_dir / "validate.json").read_text())
    return code, report, out_dir


def _find(report, gate, rule, stack=None):
    return [
        f
        for f in report["findings"]
        if f["gate"] == gate and f["rule"] == rule and (stack is None or f["stack"] == stack)
    ]


def test_planted_faults_fail_the_run(planted):
    code, report, _ = planted
    assert code == 1 and report["ok"] is False


def test_a_syntax_error_fails_fmt_and_validate_with_file_and_line(planted):
    _, report, _ = planted
    assert _find(report, "fmt", "syntax", "finops")
    errors = _find(report, "validate", "terraform-error", "finops")
    assert any(f["file"] == "terraform/stacks/aws/finops/broken.tf" and f["line"] >= 1 for f in errors), errors
    finops = {c["gates"]["plan"] for c in report["cells"] if c["stack"] == "finops"}
    assert finops == {"not-run"}


def test_the_other_clouds_are_scanned_by_checkov_and_held_to_their_contract(planted):
    _, report, _ = planted
    weak_tls = _find(report, "security", "CKV_AZURE_44", "azure/evidence")
    assert [(f["address"], f["file"], f["line"]) for f in weak_tls] == [
        ("azurerm_storage_account.planted", "terraform/stacks/azure/evidence/planted.tf", 2)
    ]
    found = _find(report, "security", "skip-without-reason", "gcp/network")
    assert [(f["file"], f["line"]) for f in found] == [("terraform/stacks/gcp/network/planted.tf", 8)]
    [undeclared] = _find(report, "parity", "undeclared-output", "gcp/network")
    assert "gcp/network: output 'planted' is not in the contract" in undeclared["message"]
    assert report["parity"]["ok"] is False
    # the aws cells do not fail for another cloud's findings; finops' own file does not parse (a parity finding too)
    assert {c["stack"] for c in report["cells"] if c["gates"]["parity"] == "fail"} == {"finops"}
    assert _find(report, "parity", "syntax", "finops")


def test_an_unformatted_file_fails_fmt(planted):
    _, report, _ = planted
    found = _find(report, "fmt", "unformatted", "kms")
    assert sorted(f["file"] for f in found) == [
        "terraform/modules/aws/kms/unformatted.tf",
        "terraform/stacks/aws/kms/unformatted.tf",
    ]


def test_a_resource_failing_a_checkov_check_is_named_by_address_and_line(planted):
    _, report, _ = planted
    found = [f for f in report["findings"] if f["gate"] == "security" and f["rule"] == "CKV_AWS_27"]
    assert found and all(f["address"] == "aws_sqs_queue.plain" for f in found)
    assert any(f["file"] == "terraform/stacks/aws/kms/planted.tf" and f["line"] == 3 for f in found)


def test_a_checkov_skip_without_reason_fails_security(planted):
    _, report, _ = planted
    found = _find(report, "security", "skip-without-reason", "kms")
    assert [(f["file"], f["line"]) for f in found] == [("terraform/stacks/aws/kms/planted.tf", 9)]
    assert "checkov:skip=CKV_AWS_158 gives no reason" in found[0]["message"]


def test_a_missing_required_tag_fails_tags_with_the_address(planted):
    _, report, _ = planted
    found = _find(report, "tags", "required-tags", "kms")
    assert [f["address"] for f in found] == ["aws_kms_key.untagged"]
    assert "missing required tags environment, service, owner, cost-center" in found[0]["message"]


def test_a_tenant_resource_without_its_tenant_tag_fails_tenant_tag_in_a_real_plan(planted):
    _, report, _ = planted
    [found] = _find(report, "tags", "tenant-tag", "kms")
    assert found["address"] == "aws_kms_key.tenant_initech"
    assert found["message"].startswith("tenant='shared', expected tenant='initech'")
    assert found["file"] == "terraform/stacks/aws/kms/planted.tf"


def test_a_shared_resource_without_tenant_shared_fails_shared_tag_in_a_real_plan(planted):
    _, report, _ = planted
    found = {f["address"]: f["message"] for f in _find(report, "tags", "shared-tag", "kms")}
    # the mislabelled key, and the key on the provider without default_tags (no tenant tag at all)
    assert set(found) == {"aws_kms_key.mislabelled", "aws_kms_key.untagged"}
    assert found["aws_kms_key.mislabelled"].startswith("tenant='initech', expected tenant='shared'")
    assert found["aws_kms_key.untagged"].startswith("no tenant tag, expected tenant='shared'")


def test_a_stack_provider_without_default_tags_fails_tags_for_its_resources(planted):
    _, report, _ = planted
    found = _find(report, "tags", "required-tags", "ci")
    assert found and all("missing required tags" in f["message"] for f in found)
    assert any(f["address"].endswith("aws_iam_role.apply") for f in found), [f["address"] for f in found]


def test_an_unpriced_type_is_reported_not_counted_as_zero(planted):
    _, report, _ = planted
    found = _find(report, "cost", "unpriced", "kms")
    assert [f["address"] for f in found] == ["aws_sqs_queue.plain"]
    assert report["costs"]["dev"]["unpriced"] == ["aws_sqs_queue.plain"]
    line = next(x for x in report["costs"]["dev"]["lines"] if x["address"] == "aws_sqs_queue.plain")
    assert line["monthly_usd"] is None


def test_a_budget_exceeded_fails_cost_for_the_env(planted):
    _, report, _ = planted
    found = _find(report, "cost", "over-budget")
    assert len(found) == 1 and found[0]["env"] == "dev" and found[0]["file"] == "environments/dev.yaml"
    assert "exceeds the budget of $2.00" in found[0]["message"]


def test_the_reports_carry_one_result_per_finding(planted):
    _, report, out_dir = planted
    findings = report["findings"]
    sarif = json.loads((out_dir / "validate.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert len(results) == len(findings)
    assert [r["ruleId"] for r in results] == [f"{f['gate']}/{f['rule']}" for f in findings]
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} == rule_ids
    junit = ET.parse(out_dir / "validate.junit.xml").getroot()
    failures = junit.findall(".//testcase/failure")
    assert len(failures) == len(findings)
    assert {f.get("type") for f in failures} == {f["rule"] for f in findings}


def test_fail_fast_starts_nothing_after_the_first_failure(planted):
    _, _, out_dir = planted
    project = out_dir.parent
    fast = project / "out-fast"
    args = ["validate", "-e", "dev", "-s", "kms", "-s", "finops", "--fail-fast", "--report-dir", str(fast)]
    assert main(["--root", str(project), *args]) == 1
    report = json.loads((fast / "validate.json").read_text())
    assert {c["gates"]["plan"] for c in report["cells"]} == {"not-run"}
    assert [f["rule"] for f in report["findings"] if f["gate"] == "fmt"]  # what ran before the stop is reported
    assert report["timings"].get("plan dev") is None  # no plan started


# ---------------------------------------------------------------- errors found in the shared runs
@pytest.fixture(scope="module")
def isolated(validate_env, tmp_path_factory):
    """A validate error in ci and a plan error in kms (dev only), finops clean: the one validate run and the one
    plan of dev must put each error on its stack, and plan the clean stack again without the broken one."""
    project = _copy_project(tmp_path_factory.mktemp("isolated") / "project")
    stacks = project / "terraform" / "stacks" / "aws"
    (stacks / "ci" / "broken.tf").write_text('output "nope" {\n  value = var.not_declared\n}\n')
    (stacks / "kms" / "precondition.tf").write_text(
        'resource "terraform_data" "guard" {\n'
        "  lifecycle {\n"
        "    precondition {\n"
        '      condition     = var.environment != "dev"\n'
        '      error_message = "planted: refuses dev"\n'
        "    }\n"
        "  }\n"
        "}\n"
    )
    out_dir = project / "out"
    args = ["validate", "-e", "dev", "-s", "kms", "-s", "ci", "-s", "finops", "--report-dir", str(out_dir)]
    code = main(["--root", str(project), *args])
    return code, json.loads((out_dir / "validate.json").read_text())


def test_a_validate_error_in_the_shared_run_fails_only_its_stack(isolated):
    code, report = isolated
    assert code == 1
    gates = {c["stack"]: c["gates"] for c in report["cells"]}
    assert (gates["ci"]["validate"], gates["ci"]["plan"]) == ("fail", "not-run")
    assert gates["kms"]["validate"] == gates["finops"]["validate"] == "pass"
    found = _find(report, "validate", "terraform-error", "ci")
    assert [(f["file"], f["line"]) for f in found] == [("terraform/stacks/aws/ci/broken.tf", 2)]
    assert "validate all stacks" in report["timings"]  # one run, not one per stack


def test_a_plan_error_fails_its_stack_and_the_others_are_planned_again(isolated):
    _, report = isolated
    gates = {c["stack"]: c["gates"] for c in report["cells"]}
    assert gates["kms"]["plan"] == "fail" and gates["finops"]["plan"] == "pass"
    found = _find(report, "plan", "terraform-error", "kms")
    assert found and "planted: refuses dev" in found[0]["message"]
    assert found[0]["file"] == "terraform/stacks/aws/kms/precondition.tf"
    assert [f for f in report["findings"] if f["stack"] == "finops"] == []


# ---------------------------------------------------------------- a change to another cloud only
def test_a_change_to_another_cloud_only_runs_parity_and_checkov(validate_env, tmp_path):
    project = _copy_project(tmp_path / "project")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@e", *args], check=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "tree")
    (project / "terraform" / "stacks" / "azure" / "evidence" / "planted.tf").write_text(PLANTED_AZURE)
    out_dir = project / "out"
    code = main(["--root", str(project), "validate", "--changed-since", "HEAD", "--report-dir", str(out_dir)])
    report = json.loads((out_dir / "validate.json").read_text())
    assert code == 1 and report["cells"] == [] and report["parity"]["ok"] is True
    assert {(f["gate"], f["stack"], f["file"], f["address"]) for f in report["findings"]} == {
        ("security", "azure/evidence", "terraform/stacks/azure/evidence/planted.tf", "azurerm_storage_account.planted")
    }
    assert "CKV_AZURE_44" in {f["rule"] for f in report["findings"]}
    assert not [t for t in report["timings"] if t.startswith(("plan", "stack"))]  # no aws stack ran
