"""Which commit the API gate compares with: --base (its merge base with HEAD), else the merge base with origin/main
or main, else HEAD; none outside git or before the first commit. Real git, in temporary repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infractl.adapters import git
from infractl.errors import UsageError
from infractl.services.scan.run import resolve_base


def sh(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    sh(r, "init", "-q", "-b", "main")
    (r / "f").write_text("1")
    sh(r, "add", "f")
    sh(r, "commit", "-qm", "one")
    return r


def test_no_git_and_no_commit_mean_no_base(tmp_path: Path):
    assert git.toplevel(tmp_path) is None
    assert resolve_base(None, None) == (None, "not a git repository: no base to compare the API with")
    empty = tmp_path / "empty"
    empty.mkdir()
    sh(empty, "init", "-q")
    assert resolve_base(empty, None)[0] is None


def test_on_main_the_base_is_head_and_on_a_branch_the_fork_point(repo: Path):
    first = sh(repo, "rev-parse", "HEAD")
    assert resolve_base(repo, None) == (first, f"the merge base with main ({first[:12]})")
    sh(repo, "switch", "-qc", "feature")
    (repo / "f").write_text("2")
    sh(repo, "commit", "-qam", "two")
    sh(repo, "switch", "-q", "main")
    (repo / "g").write_text("main moved on")
    sh(repo, "add", "g")
    sh(repo, "commit", "-qm", "three")
    sh(repo, "switch", "-q", "feature")
    assert resolve_base(repo, None)[0] == first  # not main's tip: what main gained is not the branch's change
    commit, how = resolve_base(repo, "main")
    assert commit == first and how.startswith("main (merge base")


def test_origin_main_wins_over_main_and_a_bad_base_is_a_usage_error(repo: Path):
    first = sh(repo, "rev-parse", "HEAD")
    sh(repo, "update-ref", "refs/remotes/origin/main", first)
    (repo / "f").write_text("2")
    sh(repo, "commit", "-qam", "two")
    assert resolve_base(repo, None)[1] == f"the merge base with origin/main ({first[:12]})"
    with pytest.raises(UsageError, match="--base nope: not a commit"):
        resolve_base(repo, "nope")


def test_without_main_the_base_is_head(repo: Path):
    sh(repo, "branch", "-m", "trunk")
    head = sh(repo, "rev-parse", "HEAD")
    assert resolve_base(repo, None) == (head, f"HEAD ({head[:12]}; no origin/main or main)")
