"""Training sessions, enrolments, quiz attempts, qualifications, plans and per-unit settings.

Modules themselves are not stored: they are the registry core and the plugins declare
(``Platform.training_modules``). Rows name a module by its code and copy what must not change
afterwards (a session's minutes per module), so a plugin switched off or uninstalled leaves
its history readable.

Every record carries the ``unit_path`` it is scoped by: a session its organising unit's, an
enrolment and a qualification the person's unit's (when they were made), so unit moves
re-scope them with everything else (``core.units.moves``).
"""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import PATH_TYPE, utcnow

MODULE_CODE = 64


class SessionStatus(StrEnum):
    """A session is scheduled, then completed (qualifications granted) or cancelled."""

    scheduled = "scheduled"
    completed = "completed"
    cancelled = "cancelled"


class EnrolmentStatus(StrEnum):
    """An enrolment stands until the volunteer or the organiser cancels it."""

    enrolled = "enrolled"
    cancelled = "cancelled"


class EnrolmentChannel(StrEnum):
    """Who enrolled the volunteer: themselves, or a leader or organiser."""

    self = "self"
    leader = "leader"


class QualificationSource(StrEnum):
    """How a qualification was gained."""

    session = "session"  # completed a session of the module (and passed its quiz)
    manual = "manual"  # granted by an office, with an approver and a reason
    imported = "import"  # carried over from earlier records, in bulk


class TrainingSession(SQLModel, table=True):
    """A session of one or more modules, organised by a unit's department, at a time and place.

    The session is open to the people of the organising unit's subtree, up to ``capacity``.
    """

    __tablename__ = "training_session"
    __table_args__ = (
        sa.Index("ix_training_session_unit_path_starts_at", "unit_path", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE)
    title: str = Field(max_length=100)
    department: str = Field(max_length=32)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    online: bool = False
    place: str = Field(max_length=200)  # an address, or for an online session the meeting
    capacity: int = Field(ge=1)
    status: SessionStatus = Field(default=SessionStatus.scheduled, sa_type=sa.String(16))
    note: str | None = Field(default=None, max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    cancel_reason: str | None = Field(default=None, max_length=500)


class TrainingSessionModule(SQLModel, table=True):
    """A module taught in a session, with its duration as it was when scheduled."""

    __tablename__ = "training_session_module"
    __table_args__ = (sa.UniqueConstraint("session_id", "module_code"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="training_session.id", index=True)
    module_code: str = Field(max_length=MODULE_CODE, index=True)
    position: int = 0
    minutes: int = Field(ge=1)


class TrainingEnrolment(SQLModel, table=True):
    """A person's place in a session, their attendance, and who put them there."""

    __tablename__ = "training_enrolment"
    __table_args__ = (sa.UniqueConstraint("session_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="training_session.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    status: EnrolmentStatus = Field(default=EnrolmentStatus.enrolled, sa_type=sa.String(16))
    channel: EnrolmentChannel = Field(default=EnrolmentChannel.self, sa_type=sa.String(16))
    enrolled_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    enrolled_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attended: bool | None = None
    attendance_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    attendance_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class QuizAttempt(SQLModel, table=True):
    """One sitting of a module's quiz within an enrolment: the answers and the score."""

    __tablename__ = "training_quiz_attempt"

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="training_enrolment.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    module_code: str = Field(max_length=MODULE_CODE)
    answers: list[list[int]] = Field(default_factory=list, sa_type=sa.JSON)
    score: int = Field(ge=0)
    total: int = Field(ge=1)
    pass_mark: int = Field(ge=1)
    passed: bool
    taken_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Qualification(SQLModel, table=True):
    """A person holds a module from ``granted_on`` until the day before ``expires_at``.

    ``expires_at`` None means no expiry. A revoked qualification no longer counts at all.
    ``granted_by_id`` is whoever completed the session, or the approver of a manual grant or
    an import.
    """

    __tablename__ = "training_qualification"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "module_code", "session_id"),
        sa.Index("ix_training_qualification_person_module", "person_id", "module_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    module_code: str = Field(max_length=MODULE_CODE, index=True)
    granted_on: date
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: date | None = Field(default=None, index=True)
    source: QualificationSource = Field(sa_type=sa.String(16))
    session_id: int | None = Field(default=None, foreign_key="training_session.id")
    granted_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    note: str | None = Field(default=None, max_length=500)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    revoke_reason: str | None = Field(default=None, max_length=500)


class TrainingPlan(SQLModel, table=True):
    """A unit's annual training plan (年度培训计划): its targets for one year."""

    __tablename__ = "training_plan"
    __table_args__ = (sa.UniqueConstraint("unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    year: int = Field(ge=2000, le=2100)
    note: str | None = Field(default=None, max_length=500)
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TrainingPlanTarget(SQLModel, table=True):
    """One target of a plan: a metric (sessions, trainees, qualified, hours), maybe per module."""

    __tablename__ = "training_plan_target"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="training_plan.id", index=True)
    metric: str = Field(max_length=16)
    module_code: str | None = Field(default=None, max_length=MODULE_CODE)
    target: int = Field(ge=1)


class TrainingSetting(SQLModel, table=True):
    """A per-unit training setting, in force from ``valid_from`` in the unit's subtree.

    A later row of the same key at the same unit supersedes an earlier one from its date;
    how rows of different units combine is the key's rule (``core.training.config``).
    """

    __tablename__ = "training_setting"
    __table_args__ = (sa.UniqueConstraint("unit_id", "key", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    key: str = Field(max_length=100, index=True)
    value: dict = Field(default_factory=dict, sa_type=sa.JSON)
    valid_from: date
    set_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
