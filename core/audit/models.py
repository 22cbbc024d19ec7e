"""The audit trail: append-only, each entry chained to the previous one by hash."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import PATH_TYPE, utcnow


class AuditEntry(SQLModel, table=True):
    """Who did what to which record, when, from where — or who read which sensitive data.

    ``hash`` is SHA-256 over the previous entry's hash and this entry's content, so altering,
    inserting or deleting an entry breaks the chain from there on (``pingan audit verify``).
    Sensitive values in ``before``/``after`` are stored masked.
    """

    __tablename__ = "audit_entry"
    __audit__ = False

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    user_id: int | None = Field(default=None, index=True)
    username: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=64)
    event: str = Field(max_length=32, index=True)  # insert, update, delete, reveal, export, login …
    action: str | None = Field(default=None, max_length=100, index=True)  # the permission used
    object_type: str | None = Field(default=None, max_length=64)
    object_id: str | None = Field(default=None, max_length=64)
    unit_path: str | None = Field(default=None, sa_type=PATH_TYPE, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON(none_as_null=True))
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON(none_as_null=True))
    reason: str | None = Field(default=None, max_length=500)
    outcome: str = Field(default="ok", max_length=16)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditObjectRange(SQLModel, table=True):
    """Ids of one table that a bulk entry stands for, as a closed range (a search index).

    A bulk entry (``core.audit.bulk``) lists the ids it wrote in its hashed ``after``; these
    rows repeat them so that filtering the trail by one record finds the entry by an index.
    They are derived data: ``pingan audit verify`` checks them against the entries.
    """

    __tablename__ = "audit_object_range"
    __audit__ = False
    __table_args__ = (
        sa.Index("ix_audit_object_range_lookup", "object_type", "first_id", "last_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.ForeignKey("audit_entry.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    object_type: str = Field(max_length=64)
    first_id: int
    last_id: int
