"""The DR drill's database part on a real dev stack (native mode: PostgreSQL archiving WAL, OpenBao, Temporal, the
emulator as S3, the api): a base backup, a write load, a simulated loss, the restore into a new instance, RPO and RTO
measured, the api ready on the restored database; a planted missing WAL segment fails it with the segment named; the
RDS path on the emulator (moto, with infractl's patches)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infractl.adapters import aws, pg, pgarchive
from infractl.adapters import localservices as ls
from infractl.models.environment import Recovery
from infractl.services.dev import statefile
from infractl.services.drill import database
from tests import dev_stack

pytestmark = pytest.mark.integration

TARGETS = Recovery(rpo_minutes=5, rto_minutes=15)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A dev stack (native) in its own work folder, stopped and purged after the module."""
    work = tmp_path_factory.mktemp("drill-db") / "work"
    with dev_stack.running(work):
        yield work
    assert not (statefile.dev_dir(work) / "wal-archive").exists(), "dev down --purge leaves the WAL archive"


def _app_counts(server: pg.PgServer) -> dict[str, int]:
    """Rows per table of the source's app database; process_heartbeats aside: the dev stack's own api and worker
    write there on their own."""
    with pg.connect(server, "controlplane") as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        return {
            f"{s}.{t}": conn.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0]
            for s, t in tables
            if t != "process_heartbeats"
        }


def _step(result, name: str):
    return next(s for s in result.steps if s.name == f"database.{name}")


def test_drill_restores_into_a_new_instance_and_measures_rpo_and_rto(work, tmp_path):
    dev = database.dev_target(work)
    before = _app_counts(dev.server)
    # the first run as `drill dr` calls it (the work folder), the second with the DevTarget
    source: Path | database.DevTarget = work
    messages: list[str] = []
    for run in (1, 2):  # a second run works the same (idempotent)
        result = database.local(
            source, work=tmp_path / "drill", targets=TARGETS, progress=messages.append, load_seconds=2.0
        )
        source = dev
        assert result.passed, [s.model_dump() for s in result.steps if s.status == "failed"]
        names = [s.name.split(".", 1)[1] for s in result.steps]
        assert names == ["archiving", "base-backup", "load", "loss", "archive-check", "restore", "verify", "app"]
        verify = _step(result, "verify").facts
        committed = _step(result, "loss").facts["committed"]
        assert verify["committed"] == committed > 0
        assert 0 <= verify["lost"] <= committed
        assert (verify["lost"] == 0) == (verify["window_seconds"] == 0)
        rpo, rto = result.measures
        assert rpo.name == "rpo" and rpo.scope == "database" and rpo.measured_seconds == verify["window_seconds"]
        assert rto.name == "rto" and rto.measured_seconds > 0 and rto.passed is not None
        # the load's WAL switches were archived: each switch that closed a segment (a switch with no WAL written
        # since the last one does nothing and returns the same position: a starved writer on a loaded machine)
        closed = len(set(_step(result, "load").facts["switched"]))
        assert closed >= 1 and _step(result, "archive-check").facts["segments"] >= closed
        # nothing left: the restored instance and the api are stopped, their ports free, the drill's data gone
        restored_port = _step(result, "restore").facts["port"]
        assert ls.port_is_free(restored_port), f"run {run}: the restored PostgreSQL still listens"
        assert not (tmp_path / "drill" / "database").exists()
    assert _app_counts(dev.server) == before, "the drill touched the source's controlplane data"
    with pg.connect(dev.server, "postgres") as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'infractl_drill'").fetchone() is None


def test_a_missing_wal_segment_fails_the_drill_at_the_archive_check(work, tmp_path, monkeypatch):
    dev = database.dev_target(work)
    planted: list[str] = []
    freeze = pgarchive.freeze

    def freeze_losing_one(archive: Path, dest: Path) -> list[str]:
        names = freeze(archive, dest)
        segments = pgarchive.archive_segments(dest)
        victim = segments[-2]  # one before the newest: a gap, not a shorter archive
        (dest / f"{victim}.gz").unlink()
        planted.append(victim)
        return names

    monkeypatch.setattr(pgarchive, "freeze", freeze_losing_one)
    result = database.local(dev, work=tmp_path / "drill", targets=TARGETS, progress=lambda _m: None, load_seconds=1.5)
    assert not result.passed
    failed = [s for s in result.steps if s.status == "failed"]
    assert [s.name for s in failed] == ["database.archive-check"]
    assert planted[0] in failed[0].reason and "missing from the archive" in failed[0].reason
    assert failed[0].facts["missing"] == planted
    assert result.steps[-1].name == "database.archive-check"  # nothing restored after it
    assert not result.measures


def test_the_dev_stack_must_be_running(tmp_path):
    from infractl.errors import UsageError

    with pytest.raises(UsageError, match="not running"):
        database.dev_target(tmp_path)


# --- RDS on the emulator ---------------------------------------------------------------------------------------------


@pytest.fixture
def emulator(tmp_path):
    r = ls.start_moto_s3(tmp_path / "emulator", ls.free_port())
    try:
        fake = "testing"  # pragma: allowlist secret
        yield aws.AwsTarget(region="eu-west-1", endpoint_url=r.url, access_key=fake, secret_key=fake)
    finally:
        ls.stop(r)


def test_rds_point_in_time_restore_on_the_emulator(emulator):
    rds = emulator.client("rds")
    subnets = [s["SubnetId"] for s in emulator.client("ec2").describe_subnets()["Subnets"][:2]]
    rds.create_db_subnet_group(DBSubnetGroupName="data", DBSubnetGroupDescription="data", SubnetIds=subnets)
    rds.create_db_instance(
        DBInstanceIdentifier="dev-db",
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="app",
        MasterUserPassword="emulator-password-1",  # pragma: allowlist secret
        BackupRetentionPeriod=7,
        DBSubnetGroupName="data",
        DeletionProtection=True,
        Tags=[{"Key": "env", "Value": "dev"}],
    )
    result = database.rds(rds, instance_id="dev-db", progress=lambda _m: None, emulator=True, targets=TARGETS)
    assert result.passed, [s.model_dump() for s in result.steps]
    assert [s.name for s in result.steps] == [
        "database-rds.restorable",
        "database-rds.restore",
        "database-rds.available",
        "database-rds.cleanup",
    ]
    assert database.EMULATOR_NOTE in result.notes
    assert not result.measures  # timings on the emulator are not measures
    left = [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]]
    assert left == ["dev-db"]  # the copy is gone (its deletion protection off), the source untouched


def test_rds_without_backups_is_not_restorable(emulator):
    rds = emulator.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="nobackup",
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="app",
        MasterUserPassword="emulator-password-1",  # pragma: allowlist secret
        BackupRetentionPeriod=0,
    )
    result = database.rds(emulator, instance_id="nobackup", progress=lambda _m: None, emulator=True)
    assert [(s.name, s.status) for s in result.steps] == [("database-rds.restorable", "failed")]
    assert "backup retention 0" in result.steps[0].reason
