"""A setting as a unit's office fixed it, from a date on."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import PATH_TYPE, utcnow


class UnitSetting(SQLModel, table=True):
    """The value of one configuration key at a unit from ``valid_from`` on.

    Settings are never updated in place: a change is a new row with a later ``valid_from``,
    so the rule in force on any past date can still be read (hours already confirmed stay
    explained by the rule of their day). The value for a unit on a date is the latest row
    valid on that date at the nearest unit on its path, else the key's declared default.
    """

    __tablename__ = "unit_setting"
    __table_args__ = (sa.UniqueConstraint("unit_id", "key", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    key: str = Field(max_length=80, index=True)
    value: dict | list | int | float | str | bool = Field(sa_type=sa.JSON)
    valid_from: date
    reason: str | None = Field(default=None, max_length=300)
    set_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
