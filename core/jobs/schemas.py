"""What the API shows of a job."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from core.jobs.models import JobStatus


class JobRead(BaseModel):
    """A background job and its outcome."""

    id: str
    name: str
    queue: str
    kwargs: dict[str, Any]
    unit_id: int | None
    status: JobStatus
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    result: Any = None

    model_config = {"from_attributes": True}
