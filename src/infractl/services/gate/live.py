"""Evidence the gate reads when it runs: the env's evidence ledger verified end to end, and the stacks' parity with
their contracts. Neither can be stale: each is observed now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from infractl.models.gate import CheckDef, Evidence
from infractl.services.gate.reports import not_met

SHOWN = 3


def met(check: CheckDef, source: str, detail: str, now: datetime, **facts: object) -> Evidence:
    return Evidence(kind=check.kind, source=source, status="met", detail=detail, observed_at=now, facts=dict(facts))


def ledger(check: CheckDef, ctx: Any, env: str, now: datetime) -> Evidence:
    """`infractl evidence verify ENV`: the chain, the signatures, the checkpoints and the payloads' locks."""
    from infractl.services.evidence.access import open_ledger
    from infractl.services.evidence.actions import describe
    from infractl.services.evidence.verify import verify

    source = f"live: infractl evidence verify {env}"
    try:
        report = verify(open_ledger(ctx, env))
    except Exception as exc:  # not reachable, not created: no evidence is not a pass
        return not_met(check, source, f"the ledger could not be verified: {describe(exc)}", now)
    facts = {"entries": report.entries, "head_seq": report.head_seq}
    if not report.ok:
        first = report.first
        where = f"entry {first.seq}: " if first and first.seq is not None else ""
        text = f"{where}{first.reason} ({first.detail})" if first else "see `infractl evidence verify`"
        return not_met(
            check, source, f"the chain is broken: {len(report.findings)} findings; first {text}", now, **facts
        )
    detail = (
        f"{report.entries} entries: chain, {report.signatures_checked} signatures, "
        f"{report.checkpoints_checked} checkpoints, {report.payloads_checked} payloads verified"
    )
    return met(check, source, detail, now, **facts)


def parity(check: CheckDef, ctx: Any, now: datetime) -> Evidence:
    """`infractl parity --check`: every cloud's stacks keep the shared contracts and docs/parity.md is current."""
    from infractl.services.parity import run as parity_run

    source = "live: infractl parity --check"
    report = parity_run.run(
        ctx.project,
        environ=dict(ctx.environ),
        terraform_bin=ctx.settings.terraform_bin,
        cli_config=ctx.cli_config_path,
        write=False,
        with_fmt=False,
    )
    if not report.ok:
        problems = [f"{v.cloud}/{v.stack}: {v.message}" for v in report.violations[:SHOWN]]
        if report.docs == "stale":
            problems.append("docs/parity.md is stale: run `infractl parity`")
        return not_met(check, source, f"{len(report.violations)} violations: " + "; ".join(problems), now)
    if not report.cells:  # no contracts: parity checked nothing, which proves nothing
        return not_met(check, source, "no stack contract was checked (terraform/contracts/ is empty)", now)
    return met(check, source, f"{len(report.cells)} stack contracts kept on {len(report.clouds)} clouds", now)
