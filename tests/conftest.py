"""Shared fixtures: the one CLI helper, project copies, the provider mirror."""

from __future__ import annotations

import os
import shutil
import signal
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
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)  # a command exports only where a test asks

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


# SIGINT as this process got it. A test run started as a background job of a non-interactive shell (`make test &`,
# CI runners, nohup) inherits SIGINT ignored: Python then keeps SIG_IGN instead of installing its handler, and so do
# the processes it starts. That is the environment, not a test's leak.
_SIGINT_AT_START = signal.getsignal(signal.SIGINT)
_SIGINT_BLOCKED_AT_START = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())


@pytest.fixture
def sigint_as_a_terminal_sends_it():
    """SIGINT handled by Python (KeyboardInterrupt) and not blocked in this process — as in an infractl started from
    a terminal, and as the processes the test starts inherit it. Set for the test and restored after. If it differs
    from what the process started with, a test earlier in the same worker changed it: that is reported as a warning."""
    import warnings

    handler = signal.getsignal(signal.SIGINT)
    blocked = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    if handler is not _SIGINT_AT_START or blocked != _SIGINT_BLOCKED_AT_START:
        warnings.warn(
            f"SIGINT was left {handler!r}{' and blocked' if blocked else ''} by an earlier test "
            f"(the process started with {_SIGINT_AT_START!r})",
            stacklevel=1,
        )
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        if blocked:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
