"""The local queue of actions waiting for their env's ledger: <work_dir>/evidence-queue/<env>/, one JSON file per
action, named `<finish time, ns, 20 digits>-<id>.json` so that names sort oldest first.

A file is written whole or not at all (a temporary file, fsync, rename, fsync of the folder) and removed only after
its entry is in the ledger; a crash in between leaves it queued, and the next flush appends nothing twice (the entry's
ref is the action's id)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from infractl.models.evidence_actions import Action

FOLDER = "evidence-queue"
SUFFIX = ".json"


def folder(work_dir: Path, env: str) -> Path:
    return work_dir / FOLDER / env


def put(directory: Path, action: Action, finished_ns: int) -> Path:
    """Write one action durably; its path."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{finished_ns:020d}-{action.id}{SUFFIX}"
    data = (action.model_dump_json(indent=1) + "\n").encode()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_dir(directory)
    return path


def pending(directory: Path) -> list[Path]:
    """The queued files, oldest first (temporary files of a write in progress or interrupted are not actions)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix == SUFFIX and not p.name.startswith("."))


def read(path: Path) -> Action | None:
    """The action in a queued file; None when it is not one (kept in place, never appended, reported)."""
    try:
        return Action.model_validate(json.loads(path.read_bytes()))
    except (OSError, ValueError):
        return None


def remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
    if paths:
        _sync_dir(paths[0].parent)


def _sync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened for fsync
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
