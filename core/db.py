"""Engines and sessions for the embedded SQLite file and for PostgreSQL."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

SessionFactory = Callable[[], Session]


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _ensure_sqlite_folder(url: str) -> None:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off so that ``BEGIN`` is ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # A deferred BEGIN that later writes fails at once with SQLITE_BUSY_SNAPSHOT when another
    # writer committed in between, without waiting for busy_timeout; BEGIN IMMEDIATE takes
    # the write lock up front and waits for it. The embedded database serves one process.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine, info: dict[str, Any] | None = None) -> SessionFactory:
    """Return a factory of sync sessions that keep loaded values after commit.

    ``info`` is copied into every new session's ``info`` (the job outbox finds its sender
    there after commit); it is read when each session opens, so it may be filled later.
    """
    info = {} if info is None else info
    maker = sessionmaker(engine, class_=Session, expire_on_commit=False)

    def factory() -> Session:
        session = maker()
        session.info.update(info)
        return session

    return factory


@contextmanager
def transaction(factory: SessionFactory) -> Iterator[Session]:
    """Open a session, commit when the block ends, roll back if it raises."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, so a plain ``DateTime(timezone=True)`` comes back naive there and
    cannot be compared with ``datetime.now(UTC)``.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Convert to UTC; a naive value is taken to be UTC already."""
        if value is None or value.tzinfo is UTC:
            return value
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Attach UTC to the naive values SQLite returns."""
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
