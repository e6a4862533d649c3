"""EvidenceLedger adapter: controlplane.ledger's store on its own synchronous psycopg connection (run in a thread),
signed by the Vault/OpenBao transit key through the runtime's one Vault client, its checkpoints and signing keys
published to the WORM bucket as infractl publishes them (controlplane.ledger.objects: the verifier's contract).

The connection is made like the pool's (adapters/postgres.connection_kwargs, the password from the same secret), one
per call: an append is one per run, and `store.append` needs a synchronous connection (it locks the chain's head row
for its transaction, so concurrent appenders, this worker's or infractl's, never fork the chain).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from controlplane.adapters.postgres import PasswordSource, connection_kwargs
from controlplane.adapters.s3 import S3ObjectStore
from controlplane.adapters.vault import VaultSecretStore
from controlplane.errors import DependencyError
from controlplane.ledger import chain, objects, signers, store
from controlplane.models import Retention
from controlplane.settings import Settings, VaultAuth

log = logging.getLogger(__name__)
T = TypeVar("T")


class VaultTransitSigner:
    """signers.Signer on the runtime's Vault client (VaultSecretStore: one login, token or kubernetes auth). A 403
    with kubernetes auth logs in again once, as the secret reads do (the login token expired)."""

    def __init__(self, vault: VaultSecretStore, key: str, *, mount: str = "transit") -> None:
        self.vault = vault
        self.key = key
        self.mount = mount

    def sign(self, messages: list[bytes]) -> list[tuple[str, str]]:
        return self._with(lambda signer: signer.sign(messages))

    def public_keys(self) -> dict[str, bytes]:
        return self._with(lambda signer: signer.public_keys())

    def _with(self, fn: Callable[[signers.TransitSigner], T]) -> T:
        try:
            return fn(signers.TransitSigner(self.vault.client_sync(), self.key, mount=self.mount))
        except signers.SigningError as exc:
            if self.vault.auth is not VaultAuth.KUBERNETES or "Forbidden" not in str(exc):
                raise
        self.vault.relogin()
        return fn(signers.TransitSigner(self.vault.client_sync(), self.key, mount=self.mount))


class PostgresLedger:
    """EvidenceLedger: appends to the shared database's chain; payloads and checkpoints in `objects`' bucket."""

    def __init__(
        self,
        settings: Settings,
        password: PasswordSource,
        signer: signers.Signer,
        objects: S3ObjectStore,
        *,
        application_name: str,
    ) -> None:
        self.settings = settings
        self.signer = signer
        self.objects = objects
        self.application_name = application_name
        self.retention = Retention(settings.evidence_lock_mode.value, settings.evidence_retention_days)
        self._password = password
        self._published_keys: set[str] = set()  # key ids known to be in the bucket

    @property
    def bucket(self) -> str:
        return self.objects.bucket

    async def find(self, ref: str) -> chain.Entry | None:
        """The entry of `ref`; when there is one, whatever its append left unpublished is published first (an
        activity retried because publishing failed after the entry was committed)."""
        password = await self._password()
        client = await self.objects.client()
        return await asyncio.to_thread(self._find, password, client, ref)

    async def append(self, entry: chain.NewEntry) -> chain.Entry:
        password = await self._password()
        client = await self.objects.client()
        return await asyncio.to_thread(self._append, password, client, entry)

    # ------------------------------------------------------------ in a thread

    def _connect(self, password: str) -> Any:
        import psycopg

        kwargs = connection_kwargs(self.settings, password, application_name=self.application_name)
        return psycopg.connect(**kwargs, autocommit=True)

    def _find(self, password: str, client: Any, ref: str) -> chain.Entry | None:
        with self._connect(password) as conn:
            row = conn.execute(store.SELECT_ENTRIES + " WHERE ref = %s", (ref,)).fetchone()
            if row is None:
                return None
            found = store.row_entry(row)
            self._publish(conn, client, {found.key_id})
        return found

    def _append(self, password: str, client: Any, entry: chain.NewEntry) -> chain.Entry:
        with self._connect(password) as conn:
            try:
                appended = store.append(
                    conn, [entry], self.signer, checkpoint_every=self.settings.evidence_checkpoint_every
                )
            except signers.SigningError as exc:
                raise DependencyError(f"evidence ledger: {exc}: nothing was appended") from None
            result = appended.entries[0]
            if appended.existing:  # a concurrent attempt appended it first: the stored entry, read by column name
                row = conn.execute(store.SELECT_ENTRIES + " WHERE ref = %s", (entry.ref,)).fetchone()
                result = store.row_entry(row)
                log.info("evidence ledger: %s was already appended (entry %s)", entry.ref, result.seq)
            self._publish(conn, client, {result.key_id})
        return result

    def _publish(self, conn: Any, client: Any, used_keys: set[str]) -> None:
        """Every checkpoint not yet in the bucket, and any new signing key (objects.publish), locked as the evidence
        is."""
        lock = self.retention.lock()
        store_ = self.objects

        class Bucket:
            def put(self, key: str, data: bytes, content_type: str) -> str:
                return str(store_.put_sync(client, key, data, content_type=content_type, lock=lock).version_id)

            def keys(self, prefix: str) -> list[str]:
                return list(store_.keys_sync(client, prefix))

        try:
            published, self._published_keys = objects.publish(
                conn, Bucket(), self.signer, used_keys, self._published_keys
            )
        except signers.SigningError as exc:
            raise DependencyError(f"evidence ledger: {exc}") from None
        if published:
            log.info("evidence ledger: %s checkpoint(s) published", published)
