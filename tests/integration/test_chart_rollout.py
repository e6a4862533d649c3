"""Progressive delivery in the controlplane chart (the Kubernetes form, docs/delivery.md#kubernetes-form-argo-rollouts):
where the env model says delivery.progressive (staging, prod) the api is an Argo Rollout judged by an AnalysisTemplate
generated from the SLO definitions; elsewhere (dev) it stays a Deployment.

The Rollout and the AnalysisTemplate are validated against Argo Rollouts' own CRD schemas (vendored in
docs/schemas/crds/, strict as the API server's field validation), the pod template and the preview Service also with
kubernetes-validate --strict. The analysis query runs on Prometheus's engine (promtool test rules): too few canary
requests give an empty result (inconclusive), never a pass. No cluster, no helm binary (helm-python-sdk)."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from infractl.services import slo
from infractl.services.render import render as render_service
from infractl.services.rollout import analysis
from tests.integration.charts import (
    ENVS,
    PROJECT,
    REPO,
    chart_values,
    crd_problems,
    crd_validator,
    env_values,
    load_docs,
    render_controlplane,
    selects,
)

pytestmark = pytest.mark.integration

ROLLOUT_CRD = crd_validator(REPO / "docs/schemas/crds/argoproj.io_rollouts.json")
TEMPLATE_CRD = crd_validator(REPO / "docs/schemas/crds/argoproj.io_analysistemplates.json")
ARGO = "argoproj.io/v1alpha1"
KUBE_VERSION = "1.31.0"  # environments/*.yaml stacks.cluster.kubernetes_version
API, TEMPLATE, PREVIEW = "controlplane-api", "controlplane-api-slo", "controlplane-api-preview"
ARG = "{{args.canary-hash}}"  # Argo's placeholder, filled with the new pods' template hash
CONDITION = re.compile(r"^len\(result\) > 0 && result\[0\] (<=|>) ([0-9.e-]+)$")


def rollout_errors(obj: dict) -> list[str]:
    return crd_problems(ROLLOUT_CRD, obj, ARGO, "Rollout")


def template_errors(obj: dict) -> list[str]:
    return crd_problems(TEMPLATE_CRD, obj, ARGO, "AnalysisTemplate")


def _kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def _one(docs: list[dict], kind: str, name: str) -> dict:
    [found] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


@pytest.fixture(scope="module")
def rendered(rendered_env) -> dict[str, list[dict]]:
    """The controlplane manifest `infractl render <env>` wrote, per env."""
    out = {}
    for env in ENVS:
        [cp] = [c for c in rendered_env(env).charts if c.chart == "controlplane"]
        out[env] = load_docs(Path(cp.manifest).read_text())
    return out


@pytest.fixture(scope="module")
def blue_green() -> list[dict]:
    """staging with delivery.strategy blue-green (a values override)."""
    vals = chart_values("controlplane", "staging")
    vals["delivery"]["strategy"] = "blue-green"
    return render_controlplane(vals)


def test_progressive_envs_are_the_ones_the_env_model_says():
    """Not vacuous: staging and prod deliver progressively, dev does not."""
    assert {env: env_values(env).env.delivery.progressive for env in ENVS} == {
        "dev": False,
        "staging": True,
        "prod": True,
    }


@pytest.mark.parametrize("env", ENVS)
def test_the_api_is_a_rollout_exactly_where_delivery_is_progressive(rendered, env):
    docs = rendered[env]
    api = [d for d in docs if d["metadata"]["name"] == API and d["kind"] in ("Deployment", "Rollout")]
    if not env_values(env).env.delivery.progressive:
        assert [d["kind"] for d in api] == ["Deployment"] and api[0]["apiVersion"] == "apps/v1"
        assert not _kind(docs, "Rollout") and not _kind(docs, "AnalysisTemplate")
        return
    [rollout] = api
    assert rollout["kind"] == "Rollout"
    assert rollout_errors(rollout) == []
    assert template_errors(_one(docs, "AnalysisTemplate", TEMPLATE)) == []
    assert [d["metadata"]["name"] for d in _kind(docs, "Rollout")] == [API]  # the workers stay Deployments


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_rollout_runs_the_pods_the_deployment_ran(rendered, env):
    """The same pod template, selector and labels as the Deployment the chart renders with delivery off (valid for
    Kubernetes); the HPA scales the Rollout; the PDB, the api Service and the api NetworkPolicy select its pods."""
    docs = rendered[env]
    rollout = _one(docs, "Rollout", API)
    vals = chart_values("controlplane", env)
    vals["delivery"]["enabled"] = False
    plain = render_controlplane(vals)
    deployment = _one(plain, "Deployment", API)
    assert {k: v for k, v in rollout["spec"].items() if k != "strategy"} == deployment["spec"]
    assert rollout["metadata"] == deployment["metadata"]
    as_deployment = copy.deepcopy(deployment) | {"spec": deployment["spec"] | {"template": rollout["spec"]["template"]}}
    kubernetes_validate.validate(as_deployment, KUBE_VERSION, strict=True)
    [hpa] = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler" and d["metadata"]["name"] == API]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": ARGO, "kind": "Rollout", "name": API}
    pods = rollout["spec"]["template"]["metadata"]["labels"]
    assert selects(_one(docs, "PodDisruptionBudget", API)["spec"]["selector"], pods)
    assert selects({"matchLabels": _one(docs, "Service", API)["spec"]["selector"]}, pods)
    assert selects(_one(docs, "NetworkPolicy", API)["spec"]["podSelector"], pods)
    # Nothing else differs from the render with delivery off but the HPA's target.
    hpas = [d for d in plain if d["kind"] == "HorizontalPodAutoscaler" and d["metadata"]["name"] == API]
    assert hpas == [hpa | {"spec": hpa["spec"] | {"scaleTargetRef": deployment_ref(API)}}]
    rest = [d for d in docs if d["kind"] not in ("Rollout", "AnalysisTemplate") and d is not hpa]
    assert sorted(map(json.dumps, rest)) == sorted(
        json.dumps(d) for d in plain if d is not deployment and d not in hpas
    )


def deployment_ref(name: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_each_canary_weight_is_judged_by_the_slo_analysis(rendered, env):
    """steps = the env model's delivery.steps, each weight followed by an inline analysis of the new pods (their
    template hash as canary-hash); no traffic router, no pause that would let a step pass on time alone."""
    model = env_values(env).env
    assert model.delivery.strategy == "canary"
    canary = _one(rendered[env], "Rollout", API)["spec"]["strategy"]["canary"]
    assert set(canary) == {"steps"}
    steps = canary["steps"]
    assert [s["setWeight"] for s in steps[::2]] == model.delivery.steps
    step = {
        "templates": [{"templateName": TEMPLATE}],
        "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}],
    }
    assert steps[1::2] == [{"analysis": step}] * len(model.delivery.steps)


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_thresholds_and_queries_are_the_slos(rendered, env):
    """One metric per SLO of the api: its threshold 1 - objective/100 of the SLO as slo.load computes it for the env
    (environments/<env>.yaml slo.objectives over slo/*.yaml), its query the SLO's ratio on the canary's pods
    (analysis.criteria) gated by the request count; the sampling is the env model's."""
    model = env_values(env).env
    sloset = slo.load(REPO, model)
    objectives = {s.name: s.objective for s in sloset.slos}
    overrides = (yaml.safe_load((REPO / "environments" / f"{env}.yaml").read_text())["slo"] or {}).get("objectives")
    for name, objective in (overrides or {}).items():
        assert objectives[name] == objective  # the env's override is what the SLO set holds
    if env == "staging":  # not vacuous: staging's api objectives are its own, not slo/api.yaml's defaults
        defaults = {s["name"]: s["objective"] for s in yaml.safe_load((REPO / "slo/api.yaml").read_text())["slos"]}
        assert all(objectives[name] != objective for name, objective in defaults.items())
    expected = analysis.criteria(sloset, model, label=model.delivery.analysis.canary_label, value=ARG)
    assert {c.slo for c in expected} == {s.name for s in sloset.slos if s.service == "api"}
    template = _one(rendered[env], "AnalysisTemplate", TEMPLATE)
    assert template["spec"]["args"] == [{"name": "canary-hash"}]
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    assert sorted(metrics) == sorted(c.slo for c in expected)
    sampling = model.delivery.analysis
    for c in expected:
        m = metrics[c.slo]
        success, failure = CONDITION.match(m["successCondition"]), CONDITION.match(m["failureCondition"])
        assert success[1] == "<=" and failure[1] == ">"
        assert float(success[2]) == float(failure[2]) == c.max_error_ratio
        assert float(success[2]) == pytest.approx(1 - objectives[c.slo] / 100, abs=1e-12)
        prometheus = m["provider"]["prometheus"]
        assert prometheus["query"] == f"({c.query}) and on() (({c.requests_query}) >= {sampling.min_requests})"
        assert ARG in prometheus["query"] and f'{sampling.canary_label}="{ARG}"' in c.query
        assert prometheus["address"] == "http://prometheus-operated.monitoring.svc:9090"
        assert (m["interval"], m["consecutiveSuccessLimit"], m["failureLimit"]) == (
            sampling.interval,
            sampling.samples,
            0,
        )
        assert m["inconclusiveLimit"] == sampling.max_inconclusive
        assert m["count"] == sampling.samples + sampling.max_inconclusive  # at most: every inconclusive, then passes
        note = template["metadata"]["annotations"][f"slo.infractl.io/{c.slo}"]
        assert note.startswith(f"objective {objectives[c.slo]:g}%") and f"error ratio of {c.max_error_ratio:g}" in note


def _counter(per_minute: float, minutes: int) -> str:
    """promtool's notation: a counter at 0 growing by per_minute each minute."""
    return f"0+{per_minute:g}x{minutes}"


def test_too_few_canary_requests_are_inconclusive_on_prometheus(rendered, tmp_path):
    """staging's api-availability query, Argo's placeholder filled with a pod template hash, evaluated by promtool:
    only the canary's pods count (the stable ones fail half their requests), enough healthy requests pass, enough
    failing ones fail, and too few (even all failing) return nothing: neither condition holds, Argo's Inconclusive."""
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.fail("promtool is not on PATH: apt-get install prometheus (make tools installs it)")
    [metric] = [
        m
        for m in _one(rendered["staging"], "AnalysisTemplate", TEMPLATE)["spec"]["metrics"]
        if m["name"] == "api-availability"
    ]
    query, threshold = metric["provider"]["prometheus"]["query"], CONDITION.match(metric["successCondition"])[2]
    label = env_values("staging").env.delivery.analysis.canary_label
    series = []
    # per minute (ok, 5xx): healthy 199.8/0.2 (0.1 %), failing 190/10 (5 %), quiet 5/10 (15 requests a minute)
    for pod_hash, (ok, bad) in {
        "healthy": (199.8, 0.2),
        "failing": (190, 10),
        "quiet": (5, 10),
        "stable": (50, 50),
    }.items():
        for code, per_min in (("200", ok), ("500", bad)):
            name = f'controlplane_http_requests_total{{{label}="{pod_hash}",code="{code}",route="/v1/runs"}}'
            series.append({"series": name, "values": _counter(per_min, 10)})

    def verdicts(pod_hash: str, passes: bool, fails: bool) -> list[dict]:
        q = query.replace(ARG, pod_hash)
        one = [{"labels": "{}", "value": 1}]
        return [
            {"expr": f"count(({q}) <= {threshold})", "eval_time": "10m", "exp_samples": one if passes else []},
            {"expr": f"count(({q}) > {threshold})", "eval_time": "10m", "exp_samples": one if fails else []},
        ]

    tests = verdicts("healthy", True, False) + verdicts("failing", False, True) + verdicts("quiet", False, False)
    path = tmp_path / "analysis-test.yml"
    path.write_text(
        yaml.safe_dump(
            {"rule_files": [], "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": tests}]},
            width=10_000,
        )
    )
    done = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"promtool test rules failed:\n{done.stdout}\n{done.stderr}"


def test_blue_green_promotes_behind_a_preview_service_then_judges(blue_green):
    """strategy blue-green: the api Service is the active one, the preview Service selects the api's pods on the
    api's port, and the SLO analysis runs after promotion (under the real traffic) while the old pods stay up."""
    docs = blue_green
    rollout = _one(docs, "Rollout", API)
    assert rollout_errors(rollout) == []
    strategy = rollout["spec"]["strategy"]
    assert set(strategy) == {"blueGreen"}
    bg = strategy["blueGreen"]
    assert bg == {
        "activeService": API,
        "previewService": PREVIEW,
        "autoPromotionEnabled": True,
        "postPromotionAnalysis": {
            "templates": [{"templateName": TEMPLATE}],
            "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}],
        },
    }  # no scaleDownDelaySeconds: Argo would cancel the analysis still sampling at that delay
    active, preview = _one(docs, "Service", API), _one(docs, "Service", PREVIEW)
    kubernetes_validate.validate(preview, KUBE_VERSION, strict=True)
    pods = rollout["spec"]["template"]["metadata"]["labels"]
    assert selects({"matchLabels": preview["spec"]["selector"]}, pods)
    assert preview["spec"]["ports"] == active["spec"]["ports"] and preview["spec"]["type"] == "ClusterIP"
    assert template_errors(_one(docs, "AnalysisTemplate", TEMPLATE)) == []


def test_the_crd_schemas_are_really_applied(rendered, blue_green):
    """The check can fail: a misspelt field, a weight of the wrong type, a metric without a provider, an unknown
    provider field, a blue-green strategy without its required activeService."""
    rollout = _one(rendered["staging"], "Rollout", API)
    template = _one(rendered["staging"], "AnalysisTemplate", TEMPLATE)
    misspelt = copy.deepcopy(rollout)
    misspelt["spec"]["strategy"]["canary"]["steps"][0] = {"setWieght": 10}
    assert any("setWieght" in e for e in rollout_errors(misspelt))
    wrong_type = copy.deepcopy(rollout)
    wrong_type["spec"]["strategy"]["canary"]["steps"][0]["setWeight"] = "ten"
    assert any("strategy.canary.steps.0.setWeight" in e and "'ten'" in e for e in rollout_errors(wrong_type))
    pod = copy.deepcopy(rollout)
    pod["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = ["Always"]
    assert any("containers.0.imagePullPolicy" in e for e in rollout_errors(pod))
    no_provider = copy.deepcopy(template)
    del no_provider["spec"]["metrics"][0]["provider"]
    assert any("'provider' is a required property" in e for e in template_errors(no_provider))
    bad_provider = copy.deepcopy(template)
    bad_provider["spec"]["metrics"][0]["provider"]["prometheus"]["querry"] = "up"
    assert any("querry" in e for e in template_errors(bad_provider))
    no_active = copy.deepcopy(_one(blue_green, "Rollout", API))
    del no_active["spec"]["strategy"]["blueGreen"]["activeService"]
    assert any("'activeService' is a required property" in e for e in rollout_errors(no_active))


BAD_DELIVERY = [
    ("no-metrics", lambda d: d["analysis"].update(metrics=[]), r"(?i)schema|values don't meet"),
    ("unknown-key", lambda d: d.update(pause="1m"), r"(?i)schema|values don't meet"),
    ("strategy", lambda d: d.update(strategy="linear"), r"(?i)schema|values don't meet"),
    ("weight-type", lambda d: d.update(steps=[10, "25", 100]), r"(?i)schema|values don't meet"),
    ("no-100", lambda d: d.update(steps=[10, 50]), r"(?i)schema|values don't meet"),
    ("decreasing", lambda d: d.update(steps=[50, 10, 100]), "the weights must increase"),
    ("threshold", lambda d: d["analysis"]["metrics"][0].update(maxErrorRatio=1.5), r"(?i)schema|values don't meet"),
    ("interval", lambda d: d["analysis"].update(interval="1d"), r"(?i)schema|values don't meet"),
]


@pytest.mark.parametrize(("case", "change", "match"), BAD_DELIVERY, ids=[c for c, _, _ in BAD_DELIVERY])
def test_wrong_delivery_values_fail_at_render(case, change, match):
    """values.schema.json (and the template, for what a schema cannot say) refuse a delivery a Rollout could not
    honour: a progressive api with nothing to judge it, unknown keys, weights not increasing to 100."""
    vals = chart_values("controlplane", "staging")
    change(vals["delivery"])
    with pytest.raises(helm.HelmError, match=match):
        render_controlplane(vals)


def test_render_and_deploy_dry_run_accept_the_rollout(tmp_path):
    """`infractl render staging --json` (the CLI, as a user runs it) succeeds with the Rollout in the manifest, and
    deploy's path (render, helm lint --strict, the helm commands) takes it too."""
    done = subprocess.run(
        [sys.executable, "-m", "infractl", "--root", str(REPO), "render", "staging", "--out", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    [cp] = [c for c in json.loads(done.stdout)["charts"] if c["chart"] == "controlplane"]
    assert cp["objects"]["Rollout"] == 1 and cp["objects"]["AnalysisTemplate"] == 1
    deployed = render_service.deploy(PROJECT, "staging", tmp_path / "deploy", dry_run=True, confirm=lambda _: False)
    assert [c[3] for c in deployed.commands] == ["temporal", "otel-collector", "controlplane"]
    [cp] = [c for c in deployed.render.charts if c.chart == "controlplane"]
    assert cp.objects["Rollout"] == 1
    values = yaml.safe_load(Path(cp.values_file).read_text())["delivery"]
    assert values["enabled"] is True and values["analysis"]["metrics"]
