"""`infractl db` against a real PostgreSQL: the runtime's chain over the shared schema, three tier B schemas and two
tier C databases (tenant rows put in the catalog directly: creating tenants is `infractl tenant`'s job).

Expand stops before the contract, contract reaches head, a re-run is a no-op; a rollback of the last expand keeps the
data; one tenant made to fail mid-way leaves the others done, exit 8 names it, and a re-run after the fix completes
it; the contract is refused while a live heartbeat needs the old shape and allowed once it expired. The failing
fan-out runs through the CLI (--emulate on a dev-stack state file pointing at this PostgreSQL)."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Iterator

import pytest

from infractl.adapters import localservices, migrations, pg
from infractl.errors import RefusedError, UsageError
from infractl.models.db import Target, TenantRecord, tenant_ident
from infractl.services.db import catalog, fanout, migrate, rollback, status
from infractl.services.db.connect import DbEndpoint
from infractl.services.dev.statefile import dev_dir, save_state
from tests.conftest import REPO

SHARED_DB = "controlplane"
TIER_B = ("alpha", "beta", "gamma")
TIER_C = ("cargo", "delta")
POOLED = "pooled"  # tier A: no target of its own
TENANTS = sorted((*TIER_B, *TIER_C))  # the catalog's order


@pytest.fixture(autouse=True, scope="module")
def _db_command():
    """`infractl db` until cli/main.py registers it (then this does nothing)."""


@dataclasses.dataclass
class Db:
    server: pg.PgServer
    endpoint: DbEndpoint
    running: localservices.Running

    def sql(self, database: str, query: str, params: tuple = ()) -> list[tuple]:
        with pg.connect(self.server, database) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def where(self, name: str) -> tuple[str, str]:
        """(database, schema) of a target."""
        if name == "shared":
            return SHARED_DB, "public"
        if name in TIER_B:
            return SHARED_DB, tenant_ident(name)
        return tenant_ident(name), "public"

    def version(self, name: str) -> str | None:
        database, schema = self.where(name)
        if self.sql(database, "SELECT to_regclass(%s)", (f"{schema}.alembic_version",)) == [(None,)]:
            return None
        rows = self.sql(database, f'SELECT version_num FROM "{schema}".alembic_version')
        return rows[0][0] if rows else None

    def versions(self) -> dict[str, str | None]:
        return {name: self.version(name) for name in ("shared", *TIER_B, *TIER_C)}

    def columns(self, name: str, table: str = "runs") -> set[str]:
        database, schema = self.where(name)
        rows = self.sql(
            database,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        )
        return {r[0] for r in rows}

    def reset(self) -> None:
        """Every target back to an empty schema (not timed by any assertion)."""
        with pg.connect(self.server, SHARED_DB) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public AUTHORIZATION controlplane")
            conn.execute("DELETE FROM infractl.migration_targets")
            for name in TIER_B:
                ident = tenant_ident(name)
                conn.execute(f"DROP SCHEMA IF EXISTS {ident} CASCADE")
                conn.execute(f"CREATE SCHEMA {ident} AUTHORIZATION {ident}")
        for name in TIER_C:
            with pg.connect(self.server, tenant_ident(name)) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute(f"CREATE SCHEMA public AUTHORIZATION {tenant_ident(name)}")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Iterator[Db]:
    base = tmp_path_factory.mktemp("db-fanout")
    running = localservices.start_postgres(base, localservices.free_port())
    try:
        server = pg.PgServer(host="127.0.0.1", port=running.port, user="postgres", label="the test PostgreSQL")
        with pg.connect(server, "postgres") as conn:
            conn.execute("CREATE ROLE controlplane LOGIN")
            conn.execute(f"CREATE DATABASE {SHARED_DB} OWNER controlplane")
            for name in (*TIER_B, *TIER_C, POOLED):
                conn.execute(f"CREATE ROLE {tenant_ident(name)} LOGIN")
            for name in TIER_C:
                conn.execute(f"CREATE DATABASE {tenant_ident(name)} OWNER {tenant_ident(name)}")
        with pg.connect(server, SHARED_DB) as conn:
            catalog.ensure(conn)
            for name in TIER_B:
                ident = tenant_ident(name)
                record = TenantRecord(
                    name=name, tier="B", role=ident, schema_name=ident, database=SHARED_DB, state="ready"
                )
                assert catalog.insert(conn, record)
            for name in TIER_C:
                ident = tenant_ident(name)
                assert catalog.insert(
                    conn, TenantRecord(name=name, tier="C", role=ident, database=ident, state="ready")
                )
            pooled = TenantRecord(name=POOLED, tier="A", role=tenant_ident(POOLED), database=SHARED_DB, state="ready")
            assert catalog.insert(conn, pooled)
        yield Db(server=server, endpoint=DbEndpoint(env="dev", server=server, local=True), running=running)
    finally:
        localservices.stop(running)
        localservices.remove_postgres_data(running)


@pytest.fixture
def fresh(db: Db) -> Db:
    db.reset()
    return db


def chain() -> list[str]:
    return [r.id for r in migrations.revisions()]


def expand_goal() -> str:
    return migrations.phase_target(None, "expand")


def test_the_chain_has_an_expand_then_a_contract():
    """What the other tests rely on: 0003 expands (runs.error_message), 0004 contracts it (drops runs.error)."""
    by_id = {r.id: r for r in migrations.revisions()}
    assert by_id["0003"].phase == "expand" and by_id["0004"].phase == "contract"
    assert by_id["0004"].completes == "0003"
    assert expand_goal() == "0003"


def test_expand_stops_before_the_contract_then_contract_reaches_head_and_a_rerun_is_a_no_op(fresh: Db):
    lines: list[str] = []
    result = fanout.migrate_env(fresh.endpoint, progress=lines.append)
    assert [r.target for r in result.results] == ["shared", *TENANTS]  # shared first; tier A adds none
    assert {r.status for r in result.results} == {"applied"}
    assert all(r.applied == ["0001", "0002", "0003"] for r in result.results)
    assert set(fresh.versions().values()) == {"0003"}
    assert lines[1].startswith("shared: applied 0001, 0002, 0003")

    # old code (writes runs.error) and new code (writes error_message) both work on the expanded shape
    fresh.sql(
        SHARED_DB,
        "INSERT INTO tenant_beta.runs (id, tenant, kind, status, workflow_id, error) VALUES (%s, 'beta', 'k',"
        " 'failed', 'w', 'old code wrote this')",
        (uuid.uuid4(),),
    )
    assert fresh.sql(SHARED_DB, "SELECT error_message FROM tenant_beta.runs") == [("old code wrote this",)]

    report = status.status_env(fresh.endpoint)
    assert {(t.target, t.current, tuple((p.id, p.phase) for p in t.pending)) for t in report.targets} == {
        (name, "0003", (("0004", "contract"), ("0005", "expand"))) for name in ("shared", *TIER_B, *TIER_C)
    }
    assert {t.saved_status for t in report.targets} == {"applied"}

    again = fanout.migrate_env(fresh.endpoint)
    assert {r.status for r in again.results} == {"skipped"} and again.summary["skipped"] == 6

    done = fanout.migrate_env(fresh.endpoint, phase="contract")
    assert {r.status for r in done.results} == {"applied"} and all(r.applied == ["0004", "0005"] for r in done.results)
    assert set(fresh.versions().values()) == {chain()[-1]}
    assert "error" not in fresh.columns("beta") and "error_message" in fresh.columns("cargo")
    assert fresh.sql(SHARED_DB, "SELECT error_message FROM tenant_beta.runs") == [("old code wrote this",)]


def test_tenant_and_to_limit_what_runs(fresh: Db):
    one = fanout.migrate_env(fresh.endpoint, tenant="gamma", to="0001")
    assert [(r.target, r.applied) for r in one.results] == [("gamma", ["0001"])]
    assert fresh.versions() == {n: ("0001" if n == "gamma" else None) for n in ("shared", *TIER_B, *TIER_C)}
    pooled = fanout.migrate_env(fresh.endpoint, tenant=POOLED, to="0001")  # tier A: the shared target
    assert [r.target for r in pooled.results] == ["shared"]
    with pytest.raises(UsageError) as unknown:
        fanout.migrate_env(fresh.endpoint, tenant="nobody")
    assert "no tenant named 'nobody'" in unknown.value.message and "alpha" in (unknown.value.hint or "")
    with pytest.raises(UsageError) as past:
        fanout.migrate_env(fresh.endpoint, to="0004")
    assert "contract" in past.value.message and "--phase contract" in (past.value.hint or "")
    dry = fanout.migrate_env(fresh.endpoint, dry_run=True)
    assert {p.target: p.revisions for p in dry.planned}["gamma"] == ["0002", "0003"]
    assert fresh.version("alpha") is None  # a dry run changes nothing


def test_migrate_target_is_what_tenant_creation_calls(fresh: Db):
    target = Target(name="cargo", kind="database", tenant="cargo", database=tenant_ident("cargo"))
    result = migrate.migrate_target(fresh.endpoint, target)
    assert result.status == "applied" and result.revision == chain()[-1]
    owner = fresh.sql(tenant_ident("cargo"), "SELECT tableowner FROM pg_tables WHERE tablename = 'runs'")
    assert owner == [(tenant_ident("cargo"),)]  # created as the tenant's role
    saved = fresh.sql(SHARED_DB, "SELECT status, revision FROM infractl.migration_targets WHERE target = 'cargo'")
    assert saved == [("applied", chain()[-1])]
    assert migrate.migrate_target(fresh.endpoint, target).status == "skipped"


def test_a_second_migration_of_a_target_waits_for_the_first(fresh: Db):
    """The per-target advisory lock: a run finding the target locked waits (and says so), then continues."""
    alpha = Target(name="alpha", kind="schema", tenant="alpha", database=SHARED_DB, schema_name="tenant_alpha")
    key = pg.advisory_key(alpha.lock_key)
    waiting = threading.Event()
    results: list = []

    def progress(message: str) -> None:
        if message == "alpha: waiting for another migration of this target":
            waiting.set()

    with pg.connect(fresh.server, SHARED_DB) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (key,))
        second = threading.Thread(
            target=lambda: results.append(fanout.migrate_env(fresh.endpoint, tenant="alpha", progress=progress))
        )
        second.start()
        assert waiting.wait(60), "the second run did not report waiting for the lock"
        assert fresh.version("alpha") is None  # it waits: nothing applied while the lock is held
        holder.execute("SELECT pg_advisory_unlock(%s)", (key,))
    second.join(60)
    assert [(r.target, r.status, r.revision) for r in results[0].results] == [("alpha", "applied", "0003")]


def test_rollback_of_the_last_expand_keeps_the_data(fresh: Db):
    fanout.migrate_env(fresh.endpoint)
    run_id = uuid.uuid4()
    fresh.sql(
        tenant_ident("delta"),
        "INSERT INTO runs (id, tenant, kind, status, workflow_id, error_message) VALUES (%s, 'delta', 'k', 'failed',"
        " 'w', 'new code wrote this')",
        (run_id,),
    )
    questions: list[str] = []
    with pytest.raises(UsageError, match="declined"):
        rollback.rollback_env(fresh.endpoint, confirm=lambda q: questions.append(q) or False)
    assert set(fresh.versions().values()) == {"0003"}  # declined: nothing reverted
    assert questions == [f"revert 0003 on 6 target(s) of dev (shared, {', '.join(TENANTS)})?"]

    lines: list[str] = []
    result = rollback.rollback_env(fresh.endpoint, confirm=lambda q: True, progress=lines.append)
    reverted = [line.split(":")[0] for line in lines if ": reverted 0003" in line]
    assert sorted(reverted) == sorted(["shared", *TENANTS]) and reverted[-1] == "shared"  # the shared one last
    assert {r.status for r in result.results} == {"applied"} and set(fresh.versions().values()) == {"0002"}
    assert "error_message" not in fresh.columns("delta")
    kept = fresh.sql(tenant_ident("delta"), "SELECT error FROM runs WHERE id = %s", (run_id,))
    assert kept == [("new code wrote this",)]
    assert fanout.migrate_env(fresh.endpoint).summary["applied"] == 6  # and forward again


def test_rollback_refuses_an_irreversible_revision_before_touching_anything(fresh: Db, monkeypatch):
    fanout.migrate_env(fresh.endpoint)
    marked = [
        dataclasses.replace(r, irreversible="it folds two columns into one") if r.id == "0003" else r
        for r in migrations.revisions()
    ]
    monkeypatch.setattr(migrations, "revisions", lambda: marked)
    with pytest.raises(RefusedError) as refused:
        rollback.rollback_env(fresh.endpoint, confirm=lambda q: pytest.fail("asked to confirm"), tenant="alpha")
    assert refused.value.exit_code == 6
    assert "revision 0003 is irreversible: it folds two columns into one" in refused.value.message
    assert set(fresh.versions().values()) == {"0003"}


def test_contract_is_refused_while_an_old_process_runs_and_allowed_once_it_expired(fresh: Db):
    fanout.migrate_env(fresh.endpoint)
    fresh.sql(
        SHARED_DB,
        "INSERT INTO public.process_heartbeats (process_id, role, app_version, schema_min, schema_head, host, pid,"
        " seen_at, ttl_seconds) VALUES ('worker-old', 'worker', '1.4.2', '0001', '0002', 'node-7', 4242, now(), 30),"
        " ('api-new', 'api', '1.5.0', '0003', '0004', 'node-8', 77, now(), 30)",
    )
    with pytest.raises(RefusedError) as refused:
        fanout.migrate_env(fresh.endpoint, phase="contract")
    error = refused.value
    assert error.exit_code == 6 and "nothing was applied" in error.message
    assert len(error.details) == 1  # the new api needs no old shape
    assert all(s in error.details[0] for s in ("worker 1.4.2", "node-7", "pid 4242", "0001..0002", "worker-old"))
    assert "ttl" in (error.hint or "")
    assert set(fresh.versions().values()) == {"0003"}
    with pytest.raises(RefusedError):  # a dry run reports the refusal too
        fanout.migrate_env(fresh.endpoint, phase="contract", dry_run=True)

    fresh.sql(SHARED_DB, "UPDATE public.process_heartbeats SET seen_at = now() - interval '31 seconds'")
    done = fanout.migrate_env(fresh.endpoint, phase="contract")
    assert done.ok and set(fresh.versions().values()) == {chain()[-1]}


def test_a_tenant_failing_mid_way_leaves_the_others_done_and_a_rerun_completes_it(
    fresh: Db, invoke, monkeypatch, tmp_path
):
    work = tmp_path / "work"
    state = {
        "version": 1,
        "mode": "native",
        "root_token": "dev-test-token",  # pragma: allowlist secret
        "ports": {"openbao": localservices.free_port(), "s3": localservices.free_port(), "postgres": fresh.server.port},
        "services": {"postgres": {**fresh.running.to_dict(), "started_by_us": False}},
    }
    dev_dir(work).mkdir(parents=True)
    save_state(dev_dir(work), state)
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(work))

    invoke("db", "migrate", "dev", "--emulate", "--to", "0002", root=REPO)
    # beta's runs.error_message already exists with another type: 0003's backfill fails there, in its transaction
    fresh.sql(SHARED_DB, "ALTER TABLE tenant_beta.runs ADD COLUMN error_message integer")
    fresh.sql(
        SHARED_DB,
        "INSERT INTO tenant_beta.runs (id, tenant, kind, status, workflow_id, error) VALUES (%s, 'beta', 'k',"
        " 'failed', 'w', 'not a number')",
        (uuid.uuid4(),),
    )
    failed = invoke("db", "migrate", "dev", "--emulate", "--json", "--parallel", "3", root=REPO, code=8)
    assert "1 of 6 target(s) failed: beta; the others are done" in failed.stderr
    assert "beta: 0003: " in failed.stderr
    results = {r["target"]: r for r in json.loads(failed.stdout)["results"]}
    assert results["beta"]["status"] == "failed" and results["beta"]["revision"] == "0002"
    assert all(results[n]["status"] == "applied" and results[n]["revision"] == "0003" for n in results if n != "beta")
    assert fresh.versions() == {**{n: "0003" for n in ("shared", *TIER_B, *TIER_C)}, "beta": "0002"}

    shown = invoke("db", "status", "dev", "--emulate", "--tenant", "beta", root=REPO)
    assert "0003 (expand), 0004 (contract)" in shown.stdout and "failed" in shown.stdout

    fresh.sql(SHARED_DB, "ALTER TABLE tenant_beta.runs DROP COLUMN error_message")  # the fix
    again = invoke("db", "migrate", "dev", "--emulate", "--json", root=REPO)
    summary = json.loads(again.stdout)["summary"]
    assert summary == {"applied": 1, "skipped": 5, "pending": 0, "failed": 0}
    assert set(fresh.versions().values()) == {"0003"}
    assert fresh.sql(SHARED_DB, "SELECT error_message FROM tenant_beta.runs") == [("not a number",)]
    saved = fresh.sql(SHARED_DB, "SELECT status, error FROM infractl.migration_targets WHERE target = 'beta'")
    assert saved == [("applied", None)]


def test_rollback_through_the_cli_asks_unless_yes(fresh: Db, invoke, monkeypatch, tmp_path):
    fanout.migrate_env(fresh.endpoint, tenant="alpha")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    work = tmp_path / "work"
    dev_dir(work).mkdir(parents=True)
    save_state(
        dev_dir(work),
        {
            "version": 1,
            "mode": "native",
            "root_token": "dev-test-token",  # pragma: allowlist secret
            "ports": {"openbao": 1, "s3": 2},
            "services": {"postgres": fresh.running.to_dict()},
        },
    )
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(work))
    refused = invoke("db", "rollback", "dev", "--emulate", "--tenant", "alpha", root=REPO, code=2)
    assert "revert 0003 on 1 target(s) of dev (alpha)? — needs confirmation" in refused.stderr
    assert fresh.version("alpha") == "0003"
    done = invoke("db", "rollback", "dev", "--emulate", "--tenant", "alpha", "--steps", "2", "--yes", root=REPO)
    assert "alpha" in done.stdout and "0003, 0002" in done.stdout
    assert fresh.version("alpha") == "0001"
