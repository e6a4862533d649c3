"""Loading the stack manifest and ordering stacks by their dependencies."""

from __future__ import annotations

import heapq

from infractl.adapters import files
from infractl.errors import ConfigError, UsageError
from infractl.models.project import Project
from infractl.models.stacks import Manifest, Stack


def load_manifest(project: Project) -> Manifest:
    shown = project.rel(project.manifest_path)
    manifest = files.validate(Manifest, files.read_yaml(project.manifest_path, display=shown), display=shown)
    check(manifest, display=shown, stacks_dir=project.terraform_dir / "stacks")
    return manifest


def check(manifest: Manifest, *, display: str, stacks_dir=None) -> None:
    """Every dependency exists, every stack.* input names a direct dependency, no cycles."""
    problems: list[str] = []
    for name, spec in manifest.stacks.items():
        for dep in spec.depends_on:
            if dep not in manifest.stacks:
                problems.append(f"{display}: stacks.{name}.depends_on: unknown stack {dep!r}")
            elif manifest.stacks[dep].cloud != spec.cloud:
                problems.append(f"{display}: stacks.{name}.depends_on: {dep!r} is a {manifest.stacks[dep].cloud} stack")
        for var, ref in spec.inputs.items():
            if ref.startswith("stack."):
                upstream = ref.split(".")[1]
                if upstream not in spec.depends_on:
                    problems.append(
                        f"{display}: stacks.{name}.inputs.{var}: {ref} reads stack {upstream!r},"
                        f" which is not in depends_on"
                    )
        if stacks_dir is not None and not (stacks_dir / spec.path).is_dir():
            problems.append(f"{display}: stacks.{name}.path: folder terraform/stacks/{spec.path} does not exist")
    if problems:
        raise ConfigError(problems[0], details=problems[1:])
    topo_order(manifest, display=display)


def topo_order(manifest: Manifest, *, display: str = "stacks.yaml") -> list[str]:
    """Dependencies first; ties broken by name so the order is stable. A cycle is a ConfigError naming it."""
    indegree = {name: len(spec.depends_on) for name, spec in manifest.stacks.items()}
    dependents: dict[str, list[str]] = {name: [] for name in manifest.stacks}
    for name, spec in manifest.stacks.items():
        for dep in spec.depends_on:
            dependents.setdefault(dep, []).append(name)
    ready = [name for name, n in indegree.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        order.append(name)
        for nxt in dependents.get(name, []):
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, nxt)
    if len(order) != len(manifest.stacks):
        cycle = _find_cycle(manifest, {n for n in manifest.stacks if n not in order})
        raise ConfigError(
            f"{display}: stacks: dependency cycle: {' -> '.join(cycle)}",
            hint="remove one depends_on edge of the cycle",
        )
    return order


def _find_cycle(manifest: Manifest, candidates: set[str]) -> list[str]:
    start = min(candidates)
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        node = min(d for d in manifest.stacks[node].depends_on if d in candidates)
        if node in seen:
            return [*path[seen[node] :], node]
        seen[node] = len(path)
        path.append(node)


def select(manifest: Manifest, cloud: str, only: list[str] | None = None) -> list[Stack]:
    """The stacks of one cloud in dependency order; `only` restricts to those names (validated)."""
    order = topo_order(manifest)
    if only:
        unknown = [s for s in only if s not in manifest.stacks]
        if unknown:
            raise UsageError(f"unknown stack(s): {', '.join(unknown)}", hint=f"known stacks: {', '.join(order)}")
    return [
        Stack(name=n, spec=manifest.stacks[n])
        for n in order
        if manifest.stacks[n].cloud == cloud and (not only or n in only)
    ]


def dependents(manifest: Manifest, name: str) -> set[str]:
    """Every stack that depends on `name`, directly or through others."""
    found: set[str] = set()
    frontier = [name]
    while frontier:
        current = frontier.pop()
        for other, spec in manifest.stacks.items():
            if current in spec.depends_on and other not in found:
                found.add(other)
                frontier.append(other)
    return found
