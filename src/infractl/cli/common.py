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


def emulate_option() -> bool:
    # INFRACTL_EMULATE is read by Settings (the one loader of INFRACTL_* variables), not by Typer.
    return typer.Option(False, "--emulate", help=EMULATE_HELP)


def json_option() -> bool:
    return typer.Option(False, "--json", help=JSON_HELP)


def context(*, emulate: bool = False) -> Context:
    from infractl.services.context import Context
    from infractl.services.project import find_project
    from infractl.settings import Settings

    settings = _settings(Settings)
    root = GLOBALS.root or settings.root
    project = find_project(Path.cwd(), root=root, work_dir=settings.work_dir)
    local = project.work_dir / "settings.env"
    if local.is_file():  # machine-local defaults (e.g. the provider mirror `make` found); variables win
        settings = _settings(Settings, _env_file=local)
    return Context(project=project, settings=settings, emulate=emulate or settings.emulate)


def _settings(cls, **kwargs):
    """Settings from INFRACTL_* variables; a bad value is a config error naming the variable."""
    from pydantic import ValidationError

    from infractl.adapters.files import validation_line
    from infractl.errors import ConfigError

    try:
        return cls(**kwargs)
    except ValidationError as exc:
        lines = [
            validation_line(f"environment variable INFRACTL_{str(e['loc'][0]).upper()}", {**e, "loc": ()}).replace(
                ": (top level): ", ": "
            )
            for e in exc.errors()
        ]
        raise ConfigError(lines[0], details=lines[1:], hint="fix or unset the variable") from None


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
