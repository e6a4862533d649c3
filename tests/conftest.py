"""Shared fixtures: the one CLI helper, project copies, the provider mirror."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from infractl.cli.main import main

REPO = Path(__file__).resolve().parents[1]
MIRROR_CANDIDATES = ("/opt/tf-plugins", "~/.terraform.d/plugins", "/usr/share/terraform/plugins")


def provider_mirror() -> str | None:
    """INFRACTL_PROVIDER_MIRROR (set by the Makefile), else a known mirror location on this machine."""
    if os.environ.get("INFRACTL_PROVIDER_MIRROR"):
        return os.environ["INFRACTL_PROVIDER_MIRROR"]
    for candidate in MIRROR_CANDIDATES:
        path = Path(candidate).expanduser()
        if (path / "registry.terraform.io").is_dir():
            return str(path)
    return None


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def invoke(capsys, monkeypatch):
    """Run the CLI in-process through main(): invoke(*args, code=0, root=None) -> Result(stdout, stderr)."""
    monkeypatch.delenv("INFRACTL_ROOT", raising=False)
    monkeypatch.delenv("INFRACTL_EMULATE", raising=False)

    def _invoke(*args: str, code: int = 0, root: Path | None = None) -> Result:
        argv = (["--root", str(root)] if root else []) + list(args)
        capsys.readouterr()
        rc = main(argv)
        out, err = capsys.readouterr()
        assert rc == code, f"infractl {' '.join(argv)} exited {rc}, expected {code}\nstdout:\n{out}\nstderr:\n{err}"
        return Result(rc, out, err)

    return _invoke


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's environments/ and terraform/ to break or extend freely."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "environments", root / "environments")
    shutil.copytree(
        REPO / "terraform",
        root / "terraform",
        symlinks=True,  # the stacks link the shared variables file, as the repository does
        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"),
    )
    return root


# The slowest files first (minutes of one worker each, measured in fresh CI runs). With `--dist loadfile` a file runs
# whole on one worker, so a long file that starts last stretches the run; starting the longest first keeps the
# workers evenly busy (longest-processing-time-first scheduling). The rest keep their collection order.
SLOW_FIRST = (
    "integration/test_bootstrap_dev.py",
    "integration/test_emulator_fidelity.py",
    "integration/test_stack_graph_run.py",
    "integration/test_validate.py",
    "integration/test_own_project.py",
    "integration/test_release.py",
    "integration/test_images.py",
    "integration/test_interrupts.py",
    "integration/test_state_recover.py",
    "integration/test_partial_apply.py",
    "integration/test_dev_stack.py",
    "runtime/test_api_stack.py",
    "integration/test_scan.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    tests = REPO / "tests"

    def key(item) -> int:
        try:
            return rank.get(item.path.relative_to(tests).as_posix(), len(rank))
        except ValueError:
            return len(rank)

    items.sort(key=key)
