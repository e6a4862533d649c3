"""Where the scanners are: Python tools beside the running interpreter (the venv `make install` made), Node tools in
scripts/node of the project or of the infractl checkout (`make install` runs npm there)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from infractl.adapters import process
from infractl.errors import ExternalToolError
from infractl.models.project import install_root

NODE_DIR = Path("scripts") / "node"
INSTALL_HINT = "run `make install` in the infractl checkout (it installs the release extra and the Node tools)"


def python_tool(name: str) -> str:
    """zizmor, detect-secrets, pip-audit: console scripts of infractl's own environment, else PATH."""
    return process.find_binary(name, extra_dirs=[Path(sys.executable).parent], hint=INSTALL_HINT)


def tool_env() -> dict[str, str]:
    """The environment of a third-party Python tool: infractl's own, without the hooks that would run a coverage
    tracer inside the tool (COVERAGE_*, set by `make test` to measure infractl's subprocesses). The tools are not our
    code, and coverage's SIGTERM handler can leave detect-secrets' multiprocessing pool waiting for ever."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}


def node() -> str:
    return process.find_binary("node", hint="install Node.js (Debian: apt-get install nodejs npm), then make install")


def node_dir(root: Path) -> Path:
    """scripts/node with its node_modules: the project's, else the infractl checkout's."""
    for base in (root, install_root()):
        if base is not None and (base / NODE_DIR / "node_modules").is_dir():
            return base / NODE_DIR
    raise ExternalToolError("the Node tools (scripts/node/node_modules) are not installed", hint=INSTALL_HINT)


def npm_version(directory: Path, package: str) -> str:
    try:
        return str(json.loads((directory / "node_modules" / package / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return ""


def version(argv: list[str]) -> str:
    """The last word of `tool --version` (zizmor 1.33.1 -> 1.33.1); empty when it cannot tell."""
    try:
        out = process.run(argv, timeout=30).stdout.strip().split()
    except ExternalToolError:
        return ""
    return out[-1] if out else ""
