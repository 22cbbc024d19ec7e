"""Volunteers: the registered, their teams, special teams, certificates and issued kit."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import PATH_TYPE, utcnow


class VolunteerStatus(StrEnum):
    """Only active volunteers are assigned and counted towards coverage."""

    active = "active"
    suspended = "suspended"
    left = "left"


class TeamRole(StrEnum):
    """A member's role in a unit's team (队长, 副队长, 队员)."""

    captain = "captain"
    vice_captain = "vice_captain"
    member = "member"


class Volunteer(SQLModel, table=True):
    """A registered volunteer: one per person, held by the unit whose team they are in.

    ``number`` is unit-coded (the registering district's code, the year and a sequence);
    ``national_number`` is the national volunteer system's unified number once known.

    ``district_id``, ``name`` and ``skills`` are copies for the district list: the district
    the volunteer's unit lies in (from ``unit_path``; none at the root) and the person's name
    and skills. They let one index per sort hold everything a page of a district is found,
    filtered and ordered by, so the page is read from the index alone
    (``core.volunteers.queries``). ``core.volunteers.listing`` keeps them in step with the
    person and the path on every flush; writers that go around the ORM (the importer, unit
    moves) set them themselves.
    """

    __tablename__ = "volunteer"
    __table_args__ = (
        # Coverage: the active volunteers of a subtree counted from the index alone.
        sa.Index("ix_volunteer_unit_path_status_id", "unit_path", "status", "id"),
        # The district list, one index per sort; the INCLUDEd columns (PostgreSQL) are what
        # the filters read, so a page never visits the table.
        sa.Index(
            "ix_volunteer_district_number",
            "district_id",
            "number",
            postgresql_include=["id", "status", "name", "skills"],
        ),
        sa.Index(
            "ix_volunteer_district_name",
            "district_id",
            "name",
            "id",
            postgresql_include=["status", "skills"],
        ),
        sa.Index(
            "ix_volunteer_district_registered_at",
            "district_id",
            "registered_at",
            "id",
            postgresql_include=["status", "name", "skills"],
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE)
    number: str = Field(max_length=32, unique=True)
    national_number: str | None = Field(default=None, max_length=32, unique=True)
    status: VolunteerStatus = Field(default=VolunteerStatus.active, sa_type=sa.String(16))
    registered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    certificate_number: str | None = Field(default=None, max_length=32, unique=True)
    certified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    import_key: str | None = Field(default=None, max_length=64, unique=True)
    district_id: int | None = Field(default=None)
    name: str = Field(default="", max_length=50)
    skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)


class TeamMembership(SQLModel, table=True):
    """Membership of a unit's team, with role and dates; ``until`` NULL means current."""

    __tablename__ = "team_membership"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    role: TeamRole = Field(default=TeamRole.member, sa_type=sa.String(16))
    since: date
    until: date | None = None


class SpecialTeamMembership(SQLModel, table=True):
    """Membership of a plugin's special team (mediation, anti-drug, fire …) at a unit."""

    __tablename__ = "special_team_membership"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    team: str = Field(max_length=64)
    unit_id: int = Field(foreign_key="unit.id")
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    since: date
    until: date | None = None


class KitIssue(SQLModel, table=True):
    """A uniform, badge, armband or ID card handed out, and its recall."""

    __tablename__ = "kit_issue"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    item: str = Field(max_length=32)
    size: str | None = Field(default=None, max_length=16)
    serial: str | None = Field(default=None, max_length=32)
    issued_on: date
    recalled_on: date | None = None
    note: str | None = Field(default=None, max_length=200)


class VolunteerTransfer(SQLModel, table=True):
    """A volunteer moved to another unit's team (调动): from where, to where, from when, why.

    Unit ids, not paths: the record names the units as they were, and a later move or merge of
    either unit does not rewrite it (the columns are not ``unit_id``/``unit_path``).
    """

    __tablename__ = "volunteer_transfer"

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    from_unit_id: int = Field(foreign_key="unit.id")
    to_unit_id: int = Field(foreign_key="unit.id")
    effective_on: date
    reason: str = Field(max_length=500)
    by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# The session hook that keeps the list's copies (district, name, skills) in step.
import core.volunteers.listing  # noqa: E402, F401
