"""The service-hours ledger (志愿服务记录) and its corrections.

The ledger is append-only: an entry is never updated or deleted (the session refuses it),
so the record a certificate was printed from stays as it was. A correction is asked for with
a reason, decided by someone else, and on approval becomes a new entry whose ``corrects_id``
points at the original and whose ``hours`` is the signed difference.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import PATH_TYPE, utcnow

HOURS = sa.Numeric(7, 1)


class EntryKind(StrEnum):
    """Where an entry comes from."""

    service = "service"  # a shift's check-in and check-out, confirmed by the leader
    correction = "correction"  # an approved correction of an earlier entry
    training = "training"  # training attended, credited by the training record


class HoursEntry(SQLModel, table=True):
    """Hours credited to a volunteer for one piece of service, at the unit that used them.

    ``unit_path`` is the receiving unit's and ``home_unit_path`` the volunteer's home unit's at
    the time, so dispatched hours count for the volunteer, the home unit and the receiving one.
    """

    __tablename__ = "hours_entry"
    __table_args__ = (
        sa.Index("ix_hours_entry_volunteer_date", "volunteer_id", "service_date"),
        sa.UniqueConstraint("assignment_id", "kind", name="uq_hours_entry_assignment_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id")
    kind: EntryKind = Field(default=EntryKind.service, sa_type=sa.String(16))
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    corrects_id: int | None = Field(default=None, foreign_key="hours_entry.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    home_unit_id: int = Field(foreign_key="unit.id", index=True)
    home_unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    service_date: date
    minutes_present: int | None = Field(default=None, ge=0)
    hours: Decimal = Field(sa_type=HOURS)
    rule: dict = Field(default_factory=dict, sa_type=sa.JSON)  # the hour rule applied, as it was
    reason: str | None = Field(default=None, max_length=500)
    recorded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CorrectionStatus(StrEnum):
    """A correction request is decided once."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class HoursCorrection(SQLModel, table=True):
    """A request to change an entry's hours, with its reason and decision."""

    __tablename__ = "hours_correction"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="hours_entry.id", index=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)  # the entry's receiving unit
    new_hours: Decimal = Field(sa_type=HOURS, ge=0)
    reason: str = Field(max_length=500)
    status: CorrectionStatus = Field(default=CorrectionStatus.pending, sa_type=sa.String(16))
    requested_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, max_length=500)
    result_entry_id: int | None = Field(default=None, foreign_key="hours_entry.id")


class VolunteerHours(SQLModel, table=True):
    """Totals derived from the ledger, recomputed by a job: never the source of truth."""

    __tablename__ = "volunteer_hours"
    __audit__ = False  # derived from audited ledger entries

    volunteer_id: int = Field(foreign_key="volunteer.id", primary_key=True)
    total_hours: Decimal = Field(default=Decimal(0), sa_type=HOURS)
    star_level: int = Field(default=0, ge=0)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HoursRecord(SQLModel, table=True):
    """A printed service-record certificate (志愿服务记录证明), numbered by its issuing unit.

    "谁记录谁证明": the issuing unit certifies only the hours recorded within its own subtree,
    so ``total_hours`` and ``entries`` are the sums of those entries as they stood at issue
    (up to and including ledger entry ``last_entry_id``). The PDF is drawn by a job and kept
    as ``file_id``.
    """

    __tablename__ = "hours_record"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")  # the issuing unit, which recorded the hours
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    total_hours: Decimal = Field(sa_type=HOURS)
    entries: int = Field(ge=0)
    first_date: date | None = None
    last_date: date | None = None
    last_entry_id: int | None = None
    issued_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    file_id: int | None = Field(default=None, foreign_key="stored_file.id")
