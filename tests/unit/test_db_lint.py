"""`infractl db lint`: the repository's revisions pass; planted destructive expands, missing down paths and broken
chains fail with file and line; every rule is documented (docs/migrations.md)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from tests.conftest import REPO

from infractl.errors import GateFailed
from infractl.services.db import lint, sqlrules
from infractl.services.db.revfiles import Sql

VERSIONS = REPO / "src" / "controlplane" / "migrations" / "versions"


@pytest.fixture(autouse=True, scope="module")
def _db_command():
    """`infractl db` until cli/main.py registers it (then this does nothing)."""


def revision(rid: str, down: str | None, phase: str, upgrade: str, downgrade: str | None = "SELECT 1", **extra) -> str:
    """A revision file whose upgrade() SQL starts on line 12 (one statement per line)."""
    head = [
        f'"""revision {rid}"""',
        "from alembic import op",
        "",
        f"revision = {rid!r}",
        f"down_revision = {down!r}",
        f"phase = {phase!r}",
        f"completes = {extra.get('completes')!r}",
        f"irreversible = {extra.get('irreversible')!r}",
        "",
        "def upgrade():",
        '    op.execute("""',
    ]
    body = textwrap.indent(textwrap.dedent(upgrade).strip("\n"), "        ").splitlines()
    tail = ['    """)', "", ""]
    if downgrade is not None:
        tail += ["def downgrade():", f"    op.execute({downgrade!r})", ""]
    return "\n".join(head + body + tail)


@pytest.fixture
def versions(tmp_path: Path) -> Path:
    """A copy of the repository's revision files, to plant revisions in."""
    target = tmp_path / "versions"
    shutil.copytree(VERSIONS, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def head_of(directory: Path) -> str:
    return lint.check(REPO, directory).revisions[-1]


def findings(directory: Path) -> list[str]:
    with pytest.raises(GateFailed) as caught:
        lint.check(REPO, directory)
    assert caught.value.exit_code == 7
    return caught.value.details


def test_the_repository_migrations_pass_the_lint():
    report = lint.check(REPO)
    assert report.ok and report.findings == []
    assert report.revisions[:4] == ["0001", "0002", "0003", "0004"]
    assert report.directory == "src/controlplane/migrations/versions"


def test_a_destructive_expand_fails_with_its_file_and_line(versions):
    head = head_of(versions)
    nxt = f"{int(head) + 1:04d}"
    planted = versions / f"{nxt}_planted.py"
    planted.write_text(
        revision(
            nxt,
            head,
            "expand",
            """
            ALTER TABLE runs ADD COLUMN IF NOT EXISTS note text;
            ALTER TABLE runs DROP COLUMN kind;
            UPDATE runs SET note = 'x' WHERE note IS NULL;
            DELETE FROM outbox;
            """,
        )
    )
    details = findings(versions)
    where = f"{planted.relative_to(REPO) if planted.is_relative_to(REPO) else planted}"
    assert (
        f"{where}:13: expand-drop-column: expand revision: drops column runs.kind: that is a contract step" in details
    )
    assert any(d.startswith(f"{where}:15: expand-delete-all:") for d in details)
    assert any(d.startswith(f"{where}:13: ban-drop-column:") for d in details)  # squawk agrees, same line
    assert not any(":12:" in d or ":14:" in d for d in details)  # the add and the backfill are fine


def test_the_same_change_as_a_contract_passes(versions):
    head = head_of(versions)
    nxt = f"{int(head) + 1:04d}"
    expand = f"{int(head) + 2:04d}"
    (versions / f"{nxt}_add.py").write_text(
        revision(
            nxt,
            head,
            "expand",
            "ALTER TABLE runs ADD COLUMN IF NOT EXISTS note text;",
            "ALTER TABLE runs DROP COLUMN note",
        )
    )
    (versions / f"{expand}_drop.py").write_text(
        revision(expand, nxt, "contract", "ALTER TABLE runs DROP COLUMN IF EXISTS note;", completes=nxt)
    )
    assert lint.check(REPO, versions).ok


def test_a_missing_or_empty_downgrade_fails(versions):
    head = head_of(versions)
    a, b = f"{int(head) + 1:04d}", f"{int(head) + 2:04d}"
    (versions / f"{a}_nodown.py").write_text(revision(a, head, "expand", "SELECT 1;", downgrade=None))
    (versions / f"{b}_pass.py").write_text(
        revision(b, a, "expand", "SELECT 1;", downgrade=None) + "def downgrade():\n    pass\n"
    )
    details = findings(versions)
    assert any(f"{a}_nodown.py:1: down-path: defines no downgrade()" in d for d in details)
    assert any(f"{b}_pass.py:15: down-path: downgrade() does nothing" in d for d in details)
    # an irreversible revision with its reason needs none
    (versions / f"{a}_nodown.py").write_text(
        revision(a, head, "expand", "SELECT 1;", downgrade=None, irreversible="it moves data one way")
    )
    (versions / f"{b}_pass.py").unlink()
    assert lint.check(REPO, versions).ok


def test_the_chain_and_the_declarations(tmp_path):
    d = tmp_path / "v"
    d.mkdir()
    (d / "0001_a.py").write_text(revision("0001", None, "expand", "CREATE TABLE IF NOT EXISTS t (id uuid);"))
    (d / "0002_b.py").write_text(revision("0002", "0001", "contract", "SELECT 1;", completes="0001"))
    (d / "0003_c.py").write_text(revision("0002", "0001", "contract", "SELECT 1;"))  # duplicate id
    (d / "0004_d.py").write_text(revision("0004", "0001", "sideways", "SELECT 1;"))  # a branch, no phase
    (d / "0005_e.py").write_text(revision("0005", "0009", "expand", "SELECT 1;", completes="0001"))
    details = "\n".join(findings(d))
    assert "0003_c.py:4: duplicate-revision: 0002 is also declared by 0002_b.py" in details
    assert "0004_d.py:6: phase: phase 'sideways' is neither expand nor contract" in details
    assert "0002_b.py:5: chain: 0002, 0004 all follow 0001" in details
    assert "0005_e.py:5: chain: down_revision '0009' is no revision here" in details
    assert "0005_e.py:7: contract-completes: an expand revision completes nothing" in details


def test_a_contract_completes_an_earlier_expand(tmp_path):
    d = tmp_path / "v"
    d.mkdir()
    (d / "0001_a.py").write_text(revision("0001", None, "expand", "CREATE TABLE IF NOT EXISTS t (id uuid);"))
    (d / "0002_b.py").write_text(revision("0002", "0001", "contract", "SELECT 1;"))
    (d / "0003_c.py").write_text(revision("0003", "0002", "contract", "SELECT 1;", completes="0002"))
    (d / "0004_d.py").write_text(revision("0004", "0003", "contract", "SELECT 1;", completes="0007"))
    details = "\n".join(findings(d))
    assert "0002_b.py:7: contract-completes: declares no completes" in details
    assert "0003_c.py:7: contract-completes: completes 0002, which is not an expand revision" in details
    assert "0004_d.py:7: contract-completes: completes '0007', which is no revision here" in details


def test_sql_the_lint_cannot_read_is_a_finding(tmp_path):
    d = tmp_path / "v"
    d.mkdir()
    down = 'def downgrade():\n    op.drop_column("t", "c")\n    op.execute(f"DROP TABLE {1}")\n'
    (d / "0001_a.py").write_text(revision("0001", None, "expand", "SELECT 1;", downgrade=None) + down)
    details = "\n".join(findings(d))
    assert "op-not-sql: downgrade() calls op.drop_column()" in details
    assert "sql-not-literal: downgrade(): op.execute() of something other than a string literal" in details


def test_squawk_findings_map_to_the_line_and_its_ignore_comment_waives_them(tmp_path):
    d = tmp_path / "v"
    d.mkdir()
    sql = """
    CREATE TABLE IF NOT EXISTS t (id uuid PRIMARY KEY, at timestamp);
    """
    (d / "0001_a.py").write_text(revision("0001", None, "expand", sql))
    details = findings(d)
    assert [x.split(": upgrade")[0] for x in details] == [f"{d / '0001_a.py'}:12: prefer-timestamp-tz"]
    waived = """
    -- squawk-ignore prefer-timestamp-tz
    CREATE TABLE IF NOT EXISTS t (id uuid PRIMARY KEY, at timestamp);
    """
    (d / "0001_a.py").write_text(revision("0001", None, "expand", waived))
    assert lint.check(REPO, d).ok


def test_sql_that_does_not_parse_is_placed_on_its_line(tmp_path):
    d = tmp_path / "v"
    d.mkdir()
    (d / "0001_a.py").write_text(revision("0001", None, "expand", "SELECT 1;\nSELEC 2;"))
    assert [x.split(": does")[0] for x in findings(d)] == [f"{d / '0001_a.py'}:13: sql-syntax: upgrade()"]


EXPAND_CASES = {
    "expand-drop-table": "DROP TABLE IF EXISTS runs",
    "expand-drop-schema": "DROP SCHEMA old CASCADE",
    "expand-drop-index": "DROP INDEX IF EXISTS runs_tenant_created_idx",
    "expand-drop-column": "ALTER TABLE runs DROP COLUMN error",
    "expand-drop-constraint": "ALTER TABLE runs DROP CONSTRAINT runs_pkey",
    "expand-drop-default": "ALTER TABLE runs ALTER COLUMN created_at DROP DEFAULT",
    "expand-drop-routine": "DROP FUNCTION IF EXISTS runs_sync()",
    "expand-drop-other": "DROP TYPE IF EXISTS mood",
    "expand-truncate": "TRUNCATE outbox",
    "expand-delete-all": "DELETE FROM outbox",
    "expand-alter-type": "ALTER TABLE runs ALTER COLUMN kind TYPE varchar(20)",
    "expand-rename": "ALTER TABLE runs RENAME COLUMN error TO error_message",
    "expand-set-not-null": "ALTER TABLE runs ALTER COLUMN error SET NOT NULL",
    "expand-add-required-column": "ALTER TABLE runs ADD COLUMN owner text NOT NULL",
    "expand-revoke": "REVOKE SELECT ON runs FROM PUBLIC",
}


@pytest.mark.parametrize("rule", sorted(sqlrules.EXPAND_RULES))
def test_each_expand_rule_catches_its_statement(rule):
    sql = Sql()
    sql.add(f"SELECT 1;\n{EXPAND_CASES[rule]};", [5, 6] + [6] * 200)
    problems = list(sqlrules.expand_findings(sqlrules.parse(sql).statements))
    assert [(p.line, p.rule) for p in problems] == [(6, rule)]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM outbox WHERE published_at < now() - interval '30 days'",
        "UPDATE runs SET error = 'x'",  # a backfill
        "ALTER TABLE runs ADD COLUMN note text NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN note text; ALTER TABLE runs ALTER COLUMN note SET NOT NULL",
        "CREATE TABLE t (id uuid); ALTER TABLE t ADD COLUMN n int NOT NULL; ALTER TABLE t DROP COLUMN id",
        "DROP TRIGGER IF EXISTS runs_sync ON runs; CREATE TRIGGER runs_sync BEFORE UPDATE ON runs"
        " FOR EACH ROW EXECUTE FUNCTION f()",
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE INDEX IF NOT EXISTS i ON runs (kind); DROP INDEX i",
        "GRANT SELECT ON runs TO PUBLIC",
    ],
)
def test_expand_allows_what_the_previous_version_does_not_notice(sql):
    text = Sql()
    text.add(sql, [1] * len(sql))
    assert list(sqlrules.expand_findings(sqlrules.parse(text).statements)) == []


def test_the_docs_list_every_rule_and_the_waiver():
    docs = (REPO / "docs" / "migrations.md").read_text()
    rules = [*sqlrules.EXPAND_RULES, *lint.STRUCTURE_RULES, *lint.SQUAWK_EXCLUDED, *lint.CONTRACT_ALLOWED]
    assert [r for r in rules if f"`{r}`" not in docs] == []
    assert "-- squawk-ignore" in docs and "squawk-ignore-file" in docs


def test_lint_through_the_cli(invoke, versions):
    ok = invoke("db", "lint", "--json", root=REPO)
    assert '"ok": true' in ok.stdout
    head = head_of(versions)
    nxt = f"{int(head) + 1:04d}"
    (versions / f"{nxt}_planted.py").write_text(revision(nxt, head, "expand", "TRUNCATE runs;"))
    failed = invoke("db", "lint", "--dir", str(versions), root=REPO, code=7)
    assert f"{nxt}_planted.py:12: expand-truncate: expand revision: TRUNCATE runs" in failed.stderr
