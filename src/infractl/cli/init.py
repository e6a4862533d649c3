"""infractl init: scaffold a project of one's own (environments, the stack graph, an example stack)."""

from __future__ import annotations

from pathlib import Path

import typer

from infractl.cli.common import json_option

app = typer.Typer()  # top-level command: main adds this app without a group name


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="The project folder (made when missing; default: here)."),
    as_json: bool = json_option(),
) -> None:
    """Write environments/dev.yaml, terraform/stacks/stacks.yaml and an example stack; never overwrite a file.

    Then: `infractl validate`, `infractl state bootstrap dev --emulate`, `infractl apply dev --emulate`.
    docs/stacks.md explains how to add a stack.
    """
    from infractl.cli import ui
    from infractl.services import init as service

    result = service.init(directory)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
    else:
        ui.print_init(result)
