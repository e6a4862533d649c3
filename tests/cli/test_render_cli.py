"""infractl render / deploy --dry-run: the three charts rendered from the env model, with no cluster and no helm
binary (helm-python-sdk)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import helm_python  # noqa: F401 - the Helm SDK (devtools extra, installed by make): missing is a failure
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ENVS = sorted(p.stem for p in (REPO / "environments").glob("*.yaml"))
CHARTS = ["temporal", "otel-collector", "controlplane"]
IMAGES = {
    "controlplane-api": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/dev/controlplane-api",
    "controlplane-worker": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/dev/controlplane-worker",
    "temporal-server": "temporalio/server",
    "temporal-admin-tools": "temporalio/admin-tools",
    "temporal-ui": "temporalio/ui",
    "postgres": "postgres",
    "otel-collector": "otel/opentelemetry-collector-contrib",
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """environments/, helm/ and slo/ copied (staging's and prod's progressive delivery is judged by the SLOs),
    prod's images pinned by digest in the env model."""
    root = tmp_path / "project"
    for folder in ("environments", "helm", "slo"):
        shutil.copytree(REPO / folder, root / folder)
    prod = root / "environments" / "prod.yaml"
    images = {n: {"repository": r, "digest": "sha256:" + f"{i:x}" * 64} for i, (n, r) in enumerate(IMAGES.items(), 1)}
    prod.write_text(prod.read_text() + yaml.safe_dump({"images": images}))
    return root


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_render_prod_writes_the_three_charts_from_the_env_model(invoke, root, monkeypatch):
    monkeypatch.chdir(root)
    result = invoke("render", "prod", "--out", "out", "--json", root=root)
    data = json.loads(result.stdout)
    assert [c["chart"] for c in data["charts"]] == CHARTS
    for chart in CHARTS:
        assert (root / "out" / "prod" / f"{chart}.yaml").is_file()
    docs = {c: _docs(root / "out" / "prod" / f"{c}.yaml") for c in CHARTS}
    # Image digests come from the env model, never the ci placeholders.
    images = [
        ctr["image"]
        for d in docs["controlplane"]
        if d["kind"] in ("Deployment", "Rollout")
        for ctr in d["spec"]["template"]["spec"]["containers"]
    ]
    assert images and all(i.endswith("@sha256:" + "1" * 64) or i.endswith("@sha256:" + "2" * 64) for i in images)
    # Worker pools = the env model's tenant tiers (scaled from the tier's desired to its max node count).
    tiers = {
        d["spec"]["template"]["spec"]["nodeSelector"]["node.infractl.io/tier"]
        for d in docs["controlplane"]
        if d["kind"] == "Deployment"
        and "node.infractl.io/tier" in d["spec"]["template"]["spec"].get("nodeSelector", {})
    }
    assert tiers == {"standard", "premium", "c-acme", "c-globex"}
    pools = yaml.safe_load((root / "out" / "prod" / "values" / "controlplane.yaml").read_text())["workerPools"]
    assert [(p["tier"], p["autoscaling"]["minReplicas"], p["autoscaling"]["maxReplicas"]) for p in pools] == [
        ("standard", 3, 20),
        ("premium", 2, 10),
    ]
    # The database egress rule is the env's network CIDR.
    assert "10.30.0.0/16" in (root / "out" / "prod" / "controlplane.yaml").read_text()
    # Tier C tenants of the env model: a namespace each, workers on their own node group (tier c-<name>).
    namespaces = [d["metadata"]["name"] for d in docs["controlplane"] if d["kind"] == "Namespace"]
    assert namespaces == ["tenant-acme", "tenant-globex"]
    tenant_tiers = [
        d["spec"]["template"]["spec"]["nodeSelector"]["node.infractl.io/tier"]
        for d in docs["controlplane"]
        if d["kind"] == "Deployment" and d["metadata"]["namespace"].startswith("tenant-")
    ]
    assert tenant_tiers == ["c-acme", "c-globex"]
    assert data["unpinned"] == [] and data["notes"] == []
    # The Temporal schema Job (a hook) is in the rendered manifest.
    assert any(d["kind"] == "Job" for d in docs["temporal"])
    assert data["charts"][0]["objects"]["Deployment"] == 5
    # prod delivers progressively: the api is an Argo Rollout judged by its AnalysisTemplate, the workers Deployments.
    [cp] = [c for c in data["charts"] if c["chart"] == "controlplane"]
    assert (cp["objects"]["Rollout"], cp["objects"]["AnalysisTemplate"], cp["objects"]["Deployment"]) == (1, 1, 4)


def test_render_prod_without_pinned_digests_writes_every_chart_and_says_so(invoke, tmp_path, monkeypatch):
    """The committed prod env (no digests pinned yet): the three manifests are written, every unpinned image has the
    all-zero digest (never pullable, never a tag), and the result names them."""
    root = tmp_path / "clone"
    for folder in ("environments", "helm", "slo"):
        shutil.copytree(REPO / folder, root / folder)
    monkeypatch.chdir(root)
    result = invoke("render", "prod", "--out", "out", root=root)
    for chart in CHARTS:
        assert (root / "out" / "prod" / f"{chart}.yaml").is_file()
    assert "not pinned by digest" in result.stderr and "deploy refuses" in result.stderr
    data = json.loads(invoke("render", "prod", "--out", "out", "--json", root=root).stdout)
    assert sorted(data["unpinned"]) == sorted(IMAGES)
    images = [
        ctr["image"]
        for c in CHARTS
        for d in _docs(root / "out" / "prod" / f"{c}.yaml")
        if d["kind"] in ("Deployment", "Job", "Rollout")
        for ctr in d["spec"]["template"]["spec"].get("initContainers", []) + d["spec"]["template"]["spec"]["containers"]
    ]
    assert images and all(i.endswith("@sha256:" + "0" * 64) for i in images), images
    assert "345678901234.dkr.ecr.eu-west-1.amazonaws.com/prod/controlplane-api@sha256:" + "0" * 64 in images


@pytest.mark.parametrize("env", ENVS)
def test_every_env_renders(invoke, root, tmp_path, env):
    data = json.loads(invoke("render", env, "--out", str(tmp_path / "o"), "--json", root=root).stdout)
    assert [c["chart"] for c in data["charts"]] == CHARTS
    assert all(Path(f).is_file() for f in data["files"])


def test_deploy_refuses_unpinned_images_before_anything_else(invoke, root, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no helm either: the digests are checked first
    result = invoke("deploy", "dev", "--yes", "--out", str(tmp_path / "o"), root=root, code=3)
    assert "refusing to deploy dev: 7 image(s) not pinned by digest" in result.stderr
    assert "environments/dev.yaml: images.temporal-server: no digest pinned" in result.stderr
    assert not (tmp_path / "o").exists()  # nothing rendered


def test_tier_c_tenant_errors_name_the_field(invoke, root, tmp_path):
    path = root / "environments" / "staging.yaml"
    text = path.read_text()
    path.write_text(
        text.replace("min_size: 1, max_size: 3, desired_size: 1", "min_size: 1, max_size: 3, desired_size: 5")
    )
    result = invoke("render", "staging", "--out", str(tmp_path / "o"), root=root, code=3)
    assert "environments/staging.yaml: tenants.0.node_group:" in result.stderr
    assert "min_size <= desired_size <= max_size" in result.stderr
    path.write_text(text.replace("tenant_tiers: {standard:", "tenant_tiers: {c-acme:"))
    result = invoke("render", "staging", "--out", str(tmp_path / "o"), root=root, code=3)
    assert "c-acme is the node group of a tier C tenant" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_env_value_type_fails_with_exit_3_naming_the_field(invoke, root, tmp_path):
    path = root / "environments" / "staging.yaml"
    path.write_text(path.read_text().replace("az_count: 3", "az_count: three"))
    result = invoke("render", "staging", "--out", str(tmp_path / "o"), root=root, code=3)
    assert "environments/staging.yaml: network.az_count:" in result.stderr
    path = root / "environments" / "prod.yaml"
    path.write_text(path.read_text().replace("desired_size: 2, disk_gib: 100}}", "desired_size: two, disk_gib: 100}}"))
    result = invoke("render", "prod", "--out", str(tmp_path / "o"), root=root, code=3)
    assert "stacks.cluster.tenant_tiers.premium.desired_size: expected an integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_chart_value_type_fails_through_the_schema(invoke, root, tmp_path):
    ci = root / "helm" / "temporal" / "ci" / "dev-values.yaml"
    ci.write_text(ci.read_text().replace("port: 5432\n", 'port: "five"\n', 1))
    result = invoke("render", "dev", "--out", str(tmp_path / "o"), root=root, code=3)
    assert "chart temporal: values persistence.port:" in result.stderr


def test_deploy_dry_run_lists_three_helm_commands_without_a_cluster(invoke, root, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no helm binary
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))  # no kube context
    result = invoke("deploy", "prod", "--dry-run", "--out", str(tmp_path / "o"), "--json", root=root)
    commands = json.loads(result.stdout)["commands"]
    assert [c[:4] for c in commands] == [["helm", "upgrade", "--install", c] for c in CHARTS]
    assert all("--values" in c and "--namespace" in c for c in commands)
    text = invoke("deploy", "prod", "--dry-run", "--out", str(tmp_path / "o"), root=root).stdout
    assert text.count("helm upgrade --install") == 3


def test_deploy_without_helm_fails_clearly(invoke, root, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = invoke("deploy", "prod", "--yes", "--out", str(tmp_path / "o"), root=root, code=1)
    assert "deploy needs the helm binary" in result.stderr
    assert not (tmp_path / "o").exists()  # nothing rendered


def test_a_platform_that_does_not_fit_its_system_nodes_fails_naming_the_group(invoke, root, tmp_path):
    """prod's platform pods (one of each per system node) request 1.85 vCPU: more than 75% of an m6i.large."""
    path = root / "environments" / "prod.yaml"
    path.write_text(
        path.read_text().replace(
            "system_node_group: {instance_types: [m6i.xlarge]", "system_node_group: {instance_types: [m6i.large]"
        )
    )
    result = invoke("render", "prod", "--out", str(tmp_path / "o"), root=root, code=3)
    assert (
        "environments/prod.yaml: stacks.cluster.system_node_group: the platform's pods request 1.85 vCPU and 4.19 GiB "
        "per node, more than 75% of a m6i.large (2 vCPU, 8 GiB)"
    ) in result.stderr
    assert not (tmp_path / "o").exists()


def test_an_unwritable_out_is_a_usage_error(invoke, root, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = invoke("render", "dev", "--out", str(blocker), root=root, code=2)
    assert f"--out {blocker}: cannot write" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_render_stderr_holds_only_infractl_notes(tmp_path):
    """The Helm SDK's own notes about the charts/common links to the library chart (it writes them to fd 2 itself)
    do not reach the user; infractl's notes do."""
    import subprocess
    import sys

    from tests.conftest import REPO

    done = subprocess.run(
        [sys.executable, "-m", "infractl", "--root", str(REPO), "render", "dev", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith(("note:", "  ")) for line in lines), done.stderr


def test_the_sdk_filter_passes_on_everything_but_its_link_notes(capfd):
    import os

    from infractl.adapters import helm

    with helm._filtered_stderr():
        os.write(2, b"2026/12/06 INFO found symbolic link in path. Contents of linked file included\n")
        os.write(2, b"panic: something the SDK really says\n")
    err = capfd.readouterr().err
    assert "panic: something the SDK really says" in err and "symbolic link" not in err
