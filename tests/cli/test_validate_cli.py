"""`infractl validate` / `infractl cost` input errors and the empty selection: no engine needed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.conftest import REPO


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e", *args], check=True, capture_output=True
    )


@pytest.fixture
def repo(project: Path) -> Path:
    shutil.copytree(REPO / "pricing", project / "pricing")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "tree")
    return project


def test_nothing_changed_since_the_ref_validates_nothing_and_passes(invoke, repo, tmp_path, monkeypatch):
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    result = invoke("validate", "--changed-since", "HEAD", "--json", root=repo)
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["cells"] == [] and report["changed_since"] == "HEAD"
    assert "nothing to validate" in result.stderr
    assert not (tmp_path / "work" / "emulator").exists()  # no emulator started for nothing


def test_an_unknown_ref_is_a_usage_error(invoke, repo):
    result = invoke("validate", "--changed-since", "no-such-ref", code=2, root=repo)
    assert "--changed-since no-such-ref: not a commit" in result.stderr and "Traceback" not in result.stderr


def test_unknown_stack_and_env_are_named(invoke, repo):
    assert "unknown stack 'nope'" in invoke("validate", "--stack", "nope", code=2, root=repo).stderr
    assert "unknown environment 'qa'" in invoke("validate", "--env", "qa", code=2, root=repo).stderr


def test_a_broken_price_catalog_names_file_and_field(invoke, repo):
    catalog = repo / "pricing" / "aws.yaml"
    catalog.write_text(catalog.read_text().replace("hours_per_month: 730", "hours_per_month: lots"))
    result = invoke("validate", "--stack", "finops", code=3, root=repo)
    assert "pricing/aws.yaml: hours_per_month" in result.stderr


def test_cost_compare_must_be_an_env_or_a_plan_file(invoke, repo):
    result = invoke("cost", "dev", "--compare", "nowhere.json", code=2, root=repo)
    assert "--compare nowhere.json: neither an environment nor a plan JSON file" in result.stderr
