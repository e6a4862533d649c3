"""The gates' definitions: gates/<gate>.yaml of the project, else of the infractl checkout running it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from infractl.adapters import files
from infractl.errors import ConfigError
from infractl.models.gate import GATES, GateDef
from infractl.models.project import Project, install_root

GATE_DIR = "gates"


def path(project: Project, gate: str) -> Path:
    own = project.root / GATE_DIR / f"{gate}.yaml"
    home = install_root()
    if not own.is_file() and home is not None and (home / GATE_DIR / f"{gate}.yaml").is_file():
        return home / GATE_DIR / f"{gate}.yaml"
    return own


def load(project: Project, gate: str) -> GateDef:
    if gate not in GATES:
        raise ConfigError(f"no gate {gate!r}", hint=f"the gates are {', '.join(GATES)}")
    where = path(project, gate)
    shown = project.rel(where)
    if not where.is_file():
        raise ConfigError(f"{shown}: the {gate} gate is not defined", hint="copy gates/ from infractl (docs/gates.md)")
    loaded = files.validate(GateDef, files.read_yaml(where, display=shown), display=shown)
    if loaded.gate != gate:
        raise ConfigError(f"{shown}: gate: {loaded.gate!r} (expected {gate!r})", hint=f"set gate: {gate}")
    digest = hashlib.sha256(where.read_bytes()).hexdigest()
    return loaded.model_copy(update={"file": shown, "sha256": digest})
