"""infractl validate: the CI validation matrix, with no cloud credentials (`infractl cost` is cli/cost.py)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from infractl.cli.common import context, json_option, note, recorded
from infractl.exit_codes import ExitCode


def jobs_option() -> int:
    return typer.Option(
        os.cpu_count() or 1,
        "--jobs",
        "-j",
        min=1,
        envvar="INFRACTL_JOBS",
        help="Terraform runs at once (default: CPU count; each loads the aws provider, ~0.6 GB).",
    )


app = typer.Typer()  # top-level commands: main adds this app without a group name


@app.command()
@recorded("validate", offline=True)  # one entry per env it covered (noted from its report)
def validate(
    env: list[str] = typer.Option(None, "--env", "-e", help="Only this environment (repeatable; default all)."),
    stack: list[str] = typer.Option(None, "--stack", "-s", help="Only this stack (repeatable; default all)."),
    changed_since: str = typer.Option(
        None, "--changed-since", help="Only stacks changed since this git ref (and their dependents)."
    ),
    report_dir: Path = typer.Option(
        None, "--report-dir", help="Write validate.json, validate.junit.xml and validate.sarif here."
    ),
    fail_fast: bool = typer.Option(False, "--fail-fast", help="Start nothing new after the first failure."),
    jobs: int = jobs_option(),
    as_json: bool = json_option(),
) -> None:
    """fmt, init and validate per stack; a plan per env on the local emulator; security, tags and cost gates.

    Exit 0 when every gate passes, 1 when any fails. docs/validate.md explains the gates.
    """
    from infractl.cli import ui
    from infractl.services.validate import reports, run

    with ui.progress() as progress:
        report = run.run(
            context(),
            envs=env or [],
            stacks=stack or [],
            changed_since=changed_since,
            jobs=jobs,
            fail_fast=fail_fast,
            progress=progress,
        )
    note(envs=report.envs, report_sha256=reports.digest(report), ok=report.ok, findings=len(report.findings))
    written = reports.write(report, report_dir) if report_dir is not None else []
    if as_json:
        ui.print_json(report.model_dump(mode="json"))
    else:
        ui.print_validation(report, written)
    if not report.ok:
        raise typer.Exit(ExitCode.FAILURE)
