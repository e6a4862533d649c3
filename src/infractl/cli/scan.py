"""infractl scan: the security gates as one command (docs/scan.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from infractl.cli.common import context, json_option
from infractl.exit_codes import ExitCode

app = typer.Typer()  # a top-level command: main adds this app without a group name

STATUS_STYLE = {"passed": "green", "failed": "bold red", "not-run": "yellow"}
STATUS_TEXT = {"passed": "passed", "failed": "FAILED", "not-run": "not run"}


def _layer(value: str) -> tuple[str, Path]:
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise typer.BadParameter(f"{value!r}: expected NAME=PATH (a layer blob, e.g. controlplane-api=layer.tar.gz)")
    return name, Path(path)


@app.command()
def scan(
    base: str = typer.Option(
        None, "--base", help="Compare the API with this ref (its merge base with HEAD). Default: origin/main, main."
    ),
    report_dir: Path = typer.Option(
        None, "--report-dir", help="Write scan.json and scan.md (a Markdown summary) here."
    ),
    layer: list[str] = typer.Option(
        None, "--layer", help="Also scan an image layer for secrets: NAME=PATH of a tar blob (repeatable)."
    ),
    release: str = typer.Option(
        None, "--release", help="Also scan the layers a release's images add to the base (built on this machine)."
    ),
    require_audit: bool = typer.Option(
        False,
        "--require-audit",
        help="Fail the dependency gate when the vulnerability service is unreachable (default: not run). "
        "Also INFRACTL_SCAN_PIP_AUDIT=required.",
    ),
    as_json: bool = json_option(),
) -> None:
    """Breaking API changes, secrets (repository and image layers), workflow lint, dependency vulnerabilities.

    Exit 0 when no gate failed, 7 when one did. A gate that cannot run here (no base commit, no vulnerability
    service) is shown as not run: neither passed nor failed. docs/scan.md explains each gate.
    """
    from infractl.cli import ui
    from infractl.services.scan import reports, run

    layers = [_layer(v) for v in layer or []]
    report = run.run(
        context(),
        base=base,
        report_dir=report_dir,
        layers=layers,
        require_audit=True if require_audit else None,
        release=release,
    )
    if as_json:
        ui.print_json(report.model_dump(mode="json"))
    else:
        console = ui.out()
        for gate in report.gates:
            tool = f"{gate.tool} {gate.tool_version}".strip()
            console.print(
                ui.pieces(
                    (f"{STATUS_TEXT[gate.status]:<8}", STATUS_STYLE[gate.status]),
                    f" {gate.name:<22} ",
                    (f"{tool}  {gate.note}", "dim"),
                )
            )
            for f in gate.findings:
                where = f"{f.where()}: " if f.where() else ""
                console.print(ui.pieces("         ", (where, "dim"), f"{f.rule}: {f.message}"))
        if report_dir is not None:
            for name in (reports.JSON_FILE, reports.MARKDOWN_FILE):
                console.print(ui.styled(f"report: {report_dir / name}", "dim"))
        counts = report.counts()
        summary = f"{counts['passed']} passed, {counts['failed']} failed, {counts['not-run']} not run"
        console.print(ui.styled(summary, "green" if report.ok else "bold red"))
    if not report.ok:
        raise typer.Exit(ExitCode.GATE_FAILED)
