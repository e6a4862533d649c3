"""`--changed-since REF`: which (stack, env) cells a change touches.

A stack is affected when a file of its own folder changed, or a file of a local module it uses (transitively),
or a file its folder links to (the shared variables); its dependents are affected with it. A change to
stacks.yaml or to the price catalog affects every stack; a change to environments/<env>.yaml affects every stack
in that env only.
"""

from __future__ import annotations

import os
from pathlib import Path

from infractl.adapters import git
from infractl.models.project import Project
from infractl.models.stacks import Manifest
from infractl.services.stacks import graph, tfsource

EVERYTHING = ("terraform/stacks/stacks.yaml", "pricing/")


def stack_files(project: Project, manifest: Manifest, name: str) -> set[Path]:
    found: set[Path] = set()
    for directory in module_folders(project, manifest, name):
        found |= {Path(os.path.realpath(e)) for e in Path(directory).iterdir() if e.is_file() and _terraform(e.name)}
    return found


def module_folders(project: Project, manifest: Manifest, name: str) -> list[Path]:
    return tfsource.module_dirs(project.terraform_dir / "stacks" / manifest.stacks[name].path)


def _terraform(name: str) -> bool:
    return name.endswith((".tf", ".tf.json", ".hcl"))


def affected_cells(project: Project, manifest: Manifest, ref: str, envs: list[str]) -> dict[str, set[str]]:
    changed, top = git.changed_files(project.root, ref)
    paths = {Path(os.path.realpath(top / f)) for f in changed}
    root = Path(os.path.realpath(project.root))
    rel = {p.relative_to(root).as_posix() for p in paths if p.is_relative_to(root)}
    rel |= set(changed)  # a deleted file no longer resolves: compare repository paths too
    affected: dict[str, set[str]] = {}
    everything = any(r == e or r.startswith(e) for r in rel for e in EVERYTHING)
    env_changes = {e for e in envs if f"environments/{e}.yaml" in rel}
    for name in manifest.stacks:
        # by path too: a deleted file no longer resolves, and modules are compared by their folders
        folders = [f"terraform/stacks/{manifest.stacks[name].path}/"] + [
            f"{project.rel(Path(os.path.realpath(d)))}/" for d in module_folders(project, manifest, name)
        ]
        own = (
            everything
            or bool(stack_files(project, manifest, name) & paths)
            or any(r.startswith(tuple(folders)) and _terraform(r) for r in rel)
        )
        if own:
            for dependent in [name, *graph.dependents(manifest, name)]:
                affected.setdefault(dependent, set()).update(envs)
        elif env_changes:
            affected.setdefault(name, set()).update(env_changes)
    return affected


def touches_parity(project: Project, ref: str, deployed_clouds: set[str]) -> bool:
    """Whether a change since ref concerns the parity check: a contract, a stack's parity.yaml, the generated
    docs/parity.md, or a stack or module of a cloud the environments do not deploy (checked statically only)."""
    changed, _ = git.changed_files(project.root, ref)
    prefixes = ["terraform/contracts/", "docs/parity.md"]
    for kind in ("stacks", "modules"):
        for folder in sorted((project.terraform_dir / kind).glob("*")):
            if folder.is_dir() and folder.name not in deployed_clouds:
                prefixes.append(f"terraform/{kind}/{folder.name}/")
    return any(f.startswith(tuple(prefixes)) or f.endswith("/parity.yaml") for f in changed)
