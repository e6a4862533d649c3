"""infractl gate infra|security ENV: a phase gate evaluated from machine evidence (docs/gates.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from infractl.cli.common import context, emulate_option, json_option, note, recorded

app = typer.Typer(help="Phase gates (infra, security) evaluated from machine evidence, recorded in the ledger.")

ENV_HELP = "Environment name (environments/<name>.yaml)."
EVIDENCE_HELP = (
    "Where the reports are: reports/tests/junit.xml, drills/, reports/scan/, reports/validate/. Default: the work dir."
)
REPORT_HELP = "Write the verdict (gate-<gate>-<env>.json, .md, .html) here. Default: <work dir>/gates."


def _gate(gate: str, env: str, evidence_dir: Path | None, report_dir: Path | None, emulate: bool, as_json: bool):
    from infractl.cli import ui, ui_gate
    from infractl.errors import GateNotMet
    from infractl.services import reporting
    from infractl.services.gate import run
    from infractl.services.gate import verdict as verdicts

    ctx = context(emulate=emulate)
    evidence = evidence_dir or ctx.project.work_dir
    directory = reporting.writable(report_dir or ctx.project.work_dir / "gates")
    result = run.evaluate(ctx, gate, env, evidence, progress=ui.progress_lines())
    result.ledger, why_not = verdicts.append(ctx, result)
    if why_not:
        result.notes.append(why_not)
    verdicts.write(result, directory)
    note(passed=result.passed, report=result.files[0], not_met=[c.id for c in result.failing()])
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
    else:
        ui_gate.print_verdict(result)
    if not result.passed:
        raise GateNotMet(
            f"the {gate} gate of {env} is not met",
            details=[
                f"{c.id}: {c.status}: " + "; ".join(e.detail for e in c.evidence if e.status != "met")
                for c in result.failing()
            ],
            hint=f"the verdict says why, criterion by criterion: {result.files[1]}",
        )


@app.command("infra")
@recorded("gate.infra")
def infra(
    env: str = typer.Argument(..., help=ENV_HELP),
    evidence_dir: Path = typer.Option(None, "--evidence-dir", help=EVIDENCE_HELP),
    report_dir: Path = typer.Option(None, "--report-dir", help=REPORT_HELP),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Infrastructure complete: persistence, outbox, migrations, observability, security containment, the stacks'
    contracts and the evidence ledger, each from its evidence (gates/infra.yaml).

    Exit 0 when every criterion is met, 12 (GATE_NOT_MET) when any is not met or its evidence is stale."""
    _gate("infra", env, evidence_dir, report_dir, emulate, as_json)


@app.command("security")
@recorded("gate.security")
def security(
    env: str = typer.Argument(..., help=ENV_HELP),
    evidence_dir: Path = typer.Option(None, "--evidence-dir", help=EVIDENCE_HELP),
    report_dir: Path = typer.Option(None, "--report-dir", help=REPORT_HELP),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Security complete: vulnerabilities, secret hygiene, tenant isolation, separation of duties, sandboxing and
    the audit trail, each from its evidence (gates/security.yaml).

    Exit 0 when every criterion is met, 12 (GATE_NOT_MET) when any is not met or its evidence is stale."""
    _gate("security", env, evidence_dir, report_dir, emulate, as_json)
