"""infractl render / deploy: the Helm charts of one environment, built from the env model (docs/render.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from infractl.cli.common import confirmer, context, emulate_option, json_option, recorded

OUT_HELP = "Write <DIR>/<env>/<chart>.yaml here (default: <work dir>/render)."
FROM_STATE_HELP = (
    "Take the database endpoint and the evidence bucket from the env's applied data and evidence stacks (their "
    "state), instead of helm/<chart>/ci."
)


def from_state_option() -> bool:
    return typer.Option(False, "--from-state", help=FROM_STATE_HELP)


app = typer.Typer()  # top-level commands: main adds this app without a group name


@app.command()
def render(
    env: str = typer.Argument(..., help="Environment name."),
    out: Path = typer.Option(None, "--out", "-o", help=OUT_HELP),
    from_state: bool = from_state_option(),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Render every chart (temporal, otel-collector, controlplane) for ENV: schema-checked, lint --strict.
    Images the env does not pin by digest render with an all-zero digest (listed; deploy refuses them)."""
    from infractl.cli import ui
    from infractl.services.render import render as service

    ctx = context(emulate=emulate)
    outputs = service.state_outputs(ctx, env) if from_state else None
    result = service.render(ctx.project, env, out or ctx.project.work_dir / "render", outputs=outputs)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    _print_render(result)


@app.command()
@recorded("deploy", skip=lambda a: bool(a.get("dry_run")))
def deploy(
    env: str = typer.Argument(..., help="Environment name."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Render and print the helm commands; no cluster."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    out: Path = typer.Option(None, "--out", "-o", help=OUT_HELP),
    from_state: bool = from_state_option(),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """`helm upgrade --install` every chart of ENV in order (needs the helm binary, a kube context and every
    image pinned by digest)."""
    import shlex

    from infractl.cli import ui
    from infractl.services.render import render as service

    ctx = context(emulate=emulate)
    result = service.deploy(
        ctx.project,
        env,
        out or ctx.project.work_dir / "render",
        dry_run=dry_run,
        confirm=confirmer(yes),
        outputs=service.state_outputs(ctx, env) if from_state else None,
        on_chart=lambda chart, i, n: ui.err().print(
            f"[{i}/{n}] helm upgrade --install {chart}", markup=False, highlight=False
        ),
    )
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    _print_render(result.render)
    for argv in result.commands:
        ui.out().print(shlex.join(argv), markup=False, highlight=False, soft_wrap=True)
    if dry_run:
        ui.err().print(f"dry run: {len(result.commands)} helm command(s) not run", highlight=False)


def _print_render(result) -> None:
    from rich.table import Table

    from infractl.cli import ui

    table = Table("chart", "namespace", "objects", "manifest", title=f"rendered {result.env}", title_justify="left")
    for c in result.charts:
        kinds = ", ".join(f"{n} {k}" for k, n in c.objects.items())
        table.add_row(c.chart, c.namespace, kinds, c.manifest)
    ui.out().print(table)
    for note in result.notes:
        ui.err().print(f"note: {note}", markup=False, highlight=False)
