"""The one output path: data on stdout, diagnostics and progress on stderr, JSON without decoration."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from infractl.adapters.terraform import Event
from infractl.models.runs import RunResult, StackResult


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
