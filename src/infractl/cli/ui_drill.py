"""Rendering of `infractl drill dr` and `drill faults`, on cli/ui.py's consoles."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from infractl.cli.ui import err, out, pieces, print_json, styled

__all__ = ["print_json", "print_report"]

STATUS_STYLE = {"passed": "green", "failed": "bold red", "skipped": "yellow"}


def print_report(report: Any, notes: list[str]) -> None:
    console = out()
    verdict = ("PASSED", "bold green") if report.passed else ("FAILED", "bold red")
    what = "disaster recovery drill" if report.kind == "dr" else "fault drill"
    took = (report.finished_at - report.started_at).total_seconds()
    console.print(pieces(f"{what} {report.env}: ", verdict, f" in {took:.1f} s"))
    if report.kind == "dr" and report.measures:
        table = Table(show_header=True, header_style="bold", title="objectives", title_justify="left")
        for col in ("objective", "scope", "target", "measured", "result", "how"):
            table.add_column(col)
        for m in report.measures:
            measured = "-" if m.measured_seconds is None else f"{m.measured_seconds:.1f} s"
            result = {True: ("pass", "green"), False: ("FAIL", "bold red"), None: ("-", "")}[m.passed]
            table.add_row(m.name.upper(), m.scope, f"{m.target_minutes} min", measured, styled(*result), m.detail)
        console.print(table)
    if report.kind == "faults":
        table = Table(show_header=True, header_style="bold", title="scenarios", title_justify="left")
        for col in ("scenario", "result", "started", "completed", "lost", "duplicated", "recovery"):
            table.add_column(col)
        for s in report.scenarios:
            c = s.check
            cells = [str(v) for v in (c.started, c.completed, c.lost, c.duplicated)] if c else ["-"] * 4
            rec = "-" if s.recovery_seconds is None else f"{s.recovery_seconds:.2f} s"
            table.add_row(s.scenario, styled(*(("pass", "green") if s.passed else ("FAIL", "bold red"))), *cells, rec)
        console.print(table)
    steps = (
        [s for p in report.parts for s in p.steps]
        if report.kind == "dr"
        else [s for sc in report.scenarios for s in sc.steps]
    )
    table = Table(show_header=True, header_style="bold", title="steps", title_justify="left")
    for col in ("step", "result", "seconds", "detail"):
        table.add_column(col)
    for s in steps:
        detail = s.reason if s.status == "failed" else s.detail
        table.add_row(s.name, styled(s.status, STATUS_STYLE[s.status]), f"{s.seconds:.2f}", detail or "")
    console.print(table)
    for n in report.notes:
        console.print(styled(f"note: {n}", "dim"))
    for f in report.files:
        console.print(styled(f"report: {f}", "dim"))
    if report.ledger:
        console.print(styled(f"evidence: ledger entry {report.ledger.seq} ({report.ledger.ref})", "dim"))
    for n in notes:
        err().print(styled(f"note: {n}", "yellow"))
