"""How the OTel Collector finds the control plane's pods to scrape (docs/render.md#the-control-planes-metrics): through
the Kubernetes API (kubernetes_sd_configs, role pod), so that the api's series carry the pod label Argo Rollouts
sets, rollouts-pod-template-hash, as the label the AnalysisTemplate's queries select the canary by (the env model's
delivery.analysis.canary_label). Temporal's servers stay on DNS discovery of their headless Services.

The relabelling runs on Prometheus's own engine (`promtool check service-discovery`). Debian's Prometheus is built
without the Kubernetes discovery, so the targets it would find are given through a file (file_sd) with the labels
Prometheus documents for role pod, made from the rendered pod templates; the relabel_configs are the rendered ones,
unchanged. The scraped label sets then feed the AnalysisTemplate's query on promtool's rule engine. The RBAC that
lets the collector list the pods, the token it reads, and its egress to the API server are checked on the rendered
objects (kubernetes-validate --strict). No cluster, no helm binary (helm-python-sdk)."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from infractl.models.project import Project
from infractl.services.render import network
from infractl.services.render import values as values_service
from tests.integration.charts import ENVS, REPO, chart_values, env_values, load_docs, render_chart

pytestmark = pytest.mark.integration

KUBE_VERSION = "1.31.0"  # environments/*.yaml stacks.cluster.kubernetes_version
METRICS_PORT = 9464
HASH_META = "__meta_kubernetes_pod_label_rollouts_pod_template_hash"
TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"  # where the in-cluster config reads token, ca.crt
POD_READER = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]


def _promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        pytest.fail("promtool is not on PATH: apt-get install prometheus (make tools installs it)")
    return found


def _docs(rendered_env, env: str) -> dict[str, list[dict]]:
    return {c.chart: load_docs(Path(c.manifest).read_text()) for c in rendered_env(env).charts}


def _receiver(collector_docs: list[dict]) -> dict:
    [cm] = [d for d in collector_docs if d["kind"] == "ConfigMap"]
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert "prometheus" in config["service"]["pipelines"]["metrics"]["receivers"]
    return config["receivers"]["prometheus"]["config"]


def _jobs(collector_docs: list[dict]) -> dict[str, dict]:
    return {j["job_name"]: j for j in _receiver(collector_docs)["scrape_configs"]}


def _workloads(docs: list[dict], component: str) -> list[dict]:
    return [
        d
        for d in docs
        if d["kind"] in ("Deployment", "Rollout")
        and d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]


# --- the pods the API would list, as role pod targets ---------------------------------------------------------


def _meta(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def _pods(docs: list[dict]) -> list[dict]:
    """The pods the controlplane manifest makes, as the API would list them: each workload's template with the
    controller's hash label (a Rollout: a stable and a canary ReplicaSet), the migration Job's pod, an evicted api
    pod (phase Failed) and a pod of another release, each with an address from TEST-NET-1."""
    pods: list[dict] = []

    def add(template: dict, namespace: str, name: str, labels: dict, phase: str = "Running") -> None:
        ip = f"192.0.2.{len(pods) + 1}"
        pods.append({"name": name, "namespace": namespace, "labels": labels, "phase": phase, "ip": ip} | template)

    for d in docs:
        if d["kind"] not in ("Deployment", "Rollout", "Job"):
            continue
        template = {"containers": d["spec"]["template"]["spec"]["containers"]}
        labels, ns, name = (
            d["spec"]["template"]["metadata"]["labels"],
            d["metadata"]["namespace"],
            d["metadata"]["name"],
        )
        if d["kind"] == "Rollout":
            for rs_hash in ("stable5f7c", "canary9b2d"):
                add(template, ns, f"{name}-{rs_hash}-x1", labels | {network.ROLLOUTS_HASH_LABEL: rs_hash})
        elif d["kind"] == "Deployment":
            add(template, ns, f"{name}-6d4b-x1", labels | {"pod-template-hash": "6d4b"})
        else:
            add(template, ns, f"{name}-x1", labels, phase="Succeeded")
        if d["kind"] != "Job" and labels["app.kubernetes.io/component"] == "api":
            add(template, ns, f"{name}-evicted", labels | {"pod-template-hash": "0ld"}, phase="Failed")
            other = labels | {"app.kubernetes.io/instance": "controlplane-preview"}
            add(template, ns, "controlplane-preview-api-x1", other)
    return pods


def _targets(pods: list[dict], namespaces: list[str]) -> list[dict]:
    """Prometheus's role pod targets of these pods in these namespaces (its documented __meta_kubernetes_pod_*
    labels): one per declared container port, <pod IP>:<port>; a container without ports gives one without port."""
    groups = []
    for pod in (p for p in pods if p["namespace"] in namespaces):
        base = {
            "__meta_kubernetes_namespace": pod["namespace"],
            "__meta_kubernetes_pod_name": pod["name"],
            "__meta_kubernetes_pod_ip": pod["ip"],
            "__meta_kubernetes_pod_phase": pod["phase"],
            "__meta_kubernetes_pod_ready": str(pod["phase"] == "Running").lower(),
        }
        for key, value in pod["labels"].items():
            base[f"__meta_kubernetes_pod_label_{_meta(key)}"] = value
            base[f"__meta_kubernetes_pod_labelpresent_{_meta(key)}"] = "true"
        for c in pod["containers"]:
            container = base | {"__meta_kubernetes_pod_container_name": c["name"]}
            container["__meta_kubernetes_pod_container_init"] = "false"
            for port in c.get("ports") or [None]:
                if port is None:
                    groups.append({"targets": [pod["ip"]], "labels": container})
                    continue
                labels = container | {
                    "__meta_kubernetes_pod_container_port_name": port.get("name", ""),
                    "__meta_kubernetes_pod_container_port_number": str(port["containerPort"]),
                    "__meta_kubernetes_pod_container_port_protocol": port.get("protocol", "TCP"),
                }
                groups.append({"targets": [f"{pod['ip']}:{port['containerPort']}"], "labels": labels})
    return groups


def _scraped(jobs: dict[str, dict], pods: list[dict], names: list[str], tmp_path: Path) -> dict[str, list[dict]]:
    """The targets each job keeps after its rendered relabelling, on Prometheus's engine: {job: [its labels without
    the __ ones]}. Each job's kubernetes_sd_configs becomes a file of the targets the API would give it."""
    promtool = _promtool()
    config = {"scrape_configs": []}
    for name in names:
        job = copy.deepcopy(jobs[name])
        [sd] = job.pop("kubernetes_sd_configs")
        targets = tmp_path / f"{name}.json"
        targets.write_text(json.dumps(_targets(pods, sd["namespaces"]["names"])))
        config["scrape_configs"].append(job | {"file_sd_configs": [{"files": [str(targets)]}]})
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    # The file is read when discovery starts; the timeout only bounds how long promtool collects updates.
    runs = {
        name: subprocess.Popen(
            [promtool, "check", "service-discovery", "--timeout=3s", str(path), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    }
    out = {}
    for name, run in runs.items():
        stdout, stderr = run.communicate(timeout=60)
        assert run.returncode == 0, f"promtool check service-discovery {name}:\n{stdout}\n{stderr}"
        kept = [t["labels"] for t in json.loads(stdout) if t["labels"]]
        out[name] = [{k: v for k, v in labels.items() if not k.startswith("__")} for labels in kept]
    return out


# --- the rendered scrape configuration -------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_the_control_plane_is_discovered_as_pods_with_the_canary_label_mapped(env, rendered_env):
    """Jobs controlplane-api and controlplane-worker list pods (role pod) in exactly the namespaces their workloads
    run in, keep them by the chart's app.kubernetes.io labels on the metrics port, and the api job writes the pod's
    rollouts-pod-template-hash as exactly the env's delivery.analysis.canary_label, the label the AnalysisTemplate's
    queries select. Temporal is the only job left on DNS discovery (its headless Services); the receiver's config
    holds no `$`, which the collector would expand."""
    docs = _docs(rendered_env, env)
    jobs = _jobs(docs["otel-collector"])
    label = env_values(env).env.delivery.analysis.canary_label
    assert set(jobs) == {"temporal", "controlplane-api", "controlplane-worker"}
    assert [n for n, j in jobs.items() if "dns_sd_configs" in j] == ["temporal"]
    assert "$" not in json.dumps(_receiver(docs["otel-collector"]))
    for component in ("api", "worker"):
        job = jobs[f"controlplane-{component}"]
        namespaces = sorted({w["metadata"]["namespace"] for w in _workloads(docs["controlplane"], component)})
        [sd] = job["kubernetes_sd_configs"]
        assert set(sd) == {"role", "namespaces"} and sd["role"] == "pod", component
        assert sorted(sd["namespaces"]["names"]) == namespaces, component
        [keep] = [r for r in job["relabel_configs"] if r.get("action") == "keep" and len(r["source_labels"]) > 1]
        wanted = {"name": "controlplane", "instance": "controlplane", "component": component}
        assert dict(zip(keep["source_labels"], keep["regex"].split(";"), strict=True)) == {
            f"__meta_kubernetes_pod_label_app_kubernetes_io_{k}": v for k, v in wanted.items()
        }
        mapped = {r["source_labels"][0]: r["target_label"] for r in job["relabel_configs"] if "target_label" in r}
        if component == "api":
            assert mapped == {
                HASH_META: label,
                "__meta_kubernetes_namespace": "namespace",
                "__meta_kubernetes_pod_name": "pod",
            }
        else:
            assert mapped == {}  # a tier C worker's namespace and pod name the tenant: no label holds a tenant
    [template] = [d for d in docs["controlplane"] if d["kind"] == "AnalysisTemplate"] or [None]
    if template is not None:
        for metric in template["spec"]["metrics"]:
            assert f'{label}="{{{{args.canary-hash}}}}"' in metric["provider"]["prometheus"]["query"]


@pytest.mark.parametrize("env", ENVS)
def test_prometheus_keeps_each_components_running_pods_and_names_the_canary(env, rendered_env, tmp_path):
    """On Prometheus's relabelling: the api job keeps the api's running pods (the Rollout's stable and canary
    ReplicaSets' where delivery is progressive), each once, on <pod IP>:9464; not the http port, not an evicted pod,
    not another release's api, not a worker or the migration Job. Its series are labelled job, instance, namespace,
    pod and the canary label (the pod's hash). The worker job keeps every worker in the control plane's and the tier
    C tenants' namespaces with job and instance only, as DNS discovery labelled them."""
    docs = _docs(rendered_env, env)
    jobs = _jobs(docs["otel-collector"])
    label = env_values(env).env.delivery.analysis.canary_label
    pods = _pods(docs["controlplane"])
    scraped = _scraped(jobs, pods, ["controlplane-api", "controlplane-worker"], tmp_path)
    by_name = {p["name"]: p for p in pods}

    def running(component: str) -> list[dict]:
        return [
            p
            for p in pods
            if p["labels"]["app.kubernetes.io/component"] == component
            and p["labels"]["app.kubernetes.io/instance"] == "controlplane"
            and p["phase"] == "Running"
        ]

    api = scraped["controlplane-api"]
    assert sorted(t["pod"] for t in api) == sorted(p["name"] for p in running("api"))
    progressive = env_values(env).env.delivery.progressive
    assert len(api) == (2 if progressive else 1)
    for target in api:
        pod = by_name[target["pod"]]
        expected = {"job": "controlplane-api", "instance": f"{pod['ip']}:{METRICS_PORT}"}
        expected |= {"namespace": "controlplane", "pod": pod["name"]}
        if progressive:
            expected[label] = pod["labels"][network.ROLLOUTS_HASH_LABEL]
        assert target == expected
    workers = scraped["controlplane-worker"]
    assert sorted(t["instance"] for t in workers) == sorted(f"{p['ip']}:{METRICS_PORT}" for p in running("worker"))
    assert all(set(t) == {"job", "instance"} for t in workers)
    namespaces = {by_ip["namespace"] for t in workers for by_ip in pods if t["instance"].startswith(by_ip["ip"] + ":")}
    model = env_values(env).env
    assert namespaces == {"controlplane", *(f"tenant-{t.name}" for t in model.tenants)}


def test_the_canary_series_as_scraped_are_what_the_analysis_judges(rendered_env, tmp_path):
    """staging, end to end: the label sets the collector gives the api's stable and canary pods, with request
    counters under them, evaluated by the AnalysisTemplate's api-availability query on promtool's rule engine. With
    the canary's hash it sees only the canary (healthy: passes although the stable pods fail half their requests);
    with the stable hash it sees only the stable pods (fails)."""
    docs = _docs(rendered_env, "staging")
    pods = _pods(docs["controlplane"])
    [api] = _scraped(_jobs(docs["otel-collector"]), pods, ["controlplane-api"], tmp_path).values()
    label = env_values("staging").env.delivery.analysis.canary_label
    by_hash = {t[label]: t for t in api}
    assert sorted(by_hash) == ["canary9b2d", "stable5f7c"]
    [template] = [d for d in docs["controlplane"] if d["kind"] == "AnalysisTemplate"]
    [metric] = [m for m in template["spec"]["metrics"] if m["name"] == "api-availability"]
    query = metric["provider"]["prometheus"]["query"]
    threshold = re.fullmatch(r"len\(result\) > 0 && result\[0\] <= ([0-9.e-]+)", metric["successCondition"])[1]
    series = []
    for rs_hash, (ok, bad) in {"canary9b2d": (200, 0), "stable5f7c": (100, 100)}.items():
        target = by_hash[rs_hash]
        for code, per_minute in (("200", ok), ("500", bad)):
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(target.items()))
            name = f'controlplane_http_requests_total{{{labels},code="{code}",method="GET",route="/v1/runs"}}'
            series.append({"series": name, "values": f"0+{per_minute}x10"})
    one = [{"labels": "{}", "value": 1}]
    tests = []
    for rs_hash, passes in (("canary9b2d", True), ("stable5f7c", False)):
        q = query.replace("{{args.canary-hash}}", rs_hash)
        tests.append({"expr": f"count(({q}) <= {threshold})", "eval_time": "10m", "exp_samples": one if passes else []})
        tests.append({"expr": f"count(({q}) > {threshold})", "eval_time": "10m", "exp_samples": [] if passes else one})
    path = tmp_path / "analysis-test.yml"
    path.write_text(
        yaml.safe_dump(
            {"rule_files": [], "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": tests}]},
            width=10_000,
        )
    )
    done = subprocess.run([_promtool(), "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"promtool test rules failed:\n{done.stdout}\n{done.stderr}"


def test_another_canary_label_reaches_both_the_collector_and_the_analysis(tmp_path):
    """delivery.analysis.canary_label set to canary_hash in staging: the collector's api job writes the hash as
    canary_hash (on Prometheus's relabelling) and the AnalysisTemplate's queries select canary_hash: one setting,
    never two that could disagree."""
    root = tmp_path / "p"
    for folder in ("environments", "helm", "slo"):
        shutil.copytree(REPO / folder, root / folder, symlinks=True)
    path = root / "environments" / "staging.yaml"
    data = yaml.safe_load(path.read_text())
    data["delivery"]["analysis"]["canary_label"] = "canary_hash"
    path.write_text(yaml.safe_dump(data))
    charts = values_service.values_for(Project(root=root, work_dir=root / ".infractl"), "staging").charts
    [api_job] = [j for j in charts["otel-collector"]["scrape"] if j["job"] == "controlplane-api"]
    assert api_job["pods"]["podLabels"] == {"rollouts-pod-template-hash": "canary_hash"}
    for metric in charts["controlplane"]["delivery"]["analysis"]["metrics"]:
        assert 'canary_hash="{{args.canary-hash}}"' in metric["query"]
    collector = render_chart("otel-collector", charts["otel-collector"])
    controlplane = render_chart("controlplane", charts["controlplane"])
    [api] = _scraped(_jobs(collector), _pods(controlplane), ["controlplane-api"], tmp_path).values()
    assert sorted(t["canary_hash"] for t in api) == ["canary9b2d", "stable5f7c"]
    assert not any("rollouts_pod_template_hash" in t for t in api)


# --- what the discovery needs: RBAC, the token, the API server ---------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_the_collector_may_list_pods_only_where_it_discovers_them(env, rendered_env):
    """In each namespace a `pods` job lists, one Role that may get, list and watch pods and nothing else, bound to
    the collector's ServiceAccount (the one its Deployment runs as, in its namespace) and to nobody else; no Role
    elsewhere, no ClusterRole or ClusterRoleBinding in any chart. All of it valid for Kubernetes (strict)."""
    docs = _docs(rendered_env, env)
    collector = next(d for d in docs["otel-collector"] if d["kind"] == "Deployment")
    account = {
        "kind": "ServiceAccount",
        "name": collector["spec"]["template"]["spec"]["serviceAccountName"],
        "namespace": collector["metadata"]["namespace"],
    }
    assert account == {"kind": "ServiceAccount", "name": "otel-collector-gateway", "namespace": "telemetry"}
    assert any(
        d["kind"] == "ServiceAccount" and d["metadata"]["name"] == account["name"] for d in docs["otel-collector"]
    )
    discovered = {
        ns
        for j in _jobs(docs["otel-collector"]).values()
        for sd in j.get("kubernetes_sd_configs", [])
        for ns in sd["namespaces"]["names"]
    }
    model = env_values(env).env
    assert discovered == {"controlplane", *(f"tenant-{t.name}" for t in model.tenants)}
    every = [d for chart in docs.values() for d in chart]
    assert not [d for d in every if d["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    roles = [d for d in every if d["kind"] == "Role"]
    bindings = [d for d in every if d["kind"] == "RoleBinding"]
    assert sorted(r["metadata"]["namespace"] for r in roles) == sorted(discovered)
    assert sorted(b["metadata"]["namespace"] for b in bindings) == sorted(discovered)
    for role in roles:
        assert role["rules"] == POD_READER, role["metadata"]
        [binding] = [b for b in bindings if b["metadata"]["namespace"] == role["metadata"]["namespace"]]
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": role["metadata"]["name"],
        }
        assert binding["subjects"] == [account]
        for obj in (role, binding):
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)


@pytest.mark.parametrize("env", ENVS)
def test_the_collector_reads_its_token_and_reaches_the_api_server(env, rendered_env):
    """The ServiceAccount and the pod keep automountServiceAccountToken false; the collector's container mounts, read
    only, a projected token (with the cluster CA and its namespace) where the in-cluster config reads it. Its
    NetworkPolicy lets it reach the API server, the VPC CIDR (EKS's private endpoint) on 443, and nothing else new."""
    docs = _docs(rendered_env, env)
    collector = next(d for d in docs["otel-collector"] if d["kind"] == "Deployment")
    spec = collector["spec"]["template"]["spec"]
    [sa] = [d for d in docs["otel-collector"] if d["kind"] == "ServiceAccount"]
    assert sa["automountServiceAccountToken"] is False and spec["automountServiceAccountToken"] is False
    [container] = spec["containers"]
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == TOKEN_DIR]
    assert mount["readOnly"] is True
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    sources = {next(iter(s)): s[next(iter(s))] for s in volume["projected"]["sources"]}
    assert sources["serviceAccountToken"]["path"] == "token"
    assert sources["serviceAccountToken"]["expirationSeconds"] <= 3600
    assert sources["configMap"] == {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}
    assert sources["downwardAPI"]["items"][0]["path"] == "namespace"
    kubernetes_validate.validate(collector, KUBE_VERSION, strict=True)
    model = env_values(env).env
    rules = {r["name"]: r for r in chart_values("otel-collector", env)["networkPolicy"]["egress"]}
    assert rules["kube-apiserver"] == {
        "name": "kube-apiserver",
        "to": [{"ipBlock": {"cidr": model.network.cidr}}],
        "ports": [{"port": 443, "protocol": "TCP"}],
    }
    [policy] = [d for d in docs["otel-collector"] if d["kind"] == "NetworkPolicy" and d["spec"]["podSelector"]]
    assert {"to": rules["kube-apiserver"]["to"], "ports": rules["kube-apiserver"]["ports"]} in policy["spec"]["egress"]


BAD_SCRAPE = [
    ("both-discoveries", lambda j: j.update(dnsNames=["x.svc"])),
    ("no-discovery", lambda j: j.pop("pods")),
    ("reserved-label", lambda j: j["pods"].update(podLabels={"rollouts-pod-template-hash": "__hash"})),
    ("label-the-job-sets", lambda j: j["pods"].update(podLabels={"rollouts-pod-template-hash": "instance"})),
    ("no-namespace", lambda j: j["pods"].update(namespaces=[])),
]


@pytest.mark.parametrize("change", [c for _, c in BAD_SCRAPE], ids=[n for n, _ in BAD_SCRAPE])
def test_a_wrong_scrape_job_fails_through_the_schema(change):
    vals = chart_values("otel-collector", "staging")
    change(next(j for j in vals["scrape"] if j["job"] == "controlplane-api"))
    with pytest.raises(helm.HelmError, match=r"(?i)schema|values don't meet"):
        render_chart("otel-collector", vals)


def test_a_discovery_role_only_with_metrics_on():
    """metrics.enabled false: no metrics port, so no Role, whoever metrics.discoveredBy names."""
    vals = chart_values("controlplane", "prod")
    assert vals["metrics"]["discoveredBy"]
    vals["metrics"]["enabled"] = False
    assert not [d for d in render_chart("controlplane", vals) if d["kind"] in ("Role", "RoleBinding")]
