"""Migrations across the shared schema and every tenant (docs/migrations.md): `catalog.py` (the tenant catalog and
the targets it makes), `connect.py` (where an env's database is: the dev stack locally, the data stack's outputs
otherwise), `migrate.py` (one target: role, advisory lock, the runner; `migrate_target` is what tenant creation
calls)."""
