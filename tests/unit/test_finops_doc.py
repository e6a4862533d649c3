"""docs/finops.md's autoscaling tables are generated from the env model (services/render/autoscaling.py), and the
Terraform inputs infractl writes for the cluster and data stacks carry the same node-group min/max and storage
ceilings: one source of numbers. The rendered HPAs are checked by tests/integration/test_finops.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from infractl.models.project import Project
from infractl.models.stacks import Stack
from infractl.services import environments
from infractl.services.render import autoscaling
from infractl.services.stacks import graph, workspace

REPO = Path(__file__).resolve().parents[2]
PROJECT = Project(root=REPO, work_dir=REPO / ".infractl")
ENVS = ("dev", "staging", "prod")
DOC = REPO / "docs" / "finops.md"


def _plan(env: str):
    return autoscaling.plan(environments.load(PROJECT, env))


def _inputs(stack: str, env: str) -> dict:
    manifest = graph.load_manifest(PROJECT)
    return workspace.resolve_inputs(
        Stack(name=stack, spec=manifest.stacks[stack]),
        environments.load(PROJECT, env),
        {},
        manifest_display="terraform/stacks/stacks.yaml",
        strict=False,  # upstream outputs are not needed here
    )


def test_the_docs_table_is_the_generated_one():
    text = DOC.read_text()
    begin, end = text.index(autoscaling.BEGIN), text.index(autoscaling.END) + len(autoscaling.END)
    generated = autoscaling.markdown([_plan(e) for e in ENVS])
    assert text[begin:end] == generated, f"docs/finops.md is stale; put this between its markers:\n{generated}"


def test_the_right_sizing_section_documents_the_command_and_every_setting():
    from infractl.models.environment_rightsize import Rightsize

    section = DOC.read_text().split("## Right-sizing", 1)[1]
    assert "infractl cost rightsize" in section
    for setting in Rightsize.model_fields:
        assert f"  {setting}: " in section, setting  # in the settings block


@pytest.mark.parametrize("env", ENVS)
def test_the_cluster_stack_inputs_carry_the_node_group_bounds(env):
    inputs = _inputs("cluster", env)
    groups = {"system": inputs["system_node_group"], **inputs["tenant_tiers"]}
    got = {name: (g["min_size"], g["max_size"]) for name, g in groups.items()}
    assert got == {name: (r.min, r.max) for name, r in _plan(env).of("node-group").items()}
    # and every worker HPA tops out at its node group's max size
    hpas = _plan(env).of("hpa")
    model = environments.load(PROJECT, env)
    for tier, group in inputs["tenant_tiers"].items():
        tenant = inputs["tier_tenants"].get(tier)
        assert hpas[f"worker tenant {tenant}" if tenant else f"worker {tier}"].max == group["max_size"]
    assert set(inputs["tier_tenants"].values()) == {t.name for t in model.tenants}


@pytest.mark.parametrize("env", ENVS)
def test_the_data_stack_inputs_carry_the_storage_ceilings(env):
    inputs = _inputs("data", env)
    got = {"shared instance": (inputs["allocated_storage_gib"], inputs["max_allocated_storage_gib"])}
    for name, inst in inputs["tenant_instances"].items():
        got[f"tenant {name}"] = (inst["allocated_storage_gib"], inst["max_allocated_storage_gib"])
    assert got == {name: (r.min, r.max) for name, r in _plan(env).of("storage").items()}


def test_the_stacks_tags_input_is_the_env_tags_plus_tenant_shared():
    for env in ENVS:
        for stack in ("kms", "network", "cluster", "data", "evidence", "ci", "finops", "registry"):
            tags = _inputs(stack, env)["tags"]
            assert tags == {**environments.load(PROJECT, env).tags, "tenant": "shared"}, (stack, env)
