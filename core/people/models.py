"""People: anyone the platform knows by name — volunteers, staff, and later parties to cases."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.security.fields import Encrypted
from core.units.models import PATH_TYPE, utcnow


class Gender(StrEnum):
    """As read from the resident ID (the 17th digit: odd male, even female)."""

    male = "male"
    female = "female"


class Person(SQLModel, table=True):
    """A natural person, held by a unit.

    ``id_number``, ``phone`` and ``address`` are encrypted at rest; ``id_number_index`` is a
    keyed blind index that makes the ID number searchable and unique without storing it in
    clear. ``unit_path`` copies the unit's path so scoping is one indexed range test.
    """

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    name: str = Field(max_length=50)
    id_number: str | None = Field(default=None, sa_type=Encrypted())
    id_number_index: str | None = Field(default=None, max_length=64, unique=True)
    phone: str | None = Field(default=None, sa_type=Encrypted())
    address: str | None = Field(default=None, sa_type=Encrypted())
    gender: Gender | None = Field(default=None, sa_type=sa.String(8))
    birth_date: date | None = Field(default=None)
    education: str | None = Field(default=None, max_length=32)
    occupation: str | None = Field(default=None, max_length=64)
    skills: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    availability: dict[str, list[str]] = Field(default_factory=dict, sa_type=sa.JSON)
    emergency_contact_name: str | None = Field(default=None, max_length=50)
    emergency_contact_phone: str | None = Field(default=None, sa_type=Encrypted())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
