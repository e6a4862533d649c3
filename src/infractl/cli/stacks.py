"""infractl plan / apply / bootstrap / destroy / output: the stack graph of one environment."""

from __future__ import annotations

import typer

from infractl.cli.common import confirmer, context, emulate_option, json_option, note, recorded
from infractl.exit_codes import ExitCode

ENV_ARG = typer.Argument(..., help="Environment name (environments/<name>.yaml).")
STACK_HELP = "Only this stack (repeatable)."


def parallelism_option() -> int:
    return typer.Option(
        4,
        "--parallelism",
        "-p",
        min=1,
        envvar="INFRACTL_PARALLELISM",
        help="Independent stacks run at once (each Terraform run loads its providers: ~0.6 GB for aws).",
    )


def _finish(result, as_json: bool, *, detailed_exitcode: bool = False, extra: dict | None = None) -> None:
    from infractl.cli import ui

    note(
        stacks={s.stack: s.status for s in result.stacks},
        plans={s.stack: s.plan_sha256 for s in result.stacks if s.plan_sha256},
    )
    if as_json:
        ui.print_json({**(extra or {}), **result.model_dump(mode="json")})
    else:
        ui.print_run(result)
    if result.interrupted:
        if not as_json:
            for s in result.stacks:
                if s.status == "stopped":
                    ui.print_error(f"{s.stack}: {s.error}", s.error_details, s.hint)
        ui.err().print("interrupted", markup=False)
        raise typer.Exit(ExitCode.INTERRUPTED)
    if not result.ok:
        failed = next(s for s in result.stacks if s.status == "failed")
        raise typer.Exit(failed.exit_code or ExitCode.FAILURE)
    if detailed_exitcode and result.changes_present:
        raise typer.Exit(ExitCode.CHANGES_PRESENT)


app = typer.Typer()  # top-level commands: main adds this app without a group name


@app.command()
def plan(
    env: str = ENV_ARG,
    stack: list[str] = typer.Option(None, "--stack", "-s", help=STACK_HELP),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode", help="Exit 4 when any stack has changes."),
    parallelism: int = parallelism_option(),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Plan every stack in dependency order; saves a plan file per stack with changes."""
    from infractl.cli import ui
    from infractl.services.stacks import runs

    with ui.progress() as progress:
        result = runs.plan(context(emulate=emulate), env, progress, only=stack or None, parallelism=parallelism)
    _finish(result, as_json, detailed_exitcode=detailed_exitcode)


@app.command()
@recorded("apply")
def apply(
    env: str = ENV_ARG,
    stack: list[str] = typer.Option(None, "--stack", "-s", help=STACK_HELP),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm without asking."),
    parallelism: int = parallelism_option(),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Apply the saved plans when present (exactly those), else plan and apply every stack."""
    from infractl.cli import ui
    from infractl.services.stacks import runs

    with ui.progress() as progress:
        result = runs.apply(
            context(emulate=emulate), env, progress, confirmer(yes), only=stack or None, parallelism=parallelism
        )
    _finish(result, as_json)


@app.command()
@recorded("bootstrap")
def bootstrap(
    env: str = ENV_ARG,
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm without asking."),
    parallelism: int = parallelism_option(),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """The whole environment in one command: emulator (with --emulate), state backend, every stack."""
    from infractl.cli import ui
    from infractl.services.stacks import runs

    with ui.progress() as progress:
        backend, result = runs.bootstrap(
            context(emulate=emulate), env, progress, confirmer(yes), parallelism=parallelism
        )
    _finish(result, as_json, extra={"state": backend.model_dump(mode="json")})


@app.command()
@recorded("destroy")
def destroy(
    env: str = ENV_ARG,
    stack: list[str] = typer.Option(None, "--stack", "-s", help=STACK_HELP),
    yes: bool = typer.Option(False, "--yes", "-y", help="Destroy without asking."),
    parallelism: int = parallelism_option(),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Destroy every stack in reverse dependency order. Asks per stack unless --yes."""
    from infractl.cli import ui
    from infractl.services.stacks import runs

    with ui.progress() as progress:
        result = runs.destroy(
            context(emulate=emulate), env, progress, confirmer(yes), only=stack or None, parallelism=parallelism
        )
    _finish(result, as_json)


@app.command()
def output(
    env: str = ENV_ARG,
    stack: str = typer.Argument(..., help="Stack name."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Show a stack's outputs (sensitive values redacted)."""
    import json

    from infractl.cli import ui
    from infractl.models.runs import NullProgress
    from infractl.services.stacks import runs

    values = runs.output(context(emulate=emulate), env, stack, NullProgress())
    if as_json:
        ui.print_json(values)
        return
    console = ui.out()
    for name, value in values.items():
        console.print(f"{name} = {value if isinstance(value, str) else json.dumps(value)}", markup=False)
