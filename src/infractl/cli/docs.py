"""infractl docs: module and stack READMEs generated from the Terraform code."""

from __future__ import annotations

import typer

from infractl.cli.common import context, json_option
from infractl.exit_codes import ExitCode

app = typer.Typer()  # top-level commands: main adds this app without a group name


@app.command()
def docs(
    check: bool = typer.Option(False, "--check", help="Change nothing; exit 1 when a README is stale (for CI)."),
    as_json: bool = json_option(),
) -> None:
    """Generate the inputs/outputs tables of every module and stack README from variables.tf and outputs.tf."""
    from infractl.cli import ui
    from infractl.services import docs as service

    results = service.generate(context().project, check=check)
    stale = [r for r in results if r.status == "stale"]
    if as_json:
        ui.print_json([r.model_dump() for r in results])
    else:
        console = ui.out()
        for r in results:
            console.print(f"{r.folder:<40} {r.status:<10} {r.inputs} inputs, {r.outputs} outputs", markup=False)
    if stale:
        ui.print_error(
            f"{len(stale)} README(s) out of date with their Terraform code",
            [r.folder for r in stale],
            "run `infractl docs` and commit the result",
        )
        raise typer.Exit(ExitCode.FAILURE)
