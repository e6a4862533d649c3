"""`infractl tenant` (docs/tenants.md): tenants of the storage tiers A (pooled rows behind row-level security), B
(a schema per tenant) and C (a database per tenant), their credentials, backups and restores.

Entry points the CLI calls: `create.create`, `inventory.list_tenants` / `inventory.show`, `delete.delete`,
`backup.backup`, `restore.restore`; each takes a `session.TenantEnv` (`session.open_env`).

Modules, one concern each: `session.py` (the env: endpoint, env model, admin connections, name and tier checks),
`provision.py` (roles, schemas, databases, grants and the undo stack that makes creation all-or-nothing),
`rls.py` (tier A: the tenant-owned tables, row-level security and policies), `vault.py` (credentials in Vault KV
and the database secrets engine), `storage.py` (the backup bucket, the KMS key, uploads and downloads),
`dump.py` (pg_dump and pg_restore), `checksums.py` (row counts and content checksums), `pooled.py` (tier A rows
in and out of the shared tables), `backup.py`, `restore.py`,
`inventory.py` (list, show), `create.py`, `delete.py`."""
