"""The pull-request workflow (.github/workflows/validate.yml): least privilege, pinned actions, no cloud credentials,
and the `infractl validate` reports uploaded whatever the gates said."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "validate.yml"
ALLOWED_PERMISSIONS = {"contents": "read", "security-events": "write"}
SHA_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
VERSION_COMMENT = re.compile(r"^\s+#\s*v\d+\.\d+\.\d+\b")


@pytest.fixture(scope="module")
def text() -> str:
    return WORKFLOW.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def workflow(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict), f"{WORKFLOW.name}: not a mapping"
    return data


def jobs(workflow: dict[Any, Any]) -> dict[str, dict[str, Any]]:
    found = workflow.get("jobs") or {}
    assert found, "the workflow has no jobs"
    return found


def steps(workflow: dict[Any, Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for job_name, job in jobs(workflow).items():
        for index, step in enumerate(job.get("steps") or []):
            yield job_name, index, step


def uses(workflow: dict[Any, Any]) -> Iterator[str]:
    """Every `uses:`: steps' actions and jobs' reusable workflows."""
    for job in jobs(workflow).values():
        if "uses" in job:
            yield job["uses"]
    for _, _, step in steps(workflow):
        if "uses" in step:
            yield step["uses"]


def strings(node: Any) -> Iterator[str]:
    """Every key and scalar in the document, as text."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif node is not None:
        yield str(node)


def condition(step: dict[str, Any]) -> str:
    """A step's `if:`, without the optional ${{ }} and with whitespace collapsed."""
    value = " ".join(str(step.get("if", "")).split())
    if value.startswith("${{") and value.endswith("}}"):
        value = value[3:-2].strip()
    return value


def runs_always(step: dict[str, Any]) -> bool:
    """`always()`, alone or as the first of `&&`-joined conditions (e.g. a fork guard)."""
    value = condition(step)
    return value == "always()" or value.startswith("always() &&")


def action(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@", 1)[0]


def validate_step(workflow: dict[Any, Any]) -> tuple[str, int, dict[str, Any], list[str]]:
    for job_name, index, step in steps(workflow):
        argv = shlex.split(str(step.get("run", "")), comments=True)
        if "infractl" in " ".join(argv) and "validate" in argv:
            return job_name, index, step, argv
    pytest.fail("no step runs `infractl validate`")


def report_dir(argv: list[str]) -> PurePosixPath:
    for i, arg in enumerate(argv):
        if arg == "--report-dir" and i + 1 < len(argv):
            return PurePosixPath(argv[i + 1])
        if arg.startswith("--report-dir="):
            return PurePosixPath(arg.split("=", 1)[1])
    pytest.fail(f"`infractl validate` runs without --report-dir: {shlex.join(argv)}")


def test_runs_on_pull_requests_and_pushes_to_main(workflow):
    on = workflow.get("on", workflow.get(True))  # YAML 1.1: a bare `on` key is the boolean True
    assert isinstance(on, dict), f"unexpected triggers: {on!r}"
    assert "pull_request" in on
    assert "main" in (on.get("push") or {}).get("branches", [])
    assert "pull_request_target" not in on, "pull_request_target runs fork code with a write token"


def test_top_level_permissions_are_empty(workflow):
    assert "permissions" in workflow, "top-level permissions must be declared (as {})"
    assert workflow["permissions"] == {}


def test_jobs_widen_only_to_contents_read_and_security_events_write(workflow):
    for name, job in jobs(workflow).items():
        granted = job.get("permissions", {})
        assert isinstance(granted, dict), f"job {name}: permissions {granted!r} (read-all/write-all) are too wide"
        extra = {scope: level for scope, level in granted.items() if ALLOWED_PERMISSIONS.get(scope) != level}
        assert not extra, f"job {name}: permissions beyond {ALLOWED_PERMISSIONS}: {extra}"


def test_no_oidc_token(workflow):
    scopes = [workflow.get("permissions") or {}, *(job.get("permissions") or {} for job in jobs(workflow).values())]
    for granted in scopes:
        assert "id-token" not in granted


def test_every_action_is_pinned_to_a_full_commit_sha(workflow):
    refs = list(uses(workflow))
    assert refs, "no `uses:` at all"
    unpinned = [ref for ref in refs if not ref.startswith("./") and not SHA_PINNED.match(ref)]
    assert not unpinned, f"not pinned to a 40-hex commit SHA: {unpinned}"


def test_every_pin_names_its_version(text):
    for number, line in enumerate(text.splitlines(), 1):
        match = USES_LINE.match(line)
        if match and not match["ref"].startswith("./"):
            assert VERSION_COMMENT.match(match["rest"]), f"line {number}: pin without a `# vX.Y.Z` comment: {line}"


def test_checkout_does_not_persist_credentials(workflow):
    checkouts = [step for _, _, step in steps(workflow) if action(step) == "actions/checkout"]
    assert checkouts, "no actions/checkout step"
    for step in checkouts:
        assert str((step.get("with") or {}).get("persist-credentials")).lower() == "false", step


def test_no_secrets_and_no_cloud_credentials(workflow):
    for value in strings(workflow):
        assert "secrets." not in value, f"references a secret: {value}"
        assert value != "secrets", "passes secrets (e.g. `secrets: inherit`)"
        assert "aws-actions/" not in value, f"uses an AWS credentials action: {value}"


def test_validate_runs_with_a_report_dir_and_fails_the_job_on_a_gate(workflow):
    job_name, _, step, argv = validate_step(workflow)
    report_dir(argv)
    assert not step.get("continue-on-error"), "a failed gate must fail the job"
    assert not jobs(workflow)[job_name].get("continue-on-error"), "a failed gate must fail the job"
    assert "||" not in step["run"], f"the exit code of `infractl validate` is swallowed: {step['run']}"


def test_sarif_is_uploaded_even_when_a_gate_failed(workflow):
    job_name, validate_index, _, argv = validate_step(workflow)
    sarif = report_dir(argv) / "validate.sarif"
    uploads = [
        (index, step)
        for name, index, step in steps(workflow)
        if name == job_name and action(step) == "github/codeql-action/upload-sarif"
    ]
    assert uploads, f"job {job_name}: no github/codeql-action/upload-sarif step"
    for index, step in uploads:
        assert index > validate_index, "the SARIF upload must come after `infractl validate`"
        assert runs_always(step), f"the SARIF upload is skipped when a gate fails: if: {step.get('if')!r}"
        assert PurePosixPath(str((step.get("with") or {}).get("sarif_file"))) == sarif


def test_reports_folder_is_uploaded_even_when_a_gate_failed(workflow):
    job_name, validate_index, _, argv = validate_step(workflow)
    uploads = [
        (index, step)
        for name, index, step in steps(workflow)
        if name == job_name and action(step) == "actions/upload-artifact"
    ]
    assert uploads, f"job {job_name}: no actions/upload-artifact step"
    for index, step in uploads:
        assert index > validate_index, "the reports upload must come after `infractl validate`"
        assert runs_always(step), f"the reports upload is skipped when a gate fails: if: {step.get('if')!r}"
        assert PurePosixPath(str((step.get("with") or {}).get("path"))) == report_dir(argv)
