"""Alembic's entry for its own command line (`alembic -c <ini> revision|upgrade --sql ...`), e.g. to create a
revision from script.py.mako or print a revision's SQL offline. The runtime and infractl never execute this file:
they call controlplane.migrations.runner, which drives the same script directory on a given connection.

Online: `-x url=postgresql+psycopg://...` (or sqlalchemy.url in the ini), optionally `-x schema=<name>`.
"""

from alembic import context

config = context.config
args = context.get_x_argument(as_dictionary=True)
url = args.get("url") or config.get_main_option("sqlalchemy.url")
schema = args.get("schema") or "public"

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True, transaction_per_migration=True, version_table_schema=schema)
    with context.begin_transaction():
        context.run_migrations()
else:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
        connection.execute(text("SELECT set_config('search_path', :p, false)"), {"p": quoted})
        connection.commit()
        context.configure(connection=connection, transaction_per_migration=True, version_table_schema=schema)
        with context.begin_transaction():
            context.run_migrations()
