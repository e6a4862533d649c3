"""The fault scenarios of `infractl drill faults` (docs/drills.md), one function each: `(h, steps) -> recovery
seconds`. Each starts a workload (workload.py: N runs through the api, a tenant of its own), injects its fault while
runs are in flight (accepted, and at least one recorded but not completed), recovers, waits for every run, and checks
exactly-once from the database. What it started is stopped by the harness's cleanups, then the stack is restored.

recovery_seconds: from the fault to the system serving again: a run completing after the restart (temporal-restart,
worker-kill), a request accepted after the restart (api-kill), a run completing after the heal (network-partition),
the first write through the stable endpoint (db-failover, failover.py).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from infractl.adapters import haproxy, postgres, process
from infractl.adapters import localservices as ls
from infractl.adapters.tcpproxy import TcpProxy
from infractl.errors import ExternalToolError
from infractl.services.dev.contract import APP
from infractl.services.drill import harness as hs
from infractl.services.drill.harness import Harness
from infractl.services.drill.steps import StepFailed, Steps
from infractl.services.drill.workload import DB_NAME, Workload, new_tenant, now

Scenario = Callable[[Harness, Steps], "float | None"]


# --- the shared shape ---------------------------------------------------------------------------------------------


def begin(h: Harness, steps: Steps, db_port: int | None = None) -> Workload:
    """Start the workload and wait until runs are in flight."""
    wl = Workload(
        api_url=h.api_url,
        tenant=new_tenant(steps.prefix),
        n=h.workflows,
        db=lambda: h.admin(db_port),
        s3=h.s3,
        bucket=h.bucket,
        deadline_s=h.remaining(),
    )
    h.on_cleanup("workload", wl.stop)
    with steps.step("workload") as t:
        wl.start()
        counts = wl.wait_in_flight(max(1, h.workflows // 3), timeout=min(60.0, h.remaining()))
        t.detail = (
            f"{h.workflows} runs for tenant {wl.tenant}; at the fault {counts['accepted']} accepted,"
            f" {counts['recorded']} recorded, {counts['completed']} completed"
        )
        t.facts.update(tenant=wl.tenant, **{f"at_fault_{k}": v for k, v in counts.items()})
    return wl


def finish(h: Harness, steps: Steps, wl: Workload) -> None:
    """Wait for every run (bounded by the scenario's budget), then check from the database, even after a timeout:
    the check names each run that did not complete."""
    with contextlib.suppress(StepFailed), steps.step("complete") as t:
        seconds = wl.wait_done(h.remaining())
        t.detail = f"every run completed, every event delivered ({seconds:.1f} s after recovery)"
        t.facts.update(posts=wl.attempts, retried_posts=wl.refused)
    wl.stop()
    with steps.step("check") as t:
        check = wl.check()
        h.checks[steps.prefix] = check
        t.detail = (
            f"{check.completed}/{check.started} completed, {check.lost} lost, {check.duplicated} duplicated;"
            f" {check.outbox_events} outbox, {check.delivered_events} delivered, {check.evidence_entries} ledger"
        )
        t.facts.update(check.model_dump(exclude={"problems"}))
    if not check.passed:
        steps.fail("exactly-once", "; ".join(check.problems[:5]) or "not every run completed", problems=check.problems)


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max(0.0, (end - start).total_seconds()), 3)


# --- the scenarios --------------------------------------------------------------------------------------------


def temporal_restart(h: Harness, steps: Steps) -> float | None:
    """SIGKILL the Temporal dev server mid-workload (its SQLite file keeps the history), restart it on its ports."""
    wl = begin(h, steps)
    with steps.step("kill") as t:
        h.kill("temporal")
        wl.fault_at = now()
        t.detail = "Temporal dev server killed (SIGKILL)"
    with steps.step("restart") as t:
        r = h.restart_temporal()
        up = now()
        t.detail = f"restarted on {r.address} with its SQLite history (pid {r.pid})"
    finish(h, steps, wl)
    return _seconds_between(wl.fault_at, wl.first_completion_after(up))


def worker_kill(h: Harness, steps: Steps) -> float | None:
    """SIGKILL the worker while activities run; restart it: Temporal retries the lost activities, whose effects
    stay exactly once (they are idempotent)."""
    wl = begin(h, steps)
    with steps.step("kill") as t:
        h.kill("worker")
        wl.fault_at = now()
        t.detail = "worker killed (SIGKILL) with runs in flight"
    with steps.step("restart") as t:
        r = h.start_app("worker")
        up = now()
        t.detail = f"worker restarted (pid {r.pid})"
    finish(h, steps, wl)
    return _seconds_between(wl.fault_at, wl.first_completion_after(up))


def api_kill(h: Harness, steps: Steps) -> float | None:
    """SIGKILL the api while requests are being made; the clients retry with the same Idempotency-Key until it
    answers again: no run is started twice for one key."""
    wl = begin(h, steps)
    with steps.step("kill") as t:
        t_kill = h.kill("api")
        wl.fault_at = now()
        t.detail = "api killed (SIGKILL) while requests were being made"
    with steps.step("restart") as t:
        r = h.start_app("api")
        t.detail = f"api restarted and ready (pid {r.pid})"
    finish(h, steps, wl)
    first = wl.first_accept_after(t_kill)
    return round(first - t_kill, 3) if first is not None else None


def network_partition(h: Harness, steps: Steps) -> float | None:
    """The worker reaches PostgreSQL and Temporal through TCP proxies; both are cut for partition_seconds while
    runs are in flight, then healed. Measured: how long after the heal the first run completes."""
    ports = h.ports
    with steps.step("proxies") as t:
        pg_proxy = TcpProxy(ls.HOST, ports["postgres"], name="postgres").start()
        h.on_cleanup("postgres proxy", pg_proxy.stop)
        tp_proxy = TcpProxy(ls.HOST, ports["temporal"], name="temporal").start()
        h.on_cleanup("temporal proxy", tp_proxy.stop)
        h.start_app("worker", {"postgres": pg_proxy.port, "temporal": tp_proxy.port})

        def stop_worker() -> None:  # before the proxies stop: healed, so the worker stops gracefully
            pg_proxy.heal()
            tp_proxy.heal()
            _stop_app(h, ("worker",))

        h.on_cleanup("worker behind proxies", stop_worker)
        t.detail = (
            f"worker restarted behind proxies: PostgreSQL via {pg_proxy.address}, Temporal via {tp_proxy.address}"
        )
    wl = begin(h, steps)
    with steps.step("partition") as t:
        pg_proxy.blackhole()
        tp_proxy.blackhole()
        wl.fault_at = now()
        before = wl.counts() or {}
        time.sleep(h.partition_seconds)  # the fault's duration, not a synchronisation
        during = wl.counts() or {}
        t.detail = f"worker cut from PostgreSQL and Temporal for {h.partition_seconds:g} s"
        t.facts.update(completed_before=before.get("completed"), completed_during=during.get("completed"))
    with steps.step("heal") as t:
        pg_proxy.heal()
        tp_proxy.heal()
        healed = now()
        t.detail = "forwarding resumed on every held connection"
    finish(h, steps, wl)
    first = wl.first_completion_after(healed)
    after_heal = _seconds_between(healed, first)
    h.facts.setdefault(steps.prefix, {}).update(after_heal_seconds=after_heal, partition_seconds=h.partition_seconds)
    h.notes.setdefault(steps.prefix, []).append(
        f"first run completed {after_heal} s after the heal (partition {h.partition_seconds:g} s)"
        if after_heal is not None
        else "no run completed after the heal (all had completed before it)"
    )
    return _seconds_between(wl.fault_at, first)


def db_failover(h: Harness, steps: Steps) -> float | None:
    """A streaming replica of the dev PostgreSQL behind haproxy; the app uses haproxy; the primary is killed, the
    replica promoted, haproxy moves the clients. Measured: kill -> the first write through haproxy."""
    primary = h.service("postgres")
    bindir, run_as = Path(primary.extra["bindir"]), primary.extra.get("run_as", "")
    data = Path(primary.extra["data_dir"])
    replica_dir = data.parent / f"{hs.DRILL_PREFIX}replica"
    done = {"killed": False, "promoted": False}

    def reinstate() -> None:
        """The stack's PostgreSQL back on its port with the newest data: the promoted replica's folder in place of
        the primary's; the replica and its folder gone."""
        if not done["killed"] and ls.is_healthy(h.service("postgres")):
            hs.synchronous(h.admin(primary.port), DB_NAME, on=False)  # first: no commit may wait for a gone standby
        entry = h.state["services"].get(hs.REPLICA)
        if entry is not None:
            left = ls.stop(ls.Running.from_dict(entry), timeout=30)
            if left:
                raise ExternalToolError(f"the replica did not stop: pids {left}")
            h.forget(hs.REPLICA)
        if done["promoted"]:
            hs.strip_standby(replica_dir)
            hs.swap_data(data, replica_dir)
        else:
            shutil.rmtree(replica_dir, ignore_errors=True)
        if done["killed"] or not ls.is_healthy(h.service("postgres")):
            h.start_postgres(primary.port)
        hs.synchronous(h.admin(primary.port), DB_NAME, on=False)
        h.db_port = primary.port

    h.on_cleanup("replica", reinstate)
    with steps.step("replica") as t:
        if postgres.ensure_replication_hba(data, run_as):  # a cluster initdb'd before the line was written
            postgres.ctl_reload(str(bindir), str(data), run_as)
            h.notes.setdefault(steps.prefix, []).append(
                f"added `{postgres.REPLICATION_HBA}` to the dev PostgreSQL's pg_hba.conf (streaming replication)"
            )
        seconds = hs.base_backup(bindir, primary.port, replica_dir, run_as)
        replica = ls.start_postgres(h.directory, ls.free_port(), name=hs.REPLICA, data=replica_dir, wait=60)
        h.record(replica)
        hs.synchronous(h.admin(primary.port), DB_NAME, on=True)  # after the backup: the replica must not inherit it
        h.wait(
            "the replica streaming synchronously",
            lambda: hs.streaming(h.admin(primary.port), sync=True),
            min(30.0, h.remaining()),
        )
        t.detail = f"synchronous streaming replica on {replica.address} (pg_basebackup {seconds:.2f} s)"
        t.facts.update(base_backup_seconds=seconds, replica_port=replica.port)
    with steps.step("endpoint") as t:
        port = ls.free_port()
        servers = [("primary", ls.HOST, primary.port), ("replica", ls.HOST, replica.port)]
        endpoint = haproxy.start(h.drill_dir, port, servers, psql=_psql(bindir), name=hs.ENDPOINT)
        h.record(endpoint)

        def stop_endpoint() -> None:
            ls.stop(endpoint)
            h.forget(hs.ENDPOINT)

        h.on_cleanup("endpoint", stop_endpoint)
        haproxy.wait_status(endpoint, {"primary": "UP", "replica": "DOWN"}, min(15.0, h.remaining()))
        hs.first_write(h.admin(port), time.monotonic(), min(15.0, h.remaining()))
        for name in APP:
            h.start_app(name, {"postgres": port})
        # stopped first at cleanup, while haproxy still reaches a database: a quick, graceful stop
        h.on_cleanup("app behind haproxy", lambda: _stop_app(h))
        t.detail = f"haproxy on {endpoint.address} in front of both; the api and the worker use it"
    wl = begin(h, steps, db_port=port)
    with steps.step("kill-primary") as t:
        t_kill = h.kill("postgres")
        done["killed"] = True
        wl.fault_at = now()
        t.detail = "the primary killed (SIGKILL of the postmaster and its backends)"
    with steps.step("promote") as t:
        hs.promote(bindir, replica_dir, run_as)
        done["promoted"] = True
        t.detail = f"the replica promoted ({time.monotonic() - t_kill:.2f} s after the kill)"
    with steps.step("first-write") as t:
        recovery = hs.first_write(h.admin(port), t_kill, h.remaining())
        t.detail = f"first write through haproxy {recovery:.2f} s after the kill"
        t.facts.update(kill_to_first_write_seconds=recovery)
    finish(h, steps, wl)
    return recovery


def _stop_app(h: Harness, names: tuple[str, ...] = APP) -> None:
    """Stop the app started with the drill's overrides; restore starts it again with its normal contract."""
    for name in names:
        ls.stop(h.service(name))


def _psql(bindir: Path) -> str:
    local = bindir / "psql"
    return str(local) if local.is_file() else process.find_binary("psql")


SCENARIO_FUNCTIONS: dict[str, Scenario] = {
    "temporal-restart": temporal_restart,
    "worker-kill": worker_kill,
    "api-kill": api_kill,
    "db-failover": db_failover,
    "network-partition": network_partition,
}
