"""The one output path: data on stdout, diagnostics and progress on stderr, JSON without decoration.

Text from outside (messages, file content, names, Terraform's addresses and events) is never read as Rich markup:
the consoles print strings literally (markup off) and styles are applied only through `Text` spans."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from infractl.models.runs import Event, RunResult, StackResult


def _console(stream) -> Console:
    # Not a terminal (pipes, CI logs): wide enough that tables keep whole names.
    width = None if stream.isatty() else 160
    return Console(file=stream, highlight=False, markup=False, soft_wrap=True, width=width, emoji=False)


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


def print_local_service(name: str, state: Any, verb: str, *, where: str, as_json: bool) -> None:
    """A local service's state (the emulator, the registry): its JSON, or `NAME VERB: URL (pid N, WHERE)`, and on
    stderr why a recorded one is gone (`note`, when the state has one)."""
    if as_json:
        print_json(state.model_dump(mode="json"))
    elif state.running:
        out().print(f"{name} {verb}: {state.url} (pid {state.pid}, {where})")
    else:
        out().print(f"{name} {verb}")
        if getattr(state, "note", None):
            err().print(state.note)


def styled(text: object, style: str = "") -> Text:
    """Literal text in one style: never parsed as markup."""
    return Text(str(text), style=style)


def pieces(*parts: str | tuple[str, str]) -> Text:
    """Literal pieces, each optionally styled: pieces("plain ", ("red text", "red"))."""
    return Text.assemble(*parts)


def print_error(message: str, details: list[str], hint: str | None) -> None:
    console = err()
    console.print(pieces(("error:", "bold red"), f" {message}"))
    for detail in details:
        console.print(f"  {detail}")
    if hint:
        console.print(pieces(("hint:", "dim"), f" {hint}"))


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
        destroy = styled(s.destroy, "bold red") if s.destroy else "0"
        table.add_row(
            s.stack,
            styled(s.status, STATUS_STYLE.get(s.status, "")),
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
            console.print(styled(f"{s.stack}: destroys or replaces {len(s.destroyed)}:", "bold red"))
            for addr in s.destroyed:
                console.print(styled(f"  - {addr}", "red"))
    for s in result.stacks:
        if s.retained:
            console.print(styled(f"{s.stack}: {s.hint}", "yellow"))
    for s in result.stacks:
        if s.status == "failed":
            print_error(f"{s.stack}: {s.error}", s.error_details, s.hint)


def progress_lines() -> Any:
    """A service's progress callback (one message a call): timestamped lines on stderr, never on stdout."""
    plain = PlainProgress()
    return lambda message: plain.note(message) if message else None


class PlainProgress:
    """Timestamped lines on stderr: for CI logs and pipes."""

    def __init__(self) -> None:
        self.console = err()

    def _line(self, text: str) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        self.console.print(f"{stamp} {text}")

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
            TextColumn("{task.fields[stack]:<12}", markup=False),
            TextColumn("{task.description}", markup=False),
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
        self.progress.update(task, description=result.status, total=1, completed=1)
        self.progress.stop_task(task)

    def note(self, message: str) -> None:
        self.progress.console.print(message)


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
            row.append(styled(status, GATE_STYLE.get(status, "")))
        row.append("" if cell.monthly_usd is None else f"{cell.monthly_usd:,.2f}")
        table.add_row(*row)
    console.print(table)
    for name, cost in report.costs.items():
        state = ("over budget", "bold red") if cost.total_usd > cost.budget_usd else ("within budget", "green")
        partial = "" if cost.complete else " (planned stacks only)"
        console.print(
            pieces(
                f"cost {name}: ${cost.total_usd:,.2f}/month{partial} of ${cost.budget_usd:,.2f} budget: ",
                state,
                *([", ", (f"{len(cost.unpriced)} unpriced", "bold red")] if cost.unpriced else []),
                (f" (catalog {cost.catalog_version})", "dim"),
            )
        )
    if report.parity is not None:
        console.print(parity_summary(report.parity))
    if report.waived:
        console.print(
            styled(f"{len(report.waived)} checkov failure(s) waived with a written reason (see the JSON)", "dim")
        )
    for f in report.findings:
        where = f"{f.file}:{f.line}" if f.file and f.line else f.file
        scope = f"{f.stack}/{f.env}" if f.env else f.stack
        target = f" {f.address}" if f.address else ""
        text = f"{f.gate} {f.rule} [{scope}]{target}: {f.message}"
        console.print(pieces(("FAIL", "bold red"), f" {text}", *([(f" ({where})", "dim")] if where else [])))
    for path in written:
        console.print(styled(f"report: {path}", "dim"))
    console.print(
        styled("all gates passed", "green") if report.ok else styled(f"{len(report.findings)} finding(s)", "bold red")
    )


def print_cost(result: Any) -> None:
    console = out()
    env = result.env
    table = Table(title=f"cost {env.env} (catalog {env.catalog_version}, USD/month)", title_justify="left")
    for col in ("stack", "resource", "type", "$/month", "basis"):
        table.add_column(col, justify="right" if col == "$/month" else "left")
    for line in env.lines:
        if line.monthly_usd == 0.0 and "no charge" in line.basis:
            continue
        shown = styled("unpriced", "bold red") if line.monthly_usd is None else f"{line.monthly_usd:,.2f}"
        table.add_row(line.stack, line.address, line.type, shown, line.basis)
    console.print(table)
    stacks = sorted({line.stack for line in env.lines})
    for stack in stacks:
        console.print(f"  {stack:<10} {env.stack_total(stack):>12,.2f}")
    console.print(f"  {'total':<10} {env.total_usd:>12,.2f}  (budget {env.budget_usd:,.2f})")
    if env.unpriced:
        console.print(
            pieces(
                (f"{len(env.unpriced)} unpriced resource(s), not counted:", "bold red"), " ", ", ".join(env.unpriced)
            )
        )
    for note in [*env.notes, *(result.other.notes if result.other is not None else [])]:
        console.print(pieces(("note", "yellow"), f" {note}"))
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
                d.address,
                "-" if d.a_usd is None else f"{d.a_usd:,.2f}",
                "-" if d.b_usd is None else f"{d.b_usd:,.2f}",
                f"{d.delta_usd:+,.2f}",
            )
        console.print(diff)


def print_init(result: Any) -> None:
    console = out()
    for rel in result.created:
        console.print(pieces(("created", "green"), f" {rel}"))
    for rel in result.kept:
        console.print(pieces(("kept", "dim"), f" {rel} ", ("(exists)", "dim")))
    console.print(f"project {result.root}: {len(result.created)} created, {len(result.kept)} kept")


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
            row.append(styled("✓" if status == "same" else status, PARITY_STYLE[status]))
        table.add_row(*row)
    console.print(table)
    for c in report.clouds:
        if not c.schema_validated:
            console.print(
                pieces(
                    (f"{c.cloud}: not validated against the provider schema", "yellow"),
                    " ",
                    (f"({', '.join(c.checks)})", "dim"),
                )
            )
    for v in report.violations:
        where = f"{v.file}:{v.line}" if v.line else v.file
        console.print(pieces(("FAIL", "bold red"), f" {v.rule}: {v.message} ", (f"({where})", "dim")))
    for note in report.notes:
        console.print(pieces(("note", "yellow"), f" {note}"))
    if report.docs == "stale":
        console.print(
            pieces(("FAIL", "bold red"), " docs/parity.md is stale: run `infractl parity` and commit the result")
        )
    elif report.docs:
        console.print(styled(f"docs/parity.md: {report.docs}", "dim"))
    console.print(
        styled("every stack keeps its contract", "green")
        if report.ok
        else styled(f"{len(report.violations)} violation(s)", "bold red")
    )


def parity_summary(report: Any) -> Text:
    counts = {s: sum(c.status == s for c in report.cells) for s in ("same", "differs", "missing", "violated")}
    unvalidated = [c.cloud for c in report.clouds if not c.schema_validated]
    text = Text(
        f"parity: {len(report.stacks)} stacks x {len(report.clouds)} clouds, {counts['same']} same,"
        f" {counts['differs']} differ, {counts['missing']} missing"
    )
    if counts["violated"]:
        text.append(", ").append(f"{counts['violated']} violated", "bold red")
    if unvalidated:
        text.append(" ").append(f"({', '.join(unvalidated)}: not validated against the provider schema)", "yellow")
    return text


DEV_HEALTH_STYLE = {"healthy": "green", "unhealthy": "bold red", "stopped": "yellow", "completed": "dim"}


def print_dev_status(result: Any, *, title: str) -> None:
    """`infractl dev up` / `status`: a row per service (health coloured), then notes and where the logs are."""
    console = out()
    if result.mode == "none" or not result.services:
        console.print("the dev stack is not running")
        return
    table = Table(title=f"{title} ({result.mode})", title_justify="left")
    columns = ["service", "health", "pid", "address", "url"]
    show_action = any(s.action for s in result.services)
    if show_action:
        columns.insert(2, "action")
    for col in columns:
        table.add_column(col, justify="right" if col == "pid" else "left")
    for s in result.services:
        row: list[str | Text] = [s.name, styled(s.health, DEV_HEALTH_STYLE.get(s.health, ""))]
        if show_action:
            row.append(s.action or "")
        row += [str(s.pid or ""), s.address or "", s.url or ""]
        table.add_row(*row)
    console.print(table)
    for note in result.notes:
        console.print(pieces(("note:", "yellow"), f" {note}"))
    if result.mode == "native":
        console.print(styled(f"logs: {result.work_dir}/<service>.log (infractl dev logs SERVICE)", "dim"))
        console.print(styled("environment: infractl dev env (add --show-secrets for the root token)", "dim"))
