"""API input and output of check-in, hours, corrections, records, calendar and e-mail."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from core.hours.queries import ShiftLine

Latitude = Annotated[float | None, Field(default=None, ge=-90, le=90)]
Longitude = Annotated[float | None, Field(default=None, ge=-180, le=180)]


class Strict(BaseModel):
    """Input: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class CheckRequest(Strict):
    """Where the phone is, when the point checks location (both or neither)."""

    latitude: Latitude = None
    longitude: Longitude = None


class QrCheckRequest(CheckRequest):
    """What the shift's QR code carries."""

    shift_id: int = Field(ge=1, le=2**62)
    secret: str = Field(min_length=8, max_length=64)


class AssignmentState(BaseModel):
    """An assignment and where it stands with check-in, check-out and hours."""

    assignment_id: int
    shift_id: int
    task_title: str
    point_name: str
    point_address: str
    unit_name: str
    starts_at: datetime
    ends_at: datetime
    is_leader: bool
    state: str
    checked_in_at: datetime | None
    check_in_method: str | None
    checked_out_at: datetime | None
    check_out_method: str | None
    hours: Decimal | None
    volunteer_name: str | None = None


def state_of(line: ShiftLine, *, with_name: bool = False) -> AssignmentState:
    """A shift line for the API."""
    a = line.assignment
    return AssignmentState(
        assignment_id=a.id,
        shift_id=a.shift_id,
        task_title=line.task_title,
        point_name=line.point.name,
        point_address=line.point.address,
        unit_name=line.unit_name,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        is_leader=a.is_leader,
        state=line.state,
        checked_in_at=a.checked_in_at,
        check_in_method=a.check_in_method,
        checked_out_at=a.checked_out_at,
        check_out_method=a.check_out_method,
        hours=line.hours,
        volunteer_name=line.volunteer_name if with_name else None,
    )


class EntryRead(BaseModel):
    """A ledger entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    volunteer_id: int
    kind: str
    assignment_id: int | None
    corrects_id: int | None
    unit_id: int
    home_unit_id: int
    service_date: date
    minutes_present: int | None
    hours: Decimal
    rule: dict[str, Any]
    reason: str | None
    recorded_by_user_id: int | None
    recorded_at: datetime


class CorrectionCreate(Strict):
    """What an entry's hours should be, and why."""

    new_hours: Decimal = Field(ge=0, le=24, decimal_places=1)
    reason: str = Field(min_length=2, max_length=500)


class CorrectionDecision(Strict):
    """Approve or reject a correction (a reason is required to reject)."""

    approve: bool
    reason: str | None = Field(default=None, max_length=500)


class CorrectionRead(BaseModel):
    """A correction request and its decision."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    entry_id: int
    volunteer_id: int
    new_hours: Decimal
    reason: str
    status: str
    requested_by_user_id: int | None
    requested_at: datetime
    decided_by_user_id: int | None
    decided_at: datetime | None
    decision_reason: str | None
    result_entry_id: int | None


class TotalsRead(BaseModel):
    """A volunteer's hours, live from the ledger, and star level."""

    volunteer_id: int
    service: Decimal
    corrections: Decimal
    training: Decimal
    total: Decimal
    star_level: int
    next_threshold: int | None


class RecordRead(BaseModel):
    """A service-record certificate."""

    id: int
    number: str
    volunteer_id: int
    unit_id: int
    total_hours: Decimal
    entries: int
    first_date: date | None
    last_date: date | None
    issued_at: datetime
    rendered: bool
    verify: str


class VolunteerHoursRead(BaseModel):
    """A volunteer's record: totals, ledger, corrections and certificates."""

    totals: TotalsRead
    entries: list[EntryRead]
    corrections: list[CorrectionRead]
    records: list[RecordRead]


class RecordRequest(Strict):
    """Whose hours the unit certifies."""

    volunteer_id: int = Field(ge=1, le=2**62)


class UnitTotalRead(BaseModel):
    """A unit's subtree: its volunteers' hours and the hours served at it."""

    unit_id: int
    name: str
    home_hours: Decimal
    served_hours: Decimal
    volunteers: int


class UnitHoursRead(BaseModel):
    """A unit and its children, and how many of its volunteers hold each star level."""

    units: list[UnitTotalRead]
    stars: dict[int, int]


class CalendarIssued(BaseModel):
    """The calendar feed's address; the token is shown this once."""

    url: str


class EmailUpdate(Strict):
    """A new notification address (empty to stop e-mail), confirmed with the password."""

    email: str | None = Field(
        default=None, max_length=200, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
    )
    current_password: str = Field(min_length=1, max_length=200)


class EmailRead(BaseModel):
    """The notification address, masked."""

    email: str | None


class JobQueued(BaseModel):
    """A job recorded for after commit."""

    job_id: str
