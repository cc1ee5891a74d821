"""Alembic environment of the hub: migrations run on a connection the hub hands over.

:func:`misbridge.hub.database.upgrade` puts its open connection (inside a transaction)
into ``config.attributes["connection"]``; there is no ``alembic.ini`` and no offline
mode. The hub's version table has its own name, so a hub and a sync store may share
one PostgreSQL database.
"""

from __future__ import annotations

from alembic import context

from misbridge.hub.schema import metadata

VERSION_TABLE = "misbridge_hub_schema_version"

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by running alembic by hand
    raise RuntimeError("hub migrations run through misbridge.hub.database.upgrade()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
