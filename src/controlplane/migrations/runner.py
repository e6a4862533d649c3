"""The one way to run the control plane's migrations (docs/migrations.md): `python -m controlplane.migrate` and
infractl's fan-out over the shared schema, every tier B schema and every tier C database both call these functions.

Alembic is driven programmatically: the script directory (src/controlplane/migrations/versions) is read once per
process and reused for every target, env.py is not executed per call, and each call works on the caller's
SQLAlchemy connection:

- `schema` (None = public) is the target schema: the connection's search_path is set to it (quoted) for the run
  and restored afterwards, and the `alembic_version` table lives in it;
- while upgrade/downgrade run they hold the session advisory lock (LOCK_CLASS, hashtext(<schema>)), so two runners
  on one target (two migration Jobs, a retried fan-out) apply each revision once;
- each revision runs in its own transaction: a failure leaves the target at the last revision that succeeded
  (MigrationFailed says which revision failed and which were applied before it);
- a transaction the caller left open on the connection (SQLAlchemy's autobegin) is committed first.

Revisions form one linear chain of 4-digit ids. Each revision module declares `phase` ("expand": the previous
application version keeps working on the result; "contract": it removes a shape an older version still needs),
`irreversible` (None, or the reason its downgrade cannot restore the previous shape) and `completes` (contract
only: the expand revision whose old shape it removes). Running processes record the range of revisions they work
with in `process_heartbeats` (controlplane.heartbeat); `blockers` names the live ones a contract would break.

Thread safety: revision modules call `alembic.op`, which Alembic dispatches through one module-global object. The
runner points it at a per-thread Operations instead, so threads may migrate different targets at once (each on its
own connection).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from controlplane.errors import ControlPlaneError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

DIRECTORY = Path(__file__).resolve().parent  # env.py, script.py.mako, versions/
VERSION_TABLE = "alembic_version"
DEFAULT_SCHEMA = "public"
HEARTBEATS = "public.process_heartbeats"  # in the shared database only (revision 0002)
LOCK_CLASS = 0x636F6E74  # "cont": pg_advisory_lock(LOCK_CLASS, hashtext(<schema>)) per migration target
REVISION_ID = re.compile(r"^[0-9]{4}$")
PHASES = ("expand", "contract")

Phase = Literal["expand", "contract"]


class MigrationError(ControlPlaneError):
    """The revisions or the target's version state do not allow the requested migration."""


class UnknownRevision(MigrationError):
    """A revision id that is not in this code's chain (a typo, or a database migrated by a newer version)."""


class IrreversibleMigration(MigrationError):
    """A downgrade would revert a revision declared irreversible; raised before anything is reverted."""

    def __init__(self, rev: str, reason: str) -> None:
        super().__init__(f"revision {rev} is irreversible: {reason}")
        self.rev = rev
        self.reason = reason


class MigrationFailed(MigrationError):
    """A revision's SQL failed: its transaction was rolled back, the revisions in `applied` stay committed."""

    def __init__(self, rev: str, applied: list[str], cause: str) -> None:
        super().__init__(f"revision {rev} failed: {cause}")
        self.rev = rev
        self.applied = applied
        self.cause = cause


@dataclass(frozen=True)
class Revision:
    id: str
    down: str | None
    phase: Phase
    description: str
    completes: str | None
    irreversible: str | None
    path: Path


@dataclass(frozen=True)
class Blocker:
    """A live process (process_heartbeats, seen within its ttl) that still needs a shape a contract removes."""

    process_id: str
    role: str
    app_version: str
    host: str
    pid: int
    schema_min: str
    schema_head: str
    seen_at: datetime
    needs: str  # human text: what it runs and which revision would break it


class _Database:
    """Sentinel: blockers() reads the revision the shared schema is at."""


DATABASE = _Database()


# ---------------------------------------------------------------- the chain


class Chain:
    """One script directory, loaded once: the ordered revisions and the operations on a connection."""

    def __init__(self, directory: Path = DIRECTORY) -> None:
        from alembic.script import ScriptDirectory

        self.directory = Path(directory)
        self.script = ScriptDirectory(str(self.directory), version_locations=[str(self.directory / "versions")])
        self.revisions = tuple(_load(self.script))
        self._position = {r.id: i for i, r in enumerate(self.revisions)}

    @property
    def head(self) -> str:
        if not self.revisions:
            raise MigrationError(f"{self.directory}: no revisions")
        return self.revisions[-1].id

    def position(self, rev: str | None) -> int:
        """-1 for base (None or "base"), else the revision's index; UnknownRevision for an id not in the chain."""
        if rev is None or rev == "base":
            return -1
        if rev == "head":
            return len(self.revisions) - 1
        try:
            return self._position[rev]
        except KeyError:
            known = ", ".join(r.id for r in self.revisions) or "none"
            raise UnknownRevision(
                f"revision {rev!r} is not in this code's migrations (known: {known}); "
                "a database at a newer revision was migrated by a newer version"
            ) from None

    def resolve(self, rev: str | None) -> str | None:
        pos = self.position(rev)
        return None if pos < 0 else self.revisions[pos].id

    # -- reads

    def current(self, conn: Connection, schema: str | None = None) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with _read(conn):
            ctx = MigrationContext.configure(conn, opts=_opts(schema))
            heads = ctx.get_current_heads()
        if len(heads) > 1:
            raise MigrationError(f"schema {_schema(schema)}: several revisions recorded ({', '.join(heads)})")
        return heads[0] if heads else None

    def phase_target(self, current: str | None, phase: Phase) -> str:
        if phase not in PHASES:
            raise MigrationError(f"unknown phase {phase!r}: expected expand or contract")
        if phase == "contract":
            return self.head
        start = self.position(current)
        for pos in range(start + 1, len(self.revisions)):
            if self.revisions[pos].phase == "contract":
                before = max(pos - 1, start)
                return self.revisions[before].id if before >= 0 else "base"
        return self.head

    def blockers(self, conn: Connection, target: str, *, since: str | _Database | None = DATABASE) -> list[Blocker]:
        start = self.position(self.current(conn) if isinstance(since, _Database) else since)
        end = self.position(target)
        contracts = [r for r in self.revisions[start + 1 : end + 1] if r.phase == "contract"]
        if not contracts:
            return []
        found = []
        for row in _live_processes(conn):
            head = self._position.get(row["schema_head"])
            if head is None:  # a revision this code does not know: a newer version, it needs no old shape
                continue
            breaking = [c for c in contracts if c.completes is not None and head < self._position[c.completes]]
            if breaking:
                c = breaking[0]
                needs = (
                    f"{row['role']} {row['app_version']} (pid {row['pid']} on {row['host']}) runs code that knows "
                    f"revisions up to {row['schema_head']}; contract {c.id} removes the old shape {c.completes} "
                    "keeps for it"
                )
                found.append(Blocker(**row, needs=needs))
        return found

    # -- changes

    def upgrade(self, conn: Connection, target: str = "head", *, schema: str | None = None) -> list[str]:
        return self._migrate(conn, target, schema, upgrade=True)

    def downgrade(self, conn: Connection, target: str, *, schema: str | None = None) -> list[str]:
        return self._migrate(conn, target, schema, upgrade=False)

    def _migrate(self, conn: Connection, target: str, schema: str | None, *, upgrade: bool) -> list[str]:
        from alembic.runtime.migration import MigrationContext

        goal = self.position(target)
        name = _schema(schema)
        done: list[str] = []

        def record(ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
            done.append(step.up_revision_id)

        with _target_session(conn, name):
            with _read(conn):
                heads = MigrationContext.configure(conn, opts=_opts(name)).get_current_heads()
            if len(heads) > 1:
                raise MigrationError(f"schema {name}: several revisions recorded ({', '.join(heads)})")
            at = self.position(heads[0] if heads else None)
            if upgrade and goal < at:
                raise MigrationError(
                    f"schema {name} is at {self.revisions[at].id}, past {target}: a downgrade, not an upgrade"
                )
            if not upgrade and goal > at:
                raise MigrationError(f"schema {name} is at {_name(self, at)}, below {target}: nothing to downgrade")
            if goal == at:
                return []
            path = self.revisions[at + 1 : goal + 1] if upgrade else self.revisions[goal + 1 : at + 1][::-1]
            if not upgrade:
                for rev in path:
                    if rev.irreversible:
                        raise IrreversibleMigration(rev.id, rev.irreversible)
            destination = _name(self, goal)

            def steps(heads: Any, ctx: Any) -> Any:
                if upgrade:
                    return self.script._upgrade_revs(destination, heads)
                return self.script._downgrade_revs(destination, heads)

            opts = _opts(name) | {
                "fn": steps,
                "script": self.script,
                "transaction_per_migration": True,
                "on_version_apply": [record],
            }
            ctx = MigrationContext.configure(conn, opts=opts)
            try:
                with _operations(ctx):
                    ctx.run_migrations()
            except Exception as exc:
                failed = path[len(done)].id if len(done) < len(path) else path[-1].id
                cause = _first_line(getattr(exc, "orig", None) or exc)
                raise MigrationFailed(failed, list(done), cause) from exc
            for rev in done:
                log.info("schema %s: %s %s", name, "applied" if upgrade else "reverted", rev)
        return done


def _name(chain: Chain, pos: int) -> str:
    return "base" if pos < 0 else chain.revisions[pos].id


# ---------------------------------------------------------------- module-level interface (the default chain)

_DEFAULT: Chain | None = None
_DEFAULT_LOCK = threading.Lock()


def chain(directory: Path | None = None) -> Chain:
    """The chain of `directory` (default: this package's, loaded once per process and cached)."""
    global _DEFAULT
    if directory is not None and Path(directory).resolve() != DIRECTORY:
        return Chain(Path(directory))
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Chain(DIRECTORY)
        return _DEFAULT


def declared_head(directory: Path = DIRECTORY) -> str | None:
    """The highest revision id by file name (versions/NNNN_*.py), without loading Alembic or any revision: what a
    running api/worker reports in its heartbeat. Equal to head() (the chain's ids increase by one; tested)."""
    ids = [p.name[:4] for p in (Path(directory) / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(ids) if ids else None


def revisions() -> list[Revision]:
    """Every revision, base → head."""
    return list(chain().revisions)


def head() -> str:
    return chain().head


def current(conn: Connection, schema: str | None = None) -> str | None:
    """The revision the target is at (None: base, no version recorded)."""
    return chain().current(conn, schema)


def upgrade(conn: Connection, target: str = "head", *, schema: str | None = None) -> list[str]:
    """Apply the revisions up to target ("head", or an id); the ids applied now, in order."""
    return chain().upgrade(conn, target, schema=schema)


def downgrade(conn: Connection, target: str, *, schema: str | None = None) -> list[str]:
    """Revert down to target ("base", or an id); the ids reverted, in order. IrreversibleMigration before touching
    anything when a revision on the way is declared irreversible."""
    return chain().downgrade(conn, target, schema=schema)


def phase_target(current: str | None, phase: Phase) -> str:
    """Where a phase takes a target at `current`: expand = the last revision before the first pending contract
    (`current`, or "base", when that contract is next), contract = head."""
    return chain().phase_target(current, phase)


def blockers(conn: Connection, target: str, *, since: str | _Database | None = DATABASE) -> list[Blocker]:
    """Live processes whose schema_head is below the `completes` of a contract revision between `since` and
    `target`. conn: the shared database (process_heartbeats). since: the revision the migrated target is at
    (default: read from conn's public schema; pass a tenant's current revision for a tenant target)."""
    return chain().blockers(conn, target, since=since)


# ---------------------------------------------------------------- internals


def _load(script: Any) -> list[Revision]:
    heads = script.get_heads()
    if len(heads) > 1:
        raise MigrationError(f"{script.dir}: several heads ({', '.join(sorted(heads))}): the chain must be linear")
    found = list(reversed(list(script.walk_revisions()))) if heads else []
    out: list[Revision] = []
    for s in found:
        path = Path(s.path)
        module = s.module
        where = f"{path.name}"
        if not REVISION_ID.match(s.revision) or not path.name.startswith(f"{s.revision}_"):
            raise MigrationError(f"{where}: revision id {s.revision!r} must be 4 digits and prefix the file name")
        missing = [a for a in ("phase", "irreversible", "completes") if not hasattr(module, a)]
        if missing:
            raise MigrationError(f"{where}: declares no {', '.join(missing)}")
        phase, irreversible, completes = module.phase, module.irreversible, module.completes
        if phase not in PHASES:
            raise MigrationError(f"{where}: phase must be expand or contract, not {phase!r}")
        if irreversible is not None and (not isinstance(irreversible, str) or not irreversible.strip()):
            raise MigrationError(f"{where}: irreversible must be None or the reason (a non-empty string)")
        earlier = {r.id: r for r in out}
        if phase == "expand" and completes is not None:
            raise MigrationError(f"{where}: only a contract revision completes an expand revision")
        if phase == "contract" and (completes not in earlier or earlier[completes].phase != "expand"):
            raise MigrationError(
                f"{where}: a contract revision completes an earlier expand revision (got {completes!r})"
            )
        down = s.down_revision
        if isinstance(down, tuple | list):
            raise MigrationError(f"{where}: a merge revision; the chain must be linear")
        out.append(
            Revision(
                id=s.revision,
                down=down,
                phase=phase,
                description=(s.doc or "").strip().splitlines()[0] if s.doc else "",
                completes=completes,
                irreversible=irreversible,
                path=path,
            )
        )
    return out


def _schema(schema: str | None) -> str:
    if schema is not None and (not schema or "\x00" in schema):
        raise MigrationError(f"not a schema name: {schema!r}")
    return schema or DEFAULT_SCHEMA


def _opts(schema: str | None) -> dict[str, Any]:
    return {"version_table": VERSION_TABLE, "version_table_schema": _schema(schema)}


@contextlib.contextmanager
def _read(conn: Connection) -> Iterator[None]:
    """A read on conn: the transaction it autobegins is ended again (a caller's open transaction is left alone)."""
    began = not conn.in_transaction()
    try:
        yield
    finally:
        if began and conn.in_transaction():
            conn.rollback()


@contextlib.contextmanager
def _target_session(conn: Connection, schema: str) -> Iterator[None]:
    """The target's advisory lock and search_path for the duration of a run, both released/restored after."""
    from sqlalchemy import text

    if conn.in_transaction():
        conn.commit()
    quoted = conn.dialect.identifier_preparer.quote_identifier(schema)
    conn.execute(text(f"SELECT pg_advisory_lock({LOCK_CLASS}, hashtext(:s))"), {"s": schema})
    try:
        previous = conn.execute(text("SELECT current_setting('search_path')")).scalar_one()
        conn.execute(text("SELECT set_config('search_path', :p, false)"), {"p": quoted})
        conn.commit()
    except BaseException:
        _cleanup(conn, schema, None)
        raise
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        try:
            _cleanup(conn, schema, previous)
        except Exception:
            if not failed:
                raise
            log.debug("schema %s: cleanup after a failed run failed too", schema, exc_info=True)


def _cleanup(conn: Connection, schema: str, search_path: str | None) -> None:
    from sqlalchemy import text

    if conn.in_transaction():
        conn.rollback()
    if search_path is not None:
        conn.execute(text("SELECT set_config('search_path', :p, false)"), {"p": search_path})
    conn.execute(text(f"SELECT pg_advisory_unlock({LOCK_CLASS}, hashtext(:s))"), {"s": schema})
    conn.commit()


def _live_processes(conn: Connection) -> list[dict[str, Any]]:
    from sqlalchemy import text

    with _read(conn):
        if conn.execute(text(f"SELECT to_regclass('{HEARTBEATS}')")).scalar_one() is None:
            return []  # before revision 0002: nothing records processes
        rows = conn.execute(
            text(
                "SELECT process_id, role, app_version, host, pid, schema_min, schema_head, seen_at"
                f" FROM {HEARTBEATS} WHERE seen_at + make_interval(secs => ttl_seconds) > now()"
                " ORDER BY started_at, process_id"
            )
        )
        return [dict(r._mapping) for r in rows]


def _first_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return text or type(exc).__name__


# alembic.op's functions call a module-global `_proxy`; Alembic swaps that global per run, which two threads
# running migrations at once would share. Point it, once, at a dispatcher to this thread's Operations.
_LOCAL = threading.local()
_INSTALL = threading.Lock()


class _ThreadOperations:
    def __getattr__(self, name: str) -> Any:
        ops = getattr(_LOCAL, "ops", None)
        if ops is None:
            raise NameError(f"alembic.op.{name} called outside a migration run")
        return getattr(ops, name)


_DISPATCH = _ThreadOperations()


@contextlib.contextmanager
def _operations(ctx: Any) -> Iterator[None]:
    from alembic import op as op_module
    from alembic.operations import Operations

    with _INSTALL:
        if getattr(op_module, "_proxy", None) is not _DISPATCH:
            op_module._proxy = _DISPATCH  # type: ignore[attr-defined]
    previous = getattr(_LOCAL, "ops", None)
    _LOCAL.ops = Operations(ctx)
    try:
        yield
    finally:
        _LOCAL.ops = previous
