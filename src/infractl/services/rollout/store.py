"""The rollout's state file, <dev>/rollout/state.json (docs/delivery.md#state): written after every change the proxy
confirmed, so that a rollout interrupted at any point (Ctrl-C, a kill, a crash) leaves a state `rollout status`
explains and `rollout abort` or a re-run resolves."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from infractl.adapters import files
from infractl.errors import ConfigError
from infractl.models.rollout import RolloutState


def path(directory: Path) -> Path:
    return directory / "rollout" / "state.json"


def now() -> datetime:
    return datetime.now(UTC)


def load(directory: Path) -> RolloutState | None:
    """The last rollout's state; a `running` one whose process is gone reads as `interrupted`."""
    file = path(directory)
    if not file.is_file():
        return None
    try:
        state = RolloutState.model_validate_json(file.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise ConfigError(
            f"{file}: not a rollout state ({str(exc).splitlines()[0]})",
            hint="look at the proxy's weights (infractl dev status), then remove the file",
        ) from None
    if state.status == "running" and not alive(state.pid):
        state = state.model_copy(update={"status": "interrupted"})
    return state


def save(directory: Path, state: RolloutState) -> RolloutState:
    state = state.model_copy(update={"updated_at": now()})
    file = path(directory)
    file.parent.mkdir(parents=True, exist_ok=True)
    files.write_json(file, state.model_dump(mode="json"))
    return state


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
