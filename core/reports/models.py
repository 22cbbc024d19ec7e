"""Reports (线索、社情民意、隐患) and the steps taken on them.

The reporter's identity (``reporter_person_id``, ``reporter_user_id``) is shown only to the
roles that handle reports; everybody else, including the plugin a report is routed to unless
it handles reports, sees the report without it.
"""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.security.fields import Encrypted
from core.units.models import PATH_TYPE, utcnow


class ReportStatus(StrEnum):
    """submitted → triaged → referred / in_handling → closed (with feedback)."""

    submitted = "submitted"
    triaged = "triaged"
    referred = "referred"
    in_handling = "in_handling"
    closed = "closed"


class Report(SQLModel, table=True):
    """What a volunteer saw and reported, where it went, and the answer they got."""

    __tablename__ = "report"
    __table_args__ = (sa.Index("ix_report_status_triage_due", "status", "triage_due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)  # the unit handling it now
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    # Where the reporter serves: the report is read in this unit's subtree (village leaders
    # see what comes from their village) and handled at ``unit_id``, an ancestor or itself.
    origin_unit_id: int = Field(foreign_key="unit.id", index=True)
    origin_unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    category: str = Field(max_length=64, index=True)  # clue, opinion, hazard, dispute, plugin's
    title: str = Field(max_length=120)
    body: str = Field(sa_type=Encrypted())  # may name people
    location: str | None = Field(default=None, sa_type=Encrypted())
    latitude: Decimal | None = Field(default=None, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(default=None, max_digits=9, decimal_places=6)
    photo_file_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    reporter_person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    reporter_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    status: ReportStatus = Field(default=ReportStatus.submitted, sa_type=sa.String(16))
    routed_to_plugin: str | None = Field(default=None, max_length=40)
    referred_to: str | None = Field(default=None, max_length=120)  # police station, 网格 …
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    triage_due_at: datetime = Field(sa_type=UTCDateTime)
    triaged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue_notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    feedback: str | None = Field(default=None, max_length=2000)  # the answer the reporter sees


class ReportStep(SQLModel, table=True):
    """One status change or note on a report."""

    __tablename__ = "report_step"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    note: str | None = Field(default=None, sa_type=Encrypted())
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
