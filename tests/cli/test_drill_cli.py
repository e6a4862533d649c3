"""infractl drill through the CLI, where no engine is needed: the env model's drill setting refuses prod (exit 6)
and asks staging for --yes, before anything is touched."""

from __future__ import annotations

import pytest
from tests.conftest import REPO


@pytest.fixture(autouse=True)
def work_dir(tmp_path, monkeypatch):
    """The refused command is still recorded as evidence (queued here, no ledger reachable), never in the repo."""
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path))
    return tmp_path


def test_prod_refuses_both_drills_even_with_yes(invoke, work_dir):
    for args in (("drill", "dr", "prod", "--emulate", "--yes"), ("drill", "faults", "prod", "--yes")):
        result = invoke(*args, code=6, root=REPO)
        assert "drills are refused in prod (environments/prod.yaml: recovery.drills: refused)" in result.stderr
        assert "recovery.drills: confirm" in result.stderr  # the fix
        assert "Traceback" not in result.stderr and result.stdout == ""
    queued = sorted(p.name for p in (work_dir / "evidence-queue" / "prod").iterdir())
    assert len(queued) == 2  # both refusals are on record


def test_staging_needs_yes(invoke):
    result = invoke("drill", "dr", "staging", "--emulate", code=6, root=REPO)
    assert "staging allows drills only when confirmed" in result.stderr and "re-run with --yes" in result.stderr


def test_an_unknown_part_is_a_usage_error(invoke):
    result = invoke("drill", "dr", "dev", "--emulate", "--part", "network", code=2, root=REPO)
    assert "unknown part network" in result.stderr and "database, cluster, evidence" in result.stderr
