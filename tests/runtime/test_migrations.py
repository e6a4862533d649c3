"""The runtime's migrations against a real PostgreSQL (the session's `postgres_server`, one fresh database per
test): every revision's down path with its data, the irreversible refusal, a failed revision, a database built by
the pre-Alembic migrations, tenant schemas migrated from parallel threads, phase targets, blockers, and the
heartbeat's tolerance of a missing table. The expand → old and new code → contract sequence is
test_expand_contract.py.
"""

from __future__ import annotations

import asyncio
import logging
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.runtime.conftest import WAIT_S, create_database, drop_database

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(postgres_server):
    from infractl.adapters import localservices as ls

    ls.wait_healthy(postgres_server.running, WAIT_S)
    return postgres_server


def _url(admin_url: str, name: str, driver: str = "postgresql+psycopg") -> str:
    return admin_url.replace("postgresql://", f"{driver}://").rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def db(server):
    """(SQLAlchemy engine, libpq URL) of a fresh database."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    admin = server.admin_url
    name = create_database(admin, "mig")
    engine = create_engine(_url(admin, name), poolclass=NullPool)
    try:
        yield engine, _url(admin, name, "postgresql")
    finally:
        engine.dispose()
        drop_database(admin, name)


def _rows(conn, sql: str, **params) -> list[tuple]:
    from sqlalchemy import text

    rows = [tuple(r) for r in conn.execute(text(sql), params)]
    conn.commit()
    return rows


def _run(conn, sql: str, **params) -> None:
    from sqlalchemy import text

    conn.execute(text(sql), params)
    conn.commit()


def _tables(conn, schema: str = "public") -> set[str]:
    return {
        r[0] for r in _rows(conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = :s", s=schema)
    }


def _columns(conn, table: str) -> set[str]:
    sql = "SELECT column_name FROM information_schema.columns WHERE table_name = :t AND table_schema = 'public'"
    return {r[0] for r in _rows(conn, sql, t=table)}


# ---------------------------------------------------------------- the chain


def test_chain_declares_every_revision_and_ships_its_script_directory():
    from controlplane.migrations import runner

    revs = runner.revisions()
    assert [r.id for r in revs] == [f"{n:04d}" for n in range(1, len(revs) + 1)]
    assert runner.head() == revs[-1].id
    for before, rev in zip([None, *revs], revs, strict=False):
        assert rev.down == (before.id if before else None)
        assert rev.phase in ("expand", "contract") and rev.description, rev
        assert rev.path.is_file() and rev.path.parent == runner.DIRECTORY / "versions", rev
        assert (rev.completes is not None) == (rev.phase == "contract"), rev
    for name in ("env.py", "script.py.mako", "__init__.py"):
        assert (runner.DIRECTORY / name).is_file(), name
    assert runner.chain() is runner.chain()  # loaded once per process
    assert runner.declared_head() == runner.head()  # what the heartbeats report, read from the file names


# ---------------------------------------------------------------- every down path, with its data

R1, R2, R3 = (str(uuid.uuid4()) for _ in range(3))


def _up_0001(conn):
    assert {"runs", "outbox", "delivered_events", "idempotency_keys"} <= _tables(conn)
    _run(
        conn,
        "INSERT INTO runs (id, tenant, kind, status, workflow_id, error)"
        " VALUES (:id, 'acme', 'k', 'failed', 'wf', 'boom')",
        id=R1,
    )


def _down_0001(conn):
    assert _tables(conn) == {"alembic_version"}  # back to an empty schema


def _up_0002(conn):
    _run(
        conn,
        "INSERT INTO process_heartbeats (process_id, role, app_version, schema_min, schema_head, host, pid,"
        " ttl_seconds) VALUES ('p1', 'api', '0.1.0', '0001', '0002', 'h', 1, 30)",
    )


def _down_0002(conn):
    assert "process_heartbeats" not in _tables(conn)
    assert _rows(conn, "SELECT count(*) FROM runs WHERE id = :id AND error IS NOT NULL", id=R1) == [(1,)]


def _errors(conn, *columns: str) -> dict[str, tuple]:
    return {str(r[0]): tuple(r[1:]) for r in _rows(conn, f"SELECT id, {', '.join(columns)} FROM runs")}


def _up_0003(conn):
    assert _errors(conn, "error", "error_message") == {R1: ("boom", "boom")}  # backfilled
    # old code writes `error` (insert, update), new code `error_message`: the other column follows
    _run(
        conn,
        "INSERT INTO runs (id, tenant, kind, status, workflow_id, error)"
        " VALUES (:id, 'acme', 'k', 'failed', 'wf', 'old')",
        id=R2,
    )
    assert _errors(conn, "error", "error_message")[R2] == ("old", "old")
    _run(conn, "UPDATE runs SET error_message = 'new' WHERE id = :id", id=R1)
    _run(conn, "UPDATE runs SET error = 'old-2' WHERE id = :id", id=R2)
    _run(conn, "UPDATE runs SET status = 'failed' WHERE id = :id", id=R2)  # a statement touching neither
    assert _errors(conn, "error", "error_message") == {R1: ("new", "new"), R2: ("old-2", "old-2")}


def _down_0003(conn):
    assert "error_message" not in _columns(conn, "runs")
    assert _errors(conn, "error") == {R1: ("new",), R2: ("old-2",), R3: ("r3",)}  # kept in `error`
    assert _rows(conn, "SELECT count(*) FROM pg_proc WHERE proname = 'runs_error_sync'") == [(0,)]


def _up_0004(conn):
    assert "error" not in _columns(conn, "runs")
    assert _errors(conn, "error_message") == {R1: ("new",), R2: ("old-2",)}
    assert _rows(conn, "SELECT count(*) FROM pg_trigger WHERE tgname = 'runs_error_sync'") == [(0,)]


def _down_0004(conn):
    assert _errors(conn, "error", "error_message") == {R1: ("new", "new"), R2: ("old-2", "old-2")}  # refilled
    _run(
        conn,
        "INSERT INTO runs (id, tenant, kind, status, workflow_id, error)"
        " VALUES (:id, 'acme', 'k', 'failed', 'wf', 'r3')",
        id=R3,
    )
    assert _errors(conn, "error", "error_message")[R3] == ("r3", "r3")  # the 0003 trigger is back


def _up_0005(conn):
    assert _rows(conn, "SELECT seq, entry_hash FROM evidence_head") == [(0, "0" * 64)]
    assert {"evidence_entries", "evidence_checkpoints"} <= _tables(conn)
    assert _rows(conn, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'evidence_entries_no_%'") == [(2,)]


def _down_0005(conn):
    assert not {"evidence_entries", "evidence_head", "evidence_checkpoints"} & _tables(conn)
    assert _errors(conn, "error_message")[R1] == ("new",)  # the runs before it untouched


# revision -> (check after upgrading to it, check after downgrading from it). A new revision without an entry fails
# test_every_revision_round_trips_with_its_data: its down path must be tested here.
CHECKS = {
    "0001": (_up_0001, _down_0001),
    "0002": (_up_0002, _down_0002),
    "0003": (_up_0003, _down_0003),
    "0004": (_up_0004, _down_0004),
    "0005": (_up_0005, _down_0005),
}


def test_every_revision_round_trips_with_its_data(db):
    from controlplane.migrations import runner

    engine, _ = db
    revs = runner.revisions()
    assert set(CHECKS) == {r.id for r in revs}, "every revision needs its up/down data checks here"
    with engine.connect() as conn:
        for rev in revs:
            assert runner.upgrade(conn, rev.id) == [rev.id]
            assert runner.current(conn) == rev.id
            CHECKS[rev.id][0](conn)
        for rev in reversed(revs):
            assert not rev.irreversible, f"{rev.id} is irreversible: test its refusal instead"
            assert runner.downgrade(conn, rev.down or "base") == [rev.id]
            assert runner.current(conn) == rev.down
            CHECKS[rev.id][1](conn)
        assert runner.upgrade(conn) == [r.id for r in revs]
        assert runner.upgrade(conn) == []
        assert runner.current(conn) == runner.head()
        assert not conn.in_transaction()


# ---------------------------------------------------------------- planted chains


def _plant(tmp_path: Path, revisions: list[tuple[str, str, str, str]]) -> Path:
    """A script directory: (id, header lines, upgrade SQL, downgrade SQL) per revision, in order."""
    versions = tmp_path / "versions"
    versions.mkdir(parents=True)
    down = None
    for rev, header, up, back in revisions:
        body = f'''
            """planted {rev}"""
            from alembic import op

            revision = {rev!r}
            down_revision = {down!r}
            {header}


            def upgrade():
                op.execute({up!r})


            def downgrade():
                op.execute({back!r})
            '''
        (versions / f"{rev}_planted.py").write_text(textwrap.dedent(body))
        down = rev
    return tmp_path


EXPAND = 'phase = "expand"; irreversible = None; completes = None'


def test_an_irreversible_revision_is_refused_before_anything_is_reverted(tmp_path, db):
    from controlplane.migrations import runner

    chain = runner.chain(
        _plant(
            tmp_path,
            [
                ("0001", EXPAND, "CREATE TABLE a (x int)", "DROP TABLE a"),
                (
                    "0002",
                    'phase = "expand"; irreversible = "b keeps no copy of what it replaced"; completes = None',
                    "CREATE TABLE b (x int)",
                    "DROP TABLE b",
                ),
                ("0003", EXPAND, "CREATE TABLE c (x int)", "DROP TABLE c"),
            ],
        )
    )
    engine, _ = db
    with engine.connect() as conn:
        assert chain.upgrade(conn) == ["0001", "0002", "0003"]
        with pytest.raises(runner.IrreversibleMigration, match="0002 is irreversible: b keeps no copy") as err:
            chain.downgrade(conn, "base")
        assert (err.value.rev, err.value.reason) == ("0002", "b keeps no copy of what it replaced")
        assert chain.current(conn) == "0003" and {"a", "b", "c"} <= _tables(conn)  # 0003 was not reverted
        assert chain.downgrade(conn, "0002") == ["0003"]  # above the irreversible one: allowed
        assert "c" not in _tables(conn)


def test_a_failed_revision_leaves_the_ones_before_it_applied(tmp_path, db):
    from controlplane.migrations import runner

    chain = runner.chain(
        _plant(
            tmp_path,
            [
                ("0001", EXPAND, "CREATE TABLE a (x int)", "DROP TABLE a"),
                ("0002", EXPAND, "CREATE TABLE b (x int); ALTER TABLE nowhere ADD y int", "DROP TABLE b"),
            ],
        )
    )
    engine, _ = db
    with engine.connect() as conn:
        with pytest.raises(runner.MigrationFailed, match='0002 failed: relation "nowhere" does not exist') as e:
            chain.upgrade(conn)
        assert e.value.applied == ["0001"]
        assert chain.current(conn) == "0001" and "b" not in _tables(conn)  # 0002 rolled back as a whole
        assert not conn.in_transaction()
        assert _rows(conn, "SHOW search_path") == [('"$user", public',)]  # restored


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("irreversible = None; completes = None", "declares no phase"),
        ('phase = "expand"; irreversible = ""; completes = None', "irreversible must be None or the reason"),
        ('phase = "shrink"; irreversible = None; completes = None', "phase must be expand or contract"),
        ('phase = "contract"; irreversible = None; completes = None', "completes an earlier expand revision"),
        ('phase = "expand"; irreversible = None; completes = "0001"', "only a contract revision completes"),
    ],
)
def test_a_revision_without_its_declarations_is_refused(tmp_path, header, error):
    from controlplane.migrations import runner

    planted = _plant(tmp_path, [("0001", EXPAND, "SELECT 1", "SELECT 1"), ("0002", header, "SELECT 1", "SELECT 1")])
    with pytest.raises(runner.MigrationError, match=f"0002_planted.py: .*{error}"):
        runner.chain(planted)


def test_phase_targets_stop_before_the_first_pending_contract(tmp_path):
    from controlplane.migrations import runner

    chain = runner.chain(
        _plant(
            tmp_path,
            [
                ("0001", EXPAND, "SELECT 1", "SELECT 1"),
                ("0002", EXPAND, "SELECT 1", "SELECT 1"),
                ("0003", 'phase = "contract"; irreversible = None; completes = "0002"', "SELECT 1", "SELECT 1"),
                ("0004", EXPAND, "SELECT 1", "SELECT 1"),
            ],
        )
    )
    assert [chain.phase_target(at, "expand") for at in (None, "0001", "0002", "0003", "0004")] == [
        "0002",
        "0002",
        "0002",
        "0004",
        "0004",
    ]
    assert chain.phase_target(None, "contract") == "0004"
    with pytest.raises(runner.UnknownRevision, match="'0099' is not in this code's migrations"):
        chain.phase_target("0099", "expand")
    # the runtime's own chain: the rename's expand half is deployed first, its contract half separately
    assert [runner.phase_target(at, "expand") for at in (None, "0002", "0003", "0004")] == [
        "0003",
        "0003",
        "0003",
        "0005",
    ]
    assert runner.phase_target("0003", "contract") == "0005"
    assert [(r.id, r.phase, r.completes) for r in runner.revisions()][2:] == [
        ("0003", "expand", None),
        ("0004", "contract", "0003"),
        ("0005", "expand", None),
    ]


# ---------------------------------------------------------------- existing databases and tenant schemas


def test_a_database_built_by_the_pre_alembic_migrations_upgrades_cleanly(db):
    """The hand-rolled migrations 1 and 2 created exactly 0001's tables and recorded them in schema_migrations."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    from controlplane.migrations import runner

    engine, _ = db
    with engine.connect() as conn:
        baseline = runner.chain().script.get_revision("0001").module
        with conn.begin():  # 0001's SQL alone, no version table: what the old code left behind
            with Operations.context(MigrationContext.configure(conn)):
                baseline.upgrade()
            conn.exec_driver_sql(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, description text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            conn.exec_driver_sql(
                "INSERT INTO schema_migrations (version, description) VALUES"
                " (1, 'runs, outbox, delivered_events'), (2, 'idempotency_keys')"
            )
        _up_0001(conn)
        assert runner.current(conn) is None
        assert runner.upgrade(conn) == [r.id for r in runner.revisions()]
        assert runner.current(conn) == runner.head()
        assert _rows(conn, "SELECT count(*) FROM runs WHERE id = :id", id=R1) == [(1,)]
        assert _rows(conn, "SELECT version FROM schema_migrations ORDER BY 1") == [(1,), (2,)]  # left alone


def test_tenant_schemas_migrate_in_parallel_threads_each_with_its_own_version_table(db):
    from controlplane.migrations import runner

    engine, _ = db
    schemas = [f"tenant_{n}" for n in range(5)] + ['tenant "q"; DROP TABLE runs; --']
    with engine.connect() as conn:
        for name in schemas:
            quoted = conn.dialect.identifier_preparer.quote_identifier(name)
            _run(conn, f"CREATE SCHEMA {quoted}")

    def migrate(name: str) -> tuple[list[str], list[str], str | None]:
        with engine.connect() as conn:
            up = runner.upgrade(conn, schema=name)
            at = runner.current(conn, name)
            down = runner.downgrade(conn, "0001", schema=name)
            return up, down, at

    with ThreadPoolExecutor(len(schemas)) as pool:
        results = dict(zip(schemas, pool.map(migrate, schemas), strict=True))
    ids = [r.id for r in runner.revisions()]
    for name, (up, down, at) in results.items():
        assert (up, down, at) == (ids, ids[1:][::-1], runner.head()), name
    with engine.connect() as conn:
        for name in schemas:
            assert runner.current(conn, name) == "0001"
            assert _tables(conn, name) == {"alembic_version", "runs", "outbox", "delivered_events", "idempotency_keys"}
        assert runner.current(conn) is None and _tables(conn) == set()  # public untouched


# ---------------------------------------------------------------- blockers and the heartbeat


def test_blockers_are_the_live_processes_older_than_what_a_contract_completes(tmp_path, db):
    from controlplane.migrations import runner

    chain = runner.chain(
        _plant(
            tmp_path,
            [
                ("0001", EXPAND, "SELECT 1", "SELECT 1"),
                ("0002", EXPAND, "SELECT 1", "SELECT 1"),
                ("0003", 'phase = "contract"; irreversible = None; completes = "0002"', "SELECT 1", "SELECT 1"),
            ],
        )
    )
    engine, _ = db
    with engine.connect() as conn:
        assert chain.blockers(conn, "0003") == []  # no heartbeat table yet: nothing is recorded
        runner.upgrade(conn, "0002")  # the real chain: process_heartbeats in public
        _run(conn, 'CREATE SCHEMA "planted"')
        chain.upgrade(conn, "0002", schema="planted")
        rows = [  # process, schema_head, seen seconds ago, ttl
            ("old-live", "0001", 0, 30),
            ("old-expired", "0001", 60, 30),
            ("new", "0002", 0, 30),
            ("newer-unknown", "0099", 0, 30),
        ]
        for pid, (process, schema_head, ago, ttl) in enumerate(rows, start=100):
            _run(
                conn,
                "INSERT INTO process_heartbeats (process_id, role, app_version, schema_min, schema_head, host, pid,"
                " seen_at, ttl_seconds) VALUES (:p, 'worker', '0.0.9', '0001', :h, 'node-1', :pid,"
                " now() - make_interval(secs => :ago), :ttl)",
                p=process,
                h=schema_head,
                pid=pid,
                ago=ago,
                ttl=ttl,
            )
        since = chain.current(conn, "planted")
        found = chain.blockers(conn, "0003", since=since)
        assert [(b.process_id, b.role, b.app_version, b.pid, b.schema_head) for b in found] == [
            ("old-live", "worker", "0.0.9", 100, "0001")
        ]
        assert "worker 0.0.9 (pid 100 on node-1)" in found[0].needs and "contract 0003" in found[0].needs
        assert chain.blockers(conn, "0002", since=since) == []  # no contract on the way
        assert chain.blockers(conn, "0003", since="0003") == []  # already contracted


def test_the_heartbeat_tolerates_a_missing_table_and_deletes_its_row_on_stop(db, caplog):
    from psycopg_pool import AsyncConnectionPool

    from controlplane import heartbeat
    from controlplane.migrations import runner

    engine, url = db
    caplog.set_level(logging.DEBUG, logger="controlplane.heartbeat")

    async def scenario():
        async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False) as pool:
            await pool.open(wait=True)
            beat = heartbeat.Heartbeat(pool, role="api", interval=0.2, schema_head=runner.head())
            missing = [await beat.beat(), await beat.beat()]
            with engine.connect() as conn:
                runner.upgrade(conn)
            beat.start()
            await asyncio.sleep(0)  # the loop's first upsert
            for _ in range(100):
                with engine.connect() as conn:
                    row = _rows(
                        conn,
                        "SELECT role, schema_min, schema_head, ttl_seconds, pid FROM process_heartbeats"
                        " WHERE process_id = :p",
                        p=beat.process_id,
                    )
                if row:
                    break
                await asyncio.sleep(0.05)
            await beat.stop()
            with engine.connect() as conn:
                left = _rows(conn, "SELECT count(*) FROM process_heartbeats")
            return missing, row, left, beat.pid

    missing, row, left, pid = asyncio.run(scenario())
    assert missing == [False, False]
    assert [r.getMessage() for r in caplog.records if r.name == "controlplane.heartbeat"] == [
        "heartbeat: no process_heartbeats table yet (schema before revision 0002)"
    ]  # once, at debug
    assert row == [("api", heartbeat.SCHEMA_MIN, runner.head(), pytest.approx(0.6), pid)]
    assert left == [(0,)]


def test_migrate_leaves_a_database_of_a_newer_version_alone_in_expand_and_refuses_contract(db):
    """An older release's migration Job (a rollback of the application) finds a revision it does not know."""
    from controlplane import migrate
    from controlplane.migrations import runner

    engine, url = db
    with engine.connect() as conn:
        runner.upgrade(conn)
        _run(conn, "UPDATE alembic_version SET version_num = '0099'")
    assert migrate._apply({"conninfo": url}, "expand", None) == migrate.Migrated(revision="0099", applied=[])
    with pytest.raises(runner.UnknownRevision, match="'0099' is not in this code's migrations"):
        migrate._apply({"conninfo": url}, "contract", None)
