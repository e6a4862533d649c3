"""The git commands infractl needs (through the one process runner)."""

from __future__ import annotations

from pathlib import Path

from infractl.adapters import process
from infractl.errors import CommandError, ExternalToolError, UsageError


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


def toplevel(path: Path) -> Path | None:
    """The top folder of the git work tree holding path; None outside a git repository (or without git)."""
    try:
        done = process.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], ok_codes=(0, 128))
    except ExternalToolError:  # no git binary
        return None
    top = done.stdout.strip()
    return Path(top) if done.returncode == 0 and top else None


def commit_of(repo: Path, ref: str) -> str | None:
    """The commit id `ref` names in repo, or None when it names none."""
    done = process.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], ok_codes=(0, 1)
    )
    return done.stdout.strip() or None


def merge_base(repo: Path, a: str, b: str = "HEAD") -> str | None:
    done = process.run(["git", "-C", str(repo), "merge-base", a, b], ok_codes=(0, 1))
    return done.stdout.strip() or None


def show_file(repo: Path, commit: str, path: str) -> str | None:
    """The content of path (relative to the top) at commit; None when the commit has no such file."""
    done = process.run(["git", "-C", str(repo), "cat-file", "-e", f"{commit}:{path}"], ok_codes=(0, 1, 128))
    if done.returncode != 0:
        return None
    return process.run(["git", "-C", str(repo), "show", f"{commit}:{path}"]).stdout + "\n"


def work_tree_files(repo: Path) -> list[str]:
    """The files of the work tree git knows or would add: tracked, plus untracked ones not ignored (relative)."""
    done = process.run(["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    return sorted({name for name in done.stdout.split("\0") if name})


def head_commit(repo: Path) -> str | None:
    """The commit HEAD names in the git work tree holding repo; None outside one (or without git, or no commit)."""
    try:
        done = process.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", "HEAD"], ok_codes=(0, 1, 128))
    except ExternalToolError:  # no git binary
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None
