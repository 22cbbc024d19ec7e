"""Totals and star levels derived from the ledger, and unit totals rolled up the tree.

:func:`recompute` writes every volunteer's total and star level into ``volunteer_hours`` with
set-based statements, whatever the number of volunteers: the ledger summed once into a
temporary table, then an ``UPDATE … FROM`` of the rows whose values changed and an
``INSERT … SELECT`` of the missing ones. The star level is a ``CASE`` over the star
thresholds in force, the deepest unit that set its own first, so per-unit rules cost one
branch per configured unit, not a query per volunteer. Rows whose values did not change are
neither rewritten nor locked.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.access import path_in
from core.hours.models import HoursEntry, VolunteerHours
from core.hours.rules import STAR_THRESHOLDS, StarThresholds, service_date, star_level
from core.unitconfig.models import UnitSetting
from core.unitconfig.services import setting
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer


def thresholds_in_force(session: Session, on: date) -> list[tuple[str, StarThresholds]]:
    """(unit path, thresholds) of every unit that set its own, deepest first.

    A unit's value is its latest row valid on ``on``; units below it without their own
    inherit it, exactly as :func:`core.unitconfig.services.setting` reads it.
    """
    rows = session.exec(
        select(UnitSetting, Unit.path)
        .join(Unit, Unit.id == UnitSetting.unit_id)
        .where(UnitSetting.key == STAR_THRESHOLDS.name, col(UnitSetting.valid_from) <= on)
        .order_by(UnitSetting.unit_id, UnitSetting.valid_from, UnitSetting.id)
    ).all()
    latest: dict[str, StarThresholds] = {}
    for row, path in rows:  # later rows of a unit overwrite earlier ones
        latest[path] = STAR_THRESHOLDS.parse(row.value)
    return sorted(latest.items(), key=lambda item: (-len(item[0]), item[0]))


def _stars(total: sa.ColumnElement, thresholds: StarThresholds) -> sa.ColumnElement:
    whens = [
        (total >= needed, level)
        for level, needed in sorted(enumerate(thresholds.hours, start=1), reverse=True)
    ]
    return sa.case(*whens, else_=0)


def star_expression(
    total: sa.ColumnElement, unit_path: sa.ColumnElement, session: Session, on: date
) -> sa.ColumnElement:
    """The star level of ``total`` under the thresholds in force at ``unit_path``."""
    default = _stars(total, STAR_THRESHOLDS.default)
    configured = thresholds_in_force(session, on)
    if not configured:
        return default
    return sa.case(
        *((path_in(unit_path, path), _stars(total, value)) for path, value in configured),
        else_=default,
    )


def _sums(volunteer_ids: list[int] | None) -> sa.Select:
    """The ledger summed per volunteer (for the given volunteers only, if any)."""
    query = sa.select(
        HoursEntry.volunteer_id.label("volunteer_id"),
        sa.func.sum(HoursEntry.hours).label("total"),
    ).group_by(HoursEntry.volunteer_id)
    if volunteer_ids is not None:
        query = query.where(col(HoursEntry.volunteer_id).in_(volunteer_ids))
    return query


def _with_stars(session: Session, sums: sa.FromClause) -> sa.Select:
    """``sums`` (``volunteer_id``, ``total``) with each volunteer's star level.

    The thresholds are those in force at the volunteer's unit (one volunteer lookup per
    volunteer with hours).
    """
    stars = star_expression(sums.c.total, Volunteer.unit_path, session, service_date(utcnow()))
    return sa.select(sums.c.volunteer_id, sums.c.total, stars.label("stars")).join(
        Volunteer, Volunteer.id == sums.c.volunteer_id
    )


def _write(session: Session, computed: sa.FromClause) -> int:
    """Update the rows whose values changed, insert the missing ones; return rows written.

    ``computed`` holds ``volunteer_id``, ``total`` and ``stars``. Rows that did not change
    are neither written nor locked.
    """
    table = VolunteerHours.__table__
    now = sa.literal(utcnow(), table.c.computed_at.type)
    updated = session.execute(
        sa.update(table)
        .where(
            table.c.volunteer_id == computed.c.volunteer_id,
            sa.or_(
                table.c.total_hours != computed.c.total,
                table.c.star_level != computed.c.stars,
            ),
        )
        .values(total_hours=computed.c.total, star_level=computed.c.stars, computed_at=now)
        .execution_options(preserve_rowcount=True)
    ).rowcount
    missing = ~sa.exists().where(table.c.volunteer_id == computed.c.volunteer_id)
    inserted = session.execute(
        sa.insert(table)
        .from_select(
            ["volunteer_id", "total_hours", "star_level", "computed_at"],
            sa.select(computed.c.volunteer_id, computed.c.total, computed.c.stars, now).where(
                missing
            ),
        )
        .execution_options(preserve_rowcount=True)
    ).rowcount
    return max(updated, 0) + max(inserted, 0)


def recompute(session: Session) -> int:
    """Every volunteer's total and star level from the ledger; return rows written.

    A volunteer without any ledger entry has no row: 0 hours, no star. The totals and star
    levels are computed once into a temporary table (``CREATE TEMPORARY TABLE … AS``: the
    ledger summed in one hashed pass, what a plain aggregate costs, then joined to the
    volunteers with hours), which the update and the insert join; summed inside them, or by
    ``INSERT … SELECT``, the planner walks the volunteer index and visits the whole ledger in
    random order instead, several times slower.
    """
    name = "hours_recompute"
    computed = sa.Table(
        name,
        sa.MetaData(),
        sa.Column("volunteer_id", sa.Integer),
        sa.Column("total", HoursEntry.__table__.c.hours.type),
        sa.Column("stars", sa.Integer),
    )
    connection = session.connection()
    dialect = session.get_bind().dialect
    query = _with_stars(session, _sums(None).subquery("sums"))
    # Inline values only: unit paths and thresholds, from the database and validated.
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} AS {compiled}")
    try:
        if dialect.name == "postgresql":
            connection.exec_driver_sql(f"ANALYZE {name}")
        return _write(session, computed)
    finally:
        connection.exec_driver_sql(f"DROP TABLE {name}")


def refresh_totals(session: Session, volunteer_ids: Iterable[int]) -> int:
    """The same for a few volunteers (after hours are confirmed or corrected)."""
    ids = sorted(set(volunteer_ids))
    if not ids:
        return 0
    return _write(session, _with_stars(session, _sums(ids).subquery("sums")).subquery("computed"))


# -- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VolunteerTotal:
    """A volunteer's hours by kind, live from the ledger, and their star level."""

    service: Decimal
    corrections: Decimal
    training: Decimal
    total: Decimal
    star_level: int
    thresholds: StarThresholds

    @property
    def next_threshold(self) -> int | None:
        """Hours needed for the next star, if any is left."""
        return next((h for h in self.thresholds.hours if self.total < h), None)


def volunteer_total(session: Session, volunteer: Volunteer) -> VolunteerTotal:
    """Live totals for one volunteer (one indexed aggregate) under the thresholds in force."""
    rows = dict(
        session.exec(
            select(HoursEntry.kind, sa.func.sum(HoursEntry.hours))
            .where(HoursEntry.volunteer_id == volunteer.id)
            .group_by(HoursEntry.kind)
        ).all()
    )
    by_kind = {kind: Decimal(rows.get(kind) or 0) for kind in ("service", "correction", "training")}
    total = sum(by_kind.values(), Decimal(0))
    unit = session.get(Unit, volunteer.unit_id)
    thresholds = setting(session, unit, STAR_THRESHOLDS, service_date(utcnow()))
    return VolunteerTotal(
        service=by_kind["service"],
        corrections=by_kind["correction"],
        training=by_kind["training"],
        total=total,
        star_level=star_level(total, thresholds),
        thresholds=thresholds,
    )


@dataclass(frozen=True)
class UnitTotal:
    """Hours of one unit's subtree: of its own volunteers, and served at its units."""

    unit: Unit
    home_hours: Decimal  # hours of volunteers whose home unit lies in the subtree
    served_hours: Decimal  # hours served at units of the subtree (dispatched-in included)
    volunteers: int  # volunteers of the subtree with any hours


def unit_totals(session: Session, unit: Unit) -> list[UnitTotal]:
    """The unit itself, then each child: one conditional aggregate over the subtree's entries."""
    children = list(
        session.exec(
            select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code, Unit.id).limit(200)
        ).all()
    )
    scopes = [unit, *children]
    columns = []
    for index, scope in enumerate(scopes):
        home = path_in(HoursEntry.home_unit_path, scope.path)
        served = path_in(HoursEntry.unit_path, scope.path)
        columns += [
            sa.func.coalesce(sa.func.sum(sa.case((home, HoursEntry.hours), else_=0)), 0).label(
                f"home_{index}"
            ),
            sa.func.coalesce(sa.func.sum(sa.case((served, HoursEntry.hours), else_=0)), 0).label(
                f"served_{index}"
            ),
            sa.func.count(sa.distinct(sa.case((home, HoursEntry.volunteer_id)))).label(
                f"people_{index}"
            ),
        ]
    row = (
        session.execute(
            sa.select(*columns).where(
                sa.or_(
                    path_in(HoursEntry.home_unit_path, unit.path),
                    path_in(HoursEntry.unit_path, unit.path),
                )
            )
        )
        .one()
        ._mapping
    )
    return [
        UnitTotal(
            scope,
            Decimal(row[f"home_{i}"]),
            Decimal(row[f"served_{i}"]),
            int(row[f"people_{i}"]),
        )
        for i, scope in enumerate(scopes)
    ]


def star_distribution(session: Session, unit: Unit) -> dict[int, int]:
    """Star level → number of the subtree's volunteers at it (from the recomputed totals)."""
    rows = session.exec(
        select(VolunteerHours.star_level, sa.func.count())
        .join(Volunteer, Volunteer.id == VolunteerHours.volunteer_id)
        .where(path_in(Volunteer.unit_path, unit.path), VolunteerHours.star_level > 0)
        .group_by(VolunteerHours.star_level)
    ).all()
    return dict(rows)
