"""Wiring: the adapters behind the ports, built from Settings. The only module that knows every adapter."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from controlplane.adapters.ledger import PostgresLedger, VaultTransitSigner
from controlplane.adapters.postgres import PostgresIdempotencyKeys, PostgresRunStore, make_pool
from controlplane.adapters.s3 import S3ObjectStore, credential_source
from controlplane.adapters.vault import VaultSecretStore
from controlplane.ids import UUIDv7Generator
from controlplane.settings import Settings

DB_PASSWORD_KEY = "password"


@dataclass
class Components:
    settings: Settings
    secrets: VaultSecretStore
    pool: AsyncConnectionPool
    store: PostgresRunStore
    keys: PostgresIdempotencyKeys
    objects: S3ObjectStore
    ledger: PostgresLedger
    ids: UUIDv7Generator

    async def open(self) -> None:
        """Start the pool without waiting: the process comes up even while the database does not answer yet."""
        await self.pool.open(wait=False)

    async def close(self) -> None:
        await self.pool.close()


def build(settings: Settings, *, application_name: str) -> Components:
    secrets = VaultSecretStore.from_settings(settings)

    async def db_password() -> str:
        return await secrets.read_key(settings.db_secret_path, DB_PASSWORD_KEY)

    pool = make_pool(settings, db_password, application_name=application_name)
    objects = S3ObjectStore(settings, credential_source(settings, secrets.read))
    signer = VaultTransitSigner(secrets, settings.evidence_transit_key, mount=settings.evidence_transit_mount)
    return Components(
        settings=settings,
        secrets=secrets,
        pool=pool,
        store=PostgresRunStore(pool),
        keys=PostgresIdempotencyKeys(pool),
        objects=objects,
        ledger=PostgresLedger(settings, db_password, signer, objects, application_name=f"{application_name}-ledger"),
        ids=UUIDv7Generator(),
    )
