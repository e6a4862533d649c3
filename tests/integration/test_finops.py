"""docs/finops.md's autoscaling numbers against what is rendered: every HPA the charts render for each env (the values
`infractl render` builds, helm-python-sdk) has exactly the min, max and target of services/render/autoscaling.plan, and
every HPA of the plan is rendered (or, when off, its Deployment runs the fixed replicas)."""

from __future__ import annotations

import pytest

from infractl.services import environments
from infractl.services.render import autoscaling
from tests.integration.charts import ENVS, PROJECT, chart_values, render_chart

CHARTS = ("controlplane", "otel-collector")
WORKLOADS = {"Deployment", "Rollout"}


def _expected_name(row_name: str) -> tuple[str, str]:
    """Where the plan's HPA row is rendered: (namespace, name)."""
    if row_name == autoscaling.HPA_API:
        return "controlplane", "controlplane-api"
    if row_name == autoscaling.HPA_COLLECTOR:
        return "telemetry", "otel-collector-gateway"
    if row_name.startswith("worker tenant "):
        tenant = row_name.removeprefix("worker tenant ")
        return f"tenant-{tenant}", f"controlplane-worker-{tenant}"
    return "controlplane", f"controlplane-worker-{row_name.removeprefix('worker ')}"


@pytest.mark.parametrize("env", ENVS)
def test_the_rendered_hpas_have_exactly_the_plans_numbers(env):
    plan = autoscaling.plan(environments.load(PROJECT, env))
    docs = [d for chart in CHARTS for d in render_chart(chart, chart_values(chart, env))]
    rendered = {(d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs if d["kind"] in WORKLOADS}
    expected, got = {}, {}
    for row in plan.of("hpa").values():
        where = _expected_name(row.name)
        assert where in rendered, f"{env}: no workload {where} for the plan's {row.name}"
        if row.target == "off":  # no HPA: the workload runs the fixed replicas
            assert rendered[where]["kind"] == "Deployment" and rendered[where]["spec"]["replicas"] == row.min == row.max
            continue
        resource, percent = row.target.removesuffix("%").split()
        expected[where] = (row.min, row.max, resource, int(percent))
    for d in docs:
        if d["kind"] == "HorizontalPodAutoscaler":
            spec = d["spec"]
            [metric] = spec["metrics"]
            target = metric["resource"]
            where = (d["metadata"]["namespace"], d["metadata"]["name"])
            got[where] = (
                spec["minReplicas"],
                spec["maxReplicas"],
                target["name"],
                target["target"]["averageUtilization"],
            )
    assert got == expected
    assert len(expected) >= 3  # the api and at least a shared pool and a tenant's workers in every env
