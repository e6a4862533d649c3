"""Rendering of `infractl rollout` and its status, on cli/ui.py's consoles."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from infractl.cli.ui import out, pieces, styled

STATUS_STYLE = {
    "succeeded": "bold green",
    "running": "cyan",
    "interrupted": "yellow",
    "rolled-back": "bold red",
    "aborted": "bold red",
    "failed": "bold red",
}
VERDICT_STYLE = {"passed": "green", "breached": "bold red", "inconclusive": "yellow", "interrupted": "yellow"}


def print_state(state: Any) -> None:
    console = out()
    status = (state.status.upper(), STATUS_STYLE.get(state.status, ""))
    console.print(pieces(f"rollout of {state.release} to {state.env} ({state.strategy}): ", status))
    weights = ", ".join(f"{k} {v} %" for k, v in state.weights.items())
    console.print(f"traffic: {weights}  (endpoint {state.endpoint})", markup=False)
    if state.history:
        table = Table(show_header=True, header_style="bold", title="steps", title_justify="left")
        for col in ("canary weight", "verdict", "samples", "worst error ratio", "threshold"):
            table.add_column(col)
        for step in state.history:
            ratios = [s.error_ratio for s in step.samples if s.error_ratio is not None]
            worst = f"{max(ratios):.4f}" if ratios else "-"
            limits = sorted({f"{s.slo} ≤ {s.max_error_ratio:g}" for s in step.samples})
            label = "warm-up" if step.weight == 0 else f"{step.weight} %"
            verdict = styled(step.verdict, VERDICT_STYLE.get(step.verdict, ""))
            table.add_row(label, verdict, str(len(step.samples)), worst, "; ".join(limits))
        console.print(table)
    if state.rollback is not None:
        rb = state.rollback
        took = f" ({rb.seconds:.2f} s from the first breaching scrape)" if rb.seconds is not None else ""
        console.print(f"rolled back: {rb.reason}{took}", markup=False)
    if state.status not in ("succeeded", "running"):
        console.print(f"runbook: {state.runbook}", markup=False)
    if state.files:
        console.print(f"report: {', '.join(state.files)}", markup=False)


def print_status(result: Any) -> None:
    console = out()
    console.print(result.explanation, markup=False)
    if result.live_weights is not None:
        console.print("proxy now: " + ", ".join(f"{k} {v} %" for k, v in result.live_weights.items()), markup=False)
    if result.state is not None and result.state.history:
        print_state(result.state)
    for line in result.next:
        console.print(f"  {line}", markup=False)
