"""The release and promote workflows (.github/workflows/release.yml, promote.yml): one build path with local
(`infractl release build` under sudo, signed with the environment's key, verified with the committed public key),
keyless signing on top, least privilege per job, secrets only through step `env:`, pull requests from jobs that hold
no cloud role and no key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
SHA_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(-\s+)?uses:\s*(?P<ref>\S+)\s+#\s*v\d+\.\d+\.\d+\b")
WRITE_SCOPES = {"contents", "pull-requests"}
VERIFY_KEY = "releases/keys/release.pub"


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{name}: not a mapping"
    return data


@pytest.fixture(scope="module", params=["release.yml", "promote.yml"])
def named(request) -> tuple[str, dict[Any, Any]]:
    return request.param, load(request.param)


@pytest.fixture(scope="module")
def release() -> dict[Any, Any]:
    return load("release.yml")


@pytest.fixture(scope="module")
def promote() -> dict[Any, Any]:
    return load("promote.yml")


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def all_steps(workflow: dict[Any, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in workflow["jobs"].items():
        for step in steps(job):
            yield name, step


def action(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@", 1)[0]


def step_running(job: dict[str, Any], needle: str) -> tuple[int, dict[str, Any]]:
    found = [(i, s) for i, s in enumerate(steps(job)) if needle in str(s.get("run", ""))]
    assert len(found) == 1, f"expected one step running {needle!r}, found {len(found)}"
    return found[0]


def test_least_privilege_and_write_scopes_only_on_the_records_jobs(named):
    name, workflow = named
    assert workflow["permissions"] == {}, f"{name}: top-level permissions must be {{}}"
    for job_name, job in workflow["jobs"].items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{name}/{job_name}: permissions must be listed per scope"
        writes = {scope for scope, level in granted.items() if level == "write"}
        if job_name == "records":
            assert writes == WRITE_SCOPES, f"{name}/records: {granted}"
            assert "environment" not in job, f"{name}/records: the pull-request job needs no environment"
            text = yaml.safe_dump(job)
            assert "secrets." not in text and "aws-actions/" not in text, f"{name}/records holds a secret or a role"
        else:
            assert not writes & WRITE_SCOPES, f"{name}/{job_name}: write scopes outside the records job: {granted}"
        if granted.get("id-token") == "write":
            assert job.get("environment"), f"{name}/{job_name}: an OIDC token outside a GitHub environment"


def test_every_action_is_pinned_with_its_version_and_checkouts_keep_no_token(named):
    name, workflow = named
    for job_name, step in all_steps(workflow):
        if "uses" in step:
            assert SHA_PINNED.match(step["uses"]), f"{name}/{job_name}: not pinned by SHA: {step['uses']}"
        if action(step) == "actions/checkout":
            assert step["with"]["persist-credentials"] is False, f"{name}/{job_name}: checkout persists the token"
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(r"^\s*(-\s+)?uses:", line):
            assert USES_LINE.match(line), f"{name}:{number}: pin without a `# vX.Y.Z` comment: {line}"


def test_no_expression_in_scripts_and_secrets_only_through_step_env(named):
    name, workflow = named
    for job_name, step in all_steps(workflow):
        assert "${{" not in str(step.get("run", "")), f"{name}/{job_name}: an expression inside run: {step}"
        assert "secrets." not in yaml.safe_dump({k: v for k, v in step.items() if k != "env"}), (
            f"{name}/{job_name}: a secret outside the step's env: {step.get('name')}"
        )
    for job_name, job in workflow["jobs"].items():
        assert "secrets." not in yaml.safe_dump(job.get("env") or {}), f"{name}/{job_name}: secret in the job env"


def test_release_builds_with_infractl_as_root_into_dev_and_verifies_with_the_committed_key(release):
    job = release["jobs"]["release"]
    assert job["environment"] == "dev"
    assert set(job["needs"]) >= {"scan"}
    index, build = step_running(job, "infractl release build")
    run = build["run"]
    assert "--emulate" not in run, "CI builds into ECR"
    assert "sudo --preserve-env=" in run and ".venv/bin/infractl release build" in run
    preserved = set(re.search(r"--preserve-env=(\S+)", run).group(1).split(","))
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"} <= preserved
    assert {"INFRACTL_SIGNING_KEY", "INFRACTL_SIGNING_PASSWORD", "INFRACTL_VERIFY_KEY"} <= preserved
    env = build["env"]
    assert env["INFRACTL_SIGNING_KEY"].startswith("${{ runner.temp }}/")
    assert env["INFRACTL_SIGNING_PASSWORD"] == "${{ secrets.RELEASE_SIGNING_PASSWORD }}"
    assert env["INFRACTL_VERIFY_KEY"].endswith(VERIFY_KEY)

    key_index, key_step = step_running(job, "umask 077")
    assert key_step["env"] == {"RELEASE_SIGNING_KEY": "${{ secrets.RELEASE_SIGNING_KEY }}"}
    removal = [(i, s) for i, s in enumerate(steps(job)) if "rm -rf" in str(s.get("run", ""))]
    assert removal and all(s.get("if") == "always()" for _, s in removal), "the key file must go whatever happened"
    assert key_index < index < removal[0][0]


def test_keyless_signature_on_top_of_each_digest_and_verified_with_the_workflow_identity(release):
    job = release["jobs"]["release"]
    build_index, _ = step_running(job, "infractl release build")
    index, sign = step_running(job, "cosign sign")
    assert index > build_index, "keyless signing signs what infractl pushed"
    run = sign["run"]
    assert "cosign sign --yes" in run and "@${digest}" in run, "sign by digest, never by tag"
    assert "cosign verify" in run
    assert "--certificate-identity" in run and "GITHUB_WORKFLOW_REF" in run
    assert "--certificate-oidc-issuer https://token.actions.githubusercontent.com" in run


def test_the_dockerfiles_build_without_push_and_without_cloud(release):
    job = release["jobs"]["dockerfiles"]
    assert job["permissions"] == {"contents": "read"} and "environment" not in job
    assert set(job["strategy"]["matrix"]["dockerfile"]) == {"Dockerfile.api", "Dockerfile.worker"}
    for dockerfile in job["strategy"]["matrix"]["dockerfile"]:
        assert (ROOT / dockerfile).is_file()
    (build,) = [s for s in steps(job) if action(s) == "docker/build-push-action"]
    assert build["with"]["push"] is False
    assert "aws-actions/" not in yaml.safe_dump(job)


def test_promote_runs_in_the_target_environment_and_verifies_with_the_committed_key(promote):
    on = promote.get("on", promote.get(True))
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["from"]["type"] == inputs["to"]["type"] == "choice"
    job = promote["jobs"]["promote"]
    assert job["environment"] == "${{ inputs.to }}"
    assert job["permissions"] == {"contents": "read", "actions": "read", "id-token": "write"}
    _, step = step_running(job, "infractl promote")
    assert step["env"]["INFRACTL_VERIFY_KEY"].endswith(VERIFY_KEY)
    assert step["env"]["APPROVED_BY"] == "${{ vars.PROMOTE_APPROVED_BY }}"
    assert '--approved-by "$role"' in step["run"] and "--yes --json" in step["run"]
    assert "--emulate" not in step["run"]


def test_the_key_readme_says_how_the_public_key_gets_there():
    text = (ROOT / "releases" / "keys" / "README.md").read_text(encoding="utf-8")
    assert "cosign public-key --key cosign.key" in text and "release.pub" in text
    assert not (ROOT / "releases" / "keys" / "cosign.key").exists()
