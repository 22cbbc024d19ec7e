"""The in-app inbox."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import utcnow


class Notification(SQLModel, table=True):
    """A message for a user: something to act on or to know."""

    __tablename__ = "notification"
    __audit__ = False  # produced by jobs from audited changes

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    subject: str = Field(max_length=200)
    body: str = Field(default="", max_length=2000)
    url: str | None = Field(default=None, max_length=300)
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    emailed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # claimed for email
