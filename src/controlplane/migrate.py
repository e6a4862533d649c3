"""`python -m controlplane.migrate`: apply the schema (adapters/schema.py) idempotently, then exit 0.

Waits up to --wait seconds (default 60) for the secrets backend and the database to answer, so a compose one-shot
job or an init container may start together with them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from controlplane._entry import run, settings_or_exit
from controlplane.adapters import schema
from controlplane.adapters.postgres import connection_kwargs
from controlplane.adapters.vault import VaultSecretStore
from controlplane.errors import DependencyError
from controlplane.readiness import describe
from controlplane.runtime import DB_PASSWORD_KEY
from controlplane.settings import Settings
from controlplane.telemetry import configure_logging

log = logging.getLogger("controlplane.migrate")


async def migrate(settings: Settings, *, wait: float = 60.0) -> list[int]:
    """Apply the missing migrations; the versions applied now (empty when the schema was current)."""
    import psycopg

    deadline = time.monotonic() + wait
    secrets = VaultSecretStore.from_settings(settings)
    delay = 0.2
    while True:
        try:
            password = await secrets.read_key(settings.db_secret_path, DB_PASSWORD_KEY)
            kwargs = connection_kwargs(settings, password, application_name="controlplane-migrate")
            async with await psycopg.AsyncConnection.connect(**kwargs) as conn:
                return await schema.apply(conn)
        except (DependencyError, psycopg.OperationalError) as exc:
            if time.monotonic() + delay > deadline:
                raise DependencyError(f"migrate: gave up after {wait:g}s: {describe(exc)}") from None
            log.info("migrate: waiting for dependencies (%s)", describe(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m controlplane.migrate", description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for Vault and PostgreSQL")
    args = parser.parse_args(argv)
    settings = settings_or_exit("controlplane.migrate")
    configure_logging(settings.log_level)

    def body() -> int:
        applied = asyncio.run(migrate(settings, wait=args.wait))
        done = ", ".join(map(str, applied)) if applied else "none (already current)"
        print(f"schema at version {schema.latest_version()}; applied now: {done}")
        return 0

    return run("controlplane.migrate", body)


if __name__ == "__main__":
    raise SystemExit(main())
