"""The job outbox: one row per job, written in the transaction that causes the job."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import utcnow


class JobStatus(StrEnum):
    """Where a job stands; ``done`` and ``failed`` are final."""

    pending = "pending"  # recorded; not yet handed to the broker, or handed over and waiting
    running = "running"
    retrying = "retrying"  # the last run failed; the broker holds a delayed retry
    done = "done"
    failed = "failed"  # retries exhausted


FINAL_STATUSES = (JobStatus.done, JobStatus.failed)


class Job(SQLModel, table=True):
    """A background job and its outcome (the transactional outbox of ARCHITECTURE.md)."""

    __tablename__ = "job"
    __audit__ = False  # the outbox records work to do, not changes to the domain
    __table_args__ = (sa.Index("ix_job_status_sent_at", "status", "sent_at"),)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True, max_length=32)
    name: str = Field(max_length=100, index=True)
    queue: str = Field(max_length=64)
    kwargs: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    status: JobStatus = Field(default=JobStatus.pending, sa_type=sa.String(16))
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_type=sa.Text)
    result: Any | None = Field(default=None, sa_type=sa.JSON(none_as_null=True), nullable=True)
