"""The record of withdrawn certificates."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import PATH_TYPE, utcnow


class CertificateRevocation(SQLModel, table=True):
    """A certificate withdrawn: its number, when it was issued, who revoked it, when and why.

    The volunteer's current certificate is cleared when it is revoked; this row keeps the
    number on record, so the public check answers "revoked on …" rather than "unknown", and
    the number is never issued again (the sequence moves on). ``unit_path`` is the volunteer's
    unit at the time, which scopes who may see the record.
    """

    __tablename__ = "certificate_revocation"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    reason: str = Field(max_length=500)
