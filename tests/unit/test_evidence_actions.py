"""infractl's own actions as evidence, without engines: the local queue (durable files, oldest first, never lost on a
failed flush, nothing appended twice), what an entry may say (no secret values in its command line) and the hook
(one entry per run of a changing command, its exit code unchanged, nothing for a refused or read-only one)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer

from infractl.cli import common
from infractl.errors import CloudError, ConfigError, UsageError
from infractl.models.evidence_actions import Action
from infractl.services.evidence import actions, queue


def action(n: int, env: str = "dev") -> Action:
    return Action(id=f"{n:032x}", env=env, kind="infractl.apply", actor="ci@host", at=f"2026-01-01T00:00:0{n}.000000Z")


@dataclass
class FakeLedger:
    """The ledger's append as record.record behaves: idempotent by ref, all or nothing."""

    env: str = "dev"
    refs: list[str] = field(default_factory=list)
    fail: bool = False

    def record(self, _ledger: Any, _conn: Any, records: Any) -> Any:
        records = list(records)
        if self.fail:
            raise CloudError("connection lost")
        existing = sum(r.ref in self.refs for r in records)
        self.refs += [r.ref for r in records if r.ref not in self.refs]
        entries = [SimpleNamespace(seq=self.refs.index(r.ref) + 1) for r in records]
        return SimpleNamespace(entries=entries, existing=existing)


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> FakeLedger:
    from infractl.services.evidence import record

    fake = FakeLedger()
    monkeypatch.setattr(record, "record", fake.record)
    return fake


# -- the queue


def test_a_queued_action_is_one_whole_private_file_and_nothing_else(tmp_path: Path) -> None:
    path = queue.put(tmp_path / "q", action(1), 5)
    assert [p.name for p in (tmp_path / "q").iterdir()] == [path.name]  # no temporary file left behind
    assert path.name == f"{5:020d}-{action(1).id}.json"
    assert queue.read(path) == action(1)
    assert (tmp_path / "q").stat().st_mode & 0o077 == 0


def test_the_queue_is_read_oldest_first_and_skips_writes_in_progress(tmp_path: Path) -> None:
    directory = tmp_path / "q"
    for n, finished in ((3, 300), (1, 100), (2, 200)):
        queue.put(directory, action(n), finished)
    (directory / ".tmp-abc.json").write_text("{")  # a write interrupted before its rename
    assert [queue.read(p).id for p in queue.pending(directory)] == [action(n).id for n in (1, 2, 3)]  # type: ignore[union-attr]


def test_a_failed_flush_loses_nothing_and_a_repeated_one_appends_nothing_twice(
    tmp_path: Path, ledger: FakeLedger
) -> None:
    directory = tmp_path / "q"
    for n in (1, 2):
        queue.put(directory, action(n), n)
    ledger.fail = True
    with pytest.raises(CloudError):
        actions.flush_queued(ledger, None, directory)
    assert len(queue.pending(directory)) == 2 and ledger.refs == []
    ledger.fail = False
    first = queue.pending(directory)[0]
    saved = first.read_bytes()
    done = actions.flush_queued(ledger, None, directory)
    assert (done.appended, done.existing, done.waiting, done.seqs) == (2, 0, 0, [1, 2])
    assert ledger.refs == [f"action:{action(1).id}", f"action:{action(2).id}"]  # oldest first
    first.write_bytes(saved)  # as if the flush had died after its append, before removing the file
    again = actions.flush_queued(ledger, None, directory)
    assert (again.appended, again.existing) == (0, 1) and len(ledger.refs) == 2 and not queue.pending(directory)


def test_a_file_that_is_not_an_action_is_kept_and_reported(tmp_path: Path, ledger: FakeLedger) -> None:
    directory = tmp_path / "q"
    queue.put(directory, action(1), 1)
    queue.put(directory, action(2, env="prod"), 2)  # another env's: never appended to this one
    (directory / "00000000000000000003-x.json").write_text("not json")
    done = actions.flush_queued(ledger, None, directory)
    assert done.appended == 1 and done.waiting == 2 and len(done.unreadable) == 2


def test_an_unreachable_ledger_queues_and_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from infractl.services.evidence import access

    def refuse(_ctx: Any, env: str, **_kw: Any) -> Any:
        raise CloudError(f"cannot connect to postgresql://admin:hunter2@db:5432/{env}")  # pragma: allowlist secret

    monkeypatch.setattr(access, "open_ledger", refuse)
    ctx = SimpleNamespace(project=SimpleNamespace(work_dir=tmp_path))
    first = actions.deliver(ctx, action(1))
    second = actions.deliver(ctx, action(2))
    assert first.queued and not first.appended and second.waiting == 2
    (line,) = actions.report_lines([second])
    assert line.startswith("evidence: the ledger of dev is not reachable (cannot connect to postgresql://admin:***@")
    assert "hunter2" not in line and "action queued (2 waiting) in " + str(tmp_path / "evidence-queue" / "dev") in line


# -- what an entry says


def test_the_command_line_never_holds_a_secret_value() -> None:
    argv = actions.command_line(
        ["infractl", "deploy"],
        [
            actions.Param(None, "staging"),
            actions.Param("--password", "hunter2"),  # pragma: allowlist secret
            actions.Param("--vault-token", "s.abc"),
            actions.Param("--db-url", "postgresql://app:pw@db/x"),  # pragma: allowlist secret
            actions.Param("--signing-key-passphrase", "p"),
            actions.Param("--prompted", "typed", secret=True),  # a hidden input
            actions.Param("--show-secrets", True, flag=True),  # a flag's value is no secret
            actions.Param("--stack", ["network", "data"]),
            actions.Param("--yes", False, flag=True),
        ],
    )
    assert argv == [
        "infractl", "deploy", "staging", "--password", "***", "--vault-token", "***", "--db-url",
        "postgresql://app:***@db/x", "--signing-key-passphrase", "***", "--prompted", "***", "--show-secrets",
        "--stack", "network", "--stack", "data",
    ]  # fmt: skip


def test_the_actor_names_the_ci_run_when_there_is_one() -> None:
    local = actions.actor({})
    assert "@" in local and "(" not in local
    ci = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octo", "GITHUB_RUN_ID": "42", "GITHUB_REPOSITORY": "o/r"}
    assert actions.actor(ci).endswith("(github:octo, run o/r/42)")
    assert actions.ci(ci) == {"actor": "octo", "run_id": "42", "repository": "o/r"}


# -- the hook


@pytest.fixture
def hooked(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A small app of recorded commands; what the hook would record, instead of recording it."""
    seen: list[dict[str, Any]] = []

    def capture(command: str, kwargs: Any, facts: Any, env: Any, tenant: Any, offline: Any, argv: Any, code: int,
                error: Any, started: float) -> None:  # fmt: skip
        seen.append({"command": command, "argv": argv, "code": code, "error": error, "facts": dict(facts)})

    monkeypatch.setattr(common, "_record", capture)
    return seen


def run(app: typer.Typer, *args: str) -> int:
    from infractl.cli import main as main_module
    from infractl.cli.main import main

    saved = main_module.app
    main_module.app = app
    try:
        return main(list(args))
    finally:
        main_module.app = saved


def test_the_hook_records_every_outcome_with_the_commands_exit_code(hooked: list[dict[str, Any]]) -> None:
    app = typer.Typer()

    @app.command()
    @common.recorded("change", skip=lambda a: a["dry_run"])
    def change(
        env: str,
        password: str = typer.Option("", "--password"),
        code: int = typer.Option(0, "--code"),
        fail: str = typer.Option("", "--fail"),
        dry_run: bool = typer.Option(False, "--dry-run"),
    ) -> None:
        common.note(plans={"network": "ab" * 32})
        if fail == "config":
            raise ConfigError("environments/dev.yaml: bad")
        if fail == "usage":
            raise UsageError("refused before anything ran")
        if code:
            raise typer.Exit(code)

    @app.command()
    def read(env: str) -> None:
        pass

    assert run(app, "change", "dev", "--password", "hunter2") == 0  # pragma: allowlist secret
    assert run(app, "change", "dev", "--code", "4") == 4
    assert run(app, "change", "dev", "--fail", "config") == 3
    assert run(app, "change", "dev", "--fail", "usage") == 2  # refused: nothing recorded
    assert run(app, "change", "dev", "--dry-run") == 0  # changes nothing: nothing recorded
    assert run(app, "read", "dev") == 0
    assert [(s["code"], s["error"]) for s in hooked] == [(0, None), (4, None), (3, "environments/dev.yaml: bad")]
    assert hooked[0]["argv"] == ["infractl", "change", "dev", "--password", "***"]
    assert hooked[0]["facts"] == {"plans": {"network": "ab" * 32}}
    assert all("hunter2" not in json.dumps(s) for s in hooked)


def test_a_recorded_command_keeps_its_help_and_parameters() -> None:
    from typer.testing import CliRunner

    from infractl.cli.main import app

    text = CliRunner().invoke(app, ["tenant", "create", "--help"]).output
    assert "--tier" in text and "evidence" not in text


def test_an_offline_command_queues_an_action_per_env_it_covered_without_reaching_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil
    import time

    from tests.conftest import REPO

    from infractl.services.evidence import access

    root = tmp_path / "project"
    shutil.copytree(REPO / "environments", root / "environments")
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.delenv("INFRACTL_EMULATE", raising=False)
    monkeypatch.setattr(common.GLOBALS, "root", root)
    monkeypatch.setattr(access, "open_ledger", lambda *_a, **_k: pytest.fail("validate reached a cloud ledger"))
    facts = {"envs": ["dev", "prod", "../dev", "nope"], "report_sha256": "ab" * 32}
    common._record("validate", {"env": None}, facts, "env", None, True, ["infractl", "validate"], 1, None, time.time())
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("evidence: the ledgers of dev, prod are not reachable (validate runs without cloud")
    for env in ("dev", "prod"):
        (path,) = queue.pending(queue.folder(tmp_path / "work", env))
        queued = queue.read(path)
        assert queued is not None and queued.kind == "infractl.validate" and queued.env == env
        assert queued.attributes["report_sha256"] == "ab" * 32 and queued.attributes["result"] == "failure"
    assert sorted(p.name for p in (tmp_path / "work" / "evidence-queue").iterdir()) == ["dev", "prod"]
