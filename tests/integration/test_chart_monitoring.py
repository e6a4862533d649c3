"""The control plane's metrics in the charts: every api and worker pod's metrics port behind a headless Service, and
the collector's scrape jobs and egress for them. No cluster, no helm binary (helm-python-sdk, in process)."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from infractl.models.project import Project
from infractl.services.render import values as values_service
from tests.integration.charts import ENVS, PROJECT, REPO, env_values, selects

pytestmark = pytest.mark.integration

METRICS_PORT = 9464  # the contract: CONTROLPLANE_METRICS_PORT of the api and the workers


@functools.cache
def _docs(path: str) -> list[dict]:
    """The objects of a rendered manifest, parsed once per file (the tests only read them)."""
    return _load(Path(path).read_text())


def _kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def _load(text: str) -> list[dict]:
    return [d for d in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d]


def _render_controlplane(vals: dict) -> list[dict]:
    """The controlplane chart rendered in process as an install into its namespace (hooks included, no NOTES)."""
    chart = helm.Chart.load(str(REPO / "helm/controlplane"))
    try:
        rendered = chart.render(vals, name="controlplane", namespace="controlplane", is_install=True)
    finally:
        chart.close()
    return [d for p, t in sorted(rendered.items()) if not p.endswith("NOTES.txt") for d in _load(t)]


# --- metrics port, headless Services, scraping -----------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_every_api_and_worker_pod_serves_metrics_behind_a_headless_service(env, rendered_env):
    """Each Deployment's container has the `metrics` port and the contract's variables; exactly one headless
    Service in its namespace selects its pods (and no other workload's) on that port."""
    [cp] = [c for c in rendered_env(env).charts if c.chart == "controlplane"]
    docs = _docs(cp.manifest)
    deployments, services = _kind(docs, "Deployment"), _kind(docs, "Service")
    assert deployments
    for d in deployments:
        ns, labels = d["metadata"]["namespace"], d["spec"]["template"]["metadata"]["labels"]
        [container] = d["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        variables = {e["name"]: e.get("value") for e in container["env"]}
        assert ports["metrics"] == METRICS_PORT, d["metadata"]["name"]
        assert variables["CONTROLPLANE_METRICS_PORT"] == str(METRICS_PORT)
        assert variables["CONTROLPLANE_METRICS_HOST"] == "0.0.0.0"
        [svc] = [
            s
            for s in services
            if s["metadata"]["namespace"] == ns
            and s["spec"].get("clusterIP") == "None"
            and selects({"matchLabels": s["spec"]["selector"]}, labels)
        ]
        assert svc["metadata"]["name"] == f"{d['metadata']['name']}-metrics"
        assert svc["spec"]["ports"] == [
            {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"}
        ]
        others = [o for o in deployments if o is not d and o["metadata"]["namespace"] == ns]
        assert not any(
            selects({"matchLabels": svc["spec"]["selector"]}, o["spec"]["template"]["metadata"]["labels"])
            for o in others
        ), f"{svc['metadata']['name']} also selects another workload's pods"


@pytest.mark.parametrize("env", ENVS)
def test_the_collector_scrapes_the_api_and_every_worker(env, rendered_env):
    """Scrape jobs controlplane-api and controlplane-worker in the collector's metrics pipeline: their DNS names are
    exactly the controlplane chart's headless metrics Services (api; every pool and tier C tenant worker), on the
    metrics port; the collector's egress and the pods' ingress admit that port (test_network_flows evaluates it)."""
    result = rendered_env(env)
    docs = {c.chart: _docs(c.manifest) for c in result.charts}
    [cm] = _kind(docs["otel-collector"], "ConfigMap")
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert "prometheus" in config["service"]["pipelines"]["metrics"]["receivers"]
    jobs = {j["job_name"]: j for j in config["receivers"]["prometheus"]["config"]["scrape_configs"]}
    headless = {
        f"{s['metadata']['name']}.{s['metadata']['namespace']}.svc.cluster.local": s["spec"]["selector"]
        for s in _kind(docs["controlplane"], "Service")
        if s["spec"].get("clusterIP") == "None"
    }
    by_component: dict[str, set[str]] = {"api": set(), "worker": set()}
    for name, selector in headless.items():
        by_component[selector["app.kubernetes.io/component"]].add(name)
    for component in ("api", "worker"):
        [sd] = jobs[f"controlplane-{component}"]["dns_sd_configs"]
        assert (sd["type"], sd["port"]) == ("A", METRICS_PORT)
        assert set(sd["names"]) == by_component[component], component
    model = env_values(env).env
    assert len(by_component["worker"]) == len(model.stacks["cluster"]["tenant_tiers"]) + len(model.tenants)


def test_without_a_metrics_exporter_nothing_is_scraped(tmp_path):
    """An env with no metrics pipeline: no scrape jobs or scrape egress, nobody admitted to the metrics port."""
    root = tmp_path / "p"
    shutil.copytree(REPO / "environments", root / "environments")
    shutil.copytree(REPO / "helm", root / "helm")
    path = root / "environments" / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["observability"]["metrics"] = []
    path.write_text(yaml.safe_dump(data))

    charts = values_service.values_for(Project(root=root, work_dir=root / ".infractl"), "dev").charts
    assert charts["otel-collector"]["scrape"] == []
    assert not [r for r in charts["otel-collector"]["networkPolicy"]["egress"] if r["name"].endswith("-metrics")]
    assert charts["controlplane"]["metrics"]["ingressFrom"] == []
    docs = _render_controlplane(charts["controlplane"])
    for policy in _kind(docs, "NetworkPolicy"):
        ports = [p["port"] for rule in policy["spec"].get("ingress") or [] for p in rule.get("ports", [])]
        assert METRICS_PORT not in ports, policy["metadata"]["name"]


def test_metrics_off_serves_none():
    vals = values_service.values_for(PROJECT, "dev").charts["controlplane"]
    vals["metrics"]["enabled"] = False
    docs = _render_controlplane(vals)
    assert not [s for s in _kind(docs, "Service") if s["metadata"]["name"].endswith("-metrics")]
    for d in _kind(docs, "Deployment"):
        [container] = d["spec"]["template"]["spec"]["containers"]
        assert "metrics" not in [p["name"] for p in container.get("ports", [])]
        assert {e["name"]: e["value"] for e in container["env"]}["CONTROLPLANE_METRICS_PORT"] == "0"
