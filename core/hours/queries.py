"""Reading shifts, rosters, ledgers and corrections for the pages and the API."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from core.access import path_in
from core.accounts.models import User
from core.accounts.principal import Principal
from core.hours.models import (
    CorrectionStatus,
    EntryKind,
    HoursCorrection,
    HoursEntry,
    HoursRecord,
)
from core.hours.permissions import APPROVE
from core.people.models import Person
from core.tasks.models import Assignment, AssignmentStatus, Point, Shift, Task
from core.units.models import Unit
from core.volunteers.models import Volunteer

RECENT = timedelta(days=14)


def my_volunteer(session: Session, principal: Principal) -> Volunteer | None:
    """The volunteer record of the signed-in user's person, if any."""
    return session.exec(
        select(Volunteer)
        .join(User, User.person_id == Volunteer.person_id)
        .where(User.id == principal.user_id)
    ).first()


@dataclass(frozen=True)
class ShiftLine:
    """One assignment as a volunteer or a leader sees it."""

    assignment: Assignment
    shift: Shift
    task_title: str
    point: Point
    unit_name: str
    hours: Decimal | None  # the confirmed service entry's hours, if confirmed
    volunteer_name: str = ""
    volunteer_number: str = ""

    @property
    def state(self) -> str:
        """upcoming, checked_in, checked_out or confirmed."""
        if self.hours is not None:
            return "confirmed"
        if self.assignment.checked_out_at is not None:
            return "checked_out"
        if self.assignment.checked_in_at is not None:
            return "checked_in"
        return "upcoming"


def _confirmed_hours():
    return (
        select(HoursEntry.hours)
        .where(HoursEntry.assignment_id == Assignment.id, HoursEntry.kind == EntryKind.service)
        .scalar_subquery()
    )


def my_shifts(session: Session, volunteer_id: int, now: datetime) -> list[ShiftLine]:
    """The volunteer's confirmed shifts from two weeks back on, soonest first."""
    rows = session.exec(
        select(Assignment, Shift, Task.title, Point, Unit.name, _confirmed_hours())
        .join(Shift, Shift.id == Assignment.shift_id)
        .join(Task, Task.id == Shift.task_id)
        .join(Point, Point.id == Shift.point_id)
        .join(Unit, Unit.id == Shift.unit_id)
        .where(
            Assignment.volunteer_id == volunteer_id,
            Assignment.status == AssignmentStatus.confirmed,
            Assignment.ends_at >= now - RECENT,
        )
        .order_by(Assignment.starts_at, Assignment.id)
        .limit(200)
    ).all()
    return [ShiftLine(*row) for row in rows]


def roster(session: Session, shift: Shift) -> list[ShiftLine]:
    """The shift's confirmed assignments with the volunteers' names, leader first."""
    task_title = session.get(Task, shift.task_id).title
    point = session.get(Point, shift.point_id)
    unit = session.get(Unit, shift.unit_id)
    rows = session.exec(
        select(Assignment, Person.name, Volunteer.number, _confirmed_hours())
        .join(Volunteer, Volunteer.id == Assignment.volunteer_id)
        .join(Person, Person.id == Assignment.person_id)
        .where(Assignment.shift_id == shift.id, Assignment.status == AssignmentStatus.confirmed)
        .order_by(col(Assignment.is_leader).desc(), Assignment.id)
    ).all()
    return [
        ShiftLine(assignment, shift, task_title, point, unit.name, hours, name, number)
        for assignment, name, number, hours in rows
    ]


@dataclass(frozen=True)
class EntryLine:
    """A ledger entry with the names a reader needs."""

    entry: HoursEntry
    unit_name: str
    recorded_by: str | None


def ledger_of(session: Session, volunteer_id: int, limit: int = 200) -> list[EntryLine]:
    """The volunteer's ledger, newest first."""
    rows = session.exec(
        select(HoursEntry, Unit.name, User.display_name)
        .join(Unit, Unit.id == HoursEntry.unit_id)
        .outerjoin(User, User.id == HoursEntry.recorded_by_user_id)
        .where(HoursEntry.volunteer_id == volunteer_id)
        .order_by(col(HoursEntry.service_date).desc(), col(HoursEntry.id).desc())
        .limit(limit)
    ).all()
    return [EntryLine(*row) for row in rows]


def corrections_of(session: Session, volunteer_id: int) -> list[HoursCorrection]:
    """The volunteer's correction requests, newest first."""
    return list(
        session.exec(
            select(HoursCorrection)
            .where(HoursCorrection.volunteer_id == volunteer_id)
            .order_by(col(HoursCorrection.id).desc())
            .limit(100)
        ).all()
    )


@dataclass(frozen=True)
class PendingCorrection:
    """A correction waiting for a decision, with what the decider needs to see."""

    correction: HoursCorrection
    volunteer_name: str
    original_hours: Decimal
    service_date: object


def pending_corrections(
    session: Session, unit: Unit, principal: Principal, limit: int = 100
) -> list[PendingCorrection]:
    """Corrections waiting in the unit's subtree that the principal may decide there."""
    if not principal.can(APPROVE, unit):
        return []
    rows = session.exec(
        select(HoursCorrection, Person.name, HoursEntry.hours, HoursEntry.service_date)
        .join(HoursEntry, HoursEntry.id == HoursCorrection.entry_id)
        .join(Volunteer, Volunteer.id == HoursCorrection.volunteer_id)
        .join(Person, Person.id == Volunteer.person_id)
        .where(
            HoursCorrection.status == CorrectionStatus.pending,
            path_in(HoursCorrection.unit_path, unit.path),
        )
        .order_by(HoursCorrection.id)
        .limit(limit)
    ).all()
    return [PendingCorrection(*row) for row in rows]


def records_of(session: Session, volunteer_id: int) -> list[HoursRecord]:
    """The service-record certificates issued to the volunteer, newest first."""
    return list(
        session.exec(
            select(HoursRecord)
            .where(HoursRecord.volunteer_id == volunteer_id)
            .order_by(col(HoursRecord.id).desc())
        ).all()
    )


def recording_units(session: Session, volunteer_id: int) -> list[Unit]:
    """The units at which the volunteer's hours were recorded (who may certify them)."""
    ids = session.exec(
        select(HoursEntry.unit_id).where(HoursEntry.volunteer_id == volunteer_id).distinct()
    ).all()
    if not ids:
        return []
    return list(session.exec(select(Unit).where(col(Unit.id).in_(ids)).order_by(Unit.path)).all())


def volunteer_name(session: Session, volunteer: Volunteer) -> str:
    """The volunteer's name."""
    return session.exec(select(Person.name).where(Person.id == volunteer.person_id)).one()
