"""helm/controlplane and helm/otel-collector: render x every env with the values `infractl render` builds from the
env model, lint --strict, kubernetes-validate --strict, policy assertions on the rendered objects (against the env
model and the AWS baseline's node-group taints), checkov, and schema refusals. No cluster, no helm binary
(helm-python-sdk)."""

from __future__ import annotations

import copy
import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from infractl.models.project import Project
from infractl.services.render import network as network_service
from infractl.services.render import values as values_service
from tests.integration.charts import ENVS, PROJECT, chart_values, env_values, selects

REPO = Path(__file__).resolve().parents[2]
CHARTS = {"controlplane": REPO / "helm/controlplane", "otel-collector": REPO / "helm/otel-collector"}
NAMESPACES = {"controlplane": "controlplane", "otel-collector": "telemetry"}
CASES = [(c, e) for c in CHARTS for e in ENVS]
KUBE_VERSION = "1.31.0"  # environments/*.yaml stacks.cluster.kubernetes_version
DIGEST = re.compile(r"^[^@:\s]+(:[0-9]+)?(/[^@:\s]+)*@sha256:[a-f0-9]{64}$")
CHECKOV = REPO / ".tools/checkov/bin/checkov"
WORKLOADS = {"Deployment", "StatefulSet", "Rollout"}  # Rollout: the api where delivery.progressive (staging, prod)


def values(chart: str, env: str) -> dict:
    """The chart's values for env, as `infractl render` builds them (ci layer + env model)."""
    return chart_values(chart, env)


def env_model(env: str):
    return env_values(env).env


def render(chart: str, vals: dict) -> list[dict]:
    loaded = helm.Chart.load(str(CHARTS[chart]))
    out = loaded.render(vals, name=chart, namespace=NAMESPACES[chart], is_install=True)
    docs: list[dict] = []
    for path, text in sorted(out.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


@pytest.fixture(scope="module")
def rendered(rendered_env) -> dict[tuple[str, str], list[dict]]:
    """The objects `infractl render` wrote per (chart, env), hooks included."""
    return {
        (c.chart, e): [d for d in yaml.safe_load_all(Path(c.manifest).read_text()) if d]
        for e in ENVS
        for c in rendered_env(e).charts
        if c.chart in CHARTS
    }


# Custom resources kubernetes-validate has no schema for, and where their own schema is checked instead.
CUSTOM_KINDS = {
    "PrometheusRule": "test_chart_monitoring.py (the prometheus-operator CRD schema)",
    "Rollout": "test_chart_rollout.py (the Argo Rollouts CRD schema, pod template included)",
    "AnalysisTemplate": "test_chart_rollout.py (the Argo Rollouts CRD schema)",
}


@pytest.fixture(scope="module")
def manifests_dir(rendered, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    for (chart, env), docs in rendered.items():
        core = [d for d in docs if d["kind"] not in CUSTOM_KINDS]
        (out / f"{chart}-{env}.yaml").write_text(yaml.safe_dump_all(core, sort_keys=False))
    return out


def test_every_env_has_ci_values():
    for chart, path in CHARTS.items():
        for env in ENVS:
            assert (path / "ci" / f"{env}-values.yaml").is_file(), f"{chart}: no ci/{env}-values.yaml"
        for name in ("values.schema.json", "templates/_helpers.tpl", "templates/NOTES.txt", "Chart.yaml"):
            assert (path / name).is_file(), f"{chart}: missing {name}"


@pytest.mark.parametrize(("chart", "env"), CASES)
def test_lint_strict(chart, env):
    report = helm.lint(str(CHARTS[chart]), values(chart, env), strict=True, namespace=NAMESPACES[chart])
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert not problems, problems


def test_kubernetes_validate_strict(manifests_dir):
    files = sorted(str(p) for p in manifests_dir.glob("*.yaml"))
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "kubernetes-validate"), "--strict", "-k", KUBE_VERSION, *files],
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    # An apiVersion without schema only warns and exits 0: that is a failure here.
    bad = [line for line in output.splitlines() if not line.startswith("INFO")]
    assert not bad, "\n".join(bad)
    assert output.count("passed for resource") == sum(len(list(yaml.safe_load_all(Path(f).read_text()))) for f in files)


@pytest.mark.parametrize(("chart", "env"), CASES)
def test_workload_policies(rendered, chart, env):
    docs = rendered[(chart, env)]
    workloads = [d for d in docs if d["kind"] in WORKLOADS]
    assert workloads
    for w in workloads:
        ns, name = w["metadata"]["namespace"], w["metadata"]["name"]
        pod = w["spec"]["template"]
        labels, spec = pod["metadata"]["labels"], pod["spec"]
        for key in ("name", "instance", "version", "component", "managed-by"):
            assert f"app.kubernetes.io/{key}" in labels, (name, key)
        assert "helm.sh/chart" not in w["spec"]["selector"]["matchLabels"]
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["seccompProfile"]["type"] == "RuntimeDefault", name
        for c in spec["containers"]:
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert probe in c, f"{name}/{c['name']}: no {probe}"
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"], name
            assert sc["seccompProfile"]["type"] == "RuntimeDefault", name
            assert DIGEST.match(c["image"]), f"{name}: image not by digest: {c['image']}"
            assert c["resources"].get("limits") and c["resources"].get("requests"), name
        pdbs = [
            d
            for d in docs
            if d["kind"] == "PodDisruptionBudget"
            and d["metadata"]["namespace"] == ns
            and selects(d["spec"]["selector"], labels)
        ]
        assert pdbs, f"{ns}/{name}: no PDB"
        nps = [
            d
            for d in docs
            if d["kind"] == "NetworkPolicy"
            and d["metadata"]["namespace"] == ns
            and selects(d["spec"]["podSelector"], labels)
            and d["spec"]["podSelector"]
        ]
        assert nps, f"{ns}/{name}: no NetworkPolicy selecting it"
        if "serviceAccountName" in spec:
            assert any(
                d["kind"] == "ServiceAccount"
                and d["metadata"]["name"] == spec["serviceAccountName"]
                and d["metadata"]["namespace"] == ns
                for d in docs
            ), name
    # Default deny, ingress and egress, in every namespace that runs a workload.
    for ns in {w["metadata"]["namespace"] for w in workloads}:
        assert any(
            d["kind"] == "NetworkPolicy"
            and d["metadata"]["namespace"] == ns
            and d["spec"]["podSelector"] == {}
            and set(d["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not d["spec"].get("ingress")
            and not d["spec"].get("egress")
            for d in docs
        ), f"{ns}: no default deny"


def _ns(name: str, pods: dict | None = None) -> dict:
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}
    return peer | ({"podSelector": {"matchLabels": pods}} if pods else {})


def _tcp(*ports: int) -> list[dict]:
    return [{"port": p, "protocol": "TCP"} for p in ports]


DNS = {"to": [_ns("kube-system", {"k8s-app": "kube-dns"})], "ports": [{"port": 53, "protocol": "UDP"}, *_tcp(53)]}


def _expected_egress(chart: str, env: str) -> list[dict]:
    """The egress allowlist, written out from the env model's facts."""
    model = env_model(env)
    if chart == "controlplane":
        return [
            DNS,
            {"to": [{"ipBlock": {"cidr": model.network.cidr}}], "ports": _tcp(5432)},
            {
                "to": [
                    _ns("temporal", {"app.kubernetes.io/name": "temporal", "app.kubernetes.io/component": "frontend"})
                ],
                "ports": _tcp(7233),
            },
            {"to": [_ns("vault", {"app.kubernetes.io/name": "vault"})], "ports": _tcp(8200)},
            {"to": [{"ipBlock": {"cidr": c}} for c in network_service.S3_CIDRS[model.region]], "ports": _tcp(443)},
            {"to": [_ns("telemetry", {"app.kubernetes.io/name": "otel-collector"})], "ports": _tcp(4318)},
            *({"to": [{"ipBlock": {"cidr": r.cidr}}], "ports": _tcp(*r.ports)} for r in model.network.egress_allowlist),
        ]
    rules = [DNS]
    for signal in ("traces", "metrics", "logs"):
        for exporter in getattr(model.observability, signal):
            endpoint = exporter.config["endpoint"]
            m = re.match(
                r"^(?:(?P<scheme>https?)://)?[a-z0-9-]+\.(?P<ns>[a-z0-9-]+)\.svc[^:/]*(?::(?P<port>\d+))?", endpoint
            )
            assert m, endpoint
            port = int(m["port"] or (443 if m["scheme"] == "https" else 80))
            rules.append({"to": [_ns(m["ns"])], "ports": _tcp(*(exporter.egress_ports or [port]))})
    if model.observability.metrics:  # the collector scrapes Temporal's servers and the control plane's pods
        rules.append({"to": [_ns("temporal", {"app.kubernetes.io/name": "temporal"})], "ports": _tcp(9090)})
        api = {"app.kubernetes.io/name": "controlplane", "app.kubernetes.io/component": "api"}
        worker = {"app.kubernetes.io/name": "controlplane", "app.kubernetes.io/component": "worker"}
        rules.append({"to": [_ns("controlplane", api)], "ports": _tcp(9464)})
        namespaces = ["controlplane", *(f"tenant-{t.name}" for t in model.tenants)]
        rules.append({"to": [_ns(ns, worker) for ns in namespaces], "ports": _tcp(9464)})
        # ... which it finds through the Kubernetes API: EKS's private endpoint, in the VPC, on 443
        rules.append({"to": [{"ipBlock": {"cidr": model.network.cidr}}], "ports": _tcp(443)})
    return rules


@pytest.mark.parametrize(("chart", "env"), CASES)
def test_egress_allowlist_equals_the_env_model(rendered, chart, env):
    """Every pod's egress is exactly the allowlist derived from the env model: nothing else leaves a pod."""
    allow = _expected_egress(chart, env)
    assert [{"to": e["to"], "ports": e["ports"]} for e in values(chart, env)["networkPolicy"]["egress"]] == allow
    nps = [d for d in rendered[(chart, env)] if d["kind"] == "NetworkPolicy" and d["spec"]["podSelector"]]
    assert nps
    for np in nps:
        assert "Egress" in np["spec"]["policyTypes"]
        assert np["spec"]["egress"] == allow, np["metadata"]["name"]
    if chart == "controlplane":
        names = [e["name"] for e in values(chart, env)["networkPolicy"]["egress"]]
        allowlisted = [f"allowlist-{i}" for i in range(len(env_model(env).network.egress_allowlist))]
        assert allowlisted, f"{env}: the env model allowlists no egress: this test proves nothing for it"
        assert names == ["dns", "database", "temporal", "vault", "object-store", "otel-collector", *allowlisted]


def test_exporter_outside_the_cluster_needs_egress_cidrs(tmp_path):
    import shutil

    from infractl.errors import ConfigError

    root = tmp_path / "p"
    shutil.copytree(REPO / "environments", root / "environments")
    shutil.copytree(REPO / "helm", root / "helm")
    path = root / "environments" / "dev.yaml"
    text = path.read_text().replace(
        "https://loki.observability.svc.cluster.local/otlp", "https://logs.example.com/otlp"
    )
    path.write_text(text)
    project = Project(root=root, work_dir=root / ".infractl")
    with pytest.raises(
        ConfigError, match=r"environments/dev.yaml: observability.logs\[0\]: endpoint host logs.example"
    ):
        values_service.values_for(project, "dev")
    path.write_text(
        text.replace(
            'config: {endpoint: "https://logs.example.com/otlp"}',
            'config: {endpoint: "https://logs.example.com/otlp"}\n      egress_cidrs: [203.0.113.0/24]',
        )
    )
    rules = values_service.values_for(project, "dev").charts["otel-collector"]["networkPolicy"]["egress"]
    assert next(r for r in rules if r["name"] == "logs-otlphttp") == {
        "name": "logs-otlphttp",
        "to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}],
        "ports": _tcp(3100),
    }  # its egress_ports


@functools.cache
def _node_group_hcl() -> dict[str, tuple[dict, dict, bool]]:
    """The AWS baseline's node groups (terraform/modules/aws/eks) as written: resource name -> (labels, taint,
    whether it is one group per for_each key), values as HCL expressions."""
    from infractl.adapters import hcl

    text = (REPO / "terraform/modules/aws/eks/node_groups.tf").read_text()
    groups = {}
    for resource in hcl.read_resources(text):
        if resource.type != "aws_eks_node_group":
            continue
        body = resource.body
        taint = dict(
            re.findall(r'(key|value|effect)\s*=\s*("[^"]*"|[\w.]+)', re.search(r"taint\s*\{([^}]*)\}", body)[1])
        )
        labels = dict(re.findall(r'"([^"]+)"\s*=\s*("[^"]*"|[\w.]+)', re.search(r"labels\s*=\s*\{([^}]*)\}", body)[1]))
        per_key = re.search(r"for_each\s*=\s*var.tenant_tiers", body) is not None
        groups[resource.name] = (labels, taint, per_key)
    return groups


def _aws_node_groups(env: str) -> dict[str, tuple[dict, dict]]:
    """Every node group the AWS baseline creates for env: name -> (labels, taint), from the eks module's HCL with
    each.key filled in from the tenant_tiers infractl passes to the cluster stack."""
    groups: dict[str, tuple[dict, dict]] = {}
    for name, (labels, taint, per_key) in _node_group_hcl().items():
        for key in list(_node_groups_for(env)) if per_key else [name]:
            fill = lambda v, key=key: key if v == "each.key" else v.strip('"')  # noqa: E731
            groups[key] = ({k: fill(v) for k, v in labels.items()}, {k: fill(v) for k, v in taint.items()})
    assert set(groups) >= {"system"}
    return groups


def _tolerates(tolerations: list[dict], taint: dict) -> bool:
    effect = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    return any(
        t["key"] == taint["key"]
        and t.get("effect") == effect[taint["effect"]]
        and (t.get("operator") == "Exists" or t.get("value") == taint["value"])
        for t in tolerations
    )


@pytest.mark.parametrize("env", ENVS)
def test_every_pod_has_exactly_one_node_group_to_run_on(env, rendered_env):
    """Every pod of the three charts (hooks included) selects one node group of the AWS baseline by its labels and
    tolerates that group's taint: the platform on system nodes, workers on their tier's or tenant's group."""
    result = rendered_env(env)
    groups = _aws_node_groups(env)
    pods = 0
    for chart in result.charts:
        for doc in yaml.safe_load_all(Path(chart.manifest).read_text()):
            if not doc or doc["kind"] not in ("Deployment", "StatefulSet", "Job", "Rollout"):
                continue
            spec = doc["spec"]["template"]["spec"]
            fits = [
                name
                for name, (labels, taint) in groups.items()
                if spec.get("nodeSelector") == labels and _tolerates(spec.get("tolerations", []), taint)
            ]
            assert len(fits) == 1, (chart.chart, doc["metadata"]["name"], spec.get("nodeSelector"), fits)
            pods += 1
    assert pods >= 8


def _node_groups_for(env: str) -> dict:
    """The tenant_tiers variable infractl passes to the cluster stack for env (one node group per key)."""
    from infractl.models.stacks import Stack
    from infractl.services.stacks import graph, workspace

    project = PROJECT
    stack = Stack(name="cluster", spec=graph.load_manifest(project).stacks["cluster"])
    return workspace.resolve_inputs(stack, env_model(env), {}, manifest_display="stacks.yaml", strict=False)[
        "tenant_tiers"
    ]


def _expected_placement(tier: str) -> tuple[dict, list[dict]]:
    """nodeSelector and tolerations that put a pod on the node group of `tier`, from the module's HCL."""
    labels, taint, per_key = _node_group_hcl()["tenant"]
    assert per_key
    assert taint == {"key": '"tenant-tier"', "value": "each.key", "effect": '"NO_SCHEDULE"'}
    assert labels == {"node.infractl.io/pool": '"tenant"', "node.infractl.io/tier": "each.key"}
    selector = {k: (tier if v == "each.key" else v.strip('"')) for k, v in labels.items()}
    return selector, [{"key": "tenant-tier", "operator": "Equal", "value": tier, "effect": "NoSchedule"}]


@pytest.mark.parametrize("env", ENVS)
def test_worker_pools_land_on_their_tier(rendered, env):
    vals = values("controlplane", env)
    docs = rendered[("controlplane", env)]
    workers = [
        d
        for d in docs
        if d["kind"] == "Deployment" and d["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    ]
    model = env_model(env)
    assert [p["tier"] for p in vals["workerPools"]] == list(model.stacks["cluster"]["tenant_tiers"])
    assert len(workers) == len(vals["workerPools"]) + len(model.tenants)
    node_groups = _node_groups_for(env)
    for w in workers:
        tier = w["metadata"]["labels"]["controlplane.infractl.io/tier"]
        spec = w["spec"]["template"]["spec"]
        assert tier in node_groups, f"{w['metadata']['name']}: no node group for tier {tier}"
        selector, tolerations = _expected_placement(tier)
        assert spec["nodeSelector"] == selector
        assert spec["tolerations"] == tolerations
        scaling = next(
            d
            for d in docs
            if d["kind"] == "HorizontalPodAutoscaler" and d["spec"]["scaleTargetRef"]["name"] == w["metadata"]["name"]
        )["spec"]
        group = node_groups[tier]
        assert (scaling["minReplicas"], scaling["maxReplicas"]) == (max(1, group["desired_size"]), group["max_size"])


def _tier_c(docs: list[dict], tenant: str, tier: str) -> None:
    ns = f"tenant-{tenant}"
    assert any(
        d["kind"] == "Namespace"
        and d["metadata"]["name"] == ns
        and d["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        for d in docs
    )
    [dep] = [
        d
        for d in docs
        if d["kind"] == "Deployment" and d["metadata"]["labels"].get("controlplane.infractl.io/tenant") == tenant
    ]
    assert dep["metadata"]["namespace"] == ns
    spec = dep["spec"]["template"]["spec"]
    selector, tolerations = _expected_placement(tier)
    assert spec["tolerations"] == tolerations
    assert spec["nodeSelector"] == selector
    sa = spec["serviceAccountName"]
    assert any(
        d["kind"] == "ServiceAccount" and d["metadata"] == d["metadata"] | {"name": sa, "namespace": ns} for d in docs
    )
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    assert env["CONTROLPLANE_VAULT_AUTH"] == "kubernetes"
    role = env["CONTROLPLANE_VAULT_ROLE"]
    assert role == f"controlplane-tenant-{tenant}"
    [cm] = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("vault-roles")]
    roles = {r["name"]: r for r in json.loads(cm["data"]["roles.json"])}
    assert roles[role]["bound_service_account_names"] == [sa]
    assert roles[role]["bound_service_account_namespaces"] == [ns]
    assert any(
        d["kind"] == "NetworkPolicy" and d["metadata"]["namespace"] == ns and d["spec"]["podSelector"] == {}
        for d in docs
    )


@pytest.mark.parametrize("env", ENVS)
def test_tier_c_tenants_isolated(rendered, env):
    """Each tier C tenant of the env model: own namespace, SA, Vault role, NetworkPolicies, and its own node group
    (c-<name>) in the cluster stack's tenant_tiers, matched by the workers' nodeSelector and tolerations."""
    docs = rendered[("controlplane", env)]
    node_groups = _node_groups_for(env)
    for t in env_model(env).tenants:
        assert node_groups[f"c-{t.name}"] == t.node_group.model_dump()
        _tier_c(docs, t.name, f"c-{t.name}")
    [cm] = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("vault-roles")]
    roles = {r["name"] for r in json.loads(cm["data"]["roles.json"])}
    assert {"controlplane-api", "controlplane-worker"} <= roles


def test_prod_has_tier_c_tenants():
    """The assertions above are not vacuous: prod lists tier C tenants, and they render."""
    assert [t.name for t in env_model("prod").tenants] == ["acme", "globex"]
    assert [t["tier"] for t in values("controlplane", "prod")["dedicatedTenants"]["tenants"]] == ["c-acme", "c-globex"]


def test_tier_c_tenants_reach_temporal_and_the_collector():
    """Temporal's frontend and the collector admit the control plane's namespace and every tenant namespace."""
    expected = [_ns("controlplane"), _ns("tenant-acme"), _ns("tenant-globex")]
    assert values("otel-collector", "prod")["networkPolicy"]["ingressFrom"] == expected
    assert values("temporal", "prod")["networkPolicy"]["frontendIngress"] == expected


def test_api_and_worker_vault_roles(rendered):
    docs = rendered[("controlplane", "prod")]
    for d in docs:
        if d["kind"] == "Deployment" and "controlplane.infractl.io/tenant" not in d["metadata"]["labels"]:
            env = {e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert (
                env["CONTROLPLANE_VAULT_ROLE"]
                == "controlplane-" + d["metadata"]["labels"]["app.kubernetes.io/component"]
            )
    hpas = {d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    assert "controlplane-api" in hpas


@pytest.mark.parametrize("env", ENVS)
def test_otel_pipelines_and_resource_attributes(rendered, env):
    vals = values("otel-collector", env)
    [cm] = [d for d in rendered[("otel-collector", env)] if d["kind"] == "ConfigMap"]
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    attrs = {a["key"]: a["value"] for a in config["processors"]["resource"]["attributes"]}
    assert attrs == vals["resourceAttributes"]
    model = env_model(env)
    assert attrs == {
        "deployment.environment": env,
        "service.namespace": "controlplane",
        "cloud.provider": model.cloud,
        "cloud.region": model.region,
        "k8s.cluster.name": env,  # terraform/stacks/aws/cluster: the EKS cluster is named after the env
    }
    for signal in ("traces", "metrics", "logs"):
        pipe = config["service"]["pipelines"][signal]
        assert pipe["processors"][0] == "memory_limiter" and pipe["processors"][-1] == "batch"
        assert "resource" in pipe["processors"]
        assert [config["exporters"][n] for n in pipe["exporters"]] == [
            e.config for e in getattr(model.observability, signal)
        ]


BAD_VALUES = [
    ("controlplane", ["api", "replicas"], "three"),
    ("controlplane", ["image", "api", "tag"], "1.2.3"),
    ("controlplane", ["image", "worker", "digest"], "latest"),
    ("controlplane", ["config", "database", "port"], "5432"),
    ("controlplane", ["workerPools"], {"standard": {}}),
    ("otel-collector", ["replicas"], "2"),
    ("otel-collector", ["image", "tag"], "0.115.1"),
]


@pytest.mark.parametrize(("chart", "path", "bad"), BAD_VALUES, ids=[".".join(p) for _, p, _ in BAD_VALUES])
def test_wrong_value_fails_through_schema(chart, path, bad):
    vals = copy.deepcopy(values(chart, "dev"))
    node = vals
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    with pytest.raises(helm.HelmError, match=r"(?i)schema|values don't meet"):
        render(chart, vals)


def test_checkov_rendered_manifests(manifests_dir, tmp_path):
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV} (make tools)")
    proc = subprocess.run(
        [
            str(CHECKOV),
            "--skip-download",
            "--quiet",
            "-d",
            str(manifests_dir),
            "--framework",
            "kubernetes",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [(f["check_id"], f["resource"], f["file_path"]) for r in reports for f in r["results"]["failed_checks"]]
    assert not failed, failed
    assert sum(r["summary"]["passed"] for r in reports) > 0
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports)


def test_applied_outputs_replace_the_ci_layer_endpoints():
    from infractl.errors import UsageError

    project = PROJECT
    outputs = {
        "data": {"address": {"value": "db.internal.example"}, "port": {"value": 6432}},
        "evidence": {"bucket_name": {"value": "evidence-bucket-x"}},
    }
    built = values_service.values_for(project, "staging", outputs)
    database = built.charts["controlplane"]["config"]["database"]
    assert (database["host"], database["port"]) == ("db.internal.example", 6432)
    assert built.charts["controlplane"]["config"]["objectStore"]["evidenceBucket"] == "evidence-bucket-x"
    assert (built.charts["temporal"]["persistence"]["host"], built.charts["temporal"]["persistence"]["port"]) == (
        "db.internal.example",
        6432,
    )
    del outputs["evidence"]["bucket_name"]
    with pytest.raises(UsageError, match="stack evidence of staging has no output 'bucket_name'"):
        values_service.values_for(project, "staging", outputs)


def _scrape_jobs(docs: dict[str, list[dict]]) -> dict[str, dict]:
    """The collector's prometheus receiver jobs by name; the receiver feeds the metrics pipeline."""
    [cm] = [d for d in docs["otel-collector"] if d["kind"] == "ConfigMap"]
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert "prometheus" in config["service"]["pipelines"]["metrics"]["receivers"]
    return {job["job_name"]: job for job in config["receivers"]["prometheus"]["config"]["scrape_configs"]}


@pytest.mark.parametrize("env", ENVS)
def test_the_collector_scrapes_every_temporal_server(env, rendered_env):
    """Temporal exposes Prometheus metrics only: the collector's prometheus receiver resolves headless Services
    that the temporal chart renders (one per server component, the metrics port), feeds the metrics pipeline, and
    Temporal's metrics-ingress policy admits the collector's pods."""
    result = rendered_env(env)
    docs = {c.chart: [d for d in yaml.safe_load_all(Path(c.manifest).read_text()) if d] for c in result.charts}
    jobs = _scrape_jobs(docs)
    assert set(jobs) == {"temporal", "controlplane-api", "controlplane-worker"}
    [sd] = jobs["temporal"]["dns_sd_configs"]
    headless = {
        f"{d['metadata']['name']}.temporal.svc.cluster.local": d
        for d in docs["temporal"]
        if d["kind"] == "Service" and d["spec"].get("clusterIP") == "None"
    }
    assert sd["type"] == "A" and set(sd["names"]) <= set(headless)
    components = set()
    for name in sd["names"]:
        service = headless[name]
        assert sd["port"] in [p["port"] for p in service["spec"]["ports"] if p["name"] == "metrics"]
        components.add(service["spec"]["selector"]["app.kubernetes.io/component"])
    assert components == {"frontend", "history", "matching", "worker"}
    [ingress] = [
        d
        for d in docs["temporal"]
        if d["kind"] == "NetworkPolicy" and d["metadata"]["name"].endswith("-metrics-ingress")
    ]
    collector = next(d for d in docs["otel-collector"] if d["kind"] == "Deployment")["spec"]["template"]["metadata"]
    [rule] = ingress["spec"]["ingress"]
    assert [p["port"] for p in rule["ports"]] == [sd["port"]]
    assert any(
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "telemetry"
        and selects(peer["podSelector"], collector["labels"])
        for peer in rule["from"]
    )


@pytest.mark.parametrize("env", ENVS)
def test_https_vault_is_verified_against_its_ca_in_every_namespace(rendered, env):
    """With an https Vault address and a CA ConfigMap, every control-plane pod (api, shared and tier C workers)
    mounts that ConfigMap from its own namespace and points VAULT_CACERT at it."""
    vault = values("controlplane", env)["vault"]
    ca = vault.get("caConfigMap") or {}
    pods = [d for d in rendered[("controlplane", env)] if d["kind"] in ("Deployment", "Rollout")]
    assert pods
    for d in pods:
        spec = d["spec"]["template"]["spec"]
        [container] = spec["containers"]
        variables = {e["name"]: e.get("value") for e in container["env"]}
        assert variables["VAULT_ADDR"] == vault["address"]
        if not ca.get("name"):
            assert "VAULT_CACERT" not in variables
            continue
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["vault-ca"]["configMap"]["name"] == ca["name"]
        mount = next(m for m in container["volumeMounts"] if m["name"] == "vault-ca")
        assert variables["VAULT_CACERT"] == f"{mount['mountPath']}/{ca['key']}"
    if env in ("staging", "prod"):
        assert vault["address"].startswith("https://") and ca.get("name")


@pytest.mark.parametrize("env", ENVS)
def test_the_migration_hook_runs_the_expand_phase_as_the_api_before_the_pods(rendered, env):
    """A pre-install/pre-upgrade hook Job runs `controlplane.migrate --phase expand` (never contract) with the api's
    image, securityContext, placement, environment contract and Vault role; its ServiceAccount and NetworkPolicy
    (the api's egress) are hooks created before it."""
    docs = rendered[("controlplane", env)]
    [job] = [d for d in docs if d["kind"] == "Job"]
    [api] = [
        d
        for d in docs
        if d["kind"] in ("Deployment", "Rollout") and d["metadata"]["labels"]["app.kubernetes.io/component"] == "api"
    ]

    def hook(doc: dict) -> tuple[str, int, str]:
        a = doc["metadata"]["annotations"]
        return a["helm.sh/hook"], int(a["helm.sh/hook-weight"]), a["helm.sh/hook-delete-policy"]

    events, weight, policy = hook(job)
    assert (events, policy) == ("pre-install,pre-upgrade", "before-hook-creation")
    spec, api_spec = job["spec"]["template"]["spec"], api["spec"]["template"]["spec"]
    [c], [api_c] = spec["containers"], api_spec["containers"]
    assert c["command"] == ["python", "-m", "controlplane.migrate", "--phase", "expand", "--wait", "120"]
    assert spec["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] >= 1
    assert c["image"] == api_c["image"] and DIGEST.match(c["image"])
    for key in ("securityContext", "nodeSelector", "tolerations", "volumes", "automountServiceAccountToken"):
        assert spec.get(key) == api_spec.get(key), key
    for key in ("securityContext", "volumeMounts", "resources", "imagePullPolicy"):
        assert c[key] == api_c[key], key
    assert c["resources"].get("limits") and c["resources"].get("requests")

    def variables(container: dict) -> dict[str, str]:
        skip = {"CONTROLPLANE_API_HOST", "CONTROLPLANE_API_PORT", "OTEL_SERVICE_NAME"}
        skip |= {"CONTROLPLANE_METRICS_HOST", "CONTROLPLANE_METRICS_PORT"}  # the Job serves no metrics
        return {e["name"]: e.get("value") for e in container["env"] if e["name"] not in skip}

    assert variables(c) == variables(api_c)  # the same database, Vault role and secrets as the api
    assert {e["name"]: e.get("value") for e in c["env"]}["OTEL_SERVICE_NAME"] == "controlplane-migrate"
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "migrate"

    [sa] = [d for d in docs if d["kind"] == "ServiceAccount" and d["metadata"]["name"] == spec["serviceAccountName"]]
    [policy_doc] = [
        d
        for d in docs
        if d["kind"] == "NetworkPolicy" and d["spec"]["podSelector"] and selects(d["spec"]["podSelector"], labels)
    ]
    for prep in (sa, policy_doc):
        assert hook(prep)[0] == events and hook(prep)[1] < weight, prep["metadata"]["name"]
    [api_policy] = [
        d
        for d in docs
        if d["kind"] == "NetworkPolicy"
        and d["spec"]["podSelector"]
        and selects(d["spec"]["podSelector"], api["spec"]["template"]["metadata"]["labels"])
    ]
    assert policy_doc["spec"]["egress"] == api_policy["spec"]["egress"] and policy_doc["spec"]["ingress"] == []
    [cm] = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("vault-roles")]
    roles = {r["name"]: r for r in json.loads(cm["data"]["roles.json"])}
    role = roles[variables(c)["CONTROLPLANE_VAULT_ROLE"]]
    assert role["name"] == "controlplane-api"
    assert role["bound_service_account_names"] == [api_spec["serviceAccountName"], sa["metadata"]["name"]]
