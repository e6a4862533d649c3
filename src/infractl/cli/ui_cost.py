"""Rendering of `infractl cost rightsize`, on cli/ui.py's consoles: a table on a terminal, one plain line per resource
otherwise (logs, pipes); `--json` prints the model instead (cli/cost.py)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from infractl.cli.ui import out, pieces, styled

ACTION_STYLE = {"downsize": "green", "upsize": "bold yellow", "keep": "dim", "insufficient-data": "red"}
CONFIDENCE_STYLE = {"high": "green", "medium": "yellow", "low": "red"}


def _usd(value: float | None) -> str:
    return "unpriced" if value is None else f"{value:,.2f}"


def _peaks(r: Any) -> str:
    shown = ", ".join(
        f"{m.dimension} {m.peak_percent:g} %" if m.peak_percent is not None else f"{m.dimension} -"
        for m in r.measurements
    )
    return shown or "-"


def _dollars(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:,.2f}"


def print_rightsize(report: Any) -> None:
    console = out()
    title = (
        f"rightsize {report.env}{' (emulator)' if report.emulated else ''}: p{report.percentile:g} over"
        f" {report.lookback} in {report.period} samples, catalog {report.catalog_version}, USD/month"
    )
    columns = (
        "kind",
        "resource",
        "current",
        "recommended",
        "action",
        "confidence",
        "peak",
        "$ now",
        "$ then",
        "saving",
    )
    if console.is_terminal:
        table = Table(title=title, title_justify="left")
        for col in columns:
            table.add_column(col, justify="right" if col.startswith("$") or col == "saving" else "left")
        for r in report.recommendations:
            table.add_row(
                r.kind,
                r.name,
                r.current,
                r.recommended or "-",
                styled(r.action, ACTION_STYLE.get(r.action, "")),
                styled(r.confidence, CONFIDENCE_STYLE.get(r.confidence, "")),
                _peaks(r),
                _usd(r.current_monthly_usd),
                _usd(r.recommended_monthly_usd) if r.recommended else "-",
                "-" if r.monthly_saving_usd is None else f"{r.monthly_saving_usd:+,.2f}",
            )
        console.print(table)
    else:
        console.print(title)
        for r in report.recommendations:
            saving = "-" if r.monthly_saving_usd is None else f"{r.monthly_saving_usd:+,.2f}"
            then = _dollars(r.recommended_monthly_usd) if r.recommended else "-"
            console.print(
                f"{r.kind} {r.name}: {r.current} -> {r.recommended or '-'} {r.action} ({r.confidence} confidence;"
                f" peak {_peaks(r)}) {_dollars(r.current_monthly_usd)} -> {then} saving {saving}"
            )
    for r in report.recommendations:
        if r.action != "keep" or r.confidence == "low":
            for reason in r.reasons:
                console.print(pieces(("  " + r.name, "bold"), f": {reason}"))
    console.print(f"monthly saving if applied: {report.monthly_saving_usd:,.2f} USD")
    if report.unpriced:
        console.print(
            pieces((f"{len(report.unpriced)} unpriced, not counted:", "bold red"), " ", ", ".join(report.unpriced))
        )
    for note in report.notes:
        console.print(pieces(("note", "yellow"), f" {note}"))
