"""Numbers issued in series (certificates per city and year, volunteer numbers per district).

A number is taken in the caller's transaction under a row lock on its series, so two
concurrent requests never get the same number, and a rolled-back transaction gives its number
back before anyone else could see it; a committed number is never reused.
"""

import sqlalchemy as sa
from sqlmodel import Session, select

from core.units.models import NumberSequence


def next_number(session: Session, series: str, scope: str, year: int) -> int:
    """Take the next number of ``series`` for ``scope`` (e.g. a unit code) and ``year``."""
    query = (
        select(NumberSequence)
        .where(
            NumberSequence.series == series,
            NumberSequence.scope == scope,
            NumberSequence.year == year,
        )
        .with_for_update()
        # The row as locked now, not as this session last saw it (a block may have been
        # taken since by a statement the session does not track).
        .execution_options(populate_existing=True)
    )
    row = session.exec(query).first()
    if row is None:
        session.execute(
            _insert_ignoring_duplicates(session).values(
                series=series, scope=scope, year=year, last=0
            )
        )
        row = session.exec(query).one()
    row.last += 1
    session.add(row)
    session.flush()
    return row.last


def take_block(session: Session, series: str, scope: str, year: int, count: int) -> int:
    """Take ``count`` consecutive numbers in one statement; return the first.

    ``UPDATE … SET last = last + count RETURNING last`` locks the series row like
    :func:`next_number` does, so blocks and single numbers never overlap.
    """
    table = NumberSequence.__table__
    advance = (
        table.update()
        .where(table.c.series == series, table.c.scope == scope, table.c.year == year)
        .values(last=table.c.last + count)
        .returning(table.c.last)
    )
    last = session.execute(advance).scalar()
    if last is None:
        session.execute(
            _insert_ignoring_duplicates(session).values(
                series=series, scope=scope, year=year, last=0
            )
        )
        last = session.execute(advance).scalar_one()
    return last - count + 1


def _insert_ignoring_duplicates(session: Session) -> sa.Insert:
    # Two first requests of a series may race to create its row; the loser keeps going.
    table = NumberSequence.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert

    return insert(table).on_conflict_do_nothing()
