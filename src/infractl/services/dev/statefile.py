"""The dev stack's folder (<work_dir>/dev) and its state file, state.json: what `up` started, on which ports, with
which root token. One `up`/`down` at a time holds the folder's lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from infractl.adapters import files
from infractl.adapters import localservices as ls
from infractl.errors import ConfigError, UsageError

STATE_VERSION = 1


def dev_dir(work_dir: Path) -> Path:
    return work_dir / "dev"


def state_path(directory: Path) -> Path:
    return directory / "state.json"


def empty_state() -> dict[str, Any]:
    return {"version": STATE_VERSION, "mode": None, "services": {}, "ports": {}}


def load_state(directory: Path) -> dict[str, Any]:
    """The recorded state, or an empty one. A corrupt file is a ConfigError naming it."""
    path = state_path(directory)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return empty_state()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: not valid JSON ({exc})", hint="stop leftover processes by hand, then delete the file"
        ) from None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        raise ConfigError(f"{path}: unknown state format", hint="stop leftover processes by hand, then delete it")
    data.setdefault("services", {})
    data.setdefault("ports", {})
    return data


def save_state(directory: Path, state: Mapping[str, Any]) -> None:
    """Write atomically, readable by the owner only (it holds the dev root token)."""
    files.write_json(state_path(directory), dict(state))


def record(r: ls.Running, *, started_by_us: bool = True) -> dict[str, Any]:
    return {**r.to_dict(), "started_by_us": started_by_us}


def recorded_alive(state: Mapping[str, Any]) -> bool:
    if state.get("mode") == "docker":
        return True
    return any(ls.survivors(ls.Running.from_dict(e)) for e in state.get("services", {}).values())


def private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    # The state and the logs (which may hold the dev root token) are 0600; the folder is 0711 so that the `postgres`
    # user (when infractl runs as root) can reach its data folder inside without listing the rest.
    os.chmod(directory, 0o711)


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """One `up`/`down` at a time per work dir."""
    import fcntl

    with open(directory / "lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                "another `infractl dev up/down` is running on this work folder", hint="wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


UP_HINT = "start it with `infractl dev up --no-docker`"


class RecordedServices:
    """The services of a running stack's state, for what acts on it (the drills' harness, the rollout): needs
    `directory` (<dev>) and `state` (the loaded state file); every change is saved at once."""

    directory: Path
    state: dict[str, Any]

    @property
    def ports(self) -> dict[str, int]:
        return dict(self.state["ports"])

    def has(self, name: str) -> bool:
        return name in self.state["services"]

    def service(self, name: str) -> ls.Running:
        entry = self.state["services"].get(name)
        if entry is None:
            raise UsageError(f"the dev stack has no {name} service", hint=UP_HINT)
        return ls.Running.from_dict(entry)

    def record(self, r: ls.Running) -> None:
        self.state["services"][r.name] = record(r)
        save_state(self.directory, self.state)

    def forget(self, name: str) -> None:
        if self.state["services"].pop(name, None) is not None:
            save_state(self.directory, self.state)
