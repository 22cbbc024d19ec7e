"""Tasks, points, shifts and assignments: "任务分解到人、时段细化到点".

A task belongs to a unit and may be split into sub-tasks for lower units (``parent_id``, with
a ``quota`` of person-shifts each is expected to fill). Work happens in shifts: a time slot at
a point, with a headcount. An assignment puts one volunteer on one shift; its ``starts_at``
and ``ends_at`` repeat the shift's so the overlap check ("never double-booked") is one index
range on the volunteer's own assignments.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import PATH_TYPE, utcnow


class TaskStatus(StrEnum):
    """draft → published → in_progress → completed; cancelled (with a reason) from any open one."""

    draft = "draft"
    published = "published"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


class Task(SQLModel, table=True):
    """Work a unit has to do, of a task type, over a period."""

    __tablename__ = "task"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    parent_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    task_type: str = Field(max_length=64, index=True)
    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=4000)
    status: TaskStatus = Field(default=TaskStatus.draft, sa_type=sa.String(16))
    starts_on: date
    ends_on: date
    quota: int | None = Field(default=None, ge=0)  # person-shifts expected of this (sub-)task
    allow_signup: bool = False
    signup_needs_approval: bool = True
    details: dict = Field(default_factory=dict, sa_type=sa.JSON)  # the task type's own fields
    required_modules: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    required_skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    cancel_reason: str | None = Field(default=None, max_length=500)
    created_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TaskStep(SQLModel, table=True):
    """One status change of a task: who, at which unit, why."""

    __tablename__ = "task_step"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    reason: str | None = Field(default=None, max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Point(SQLModel, table=True):
    """A place where volunteers stand or patrol: a post, a gate, a beat's start."""

    __tablename__ = "duty_point"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    name: str = Field(max_length=100)
    address: str = Field(default="", max_length=200)  # a public place, not a person's address
    latitude: Decimal | None = Field(default=None, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(default=None, max_digits=9, decimal_places=6)
    radius_m: int | None = Field(default=None, ge=10, le=5000)  # check-in must be this close
    active: bool = True


class ShiftStatus(StrEnum):
    """A shift is open until cancelled; filling is counted from its assignments."""

    open = "open"
    cancelled = "cancelled"


class Shift(SQLModel, table=True):
    """A time slot at a point for a task, with how many people it needs."""

    __tablename__ = "shift"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("max_headcount >= min_headcount", name="headcount"),
        sa.Index("ix_shift_unit_path_starts_at", "unit_path", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE)
    point_id: int = Field(foreign_key="duty_point.id", index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    min_headcount: int = Field(default=1, ge=0)
    max_headcount: int = Field(default=1, ge=1)
    leader_slot: bool = False  # one assignee is the shift's leader (带班)
    required_skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    required_modules: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    status: ShiftStatus = Field(default=ShiftStatus.open, sa_type=sa.String(16))
    checkin_secret: str = Field(max_length=64)  # in the shift's QR code; compared in constant time
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AssignmentStatus(StrEnum):
    """requested (a sign-up awaiting approval) → confirmed; declined, cancelled; absent."""

    requested = "requested"
    confirmed = "confirmed"
    declined = "declined"
    cancelled = "cancelled"
    absent = "absent"


#: Statuses that hold the volunteer's time: the overlap check looks at these only.
HOLDING_STATUSES = (AssignmentStatus.requested, AssignmentStatus.confirmed)


class AssignmentSource(StrEnum):
    """How the volunteer came to the shift."""

    leader = "leader"  # a leader of the volunteer's own unit
    signup = "signup"  # the volunteer signed up for an open shift
    dispatch = "dispatch"  # 跨区域临时调度 by a unit above both homes


class CheckMethod(StrEnum):
    """How a check-in or check-out was made."""

    self_service = "self"  # on the volunteer's phone, optionally with location
    qr = "qr"  # scanning the shift's QR code
    leader = "leader"  # by the leader on the volunteer's behalf (recorded as such)


class Assignment(SQLModel, table=True):
    """One volunteer on one shift; ``unit_path`` is the shift's, ``home_unit_path`` theirs."""

    __tablename__ = "assignment"
    __table_args__ = (
        sa.Index("ix_assignment_volunteer_starts_at", "volunteer_id", "starts_at"),
        sa.Index("ix_assignment_shift_status", "shift_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id")
    volunteer_id: int = Field(foreign_key="volunteer.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    home_unit_id: int = Field(foreign_key="unit.id", index=True)
    home_unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    status: AssignmentStatus = Field(default=AssignmentStatus.confirmed, sa_type=sa.String(16))
    source: AssignmentSource = Field(default=AssignmentSource.leader, sa_type=sa.String(16))
    is_leader: bool = False
    dispatched_by_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    assigned_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    warnings: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # overridden warnings
    reason: str | None = Field(default=None, max_length=500)  # of a decline or cancellation
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    checked_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    check_in_method: CheckMethod | None = Field(default=None, sa_type=sa.String(8))
    checked_in_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    check_in_distance_m: int | None = None
    checked_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    check_out_method: CheckMethod | None = Field(default=None, sa_type=sa.String(8))
    checked_out_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CalendarToken(SQLModel, table=True):
    """The secret of a volunteer's iCalendar feed URL; only its hash is kept."""

    __tablename__ = "calendar_token"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
