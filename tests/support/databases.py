"""Test databases: a migrated SQLite template copied per test, a PostgreSQL database per worker.

PostgreSQL tests commit for real and the tables are emptied after each test: the in-process
job worker and the ``pingan worker`` subprocesses read through their own connections, which
an uncommitted outer transaction would hide from them.
"""

import shutil
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from core.db import make_engine
from core.migrate import upgrade
from core.plugins import Plugins, make_plugin_manager


def migrate_new_sqlite(path: Path, plugins: Plugins | None = None) -> Path:
    """Create a SQLite file at ``path`` with every (or the given) owner's migrations applied."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, plugins or Plugins(make_plugin_manager()))
    engine.dispose()
    return path


def copy_sqlite(template: Path, target: Path) -> str:
    """Copy the template database file; return the copy's URL."""
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def create_postgres_database(admin_url: str, name: str) -> str:
    """(Re)create database ``name`` on the admin URL's server; return its URL."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # A test database need not wait for the disk on every commit.
        connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, name: str) -> None:
    """Drop database ``name``."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def keep_insertion_order(engine: Engine) -> None:
    """Turn autovacuum off for every table of a test database.

    Tests empty tables by DELETE (:func:`empty_tables`); were the space vacuumed, new rows
    could land in it and a plain SELECT would return them out of insertion order from one
    run to the next.
    """
    tables = [name for name in sa.inspect(engine).get_table_names()]
    with engine.begin() as connection:
        for name in tables:
            connection.execute(sa.text(f'ALTER TABLE "{name}" SET (autovacuum_enabled = false)'))


def empty_tables(engine: Engine) -> None:
    """Remove every row of every table but Alembic's, and restart the id sequences used.

    Only the tables a test wrote to are emptied, by DELETE with foreign keys and triggers off
    for this connection (PostgreSQL's ``session_replication_role``): a TRUNCATE of all 130
    tables gives each a new file and took ≈ 0.7 s per test, this takes a few milliseconds.
    """
    inspector = sa.inspect(engine)
    tables = [name for name in inspector.get_table_names() if name != "alembic_version"]
    if not tables:
        return
    written = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables
    )
    with engine.begin() as connection:
        filled = connection.execute(sa.text(written)).scalars().all()
        used = connection.execute(
            sa.text(
                "SELECT schemaname, sequencename FROM pg_sequences WHERE last_value IS NOT NULL"
            )
        ).all()
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for name in filled:
            connection.execute(sa.text(f'DELETE FROM "{name}"'))
        for schema, sequence in used:
            connection.execute(sa.text(f'ALTER SEQUENCE "{schema}"."{sequence}" RESTART'))
