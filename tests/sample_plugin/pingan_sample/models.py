"""The plugin's tables, created by its own migration branch."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.security.fields import Encrypted
from core.units.models import utcnow


class SampleNote(SQLModel, table=True):
    """A note pinned to a unit."""

    __tablename__ = "sample_note"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    text: str = Field(max_length=200)
    contact: str | None = Field(default=None, sa_type=Encrypted())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SampleTally(SQLModel, table=True):
    """The effect of one run of ``sample.count_notes``: at most one row per job."""

    __tablename__ = "sample_tally"

    job_id: str = Field(primary_key=True, max_length=32)
    unit_id: int = Field(foreign_key="unit.id")
    notes: int
    runs: int = 1
