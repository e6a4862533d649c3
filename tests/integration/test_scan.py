"""`infractl scan` with the real tools (npm openapi-diff, detect-secrets) in temporary git repositories: a removed
path and a newly required field fail, an added endpoint passes; a planted AWS key and a planted private key fail,
a clean tree passes; an image layer with a planted key fails. The secrets planted here are assembled at run time,
so this file itself holds none (the repository's own scan stays clean); none of them is ever printed."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from infractl.adapters import git
from infractl.services.scan import layers, openapi, secrets
from tests.conftest import REPO

SPEC = REPO / "docs" / "api" / "openapi.json"
AWS_KEY = "AKIA" + "IOSFODNN7" + "EXAMPLE"  # the AWS documentation's example key id, assembled
OTHER_AWS_KEY = "AKIA" + "Q7W3E5R1T9Y2U4I6"  # the same shape, not a documentation example
PEM = (
    "-----BEGIN "
    + "RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA "
    + "PRIVATE KEY-----\n"
)
DETECT_SECRETS = str(Path(sys.executable).parent / "detect-secrets")


def sh(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
    }
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small infractl project in its own git repository: environments, the API document, some code, and a
    detect-secrets baseline of that clean tree; one commit on main."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "environments", root / "environments")
    (root / "docs" / "api").mkdir(parents=True)
    shutil.copyfile(SPEC, root / "docs" / "api" / "openapi.json")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("def handler(event):\n    return {'ok': True}\n")
    sh(root, "init", "-q", "-b", "main")
    sh(root, "add", ".")
    baseline = subprocess.run(
        [DETECT_SECRETS, "scan", "--no-verify"], cwd=root, check=True, capture_output=True, text=True
    )
    (root / ".secrets.baseline").write_text(baseline.stdout)
    sh(root, "add", ".")
    sh(root, "commit", "-qm", "clean tree")
    return root


def spec(root: Path) -> dict:
    return json.loads((root / "docs" / "api" / "openapi.json").read_text())


def change_spec(root: Path, edit) -> None:
    doc = spec(root)
    edit(doc)
    (root / "docs" / "api" / "openapi.json").write_text(json.dumps(doc, indent=2))


def api_gate(root: Path):
    top = git.toplevel(root)
    base = git.commit_of(top, "main")
    return openapi.gate(root, top, base, f"main ({base[:12]})")


def test_unchanged_api_passes_and_an_added_endpoint_passes(project: Path):
    assert api_gate(project).status == "passed"
    change_spec(
        project, lambda d: d["paths"].__setitem__("/v1/ping", {"get": {"responses": {"200": {"description": "ok"}}}})
    )
    gate = api_gate(project)
    assert gate.status == "passed", gate
    assert "1 non-breaking" in gate.note and gate.tool_version == "0.24.1"


def test_an_added_optional_request_field_passes_because_the_body_is_closed(project: Path):
    # StartRunRequest has additionalProperties: false; without it openapi-diff would call this breaking.
    assert spec(project)["components"]["schemas"]["StartRunRequest"]["additionalProperties"] is False
    change_spec(
        project,
        lambda d: d["components"]["schemas"]["StartRunRequest"]["properties"].__setitem__("note", {"type": "string"}),
    )
    assert api_gate(project).status == "passed"


def test_a_removed_path_fails_and_names_it(project: Path):
    change_spec(project, lambda d: d["paths"].pop("/livez"))
    gate = api_gate(project)
    assert gate.status == "failed"
    assert [(f.rule, f.message) for f in gate.findings] == [("path.remove", "path removed: paths./livez")]


def test_a_newly_required_request_field_fails_and_names_it(project: Path):
    def edit(d):
        s = d["components"]["schemas"]["StartRunRequest"]
        s["properties"]["priority"] = {"type": "integer"}
        s["required"] = [*s.get("required", []), "priority"]

    change_spec(project, edit)
    gate = api_gate(project)
    assert gate.status == "failed"
    (f,) = gate.findings
    assert f.rule == "request.body.scope.remove"
    assert "paths./v1/tenants/{tenant}/runs.post.requestBody" in f.message and "newly required: priority" in f.message


def test_a_committed_breaking_change_fails_against_the_merge_base(project: Path):
    sh(project, "switch", "-qc", "feature")
    change_spec(project, lambda d: d["paths"].pop("/readyz"))
    sh(project, "commit", "-qam", "drop readyz")
    gate = api_gate(project)  # compares with main, not with the branch's own HEAD
    assert gate.status == "failed" and "paths./readyz" in gate.findings[0].message


def test_clean_tree_passes_the_secrets_gate(project: Path):
    gate = secrets.repository(project, git.toplevel(project))
    assert gate.status == "passed", gate
    assert gate.note.endswith("file(s) against .secrets.baseline")


def test_a_planted_aws_key_fails_with_file_line_and_type_never_the_key(project: Path):
    (project / "src" / "settings.py").write_text(f'REGION = "eu-west-1"\nAWS_ACCESS_KEY_ID = "{AWS_KEY}"\n')
    gate = secrets.repository(project, git.toplevel(project))  # untracked files are scanned too
    assert gate.status == "failed"
    assert [(f.file, f.line, f.rule) for f in gate.findings] == [("src/settings.py", 2, "AWS Access Key")]
    assert AWS_KEY not in gate.model_dump_json()


def test_a_planted_private_key_fails(project: Path):
    (project / "deploy.pem").write_text(PEM)
    sh(project, "add", "deploy.pem")
    gate = secrets.repository(project, git.toplevel(project))
    assert gate.status == "failed"
    assert [(f.file, f.line, f.rule) for f in gate.findings] == [("deploy.pem", 1, "Private Key")]


def test_an_ignored_file_is_not_scanned_and_a_baselined_secret_passes(project: Path):
    (project / ".gitignore").write_text("local.env\n")
    (project / "local.env").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    assert secrets.repository(project, git.toplevel(project)).status == "passed"
    (project / "fixture.py").write_text(f'KEY = "{AWS_KEY}"\n')
    assert secrets.repository(project, git.toplevel(project)).status == "failed"
    # added to the baseline (then audited as a false positive): passes from then on
    sh(project, "add", "fixture.py")
    subprocess.run([DETECT_SECRETS, "scan", "--no-verify", "--baseline", ".secrets.baseline"], cwd=project, check=True)
    assert secrets.repository(project, git.toplevel(project)).status == "passed"


def test_the_repository_itself_passes_against_its_committed_baseline():
    """Every secret-looking string in this repository is audited in .secrets.baseline (or marked inline)."""
    gate = secrets.repository(REPO, git.toplevel(REPO))
    assert gate.status == "passed", "\n".join(f"{f.where()}: {f.rule}" for f in gate.findings)


def layer_blob(path: Path, files: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(buf.getvalue()))
    return path


SITE = "./opt/venv/lib/python3.11/site-packages"
APP_FILES = {
    f"{SITE}/app/__init__.py": b"VERSION = '1.0'\n",
    f"{SITE}/boto3/examples/cloudfront.rst": f"aws_access_key_id = '{AWS_KEY}'\n".encode(),
    "./usr/lib/x86_64-linux-gnu/libfoo.so": b"\x7fELF\x00\x00" + OTHER_AWS_KEY.encode(),
}


def test_a_clean_layer_passes_aws_documentation_examples_included(tmp_path: Path):
    gate = layers.layer("controlplane-api", layer_blob(tmp_path / "layer.tar.gz", APP_FILES))
    assert gate.status == "passed", gate
    assert gate.name == "secrets:controlplane-api"
    assert (
        "2 text file(s), 1 matched" in gate.note
    )  # the binary is skipped; the example key is handed over, then excluded


def test_a_layer_with_a_planted_key_fails(tmp_path: Path):
    files = {
        **APP_FILES,
        "./opt/venv/lib/python3.11/site-packages/app/config.py": f'KEY = "{OTHER_AWS_KEY}"\n'.encode(),
        "./root/.ssh/id_rsa": PEM.encode(),
    }
    gate = layers.layer("controlplane-api", layer_blob(tmp_path / "layer.tar.gz", files))
    assert gate.status == "failed"
    assert [(f.file, f.line, f.rule) for f in gate.findings] == [
        ("/opt/venv/lib/python3.11/site-packages/app/config.py", 1, "AWS Access Key"),
        ("/root/.ssh/id_rsa", 1, "Private Key"),
    ]
    assert OTHER_AWS_KEY not in gate.model_dump_json()


def test_scan_command_exit_codes_and_reports(project: Path, tmp_path: Path, invoke):
    out = tmp_path / "out"
    result = invoke("scan", "--json", "--report-dir", str(out), root=project, code=0)
    data = json.loads(result.stdout)
    statuses = {g["name"]: g["status"] for g in data["gates"]}
    assert [statuses[name] for name in ("openapi", "secrets")] == ["passed", "passed"]
    assert statuses["workflows-zizmor"] == statuses["workflows-actionlint"] == "not-run"  # no workflows here
    assert statuses["dependencies"] == "not-run"  # offline: never "passed"
    assert data["ok"] is True and (out / "scan.md").is_file()

    change_spec(project, lambda d: d["paths"].pop("/livez"))
    blob = layer_blob(tmp_path / "l.tar.gz", {"app/k.py": f'K = "{OTHER_AWS_KEY}"\n'.encode()})
    result = invoke("scan", "--layer", f"controlplane-worker={blob}", root=project, code=7)
    assert "FAILED   openapi" in result.stdout and "FAILED   secrets:controlplane-worker" in result.stdout
    assert "not run  dependencies" in result.stdout
    assert OTHER_AWS_KEY not in result.stdout + result.stderr
    required = invoke("scan", "--require-audit", "--json", root=project, code=7)
    assert {g["name"]: g["status"] for g in json.loads(required.stdout)["gates"]}["dependencies"] == "failed"
