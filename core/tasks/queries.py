"""Lists: a unit's tasks, the shifts a volunteer may sign up for, a unit's assignments."""

from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.access import path_in
from core.accounts.principal import Principal
from core.people.models import Person
from core.tasks.models import (
    HOLDING_STATUSES,
    Assignment,
    Point,
    Shift,
    ShiftStatus,
    Task,
    TaskStatus,
)
from core.tasks.permissions import SIGNUP
from core.tasks.services import STAFFING_STATUSES
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer

Scope = Literal["unit", "subtree"]


def task_list(
    session: Session,
    unit: Unit,
    *,
    scope: Scope = "unit",
    status: TaskStatus | None = None,
    task_type: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[Task, str]]:
    """Tasks of ``unit`` (or of its whole subtree), newest first, with their unit's name."""
    query = select(Task, Unit.name).join(Unit, Unit.id == Task.unit_id)
    if scope == "unit":
        query = query.where(Task.unit_id == unit.id)
    else:
        query = query.where(path_in(Task.unit_path, unit.path))
    if status is not None:
        query = query.where(Task.status == status)
    if task_type:
        query = query.where(Task.task_type == task_type)
    query = query.order_by(col(Task.starts_on).desc(), col(Task.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)).all())


def ancestor_paths(path: str) -> list[str]:
    """``1.2.5.`` → ``1.``, ``1.2.``, ``1.2.5.``."""
    parts = [p for p in path.split(".") if p]
    return [".".join(parts[: n + 1]) + "." for n in range(len(parts))]


def open_shifts(
    session: Session,
    principal: Principal,
    volunteer: Volunteer,
    *,
    now: datetime | None = None,
    limit: int = 100,
) -> list[tuple[Shift, Task, Point, str, int]]:
    """Shifts the volunteer may sign up for, soonest first.

    Those of their own unit or a unit above it that the caller's sign-up grant reaches, of a
    task taking sign-ups, still to start, with a place left, and not already theirs; each
    with its task, point, unit name and how many places are left.
    """
    now = now or utcnow()
    paths = [p for p in ancestor_paths(volunteer.unit_path) if principal.can(SIGNUP, p)]
    if not paths:
        return []
    holding = (
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.shift_id == Shift.id, col(Assignment.status).in_(HOLDING_STATUSES))
        .correlate(Shift)
        .scalar_subquery()
    )
    mine = (
        select(Assignment.id)
        .where(
            Assignment.shift_id == Shift.id,
            Assignment.volunteer_id == volunteer.id,
            col(Assignment.status).in_(HOLDING_STATUSES),
        )
        .correlate(Shift)
        .exists()
    )
    rows = session.exec(
        select(Shift, Task, Point, Unit.name, Shift.max_headcount - holding)
        .join(Task, Task.id == Shift.task_id)
        .join(Point, Point.id == Shift.point_id)
        .join(Unit, Unit.id == Shift.unit_id)
        .where(
            col(Shift.unit_path).in_(paths),
            Shift.starts_at > now,
            Shift.status == ShiftStatus.open,
            col(Task.status).in_(list(STAFFING_STATUSES)),
            Task.allow_signup == sa.true(),
            Shift.max_headcount > holding,
            ~mine,
        )
        .order_by(Shift.starts_at, Shift.id)
        .limit(limit)
    ).all()
    return [(shift, task, point, unit_name, left) for shift, task, point, unit_name, left in rows]


def unit_assignments(
    session: Session,
    unit: Unit,
    low: datetime,
    high: datetime,
    *,
    limit: int = 500,
) -> list[tuple[Assignment, str, str, str, str]]:
    """A unit's assignments starting between ``low`` and ``high``.

    Those on the unit's shifts and those of its own people, dispatched elsewhere too (the
    home unit sees them); with the volunteer's name, the shift's unit and home unit names,
    and the point's name.
    """
    home = Unit.__table__.alias("home")
    rows = session.exec(
        select(Assignment, Person.name, Unit.name, home.c.name, Point.name)
        .join(Person, Person.id == Assignment.person_id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .join(home, home.c.id == Assignment.home_unit_id)
        .join(Shift, Shift.id == Assignment.shift_id)
        .join(Point, Point.id == Shift.point_id)
        .where(
            sa.or_(
                path_in(Assignment.unit_path, unit.path),
                path_in(Assignment.home_unit_path, unit.path),
            ),
            Assignment.starts_at >= low,
            Assignment.starts_at < high,
        )
        .order_by(Assignment.starts_at, Assignment.id)
        .limit(limit)
    ).all()
    return list(rows)
