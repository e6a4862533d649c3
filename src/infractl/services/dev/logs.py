"""The logs of the native dev stack: each service's log file (and the seed and migrate steps'), their last lines,
and following them. Docker mode's logs are `docker compose logs` (compose.docker_logs_argv).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from infractl.adapters import process
from infractl.errors import UsageError
from infractl.services.dev.contract import SERVICES, STEP_LOGS
from infractl.services.dev.statefile import dev_dir, load_state


def log_files(work_dir: Path, service: str | None = None) -> dict[str, Path]:
    """The log file of each service (and of the seed and migrate steps) of the native stack."""
    directory = dev_dir(work_dir)
    names = SERVICES + STEP_LOGS
    if service is not None and service not in names:
        raise UsageError(f"unknown service {service!r}", hint=f"one of {', '.join(names)}")
    state = load_state(directory)
    files = {}
    for name in names if service is None else (service,):
        entry = state["services"].get(name)
        path = Path(entry["log"]) if entry else directory / f"{name}.log"
        if path.is_file() or service is not None:
            files[name] = path
    return files


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def plain(line: str) -> str:
    """A log line without terminal colour codes (moto colours its access log)."""
    return _ANSI.sub("", line)


def tail(files: Mapping[str, Path], lines: int) -> Iterator[tuple[str, str]]:
    for name, path in files.items():
        for line in process.tail_file(path, lines):
            yield name, plain(line)


def follow(files: Mapping[str, Path], *, poll_s: float = 0.3) -> Iterator[tuple[str, str]]:
    """New lines appended to files, forever (the caller stops on Ctrl-C)."""
    offsets = {name: (path.stat().st_size if path.exists() else 0) for name, path in files.items()}
    partial = {name: "" for name in files}
    while True:
        quiet = True
        for name, path in files.items():
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            if size < offsets[name]:  # truncated or replaced
                offsets[name] = 0
            if size == offsets[name]:
                continue
            with open(path, "rb") as fh:
                fh.seek(offsets[name])
                chunk = fh.read()
            offsets[name] += len(chunk)
            text = partial[name] + chunk.decode("utf-8", errors="replace")
            *complete, partial[name] = text.split("\n")
            for line in complete:
                quiet = False
                yield name, plain(line)
        if quiet:
            time.sleep(poll_s)
