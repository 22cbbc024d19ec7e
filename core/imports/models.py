"""Bulk imports of volunteers (and units) from spreadsheets, with their progress."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import PATH_TYPE, utcnow


class ImportStatus(StrEnum):
    """Where an import stands."""

    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


class ImportBatch(SQLModel, table=True):
    """One uploaded file being imported: counts so far, and the workbook of refused rows."""

    __tablename__ = "import_batch"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # volunteers, units
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    file_id: int = Field(foreign_key="stored_file.id")
    status: ImportStatus = Field(default=ImportStatus.pending, sa_type=sa.String(16))
    rows_total: int = 0
    rows_done: int = 0
    created: int = 0
    updated: int = 0
    refused: int = 0
    error_file_id: int | None = Field(default=None, foreign_key="stored_file.id")
    message: str | None = Field(default=None, max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
