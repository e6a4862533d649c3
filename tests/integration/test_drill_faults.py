"""`drill faults` on one real native dev stack (PostgreSQL, Temporal, OpenBao, the S3 emulator, the api, the worker,
haproxy): each scenario with 20 workflows in flight: all complete, nothing lost, nothing duplicated (checked from the
database), and afterwards the stack is healthy again with no drill process left (replica, haproxy, proxies). The
checker itself is shown to fail: a planted duplicate delivery and a run left running are named.
Bounded in time, polling (no fixed sleeps)."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from infractl.adapters import localservices as ls
from infractl.adapters import pg
from infractl.adapters.postgres import FALLBACK_ROOT
from infractl.errors import UsageError
from infractl.models.drill import SCENARIOS
from infractl.services.dev import devstack, statefile
from infractl.services.drill import faults
from infractl.services.drill.harness import DRILL_PREFIX, opened
from infractl.services.drill.workload import DB_NAME, Observed, Workload, evaluate, new_tenant
from tests import dev_stack
from tests.conftest import REPO

pytestmark = pytest.mark.integration

WORKFLOWS = 20


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("faults") / "work"
    with dev_stack.running(work):
        yield work
        assert not _drill_processes(work), "a drill process survived the module"


def _drill_processes(work: Path) -> list[str]:
    """Processes started for a drill (haproxy, the replica: their command lines name the drill's files) and the
    proxies' threads in this process."""
    dev = str(statefile.dev_dir(work))
    found = [t.name for t in threading.enumerate() if t.name.startswith("tcpproxy-")]
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(f"{DRILL_PREFIX}{what}" in cmdline for what in ("replica", "haproxy")) and (
            dev in cmdline or str(FALLBACK_ROOT) in cmdline
        ):
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


def _assert_stack_restored(work: Path) -> None:
    status = devstack.status(work, REPO)
    unhealthy = {s.name: s.health for s in status.services if s.health != "healthy"}
    assert not unhealthy, unhealthy
    state = statefile.load_state(statefile.dev_dir(work))
    assert not [n for n in state["services"] if n.startswith(DRILL_PREFIX)]
    assert not any("drill_override" in (e.get("extra") or {}) for e in state["services"].values())
    assert not _drill_processes(work)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_loses_and_duplicates_nothing(work: Path, scenario: str) -> None:
    lines: list[str] = []
    report = faults.run(
        work,
        REPO,
        env="dev",
        scenarios=[scenario],
        workflows=WORKFLOWS,
        progress=lines.append,
        partition_seconds=2.0,
        deadline_s=150.0,
    )
    result = report.scenarios[0]
    detail = "\n".join(lines[-40:]) + "\n" + json.dumps(report.model_dump(mode="json"), indent=1)[-4000:]
    assert report.passed, detail
    check = result.check
    assert check is not None
    assert check.lost == 0 and check.duplicated == 0, check.problems
    assert check.started == check.completed == WORKFLOWS
    assert check.outbox_events == check.delivered_events == 2 * WORKFLOWS
    assert check.evidence_entries == WORKFLOWS
    assert result.recovery_seconds is not None, detail
    assert [s.name for s in result.steps][-1] == f"{scenario}.restore"
    _assert_stack_restored(work)


def test_the_check_names_planted_problems(work: Path) -> None:
    """A legal but wrong history: one run's completion delivered twice (under another event id), another run put
    back to running. The checker fails and names both runs."""
    state = statefile.load_state(statefile.dev_dir(work))
    admin = pg.PgServer(ls.HOST, state["ports"]["postgres"], ls.PG_ADMIN_USER)
    with opened(work, REPO, lambda _m: None, 120.0) as h:
        wl = Workload(h.api_url, new_tenant("plant"), 3, lambda: admin, h.s3, h.bucket, 120.0)
        wl.start()
        wl.wait_done(120)
        assert wl.check().passed
        first, second = sorted(wl.accepted.values())[:2]
        with contextlib.closing(pg.connect(admin, DB_NAME)) as conn:
            conn.execute(
                "INSERT INTO delivered_events (event_id, event_type, tenant, aggregate_id, payload)"
                " SELECT gen_random_uuid(), event_type, tenant, aggregate_id, payload FROM delivered_events"
                " WHERE aggregate_id = %s AND event_type = 'run.completed'",
                (first,),
            )
            conn.execute("UPDATE runs SET status = 'running' WHERE id = %s", (second,))
        check = wl.check()
    assert not check.passed
    assert check.duplicated >= 1 and check.lost >= 1
    text = "\n".join(check.problems)
    assert f"run {first}: 2 delivered run.completed events" in text
    assert f"run {second}: still running" in text


def test_refuses_a_stack_that_is_not_running(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not running"):
        faults.run(tmp_path, REPO, env="dev", scenarios=[], workflows=1, progress=lambda _m: None)


def test_refuses_an_unknown_scenario(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown scenario"):
        faults.run(tmp_path, REPO, env="dev", scenarios=["meteor"], workflows=1, progress=lambda _m: None)


def test_evaluate_counts_each_effect() -> None:
    """The pure check: a lost run, a second run for a retried key, a missing delivery, a duplicate ledger entry."""
    t = "drill-x"
    accepted = {"k1": "r1", "k2": "r2", "k3": "r3"}
    answers = {"k1": {"r1"}, "k2": {"r2", "r9"}, "k3": {"r3"}}
    seen = Observed(
        runs=[("r1", "completed"), ("r2", "completed"), ("r9", "completed")],
        outbox=[
            ("e1", "r1", "run.recorded", True),
            ("e2", "r1", "run.completed", True),
            ("e3", "r2", "run.recorded", True),
            ("e4", "r2", "run.completed", True),
        ],
        delivered=[("e1", "r1", "run.recorded"), ("e2", "r1", "run.completed"), ("e3", "r2", "run.recorded")],
        ledger=[
            (1, f"run:{t}/r1", "k", "v1", "s"),
            (2, f"run:{t}/r2", "k", "v2", "s"),
            (3, f"run:{t}/r2", "k", "v", "s"),
        ],
        objects={1: (True, "s"), 2: (True, "s"), 3: (True, "s")},
    )
    check = evaluate(t, accepted, answers, seen)
    text = "\n".join(check.problems)
    assert "run r3: accepted, but no row in runs (lost)" in text
    assert "key k2: answered with 2 different runs" in text
    assert "run r9: a row no accepted request answered with" in text
    assert "run r2: run.completed event e4 was never delivered" in text
    assert "run r2: 2 ledger entries" in text
    assert check.completed == 2 and check.started == 3 and not check.passed
