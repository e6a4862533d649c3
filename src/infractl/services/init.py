"""`infractl init [DIR]`: the scaffolding of a project of one's own (an infrastructure repository that is not
infractl's): environments/dev.yaml, terraform/stacks/stacks.yaml with one example stack and that stack, and a
.gitignore for infractl's work folder. The files are copied from scaffold/; a file that exists is kept as it is, so
running it again changes nothing. What a project may leave out (contracts, parity bindings, docs/parity.md, the price
catalog, checkov) has defaults: docs/stacks.md.
"""

from __future__ import annotations

from pathlib import Path

from infractl.errors import UsageError
from infractl.models.init import InitResult

SCAFFOLD = Path(__file__).parent / "scaffold"
RENAMED = {"gitignore": ".gitignore"}  # dot files are stored without their dot


def files() -> dict[str, Path]:
    """Project-relative path -> the scaffold file it is copied from."""
    found = {}
    for path in sorted(SCAFFOLD.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(SCAFFOLD).as_posix()
            found[RENAMED.get(rel, rel)] = path
    return found


def init(directory: Path) -> InitResult:
    """Write every scaffold file missing under `directory` (made when missing); never overwrite one."""
    root = directory.expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{directory}: not a folder", hint="pass the folder to create the project in")
    planned = files()
    for rel in planned:
        target = root / rel
        for parent in (target, *target.parents):
            if parent == root:
                break
            if parent.exists() and not (parent.is_dir() if parent != target else parent.is_file()):
                raise UsageError(
                    f"{parent}: exists and is not a {'file' if parent == target else 'folder'}",
                    hint="move it away, or init another folder",
                )
    created, kept = [], []
    for rel, source in planned.items():
        target = root / rel
        if target.exists():
            kept.append(rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as out:  # exclusive: a file made meanwhile is never overwritten
            out.write(source.read_text(encoding="utf-8"))
        created.append(rel)
    return InitResult(root=str(root), created=created, kept=kept)
