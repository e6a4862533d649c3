"""`infractl db lint`: the expand/contract discipline of the runtime's revision files, without a database
(docs/migrations.md#lint-rules).

Every file of the versions directory is read as text (revfiles.py: declarations, the SQL of upgrade() and
downgrade() with the file line of each character), then checked three ways:
- the chain (here): ids unique and linear, a phase per revision, a contract's `completes`, a down path or a reason;
- our SQL rules (sqlrules.py, Postgres' parser): the SQL parses; an expand upgrade() destroys nothing;
- squawk (its JSON reporter) on each upgrade()'s SQL, in a transaction as the runner runs it, its findings mapped
  back to the .py file and line. Waive one with squawk's own comment inside the SQL: `-- squawk-ignore RULE`.
Findings raise GateFailed (exit 7) as `file:line: rule: message` lines; the report rides on the error.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

from infractl.adapters import process
from infractl.adapters.migrations import VERSIONS_DIR
from infractl.errors import ConfigError, GateFailed
from infractl.models.migrations import LintFinding, LintReport
from infractl.services.db import revfiles, sqlrules
from infractl.services.db.revfiles import RevisionFile

REVISION_ID = re.compile(r"^[0-9]{4}$")
PHASES = ("expand", "contract")
PG_VERSION = "15"  # the oldest server the chain runs on (the dev stack; RDS runs 16)
# squawk rules not applied, and why (docs/migrations.md lists them)
SQUAWK_EXCLUDED: dict[str, str] = {
    "require-lock-timeout": "infractl sets lock_timeout on every target's session before the runner starts",
    "require-statement-timeout": "an expand's backfill may rightly run long; lock_timeout bounds what it blocks",
    "prefer-robust-stmts": "each revision runs in one transaction: a failure rolls all of it back, a re-run is clean",
    "prefer-bigint-over-int": "a column's width is a data-model choice (a pid, a counter), not a migration hazard",
    "prefer-bigint-over-smallint": "as prefer-bigint-over-int",
}
# squawk rules that guard the previous version's compatibility: a contract revision exists to break it (once the
# contract guard found no live process needing the old shape), so they do not apply to contract revisions
CONTRACT_ALLOWED: dict[str, str] = {
    rule: "a contract revision removes (or renames away) the old shape once no live process needs it"
    for rule in (
        "ban-drop-column",
        "ban-drop-constraint",
        "ban-drop-domain",
        "ban-drop-function",
        "ban-drop-generated-expression",
        "ban-drop-not-null",
        "ban-drop-sequence",
        "ban-drop-table",
        "ban-drop-type",
        "ban-drop-view",
        "ban-set-schema",
        "renaming-column",
        "renaming-object",
        "renaming-table",
    )
}
STRUCTURE_RULES: dict[str, str] = {
    "python-syntax": "the revision file is valid Python",
    "revision-id": "`revision` is declared: four digits",
    "duplicate-revision": "no two files declare the same revision id",
    "chain": "one base; every down_revision names a revision here; no branches or merges: one line base → head",
    "phase": 'every revision declares phase = "expand" or "contract"',
    "contract-completes": 'a contract declares completes = "<an earlier expand revision>"; an expand declares none',
    "down-path": 'a downgrade() that does something, or irreversible = "<reason>"',
    "upgrade": "an upgrade() is defined",
    "op-not-sql": "upgrade()/downgrade() change the schema only through op.execute(SQL)",
    "sql-not-literal": "op.execute() takes a string literal (or a module-level string constant), so it can be read",
    "sql-syntax": "the SQL parses (Postgres' own parser)",
}


def check(root: Path, directory: Path | None = None) -> LintReport:
    """Lint the revision files of `directory` (default: the project's src/controlplane/migrations/versions)."""
    started = time.monotonic()
    directory = (directory or root / VERSIONS_DIR).resolve()
    shown = _rel(root, directory)
    if not directory.is_dir():
        raise ConfigError(f"{shown}: no such directory", hint="the revision files live in " + str(VERSIONS_DIR))
    files = sorted(p for p in directory.glob("*.py") if p.name != "__init__.py")
    if not files:
        raise ConfigError(f"{shown}: no revision files (*.py)")
    revs = [revfiles.read(p) for p in files]
    findings: list[LintFinding] = []

    def add(rev: RevisionFile, line: int, rule: str, message: str, source: str = "infractl") -> None:
        findings.append(
            LintFinding(file=_rel(root, rev.path), line=line, rule=rule, message=message, source=source)  # type: ignore[arg-type]
        )

    for rev in revs:
        for p in rev.problems:
            add(rev, p.line, p.rule, p.message)
    order = _structure(revs, add)
    for rev in revs:
        for fn, sql in rev.sql.items():
            parsed = sqlrules.parse(sql)
            for p in parsed.problems:
                add(rev, p.line, p.rule, f"{fn}(): {p.message}")
            if fn == "upgrade" and rev.declared.get("phase") == "expand":
                for p in sqlrules.expand_findings(parsed.statements):
                    add(rev, p.line, p.rule, f"expand revision: {p.message}: that is a contract step")
    for rev, line, rule, message in _squawk(revs):
        add(rev, line, rule, message, "squawk")
    findings.sort(key=lambda f: (f.file, f.line, f.rule))
    report = LintReport(
        directory=shown,
        revisions=order,
        findings=findings,
        squawk_excluded=sorted(SQUAWK_EXCLUDED),
        seconds=round(time.monotonic() - started, 2),
    )
    if findings:
        error = GateFailed(
            f"migration lint: {len(findings)} finding(s) in {shown}",
            details=[str(f) for f in findings],
            hint="docs/migrations.md#lint-rules: fix the revision (a destructive change belongs in a contract"
            " revision), or waive a squawk rule with `-- squawk-ignore RULE` above the statement, saying why",
        )
        error.report = report  # type: ignore[attr-defined]
        raise error
    return report


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _line(rev: RevisionFile, name: str) -> int:
    return rev.declared_at.get(name, 1)


def _structure(revs: list[RevisionFile], add) -> list[str]:
    """The chain rules; returns the ids base → head (as far as the chain can be followed)."""
    by_id: dict[str, RevisionFile] = {}
    for rev in revs:
        if rev.problems and rev.problems[0].rule == "python-syntax":
            continue
        rid = rev.declared.get("revision")
        if not isinstance(rid, str):
            add(rev, _line(rev, "revision"), "revision-id", 'declares no revision id (revision = "NNNN")')
        elif not REVISION_ID.fullmatch(rid):
            add(rev, _line(rev, "revision"), "revision-id", f"revision id {rid!r} is not four digits")
        elif rid in by_id:
            add(rev, _line(rev, "revision"), "duplicate-revision", f"{rid} is also declared by {by_id[rid].path.name}")
        else:
            by_id[rid] = rev
        phase = rev.declared.get("phase")
        if phase not in PHASES:
            what = "declares no phase" if phase is None else f"phase {phase!r} is neither expand nor contract"
            add(rev, _line(rev, "phase"), "phase", f'{what} (phase = "expand" | "contract")')
        if "upgrade" not in rev.functions:
            add(rev, 1, "upgrade", "defines no upgrade()")
        _down_path(rev, add)
    order = _chain(by_id, add)
    position = {rid: i for i, rid in enumerate(order)}
    for rid, rev in by_id.items():
        completes = rev.declared.get("completes")
        at = _line(rev, "completes") if "completes" in rev.declared else _line(rev, "phase")
        if rev.declared.get("phase") == "expand" and completes is not None:
            add(rev, at, "contract-completes", "an expand revision completes nothing (completes = None)")
        if rev.declared.get("phase") != "contract":
            continue
        if not isinstance(completes, str):
            what = 'declares no completes = "<the expand revision whose old shape it removes>"'
            add(rev, at, "contract-completes", what)
        elif completes not in by_id:
            add(rev, at, "contract-completes", f"completes {completes!r}, which is no revision here")
        elif rid in position and position.get(completes, len(order)) >= position[rid]:
            add(rev, at, "contract-completes", f"completes {completes}, which is not before it in the chain")
        elif by_id[completes].declared.get("phase") != "expand":
            add(rev, at, "contract-completes", f"completes {completes}, which is not an expand revision")
    return order or sorted(by_id)


def _down_path(rev: RevisionFile, add) -> None:
    reason = rev.declared.get("irreversible")
    if "irreversible" in rev.declared and reason is not None and (not isinstance(reason, str) or not reason.strip()):
        add(rev, _line(rev, "irreversible"), "down-path", "irreversible must be a reason (a non-empty string) or None")
        return
    if reason:
        return
    if "downgrade" not in rev.functions:
        add(rev, 1, "down-path", 'defines no downgrade(): write the down path, or declare irreversible = "<reason>"')
    elif rev.trivial.get("downgrade") or not rev.op_calls.get("downgrade"):
        add(
            rev,
            rev.functions["downgrade"],
            "down-path",
            'downgrade() does nothing: write the down path, or declare irreversible = "<reason>"',
        )


def _chain(by_id: dict[str, RevisionFile], add) -> list[str]:
    children: dict[str | None, list[str]] = {}
    for rid, rev in sorted(by_id.items()):
        down = rev.declared.get("down_revision")
        at = _line(rev, "down_revision")
        if "down_revision" not in rev.declared:
            add(rev, 1, "chain", "declares no down_revision (None for the base)")
            continue
        if down is not None and not isinstance(down, str):
            add(rev, at, "chain", f"down_revision {down!r}: a merge or branch; the chain must be one line")
            continue
        if down is not None and down not in by_id:
            add(rev, at, "chain", f"down_revision {down!r} is no revision here")
            continue
        children.setdefault(down, []).append(rid)
    for down, kids in children.items():
        if len(kids) > 1:
            what = f"follow {down}" if down else "have no down_revision (one base only)"
            for kid in kids:
                add(by_id[kid], _line(by_id[kid], "down_revision"), "chain", f"{', '.join(kids)} all {what}")
    order: list[str] = []
    current: str | None = None
    while len(children.get(current, [])) == 1 and len(order) <= len(by_id):
        current = children[current][0]
        if current in order:
            break
        order.append(current)
    if not any(len(k) > 1 for k in children.values()):
        for rid, rev in sorted(by_id.items()):
            if rid not in order and rev.declared.get("down_revision") in by_id:
                add(rev, _line(rev, "down_revision"), "chain", "not reachable from the base (a cycle?)")
    return order


def squawk_binary() -> str:
    return process.find_binary(
        "squawk",
        extra_dirs=[Path(sys.executable).parent],
        hint="install infractl's db extra: pip install -e '.[db]' (squawk-cli)",
    )


def _squawk(revs: list[RevisionFile]) -> list[tuple[RevisionFile, int, str, str]]:
    """squawk over each upgrade()'s SQL; (revision file, line, rule, message) per finding."""
    groups: dict[str, list[RevisionFile]] = {"expand": [], "contract": []}
    for rev in revs:
        sql = rev.sql.get("upgrade")
        if sql is not None and sql.text.strip():
            groups["contract" if rev.declared.get("phase") == "contract" else "expand"].append(rev)
    if not any(groups.values()):
        return []
    binary = squawk_binary()
    found = []
    with tempfile.TemporaryDirectory(prefix="infractl-squawk-") as tmp:
        for phase, members in groups.items():
            if not members:
                continue
            excluded = sorted(SQUAWK_EXCLUDED) + (sorted(CONTRACT_ALLOWED) if phase == "contract" else [])
            paths: dict[str, RevisionFile] = {}
            for rev in members:
                path = Path(tmp) / f"{phase}-{rev.path.stem}.sql"
                path.write_text(rev.sql["upgrade"].text)
                paths[str(path)] = rev
            argv = [
                binary,
                "--reporter",
                "json",
                "--assume-in-transaction",
                f"--pg-version={PG_VERSION}",
                f"--exclude={','.join(excluded)}",
                *paths,
            ]
            done = process.run(argv, cwd=Path(tmp), ok_codes=(0, 1))
            for item in json.loads(done.stdout or "[]"):
                rev = paths.get(item.get("file", ""))
                if rev is None:
                    rev = paths.get(str(Path(tmp) / item.get("file", "")))
                if rev is None or item.get("rule_name") == "syntax-error":  # sql-syntax (pglast) reports those
                    continue
                line = rev.sql["upgrade"].line_of(int(item.get("line", 0)), int(item.get("column", 0)))
                message = item.get("message", "").strip()
                if item.get("help"):
                    message += f" ({item['help'].strip()})"
                found.append((rev, line, item.get("rule_name", "squawk"), f"upgrade(): {message}"))
    return found
