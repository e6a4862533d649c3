"""infractl slo: the SLOs of an environment, and the Prometheus rules and Grafana dashboards made from them
(docs/slo.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from infractl.cli.common import context, json_option

OUT_HELP = "Write <DIR>/rules/<env>-slo.rules.yml and <DIR>/dashboards/<env>-*.json here (default: <work dir>/slo)."
ENV_ARG = typer.Argument(..., help="Environment name (environments/<env>.yaml).")

app = typer.Typer(help="SLOs as code: slo/*.yaml -> burn-rate alerts, dashboards, runbooks.", no_args_is_help=True)


@app.command()
def render(
    env: str = ENV_ARG,
    out: Path = typer.Option(None, "--out", "-o", help=OUT_HELP),
    as_json: bool = json_option(),
) -> None:
    """Write ENV's Prometheus rule file (recording rules, multi-window multi-burn-rate alerts) and its Grafana
    dashboards; print what was written."""
    from infractl.cli import ui
    from infractl.services.slo import output

    ctx = context()
    result = output.render(ctx.project, env, out or ctx.project.work_dir / "slo")
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    console = ui.out()
    console.print(
        f"{result.rule_file}: {result.groups} group(s), {result.recording_rules} recording rules,"
        f" {len(result.alerts)} alerts"
    )
    for path in result.dashboards:
        console.print(f"{path}: dashboard")
    for note in result.notes:
        ui.err().print(f"note: {note}")


@app.command("list")
def list_(env: str = ENV_ARG, as_json: bool = json_option()) -> None:
    """Each SLO of ENV: its objective over the period, its alerts (severity, windows) and their runbooks."""
    from rich import box
    from rich.table import Table

    from infractl.cli import ui
    from infractl.services.slo import output

    sloset = output.listing(context().project, env)
    if as_json:
        ui.print_json(sloset.model_dump(mode="json"))
        return
    title = (
        f"SLOs of {sloset.env}: period {sloset.period}, scrape interval {sloset.scrape_interval}"
        f" (no window under {sloset.min_window})"
    )
    table = Table("slo", "objective", "alert", "severity", "for", "runbook", title=title, box=box.SIMPLE)
    table.title_justify = "left"
    for s in sloset.slos:
        for i, a in enumerate(s.alerts):
            first = i == 0
            table.add_row(
                f"{s.name} ({s.service})" if first else "",
                f"{s.objective:g}%" if first else "",
                a.name,
                a.severity,
                a.for_duration,
                a.runbook.rsplit("/", 1)[-1],
            )
    ui.out().print(table)
    ui.out().print(f"runbooks: {sloset.runbook_base_url}/docs/runbooks/<runbook>")
    windows = Table(
        "severity", "long", "short", "burn rate above", "budget spent when it fires", title="windows", box=box.SIMPLE
    )
    windows.title_justify = "left"
    for w in sloset.windows:
        windows.add_row(w.severity, w.long, w.short, f"{w.factor:g}", f"{w.budget_consumed * 100:g}%")
    ui.out().print(windows)
