"""`infractl parity`: the three clouds' stacks against terraform/contracts/, and docs/parity.md (terraform fmt only)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from tests.conftest import REPO

from infractl.adapters.hcl import canonical_type


def _report(result) -> dict:
    return json.loads(result.stdout)


def _violations(report: dict, **match: str) -> list[dict]:
    return [v for v in report["violations"] if all(v[k] == val for k, val in match.items())]


@pytest.fixture
def tree(project: Path) -> Path:
    """The project copy with the repository's docs/parity.md, so only the planted change differs."""
    (project / "docs").mkdir()
    shutil.copy(REPO / "docs" / "parity.md", project / "docs" / "parity.md")
    return project


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def test_the_tree_keeps_every_contract_and_its_matrix_is_current(invoke):
    report = _report(invoke("parity", "--check", "--json", root=REPO))
    assert report["ok"] is True and report["violations"] == [] and report["docs"] == "unchanged"
    clouds = {c["cloud"]: c for c in report["clouds"]}
    assert clouds["aws"]["schema_validated"] is True
    assert clouds["azure"]["schema_validated"] is False and clouds["gcp"]["schema_validated"] is False
    stacks = {"kms", "network", "cluster", "data", "evidence", "ci", "finops", "registry"}
    assert set(report["stacks"]) == stacks
    for cloud in ("aws", "azure", "gcp"):
        covered = {c["stack"] for c in report["cells"] if c["cloud"] == cloud}
        assert covered == stacks
    # every gap is explained, and the explanation reaches the generated page
    page = (REPO / "docs" / "parity.md").read_text()
    for cell in report["cells"]:
        if cell["status"] != "same":
            assert len(cell["gap"]) >= 20 and " ".join(cell["gap"].split())[:60] in page
    assert "not validated against the provider schema" in page


def test_a_missing_output_names_cloud_stack_and_field(invoke, tree):
    outputs = tree / "terraform/stacks/azure/network/outputs.tf"
    text = outputs.read_text()
    block = re.search(r'output "network_id" \{.*?\n\}\n', text, re.S)
    assert block
    outputs.write_text(text.replace(block.group(0), ""))
    report = _report(invoke("parity", "--check", "--json", code=1, root=tree))
    [v] = _violations(report, rule="missing-output")
    assert (v["cloud"], v["stack"], v["field"]) == ("azure", "network", "network_id")
    assert "azure/network" in v["message"] and "network_id" in v["message"]
    assert [c["status"] for c in report["cells"] if c["cloud"] == "azure" and c["stack"] == "network"].count(
        "violated"
    ) == 0  # the capabilities still hold: only the interface broke


def test_a_renamed_input_is_missing_and_undeclared_with_its_file_and_line(invoke, tree):
    variables = tree / "terraform/stacks/gcp/network/variables.tf"
    _edit(variables, 'variable "cidr"', 'variable "vpc_cidr"')
    report = _report(invoke("parity", "--check", "--json", code=1, root=tree))
    [missing] = _violations(report, rule="missing-input")
    [undeclared] = _violations(report, rule="undeclared-input")
    assert (missing["cloud"], missing["stack"], missing["field"]) == ("gcp", "network", "cidr")
    assert "gcp/network: input 'cidr' (string) is missing" in missing["message"]
    assert (undeclared["cloud"], undeclared["field"]) == ("gcp", "vpc_cidr")
    line = variables.read_text().splitlines().index('variable "vpc_cidr" {') + 1
    assert (undeclared["file"], undeclared["line"]) == ("terraform/stacks/gcp/network/variables.tf", line)


def test_a_type_mismatch_names_both_types(invoke, tree):
    variables = tree / "terraform/stacks/aws/network/variables.tf"
    text = variables.read_text()
    start = text.index('variable "az_count"')
    variables.write_text(text[:start] + text[start:].replace("type        = number", "type        = string", 1))
    result = invoke("parity", "--check", code=1, root=tree)
    assert "type-mismatch: aws/network: input 'az_count' is string, the contract says number" in result.stdout
    assert "terraform/stacks/aws/network/variables.tf:" in result.stdout and "Traceback" not in result.stderr


def test_a_capability_without_its_setting_or_with_a_forbidden_resource_fails(invoke, tree):
    _edit(tree / "terraform/modules/aws/kms/main.tf", "enable_key_rotation = true", "enable_key_rotation = false")
    with (tree / "terraform/modules/aws/ci-oidc/main.tf").open("a") as fh:
        fh.write('\nresource "aws_iam_access_key" "ci" {\n  user = "ci"\n}\n')
    report = _report(invoke("parity", "--check", "--json", code=1, root=tree))
    [rotation] = _violations(report, rule="capability-setting-missing")
    assert (rotation["cloud"], rotation["stack"], rotation["field"]) == ("aws", "kms", "rotation")
    assert "enable_key_rotation" in rotation["message"] and "terraform/modules/aws/kms/main.tf:" in rotation["message"]
    [forbidden] = _violations(report, rule="forbidden-resource")
    assert forbidden["field"] == "no-static-secrets" and "aws_iam_access_key.ci must not exist" in forbidden["message"]
    cells = {(c["cloud"], c["stack"], c["capability"]): c["status"] for c in report["cells"]}
    assert cells[("aws", "kms", "rotation")] == "violated" and cells[("azure", "kms", "rotation")] != "violated"


def test_a_gap_needs_an_explanation(invoke, tree):
    binding = tree / "terraform/stacks/aws/network/parity.yaml"
    text = binding.read_text()
    binding.write_text(re.sub(r"    gap: >-\n(      .*\n)+", "", text))
    report = _report(invoke("parity", "--check", "--json", code=1, root=tree))
    [v] = _violations(report, rule="invalid-binding")
    assert v["cloud"] == "aws" and v["file"] == "terraform/stacks/aws/network/parity.yaml"
    assert "status 'differs' needs a gap" in v["message"]


def test_a_stale_matrix_fails_the_check_and_parity_rewrites_it(invoke, tree):
    page = tree / "docs" / "parity.md"
    page.write_text(page.read_text().replace("✓", "?", 1))
    result = invoke("parity", "--check", code=1, root=tree)
    assert "docs/parity.md is stale" in result.stdout and "0 violation(s)" in result.stdout
    assert _report(invoke("parity", "--json", root=tree))["docs"] == "updated"
    assert page.read_text() == (REPO / "docs" / "parity.md").read_text()
    assert _report(invoke("parity", "--check", "--json", root=tree))["docs"] == "unchanged"


def test_an_unformatted_file_of_an_unvalidated_cloud_fails(invoke, tree):
    main = tree / "terraform/stacks/gcp/kms/main.tf"
    main.write_text(main.read_text() + '\nlocals {\n    odd   =    "spacing"\n}\n')
    report = _report(invoke("parity", "--check", "--json", code=1, root=tree))
    [v] = _violations(report, rule="unformatted")
    assert (v["cloud"], v["stack"], v["file"]) == ("gcp", "kms", "terraform/stacks/gcp/kms/main.tf")


def test_a_broken_contract_is_a_config_error(invoke, tree):
    _edit(
        tree / "terraform/contracts/finops.yaml",
        "  monthly_limit_usd: {type: number,",
        "  monthly_limit_usd: {typ: number,",
    )
    result = invoke("parity", code=3, root=tree)
    assert "terraform/contracts/finops.yaml: inputs.monthly_limit_usd" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("object({ b = number a = list(string) })", "object({a = list(string), b = number})", True),
        ("map(object({ x = optional(number, 3) }))", "map(object({x=optional(number,3)}))", True),
        ("list(string)", "list(number)", False),
        ("set(string)", "list(string)", False),
        ("object({ a = string })", "object({ a = string, b = string })", False),
    ],
)
def test_types_compare_by_meaning_not_spelling(a, b, same):
    assert (canonical_type(a) == canonical_type(b)) is same


# ---------------------------------------------------------------- stacks without a contract
EXTRA_STACK = """
  extra:
    cloud: aws
    path: aws/extra
    description: a user's own stack
    inputs:
      region: env.region
"""


def _add_stack(tree: Path, declaration: str = "") -> None:
    (tree / "terraform/stacks/aws/extra").mkdir()
    (tree / "terraform/stacks/aws/extra/main.tf").write_text('variable "region" {\n  type = string\n}\n')
    manifest = tree / "terraform/stacks/stacks.yaml"
    manifest.write_text(manifest.read_text() + EXTRA_STACK + declaration)


def test_a_stack_without_a_contract_is_named_as_not_checked(invoke, tree):
    _add_stack(tree)
    result = invoke("parity", "--check", "--json", root=tree)
    report = _report(result)
    assert report["ok"] is True and report["violations"] == []
    assert report["unchecked"] == [{"stack": "extra", "cloud": "aws", "reason": "no-contract"}]
    [note] = report["notes"]
    assert "aws/extra: no contract terraform/contracts/extra.yaml: parity not checked" in note
    assert "parity: single-cloud" in note
    text = invoke("parity", "--check", root=tree).stdout
    assert "aws/extra: no contract" in " ".join(text.split())


def test_a_stack_declared_single_cloud_is_listed_as_such_and_a_contract_contradicts_it(invoke, tree):
    _add_stack(tree, "    parity: single-cloud\n")
    report = _report(invoke("parity", "--check", "--json", root=tree))
    assert report["ok"] is True
    assert report["unchecked"] == [{"stack": "extra", "cloud": "aws", "reason": "single-cloud"}]
    assert report["notes"] == ["aws/extra: single-cloud (terraform/stacks/stacks.yaml): parity not checked"]
    # a stack with a contract declared single-cloud: one of the two is wrong
    manifest = tree / "terraform/stacks/stacks.yaml"
    _edit(manifest, "    path: aws/finops\n", "    path: aws/finops\n    parity: single-cloud\n")
    report = _report(invoke("parity", "--check", "--json", code=1, root=tree))
    [v] = _violations(report, rule="single-cloud-with-contract")
    assert (v["stack"], v["field"], v["file"]) == ("finops", "parity", "terraform/stacks/stacks.yaml")


def test_a_bad_parity_declaration_names_the_field(invoke, tree):
    _add_stack(tree, "    parity: sometimes\n")
    result = invoke("parity", "--check", code=3, root=tree)
    assert "terraform/stacks/stacks.yaml" in result.stderr and "stacks.extra.parity" in result.stderr


def test_a_project_without_contracts_is_not_checked_and_needs_no_parity_page(invoke, tmp_path):
    invoke("init", str(tmp_path / "own"))
    report = _report(invoke("parity", "--check", "--json", root=tmp_path / "own"))
    assert report["ok"] is True and report["docs"] == "not-checked" and report["cells"] == []
    assert report["notes"][0].startswith("no contracts (terraform/contracts/<stack>.yaml): parity not checked")
    assert report["unchecked"] == [{"stack": "example", "cloud": "aws", "reason": "single-cloud"}]
    assert not (tmp_path / "own" / "docs").exists()  # nothing written without contracts
