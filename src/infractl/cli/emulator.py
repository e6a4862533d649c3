"""infractl emulator: the local AWS emulator."""

from __future__ import annotations

import typer

from infractl.cli.common import PORT_MAX, PORT_MIN, context, json_option

app = typer.Typer(help="Run the local AWS emulator (moto server on a free loopback port).", no_args_is_help=True)


def _print(state, as_json: bool, verb: str) -> None:
    from infractl.cli import ui

    ui.print_local_service("emulator", state, verb, where=f"data {state.data_dir}", as_json=as_json)


@app.command()
def start(
    port: int = typer.Option(
        None, min=PORT_MIN, max=PORT_MAX, help="Port on 127.0.0.1, 1-65535 (default: a free one)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Start the emulator (idempotent: an emulator already running is reused)."""
    from infractl.services import emulator

    state, started = emulator.start(context(), port=port)
    _print(state, as_json, "started" if started else "already running")


@app.command()
def stop(as_json: bool = json_option()) -> None:
    """Stop the emulator. Its data lives in memory and is gone afterwards."""
    from infractl.services import emulator

    state, was_running = emulator.stop(context())
    _print(state, as_json, "stopped" if was_running else "was not running")


@app.command()
def status(as_json: bool = json_option()) -> None:
    """Show whether the emulator runs, and where."""
    from infractl.services import emulator

    state = emulator.status(context())
    _print(state, as_json, "running" if state.running else "not running")
