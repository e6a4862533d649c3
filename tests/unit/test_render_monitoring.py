"""render's scrape rules, without Helm: the collector's scrape jobs and egress, and who may reach the control plane's
metrics port, from the env model."""

from __future__ import annotations

from pathlib import Path

from infractl.models.project import Project
from infractl.services import environments
from infractl.services.render import network

REPO = Path(__file__).resolve().parents[2]


def _env(name: str):
    return environments.load(Project(root=REPO, work_dir=REPO / ".infractl"), name)


def test_scrape_jobs_name_every_workloads_metrics_service():
    env = _env("prod")  # two shared tiers, two tier C tenants
    jobs = {j["job"]: j for j in network.scrape_jobs(env, ["standard", "premium"])}
    assert jobs["controlplane-api"] == {
        "job": "controlplane-api",
        "dnsNames": ["controlplane-api-metrics.controlplane.svc.cluster.local"],
        "port": 9464,
    }
    assert jobs["controlplane-worker"]["dnsNames"] == [
        "controlplane-worker-standard-metrics.controlplane.svc.cluster.local",
        "controlplane-worker-premium-metrics.controlplane.svc.cluster.local",
        *(f"controlplane-worker-{t.name}-metrics.tenant-{t.name}.svc.cluster.local" for t in env.tenants),
    ]
    assert jobs["temporal"]["port"] == network.TEMPORAL_METRICS_PORT
    egress = {r["name"]: r for r in network.scrape_egress(env)}
    worker_namespaces = [
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for p in egress["controlplane-worker-metrics"]["to"]
    ]
    assert worker_namespaces == ["controlplane", *(f"tenant-{t.name}" for t in env.tenants)]
    assert network.metrics_ingress(env) == [network.collector_peer()]


def test_no_metrics_exporter_no_scraping():
    env = _env("dev").model_copy(update={"observability": _env("dev").observability.model_copy(update={"metrics": []})})
    assert network.scrape_jobs(env, ["standard"]) == []
    assert network.scrape_egress(env) == []
    assert network.metrics_ingress(env) == []
