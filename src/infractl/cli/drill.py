"""infractl drill dr / drill faults: measured disaster recovery and fault drills (docs/drills.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from infractl.cli.common import confirmer, context, emulate_option, json_option, note, recorded

app = typer.Typer(help="Disaster recovery and fault drills, measured against the env model's targets.")

REPORT_HELP = "Write the report (<kind>-<env>.json, .md, .html) here. Default: <work dir>/drills."
YES_HELP = "Confirm: destroying the cluster outside the emulator; an env whose recovery.drills is confirm."


def _report_dir(ctx, report_dir: Path | None) -> Path:
    """The report folder, checked writable before the drill runs."""
    from infractl.services import reporting

    return reporting.writable(report_dir or ctx.project.work_dir / "drills")


def _finish(ctx, report, report_dir: Path, as_json: bool) -> None:
    """Write the report, append it to the ledger, print it; exit 10 (DRILL_FAILED) when it failed."""
    from infractl.cli import ui_drill
    from infractl.errors import DrillFailed
    from infractl.services.drill import report as reports

    notes = []
    report.ledger, why_not = reports.append(ctx, report)
    if why_not:
        notes.append(why_not)
    reports.write(report, report_dir)
    note(passed=report.passed, report=report.files[0])
    if as_json:
        ui_drill.print_json(report.model_dump(mode="json"))
    else:
        ui_drill.print_report(report, notes)
    if not report.passed:
        raise DrillFailed(
            f"the {report.kind} drill of {report.env} failed",
            details=report.failures if report.kind == "dr" else [],
            hint=f"the report says why: {report.files[1]}",
        )


@app.command("dr")
@recorded("drill.dr")
def dr(
    env: str = typer.Argument(..., help="Environment name (environments/<name>.yaml)."),
    part: list[str] = typer.Option(None, "--part", help="Only this part: database, cluster, evidence (repeatable)."),
    report_dir: Path = typer.Option(None, "--report-dir", help=REPORT_HELP),
    keep: bool = typer.Option(False, "--keep", help="Keep the drill's work folder (restored data, renders)."),
    yes: bool = typer.Option(False, "--yes", "-y", help=YES_HELP),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Restore the database to a point in time into a new instance, recreate the cluster from code, check the
    evidence replicas; each step timed, RPO and RTO measured against recovery.rpo_minutes / rto_minutes.

    Exit 0 when every step passed and every objective was met, 10 when not (the report says why)."""
    from infractl.cli import ui
    from infractl.models.drill import DR_PARTS
    from infractl.services.drill import dr as drill

    ctx = context(emulate=emulate)
    report_dir = _report_dir(ctx, report_dir)
    report = drill.run(
        ctx, env, parts=part or DR_PARTS, yes=yes, confirm=confirmer(yes), progress=ui.progress_lines(), keep=keep
    )
    _finish(ctx, report, report_dir, as_json)


@app.command("faults")
@recorded("drill.faults", local=True)  # it acts on the dev stack, whose ledger plays the env's
def faults(
    env: str = typer.Argument("dev", help="The environment the dev stack stands for (its drill setting, the report)."),
    scenario: list[str] = typer.Option(
        None,
        "--scenario",
        help="Only this scenario (repeatable): temporal-restart, worker-kill, api-kill,"
        " db-failover, network-partition. Default: all.",
    ),
    workflows: int = typer.Option(20, "--workflows", "-n", min=1, max=1000, help="Workflows in flight per fault."),
    partition_seconds: float = typer.Option(5.0, "--partition-seconds", min=0.5, help="How long the partition lasts."),
    report_dir: Path = typer.Option(None, "--report-dir", help=REPORT_HELP),
    yes: bool = typer.Option(False, "--yes", "-y", help=YES_HELP),
    as_json: bool = json_option(),
) -> None:
    """Inject faults into the running dev stack with workflows in flight: Temporal restart, worker and API kills,
    a database failover to a streaming replica, a network partition; after each, every workflow must complete with
    each effect exactly once, checked from the database.

    Exit 0 when every scenario passed, 10 when not (the report names each lost or duplicated effect)."""
    from infractl.cli import ui
    from infractl.models.drill import SCENARIOS
    from infractl.services import environments
    from infractl.services.drill import guard

    ctx = context(emulate=True)  # the dev stack plays the env: its ledger gets the report; no cloud is reached
    guard.check(environments.load(ctx.project, env), "faults", yes=yes)
    report_dir = _report_dir(ctx, report_dir)
    from infractl.services.drill import faults as drill

    report = drill.run(
        ctx.project.work_dir,
        ctx.project.root,
        env=env,
        scenarios=scenario or SCENARIOS,
        workflows=workflows,
        partition_seconds=partition_seconds,
        progress=ui.progress_lines(),
    )
    _finish(ctx, report, report_dir, as_json)
