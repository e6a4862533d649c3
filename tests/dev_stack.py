"""The whole native dev stack for integration tests that need it running (the SLO, drill and fault tests): started
through the CLI on a random port offset in its own work folder, stopped and purged after, any survivor killed."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def cli_json(*args: str) -> dict[str, Any]:
    """One infractl command in-process, its --json result (module fixtures cannot use the `invoke` fixture)."""
    from infractl.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["--root", str(REPO), *args])
    assert rc == 0, f"infractl {' '.join(args)} exited {rc}\n{err.getvalue()[-3000:]}"
    return json.loads(out.getvalue())


@contextlib.contextmanager
def running(work: Path) -> Iterator[dict[str, Any]]:
    """`infractl dev up --no-docker` with INFRACTL_WORK_DIR=work (set for the block); yields its --json status."""
    from infractl.adapters import localservices as ls
    from infractl.services.dev import devstack, statefile

    mp = pytest.MonkeyPatch()
    mp.setenv("INFRACTL_WORK_DIR", str(work))
    mp.delenv("CI", raising=False)  # native mode: no Docker engine is looked for
    try:
        data = cli_json("dev", "up", "--no-docker", "--port-offset", str(random.randrange(20000, 40000, 10)), "--json")
        yield data
    finally:
        state = statefile.load_state(statefile.dev_dir(work))
        try:
            devstack.down(work, work, purge=True)
        finally:
            for entry in state["services"].values():
                if ls.survivors(ls.Running.from_dict(entry)):
                    os.killpg(int(entry.get("extra", {}).get("pgid", entry["pid"])), signal.SIGKILL)
            mp.undo()
