"""helm/controlplane and helm/otel-collector: render x every env, lint --strict, kubernetes-validate --strict,
policy assertions on the rendered objects, checkov, and schema refusals. No cluster, no helm binary
(helm-python-sdk)."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

helm = pytest.importorskip("helm_python", reason="pip install helm-python-sdk")

REPO = Path(__file__).resolve().parents[2]
CHARTS = {"controlplane": REPO / "helm/controlplane", "otel-collector": REPO / "helm/otel-collector"}
NAMESPACES = {"controlplane": "controlplane", "otel-collector": "observability"}
ENVS = sorted(p.stem for p in (REPO / "environments").glob("*.yaml"))
CASES = [(c, e) for c in CHARTS for e in ENVS]
KUBE_VERSION = "1.31.0"  # environments/*.yaml stacks.cluster.kubernetes_version
DIGEST = re.compile(r"^[^@:\s]+(:[0-9]+)?(/[^@:\s]+)*@sha256:[a-f0-9]{64}$")
CHECKOV = REPO / ".tools/checkov/bin/checkov"
WORKLOADS = {"Deployment", "StatefulSet"}


def values(chart: str, env: str) -> dict:
    return yaml.safe_load((CHARTS[chart] / "ci" / f"{env}-values.yaml").read_text())


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
def rendered() -> dict[tuple[str, str], list[dict]]:
    return {(c, e): render(c, values(c, e)) for c, e in CASES}


@pytest.fixture(scope="module")
def manifests_dir(rendered, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    for (chart, env), docs in rendered.items():
        (out / f"{chart}-{env}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
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


def _selects(selector: dict, labels: dict) -> bool:
    match = selector.get("matchLabels", {})
    return all(labels.get(k) == v for k, v in match.items()) and not selector.get("matchExpressions")


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
            and _selects(d["spec"]["selector"], labels)
        ]
        assert pdbs, f"{ns}/{name}: no PDB"
        nps = [
            d
            for d in docs
            if d["kind"] == "NetworkPolicy"
            and d["metadata"]["namespace"] == ns
            and _selects(d["spec"]["podSelector"], labels)
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


@pytest.mark.parametrize(("chart", "env"), CASES)
def test_egress_allowlist_equals_values(rendered, chart, env):
    allow = [{"to": e["to"], "ports": e["ports"]} for e in values(chart, env)["networkPolicy"]["egress"]]
    nps = [d for d in rendered[(chart, env)] if d["kind"] == "NetworkPolicy" and d["spec"]["podSelector"]]
    assert nps
    for np in nps:
        assert "Egress" in np["spec"]["policyTypes"]
        assert np["spec"]["egress"] == allow, np["metadata"]["name"]
    if chart == "controlplane":
        names = {e["name"] for e in values(chart, env)["networkPolicy"]["egress"]}
        assert names == {"dns", "database", "temporal", "vault", "object-store", "otel-collector"}


@pytest.mark.parametrize("env", ENVS)
def test_worker_pools_land_on_their_tier(rendered, env):
    vals = values("controlplane", env)
    docs = rendered[("controlplane", env)]
    workers = [
        d
        for d in docs
        if d["kind"] == "Deployment" and d["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    ]
    env_tiers = set(
        yaml.safe_load((REPO / "environments" / f"{env}.yaml").read_text())["stacks"]["cluster"]["tenant_tiers"]
    )
    assert {p["tier"] for p in vals["workerPools"]} == env_tiers
    assert len(workers) == len(vals["workerPools"]) + len(vals["dedicatedTenants"]["tenants"])
    for w in workers:
        tier = w["metadata"]["labels"]["controlplane.infractl.io/tier"]
        spec = w["spec"]["template"]["spec"]
        assert tier in env_tiers
        assert spec["nodeSelector"] == {"node.infractl.io/pool": "tenant", "node.infractl.io/tier": tier}
        assert {"key": "tenant-tier", "operator": "Equal", "value": tier, "effect": "NoSchedule"} in spec["tolerations"]


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
    assert spec["tolerations"] == [{"key": "tenant-tier", "operator": "Equal", "value": tier, "effect": "NoSchedule"}]
    assert spec["nodeSelector"]["node.infractl.io/tier"] == tier
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
    docs = rendered[("controlplane", env)]
    for t in values("controlplane", env)["dedicatedTenants"]["tenants"]:
        _tier_c(docs, t["name"], t["tier"])
    roles = {r["name"] for d in docs if d["kind"] == "ConfigMap" for r in json.loads(d["data"]["roles.json"])}
    assert {"controlplane-api", "controlplane-worker"} <= roles


def test_tier_named_c():
    vals = values("controlplane", "prod")
    vals["dedicatedTenants"]["tenants"] = [{"name": "initech", "tier": "c"}]
    _tier_c(render("controlplane", vals), "initech", "c")


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
    for signal in ("traces", "metrics", "logs"):
        pipe = config["service"]["pipelines"][signal]
        assert pipe["processors"][0] == "memory_limiter" and pipe["processors"][-1] == "batch"
        assert "resource" in pipe["processors"]
        assert [config["exporters"][n] for n in pipe["exporters"]] == [
            e["config"] for e in vals["pipelines"][signal]["exporters"]
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


@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov venv missing (make tools)")
def test_checkov_rendered_manifests(manifests_dir, tmp_path):
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
