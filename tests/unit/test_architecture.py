"""The rules of docs/architecture.md, read from the code's own imports: layers one hop deep, no upward imports, no
circles, one process layer, and a map that names every capability's modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import REPO

SRC = REPO / "src" / "infractl"
# What each layer may import from infractl (besides itself). cli/main.py and cli/common.py compose the others.
MAY_IMPORT = {
    "cli": {"services", "models", "base"},
    "services": {"adapters", "models", "base"},
    "adapters": {"models", "base"},
    "models": set(),
    "base": {"base"},
}


def layer(module: str) -> str:
    if module == "infractl.__main__":  # `python -m infractl` runs the CLI
        return "cli"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ("cli", "services", "adapters", "models"):
        return parts[1]
    return "base"  # errors, exit_codes, settings, the package itself


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside functions (`from a.b import c` counts a.b and a.b.c)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def internal_imports(name: str) -> set[str]:
    return {m for m in imports(MODULES[name]) if m in MODULES and m != name}


def violations(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{name} ({layer(name)}) imports {target} ({layer(target)})"
        for name, targets in sorted(graph.items())
        for target in sorted(targets)
        if layer(target) != layer(name) and layer(target) not in MAY_IMPORT[layer(name)]
    ]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import circles (a package importing its own submodules is not one)."""
    state: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return found


GRAPH = {name: internal_imports(name) for name in MODULES}


def test_each_layer_imports_only_the_layers_below_it():
    assert violations(GRAPH) == []


def test_no_import_circles():
    assert circles(GRAPH) == []


def test_the_checks_can_fail():
    """An adapter importing a service, a model importing an adapter, and a circle are all found."""
    bad = {
        "infractl.adapters.aws": {"infractl.services.context"},
        "infractl.models.runs": {"infractl.adapters.terraform"},
        "infractl.services.a": {"infractl.services.b"},
        "infractl.services.b": {"infractl.services.a"},
    }
    assert len(violations(bad)) == 2
    assert circles(bad) == [["infractl.services.a", "infractl.services.b", "infractl.services.a"]]


def test_only_the_process_layer_starts_processes():
    starting = [
        name
        for name, path in MODULES.items()
        if {"subprocess"} & imports(path) or re.search(r"\bos\.(system|popen|exec\w*|spawn\w*)\(", path.read_text())
    ]
    assert starting == ["infractl.adapters.process"]


def test_no_source_file_over_500_lines():
    long = {name: n for name, p in MODULES.items() if (n := len(p.read_text().splitlines())) > 500}
    assert long == {}


def test_the_map_names_every_cli_module_and_service():
    """docs/architecture.md stays true: every command module (`cli/x.py`) and every service module (`x.py`, inside its
    package's row as `pkg/`) is on it."""
    text = re.sub(r"```.*?```", "", (REPO / "docs" / "architecture.md").read_text(), flags=re.S)
    quoted = {q.split(":")[0] for q in re.findall(r"`([^`]+)`", text)}  # `cli/common.py: context()` names the file
    missing = []
    for name, path in MODULES.items():
        if path.name in ("__init__.py", "__main__.py") or layer(name) not in ("cli", "services"):
            continue
        rel = path.relative_to(SRC).parts
        if rel[0] == "cli":
            found = f"cli/{path.name}" in quoted
        elif len(rel) == 2:
            found = path.name in quoted
        else:  # services/<package>/<module>.py: named in its package's row
            row = next((line for line in text.splitlines() if f"`{rel[1]}/`" in line), "")
            found = f"`{path.name}`" in row
        if not found:
            missing.append("/".join(rel))
    assert missing == []
