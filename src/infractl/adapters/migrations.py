"""The runtime's migration chain, as infractl runs it: the one module importing controlplane.migrations.runner
(src/controlplane/migrations/, owned by the runtime; docs/migrations.md).

The runner is imported lazily, so `infractl --help` and the lint (which reads the revision files without running
them) never load Alembic. Every function takes a SQLAlchemy connection (adapters/pg.engine) where the runner does;
`schema=None` is the public schema, otherwise the search_path and the version table live in that schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infractl.errors import RefusedError

# The revision files of the project (relative to its root): what `infractl db lint` reads.
VERSIONS_DIR = Path("src") / "controlplane" / "migrations" / "versions"


class Irreversible(RefusedError):
    """A downgrade would pass a revision declared irreversible: nothing was reverted."""

    def __init__(self, revision: str, reason: str) -> None:
        self.revision = revision
        self.reason = reason
        super().__init__(
            f"revision {revision} is irreversible: {reason}",
            hint="roll back to a revision after it (--to), or restore a backup taken before it",
        )


class Failed(Exception):
    """A revision's SQL failed: its transaction rolled back; `applied` (before it) stay committed."""

    def __init__(self, revision: str, applied: list[str], cause: str) -> None:
        super().__init__(f"{revision}: {cause}")
        self.revision = revision
        self.applied = applied
        self.cause = cause


_UNSET: Any = object()


def _runner() -> Any:
    from controlplane.migrations import runner

    return runner


def revisions() -> list[Any]:
    """The chain, base → head (runner.Revision: id, down, phase, description, completes, irreversible, path)."""
    return list(_runner().revisions())


def head() -> str:
    return _runner().head()


def declared_head(root: Path) -> str | None:
    """The newest revision id of the project at `root`, from its revision files' names (nothing imported): what a
    release manifest records."""
    return _runner().declared_head(root / VERSIONS_DIR.parent)


def current(conn: Any, schema: str | None = None) -> str | None:
    return _runner().current(conn, schema)


def upgrade(conn: Any, target: str = "head", *, schema: str | None = None) -> list[str]:
    """The revisions applied now, in order (one transaction each); Failed names the one that failed."""
    runner = _runner()
    try:
        return list(runner.upgrade(conn, target, schema=schema))
    except runner.MigrationFailed as exc:
        raise Failed(exc.rev, list(exc.applied), exc.cause) from exc


def downgrade(conn: Any, target: str, *, schema: str | None = None) -> list[str]:
    """The revisions reverted now; Irreversible (nothing touched) when the way down passes an irreversible one."""
    runner = _runner()
    try:
        return list(runner.downgrade(conn, target, schema=schema))
    except runner.IrreversibleMigration as exc:
        raise Irreversible(exc.rev, exc.reason) from None
    except runner.MigrationFailed as exc:
        raise Failed(exc.rev, list(exc.applied), exc.cause) from exc


def phase_target(current_revision: str | None, phase: str) -> str:
    """expand: the last revision before the first pending contract; contract: head."""
    return _runner().phase_target(current_revision, phase)


def blockers(conn: Any, target: str, *, since: str | None = _UNSET) -> list[Any]:
    """Live processes (heartbeats within their ttl, in conn's shared database) still needing the shape a contract
    revision after `since` (default: where the shared schema is) up to `target` removes (runner.Blocker:
    process_id, role, app_version, host, pid, schema_min, schema_head, seen_at, needs)."""
    if since is _UNSET:
        return list(_runner().blockers(conn, target))
    return list(_runner().blockers(conn, target, since=since))
