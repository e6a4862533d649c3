"""infractl cost ENV [--compare ENV2|PLANFILE], cost rightsize ENV: what an env costs from its plan, and what it could
cost from its measured utilisation (docs/validate.md#infractl-cost, docs/finops.md#right-sizing).

`infractl cost ENV …` is the group's `estimate` command: a first argument that is not a subcommand is the env."""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from infractl.cli.common import context, emulate_option, json_option
from infractl.cli.validate import jobs_option

DEFAULT = "estimate"


class _EnvFirst(TyperGroup):
    """`cost dev --compare prod` runs `cost estimate dev --compare prod`; `cost rightsize dev` stays a subcommand.
    Options may come first, as they could before (`cost --stack data dev`)."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [DEFAULT, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_EnvFirst,
    no_args_is_help=True,
    help="What an environment costs: `infractl cost ENV` from a plan and the price catalog; `infractl cost rightsize"
    " ENV` recommends sizes from measured utilisation.",
)


@app.command(DEFAULT)
def estimate(
    env: str = typer.Argument(..., help="Environment name (environments/<name>.yaml)."),
    stack: list[str] = typer.Option(None, "--stack", "-s", help="Only this stack (repeatable)."),
    compare: str = typer.Option(
        None, "--compare", help="Another environment, or a plan JSON file (`terraform show -json` output)."
    ),
    jobs: int = jobs_option(),
    as_json: bool = json_option(),
) -> None:
    """Monthly cost per stack and resource from a plan on the local emulator, against the env's budget."""
    from infractl.cli import ui
    from infractl.services.validate import costing

    with ui.progress() as progress:
        result = costing.estimate(context(), env, stack or [], compare, progress=progress, jobs=jobs)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
    else:
        ui.print_cost(result)


@app.command("rightsize")
def rightsize(
    env: str = typer.Argument(..., help="Environment name (environments/<name>.yaml)."),
    prometheus: str = typer.Option(
        None,
        "--prometheus",
        help="Prometheus base URL for the pods (default: the env's rightsize.prometheus_url; with --emulate the dev"
        " stack's).",
    ),
    emulate: bool = emulate_option("Read CloudWatch from the local emulator and Prometheus from the dev stack."),
    as_json: bool = json_option(),
) -> None:
    """Right-sizing: the env's database instances, node groups and pods measured over the lookback window
    (CloudWatch, Prometheus); the smallest size keeping the peak within the env's headroom, priced with the catalog:
    current and recommended monthly price, the saving, and the confidence. Reads only; changes nothing."""
    from infractl.cli import ui, ui_cost
    from infractl.services.cost import rightsize as service

    report = service.rightsize(context(emulate=emulate), env, prometheus_url=prometheus)
    if as_json:
        ui.print_json(report.model_dump(mode="json"))
    else:
        ui_cost.print_rightsize(report)
