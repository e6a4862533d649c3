"""`infractl tenant create ENV NAME --tier A|B|C`: all or nothing.

Checks first, before any SQL: the name (a safe identifier), the tier, tier C's place in the env model, Vault, and
that nothing of the tenant exists yet (catalog row, role, schema, database: ConflictError). Then, each step
registered on an undo stack (provision.Undo): catalog row `creating` → role → tier A: grants, row-level security and
its policies / tier B: its schema and the migrations to head in it / tier C: its database, the migrations and the
database secrets engine → credentials in Vault → catalog `ready` and an event. Any failure undoes every step done,
newest first, and leaves no catalog row; the error says what failed (and what could not be undone, if anything)."""

from __future__ import annotations

import time
from typing import Any

from infractl.errors import ConfigError, ConflictError, InfractlError
from infractl.models.db import TargetResult, TenantRecord
from infractl.models.tenant import Credentials, TenantCreated
from infractl.services.db import catalog
from infractl.services.tenant import provision, rls, session, vault
from infractl.services.tenant.session import TenantEnv


def create(tenv: TenantEnv, name: str, tier: str | None) -> TenantCreated:
    started = time.monotonic()
    session.check_name(name)
    tier = session.check_tier(tier)
    record = session.plan_record(tenv, name, tier)
    session.require_vault(tenv)
    with session.catalog_conn(tenv) as conn:
        check_free(tenv, conn, record)
        tables = rls.tenant_tables(conn) if tier == "A" else []
        if tier == "A" and not tables:
            raise ConfigError(
                f"the shared schema of {tenv.name} has no tenant-owned tables (no table with a `tenant` column)",
                hint=f"migrate it first: infractl db migrate {tenv.name}",
            )
        undo = provision.Undo()
        try:
            credentials, migration = provision_tenant(tenv, conn, record, undo, tables=tables, migrate=True)
            catalog.set_state(conn, name, "ready")
            ready = record.model_copy(update={"state": "ready"})
            catalog.record_event(
                conn,
                name,
                "created",
                {
                    "tier": tier,
                    "role": record.role,
                    "schema": record.schema_name,
                    "database": record.database,
                    "instance": record.instance,
                    "credentials": credentials.path,
                    "revision": migration.revision if migration else None,
                    "steps": undo.done,
                },
            )
        except BaseException as exc:
            raise undone(exc, undo, f"tenant {name} was not created") from None
        stored = catalog.get(conn, name) or ready
    return TenantCreated(
        env=tenv.name,
        tenant=stored,
        credentials=credentials,
        migration=migration,
        steps=undo.done,
        seconds=round(time.monotonic() - started, 3),
    )


def undone(exc: BaseException, undo: provision.Undo, what: str) -> BaseException:
    """Undo what was done and return the error to raise: the original one, saying it was rolled back (or naming
    what is left when an undo step failed too)."""
    left = undo.rollback()
    if not isinstance(exc, InfractlError):
        if not isinstance(exc, Exception):  # KeyboardInterrupt and the like: undone, passed on as they are
            return exc
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        exc = InfractlError(f"{what}: {text}")
    if left:
        exc.details = [*exc.details, "could not undo (remove by hand, or `infractl tenant delete --force`):", *left]
    else:
        exc.details = [*exc.details, f"{what}: everything it had done was undone"]
    return exc


def check_free(tenv: TenantEnv, conn: Any, record: TenantRecord) -> None:
    """ConflictError when the tenant, its role, its schema or its database already exists."""
    existing = catalog.get(conn, record.name)
    if existing is not None:
        hints = {
            "ready": f"it exists: see `infractl tenant show {tenv.name} {record.name}`, or choose another name",
            "creating": f"a create was interrupted: remove it with `infractl tenant delete {tenv.name} {record.name}"
            " --force`, then create it again",
            "deleting": f"a delete was interrupted: finish it with `infractl tenant delete {tenv.name} {record.name}`",
        }
        raise ConflictError(
            f"tenant {record.name} already exists in {tenv.name} (tier {existing.tier}, {existing.state})",
            hint=hints[existing.state],
        )
    with session.admin(tenv, "postgres", instance=record.instance) as server_conn:
        found = []
        for role in (record.role, manager_role(record)):
            if provision.role_exists(server_conn, role):
                found.append(f"role {role}")
        exists = record.tier == "C" and provision.database_exists(server_conn, record.database)
        if exists and not (record.instance and _adoptable(tenv, record)):
            found.append(f"database {record.database}")
    if record.schema_name and provision.schema_exists(conn, record.schema_name):
        found.append(f"schema {record.schema_name}")
    if found:
        raise ConflictError(
            f"tenant {record.name} is not in the catalog of {tenv.name}, but its {', '.join(found)} already exist",
            hint="they belong to something else: choose another name, or drop them by hand if they are leftovers",
        )


def _adoptable(tenv: TenantEnv, record: TenantRecord) -> bool:
    with session.admin(tenv, record.database, instance=record.instance) as conn:
        return provision.adoptable(conn, record.database)


def manager_role(record: TenantRecord) -> str:
    """The login Vault's database secrets engine uses for a tier C tenant (never a tenant role: no tenant name
    makes `vault_...`)."""
    return f"vault_{record.role}"


def kv_path(tenv: TenantEnv, name: str) -> str:
    return f"{tenv.endpoint.secret_prefix}/{name}"


def provision_tenant(
    tenv: TenantEnv, conn: Any, record: TenantRecord, undo: provision.Undo, *, tables: list[str], migrate: bool
) -> tuple[Credentials, TargetResult | None]:
    """Everything of a tenant but its data, each step on `undo`; the catalog row stays `creating` (the caller sets
    `ready`). `migrate`: run the chain to head in a tier B schema / tier C database (restore migrates after its
    data instead)."""
    access = session.require_vault(tenv)
    endpoint = tenv.endpoint
    name, role = record.name, record.role
    if not catalog.insert(conn, record):
        raise ConflictError(f"tenant {name} already exists in {tenv.name}")
    undo.did(f"catalog: {name} (creating)", lambda: catalog.remove(conn, name))
    path = kv_path(tenv, name)
    server = endpoint.server_for(record.instance)
    doc: dict[str, Any] = {"host": server.host, "port": server.port, "database": record.database, "tier": record.tier}
    migration = None

    if record.tier in ("A", "B"):
        password = provision.new_password()
        provision.create_role(conn, role, password=password, search_path=record.schema_name)
        undo.did(f"role {role}", lambda: provision.drop_role(conn, role))
        doc |= {"username": role, "password": password}
        if record.tier == "A":
            owner = endpoint.owner_role
            rls.grant(conn, role, owner, tables)
            undo.did(f"grants to {role} on {len(tables)} shared tables", lambda: rls.revoke(conn, role, owner, tables))
            turned_on = rls.enable(conn, owner, tables)
            if turned_on:
                undo.did(
                    f"row-level security on {', '.join(turned_on)}", lambda: _disable_unused(conn, owner, turned_on)
                )
            rls.create_policies(conn, name, role, owner, tables)
            undo.did(f"policies {role} on {len(tables)} tables", lambda: rls.drop_policies(conn, role, owner))
            others = [
                (t.name, t.role)
                for t in catalog.tenants(conn, tier="A")
                if t.name != name and t.state == "ready" and provision.role_exists(conn, t.role)
            ]
            # not undone: each grant and policy belongs to its own tenant and is what it should have had already
            for line in rls.reconcile(conn, owner, tables, others):
                undo.done.append(f"brought up to date: {line}")
        else:
            schema = record.schema_name or role
            provision.create_schema(conn, schema, role)
            undo.did(f"schema {schema}", lambda: provision.drop_schema(conn, schema))
            doc["schema"] = schema
            if migrate:
                migration = _migrate(tenv, record)
        credentials = Credentials(store="kv", path=f"{access.kv_mount}/{path}", username=role)
    else:
        credentials, migration = _tier_c(tenv, conn, record, undo, doc, migrate=migrate)
    vault.put_kv(access, path, doc)
    undo.did(f"vault: {access.kv_mount}/{path}", lambda: vault.delete_kv(access, path))
    return credentials, migration


def _tier_c(
    tenv: TenantEnv, conn: Any, record: TenantRecord, undo: provision.Undo, doc: dict[str, Any], *, migrate: bool
) -> tuple[Credentials, TargetResult | None]:
    access = session.require_vault(tenv)
    name, role, database = record.name, record.role, record.database
    server = tenv.endpoint.server_for(record.instance)
    why_not = vault.engine_problem(access)
    password = provision.new_password() if why_not else None
    owner_conn = conn if record.instance is None else undo_conn(tenv, record, undo)
    provision.create_role(owner_conn, role, password=password)
    undo.did(f"role {role}", lambda: provision.drop_role(owner_conn, role))
    if record.instance and provision.database_exists(owner_conn, database):  # made with the instance (check_free)
        provision.adopt_database(owner_conn, database, role)
        admin = server.user
        undo.did(
            f"database {database} (the data stack's, now {role}'s)",
            lambda: provision.release_database(owner_conn, database, admin),
        )
    else:
        provision.create_database(owner_conn, database, role)
        undo.did(f"database {database}", lambda: provision.drop_database(owner_conn, database))
    migration = _migrate(tenv, record) if migrate else None
    if why_not:
        doc |= {"username": role, "password": password}
        return Credentials(
            store="kv",
            path=f"{access.kv_mount}/{kv_path(tenv, name)}",
            username=role,
            note=f"the database secrets engine is not used: {why_not}",
        ), migration
    manager = manager_role(record)
    manager_password = provision.new_password()
    provision.create_manager_role(owner_conn, manager, role, manager_password)
    undo.did(f"role {manager}", lambda: provision.drop_role(owner_conn, manager))
    undo.did(f"vault: {vault.ENGINE_MOUNT}/config/{vault.engine_name(name)}", lambda: vault.remove_engine(access, name))
    vault.configure_engine(
        access, name, server=server, database=database, manager=manager, password=manager_password, role=role
    )
    doc |= {"credentials": vault.creds_path(name)}
    return Credentials(store="database-engine", path=vault.creds_path(name)), migration


def undo_conn(tenv: TenantEnv, record: TenantRecord, undo: provision.Undo) -> Any:
    """An admin connection to a dedicated instance, kept open until the undo stack is done with it."""
    from infractl.adapters import pg

    conn = pg.connect(tenv.endpoint.server_for(record.instance), "postgres", application_name=session.APPLICATION)
    undo.did(f"connection to {record.instance}'s instance", conn.close)
    return conn


def _migrate(tenv: TenantEnv, record: TenantRecord, *, to: str = "head") -> TargetResult:
    """The chain to `to` in the tenant's schema or database (services/db/migrate.migrate_target); a failure is an
    error here (the create is undone)."""
    from infractl.services.db.migrate import migrate_target

    target = catalog.target_of(record)
    assert target is not None  # tiers B and C
    result = migrate_target(tenv.endpoint, target, to=to)
    if result.status == "failed":
        raise InfractlError(
            f"migrations of tenant {record.name} failed: {result.error}",
            hint=f"see `infractl db status {tenv.name} --tenant {record.name}`; fix the migration, then create again",
        )
    return result


def _disable_unused(conn: Any, owner: str, tables: list[str]) -> None:
    """Turn row-level security off again where this create turned it on, unless another policy needs it."""
    from psycopg import sql

    from infractl.adapters.pg import ident

    with rls.as_role(conn, owner):
        for table in tables:
            used = conn.execute(
                "SELECT 1 FROM pg_policies WHERE schemaname = %s AND tablename = %s", (rls.SHARED_SCHEMA, table)
            ).fetchone()
            if not used:
                conn.execute(
                    sql.SQL("ALTER TABLE {}.{} DISABLE ROW LEVEL SECURITY").format(
                        ident(rls.SHARED_SCHEMA), ident(table)
                    )
                )
