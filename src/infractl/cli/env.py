"""infractl env: the environment model."""

from __future__ import annotations

import typer

from infractl.cli.common import context, json_option

app = typer.Typer(help="Inspect the environment model (environments/*.yaml).", no_args_is_help=True)


@app.command("list")
def list_(as_json: bool = json_option()) -> None:
    """List the environments."""
    from infractl.cli import ui
    from infractl.services import environments

    items = environments.list_all(context().project)
    if as_json:
        ui.print_json([i.model_dump(mode="json") for i in items])
        return
    from rich.table import Table

    table = Table("name", "cloud", "account", "region", "AZs", "NAT", "budget/month", "approval", "file")
    for i in items:
        table.add_row(
            i.name,
            i.cloud,
            i.account,
            i.region,
            str(i.azs),
            i.nat_gateways,
            f"${i.monthly_budget_usd:,.0f}",
            "required" if i.approval_required else "-",
            i.file,
        )
    ui.out().print(table)


@app.command("show")
def show(env: str = typer.Argument(..., help="Environment name."), as_json: bool = json_option()) -> None:
    """Show one environment, validated."""
    from infractl.cli import ui
    from infractl.services import environments

    model = environments.load(context().project, env)
    if as_json:
        ui.print_json(model.model_dump(mode="json"))
        return
    import yaml

    ui.out().print(yaml.safe_dump(model.model_dump(mode="json"), sort_keys=False).rstrip(), markup=False)


@app.command("diff")
def diff(
    a: str = typer.Argument(..., help="First environment."),
    b: str = typer.Argument(..., help="Second."),
    as_json: bool = json_option(),
) -> None:
    """Show where two environments differ."""
    from infractl.cli import ui
    from infractl.services import environments

    result = environments.diff(context().project, a, b)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    from rich.table import Table

    table = Table("field", a, b, title=f"{a} vs {b}: {len(result.differences)} difference(s)", title_justify="left")
    for d in result.differences:
        table.add_row(d.path, _show(d.a), _show(d.b))
    ui.out().print(table)


def _show(value: object) -> str:
    import json

    return "—" if value is None else (value if isinstance(value, str) else json.dumps(value))
