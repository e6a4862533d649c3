"""infractl rollout through the CLI where no engine is needed: the short form `rollout ENV` is the run command, bad
input is refused with the fix before anything starts (exit 2), and the read commands answer --json without a
stack."""

from __future__ import annotations

import json

import pytest
from tests.conftest import REPO
from tests.rollout_project import make


@pytest.fixture(autouse=True)
def work_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    return tmp_path / "work"


def test_an_unknown_release_is_refused_with_the_known_ones(invoke):
    result = invoke("rollout", "dev", "--release", "nope", code=2, root=REPO)
    assert "releases/nope.json: no release 'nope'" in result.stderr and "infractl release build" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_the_short_form_is_the_run_command(invoke):
    short = invoke("rollout", "dev", "--release", "nope", code=2, root=REPO)
    long = invoke("rollout", "run", "dev", "--release", "nope", code=2, root=REPO)
    assert short.stderr == long.stderr


def test_a_cluster_env_rolls_out_through_argo(invoke, tmp_path):
    project = make(tmp_path / "project", ["r1"])
    result = invoke("rollout", "staging", "--release", "r1", code=2, root=project.root)
    assert "staging rolls out through Argo Rollouts" in result.stderr and "kubectl argo rollouts" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--steps", "10,5,100"), "weights must increase"),
        (("--steps", "10,50"), "the last step must be 100"),
        (("--steps", "ten"), "give weights in percent"),
        (("--strategy", "rolling"), "use canary or blue-green"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(invoke, tmp_path, args, message):
    project = make(tmp_path / "project", ["r1"])
    result = invoke("rollout", "dev", "--release", "r1", *args, code=2, root=project.root)
    assert message in result.stderr, result.stderr


def test_without_a_stack_a_rollout_is_refused_and_status_says_none(invoke, tmp_path):
    project = make(tmp_path / "project", ["r1"])
    result = invoke("rollout", "dev", "--release", "r1", code=2, root=project.root)
    assert "the dev stack is not running" in result.stderr and "infractl dev up --no-docker" in result.stderr
    status = json.loads(invoke("rollout", "status", "dev", "--json", root=project.root).stdout)
    assert status == {
        "state": None,
        "live_weights": None,
        "canary_running": False,
        "explanation": "no rollout has run on this dev stack",
        "next": [],
    }
    result = invoke("rollout", "abort", "dev", code=2, root=project.root)
    assert "the dev stack is not running" in result.stderr
