"""The git commands infractl needs (through the one process runner)."""

from __future__ import annotations

from pathlib import Path

from infractl.adapters import process
from infractl.errors import CommandError, UsageError


def changed_files(repo: Path, ref: str) -> tuple[list[str], Path]:
    """Files changed since `ref` (committed, staged, unstaged or untracked) relative to the repository top, and
    that top folder."""
    try:
        top = process.run(["git", "-C", str(repo), "rev-parse", "--show-toplevel"]).stdout.strip()
        process.run(["git", "-C", top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
    except CommandError:
        raise UsageError(
            f"--changed-since {ref}: not a commit in the git repository at {repo}",
            hint="give a branch, tag or commit that exists locally (in CI: fetch the base branch first)",
        ) from None
    base = process.run(["git", "-C", top, "merge-base", ref, "HEAD"], ok_codes=(0, 1)).stdout.strip() or ref
    diff = process.run(["git", "-C", top, "diff", "--name-only", "--no-renames", base]).stdout
    untracked = process.run(["git", "-C", top, "ls-files", "--others", "--exclude-standard"]).stdout
    return sorted({line for line in (diff + untracked).splitlines() if line.strip()}), Path(top)


def head(repo: Path) -> tuple[str, int, bool]:
    """(commit SHA, commit time as a Unix epoch, whether the work tree has uncommitted changes) of HEAD."""
    try:
        sha, epoch = process.run(["git", "-C", str(repo), "log", "-1", "--format=%H %ct"]).stdout.split()
    except (CommandError, ValueError):
        raise UsageError(
            f"{repo} is not a git work tree with a commit",
            hint="a release is built from a commit: run it in a clone of the project",
        ) from None
    status = process.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"]).stdout
    return sha, int(epoch), bool(status.strip())
