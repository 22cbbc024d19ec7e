"""People: anyone the platform knows by name — volunteers, staff, and later parties to cases."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.security.fields import Encrypted
from core.units.models import PATH_TYPE, utcnow


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
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
