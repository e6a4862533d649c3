"""The control plane's metrics and SLO monitoring in the charts: every api and worker pod's metrics port (how the
collector finds and scrapes the pods: test_chart_scrape.py), nothing scraped without a metrics exporter, and the
PrometheusRule and dashboard ConfigMaps rendered from SLO rule groups and dashboards. The PrometheusRule objects are
validated against the real CRD schema (prometheus-operator's, vendored in docs/schemas/crds/), the ConfigMaps with
kubernetes-validate --strict. No cluster, no helm binary (helm-python-sdk, in process)."""

from __future__ import annotations

import copy
import functools
import json
import shutil
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from infractl.models.project import Project
from infractl.services.render import render as render_service
from infractl.services.render import values as values_service
from tests.integration.charts import (
    ENVS,
    PROJECT,
    REPO,
    crd_problems,
    crd_validator,
    env_values,
    load_docs,
    render_chart,
    render_controlplane,
)

pytestmark = pytest.mark.integration

CRD = REPO / "docs/schemas/crds/monitoring.coreos.com_prometheusrules.json"
KUBE_VERSION = "1.31.0"  # environments/*.yaml stacks.cluster.kubernetes_version
METRICS_PORT = 9464  # the contract: CONTROLPLANE_METRICS_PORT of the api and the workers

# What the SLO definitions give render (infractl.services.slo: rule_groups, dashboards), written out here.
SAMPLE_GROUPS = [
    {
        "name": "slo-api-availability",
        "interval": "30s",
        "rules": [
            {
                "record": "slo:sli_error:ratio_rate5m",
                "expr": 'sum(rate(controlplane_http_requests_total{code=~"5.."}[5m]))'
                " / sum(rate(controlplane_http_requests_total[5m]))",
                "labels": {"slo": "api-availability"},
            },
            {
                "alert": "ApiAvailabilityBudgetBurnPage",
                "expr": "slo:sli_error:ratio_rate5m > (14.4 * 0.001)",
                "for": "2m",
                "labels": {"severity": "page", "slo": "api-availability", "service": "api", "env": "dev"},
                "annotations": {
                    "summary": "{{ $labels.slo }} burns its error budget 14.4x too fast",
                    "runbook_url": "https://runbooks.example.com/docs/runbooks/api-availability.md",
                },
            },
        ],
    }
]
SAMPLE_DASHBOARDS = {
    "slo-overview": {
        "title": "SLO overview",
        "uid": "slo-overview",
        "schemaVersion": 39,
        "panels": [{"id": 1, "type": "stat", "gridPos": {"h": 4, "w": 6, "x": 0, "y": 0}, "thresholds": [0.999]}],
    },
    "api-red": {"title": "API RED", "uid": "api-red", "panels": []},
}


def sample_slo(project: Project, env) -> tuple[list[dict], dict[str, dict]]:
    return copy.deepcopy(SAMPLE_GROUPS), copy.deepcopy(SAMPLE_DASHBOARDS)


@functools.cache
def _docs(path: str) -> list[dict]:
    """The objects of a rendered manifest, parsed once per file (the tests only read them)."""
    return load_docs(Path(path).read_text())


def _kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


# --- the PrometheusRule CRD as the API server applies it -------------------------------------------------------


CRD_VALIDATOR = crd_validator(CRD)


def crd_errors(rule: dict) -> list[str]:
    """Why the API server would refuse this PrometheusRule (CRD v0.93.0 schema, strict), [] when it would not."""
    return crd_problems(CRD_VALIDATOR, rule, "monitoring.coreos.com/v1", "PrometheusRule")


# --- renders --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sampled() -> dict[str, list[dict]]:
    """The controlplane chart per env, with the values render builds and the sample SLO rules and dashboards."""
    return {
        env: render_controlplane(values_service.values_for(PROJECT, env, slo=sample_slo).charts["controlplane"])
        for env in ENVS
    }


# --- metrics port, headless Services, scraping -----------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_every_api_and_worker_pod_serves_metrics_on_its_metrics_port(env, rendered_env):
    """Each api and worker container has the `metrics` port and the contract's variables. No Service fronts the
    port: the collector finds the pods through the Kubernetes API (test_chart_scrape.py)."""
    [cp] = [c for c in rendered_env(env).charts if c.chart == "controlplane"]
    docs = _docs(cp.manifest)
    deployments = [d for d in docs if d["kind"] in ("Deployment", "Rollout")]  # the api: a Rollout in staging, prod
    assert deployments
    for d in deployments:
        [container] = d["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        variables = {e["name"]: e.get("value") for e in container["env"]}
        assert ports["metrics"] == METRICS_PORT, d["metadata"]["name"]
        assert variables["CONTROLPLANE_METRICS_PORT"] == str(METRICS_PORT)
        assert variables["CONTROLPLANE_METRICS_HOST"] == "0.0.0.0"
    for svc in _kind(docs, "Service"):
        assert METRICS_PORT not in [p["port"] for p in svc["spec"]["ports"]], svc["metadata"]["name"]


def test_without_a_metrics_exporter_nothing_is_scraped_and_no_rules_render(tmp_path):
    """An env with no metrics pipeline: no scrape jobs or scrape egress, nobody admitted to the metrics port, and
    monitoring off without asking the SLO definitions (their series would reach no backend)."""
    root = tmp_path / "p"
    shutil.copytree(REPO / "environments", root / "environments")
    shutil.copytree(REPO / "helm", root / "helm")
    path = root / "environments" / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["observability"]["metrics"] = []
    path.write_text(yaml.safe_dump(data))

    def never(project, env):
        raise AssertionError("the SLO definitions were read for an env without metrics")

    charts = values_service.values_for(Project(root=root, work_dir=root / ".infractl"), "dev", slo=never).charts
    assert charts["otel-collector"]["scrape"] == []
    egress = [r["name"] for r in charts["otel-collector"]["networkPolicy"]["egress"]]
    assert not [name for name in egress if name.endswith("-metrics") or name == "kube-apiserver"]
    assert charts["controlplane"]["metrics"]["ingressFrom"] == []
    assert charts["controlplane"]["metrics"]["discoveredBy"] == []
    assert charts["controlplane"]["monitoring"] == {"enabled": False}
    collector = next(d for d in render_chart("otel-collector", charts["otel-collector"]) if d["kind"] == "Deployment")
    assert [v["name"] for v in collector["spec"]["template"]["spec"]["volumes"]] == ["config"]  # no API token
    docs = render_controlplane(charts["controlplane"])
    assert not _kind(docs, "PrometheusRule")
    assert not _kind(docs, "Role") and not _kind(docs, "RoleBinding")
    for policy in _kind(docs, "NetworkPolicy"):
        ports = [p["port"] for rule in policy["spec"].get("ingress") or [] for p in rule.get("ports", [])]
        assert METRICS_PORT not in ports, policy["metadata"]["name"]


def test_metrics_off_serves_none():
    vals = values_service.values_for(PROJECT, "dev").charts["controlplane"]
    vals["metrics"]["enabled"] = False
    docs = render_controlplane(vals)
    assert not _kind(docs, "Role")  # nothing to discover
    for d in _kind(docs, "Deployment"):
        [container] = d["spec"]["template"]["spec"]["containers"]
        assert "metrics" not in [p["name"] for p in container.get("ports", [])]
        assert {e["name"]: e["value"] for e in container["env"]}["CONTROLPLANE_METRICS_PORT"] == "0"


# --- PrometheusRule and dashboards -----------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_slo_rules_render_as_a_prometheus_rule_the_crd_accepts(sampled, env):
    docs = sampled[env]
    [rule] = _kind(docs, "PrometheusRule")
    assert crd_errors(rule) == []
    assert rule["spec"]["groups"] == SAMPLE_GROUPS  # verbatim: Prometheus' own {{ $labels }} is not templated
    assert rule["metadata"]["namespace"] == "controlplane"
    assert rule["metadata"]["labels"]["app.kubernetes.io/name"] == "controlplane"
    alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert alerts and all({"severity", "slo"} <= set(a["labels"]) and a["annotations"]["runbook_url"] for a in alerts)


@pytest.mark.parametrize("env", ENVS)
def test_dashboards_render_as_configmaps_for_grafana(sampled, env):
    """One ConfigMap per dashboard, labelled for Grafana's sidecar, its JSON unchanged; valid for Kubernetes."""
    maps = {
        c["metadata"]["name"]: c
        for c in _kind(sampled[env], "ConfigMap")
        if c["metadata"]["labels"].get("app.kubernetes.io/component") == "monitoring"
    }
    assert sorted(maps) == sorted(f"controlplane-dashboard-{name}" for name in SAMPLE_DASHBOARDS)
    for name, dashboard in SAMPLE_DASHBOARDS.items():
        cm = maps[f"controlplane-dashboard-{name}"]
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert json.loads(cm["data"][f"{name}.json"]) == dashboard
        kubernetes_validate.validate(cm, KUBE_VERSION, strict=True)


def test_the_crd_check_refuses_a_broken_rule(sampled):
    """The check can fail: a rule without expr, a malformed `for`, a misspelt field, two groups of one name."""
    [rule] = _kind(sampled["dev"], "PrometheusRule")
    no_expr = copy.deepcopy(rule)
    del no_expr["spec"]["groups"][0]["rules"][1]["expr"]
    assert any("'expr' is a required property" in e for e in crd_errors(no_expr))
    bad_for = copy.deepcopy(rule)
    bad_for["spec"]["groups"][0]["rules"][1]["for"] = "5 minutes"
    assert any("does not match" in e for e in crd_errors(bad_for))
    misspelt = copy.deepcopy(rule)
    misspelt["spec"]["groups"][0]["rules"][1]["annotation"] = {"summary": "x"}
    assert any("annotation" in e for e in crd_errors(misspelt))
    twice = copy.deepcopy(rule)
    twice["spec"]["groups"].append(copy.deepcopy(twice["spec"]["groups"][0]))
    assert any("duplicate key" in e for e in crd_errors(twice))


def test_a_rule_without_expr_fails_at_render_through_the_values_schema():
    broken = copy.deepcopy(SAMPLE_GROUPS)
    del broken[0]["rules"][0]["expr"]
    vals = values_service.values_for(PROJECT, "dev", slo=lambda p, e: (broken, {})).charts["controlplane"]
    with pytest.raises(helm.HelmError, match=r"(?i)schema|values don't meet"):
        render_controlplane(vals)


def test_render_writes_the_rules_and_dashboards_when_the_env_exports_metrics(tmp_path):
    """`infractl render prod` (the service) with SLO definitions: the controlplane manifest holds the PrometheusRule
    and the dashboard ConfigMaps, and the values file deploy passes to helm holds monitoring."""
    result = render_service.render(PROJECT, "prod", tmp_path, slo=sample_slo)
    [cp] = [c for c in result.charts if c.chart == "controlplane"]
    assert cp.objects["PrometheusRule"] == 1
    docs = _docs(cp.manifest)
    [rule] = _kind(docs, "PrometheusRule")
    assert crd_errors(rule) == [] and rule["spec"]["groups"] == SAMPLE_GROUPS
    names = {c["metadata"]["name"] for c in _kind(docs, "ConfigMap")}
    assert {f"controlplane-dashboard-{n}" for n in SAMPLE_DASHBOARDS} <= names
    monitoring = yaml.safe_load(Path(cp.values_file).read_text())["monitoring"]
    assert monitoring["enabled"] is True and monitoring["prometheusRule"]["groups"] == SAMPLE_GROUPS


@pytest.mark.parametrize("env", ENVS)
def test_rendered_monitoring_is_what_the_slo_definitions_say(env, rendered_env):
    """`infractl render` of the committed tree: its PrometheusRule and dashboards are exactly the env's SLO
    definitions (values.slo_definitions), every rule group valid for the CRD; none when there are none."""
    model = env_values(env).env
    assert model.observability.metrics, f"{env} exports no metrics: this test proves nothing for it"
    groups, dashboards = values_service.slo_definitions(PROJECT, model)
    assert groups and dashboards, f"{env}: no SLO definitions"
    [cp] = [c for c in rendered_env(env).charts if c.chart == "controlplane"]
    docs = _docs(cp.manifest)
    rules = _kind(docs, "PrometheusRule")
    assert [r["spec"]["groups"] for r in rules] == ([groups] if groups else [])
    for rule in rules:
        assert crd_errors(rule) == []
    maps = {
        c["metadata"]["name"].removeprefix("controlplane-dashboard-"): c
        for c in _kind(docs, "ConfigMap")
        if c["metadata"]["labels"].get("app.kubernetes.io/component") == "monitoring"
    }
    assert sorted(maps) == sorted(dashboards)
    for name, cm in maps.items():
        assert json.loads(cm["data"][f"{name}.json"]) == dashboards[name]
        kubernetes_validate.validate(cm, KUBE_VERSION, strict=True)
