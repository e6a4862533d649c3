"""Rendering of `infractl gate`, on cli/ui.py's consoles."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from infractl.cli.ui import out, pieces, styled
from infractl.models.gate import age_text

STATUS_STYLE = {"met": "green", "not-met": "bold red", "stale": "yellow"}


def print_verdict(verdict: Any) -> None:
    console = out()
    result = ("PASSED", "bold green") if verdict.passed else ("NOT MET", "bold red")
    console.print(pieces(f"gate {verdict.gate} ({verdict.title}) for {verdict.env}: ", result))
    table = Table(show_header=True, header_style="bold")
    for col in ("criterion", "status", "evidence", "age / limit", "why"):
        table.add_column(col)
    for criterion in verdict.criteria:
        for i, ev in enumerate(criterion.evidence):
            age = "live" if not ev.max_age else f"{age_text(ev.age_seconds)} / {ev.max_age}"
            table.add_row(
                criterion.id if i == 0 else "",
                styled(criterion.status, STATUS_STYLE[criterion.status]) if i == 0 else "",
                styled(f"{ev.kind} ({ev.status})", STATUS_STYLE[ev.status]),
                age,
                ev.detail,
            )
    console.print(table)
    for path in verdict.files:
        console.print(styled(f"report: {path}", "dim"))
    if verdict.ledger:
        console.print(styled(f"evidence ledger entry {verdict.ledger.seq} ({verdict.ledger.ref})", "dim"))
    for line in verdict.notes:
        console.print(styled(line, "yellow"))
