"""Tenants on real engines (docs/tenants.md): PostgreSQL, OpenBao (KV and the database secrets engine) and moto
(S3 and KMS), started once for this module through adapters/localservices and recorded as the dev stack, so the
commands resolve them exactly as `--emulate` does (services/db/connect.resolve).

Per tier, three tenants: create, migrate, write data as the tenant's own role, isolation (rows, schemas,
databases), back up (SSE-KMS with the env's key), delete, restore, compare checksums — and the other tenants'
data unchanged. Bad input (unknown tier, duplicates, injection names, a backup at a newer head) and a failing step
leave nothing behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from infractl.errors import CloudError, ConflictError, InfractlError, RefusedError, UsageError
from infractl.services.tenant import backup, create, delete, inventory, restore, session, storage, vault

pytestmark = pytest.mark.integration

TIER_C = ("c1", "c2", "c3", "c2-copy", "cfail", "cold")
WAIT_S = 30.0
INSERT = "INSERT INTO runs (id, tenant, kind, status, workflow_id) VALUES (%s, %s, 'deploy', 'completed', %s)"


@dataclass
class Stack:
    root: Path
    ports: dict[str, int]
    token: str
    tenv: session.TenantEnv

    def admin(self, database: str = "controlplane") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.ports["postgres"], user="postgres", dbname=database, autocommit=True
        )

    def login(self, user: str, password: str, database: str) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.ports["postgres"],
            user=user,
            password=password,
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        )

    def tenant_login(self, name: str, database: str | None = None) -> psycopg.Connection:
        """As the tenant: its KV login (A, B), or a user the database secrets engine issues (C)."""
        doc = vault.read_kv(self.tenv.endpoint.vault, create.kv_path(self.tenv, name))
        assert doc is not None, f"no credentials of {name} in Vault"
        if "password" in doc:
            return self.login(doc["username"], doc["password"], database or doc["database"])
        user, password = vault.issue(self.tenv.endpoint.vault, name)
        return self.login(user, password, database or doc["database"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from infractl.services.context import build
    from tests.tenant_stack import local_tenant_stack

    with local_tenant_stack(tmp_path_factory.mktemp("tenant-stack"), TIER_C, wait=WAIT_S) as local:
        tenv = session.open_env(build(root=local.root, emulate=True), "dev")
        yield Stack(root=local.root, ports=local.ports, token=local.token, tenv=tenv)


@pytest.fixture(autouse=True)
def _ledger_away(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test here steps the shared schema back past 0005, which an evidence entry makes irreversible: infractl's own
    actions wait in the stack's queue instead (tests/integration/test_evidence_actions.py appends them)."""
    from infractl.services.evidence import access

    def away(_ctx: Any, env: str, **_kw: Any) -> Any:
        raise CloudError(f"the tenant tests keep {env}'s ledger empty")

    monkeypatch.setattr(access, "open_ledger", away)


# ---------------------------------------------------------------------------------------------- helpers


def world(stack: Stack) -> dict[str, Any]:
    """Everything a tenant operation may create: catalog rows, roles, schemas, databases, policies, Vault paths."""
    with stack.admin() as conn:
        catalog_rows = conn.execute("SELECT name, state FROM infractl.tenants ORDER BY 1").fetchall()
        targets = conn.execute("SELECT target FROM infractl.migration_targets ORDER BY 1").fetchall()
        roles = conn.execute("SELECT rolname FROM pg_roles WHERE rolname !~ '^(pg_|postgres$)' ORDER BY 1").fetchall()
        schemas = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant%' ORDER BY 1").fetchall()
        dbs = conn.execute("SELECT datname FROM pg_database ORDER BY 1").fetchall()
        policies = conn.execute("SELECT tablename, policyname FROM pg_policies ORDER BY 1, 2").fetchall()
    access = stack.tenv.endpoint.vault
    import hvac

    client = hvac.Client(url=access.addr, token=access.token)
    try:
        kv = client.secrets.kv.v2.list_secrets(path=stack.tenv.endpoint.secret_prefix, mount_point="secret")
        kv_keys = sorted(kv["data"]["keys"])
    except hvac.exceptions.InvalidPath:
        kv_keys = []
    try:
        engine = sorted(client.secrets.database.list_connections(mount_point="database")["data"]["keys"])
    except hvac.exceptions.InvalidPath:
        engine = []
    return {
        "catalog": catalog_rows,
        "targets": targets,
        "roles": roles,
        "schemas": schemas,
        "databases": dbs,
        "policies": policies,
        "kv": kv_keys,
        "engine": engine,
    }


def write(stack: Stack, name: str, rows: int) -> None:
    with stack.tenant_login(name) as conn:
        for i in range(rows):
            conn.execute(INSERT, (uuid.uuid4(), name, f"wf-{name}-{i}"))


def fingerprint(stack: Stack, name: str, tier: str, *, as_name: str | None = None) -> dict[str, tuple[int, str]]:
    """Per table: row count and md5 of the sorted row texts (tier A: that tenant's rows, its tenant column out)."""
    if tier == "A":
        with stack.admin() as conn:
            return {
                table: conn.execute(
                    f"SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') FROM (SELECT"
                    f" md5((to_jsonb(t) - 'tenant')::text) AS h FROM {table} t WHERE tenant = %s) s",
                    (as_name or name,),
                ).fetchone()
                for table in ("runs", "outbox", "delivered_events", "idempotency_keys")
            }
    ident = (as_name or name).replace("-", "_")
    database, schema = ("controlplane", f"tenant_{ident}") if tier == "B" else (f"tenant_{ident}", "public")
    with stack.admin(database) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))]
        return {
            t: conn.execute(
                "SELECT count(*), coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '')"
                f' FROM "{schema}"."{t}" x'
            ).fetchone()
            for t in sorted(tables)
        }


def yes(_question: str) -> bool:
    return True


def backup_keys_sse(stack: Stack, manifest) -> set[tuple[str, str]]:
    store = storage.open_store(stack.tenv)
    keys = [o.key for o in manifest.objects] + [manifest.manifest_key]
    return {(storage.head(store, k)["ServerSideEncryption"], storage.head(store, k)["SSEKMSKeyId"]) for k in keys}


# ---------------------------------------------------------------------------------------------- lifecycle


@pytest.mark.parametrize("tier", ["A", "B", "C"])
def test_three_tenants_live_are_isolated_backed_up_deleted_and_restored(stack: Stack, tier: str) -> None:
    names = [f"{tier.lower()}{i}" for i in (1, 2, 3)]
    for name in names:
        created = create.create(stack.tenv, name, tier)
        assert created.tenant.state == "ready"
        if tier != "A":
            assert created.migration.revision == created.migration.applied[-1]  # the chain ran to head in it
    for i, name in enumerate(names):
        write(stack, name, rows=3 + i)
    _isolation(stack, tier, names)

    before = {n: fingerprint(stack, n, tier) for n in names}
    assert [before[n]["runs"][0] for n in names] == [3, 4, 5]
    backups = {n: backup.backup(stack.tenv, n) for n in names}
    key_arn = storage.open_store(stack.tenv).key_id
    assert key_arn.startswith("arn:aws:kms:")
    for result in backups.values():
        assert backup_keys_sse(stack, result.manifest) == {("aws:kms", key_arn)}
        assert result.manifest.kms_key_id == key_arn
        assert next(t.rows for t in result.manifest.tables if t.name.endswith("runs")) >= 3

    # delete the first (fresh backup: allowed), restore it under its own name: equal; the others untouched
    deleted = delete.delete(stack.tenv, names[0], confirm=yes)
    assert deleted.backup == backups[names[0]].manifest_key and deleted.removed
    assert names[0] not in [t.name for t in inventory.list_tenants(stack.tenv).tenants]
    restored = restore.restore(stack.tenv, names[0])
    assert restored.tenant.state == "ready"
    assert all(c.rows == c.expected_rows for c in restored.verified)
    assert restored.objects_verified == len(backups[names[0]].manifest.objects)
    assert fingerprint(stack, names[0], tier) == before[names[0]]
    write(stack, names[0], rows=1)  # its new credentials work
    assert {n: fingerprint(stack, n, tier) for n in names[1:]} == {n: before[n] for n in names[1:]}

    # restore the second's backup under a new name while the second lives
    if tier == "A":
        ahead = world(stack)
        with pytest.raises(ConflictError, match="still has them"):
            restore.restore(stack.tenv, names[1], as_name="a2-copy")
        assert world(stack) == ahead
        # once the source is gone, its rows come back under the new name, tenant column rewritten
        delete.delete(stack.tenv, names[1], confirm=yes)
        copy = restore.restore(stack.tenv, names[1], as_name="a2-copy")
        assert all(c.checksum_ok for c in copy.verified)
        assert fingerprint(stack, names[1], tier, as_name="a2-copy") == before[names[1]]
        with stack.tenant_login("a2-copy") as conn:
            assert conn.execute("SELECT DISTINCT tenant FROM runs").fetchall() == [("a2-copy",)]
    else:
        copy = restore.restore(stack.tenv, names[1], as_name=f"{names[1]}-copy")
        assert fingerprint(stack, names[1], tier, as_name=f"{names[1]}-copy") == before[names[1]]
        assert fingerprint(stack, names[1], tier) == before[names[1]]
        write(stack, f"{names[1]}-copy", rows=1)
    assert fingerprint(stack, names[2], tier) == before[names[2]]


def _isolation(stack: Stack, tier: str, names: list[str]) -> None:
    first, second = names[0], names[1]
    if tier == "A":
        with stack.tenant_login(first) as conn:
            seen = conn.execute("SELECT DISTINCT tenant FROM runs").fetchall()
            assert seen == [(first,)]  # the others' rows are invisible
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute(INSERT, (uuid.uuid4(), second, "wf-forged"))
            assert conn.execute("UPDATE runs SET kind = 'x' WHERE tenant = %s", (second,)).rowcount == 0
    elif tier == "B":
        with stack.tenant_login(first) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT count(*) FROM tenant_{second}.runs")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT count(*) FROM public.runs")  # nor the pooled tier's tables
    else:
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            stack.tenant_login(first, database=f"tenant_{second}")
        with stack.tenant_login(first) as conn:  # an issued user: a member of the tenant's role, acting as it
            assert conn.execute("SELECT current_user").fetchone() == (f"tenant_{first}",)
            assert conn.execute("SELECT current_database()").fetchone() == (f"tenant_{first}",)


# ---------------------------------------------------------------------------------------------- through the CLI


def test_the_cli_creates_shows_backs_up_and_restores_without_printing_a_secret(stack: Stack, invoke) -> None:
    import json

    root = stack.root
    printed = []
    for tier, name in (("B", "cli-b"), ("A", "cli-a")):
        result = invoke("tenant", "create", "dev", name, "--tier", tier, "--emulate", root=root)
        printed.append(result.stdout + result.stderr)
        assert f"tenant {name} created" in result.stdout
        write(stack, name, rows=2)
        shown = invoke("tenant", "show", "dev", name, "--emulate", "--json", root=root)
        detail = json.loads(shown.stdout)
        assert detail["tenant"]["tier"] == tier and detail["rows"]["runs"] == 2
        assert detail["credentials"]["path"].endswith(f"/tenants/{name}")
        printed.append(shown.stdout)
        done = invoke("tenant", "backup", "dev", name, "--emulate", "--json", root=root)
        manifest = json.loads(done.stdout)["manifest"]
        assert manifest["tier"] == tier and manifest["head"]
        printed.append(done.stdout)
        printed.append(invoke("tenant", "backup", "dev", name, "--emulate", root=root).stdout)
        listed = invoke("tenant", "list", "dev", "--emulate", root=root)
        assert name in listed.stdout
        printed.append(listed.stdout)
    refused = invoke("tenant", "delete", "dev", "cli-b", "--emulate", root=root, code=2)  # no terminal, no --yes
    assert "needs confirmation" in refused.stderr
    gone = invoke("tenant", "delete", "dev", "cli-b", "--emulate", "--yes", root=root)
    printed.append(gone.stdout)
    back = invoke("tenant", "restore", "dev", "cli-b", "--latest", "--emulate", root=root)
    assert "tenant cli-b restored" in back.stdout
    printed.append(back.stdout + back.stderr)
    passwords = [
        vault.read_kv(stack.tenv.endpoint.vault, create.kv_path(stack.tenv, n))["password"] for n in ("cli-a", "cli-b")
    ]
    assert all(len(p) >= 20 for p in passwords)
    text = "\n".join(printed)
    assert not [p for p in passwords if p in text]
    assert stack.token not in text and "password" not in text.lower()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["tenant", "create", "dev", "acme", "--tier", "D"], 2, "unknown tier 'D'"),
        (["tenant", "create", "dev", "a'; drop table runs;--", "--tier", "A"], 2, "is not a tenant name"),
        (["tenant", "create", "dev", 'Robert"', "--tier", "B"], 2, "is not a tenant name"),
        (["tenant", "create", "dev", "robert); DROP SCHEMA public CASCADE", "--tier", "B"], 2, "not a tenant name"),
        (["tenant", "create", "dev", "not-listed", "--tier", "C"], 3, "environments/dev.yaml: tenants: not-listed"),
        (["tenant", "restore", "dev", "x'--", "--emulate"], 2, "is not a tenant name"),
        (["tenant", "restore", "dev", "a3", "--as", "A3;", "--emulate"], 2, "is not a new tenant name"),
    ],
)
def test_bad_input_is_refused_with_its_exit_code_and_nothing_created(stack, invoke, args, code, message) -> None:
    before = world(stack)
    result = invoke(*args, "--emulate", root=stack.root, code=code)
    assert message in result.stderr
    assert world(stack) == before


def test_a_duplicate_is_a_conflict_and_changes_nothing(stack, invoke) -> None:
    create.create(stack.tenv, "dup", "B")
    before = world(stack)
    for tier in ("B", "A"):
        result = invoke("tenant", "create", "dev", "dup", "--tier", tier, "--emulate", root=stack.root, code=9)
        assert "tenant dup already exists in dev (tier B, ready)" in result.stderr
    with stack.admin() as conn:  # a role of that name outside the catalog is a conflict too
        conn.execute("CREATE ROLE tenant_squatter NOLOGIN")
    with pytest.raises(ConflictError, match="its role tenant_squatter already exist"):
        create.create(stack.tenv, "squatter", "A")
    with stack.admin() as conn:
        conn.execute("DROP ROLE tenant_squatter")
    assert world(stack) == before


# ---------------------------------------------------------------------------------------------- failures undo


@pytest.mark.parametrize(
    ("tier", "name", "step"),
    [
        ("A", "afail", "put_kv"),
        ("B", "bfail", "put_kv"),
        ("C", "cfail", "configure_engine"),
    ],
)
def test_a_failing_step_undoes_everything_create_did(stack, monkeypatch, tier, name, step) -> None:
    before = world(stack)
    calls = []
    real = getattr(vault, step)

    def failing(*args, **kwargs):
        calls.append(step)
        if step == "configure_engine":
            real(*args, **kwargs)  # Vault has the connection and role: the undo must remove them too
        raise RuntimeError(f"injected failure in {step}")

    monkeypatch.setattr(vault, step, failing)
    with pytest.raises(InfractlError, match=f"tenant {name} was not created: injected failure in {step}") as info:
        create.create(stack.tenv, name, tier)
    assert calls == [step]
    assert info.value.details[-1] == f"tenant {name} was not created: everything it had done was undone"
    assert world(stack) == before


def test_a_failing_migration_undoes_the_create(stack, monkeypatch) -> None:
    from infractl.services.db import migrate

    before = world(stack)
    real = migrate.migrate_target

    def broken(endpoint, target, *, to="head"):
        result = real(endpoint, target, to="0001")
        return result.model_copy(update={"status": "failed", "error": "0002: injected"})

    monkeypatch.setattr(migrate, "migrate_target", broken)
    with pytest.raises(InfractlError, match="migrations of tenant bmig failed: 0002: injected"):
        create.create(stack.tenv, "bmig", "B")
    assert world(stack) == before


# ---------------------------------------------------------------------------------------------- backups and heads


def test_a_backup_at_a_newer_head_is_refused_before_anything_is_created(stack, invoke) -> None:
    create.create(stack.tenv, "bnew", "B")
    taken = backup.backup(stack.tenv, "bnew")
    store = storage.open_store(stack.tenv)
    future = taken.manifest.model_copy(update={"head": "9999", "prefix": "bnew/29991231T000000000000Z"})
    storage.put_json(store, future.manifest_key, future.model_dump(mode="json"))
    before = world(stack)
    result = invoke("tenant", "restore", "dev", "bnew", "--as", "bnew-two", "--emulate", root=stack.root, code=9)
    assert "is at migration 9999, newer than this code's head" in result.stderr
    assert "nothing was created" in result.stderr
    assert world(stack) == before


def test_a_backup_at_an_older_head_is_restored_then_migrated(stack) -> None:
    from infractl.adapters import migrations, pg

    create.create(stack.tenv, "cold", "C")
    write(stack, "cold", rows=4)
    with pg.engine(stack.tenv.endpoint.server, "tenant_cold") as engine, engine.connect() as conn:
        conn.exec_driver_sql("SET ROLE tenant_cold")
        migrations.downgrade(conn, migrations.revisions()[0].id)
        conn.commit()
    older = backup.backup(stack.tenv, "cold")
    head = migrations.head()
    assert older.manifest.head == migrations.revisions()[0].id != head
    delete.delete(stack.tenv, "cold", confirm=yes)
    restored = restore.restore(stack.tenv, "cold")
    assert restored.backup_head == older.manifest.head
    assert restored.migration.revision == head and restored.migration.status == "applied"
    assert fingerprint(stack, "cold", "C")["runs"][0] == 4


def test_a_tampered_backup_fails_verification_and_leaves_nothing(stack) -> None:
    create.create(stack.tenv, "btamper", "B")
    write(stack, "btamper", rows=3)
    taken = backup.backup(stack.tenv, "btamper")
    delete.delete(stack.tenv, "btamper", confirm=yes)
    store = storage.open_store(stack.tenv)
    runs = max((o for o in taken.manifest.objects if o.file.endswith(".dat.gz")), key=lambda o: o.size)
    body = b"".join(storage.chunks(store, runs.key))
    import gzip

    forged = gzip.compress(gzip.decompress(body).replace(b"wf-btamper-0", b"wf-btamper-X"))
    store.s3.put_object(Bucket=store.bucket, Key=runs.key, Body=forged, **store.sse())
    before = world(stack)
    with pytest.raises(InfractlError, match="do not match its manifest") as info:
        restore.restore(stack.tenv, "btamper")
    assert any(runs.file in d and "sha256" in d for d in info.value.details)
    assert world(stack) == before


def test_delete_refuses_without_a_fresh_backup(stack) -> None:
    from infractl.adapters import migrations, pg

    create.create(stack.tenv, "bkeep", "B")
    with pytest.raises(RefusedError, match="has no backup"):
        delete.delete(stack.tenv, "bkeep", confirm=yes)
    backup.backup(stack.tenv, "bkeep")
    with pytest.raises(RefusedError, match=r"h old \(--max-backup-age 0 h\)"):
        delete.delete(stack.tenv, "bkeep", confirm=yes, max_backup_age_hours=0)
    with pg.engine(stack.tenv.endpoint.server, "controlplane") as engine, engine.connect() as conn:
        conn.exec_driver_sql("SET ROLE tenant_bkeep")
        migrations.downgrade(conn, migrations.revisions()[0].id, schema="tenant_bkeep")
        conn.commit()
    with pytest.raises(RefusedError, match="was migrated since its last backup"):
        delete.delete(stack.tenv, "bkeep", confirm=yes)
    with pytest.raises(UsageError, match="confirmation declined"):
        delete.delete(stack.tenv, "bkeep", confirm=lambda _q: False, force=True)
    forced = delete.delete(stack.tenv, "bkeep", confirm=yes, force=True)
    assert forced.forced and "schema tenant_bkeep" in forced.removed
    with stack.admin() as conn:  # what it did is kept after the tenant is gone
        actions = [r[0] for r in conn.execute("SELECT action FROM infractl.tenant_events WHERE tenant = 'bkeep'")]
    assert actions == ["created", "backed-up", "deleted"]


def test_a_tenant_table_added_later_gets_row_level_security_and_every_tier_a_tenant_its_policy(stack) -> None:
    create.create(stack.tenv, "ra1", "A")
    with stack.admin() as conn:  # what a later migration adding a tenant-owned table does
        conn.execute("SET ROLE controlplane")
        conn.execute("CREATE TABLE notes (id bigint PRIMARY KEY, tenant text NOT NULL, body text)")
        conn.execute("INSERT INTO notes VALUES (1, 'ra1', 'mine'), (2, 'ra2', 'theirs')")
    created = create.create(stack.tenv, "ra2", "A")
    assert "brought up to date: ra1: policies on notes" in created.steps
    for name in ("ra1", "ra2"):
        with stack.tenant_login(name) as conn:
            assert conn.execute("SELECT tenant FROM notes").fetchall() == [(name,)]
    with stack.admin() as conn:
        conn.execute("DROP TABLE notes")


def test_a_tier_a_backup_at_an_older_head_is_migrated_in_a_scratch_schema_before_it_joins(stack) -> None:
    from infractl.adapters import migrations, pg

    ids = [r.id for r in migrations.revisions()]
    create.create(stack.tenv, "aold", "A")
    write(stack, "aold", rows=3)
    with stack.tenant_login("aold") as conn:
        conn.execute("UPDATE runs SET error_message = 'boom' WHERE workflow_id = 'wf-aold-0'")

    def shared_to(revision: str) -> None:
        with pg.engine(stack.tenv.endpoint.server, "controlplane") as engine, engine.connect() as conn:
            conn.exec_driver_sql("SET ROLE controlplane")
            conn.commit()
            if ids.index(revision) < ids.index(migrations.current(conn)):
                migrations.downgrade(conn, revision)
            else:
                migrations.upgrade(conn, revision)

    shared_to(ids[-2])  # the shared schema one revision back, as the release before this one had it
    try:
        older = backup.backup(stack.tenv, "aold")
    finally:
        shared_to(ids[-1])
    assert older.manifest.head == ids[-2]
    before = fingerprint(stack, "aold", "A")
    with pytest.raises(RefusedError, match="was migrated since its last backup"):
        delete.delete(stack.tenv, "aold", confirm=yes)
    delete.delete(stack.tenv, "aold", confirm=yes, force=True)
    with stack.admin() as conn:
        scratch_before = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'infractl_restore%'")
        assert scratch_before.fetchone() == (0,)
    restored = restore.restore(stack.tenv, "aold")
    assert restored.backup_head == ids[-2] and all(c.checksum_ok for c in restored.verified)
    assert fingerprint(stack, "aold", "A") == before  # the migration did to the restored rows what it did to the rest
    with stack.admin() as conn:
        assert conn.execute("SELECT error_message FROM runs WHERE workflow_id = 'wf-aold-0'").fetchone() == ("boom",)
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'infractl_restore%'").fetchone() == (
            0,
        )


def test_a_dedicated_instance_tenant_takes_over_the_database_its_instance_came_with(stack) -> None:
    """The data stack creates a dedicated instance with the tenant's (empty) database; create makes it the
    tenant's. Locally the "instance" is the same server under another name (the dev stack has one PostgreSQL)."""
    import dataclasses
    from types import SimpleNamespace

    server = dataclasses.replace(stack.tenv.endpoint.server, label="tenant cded's instance")
    endpoint = dataclasses.replace(stack.tenv.endpoint, instances={"cded": server})
    dedicated = SimpleNamespace(name="cded", database=SimpleNamespace(dedicated_instance=True))
    tenv = dataclasses.replace(
        stack.tenv, endpoint=endpoint, model=stack.tenv.model.model_copy(update={"tenants": [dedicated]})
    )
    with stack.admin("postgres") as conn:
        conn.execute("CREATE DATABASE tenant_cded")  # what RDS makes with the instance (db_name)
    created = create.create(tenv, "cded", "C")
    assert created.tenant.instance == "cded"
    assert "database tenant_cded (the data stack's, now tenant_cded's)" in created.steps
    write(stack, "cded", rows=2)
    before = fingerprint(stack, "cded", "C")
    backup.backup(tenv, "cded")
    delete.delete(tenv, "cded", confirm=yes)
    assert restore.restore(tenv, "cded").tenant.instance == "cded"
    assert fingerprint(stack, "cded", "C") == before
    with stack.admin("postgres") as conn:  # someone else's database of that name is never taken over
        conn.execute("CREATE DATABASE tenant_cdedtwo")
    with stack.admin("tenant_cdedtwo") as conn:
        conn.execute("CREATE TABLE theirs (x int)")
    other = SimpleNamespace(name="cdedtwo", database=SimpleNamespace(dedicated_instance=True))
    two = dataclasses.replace(
        tenv,
        endpoint=dataclasses.replace(endpoint, instances={"cdedtwo": server}),
        model=stack.tenv.model.model_copy(update={"tenants": [other]}),
    )
    with pytest.raises(ConflictError, match="its database tenant_cdedtwo already exist"):
        create.create(two, "cdedtwo", "C")
    with stack.admin("postgres") as conn:
        conn.execute("DROP DATABASE tenant_cdedtwo")
