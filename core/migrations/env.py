"""The one Alembic environment: core's branch and one labelled branch per plugin.

``core.migrate`` builds the config and passes the plugin facade and the connection in
``config.attributes``; run Alembic through ``pingan db …``, not the ``alembic`` command.
"""

from alembic import context
from sqlmodel import SQLModel

from core.migrate import render_item, table_filter

config = context.config
plugins = config.attributes["plugins"]
owners = config.attributes.get("owners")  # autogenerate only these owners' tables
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    include_object=table_filter(plugins, owners),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)

with context.begin_transaction():
    context.run_migrations()
