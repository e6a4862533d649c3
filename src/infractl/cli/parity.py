"""infractl parity: every cloud's stacks against the shared stack contracts; writes docs/parity.md."""

from __future__ import annotations

import typer

from infractl.cli.common import context, json_option
from infractl.exit_codes import ExitCode

app = typer.Typer()  # top-level commands: main adds this app without a group name


@app.command()
def parity(
    check: bool = typer.Option(
        False, "--check", help="Do not write docs/parity.md; fail when it differs from what parity generates (CI)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Check the aws, azure and gcp stacks against terraform/contracts/ and write the parity matrix.

    Exit 0 when every stack keeps its contract (and, with --check, docs/parity.md is current), 1 otherwise.
    docs/parity.md is the matrix; docs/validate.md#parity explains the checks.
    """
    from infractl.cli import ui
    from infractl.services.parity import run as service

    ctx = context()
    report = service.run(
        ctx.project,
        environ=dict(ctx.environ),
        terraform_bin=ctx.settings.terraform_bin,
        cli_config=ctx.cli_config_path,
        write=not check,
    )
    if as_json:
        ui.print_json(report.model_dump(mode="json"))
    else:
        ui.print_parity(report)
    if not report.ok:
        raise typer.Exit(ExitCode.FAILURE)
