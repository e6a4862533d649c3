"""helm/temporal rendered for real with the Helm v4 SDK (helm-python-sdk, no cluster, no helm binary).

Every environment's values, as `infractl render` builds them from environments/<env>.yaml (over the chart's ci
layer), are rendered once per module (install --dry-run=client,
which validates the values against values.schema.json, plus an offline render that also yields the hooks), then:
helm lint --strict, kubernetes-validate --strict against the env's Kubernetes version (a missing schema fails),
and policy assertions on the objects (probes, PDBs, NetworkPolicies, securityContext, digests, egress allowlist,
the schema hook ordering). Wrong values fail at render through the schema.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import subprocess
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.integration.charts import ENVS, chart_values, selects

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "temporal"
RELEASE = "temporal"
NAMESPACE = "temporal"
SERVER = ("frontend", "history", "matching", "worker")
DIGEST = re.compile(r"^[a-z0-9./_-]+(:[0-9]+)?(/[a-z0-9._-]+)*@sha256:[a-f0-9]{64}$")
LABELS = ("name", "instance", "version", "component", "managed-by")
HOOK = "helm.sh/hook"


# --- helpers (local to this file) -----------------------------------------------------------------------------


def _values(env: str) -> dict:
    """helm/temporal's values for env, as `infractl render` builds them (ci layer + env model)."""
    return chart_values("temporal", env)


def _env_model(env: str) -> dict:
    return yaml.safe_load((REPO / "environments" / f"{env}.yaml").read_text())


def _docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


def _install(values: dict) -> dict:
    """helm install --dry-run=client: schema-validated; the manifest holds the release's non-hook objects."""
    cfg = helm.Config(storage_driver="memory", namespace=NAMESPACE)
    return cfg.install(helm.Chart.load(CHART), RELEASE, values, namespace=NAMESPACE, dry_run="client")


def _render_all(values: dict) -> list[dict]:
    """Every object the chart renders, hooks included (offline render, as on a first install)."""
    out = helm.Chart.load(CHART).render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return [d for path, text in sorted(out.items()) if not path.endswith("NOTES.txt") for d in _docs(text)]


def _kind(objs: list[dict], kind: str) -> list[dict]:
    return [o for o in objs if o["kind"] == kind]


def _is_hook(obj: dict) -> bool:
    return HOOK in (obj["metadata"].get("annotations") or {})


def _kube_version(env: str) -> str:
    """The env's cluster version (stacks.cluster.kubernetes_version) as a kubernetes-validate schema version."""
    minor = str(_env_model(env)["stacks"]["cluster"]["kubernetes_version"])
    return f"{minor}.0"


def _pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def _containers(obj: dict) -> list[dict]:
    spec = _pod_spec(obj)
    return spec.get("initContainers", []) + spec["containers"]


def _is_dns_rule(rule: dict) -> bool:
    return {p["port"] for p in rule.get("ports", [])} == {53} and all(
        "namespaceSelector" in peer for peer in rule.get("to", [])
    )


def _is_release_rule(rule: dict) -> bool:
    to = rule.get("to", [])
    return (
        "ports" not in rule
        and len(to) == 1
        and set(to[0]) == {"podSelector"}
        and to[0]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/instance") == RELEASE
    )


def _expected_allowlist(values: dict) -> list[dict]:
    return [
        {"to": r["to"], "ports": [{"port": p["port"], "protocol": p.get("protocol", "TCP")} for p in r["ports"]]}
        for r in values["networkPolicy"]["egress"]
    ]


# --- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict]:
    """Per env: the values, the install's non-hook objects, every object (hooks too) and the NOTES."""
    out = {}
    for env in ENVS:
        values = _values(env)
        release = _install(values)
        out[env] = {
            "values": helm.Chart.load(CHART).merge_values(values),  # chart defaults + the env's values
            "manifest": _docs(release["manifest"]),
            "all": _render_all(values),
            "notes": release.get("notes", ""),
        }
    return out


# --- tests --------------------------------------------------------------------------------------------------------


def test_every_env_has_a_values_file():
    assert ENVS == ["dev", "prod", "staging"], ENVS
    assert {p.stem for p in (REPO / "environments").glob("*.yaml")} >= set(ENVS)


@pytest.mark.parametrize("env", ENVS)
def test_renders_every_component(rendered, env):
    r = rendered[env]
    deployments = {d["metadata"]["name"] for d in _kind(r["manifest"], "Deployment")}
    assert deployments == {f"{RELEASE}-{c}" for c in (*SERVER, "web")}
    services = {s["metadata"]["name"] for s in _kind(r["manifest"], "Service")}
    assert services == deployments | {f"{RELEASE}-frontend-headless"}  # the frontend's pods by DNS, for scrapers
    assert not any(_is_hook(o) for o in r["manifest"]), "install manifest holds no hooks"
    assert f"{RELEASE}-frontend.{NAMESPACE}.svc:7233" in r["notes"]
    # persistence: default store and visibility store on PostgreSQL, credentials by env from the Secret only
    config = next(c for c in _kind(r["manifest"], "ConfigMap") if c["metadata"]["name"] == f"{RELEASE}-config")
    server = yaml.safe_load(config["data"]["infractl.yaml"].replace("{{", "'{{").replace("}}", "}}'"))
    stores = server["persistence"]["datastores"]
    assert server["persistence"]["defaultStore"] == "default"
    assert server["persistence"]["visibilityStore"] == "visibility"
    for store in ("default", "visibility"):
        sql = stores[store]["sql"]
        assert sql["pluginName"].startswith("postgres")
        assert sql["databaseName"] == r["values"]["persistence"][store]["database"]
        assert "env" in sql["password"] and "PASSWORD" in sql["password"]
    assert config["data"]["infractl.yaml"].startswith("# enable-template")


@pytest.mark.parametrize("env", ENVS)
def test_helm_lint_strict(rendered, env):
    report = helm.lint(CHART, rendered[env]["values"], strict=True, namespace=NAMESPACE)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == [], report


@pytest.mark.parametrize("env", ENVS)
def test_kubernetes_validate_strict(rendered, env):
    version = _kube_version(env)
    failures = []
    for obj in rendered[env]["all"]:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError as exc:  # "no schema" is a failure, not a pass
            failures.append(f"{name}: no schema ({exc})")
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{name}: {exc.message} at {list(exc.path)}")
    assert failures == []


@pytest.mark.parametrize("env", ENVS)
def test_app_kubernetes_io_labels_and_selectors(rendered, env):
    for obj in rendered[env]["all"]:
        labels = obj["metadata"]["labels"]
        missing = [k for k in LABELS if f"app.kubernetes.io/{k}" not in labels]
        assert not missing, f"{obj['kind']}/{obj['metadata']['name']} lacks {missing}"
    for obj in _kind(rendered[env]["all"], "Deployment") + _kind(rendered[env]["all"], "PodDisruptionBudget"):
        selector = obj["spec"]["selector"]["matchLabels"]
        assert "helm.sh/chart" not in selector and "app.kubernetes.io/version" not in selector


@pytest.mark.parametrize("env", ENVS)
def test_workload_policy(rendered, env):
    """Every Deployment: three probes, a PDB and a NetworkPolicy selecting it, restricted securityContext, digests."""
    objs = rendered[env]["all"]
    pdbs = _kind(objs, "PodDisruptionBudget")
    policies = [p for p in _kind(objs, "NetworkPolicy") if p["spec"]["podSelector"]]  # not the default deny
    workloads = _kind(objs, "Deployment") + _kind(objs, "StatefulSet")
    assert workloads
    for wl in workloads:
        name = wl["metadata"]["name"]
        pod_labels = wl["spec"]["template"]["metadata"]["labels"]
        spec = _pod_spec(wl)
        for c in spec["containers"]:
            assert {"readinessProbe", "livenessProbe", "startupProbe"} <= set(c), f"{name}/{c['name']} probes"
            assert c["resources"]["requests"] and c["resources"]["limits"]["memory"], f"{name}/{c['name']}"
        assert [p for p in pdbs if selects(p["spec"]["selector"], pod_labels)], f"{name}: no PDB"
        assert [p for p in policies if selects(p["spec"]["podSelector"], pod_labels)], f"{name}: no NetworkPolicy"
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["automountServiceAccountToken"] is False
        assert spec["serviceAccountName"] != "default"
    for obj in workloads + _kind(objs, "Job"):
        for c in _containers(obj):
            where = f"{obj['metadata']['name']}/{c['name']}"
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], where
            assert sc["seccompProfile"]["type"] == "RuntimeDefault", where
            assert DIGEST.match(c["image"]), f"{where}: image not by digest: {c['image']}"


@pytest.mark.parametrize("env", ENVS)
def test_ha_follows_the_env_values(rendered, env):
    values = rendered[env]["values"]
    for wl in _kind(rendered[env]["manifest"], "Deployment"):
        component = wl["metadata"]["labels"]["app.kubernetes.io/component"]
        wanted = values["web"] if component == "web" else values["server"][component]
        assert wl["spec"]["replicas"] == wanted["replicas"]
        zone = next(
            t for t in _pod_spec(wl)["topologySpreadConstraints"] if t["topologyKey"] == "topology.kubernetes.io/zone"
        )
        assert zone["whenUnsatisfiable"] == values["highAvailability"]["zoneSpread"]
        assert selects(zone["labelSelector"], wl["spec"]["template"]["metadata"]["labels"])
        assert "podAntiAffinity" in _pod_spec(wl)["affinity"]
        # A rollout must be able to progress: with one pod per node required (and replicas = nodes), no surge pod.
        rolling = wl["spec"]["strategy"]["rollingUpdate"]
        if values["highAvailability"]["nodeAntiAffinity"] == "required":
            assert (rolling["maxSurge"], rolling["maxUnavailable"]) == (0, 1)
        else:
            assert (rolling["maxSurge"], rolling["maxUnavailable"]) == (1, 0)
    if env != "dev":  # staging and prod: at least two of each server, hard zone spread
        for component in SERVER:
            assert values["server"][component]["replicas"] >= 2
        assert values["highAvailability"]["zoneSpread"] == "DoNotSchedule"


@pytest.mark.parametrize("env", ENVS)
def test_default_deny_ingress_and_egress(rendered, env):
    deny = [p for p in _kind(rendered[env]["manifest"], "NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert len(deny) == 1
    spec = deny[0]["spec"]
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert not spec.get("ingress") and not spec.get("egress")


@pytest.mark.parametrize("env", ENVS)
def test_egress_allowlist_equals_the_values_and_the_env_model(rendered, env):
    """Every egress rule of every policy is DNS, the release's own pods, or exactly one allowlist entry."""
    values = rendered[env]["values"]
    expected = _expected_allowlist(values)
    egress_policies = [
        p
        for p in _kind(rendered[env]["all"], "NetworkPolicy")
        if "Egress" in p["spec"]["policyTypes"] and p["spec"]["podSelector"]
    ]
    assert {p["metadata"]["name"] for p in egress_policies} == {f"{RELEASE}-egress", f"{RELEASE}-schema"}
    for policy in egress_policies:
        rules = policy["spec"]["egress"]
        assert sum(_is_dns_rule(r) for r in rules) == 1
        allow = [r for r in rules if not _is_dns_rule(r) and not _is_release_rule(r)]
        assert allow == expected, policy["metadata"]["name"]
        for rule in allow:
            assert rule["to"] and rule["ports"], "an allowlist rule without peers or ports lets everything out"
            for peer in rule["to"]:
                if "ipBlock" in peer:
                    assert ipaddress.ip_network(peer["ipBlock"]["cidr"]).prefixlen > 0, "0.0.0.0/0 in the allowlist"
    # the only destination outside the cluster is the env's database, inside the env's VPC
    vpc = ipaddress.ip_network(_env_model(env)["network"]["cidr"])
    cidrs = [ipaddress.ip_network(p["ipBlock"]["cidr"]) for r in expected for p in r["to"] if "ipBlock" in p]
    assert cidrs and all(c.subnet_of(vpc) for c in cidrs)
    assert {p["port"] for r in expected for p in r["ports"]} == {values["persistence"]["port"]}


@pytest.mark.parametrize("env", ENVS)
def test_ingress_only_from_listed_peers(rendered, env):
    values = rendered[env]["values"]["networkPolicy"]
    policies = {p["metadata"]["name"]: p for p in _kind(rendered[env]["manifest"], "NetworkPolicy")}
    assert policies[f"{RELEASE}-frontend-ingress"]["spec"]["ingress"] == [
        {"from": values["frontendIngress"], "ports": [{"port": 7233, "protocol": "TCP"}]}
    ]
    for policy in policies.values():
        for rule in policy["spec"].get("ingress") or []:
            assert rule.get("from"), f'{policy["metadata"]["name"]}: an ingress rule without "from" admits everyone'


@pytest.mark.parametrize("env", ENVS)
def test_schema_job_is_a_hook_that_runs_before_the_server_pods(rendered, env):
    values = rendered[env]["values"]
    objs = rendered[env]["all"]
    jobs = _kind(objs, "Job")
    assert len(jobs) == 1
    job = jobs[0]
    notes = job["metadata"]["annotations"]
    assert set(notes[HOOK].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in notes["helm.sh/hook-delete-policy"]
    # its ServiceAccount and NetworkPolicy are hooks too, created before it (lower weight)
    for kind in ("ServiceAccount", "NetworkPolicy"):
        prep = [o for o in _kind(objs, kind) if _is_hook(o)]
        assert len(prep) == 1, kind
        assert set(prep[0]["metadata"]["annotations"][HOOK].split(",")) == {"pre-install", "pre-upgrade"}
        assert int(prep[0]["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(notes["helm.sh/hook-weight"])
    assert _pod_spec(job)["serviceAccountName"] == f"{RELEASE}-schema"
    script = _pod_spec(job)["containers"][0]["args"][0]
    assert "update-schema" in script and "setup-schema" in script
    assert job["spec"]["backoffLimit"] == values["schema"]["backoffLimit"]
    # the server pods are ordinary release objects (created after the pre-* hooks) and wait for the schema version
    for wl in _kind(objs, "Deployment"):
        assert not _is_hook(wl)
        component = wl["metadata"]["labels"]["app.kubernetes.io/component"]
        if component in SERVER:
            init = _pod_spec(wl)["initContainers"]
            assert [c["name"] for c in init] == ["wait-for-schema"]
            gate = init[0]["args"][0]
            assert values["schema"]["expectedVersion"]["default"] in gate
            assert values["schema"]["expectedVersion"]["visibility"] in gate
            assert "schema_version" in gate


@pytest.mark.parametrize("env", ENVS)
def test_credentials_come_from_the_secret(rendered, env):
    values = rendered[env]["values"]
    for obj in _kind(rendered[env]["all"], "Deployment") + _kind(rendered[env]["all"], "Job"):
        for c in _containers(obj):
            for var in c.get("env", []):
                if "PASSWORD" in var["name"] or var["name"].endswith("_USER"):
                    ref = var["valueFrom"]["secretKeyRef"]
                    assert ref["name"] in {
                        values["persistence"][s]["existingSecret"] for s in ("default", "visibility")
                    }
    assert not _kind(rendered[env]["all"], "Secret"), "the chart never renders credentials itself"
    for cm in _kind(rendered[env]["all"], "ConfigMap"):
        for text in cm["data"].values():
            for line in re.findall(r"(?im)^\s*(?:password|user):.*$", text):
                assert re.fullmatch(r'\s*\w+: \{\{ env "TEMPORAL_[A-Z]+_DB_(?:USER|PASSWORD)" \| quote \}\}', line), (
                    line
                )


def test_config_change_restarts_the_pods(rendered):
    values = _values("dev")
    before = {d["metadata"]["name"]: d for d in _kind(rendered["dev"]["manifest"], "Deployment")}
    values["server"]["logLevel"] = "warn"
    after = {d["metadata"]["name"]: d for d in _docs(_install(values)["manifest"]) if d["kind"] == "Deployment"}
    key = "checksum/config"
    for name in before:
        assert (
            before[name]["spec"]["template"]["metadata"]["annotations"][key]
            != (after[name]["spec"]["template"]["metadata"]["annotations"][key])
        )


def test_vault_static_secret_feeds_the_secret(rendered):
    values = _values("prod")
    values["vaultStaticSecret"] = {
        "enabled": True,
        "vaultAuthRef": "temporal",
        "mount": "kv",
        "type": "kv-v2",
        "path": "temporal/db",
    }
    objs = _render_all(values)
    (vss,) = _kind(objs, "VaultStaticSecret")
    assert vss["spec"]["destination"]["name"] == values["persistence"]["default"]["existingSecret"]
    # A hook ahead of the schema Job that reads the Secret (a plain resource would come after the pre-install hooks).
    (job,) = _kind(objs, "Job")
    for obj in (vss, job):
        assert set(obj["metadata"]["annotations"][HOOK].split(",")) == {"pre-install", "pre-upgrade"}
    weight = "helm.sh/hook-weight"
    assert int(vss["metadata"]["annotations"][weight]) < int(job["metadata"]["annotations"][weight])
    assert {t["name"] for t in vss["spec"]["rolloutRestartTargets"]} == {f"{RELEASE}-{c}" for c in SERVER}


@pytest.mark.parametrize(
    ("path", "bad", "needle"),
    [
        (("server", "history", "replicas"), "three", "replicas"),
        (("persistence", "port"), "5432", "port"),
        (("images", "server", "digest"), "1.27.2", "digest"),
        (("networkPolicy", "egress"), {"name": "db"}, "egress"),
        (("persistence", "tls", "enabled"), "yes", "enabled"),
        (("server", "frontend", "replicasCount"), 3, "replicasCount"),
    ],
    ids=["int-as-string", "port-as-string", "tag-not-digest", "allowlist-not-a-list", "bool-as-string", "unknown-key"],
)
def test_wrong_value_fails_through_the_schema(path, bad, needle):
    values = _values("dev")
    node = values
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    with pytest.raises(helm.HelmError) as excinfo:
        _install(values)
    message = str(excinfo.value)
    assert "schema" in message.lower() and needle in message, message
    report = helm.lint(CHART, values, strict=True, namespace=NAMESPACE)
    assert report["errors"] or any(m["severity"] >= 3 for m in report["messages"]), report


def test_missing_database_host_fails():
    values = _values("dev")
    del values["persistence"]["host"]
    values["persistence"]["host"] = ""
    with pytest.raises(helm.HelmError):
        _install(values)


CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"


def test_checkov_has_no_failures_without_a_written_reason(rendered, tmp_path):
    """checkov (its own virtualenv, offline) on every env's rendered objects: 0 failures; every waiver has a reason."""
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV} (make tools)")
    for env in ENVS:
        objs = copy.deepcopy(rendered[env]["all"])
        for obj in objs:
            obj["metadata"].setdefault("namespace", NAMESPACE)
            for key, value in (obj["metadata"].get("annotations") or {}).items():
                if key.startswith("checkov.io/skip"):
                    check, _, reason = value.partition("=")
                    assert re.fullmatch(r"CKV2?_K8S_\d+", check) and len(reason.split()) >= 4, value
        (tmp_path / f"{env}.yaml").write_text(yaml.safe_dump_all(objs))
    run = subprocess.run(
        [str(CHECKOV), "--skip-download", "-d", str(tmp_path), "--framework", "kubernetes", "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    reports = json.loads(run.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})" for r in reports for c in r["results"]["failed_checks"]
    ]
    assert failed == [], failed
    assert sum(r["summary"]["passed"] for r in reports) > 0, run.stdout[:500]
