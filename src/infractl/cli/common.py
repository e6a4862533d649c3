"""Shared CLI plumbing: global options, building the service context, confirmation."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from infractl.services.context import Context

EMULATE_HELP = (
    "Target the local AWS emulator (moto server on loopback) instead of the cloud. Default: INFRACTL_EMULATE."
)
JSON_HELP = "Print the result as JSON on stdout, nothing else."


@dataclass
class Globals:
    root: Path | None = None
    verbose: bool = False


GLOBALS = Globals()


def emulate_option(help: str = EMULATE_HELP) -> bool:
    # INFRACTL_EMULATE is read by Settings (the one loader of INFRACTL_* variables), not by Typer.
    return typer.Option(False, "--emulate", help=help)


def json_option() -> bool:
    return typer.Option(False, "--json", help=JSON_HELP)


PORT_MIN, PORT_MAX = 1, 65535


def either(ctx: typer.Context, name: str, on: bool, off: bool, default: bool | None) -> bool | None:
    """The value of a `--NAME` / `--no-NAME` pair, declared as two flags so that giving both is a usage error
    (exit 2) instead of the last one winning silently. Neither: `default`."""
    if on and off:
        raise typer.BadParameter("they contradict each other: give one", ctx=ctx, param_hint=f"--{name} / --no-{name}")
    return True if on else False if off else default


def context(*, emulate: bool = False) -> Context:
    from infractl.services.context import build

    return build(root=GLOBALS.root, emulate=emulate)


def confirmer(yes: bool):
    """A confirm callback: --yes answers yes; a terminal asks; without one the command stops (exit 2)."""
    from infractl.errors import UsageError

    def confirm(question: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise UsageError(f"{question} — needs confirmation", hint="re-run with --yes to confirm")
        return typer.confirm(question, default=False, err=True)

    return confirm
