"""Finding the project root."""

from __future__ import annotations

from pathlib import Path

from infractl.errors import ConfigError
from infractl.models.project import Project


def find_project(start: Path, *, root: Path | None = None, work_dir: Path | None = None) -> Project:
    """The folder holding environments/: `root` when given, else the nearest one walking up from start."""
    if root is not None:
        root = root.expanduser().resolve()
        if not (root / "environments").is_dir():
            raise ConfigError(
                f"{root}: no environments/ folder here",
                hint="point --root (or INFRACTL_ROOT) at the project folder that holds environments/",
            )
    else:
        start = start.resolve()
        for candidate in (start, *start.parents):
            if (candidate / "environments").is_dir():
                root = candidate
                break
        else:
            raise ConfigError(
                f"no environments/ folder in {start} or any parent",
                hint="run infractl inside the project, or pass --root / set INFRACTL_ROOT",
            )
    return Project(root=root, work_dir=(work_dir.expanduser().resolve() if work_dir else root / ".infractl"))
