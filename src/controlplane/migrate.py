"""`python -m controlplane.migrate [--phase expand|contract] [--target REV]`: migrate the shared schema, then exit 0.

expand (the default; what a deploy runs before the new api/worker start): every revision up to the first pending
contract revision. contract (an explicit, separate step once no old version runs): up to head, refused, naming
them, while a live process still needs a shape it removes. --target stops at that revision instead.
Waits up to --wait seconds (default 60) for the secrets backend and the database to answer, so a compose one-shot
job or a Helm hook Job may start together with them. Migrations: controlplane.migrations (docs/migrations.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any

from controlplane._entry import run, settings_or_exit
from controlplane.adapters.postgres import connection_kwargs
from controlplane.adapters.vault import VaultSecretStore
from controlplane.errors import DependencyError
from controlplane.migrations import runner
from controlplane.readiness import describe
from controlplane.runtime import DB_PASSWORD_KEY
from controlplane.settings import Settings
from controlplane.telemetry import configure_logging

log = logging.getLogger("controlplane.migrate")


class MigrationBlocked(runner.MigrationError):
    """A contract step while live processes still need the shape it removes."""


@dataclass(frozen=True)
class Migrated:
    revision: str | None  # where the schema is now (None: base)
    applied: list[str]  # applied by this run, in order


async def migrate(
    settings: Settings, *, wait: float = 60.0, phase: runner.Phase = "expand", target: str | None = None
) -> Migrated:
    """Migrate the shared schema for `phase` (up to `target` when given)."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    deadline = time.monotonic() + wait
    secrets = VaultSecretStore.from_settings(settings)
    delay = 0.2
    while True:
        try:
            password = await secrets.read_key(settings.db_secret_path, DB_PASSWORD_KEY)
            kwargs = connection_kwargs(settings, password, application_name="controlplane-migrate")
            return await asyncio.to_thread(_apply, kwargs, phase, target)
        except (DependencyError, psycopg.OperationalError, OperationalError) as exc:
            cause = getattr(exc, "orig", None) or exc
            if time.monotonic() + delay > deadline:
                raise DependencyError(f"migrate: gave up after {wait:g}s: {describe(cause)}") from None
            log.info("migrate: waiting for dependencies (%s)", describe(cause))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def _apply(kwargs: dict[str, Any], phase: runner.Phase, target: str | None) -> Migrated:
    import psycopg
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(**kwargs), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            at = runner.current(conn)
            if phase == "expand" and target is None and at is not None and at not in _known():
                # A newer version migrated it (this one is being rolled back to): expand revisions keep older code
                # working, a contract past this code's head would not, and that is not knowable from here.
                log.warning(
                    "schema at %s, newer than this code's migrations (head %s): nothing to apply; this version runs "
                    "on it as long as no contract revision past %s was applied",
                    at,
                    runner.head(),
                    runner.head(),
                )
                return Migrated(revision=at, applied=[])
            goal = _goal(conn, at, phase, target)
            applied = runner.upgrade(conn, goal)
            return Migrated(revision=runner.current(conn), applied=applied)
    finally:
        engine.dispose()


def _known() -> set[str]:
    return {r.id for r in runner.revisions()}


def _goal(conn: Any, at: str | None, phase: runner.Phase, target: str | None) -> str:
    chain = runner.chain()
    goal = target or runner.phase_target(at, phase)
    if phase == "expand":
        contracts = [
            r.id for r in chain.revisions[chain.position(at) + 1 : chain.position(goal) + 1] if r.phase == "contract"
        ]
        if contracts:
            raise runner.MigrationError(
                f"--target {goal} includes contract revision {', '.join(contracts)}: run it with --phase contract"
            )
        return goal
    blocking = runner.blockers(conn, goal)
    if blocking:
        raise MigrationBlocked(
            f"contract to {goal} refused: {len(blocking)} live process(es) still need the old schema",
            details=[
                f"{b.role} {b.app_version} pid {b.pid} on {b.host} (process {b.process_id}, "
                f"schema {b.schema_min}..{b.schema_head}, seen {b.seen_at:%H:%M:%S}): {b.needs}"
                for b in blocking
            ],
        )
    return goal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m controlplane.migrate", description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for Vault and PostgreSQL")
    parser.add_argument(
        "--phase",
        choices=runner.PHASES,
        default="expand",
        help="expand (default): up to the first pending contract revision; contract: up to head, refused while an "
        "old version runs",
    )
    parser.add_argument("--target", metavar="REV", help="stop at this revision (4-digit id)")
    args = parser.parse_args(argv)
    settings = settings_or_exit("controlplane.migrate")
    configure_logging(settings.log_level, sys.stderr)

    def body() -> int:
        done = asyncio.run(migrate(settings, wait=args.wait, phase=args.phase, target=args.target))
        applied = ", ".join(done.applied) if done.applied else "none (already current)"
        print(f"schema at version {done.revision or 'base'}; applied now: {applied}")
        return 0

    return run("controlplane.migrate", body)


if __name__ == "__main__":
    raise SystemExit(main())
