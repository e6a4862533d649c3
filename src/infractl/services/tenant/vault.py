"""Tenant credentials in Vault/OpenBao (hvac, imported lazily): KV v2 documents at
<kv_mount>/<endpoint.secret_prefix>/<name>, and for tier C the database secrets engine — `database/config/tenant-<name>`
(its connection, as a login only Vault knows after `rotate-root`) and the role `tenant-<name>` issuing short-lived
users that are members of the tenant's role. No secret value leaves this module except through `issue` (the tests
log in with what it returns); errors name the path, never a value."""

from __future__ import annotations

from typing import Any

from infractl.adapters.pg import PgServer
from infractl.errors import CloudError
from infractl.services.db.connect import VaultAccess, vault_client

ENGINE_MOUNT = "database"
PLUGIN = "postgresql-database-plugin"
DEFAULT_TTL = "1h"
MAX_TTL = "24h"


def _fail(what: str, exc: Exception) -> CloudError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return CloudError(f"Vault: {what}: {text}", hint="is Vault reachable, and may the token do this?")


def engine_name(name: str) -> str:
    return f"tenant-{name}"


def creds_path(name: str) -> str:
    return f"{ENGINE_MOUNT}/creds/{engine_name(name)}"


def put_kv(access: VaultAccess, path: str, data: dict[str, Any]) -> None:
    try:
        vault_client(access).secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point=access.kv_mount)
    except Exception as exc:
        raise _fail(f"write {access.kv_mount}/{path}", exc) from None


def kv_exists(access: VaultAccess, path: str) -> bool:
    import hvac

    try:
        vault_client(access).secrets.kv.v2.read_secret_metadata(path=path, mount_point=access.kv_mount)
        return True
    except hvac.exceptions.InvalidPath:
        return False
    except Exception as exc:
        raise _fail(f"read {access.kv_mount}/{path}", exc) from None


def read_kv(access: VaultAccess, path: str) -> dict[str, Any] | None:
    import hvac

    try:
        doc = vault_client(access).secrets.kv.v2.read_secret_version(
            path=path, mount_point=access.kv_mount, raise_on_deleted_version=True
        )
    except hvac.exceptions.InvalidPath:
        return None
    except Exception as exc:
        raise _fail(f"read {access.kv_mount}/{path}", exc) from None
    return dict(doc["data"]["data"])


def delete_kv(access: VaultAccess, path: str) -> bool:
    """Delete every version and the metadata; False when there was nothing."""
    if not kv_exists(access, path):
        return False
    try:
        vault_client(access).secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=access.kv_mount)
    except Exception as exc:
        raise _fail(f"delete {access.kv_mount}/{path}", exc) from None
    return True


# ---------------------------------------------------------------------------------------------- database engine


def engine_problem(access: VaultAccess) -> str | None:
    """Why the database secrets engine cannot issue tenant credentials here (None: it can). Mounts it at
    database/ when it is not mounted yet (the dev server; a production Vault has it mounted by its own setup)."""
    import hvac

    client = vault_client(access)
    try:
        mounts = client.sys.list_mounted_secrets_engines()
        mounts = mounts.get("data", mounts)
        if f"{ENGINE_MOUNT}/" not in mounts:
            client.sys.enable_secrets_engine("database", path=ENGINE_MOUNT)
        client.adapter.get(f"/v1/sys/plugins/catalog/database/{PLUGIN}")
    except hvac.exceptions.InvalidPath:
        return f"Vault has no {PLUGIN}"
    except hvac.exceptions.Forbidden:
        return f"the token may not mount or read the {ENGINE_MOUNT}/ secrets engine"
    except Exception as exc:
        raise _fail("the database secrets engine", exc) from None
    return None


def configure_engine(
    access: VaultAccess, name: str, *, server: PgServer, database: str, manager: str, password: str, role: str
) -> None:
    """database/config/tenant-<name> (connecting as `manager`, then rotated so only Vault knows its password) and
    the role tenant-<name>: users valid DEFAULT_TTL (renewable to MAX_TTL), members of `role`, whose sessions act as
    it (so what they create belongs to the tenant's role)."""
    client = vault_client(access)
    ssl = f"?sslmode={server.sslmode}" if server.sslmode else "?sslmode=disable"
    url = f"postgresql://{{{{username}}}}:{{{{password}}}}@{server.host}:{server.port}/{database}{ssl}"
    quoted = '"' + role.replace('"', '""') + '"'
    creation = [
        f"CREATE ROLE \"{{{{name}}}}\" WITH LOGIN PASSWORD '{{{{password}}}}' VALID UNTIL '{{{{expiration}}}}'"
        f" IN ROLE {quoted};",
        f'ALTER ROLE "{{{{name}}}}" SET role = {quoted};',
    ]
    revocation = [f'REVOKE {quoted} FROM "{{{{name}}}}";', 'DROP ROLE IF EXISTS "{{name}}";']
    what = f"{ENGINE_MOUNT}/config/{engine_name(name)}"
    try:
        client.secrets.database.configure(
            name=engine_name(name),
            plugin_name=PLUGIN,
            connection_url=url,
            allowed_roles=[engine_name(name)],
            username=manager,
            password=password,
            verify_connection=True,
            mount_point=ENGINE_MOUNT,
        )
        client.secrets.database.rotate_root_credentials(name=engine_name(name), mount_point=ENGINE_MOUNT)
        what = f"{ENGINE_MOUNT}/roles/{engine_name(name)}"
        client.secrets.database.create_role(
            name=engine_name(name),
            db_name=engine_name(name),
            creation_statements=creation,
            revocation_statements=revocation,
            default_ttl=DEFAULT_TTL,
            max_ttl=MAX_TTL,
            mount_point=ENGINE_MOUNT,
        )
    except Exception as exc:
        raise _fail(f"write {what}", exc) from None


def remove_engine(access: VaultAccess, name: str) -> list[str]:
    """Revoke every lease of the tenant's role (dropping the users it issued), delete the role and the connection;
    what was removed."""
    import hvac

    client = vault_client(access)
    removed = []
    steps = [
        (f"leases {creds_path(name)}", lambda: client.sys.revoke_prefix(creds_path(name))),
        (
            f"{ENGINE_MOUNT}/roles/{engine_name(name)}",
            lambda: client.secrets.database.delete_role(name=engine_name(name), mount_point=ENGINE_MOUNT),
        ),
        (
            f"{ENGINE_MOUNT}/config/{engine_name(name)}",
            lambda: client.adapter.delete(f"/v1/{ENGINE_MOUNT}/config/{engine_name(name)}"),
        ),
    ]
    for what, step in steps:
        try:
            step()
            removed.append(f"vault: {what}")
        except hvac.exceptions.InvalidPath:
            continue
        except Exception as exc:
            raise _fail(f"remove {what}", exc) from None
    return removed


def engine_configured(access: VaultAccess, name: str) -> bool:
    import hvac

    try:
        vault_client(access).secrets.database.read_connection(name=engine_name(name), mount_point=ENGINE_MOUNT)
        return True
    except hvac.exceptions.InvalidPath:
        return False
    except Exception as exc:
        raise _fail(f"read {ENGINE_MOUNT}/config/{engine_name(name)}", exc) from None


def issue(access: VaultAccess, name: str) -> tuple[str, str]:
    """A fresh user of the tenant (username, password) from database/creds/tenant-<name>."""
    try:
        data = vault_client(access).secrets.database.generate_credentials(
            name=engine_name(name), mount_point=ENGINE_MOUNT
        )
    except Exception as exc:
        raise _fail(f"read {creds_path(name)}", exc) from None
    return data["data"]["username"], data["data"]["password"]
