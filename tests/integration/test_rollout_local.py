"""`infractl rollout` on one real native dev stack (PostgreSQL, Temporal, OpenBao, the S3 emulator, Prometheus, the
api) with real haproxy in front of the stable and the canary api (docs/delivery.md):

- traffic shifting: at each step's weights, a bounded burst through the endpoint is served by each release in the
  step's share (haproxy's weighted round robin is deterministic over a burst: TOLERANCE below);
- a healthy canary reaches 100 % and becomes stable; a faulty one (errors injected through its own fault switch) is
  rolled back at its first step, with no request lost while the weights change (a client sends requests all along
  and sees no connection error);
- blue-green: the candidate is judged before the switch, and switched back on a breach;
- Ctrl-C in the middle leaves the weights where they were, marked interrupted: `rollout status` explains, `abort`
  puts everything on stable, and a re-run resumes to success.

The project is a copy of this repository's env models and SLOs with short analysis intervals (the dev stack's
Prometheus scrapes every second) and a few release manifests. No fixed sleeps: polling with deadlines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infractl.errors import RolledBack
from infractl.models.project import Project
from infractl.services.dev import monitoring, statefile
from infractl.services.rollout import control, local, store, traffic
from infractl.services.rollout.endpoint import CANARY, CANARY_SERVER, STABLE_SERVER, opened
from tests import dev_stack, rollout_project

pytestmark = pytest.mark.integration

TOLERANCE = 0.02  # share of a 400-request burst: round robin over weights w/100 is exact to within a few requests
RELEASES = ("r-shift", "r-good", "r-bad", "r-bg-good", "r-bg-bad", "r-sigint")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return rollout_project.make(tmp_path_factory.mktemp("rollout") / "project", RELEASES)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("rollout-stack") / "work"
    with dev_stack.running(work):
        yield work


@pytest.fixture
def clean(work: Path, project) -> Iterator[Path]:
    """Each test starts and ends with no rollout in progress and no canary fault."""
    directory = statefile.dev_dir(work)
    monitoring.set_faults(directory, clear=True, canary=True)
    yield directory
    monitoring.set_faults(directory, clear=True, canary=True)
    state = store.load(directory)
    if state is not None and not state.final:
        control.abort(work, project, "dev")


def _shares(tally: traffic.Tally) -> dict[str, float]:
    total = sum(tally.by_release.values())
    return {release: n / total for release, n in tally.by_release.items()}


def test_traffic_shifts_by_the_step_weights(work: Path, project, clean: Path):
    with opened(work, project.root) as stack:
        stack.proxy()
        stable = stack.stable_release()
        stack.start_canary("r-shift", "shift")
        rt = stack.runtime()
        try:
            for weight in (10, 25, 50, 100):
                rt.set_weights({STABLE_SERVER: 100 - weight, CANARY_SERVER: weight})
                assert rt.weights() == {STABLE_SERVER: 100 - weight, CANARY_SERVER: weight}
                tally = traffic.burst(stack.endpoint_url(), 400)
                assert tally.errors == [] and tally.server_errors == 0, tally
                share = _shares(tally).get("r-shift", 0.0)
                assert abs(share - weight / 100) <= TOLERANCE, (weight, tally.by_release)
                assert set(tally.by_release) <= {"r-shift", stable if stable != "workspace" else ""}
        finally:
            rt.set_weights({STABLE_SERVER: 100, CANARY_SERVER: 0})
            rt.drain(CANARY_SERVER, 30)
            stack.stop_canary()


def test_a_healthy_canary_reaches_100_and_becomes_stable(work: Path, project, clean: Path):
    lines: list[str] = []
    with opened(work, project.root) as stack:
        endpoint = f"http://127.0.0.1:{stack.proxy().port}"
    with traffic.Load(endpoint, 30) as client:
        state = local.run(work, project, "dev", "r-good", progress=lines.append)
    seen = client.snapshot()
    assert state.status == "succeeded", lines
    assert [s.weight for s in state.history] == [10, 25, 50, 100]
    assert all(s.verdict == "passed" for s in state.history)
    assert state.weights == {STABLE_SERVER: 100, CANARY_SERVER: 0} and state.stable == "r-good"
    assert seen.errors == [] and seen.server_errors == 0, seen  # nothing lost, nothing failed
    assert seen.by_release["r-good"] > 0
    after = control.status(work, project, "dev")
    assert after.live_weights == {STABLE_SERVER: 100, CANARY_SERVER: 0} and not after.canary_running
    assert traffic.burst(endpoint, 20).by_release == {"r-good": 20}  # the stable api now runs the release


def test_a_faulty_canary_is_rolled_back_with_no_request_lost(work: Path, project, clean: Path):
    monitoring.set_faults(clean, error_rate=0.5, canary=True)
    lines: list[str] = []
    with opened(work, project.root) as stack:
        endpoint = f"http://127.0.0.1:{stack.proxy().port}"
        stable = stack.stable_release()
    with traffic.Load(endpoint, 30) as client, pytest.raises(RolledBack, match="api-availability breached"):
        local.run(work, project, "dev", "r-bad", progress=lines.append)
    seen = client.snapshot()
    state = store.load(clean)
    assert state is not None and state.status == "rolled-back", lines
    assert [s.weight for s in state.history] == [10] and state.history[0].verdict == "breached"
    assert state.weights == {STABLE_SERVER: 100, CANARY_SERVER: 0}
    rb = state.rollback
    assert rb is not None and rb.breach_at is not None and rb.first_bad_scrape_at is not None
    assert rb.first_bad_scrape_at <= rb.breach_at <= rb.stable_at
    assert seen.errors == [], seen.errors[:5]  # no connection error while the weights changed
    breach = [x for x in state.history[0].samples if x.verdict == "breach"]
    assert breach and breach[0].error_ratio > breach[0].max_error_ratio  # the canary's injected 503s, judged
    assert not control.status(work, project, "dev").canary_running
    burst = traffic.burst(endpoint, 50)
    assert burst.server_errors == 0 and "r-bad" not in burst.by_release
    with opened(work, project.root) as stack:
        assert stack.stable_release() == stable


def test_blue_green_switches_after_the_checks_and_back_on_a_breach(work: Path, project, clean: Path):
    state = local.run(work, project, "dev", "r-bg-good", strategy="blue-green")
    assert state.status == "succeeded" and [s.weight for s in state.history] == [0, 100]
    monitoring.set_faults(clean, error_rate=0.5, canary=True)
    with pytest.raises(RolledBack, match="warm-up"):
        local.run(work, project, "dev", "r-bg-bad", strategy="blue-green")
    state = store.load(clean)
    assert state is not None and state.status == "rolled-back" and [s.weight for s in state.history] == [0]
    assert state.weights == {STABLE_SERVER: 100, CANARY_SERVER: 0}  # never switched: judged before


def _cli(work: Path, project, *args: str) -> subprocess.Popen:
    env = {**os.environ, "INFRACTL_WORK_DIR": str(work)}
    env.pop("CI", None)
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "infractl"), "--root", str(project.root), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(what: str, predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.2)
    return found


def test_sigint_leaves_a_consistent_state_that_abort_and_a_rerun_resolve(
    work: Path, project, clean: Path, sigint_as_a_terminal_sends_it
):
    proc = _cli(work, project, "rollout", "dev", "--release", "r-sigint")
    try:
        _wait("the 25 % step", lambda: (s := store.load(clean)) and [h.weight for h in s.history][-1:] == [25])
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    st = control.status(work, project, "dev")
    assert st.state is not None and st.state.status == "interrupted", st
    assert st.live_weights == st.state.weights == {STABLE_SERVER: 75, CANARY_SERVER: 25}
    assert st.canary_running and "interrupted at step 25 %" in st.explanation
    assert any("rollout abort dev" in n for n in st.next) and any("--release r-sigint" in n for n in st.next)
    # abort: everything back on stable, the canary gone
    aborted = control.abort(work, project, "dev")
    assert aborted.status == "aborted" and aborted.weights == {STABLE_SERVER: 100, CANARY_SERVER: 0}
    assert not control.status(work, project, "dev").canary_running
    # interrupted again, then a re-run resumes from the interrupted step to the end
    proc = _cli(work, project, "rollout", "dev", "--release", "r-sigint", "--json")
    try:
        _wait("the 50 % step", lambda: (s := store.load(clean)) and [h.weight for h in s.history][-1:] == [50])
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert store.load(clean).status == "interrupted"
    rerun = _cli(work, project, "rollout", "dev", "--release", "r-sigint", "--json")
    out, err = rerun.communicate(timeout=180)
    assert rerun.returncode == 0, err
    done = json.loads(out)
    assert done["status"] == "succeeded"
    verdicts = [(s["weight"], s["verdict"]) for s in done["history"]]
    assert verdicts[:3] == [(10, "passed"), (25, "passed"), (50, "interrupted")]
    assert verdicts[3:] == [(50, "passed"), (100, "passed")]
    assert not [n for n in statefile.load_state(clean)["services"] if n == CANARY]
