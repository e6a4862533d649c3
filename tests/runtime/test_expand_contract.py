"""The expand → code change → contract sequence of the runs.error → error_message rename, with real processes.

In a fresh database of the stack's PostgreSQL (same OpenBao, Temporal and S3 as the `stack` fixture):
1. expand: `migrate` takes the database to 0003 (error and error_message, kept in sync by a trigger);
2. the OLD application (the runtime of the commit before revision 0003 was added, taken from git) and the NEW one
   (this checkout) run side by side as `python -m controlplane.api` processes; a run failed by either version's
   own code path (its activities and store) is read with its error through both APIs;
3. contract is refused while the old process runs: runner.blockers names it (role, version, pid) and
   `python -m controlplane.migrate --phase contract` exits 1 naming it;
4. the old process stops gracefully (its heartbeat row goes with it); contract succeeds; the new one still works.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import httpx
import pytest

from tests.runtime.conftest import WAIT_S, create_database, drop_database, wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RENAME = "src/controlplane/migrations/versions/0003*"  # the expand half of the rename
HEARTBEAT_SECONDS = "0.5"

WRITER = Path(__file__).with_name("expand_contract_writer.py")  # a failed run through a runtime's own code


def _old_source(into: Path) -> Path:
    """src/ of the application before the rename: the parent of the commit that added revision 0003."""
    git = shutil.which("git")
    missing = (
        "needs the git history of this checkout: the old application version is the parent of the commit that "
        f"added {RENAME} (a shallow clone? `git fetch --unshallow`)"
    )
    if git is None:
        pytest.fail(f"git is not installed: this test {missing}")
    log = subprocess.run(
        [git, "-C", str(REPO), "log", "--diff-filter=A", "--format=%H", "--", RENAME],
        capture_output=True,
        text=True,
        check=False,
    )
    added = log.stdout.split()
    if log.returncode != 0 or not added:
        pytest.fail(f"no commit adds {RENAME} in git log ({log.stderr.strip() or 'empty'}); this test {missing}")
    old = f"{added[-1]}^"
    archive = subprocess.run(
        [git, "-C", str(REPO), "archive", "--format=tar", old, "src/controlplane"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        pytest.fail(f"git archive {old} failed: {archive.stderr.decode(errors='replace').strip()}; this test {missing}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    versions = into / "src/controlplane/migrations/versions"
    assert [p.name[:4] for p in sorted(versions.glob("[0-9]*.py"))] == ["0001", "0002"], f"{old} is not the old app"
    return into / "src"


def _env(stack, db_name: str, src: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTROLPLANE_", "VAULT_", "OTEL_"))}
    return (
        env
        | stack.env
        | {
            "PYTHONPATH": str(src),
            "CONTROLPLANE_DB_NAME": db_name,
            "CONTROLPLANE_HEARTBEAT_SECONDS": HEARTBEAT_SECONDS,
            "CONTROLPLANE_LOG_LEVEL": "INFO",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        }
        | extra
    )


def _fail_run_old(env: dict[str, str], cwd: Path, run_id: str, reason: str) -> subprocess.Popen:
    """WRITER on the old version's PYTHONPATH (env), started; wait() for its end."""
    return subprocess.Popen(
        [sys.executable, str(WRITER), run_id, reason],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _fail_run_new(settings, run_id: str, reason: str) -> None:
    """WRITER with this checkout's code, in this process."""
    from tests.runtime.expand_contract_writer import fail_run

    asyncio.run(fail_run(settings, run_id, reason))


def _migrate(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "controlplane.migrate", "--wait", "10", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _error(url: str, run_id: str) -> tuple[str, str | None]:
    body = httpx.get(f"{url}/v1/tenants/acme/runs/{run_id}", timeout=10, trust_env=False).json()
    assert body["source"] == "database", body
    return body["status"], body["error"]


def test_old_and_new_code_share_the_expanded_schema_and_contract_waits_for_the_old_one(stack, tmp_path):
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from controlplane.migrate import migrate
    from controlplane.migrations import runner
    from infractl.adapters import localservices as ls

    old_src, new_src = _old_source(tmp_path / "old"), REPO / "src"
    name = create_database(stack.admin_url, "expand_contract", owner=stack.settings.db_user)
    engine = create_engine(
        stack.admin_url.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + name,
        poolclass=NullPool,
    )
    apis: dict[str, object] = {}
    try:
        # 1. expand
        fresh = stack.settings.model_copy(update={"db_name": name})
        done = asyncio.run(migrate(fresh, wait=WAIT_S))
        assert (done.revision, done.applied) == ("0003", ["0001", "0002", "0003"])

        # 2. the old and the new api, side by side on the expanded schema
        envs = {"old": _env(stack, name, old_src), "new": _env(stack, name, new_src)}
        for version in ("old", "new"):
            port = ls.free_port()
            apis[version] = ls.start_process(
                f"api-{version}",
                [sys.executable, "-m", "controlplane.api"],
                envs[version] | {"CONTROLPLANE_API_PORT": str(port), "OTEL_SERVICE_NAME": f"api-{version}"},
                tmp_path,
                port,
                f"http://127.0.0.1:{port}/livez",
                wait=None,
                cwd=tmp_path,
            )
        for running in apis.values():
            ls.wait_healthy(running, WAIT_S)
        old, new = apis["old"], apis["new"]
        runs = {"old": str(uuid.uuid4()), "new": str(uuid.uuid4())}
        writer = _fail_run_old(envs["old"], tmp_path, runs["old"], "failed by the old version")
        _fail_run_new(fresh, runs["new"], "failed by the new version")
        assert writer.wait(60) == 0, writer.communicate()[0]
        for reader in (old, new):
            for writer in ("old", "new"):
                assert _error(reader.url, runs[writer]) == ("failed", f"failed by the {writer} version")

        # both record their schema range; only the old one blocks the contract
        def heartbeats() -> dict[int, tuple]:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT pid, role, schema_min, schema_head FROM process_heartbeats"))
                return {r[0]: tuple(r[1:]) for r in rows}

        wait_for(lambda: {old.pid, new.pid} <= set(heartbeats()), WAIT_S, "both apis' heartbeats")
        beats = heartbeats()
        assert beats[old.pid] == ("api", "0001", "0002") and beats[new.pid] == ("api", "0003", "0005")
        with engine.connect() as conn:
            blocking = runner.blockers(conn, "0004")
        assert [(b.role, b.app_version, b.pid) for b in blocking] == [("api", "0.1.0", old.pid)]
        assert "contract 0004" in blocking[0].needs

        # 3. contract refused while the old one runs, naming it
        refused = _migrate(envs["new"], tmp_path, "--phase", "contract")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "contract to 0005 refused" in refused.stderr  # head: 0004, then the ledger's expand 0005
        assert f"api 0.1.0 pid {old.pid} on " in refused.stderr, refused.stderr
        with engine.connect() as conn:
            assert runner.current(conn) == "0003"

        # 4. the old one stops gracefully and takes its heartbeat with it; contract goes through
        assert ls.stop(old) == []
        assert old.pid not in heartbeats()
        contracted = asyncio.run(migrate(fresh, wait=WAIT_S, phase="contract"))
        assert (contracted.revision, contracted.applied) == ("0005", ["0004", "0005"])
        with engine.connect() as conn:
            assert runner.current(conn) == "0005" and runner.blockers(conn, "0005") == []
            columns = conn.execute(text("SELECT column_name FROM information_schema.columns WHERE table_name = 'runs'"))
            assert "error" not in {r[0] for r in columns}

        # the new code keeps reading and writing on the contracted schema
        runs["after"] = str(uuid.uuid4())
        _fail_run_new(fresh, runs["after"], "failed after the contract")
        assert _error(new.url, runs["old"]) == ("failed", "failed by the old version")
        assert _error(new.url, runs["after"]) == ("failed", "failed after the contract")
    finally:
        for running in apis.values():
            ls.stop(running)
        engine.dispose()
        drop_database(stack.admin_url, name)
