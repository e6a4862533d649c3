"""The runtime's schema as Alembic revisions (versions/) and the runner every caller uses (runner.py).

docs/migrations.md: expand/contract, rollback, the fan-out over tenant schemas and databases.
"""
