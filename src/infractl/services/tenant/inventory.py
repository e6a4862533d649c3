"""`infractl tenant list ENV` and `infractl tenant show ENV NAME`: the catalog, and for one tenant what its data
looks like now (migration revision, row counts), where its credentials are, its last backup and its events."""

from __future__ import annotations

from infractl.models.tenant import Credentials, TenantDetail, TenantList
from infractl.services.db import catalog
from infractl.services.tenant import checksums, create, rls, session, vault
from infractl.services.tenant.session import TenantEnv


def list_tenants(tenv: TenantEnv, *, tier: str | None = None) -> TenantList:
    if tier is not None:
        tier = session.check_tier(tier)
    with session.catalog_conn(tenv) as conn:
        return TenantList(env=tenv.name, tenants=catalog.tenants(conn, tier=tier))


def show(tenv: TenantEnv, name: str) -> TenantDetail:
    session.check_name(name)
    with session.catalog_conn(tenv) as conn:
        record = session.require_tenant(conn, tenv, name)
        events = catalog.events(conn, name)
        revision, rows = None, {}
        if record.tier == "A":
            revision = checksums.revision(conn, rls.SHARED_SCHEMA)
            rows = rls.count_rows(conn, name, rls.tenant_tables(conn))
        elif record.tier == "B":
            schema = record.schema_name or record.role
            revision = checksums.revision(conn, schema)
            rows = checksums.counts(conn, checksums.tables(conn, schema), schema)
        elif record.state != "creating":
            with session.admin(tenv, record.database, instance=record.instance) as tconn:
                revision = checksums.revision(tconn, "public")
                rows = checksums.counts(tconn, checksums.tables(tconn))
    access = tenv.endpoint.vault
    if record.tier == "C" and access is not None and vault.engine_configured(access, name):
        credentials = Credentials(store="database-engine", path=vault.creds_path(name))
    else:
        kv = f"{access.kv_mount if access else 'secret'}/{create.kv_path(tenv, name)}"
        credentials = Credentials(store="kv", path=kv, username=record.role)
    return TenantDetail(
        env=tenv.name, tenant=record, revision=revision, rows=rows, credentials=credentials, events=events
    )
