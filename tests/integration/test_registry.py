"""The local registry through the CLI (`infractl registry start|status|ls|stop`) and a promotion by digest, checked
by implementations we did not write: umoci builds the image, skopeo reads the digests, and the registry server's
own access log counts the uploads. The ECR path runs against the emulator up to the token call."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from infractl.adapters import process
from infractl.adapters import registry as reg
from infractl.errors import RegistryError
from infractl.models.project import Project
from infractl.services import environments
from infractl.services import registry as registry_service
from infractl.services.context import Context, build
from tests.conftest import REPO
from tests.integration.conftest import aws, emulator_requests

TOOLS = ("docker-registry", "umoci", "skopeo")


def run(*argv: str, cwd: Path | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def tools() -> None:
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)} (make install installs these Debian packages)")


@pytest.fixture
def layout(tmp_path, tools) -> Path:
    """A tiny OCI image layout made by umoci: one layer of a few KB, named `x`."""
    files = tmp_path / "rootfs" / "etc"
    files.mkdir(parents=True)
    (files / "hello").write_text("hello from the registry test\n" * 100)
    with tarfile.open(tmp_path / "layer.tar", "w") as tar:
        tar.add(tmp_path / "rootfs" / "etc", arcname="etc")
    oci = tmp_path / "oci"
    run("umoci", "init", "--layout", str(oci))
    run("umoci", "new", "--image", f"{oci}:x")
    run("umoci", "raw", "add-layer", "--image", f"{oci}:x", str(tmp_path / "layer.tar"))
    return oci


def skopeo_digest(reference: str) -> str:
    return json.loads(run("skopeo", "inspect", "--tls-verify=false", f"docker://{reference}"))["Digest"]


def test_registry_lifecycle_and_a_promotion_by_digest(invoke, monkeypatch, tmp_path, layout):
    work = tmp_path / "work"
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(work))
    assert json.loads(invoke("registry", "status", "--json", root=REPO).stdout)["running"] is False
    started = json.loads(invoke("registry", "start", "--json", root=REPO).stdout)
    try:
        assert started["running"] and started["url"] == f"http://127.0.0.1:{started['port']}"
        assert started["storage_dir"] == str(work / "registry" / "storage")
        again = invoke("registry", "start", root=REPO).stdout
        assert again.startswith(f"registry already running: {started['url']}")

        ctx = build(root=REPO)
        client = registry_service.client(ctx)
        assert client.base_url == started["url"]
        env = environments.load(ctx.project, "dev")
        emulated, prefix = registry_service.for_env(Context(ctx.project, ctx.settings, emulate=True), env)
        assert (emulated.base_url, prefix) == (started["url"], "dev/")
        assert registry_service.repository("dev", "x") == "dev/x"

        # push the umoci image: its digest is the one its index.json records, and skopeo reads the same
        index = json.loads((layout / "index.json").read_text())
        digest = reg.push_layout(client, layout, "x", "dev/x", tags=["b1"])
        assert digest == index["manifests"][0]["digest"]
        host = started["url"].removeprefix("http://")
        assert skopeo_digest(f"{host}/dev/x:b1") == digest

        # promote dev/x -> staging/x by digest: every blob mounted, nothing uploaded (the server's own log says so)
        log = Path(started["log"])
        uploads_before = reg.count_uploads(log)
        assert uploads_before == 2  # config and layer, by push_layout
        promoter = registry_service.client(ctx)
        assert reg.copy(promoter, "dev/x", digest, promoter, "staging/x", tags=["b1"]) == digest
        assert reg.count_uploads(log) == uploads_before
        assert promoter.transfer.mounted == 2 and promoter.transfer.uploaded == 0
        assert skopeo_digest(f"{host}/staging/x:b1") == digest
        assert skopeo_digest(f"{host}/staging/x@{digest}") == digest

        listed = json.loads(invoke("registry", "ls", "--json", root=REPO).stdout)
        assert listed["repositories"] == [{"name": "dev/x", "tags": ["b1"]}, {"name": "staging/x", "tags": ["b1"]}]
        assert "staging/x  b1" in invoke("registry", "ls", root=REPO).stdout

        # a digest that is not in the source: refused, nothing written
        with pytest.raises(RegistryError, match="does not exist"):
            reg.copy(promoter, "dev/x", "sha256:" + "0" * 64, promoter, "prod/x", tags=["b1"])
        assert "prod/x" not in promoter.catalog()

        # the process dies: status notices; start brings it back on the same storage
        os.kill(started["pid"], signal.SIGKILL)
        _wait_gone(started["pid"])
        dead = invoke("registry", "status", root=REPO)
        assert dead.stdout.startswith("registry not running")
        assert "no longer running" in dead.stderr
        invoke("registry", "ls", root=REPO, code=1)
        restarted = json.loads(invoke("registry", "start", "--json", root=REPO).stdout)
        assert restarted["running"] and restarted["pid"] != started["pid"]
        assert registry_service.client(ctx).tags("staging/x") == ["b1"]
    finally:
        stopped = invoke("registry", "stop", root=REPO).stdout
    assert stopped.startswith("registry stopped")
    assert not process.pid_alive(restarted["pid"])
    assert json.loads(invoke("registry", "status", "--json", root=REPO).stdout)["running"] is False
    assert invoke("registry", "stop", root=REPO).stdout.startswith("registry was not running")


def _wait_gone(pid: int) -> None:
    """Until the killed pid is gone (a bounded wait for the kernel, not a timing assertion)."""
    deadline = time.monotonic() + 10
    while process.pid_alive(pid):
        if time.monotonic() > deadline:
            pytest.fail(f"pid {pid} still alive 10 s after SIGKILL")
        time.sleep(0.05)


class _RealModeContext(Context):
    """A real-mode context (no --emulate) whose AWS calls go to the session emulator instead of AWS."""

    def aws_target(self, env, *, start_emulator: bool = False):
        return aws(self.project.work_dir, env.region)


def test_ecr_path_logs_in_with_a_token_from_the_ecr_api(work_dir):
    """Real mode: for_env asks ecr:GetAuthorizationToken (here: the emulator) and builds a client for the env
    account's ECR registry with those credentials. Nothing is sent to ECR itself (not reachable here)."""
    ctx = build(root=REPO)
    ctx = _RealModeContext(Project(root=REPO, work_dir=work_dir), ctx.settings, emulate=False)
    env = environments.load(ctx.project, "staging")
    client, prefix = registry_service.for_env(ctx, env)
    assert client.base_url == f"https://{env.account}.dkr.ecr.{env.region}.amazonaws.com"
    assert prefix == "staging/"
    assert any("GetAuthorizationToken" in entry["op"] for entry in emulator_requests(work_dir))
    user, password = registry_service.ecr_credentials(aws(work_dir, env.region).client("ecr"))
    assert user == "AWS" and password
    assert password not in repr(client)


def test_a_port_in_use_is_a_usage_error_and_starts_nothing(invoke, monkeypatch, tmp_path, tools):
    import socket

    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = invoke("registry", "start", "--port", str(port), root=REPO, code=2)
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert json.loads(invoke("registry", "status", "--json", root=REPO).stdout)["running"] is False
