"""Alembic environment: migrations always run on a connection the store hands over.

The store calls :func:`misbridge.store.migrate.upgrade`, which puts its open
connection (inside a transaction) into ``config.attributes["connection"]``; there is no
``alembic.ini`` and no offline mode.
"""

from __future__ import annotations

from alembic import context

from misbridge.store.schema import metadata

VERSION_TABLE = "misbridge_schema_version"

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by running alembic by hand
    raise RuntimeError("misbridge migrations run through misbridge.store.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    # SQLite cannot ALTER most things in place: batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
