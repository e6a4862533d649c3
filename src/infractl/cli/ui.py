"""The one output path: data on stdout, diagnostics and progress on stderr, JSON without decoration."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infractl.models.runs import Event, RunResult, StackResult


def _console(stream) -> Console:
    # Not a terminal (pipes, CI logs): wide enough that tables keep whole names.
    width = None if stream.isatty() else 160
    return Console(file=stream, highlight=False, soft_wrap=True, width=width, emoji=False)


def out() -> Console:
    return _console(sys.stdout)


def err() -> Console:
    return _console(sys.stderr)


def interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def print_raw(line: str) -> None:
    """One line on stdout exactly as given (log and `export` lines): no markup, no wrapping; flushed."""
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def print_error(message: str, details: list[str], hint: str | None) -> None:
    console = err()
    console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    for line in details:
        console.print(f"  {line}", markup=False)
    if hint:
        console.print(f"[dim]hint:[/] {hint}", markup=True)


STATUS_STYLE = {
    "applied": "green",
    "up-to-date": "dim",
    "changes": "yellow",
    "destroyed": "magenta",
    "failed": "bold red",
    "not-reached": "red",
    "stopped": "bold yellow",
    "not-started": "yellow",
}


def run_table(result: RunResult) -> Table:
    table = Table(
        title=f"{result.operation} {result.env}{' (emulator)' if result.emulated else ''}",
        title_justify="left",
    )
    for col in ("stack", "status", "add", "change", "destroy", "duration"):
        table.add_column(col, justify="right" if col in ("add", "change", "destroy", "duration") else "left")
    for s in result.stacks:
        destroy = f"[bold red]{s.destroy}[/]" if s.destroy else "0"
        table.add_row(
            s.stack,
            f"[{STATUS_STYLE.get(s.status, '')}]{s.status}[/]",
            str(s.add),
            str(s.change),
            destroy,
            f"{s.duration_s:.1f}s",
        )
    return table


def print_run(result: RunResult) -> None:
    console = out()
    console.print(run_table(result))
    for s in result.stacks:
        if s.destroyed:
            console.print(f"[bold red]{s.stack}: destroys or replaces {len(s.destroyed)}:[/]")
            for addr in s.destroyed:
                console.print(f"  [red]- {addr}[/]")
    for s in result.stacks:
        if s.retained:
            console.print(f"[yellow]{s.stack}: {s.hint}[/]")
    for s in result.stacks:
        if s.status == "failed":
            print_error(f"{s.stack}: {s.error}", s.error_details, s.hint)


class PlainProgress:
    """Timestamped lines on stderr: for CI logs and pipes."""

    def __init__(self) -> None:
        self.console = err()

    def _line(self, text: str) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        self.console.print(f"{stamp} {text}", markup=False, highlight=False)

    def stack_started(self, stack: str, phase: str) -> None:
        self._line(f"{stack}: {phase}")

    def stack_event(self, stack: str, event: Event) -> None:
        reads = event.message.startswith("data.") or ".data." in event.message.split(":")[0]
        if (event.kind in ("apply_complete", "apply_errored", "change_summary", "planned_change") and not reads) or (
            event.level != "info"
        ):
            self._line(f"{stack}: {event.level + ': ' if event.level != 'info' else ''}{event.message}")

    def stack_finished(self, result: StackResult) -> None:
        self._line(
            f"{result.stack}: {result.status} (+{result.add} ~{result.change} -{result.destroy},"
            f" {result.duration_s:.1f}s)"
        )

    def note(self, message: str) -> None:
        self._line(message)


class LiveProgress:
    """A Rich progress view on a terminal: one row per stack with its phase and latest event."""

    def __init__(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.fields[stack]:<12}"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err(),
            transient=False,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> LiveProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _task(self, stack: str) -> Any:
        if stack not in self.tasks:
            self.tasks[stack] = self.progress.add_task("", stack=stack, total=None)
        return self.tasks[stack]

    def stack_started(self, stack: str, phase: str) -> None:
        self.progress.update(self._task(stack), description=phase)

    def stack_event(self, stack: str, event: Event) -> None:
        if event.message:
            self.progress.update(self._task(stack), description=event.message[:90])

    def stack_finished(self, result: StackResult) -> None:
        task = self._task(result.stack)
        style = STATUS_STYLE.get(result.status, "")
        self.progress.update(task, description=f"[{style}]{result.status}[/]", total=1, completed=1)
        self.progress.stop_task(task)

    def note(self, message: str) -> None:
        self.progress.console.print(message, markup=False)


class _PlainContext(PlainProgress):
    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def progress(*, quiet: bool = False) -> Any:
    """A context manager yielding the progress reporter fitting this terminal."""
    if quiet:
        from contextlib import nullcontext

        from infractl.models.runs import NullProgress

        return nullcontext(NullProgress())
    return LiveProgress() if interactive() else _PlainContext()


GATE_STYLE = {"pass": "green", "fail": "bold red", "not-run": "yellow"}


def print_validation(report: Any, written: list[Any]) -> None:
    """The summary table (stack x env x gate), the findings, waivers, cost totals and the report files."""
    from infractl.models.validation import GATES

    console = out()
    gates = [g for g in GATES if any(g in c.gates for c in report.cells)]
    table = Table(title=f"validate ({report.duration_s:.0f}s, {report.jobs} jobs)", title_justify="left")
    table.add_column("stack")
    table.add_column("env")
    for gate in gates:
        table.add_column(gate)
    table.add_column("$/month", justify="right")
    for cell in report.cells:
        row = [cell.stack, cell.env]
        for gate in gates:
            status = cell.gates.get(gate, "")
            row.append(f"[{GATE_STYLE.get(status, '')}]{status}[/]")
        row.append("" if cell.monthly_usd is None else f"{cell.monthly_usd:,.2f}")
        table.add_row(*row)
    console.print(table)
    for name, cost in report.costs.items():
        state = "[bold red]over budget[/]" if cost.total_usd > cost.budget_usd else "[green]within budget[/]"
        partial = "" if cost.complete else " (planned stacks only)"
        unpriced = f", [bold red]{len(cost.unpriced)} unpriced[/]" if cost.unpriced else ""
        console.print(
            f"cost {name}: ${cost.total_usd:,.2f}/month{partial} of ${cost.budget_usd:,.2f} budget: {state}{unpriced}"
            f" [dim](catalog {cost.catalog_version})[/]"
        )
    if report.parity is not None:
        console.print(parity_summary(report.parity))
    if report.waived:
        console.print(f"[dim]{len(report.waived)} checkov failure(s) waived with a written reason (see the JSON)[/]")
    for f in report.findings:
        where = f"{f.file}:{f.line}" if f.file and f.line else f.file
        scope = f"{f.stack}/{f.env}" if f.env else f.stack
        target = f" {f.address}" if f.address else ""
        text = escape(f"{f.gate} {f.rule} [{scope}]{target}: {f.message}")
        console.print(f"[bold red]FAIL[/] {text}" + (f" [dim]({escape(where)})[/]" if where else ""), highlight=False)
    for path in written:
        console.print(f"[dim]report: {path}[/]")
    verdict = "[green]all gates passed[/]" if report.ok else f"[bold red]{len(report.findings)} finding(s)[/]"
    console.print(verdict)


def print_cost(result: Any) -> None:
    console = out()
    env = result.env
    table = Table(title=f"cost {env.env} (catalog {env.catalog_version}, USD/month)", title_justify="left")
    for col in ("stack", "resource", "type", "$/month", "basis"):
        table.add_column(col, justify="right" if col == "$/month" else "left")
    for line in env.lines:
        if line.monthly_usd == 0.0 and "no charge" in line.basis:
            continue
        shown = "[bold red]unpriced[/]" if line.monthly_usd is None else f"{line.monthly_usd:,.2f}"
        table.add_row(line.stack, escape(line.address), line.type, shown, escape(line.basis))
    console.print(table)
    stacks = sorted({line.stack for line in env.lines})
    for stack in stacks:
        console.print(f"  {stack:<10} {env.stack_total(stack):>12,.2f}")
    console.print(f"  {'total':<10} {env.total_usd:>12,.2f}  (budget {env.budget_usd:,.2f})")
    if env.unpriced:
        console.print(f"[bold red]{len(env.unpriced)} unpriced resource(s), not counted:[/] {', '.join(env.unpriced)}")
    if result.other is not None:
        console.print(
            f"\ncompared with {result.other_name}: total {result.other.total_usd:,.2f}"
            f" ({'+' if (result.delta_usd or 0) >= 0 else ''}{result.delta_usd:,.2f})"
        )
        diff = Table(title=f"{env.env} -> {result.other_name}", title_justify="left")
        for col in ("stack", "resource", env.env, str(result.other_name), "delta"):
            diff.add_column(col, justify="left" if col in ("stack", "resource") else "right")
        for d in result.differences:
            diff.add_row(
                d.stack,
                escape(d.address),
                "-" if d.a_usd is None else f"{d.a_usd:,.2f}",
                "-" if d.b_usd is None else f"{d.b_usd:,.2f}",
                f"{d.delta_usd:+,.2f}",
            )
        console.print(diff)


PARITY_STYLE = {"same": "green", "differs": "yellow", "missing": "magenta", "violated": "bold red"}


def print_parity(report: Any) -> None:
    """The matrix (stack x capability x cloud), then every violation with its file, then the docs status."""
    console = out()
    clouds = [c.cloud for c in report.clouds]
    table = Table(title="parity", title_justify="left")
    table.add_column("stack")
    table.add_column("capability")
    for cloud in clouds:
        table.add_column(cloud)
    cells = {(c.stack, c.capability, c.cloud): c.status for c in report.cells}
    for stack, capability in dict.fromkeys((c.stack, c.capability) for c in report.cells):
        row = [stack, capability]
        for cloud in clouds:
            status = cells.get((stack, capability, cloud), "violated")
            row.append(f"[{PARITY_STYLE[status]}]{'✓' if status == 'same' else status}[/]")
        table.add_row(*row)
    console.print(table)
    for c in report.clouds:
        if not c.schema_validated:
            console.print(
                f"[yellow]{c.cloud}: not validated against the provider schema[/] [dim]({', '.join(c.checks)})[/]"
            )
    for v in report.violations:
        where = f"{v.file}:{v.line}" if v.line else v.file
        console.print(
            f"[bold red]FAIL[/] {escape(f'{v.rule}: {v.message}')} [dim]({escape(where)})[/]", highlight=False
        )
    if report.docs == "stale":
        console.print("[bold red]FAIL[/] docs/parity.md is stale: run `infractl parity` and commit the result")
    elif report.docs:
        console.print(f"[dim]docs/parity.md: {report.docs}[/]")
    verdict = (
        "[green]every stack keeps its contract[/]"
        if report.ok
        else f"[bold red]{len(report.violations)} violation(s)[/]"
    )
    console.print(verdict)


def parity_summary(report: Any) -> str:
    counts = {s: sum(c.status == s for c in report.cells) for s in ("same", "differs", "missing", "violated")}
    unvalidated = [c.cloud for c in report.clouds if not c.schema_validated]
    text = (
        f"parity: {len(report.stacks)} stacks x {len(report.clouds)} clouds, {counts['same']} same,"
        f" {counts['differs']} differ, {counts['missing']} missing"
    )
    if counts["violated"]:
        text += f", [bold red]{counts['violated']} violated[/]"
    if unvalidated:
        text += f" [yellow]({', '.join(unvalidated)}: not validated against the provider schema)[/]"
    return text


DEV_HEALTH_STYLE = {"healthy": "green", "unhealthy": "bold red", "stopped": "yellow", "completed": "dim"}


def print_dev_status(result: Any, *, title: str) -> None:
    """`infractl dev up` / `status`: a row per service (health coloured), then notes and where the logs are."""
    console = out()
    if result.mode == "none" or not result.services:
        console.print("the dev stack is not running", markup=False)
        return
    table = Table(title=f"{title} ({result.mode})", title_justify="left")
    columns = ["service", "health", "pid", "address", "url"]
    show_action = any(s.action for s in result.services)
    if show_action:
        columns.insert(2, "action")
    for col in columns:
        table.add_column(col, justify="right" if col == "pid" else "left")
    for s in result.services:
        row = [s.name, f"[{DEV_HEALTH_STYLE.get(s.health, '')}]{s.health}[/]"]
        if show_action:
            row.append(s.action or "")
        row += [str(s.pid or ""), s.address or "", escape(s.url or "")]
        table.add_row(*row)
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    if result.mode == "native":
        console.print(f"[dim]logs: {escape(result.work_dir)}/<service>.log (infractl dev logs SERVICE)[/]")
        console.print("[dim]environment: infractl dev env (add --show-secrets for the root token)[/]")
