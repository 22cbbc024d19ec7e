"""API input and output for people. Sensitive fields leave masked unless revealed.

Input schemas check only shapes and sizes; the rules of a person's details (the resident ID's
length, date and check digit, mobile numbers, the vocabularies) are checked by
:func:`core.people.services.check_details`, so the API and the pages report the same field
and rule.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.people.models import Gender

Availability = dict[str, list[str]]


class Strict(BaseModel):
    """Input: exact types, unknown fields refused (no mass assignment)."""

    model_config = ConfigDict(strict=True, extra="forbid")


class PersonCreate(Strict):
    """Register a person at a unit; gender and birth date are read from the resident ID."""

    unit_id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=50)
    id_number: str | None = Field(default=None, max_length=20, description="Resident ID (GB 11643)")
    phone: str | None = Field(default=None, max_length=20, description="Mainland mobile")
    address: str | None = Field(default=None, max_length=200)
    education: str | None = Field(default=None, max_length=32)
    occupation: str | None = Field(default=None, max_length=64)
    skills: list[str] = Field(default_factory=list, max_length=20)
    availability: Availability = Field(
        default_factory=dict, max_length=7, description="Weekday → parts of the day"
    )
    emergency_contact_name: str | None = Field(default=None, max_length=50)
    emergency_contact_phone: str | None = Field(default=None, max_length=20)


class PersonUpdate(Strict):
    """Change some of a person's details: only the fields sent change (``null`` clears one).

    The name and the resident ID cannot be cleared; the unit is not changed here.
    """

    name: str | None = Field(default=None, min_length=1, max_length=50)
    id_number: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=200)
    education: str | None = Field(default=None, max_length=32)
    occupation: str | None = Field(default=None, max_length=64)
    skills: list[str] | None = Field(default=None, max_length=20)
    availability: Availability | None = Field(default=None, max_length=7)
    emergency_contact_name: str | None = Field(default=None, max_length=50)
    emergency_contact_phone: str | None = Field(default=None, max_length=20)


class PersonRead(BaseModel):
    """A person, with ID number, phones and address masked."""

    id: int
    unit_id: int
    name: str
    gender: Gender | None = None
    birth_date: date | None = None
    id_number: str | None
    phone: str | None
    address: str | None
    education: str | None = None
    occupation: str | None = None
    skills: list[str] = Field(default_factory=list)
    availability: Availability = Field(default_factory=dict)
    emergency_contact_name: str | None = None
    emergency_contact_phone: str | None = None
    volunteer_id: int | None = Field(default=None, description="Set when the person volunteers")
    created_at: datetime


SensitivePersonField = Literal["id_number", "phone", "address"]


class RevealRequest(Strict):
    """Ask to see sensitive fields in clear; the reason goes to the audit trail."""

    fields: list[SensitivePersonField] = Field(min_length=1, max_length=3)
    reason: str = Field(min_length=4, max_length=500)


class Revealed(BaseModel):
    """The requested fields in clear."""

    id: int
    values: dict[str, str | None]
