"""API input and output for tasks, points, shifts, assignments and the duty matrix."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.tasks.services import TaskInput
from core.tasks.shifts import PointInput, ShiftInput


def _printable(value: str | None) -> str | None:
    if value is not None and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


Text = Annotated[str, AfterValidator(_printable)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_.]*$")]
Id = Annotated[int, Field(ge=1, le=2**62)]


class Strict(BaseModel):
    """Input: exact types, unknown fields refused; dates and times read from ISO text."""

    model_config = ConfigDict(strict=True, extra="forbid")


# -- input ---------------------------------------------------------------------------------


class TaskFields(Strict):
    """What a task says about itself; the type's own fields go in ``details``."""

    title: Annotated[Text, Field(min_length=1, max_length=120)] | None = None
    description: Annotated[Text, Field(max_length=4000)] | None = None
    starts_on: date | None = Field(default=None, strict=False)
    ends_on: date | None = Field(default=None, strict=False)
    quota: int | None = Field(
        default=None, ge=0, le=1_000_000, description="Person-shifts expected of the task."
    )
    allow_signup: bool | None = None
    signup_needs_approval: bool | None = None
    details: dict[str, Any] | None = Field(
        default=None, description="The task type's own fields, by name."
    )
    required_skills: list[Code] | None = Field(default=None, max_length=16)
    required_modules: list[Code] | None = Field(default=None, max_length=16)

    def as_input(self) -> TaskInput:
        """As the service takes it."""
        values = self.model_dump(exclude_unset=True, exclude={"unit_id"})
        return TaskInput(**values)


class TaskCreate(TaskFields):
    """A new task at the path's unit, in draft."""

    task_type: Code
    title: Annotated[Text, Field(min_length=1, max_length=120)]
    starts_on: date = Field(strict=False)
    ends_on: date = Field(strict=False)


class TaskUpdate(TaskFields):
    """Change an open task; absent fields stay; ``clear_quota`` removes the quota."""

    clear_quota: bool = False


class SubtaskCreate(TaskFields):
    """A sub-task for a unit below the task's own; absent fields are the parent's."""

    unit_id: Id


class Reason(Strict):
    """A reason, required when cancelling or declining."""

    reason: Annotated[Text, Field(min_length=1, max_length=500)]


class PointFields(Strict):
    """A point's details."""

    name: Annotated[Text, Field(min_length=1, max_length=100)] | None = None
    address: Annotated[Text, Field(max_length=200)] | None = None
    latitude: Decimal | None = Field(default=None, ge=-90, le=90, strict=False, decimal_places=6)
    longitude: Decimal | None = Field(default=None, ge=-180, le=180, strict=False, decimal_places=6)
    radius_m: int | None = Field(default=None, ge=10, le=5000)
    active: bool | None = None

    def as_input(self) -> PointInput:
        """As the service takes it."""
        return PointInput(**self.model_dump(exclude_unset=True))


class PointCreate(PointFields):
    """A new point at the path's unit."""

    name: Annotated[Text, Field(min_length=1, max_length=100)]


class ShiftFields(Strict):
    """A shift's details; times with an offset, or China time when they have none."""

    point_id: Id | None = None
    starts_at: datetime | None = Field(default=None, strict=False)
    ends_at: datetime | None = Field(default=None, strict=False)
    min_headcount: int | None = Field(default=None, ge=0, le=1000)
    max_headcount: int | None = Field(default=None, ge=1, le=1000)
    leader_slot: bool | None = None
    required_skills: list[Code] | None = Field(default=None, max_length=16)
    required_modules: list[Code] | None = Field(default=None, max_length=16)

    def as_input(self) -> ShiftInput:
        """As the service takes it."""
        return ShiftInput(**self.model_dump(exclude_unset=True))


class ShiftCreate(ShiftFields):
    """A new shift of the path's task."""

    point_id: Id
    starts_at: datetime = Field(strict=False)
    ends_at: datetime = Field(strict=False)


class AssignmentCreate(Strict):
    """Put a volunteer on the shift (their leader, or by dispatch)."""

    volunteer_id: Id
    as_leader: bool = False
    confirm_warnings: bool = Field(
        default=False, description="Go on despite the warnings a first attempt returned."
    )


# -- output --------------------------------------------------------------------------------


class StepRead(BaseModel):
    """One status change of a task."""

    from_status: str
    to_status: str
    by: str | None
    reason: str | None
    at: datetime


class ProgressRead(BaseModel):
    """Confirmed person-shifts of the task and its sub-tasks against its quota."""

    filled: int
    target: int
    percent: int


class TaskRead(BaseModel):
    """A task."""

    id: int
    unit_id: int
    unit_name: str
    parent_id: int | None
    task_type: str
    task_type_name: str
    risky: bool
    title: str
    description: str
    status: str
    starts_on: date
    ends_on: date
    quota: int | None
    allow_signup: bool
    signup_needs_approval: bool
    details: dict[str, Any]
    required_skills: list[str]
    required_modules: list[str]
    cancel_reason: str | None
    progress: ProgressRead


class PointRead(BaseModel):
    """A point on duty."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    name: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    radius_m: int | None
    active: bool


class AssignmentRead(BaseModel):
    """A volunteer on a shift."""

    id: int
    shift_id: int
    volunteer_id: int
    name: str
    home_unit_id: int
    home_unit_name: str
    unit_id: int
    status: str
    source: str
    is_leader: bool
    dispatched_by_unit_id: int | None
    warnings: list[str]
    reason: str | None
    starts_at: datetime
    ends_at: datetime


class ShiftRead(BaseModel):
    """A shift, with how full it is."""

    id: int
    task_id: int
    unit_id: int
    point_id: int
    point_name: str
    starts_at: datetime
    ends_at: datetime
    min_headcount: int
    max_headcount: int
    leader_slot: bool
    required_skills: list[str]
    required_modules: list[str]
    status: str
    confirmed: int
    requested: int


class ShiftDetail(ShiftRead):
    """A shift with its people."""

    assignments: list[AssignmentRead]


class TaskDetail(TaskRead):
    """A task with its sub-tasks, shifts, history and what the caller may do now."""

    subtasks: list[TaskRead]
    shifts: list[ShiftRead]
    steps: list[StepRead]
    allowed_transitions: list[str]


class SuggestionRead(BaseModel):
    """A volunteer who could fill the shift, and the reasons of their rank."""

    volunteer_id: int
    name: str
    unit_name: str
    distance: int
    dispatch: bool
    skills: list[str]
    hours_30_days: Decimal
    shifts_30_days: int
    warnings: list[str]
    reasons: list[str]


class MatrixShift(BaseModel):
    """A shift in the duty matrix."""

    shift_id: int
    task_id: int
    task_title: str
    point_id: int
    day: date
    slot: int
    starts_at: datetime
    ends_at: datetime
    min_headcount: int
    max_headcount: int
    confirmed: int
    requested: int
    state: str = Field(description="gap (below the minimum), open or full")
    people: list[str]


class MatrixRead(BaseModel):
    """A unit's duty matrix for one week."""

    unit_id: int
    week: date
    days: list[date]
    slots: list[str]
    points: list[dict[str, Any]]
    gaps: int
    shifts: list[MatrixShift]


class OpenShiftRead(BaseModel):
    """A shift the volunteer may sign up for."""

    shift_id: int
    task_id: int
    task_title: str
    unit_name: str
    point_name: str
    address: str
    starts_at: datetime
    ends_at: datetime
    places_left: int
    needs_approval: bool
