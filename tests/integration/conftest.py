"""Real engines: the terraform binary and a moto server (infractl's own emulator) on a free loopback port."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infractl.adapters import emulator
from infractl.adapters.aws import AwsTarget
from infractl.models.render import RenderResult
from infractl.services.render import render as render_service
from tests.conftest import REPO as REPO_ROOT  # noqa: F401 - re-exported for the tests
from tests.conftest import provider_mirror

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def mirror() -> str:
    found = provider_mirror()
    if not found:
        pytest.fail("no Terraform provider mirror: set INFRACTL_PROVIDER_MIRROR (the Makefile does)")
    if not shutil.which("terraform"):
        pytest.fail("terraform is not on PATH")
    return found


@pytest.fixture(scope="session")
def rendered_env(tmp_path_factory) -> Callable[[str], RenderResult]:
    """`infractl render <env>` of the committed tree, once per env and session: for tests that only read it."""
    from tests.integration.charts import PROJECT

    done: dict[str, RenderResult] = {}

    def get(env: str) -> RenderResult:
        if env not in done:
            done[env] = render_service.render(PROJECT, env, tmp_path_factory.mktemp(f"render-{env}"))
        return done[env]

    return get


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory, mirror) -> Path:
    """infractl's work folder for this test session, with the emulator running in it (stopped at the end)."""
    work = tmp_path_factory.mktemp("work")
    emulator.start(work / "emulator")
    yield work
    emulator.stop(work / "emulator")


@pytest.fixture
def emulated(monkeypatch, work_dir, mirror) -> Path:
    """Point infractl at the session's work folder and emulator."""
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(work_dir))
    monkeypatch.setenv("INFRACTL_PROVIDER_MIRROR", mirror)
    monkeypatch.delenv("CI", raising=False)
    return work_dir


def emulator_requests(work_dir: Path) -> list[dict]:
    """The session emulator's request log: one entry a request (operation, SDK attempt, status; no values)."""
    log = work_dir / "emulator" / "requests.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []


def is_read(op: str) -> bool:
    """A call that changes nothing when run twice: REST GET/HEAD, the POST protocols' Describe/Get/List…"""
    from infractl.adapters.emulator_patches.server import READ_PREFIXES

    return op.split()[0] in ("GET", "HEAD") or op.startswith(READ_PREFIXES)


def emulator_anomalies(work_dir: Path) -> list[dict]:
    """Requests that could have changed something twice or half: an answer of 5xx (or none: the app raised), and a
    call run more than once (the same SDK invocation executed again instead of answered from its first run)."""
    found, ran = [], set()
    for entry in emulator_requests(work_dir):
        if entry["status"] >= 500 or entry["status"] == 0:
            found.append(entry)
        invocation = entry.get("invocation")
        if invocation and not entry.get("replayed"):
            if invocation in ran and not is_read(entry["op"]):
                found.append(entry)
            ran.add(invocation)
    return found


def aws(work_dir: Path, region: str = "eu-west-1") -> AwsTarget:
    state = emulator.status(work_dir / "emulator")
    assert state.running, "the session emulator is not running"
    return AwsTarget(
        region=region,
        endpoint_url=state.url,
        ca_file=state.ca_file,
        access_key=emulator.FAKE_ACCESS_KEY,
        secret_key=emulator.FAKE_SECRET_KEY,
    )
