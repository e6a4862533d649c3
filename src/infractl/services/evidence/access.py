"""An environment's ledger: its database (the shared one: services/db/connect), its WORM bucket and its signer.

With --emulate that is the dev stack: its PostgreSQL, its S3 (the patched emulator, which enforces Object Lock)
with the runtime's evidence bucket (created locked when missing, with the env model's mode and default retention),
and its OpenBao's transit engine (the key made on first use). Against an environment: the data stack's database,
the evidence stack's bucket, Vault at VAULT_ADDR with a key the platform created."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infractl.adapters import pg, worm
from infractl.adapters.ledger import objects, signers
from infractl.errors import CloudError, ConfigError, UsageError
from infractl.services.db.connect import DbEndpoint

APPLICATION = "infractl-evidence"
CHECKPOINTS, KEYS, PAYLOADS = objects.CHECKPOINTS, objects.KEYS, objects.PAYLOADS  # controlplane/ledger/objects.py


@dataclass
class Ledger:
    env: str
    model: Any  # models.environment.Environment
    endpoint: DbEndpoint
    bucket: str
    s3: Any
    mode: str  # the bucket's Object Lock mode
    classes: dict[str, int]  # retention class -> days
    checkpoint_every: int
    project_root: Path
    _signer: Any = field(default=None, repr=False)
    published_keys: set[str] = field(default_factory=set)  # key ids known to be in the bucket (KEYS)
    fixture_classes: dict[str, timedelta] = field(default_factory=dict)  # seed's short classes (tests, drills)

    def signer(self) -> Any:
        if self._signer is None:
            self._signer = _signer(self)
        return self._signer

    def retain_until(self, retention_class: str, now: datetime | None = None) -> datetime:
        if retention_class in self.fixture_classes:
            return (now or datetime.now(UTC)) + self.fixture_classes[retention_class]
        try:
            days = self.classes[retention_class]
        except KeyError:
            raise UsageError(
                f"unknown retention class {retention_class!r} in {self.env}",
                hint=f"one of {', '.join(sorted(self.classes))} (evidence.retention_classes in the env model)",
            ) from None
        return (now or datetime.now(UTC)) + timedelta(days=days)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        conn = pg.connect(self.endpoint.server, self.endpoint.database, application_name=APPLICATION)
        try:
            yield conn
        finally:
            conn.close()


def open_ledger(ctx: Any, env_name: str, *, signer: Any = None) -> Ledger:
    from infractl.services import environments
    from infractl.services.db.connect import resolve, s3_clients
    from infractl.services.dev import contract

    model = environments.load(ctx.project, env_name)
    endpoint = resolve(ctx, env_name, model)
    if endpoint.s3 is None:
        raise ConfigError(f"no S3 for {model.name}'s evidence", hint="locally: --emulate (the dev stack's S3)")
    s3, _ = s3_clients(endpoint.s3)
    mode, classes = model.evidence_retention()
    if endpoint.local:
        bucket = contract.EVIDENCE_BUCKET  # the dev stack's runtime writes there: the dev stack plays the env
        worm.ensure_bucket(s3, bucket, endpoint.s3.region, mode=mode, days=classes["standard"])
    else:
        bucket = _bucket_from_state(ctx, model)
    return Ledger(
        env=model.name,
        model=model,
        endpoint=endpoint,
        bucket=bucket,
        s3=s3,
        mode=mode,
        classes=classes,
        checkpoint_every=model.evidence.checkpoint_every,
        project_root=ctx.project.root,
        _signer=signer,
    )


def _bucket_from_state(ctx: Any, model: Any) -> str:
    from infractl.models.runs import NullProgress
    from infractl.services.stacks import runs

    outputs = runs.applied_outputs(ctx, model.name, ["evidence"], NullProgress())["evidence"]
    value = outputs.get("bucket_name")
    name = value.get("value") if isinstance(value, dict) else value
    if not name:
        raise ConfigError(
            f"the evidence stack of {model.name} has no bucket in its state",
            hint=f"apply it first: infractl apply {model.name} --stack evidence",
        )
    return str(name)


def _signer(ledger: Ledger) -> Any:
    config = ledger.model.evidence
    if config.signer == "local":
        if not config.local_key_file:
            raise ConfigError(
                f"environments/{ledger.env}.yaml: evidence.local_key_file is missing (signer: local)",
                hint="name the Ed25519 key's PEM file, or use signer: transit",
            )
        path = ledger.project_root / config.local_key_file
        try:
            return signers.LocalSigner.from_file(path, create=ledger.endpoint.local)
        except signers.SigningError as exc:
            raise ConfigError(str(exc), hint="create it with: openssl genpkey -algorithm ed25519") from None
    vault = ledger.endpoint.vault
    if vault is None:
        raise ConfigError(
            f"no Vault to sign {ledger.env}'s evidence",
            hint="set VAULT_ADDR and VAULT_TOKEN (a token allowed transit/sign and read on the key); locally --emulate",
        )
    from infractl.services.db.connect import vault_client

    client = vault_client(vault)
    key = config.transit_key or f"infractl-evidence-{ledger.env}"
    if ledger.endpoint.local:
        try:
            signers.ensure_transit_key(client, key, mount=config.transit_mount)
        except Exception as exc:
            raise CloudError(f"OpenBao: transit key {key}: {type(exc).__name__}: {exc}") from None
    return signers.TransitSigner(client, key, mount=config.transit_mount)
