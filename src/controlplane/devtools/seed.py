"""`python -m controlplane.devtools.seed`: prepare a DEV stack for the runtime (compose init job, `infractl dev up`).

Idempotent; every step says what it did:
1. Vault KV v2 `secret/controlplane/database` {password}: kept when present, else CONTROLPLANE_SEED_DB_PASSWORD,
   else a generated one (a given CONTROLPLANE_SEED_DB_PASSWORD that differs replaces the stored one).
2. PostgreSQL (admin connection CONTROLPLANE_DB_ADMIN_URL): role CONTROLPLANE_DB_USER with that password (created
   or its password set), database CONTROLPLANE_DB_NAME owned by it.
3. Vault KV v2 `secret/controlplane/object-store` {access_key_id, secret_access_key}: from
   CONTROLPLANE_SEED_S3_ACCESS_KEY_ID / CONTROLPLANE_SEED_S3_SECRET_ACCESS_KEY (MinIO: its root user), else the stored
   ones, else generated ones (moto accepts any key).
4. The evidence bucket CONTROLPLANE_EVIDENCE_BUCKET at CONTROLPLANE_S3_ENDPOINT_URL, created with those keys, with
   Object Lock (so versioned) and a default retention of CONTROLPLANE_EVIDENCE_LOCK_MODE for
   CONTROLPLANE_EVIDENCE_RETENTION_DAYS (COMPLIANCE, 1 day); a bucket that exists without Object Lock is an error
   (Object Lock can only be enabled when a bucket is created).
5. OpenBao's transit engine at CONTROLPLANE_EVIDENCE_TRANSIT_MOUNT and its ed25519 key
   CONTROLPLANE_EVIDENCE_TRANSIT_KEY, which signs the evidence ledger's entries.

Reads the runtime's environment contract (VAULT_ADDR, VAULT_TOKEN, CONTROLPLANE_*). Secret values go through the
environment, never argv, and are never printed. Waits up to --wait seconds for each service to answer.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from controlplane.adapters.vault import VaultSecretStore
from controlplane.errors import EXIT_CONFIG, EXIT_FAILURE, ControlPlaneError, DependencyError, SecretsError
from controlplane.readiness import describe
from controlplane.settings import Settings, load_settings

T = TypeVar("T")

ENV_ADMIN_URL = "CONTROLPLANE_DB_ADMIN_URL"
ENV_DB_PASSWORD = "CONTROLPLANE_SEED_DB_PASSWORD"
ENV_S3_KEY_ID = "CONTROLPLANE_SEED_S3_ACCESS_KEY_ID"
ENV_S3_SECRET = "CONTROLPLANE_SEED_S3_SECRET_ACCESS_KEY"


def _retry(what: str, fn: Callable[[], T], wait: float) -> T:
    deadline = time.monotonic() + wait
    delay = 0.2
    while True:
        try:
            return fn()
        except Exception as exc:
            if time.monotonic() + delay > deadline:
                raise DependencyError(f"seed: {what}: {describe(exc)}") from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _read_or_empty(store: VaultSecretStore, path: str) -> dict[str, str]:
    try:
        return store.read_sync(path)
    except SecretsError as exc:
        if "no such secret" in exc.message:
            return {}
        raise


def seed_vault_db(store: VaultSecretStore, settings: Settings, wanted: str | None, wait: float) -> tuple[str, str]:
    current = _retry("read the database secret", lambda: _read_or_empty(store, settings.db_secret_path), wait)
    password = wanted or current.get("password") or secrets.token_urlsafe(24)
    if current.get("password") == password:
        return password, "unchanged"
    store.write_sync(settings.db_secret_path, {**current, "password": password})
    return password, "written"


def seed_vault_s3(
    store: VaultSecretStore, settings: Settings, key_id: str | None, secret: str | None, wait: float
) -> tuple[tuple[str, str], str]:
    current = _retry("read the object-store secret", lambda: _read_or_empty(store, settings.s3_secret_path), wait)
    wanted = {
        "access_key_id": key_id or current.get("access_key_id") or "cp" + secrets.token_hex(9),
        "secret_access_key": secret or current.get("secret_access_key") or secrets.token_urlsafe(30),
    }
    keys = (wanted["access_key_id"], wanted["secret_access_key"])
    if all(current.get(k) == v for k, v in wanted.items()):
        return keys, "unchanged"
    store.write_sync(settings.s3_secret_path, {**current, **wanted})
    return keys, "written"


def seed_database(admin_url: str, settings: Settings, password: str, wait: float) -> list[str]:
    import psycopg
    from psycopg import sql

    done: list[str] = []
    with _retry("connect to PostgreSQL as admin", lambda: psycopg.connect(admin_url, autocommit=True), wait) as conn:
        role, db = settings.db_user, settings.db_name
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(sql.SQL(verb), sql.Identifier(role), sql.Literal(password))
        )
        done.append(f"postgres: role {role}: {'password set' if exists else 'created'}")
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
            done.append(f"postgres: database {db}: exists")
        else:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(db), sql.Identifier(role)))
            done.append(f"postgres: database {db}: created")
    return done


def seed_bucket(settings: Settings, keys: tuple[str, str] | None, wait: float) -> str:
    from botocore.exceptions import ClientError

    from controlplane.adapters.s3 import make_client

    client = make_client(settings, keys)
    bucket = settings.evidence_bucket
    mode, days = settings.evidence_lock_mode.value, settings.evidence_retention_days

    def ensure() -> str:
        try:
            client.head_bucket(Bucket=bucket)
            return "exists"
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
        args: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": True}
        if settings.s3_region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": settings.s3_region}
        client.create_bucket(**args)
        client.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}},
            },
        )
        return "created"

    def lock() -> dict[str, Any] | None:
        try:
            return dict(client.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ObjectLockConfigurationNotFoundError":
                return None
            raise

    state = _retry(f"ensure bucket {bucket}", ensure, wait)
    config = _retry(f"read the Object Lock configuration of {bucket}", lock, wait)
    if not config or config.get("ObjectLockEnabled") != "Enabled":
        raise ControlPlaneError(
            f"seed: the evidence bucket {bucket} exists without Object Lock: evidence there could be deleted",
            details=[
                "Object Lock can only be enabled when a bucket is created: delete this one (a dev stack's) or set "
                "CONTROLPLANE_EVIDENCE_BUCKET to a new name"
            ],
        )
    rule = config.get("Rule", {}).get("DefaultRetention", {})
    default = f"{rule.get('Mode')} {rule.get('Days') or rule.get('Years', '?')}d" if rule else "no default retention"
    return f"s3: bucket {bucket}: {state} (Object Lock, {default})"


def seed_transit(store: VaultSecretStore, settings: Settings, wait: float) -> str:
    from controlplane.ledger.signers import ensure_transit_key

    key, mount = settings.evidence_transit_key, settings.evidence_transit_mount
    _retry(
        f"ensure transit key {mount}/{key}",
        lambda: ensure_transit_key(store.client_sync(), key, mount=mount),
        wait,
    )
    return f"vault: {mount}/keys/{key}: ed25519 key present"


def seed(
    settings: Settings,
    *,
    admin_url: str | None,
    db_password: str | None = None,
    s3_access_key_id: str | None = None,
    s3_secret_access_key: str | None = None,
    wait: float = 60.0,
    skip_db: bool = False,
    skip_bucket: bool = False,
    skip_transit: bool = False,
) -> list[str]:
    """Seed Vault, PostgreSQL, the bucket and the transit key; one line per step (no secret value in them)."""
    store = VaultSecretStore.from_settings(settings)
    lines = []
    password, state = seed_vault_db(store, settings, db_password, wait)
    lines.append(f"vault: {settings.vault_kv_mount}/{settings.db_secret_path}: {state}")
    if not skip_db:
        if not admin_url:
            raise DependencyError(f"seed: {ENV_ADMIN_URL} is not set (or pass --skip-db)")
        lines += seed_database(admin_url, settings, password, wait)
    keys, state = seed_vault_s3(store, settings, s3_access_key_id, s3_secret_access_key, wait)
    lines.append(f"vault: {settings.vault_kv_mount}/{settings.s3_secret_path}: {state}")
    if not skip_bucket:
        lines.append(seed_bucket(settings, keys, wait))
    if not skip_transit:
        lines.append(seed_transit(store, settings, wait))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m controlplane.devtools.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for each service")
    parser.add_argument("--skip-db", action="store_true", help="do not touch PostgreSQL")
    parser.add_argument("--skip-bucket", action="store_true", help="do not create the evidence bucket")
    parser.add_argument("--skip-transit", action="store_true", help="do not create the transit signing key")
    parser.add_argument(
        "--retention-days",
        type=int,
        metavar="N",
        help="the new bucket's default retention (default CONTROLPLANE_EVIDENCE_RETENTION_DAYS, 1)",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ControlPlaneError as exc:
        print(f"seed: {exc.render()}", file=sys.stderr)
        return EXIT_CONFIG
    if args.retention_days is not None:
        if args.retention_days < 1:
            print("seed: --retention-days must be at least 1", file=sys.stderr)
            return EXIT_CONFIG
        settings = settings.model_copy(update={"evidence_retention_days": args.retention_days})
    try:
        lines = seed(
            settings,
            admin_url=os.environ.get(ENV_ADMIN_URL),
            db_password=os.environ.get(ENV_DB_PASSWORD) or None,
            s3_access_key_id=os.environ.get(ENV_S3_KEY_ID) or None,
            s3_secret_access_key=os.environ.get(ENV_S3_SECRET) or None,
            wait=args.wait,
            skip_db=args.skip_db,
            skip_bucket=args.skip_bucket,
            skip_transit=args.skip_transit,
        )
    except ControlPlaneError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_FAILURE
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
