"""Applications to become a volunteer, and every step taken on them."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.people.models import Gender
from core.security.fields import Encrypted
from core.units.models import PATH_TYPE, utcnow


class ApplicationStatus(StrEnum):
    """SPEC §3: submitted → preliminary_approved → reviewed → registered → certified."""

    submitted = "submitted"
    preliminary_approved = "preliminary_approved"
    reviewed = "reviewed"
    registered = "registered"
    certified = "certified"
    rejected = "rejected"
    withdrawn = "withdrawn"


OPEN_STATUSES = (
    ApplicationStatus.submitted,
    ApplicationStatus.preliminary_approved,
    ApplicationStatus.reviewed,
)


class Application(SQLModel, table=True):
    """What an applicant gave the receiving office, and where it stands.

    The applicant's data stays here until registration creates the person and volunteer;
    ``id_number_index`` (keyed hash) finds duplicates among pending and registered people.
    """

    __tablename__ = "application"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    status: ApplicationStatus = Field(default=ApplicationStatus.submitted, sa_type=sa.String(24))
    channel: str = Field(default="office", max_length=16)  # office or self
    name: str = Field(max_length=50)
    id_number: str = Field(sa_type=Encrypted())
    id_number_index: str = Field(max_length=64, index=True)
    gender: Gender = Field(sa_type=sa.String(8))
    birth_date: date
    phone: str = Field(sa_type=Encrypted())
    address: str | None = Field(default=None, sa_type=Encrypted())
    education: str | None = Field(default=None, max_length=32)
    occupation: str | None = Field(default=None, max_length=64)
    skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    wishes: dict = Field(default_factory=dict, sa_type=sa.JSON)  # team unit, special teams
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=500)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id")


class ApplicationStep(SQLModel, table=True):
    """One transition of an application: who moved it, from where, why."""

    __tablename__ = "application_step"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    from_status: str = Field(max_length=24)
    to_status: str = Field(max_length=24)
    by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    at_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    reason: str | None = Field(default=None, max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
