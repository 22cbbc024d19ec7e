"""Files the platform generates (certificates, exports, error workbooks)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.units.models import PATH_TYPE, utcnow


class StoredFile(SQLModel, table=True):
    """A generated file, kept in the database every web process shares.

    Jobs write them and reference them by id; downloads are scoped by ``unit_path``.
    """

    __tablename__ = "stored_file"
    __audit__ = False  # the action that made the file is audited, not its bytes

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    media_type: str = Field(max_length=100)
    content: bytes = Field(sa_type=sa.LargeBinary)
    size: int
    unit_path: str | None = Field(default=None, sa_type=PATH_TYPE, index=True)
    created_by_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
