"""infractl db: the runtime's migrations over the shared schema and every tenant (docs/migrations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from infractl.cli.common import confirmer, context, emulate_option, json_option, note, recorded

app = typer.Typer(
    help="Migrations across the shared schema, every tier B schema and tier C database: migrate, status, rollback,"
    " lint.",
    no_args_is_help=True,
)

EMULATE_HELP = "Use the dev stack's PostgreSQL (`infractl dev up`) instead of the env's RDS endpoint from state."
SHOWN_ROWS = 40  # beyond this many targets, targets at their goal are counted, not listed


def _emulate() -> bool:
    return emulate_option(EMULATE_HELP)


def _tenant() -> str:
    return typer.Option(None, "--tenant", "-t", help="Only this tenant's target (tier A: the shared one).")


def _parallel() -> int:
    return typer.Option(
        None,
        "--parallel",
        "-p",
        min=1,
        max=64,
        help="Targets at once after the shared one (default: min(8, 2 per CPU)).",
    )


@app.command()
@recorded("db.migrate", tenant=lambda a: a.get("tenant"), skip=lambda a: bool(a.get("dry_run")))
def migrate(
    env: str = typer.Argument(..., help="Environment name (environments/<name>.yaml)."),
    tenant: str = _tenant(),
    phase: str = typer.Option(
        "expand", "--phase", help="expand (default: up to the first contract revision) or contract (to head)."
    ),
    to: str = typer.Option(None, "--to", help="Stop at this revision instead of the phase's target."),
    parallel: int = _parallel(),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what each target would apply; change nothing."),
    emulate: bool = _emulate(),
    as_json: bool = json_option(),
) -> None:
    """Apply the pending revisions: the shared target first, then every tenant target in parallel. A failed target
    leaves the others done (exit 8, naming it); a re-run continues. Contract is refused while a live process still
    needs the old shape (exit 6)."""
    from infractl.cli import ui
    from infractl.errors import UsageError
    from infractl.services.db import fanout

    if phase not in ("expand", "contract"):
        raise UsageError(f"--phase {phase!r}: expand or contract")
    _run_and_print(
        lambda: fanout.run(
            context(emulate=emulate),
            env,
            tenant=tenant,
            phase=phase,
            to=to,
            parallel=parallel,
            dry_run=dry_run,
            progress=ui.progress_lines(),
        ),
        as_json,
    )


def _run_and_print(call: Any, as_json: bool) -> None:
    """Run a fan-out and print its result; a partial one (exit 8) is printed too before its error."""
    from infractl.errors import MigrationIncomplete

    try:
        result = call()
    except MigrationIncomplete as exc:
        _print_fanout(exc.result, as_json)  # type: ignore[attr-defined]
        raise
    _print_fanout(result, as_json)


@app.command()
@recorded("db.rollback", tenant=lambda a: a.get("tenant"), skip=lambda a: bool(a.get("dry_run")))
def rollback(
    env: str = typer.Argument(..., help="Environment name (environments/<name>.yaml)."),
    tenant: str = _tenant(),
    to: str = typer.Option(None, "--to", help="Revert down to this revision (or base)."),
    steps: int = typer.Option(
        None, "--steps", min=1, help="Revert this many revisions below each target's (default 1)."
    ),
    parallel: int = _parallel(),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what each target would revert; change nothing."),
    emulate: bool = _emulate(),
    as_json: bool = json_option(),
) -> None:
    """Revert the newest revisions: the tenants first, then the shared target. Refused before anything changes when
    a revision on the way is irreversible (exit 6)."""
    from infractl.cli import ui
    from infractl.services.db import rollback as service

    _run_and_print(
        lambda: service.rollback(
            context(emulate=emulate),
            env,
            tenant=tenant,
            to=to,
            steps=steps,
            parallel=parallel,
            dry_run=dry_run,
            confirm=confirmer(yes),
            progress=ui.progress_lines(),
        ),
        as_json,
    )


@app.command()
def status(
    env: str = typer.Argument(..., help="Environment name (environments/<name>.yaml)."),
    tenant: str = _tenant(),
    emulate: bool = _emulate(),
    as_json: bool = json_option(),
) -> None:
    """Per target: its revision, the head, the pending revisions with their phase, the last run's status and
    error. Reads only; exit 0."""
    from infractl.services.db import status as service

    report = service.status(context(emulate=emulate), env, tenant=tenant)
    if as_json:
        _json(report)
        return
    _print_status(report)


@app.command()
def lint(
    directory: Path = typer.Option(
        None, "--dir", help="The revision files (default: src/controlplane/migrations/versions of the project)."
    ),
    as_json: bool = json_option(),
) -> None:
    """The expand/contract discipline of the revision files: squawk plus our rules; exit 7 with file:line findings."""
    from infractl.errors import GateFailed
    from infractl.services.db import lint as service

    try:
        report = service.check(context().project.root, directory)
    except GateFailed as exc:
        if as_json and getattr(exc, "report", None) is not None:
            _json(exc.report)  # type: ignore[attr-defined]
        raise
    if as_json:
        _json(report)
        return
    from infractl.cli import ui

    ui.out().print(
        f"migration lint: {len(report.revisions)} revision(s) in {report.directory}: no findings"
        f" (squawk rules not applied: {', '.join(report.squawk_excluded)})"
    )


# -- rendering


def _json(model: Any) -> None:
    from infractl.cli import ui

    ui.print_json(model.model_dump(mode="json"))


STATUS_STYLE = {"applied": "green", "skipped": "dim", "pending": "yellow", "failed": "bold red"}


def _print_fanout(result: Any, as_json: bool) -> None:
    from rich.table import Table

    from infractl.cli import ui

    note(
        phase=result.phase,
        to=result.to,
        summary=result.summary,
        failed=[r.target for r in result.results if r.status == "failed"],
    )
    if as_json:
        _json(result)
        return
    planned = {p.target: p.revisions for p in result.planned}
    rows = result.results
    hidden = 0
    if len(rows) > SHOWN_ROWS:
        hidden = sum(1 for r in rows if r.status == "skipped")
        rows = [r for r in rows if r.status != "skipped"]
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("target", "kind", "status", "revision", "revisions", "seconds", "error"):
        table.add_column(column)

    def shown(status: str) -> str:  # a rollback's "applied" reverted its revisions
        return "reverted" if status == "applied" and result.action == "rollback" else status

    for r in rows:
        moved = r.applied or planned.get(r.target, [])
        revision = f"{r.revision_before or 'base'} → {r.revision or 'base'}" if r.applied else (r.revision or "base")
        table.add_row(
            r.target,
            r.kind,
            ui.styled(shown(r.status), STATUS_STYLE.get(r.status, "")),
            revision,
            ", ".join(moved),
            f"{r.seconds:.2f}",
            r.error or "",
        )
    console = ui.out()
    what = "dry run of " if result.dry_run else ""
    goal = f" to {result.to}" if result.to else (f", phase {result.phase}" if result.phase else "")
    console.print(f"{what}{result.action} {result.env}{goal}: {len(result.results)} target(s)")
    console.print(table)
    counts = ", ".join(f"{n} {shown(s)}" for s, n in result.summary.items() if n)
    more = f" ({hidden} at their goal not listed)" if hidden else ""
    console.print(f"{counts or 'nothing to do'}{more} in {result.seconds:.1f}s, {result.parallel} at a time")


def _print_status(report: Any) -> None:
    from rich.table import Table

    from infractl.cli import ui

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("target", "kind", "where", "current", "pending", "last run", "error"):
        table.add_column(column)
    for t in report.targets:
        pending = ", ".join(f"{p.id} ({p.phase})" for p in t.pending) or "-"
        last = t.saved_status or "-"
        table.add_row(
            t.target,
            t.kind,
            t.where,
            t.current or "base",
            pending,
            ui.styled(last, STATUS_STYLE.get(last, "")),
            t.error or t.saved_error or "",
        )
    console = ui.out()
    console.print(f"{report.env}: head {report.head}, {report.at_head} of {len(report.targets)} target(s) at head")
    console.print(table)
