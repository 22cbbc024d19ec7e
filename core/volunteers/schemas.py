"""API input and output for volunteers. Identity numbers and phones leave masked."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from core.people.models import Gender
from core.volunteers.models import TeamRole, VolunteerStatus


class Strict(BaseModel):
    """Input: exact types, unknown fields refused (no mass assignment).

    Dates and choices arrive as JSON text, so those fields alone read ISO dates and enum
    values (``strict=False``); nothing else is coerced.
    """

    model_config = ConfigDict(strict=True, extra="forbid")


# -- output -------------------------------------------------------------------------------------


class MembershipRead(BaseModel):
    """A membership of a unit's team."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    unit_name: str
    team: str
    role: TeamRole
    since: date
    until: date | None


class SpecialTeamRead(BaseModel):
    """A membership of a plugin's special team."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    team: str
    team_label: str
    unit_id: int
    since: date
    until: date | None


class KitRead(BaseModel):
    """An item handed out, and its recall."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    item: str
    size: str | None
    serial: str | None
    issued_on: date
    recalled_on: date | None
    note: str | None


class TransferRead(BaseModel):
    """A transfer of the volunteer to another unit's team."""

    id: int
    from_unit_id: int
    from_unit_name: str
    to_unit_id: int
    to_unit_name: str
    effective_on: date
    reason: str
    at: datetime


class VolunteerSummary(BaseModel):
    """A line of the volunteer list: ID number and phone masked."""

    id: int
    person_id: int
    unit_id: int
    unit_name: str
    number: str
    national_number: str | None
    status: VolunteerStatus
    registered_at: datetime
    name: str
    gender: Gender | None
    birth_date: date | None
    id_number: str | None
    phone: str | None
    skills: list[str]


class VolunteerPage(BaseModel):
    """One page of the list; pass ``next`` as ``after`` for the following page."""

    items: list[VolunteerSummary]
    next: str | None = Field(description="Cursor of the next page; null on the last page")
    sort: str


class VolunteerRead(VolunteerSummary):
    """A volunteer's profile: record, teams, special teams, certificate and kit."""

    certificate_number: str | None
    certified_at: datetime | None
    memberships: list[MembershipRead]
    special_teams: list[SpecialTeamRead]
    kit: list[KitRead]
    transfers: list[TransferRead]


# -- input --------------------------------------------------------------------------------------


class VolunteerUpdate(Strict):
    """Change the volunteer record: the national unified number (``null`` clears it)."""

    national_number: str | None = Field(max_length=32)


class StatusChange(Strict):
    """Suspend, reactivate or record the leaving of a volunteer; the reason is audited."""

    status: VolunteerStatus = Field(strict=False)
    reason: str = Field(min_length=4, max_length=500)


class MembershipCreate(Strict):
    """From ``since``, the volunteer holds ``role`` in the team of unit ``unit_id``."""

    unit_id: int = Field(ge=1)
    role: TeamRole = Field(default=TeamRole.member, strict=False)
    since: date | None = Field(default=None, strict=False, description="Default: today")


class MembershipEnd(Strict):
    """End a membership on ``until`` (its last day; default: today)."""

    until: date | None = Field(default=None, strict=False)


class SpecialTeamCreate(Strict):
    """Join plugin ``team``'s special team at unit ``unit_id``."""

    team: str = Field(min_length=2, max_length=64)
    unit_id: int = Field(ge=1)
    since: date | None = Field(default=None, strict=False, description="Default: today")


class TransferCreate(Strict):
    """Move the volunteer's home team to unit ``unit_id``'s team from ``on`` (调动).

    The volunteer number stays; the reason is kept with the transfer.
    """

    unit_id: int = Field(ge=1)
    role: TeamRole = Field(default=TeamRole.member, strict=False)
    on: date | None = Field(default=None, strict=False, description="Default: today")
    reason: str = Field(min_length=4, max_length=500)


class TransferForm(Strict):
    """The profile page's transfer form: the new unit by its code."""

    unit_code: str = Field(min_length=1, max_length=12)
    role: TeamRole = Field(default=TeamRole.member, strict=False)
    on: date | None = Field(default=None, strict=False)
    reason: str = Field(min_length=4, max_length=500)


class KitIssueCreate(Strict):
    """Hand an item to the volunteer."""

    item: str = Field(min_length=1, max_length=32)
    size: str | None = Field(default=None, max_length=16)
    serial: str | None = Field(default=None, max_length=32)
    issued_on: date | None = Field(default=None, strict=False, description="Default: today")
    note: str | None = Field(default=None, max_length=200)


class KitRecall(Strict):
    """Record that an item came back."""

    recalled_on: date | None = Field(default=None, strict=False, description="Default: today")
    note: str | None = Field(default=None, max_length=200)


class ExportRequest(Strict):
    """Export volunteers for the national registry; the reason is audited."""

    unit_id: int | None = Field(default=None, ge=1, description="Default: everything in reach")
    format: str = Field(default="xlsx", pattern=r"^[a-z0-9]{2,10}$")
    status: VolunteerStatus | None = Field(default=None, strict=False)
    skill: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=50)
    number: str | None = Field(default=None, max_length=32)
    reason: str = Field(min_length=4, max_length=500)
