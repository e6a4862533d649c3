"""`infractl cost`: the group keeps `infractl cost ENV …` (its `estimate` command) and adds `cost rightsize ENV`;
input errors need no engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.conftest import REPO


@pytest.fixture
def repo(project: Path) -> Path:
    shutil.copytree(REPO / "pricing", project / "pricing")
    return project


def test_rightsize_of_an_unknown_env_is_a_config_error(invoke, repo):
    result = invoke("cost", "rightsize", "qa", "--json", code=3, root=repo)
    assert "no environment named 'qa'" in result.stderr and result.stdout == ""


def test_cost_env_is_still_the_estimate_with_options_before_or_after_the_env(invoke, repo):
    for args in (("cost", "dev", "--compare", "nowhere.json"), ("cost", "--compare", "nowhere.json", "dev")):
        result = invoke(*args, code=2, root=repo)
        assert "--compare nowhere.json: neither an environment nor a plan JSON file" in result.stderr


def test_the_group_lists_both_commands(invoke):
    text = invoke("cost", "--help").stdout
    assert "estimate" in text and "rightsize" in text


def test_rightsize_needs_the_emulator_running_with_emulate(invoke, repo, tmp_path, monkeypatch):
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    result = invoke("cost", "rightsize", "dev", "--emulate", code=1, root=repo)
    assert "the local AWS emulator is not running" in result.stderr
