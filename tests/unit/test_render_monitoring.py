"""render's monitoring values and scrape rules, without Helm: monitoring_values (pure), the collector's scrape jobs
and egress, and who may reach the control plane's metrics port, from the env model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infractl.errors import ConfigError
from infractl.models.project import Project
from infractl.services import environments
from infractl.services.render import network
from infractl.services.render.values import monitoring_values

REPO = Path(__file__).resolve().parents[2]
GROUPS = [
    {
        "name": "slo-evidence-integrity",
        "rules": [
            {"record": "slo:evidence_verify_age:seconds", "expr": "time() - max(x)"},
            {
                "alert": "EvidenceIntegrityBroken",
                "expr": "increase(controlplane_evidence_verifications_total{outcome='broken'}[10m]) > 0",
                "labels": {"severity": "page", "slo": "evidence-integrity"},
                "annotations": {"runbook_url": "https://example.com/docs/runbooks/evidence-integrity.md"},
            },
        ],
    }
]


def _env(name: str):
    return environments.load(Project(root=REPO, work_dir=REPO / ".infractl"), name)


def test_monitoring_values_hold_the_groups_and_each_dashboard_as_json():
    dashboards = {"slo-overview": {"title": "SLOs", "panels": [{"id": 1, "thresholds": [0.999]}]}}
    values = monitoring_values(GROUPS, dashboards)
    assert values["enabled"] is True
    assert values["prometheusRule"] == {"groups": GROUPS}
    assert values["prometheusRule"]["groups"] is not GROUPS  # a copy: the caller's data is never shared
    assert json.loads(values["dashboards"]["slo-overview"]) == dashboards["slo-overview"]


@pytest.mark.parametrize(
    ("groups", "dashboards", "enabled"), [([], {}, False), (GROUPS, {}, True), ([], {"d": {"title": "x"}}, True)]
)
def test_monitoring_is_on_when_there_is_a_rule_or_a_dashboard(groups, dashboards, enabled):
    assert monitoring_values(groups, dashboards)["enabled"] is enabled


@pytest.mark.parametrize("stem", ["SLO_Overview", "-x", "a" * 41, "a.b"])
def test_a_dashboard_name_that_cannot_name_a_configmap_is_refused(stem):
    with pytest.raises(ConfigError, match=f"SLO dashboards {stem}: a dashboard's name must be a DNS label"):
        monitoring_values([], {stem: {"title": "x"}})


def test_scrape_jobs_discover_the_control_planes_pods():
    env = _env("prod")  # two shared tiers, two tier C tenants
    jobs = {j["job"]: j for j in network.scrape_jobs(env)}
    release = {"app.kubernetes.io/name": "controlplane", "app.kubernetes.io/instance": "controlplane"}
    assert jobs["controlplane-api"] == {
        "job": "controlplane-api",
        "pods": {
            "namespaces": ["controlplane"],
            "matchLabels": release | {"app.kubernetes.io/component": "api"},
            "podLabels": {"rollouts-pod-template-hash": env.delivery.analysis.canary_label},
            "podIdentity": True,
        },
        "port": 9464,
    }
    assert jobs["controlplane-worker"] == {
        "job": "controlplane-worker",
        "pods": {
            "namespaces": ["controlplane", *(f"tenant-{t.name}" for t in env.tenants)],
            "matchLabels": release | {"app.kubernetes.io/component": "worker"},
        },
        "port": 9464,
    }
    assert jobs["temporal"]["port"] == network.TEMPORAL_METRICS_PORT and jobs["temporal"]["dnsNames"]
    egress = {r["name"]: r for r in network.scrape_egress(env)}
    worker_namespaces = [
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for p in egress["controlplane-worker-metrics"]["to"]
    ]
    assert worker_namespaces == ["controlplane", *(f"tenant-{t.name}" for t in env.tenants)]
    assert network.metrics_ingress(env) == [network.collector_peer()]
    assert network.pod_discovery(list(jobs.values())) == [{"name": "otel-collector-gateway", "namespace": "telemetry"}]
    [api_server] = network.kube_api_egress(env, list(jobs.values()))
    assert api_server["to"] == [{"ipBlock": {"cidr": env.network.cidr}}] and api_server["ports"][0]["port"] == 443


def test_no_metrics_exporter_no_scraping():
    env = _env("dev").model_copy(update={"observability": _env("dev").observability.model_copy(update={"metrics": []})})
    assert network.scrape_jobs(env) == []
    assert network.scrape_egress(env) == []
    assert network.metrics_ingress(env) == []
    assert network.pod_discovery([]) == [] and network.kube_api_egress(env, []) == []
