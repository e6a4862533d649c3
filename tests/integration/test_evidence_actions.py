"""infractl's own actions as evidence, on real engines (docs/evidence.md#infractls-own-actions): a command that
changes an environment (`tenant create`, the cheapest) appends one entry to the ledger of the dev stack (its
PostgreSQL, OpenBao transit, S3); with the ledger away the command says so in one line, keeps its exit code and
queues the action; `evidence flush` appends the queue once, oldest first."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import typer

from infractl.errors import CloudError
from infractl.services.evidence import access, queue

pytestmark = pytest.mark.integration


def _json(value: object) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value)  # type: ignore[arg-type]


class Stack:
    def __init__(self, root: Path, work: Path, port: int) -> None:
        self.root, self.work, self.port = root, work, port

    def entries(self, kind: str, tenant: str) -> list[tuple[int, str, dict]]:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="controlplane") as conn:
            rows = conn.execute(
                "SELECT seq, ref, attributes, object_key FROM evidence_entries WHERE kind = %s AND tenant = %s"
                " ORDER BY seq",
                (kind, tenant),
            ).fetchall()
        return [(seq, ref, {**_json(attrs), "_key": key}) for seq, ref, attrs, key in rows]

    def queued(self) -> list[Path]:
        return queue.pending(queue.folder(self.work, "dev"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from tests.tenant_stack import local_tenant_stack

    with local_tenant_stack(tmp_path_factory.mktemp("evidence-actions"), ()) as local:
        yield Stack(local.root, local.work, local.ports["postgres"])


@pytest.fixture
def away(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger is not reachable (as when its database refuses connections); the tenant engines still are."""

    def refuse(_ctx, env, **_kw):
        raise CloudError(f"cannot connect to the ledger of {env} at 127.0.0.1:1: connection refused")

    monkeypatch.setattr(access, "open_ledger", refuse)


def test_a_changing_command_appends_one_entry(stack: Stack, invoke) -> None:
    invoke("tenant", "create", "dev", "acme", "--tier", "B", "--emulate", root=stack.root)
    (entry,) = stack.entries("infractl.tenant.create", "acme")
    _, ref, attributes = entry
    assert ref == f"action:{attributes['action']}"
    assert attributes["command"] == [
        "infractl",
        "--root",
        str(stack.root),
        "tenant",
        "create",
        "dev",
        "acme",
        "--tier",
        "B",
        "--emulate",
    ]
    assert attributes["result"] == "ok" and attributes["env"] == "dev" and attributes["_key"].endswith(".json")
    assert not stack.queued()
    # read-only commands append nothing
    invoke("tenant", "show", "dev", "acme", "--emulate", root=stack.root)
    assert len(stack.entries("infractl.tenant.create", "acme")) == 1 and not stack.entries(
        "infractl.tenant.show", "acme"
    )


def test_with_the_ledger_away_actions_are_queued_then_flushed_once(
    stack: Stack, invoke, away, monkeypatch, capsys
) -> None:
    ok = invoke("tenant", "create", "dev", "beta", "--tier", "A", "--emulate", root=stack.root)
    line = [x for x in ok.stderr.splitlines() if x.startswith("evidence:")]
    assert len(line) == 1 and "the ledger of dev is not reachable (cannot connect" in line[0]
    assert "action queued (1 waiting)" in line[0] and str(queue.folder(stack.work, "dev")) in line[0]
    failed = invoke("tenant", "create", "dev", "beta", "--tier", "A", "--emulate", root=stack.root, code=9)
    assert "action queued (2 waiting)" in failed.stderr  # the command's own exit code (9: it exists) unchanged
    assert not stack.entries("infractl.tenant.create", "beta")
    files = stack.queued()
    first, second = (json.loads(p.read_text()) for p in files)
    assert first["attributes"]["result"] == "ok" and second["attributes"]["result"] == "conflict"

    monkeypatch.undo()  # the ledger is back
    keep = files[0].with_name("copy")
    shutil.copy(files[0], keep)
    result = _flush_json(stack, invoke, capsys)
    assert result["appended"] == 2 and result["existing"] == 0 and result["waiting"] == 0
    seqs = [seq for seq, _, _ in stack.entries("infractl.tenant.create", "beta")]
    assert seqs == result["seqs"] and seqs == sorted(seqs)  # oldest first
    times = [a["at"] for _, _, a in stack.entries("infractl.tenant.create", "beta")]
    assert times == [first["at"], second["at"]]  # their original times
    assert not stack.queued()

    shutil.move(keep, files[0])  # a flush interrupted after its append, before removing the file: re-run
    again = _flush_json(stack, invoke, capsys)
    assert again["appended"] == 0 and again["existing"] == 1 and not stack.queued()
    assert len(stack.entries("infractl.tenant.create", "beta")) == 2  # never appended twice


def _flush_json(stack: Stack, invoke, capsys) -> dict:
    from infractl.cli import evidence_queue
    from infractl.cli.main import app

    group = typer.Typer()
    group.command("flush")(evidence_queue.flush)
    app.add_typer(group, name="evidence")
    try:
        return json.loads(invoke("evidence", "flush", "dev", "--emulate", "--json", root=stack.root).stdout)
    finally:
        app.registered_groups.pop()


def test_an_action_the_ledger_refuses_stays_queued_and_blocks_no_other(
    stack: Stack, invoke, away, monkeypatch, capsys
) -> None:
    """A queued action no ledger can take (an old infractl wrote an invalid kind) is kept and reported; the
    actions queued beside it are appended."""
    invoke("tenant", "create", "dev", "gamma", "--tier", "A", "--emulate", root=stack.root)
    invoke("tenant", "create", "dev", "gamma", "--tier", "A", "--emulate", root=stack.root, code=9)
    bad, good = stack.queued()
    action = json.loads(bad.read_text())
    action["kind"] = "infractl.tenant create"  # a space: not lower-case words, dots and dashes
    bad.write_text(json.dumps(action))

    monkeypatch.undo()
    result = _flush_json(stack, invoke, capsys)
    assert result["appended"] == 1 and result["unreadable"] == [bad.name] and result["waiting"] == 1
    assert stack.queued() == [bad] and not good.exists()
    assert [a["result"] for _, _, a in stack.entries("infractl.tenant.create", "gamma")] == ["conflict"]
    bad.unlink()
