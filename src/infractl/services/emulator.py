"""`infractl emulator start|stop|status`: the local AWS emulator of this project's work folder."""

from __future__ import annotations

from infractl.adapters import emulator
from infractl.adapters.emulator import EmulatorState
from infractl.services.context import Context


def start(ctx: Context, *, port: int | None = None) -> tuple[EmulatorState, bool]:
    """Start the emulator unless it runs already: (state, started now)."""
    return emulator.start(ctx.project.emulator_dir, port=port)


def stop(ctx: Context) -> tuple[EmulatorState, bool]:
    """Stop the emulator (its data is gone afterwards): (state afterwards, whether it was running)."""
    was_running = emulator.stop(ctx.project.emulator_dir)
    return emulator.status(ctx.project.emulator_dir), was_running


def status(ctx: Context) -> EmulatorState:
    return emulator.status(ctx.project.emulator_dir)
