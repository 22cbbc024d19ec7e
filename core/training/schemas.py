"""API input and output for training. People appear by name only; no identity data leaves."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from core.contributions import TrainingModule
from core.training.models import (
    EnrolmentChannel,
    EnrolmentStatus,
    QualificationSource,
    SessionStatus,
)


def _printable(value: str | None) -> str | None:
    if value is not None and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


Text = Annotated[str, AfterValidator(_printable)]
ModuleCode = Annotated[
    str, Field(min_length=3, max_length=64, pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
]
STRICT = ConfigDict(strict=True, extra="forbid")


# -- output --------------------------------------------------------------------------------


class LabelRead(BaseModel):
    """A text in both languages."""

    zh: str
    en: str


class QuestionRead(BaseModel):
    """A quiz question as the person taking it sees it (no answers)."""

    text: str
    choices: list[str]
    multiple: bool


class ModuleRead(BaseModel):
    """A module of the catalogue."""

    code: str
    owner: str
    title: LabelRead
    summary: LabelRead | None
    hours: float
    valid_days: int | None
    departments: list[str]
    required_roles: list[str]
    questions: int
    pass_mark: int | None


class ModuleDetail(ModuleRead):
    """A module with its content (Markdown, or the rendered template's HTML)."""

    content_type: str
    content: str


class SessionRead(BaseModel):
    """A session on the calendar."""

    id: int
    unit_id: int
    unit_name: str
    title: str
    department: str
    modules: list[str]
    starts_at: datetime
    ends_at: datetime
    online: bool
    place: str
    capacity: int
    enrolled: int
    status: SessionStatus
    note: str | None
    cancel_reason: str | None


class AttemptRead(BaseModel):
    """A sitting of a quiz."""

    module_code: str
    score: int
    total: int
    pass_mark: int
    passed: bool
    taken_at: datetime


class EnrolmentRead(BaseModel):
    """A place in a session: whose, how, whether they attended, their quiz results."""

    id: int
    session_id: int
    person_id: int
    name: str
    status: EnrolmentStatus
    channel: EnrolmentChannel
    enrolled_at: datetime
    attended: bool | None
    attempts: list[AttemptRead]


class SessionDetail(SessionRead):
    """A session with its roster (for those who run or enrol into it)."""

    enrolments: list[EnrolmentRead]


class QualificationRead(BaseModel):
    """A qualification held by a person."""

    id: int
    person_id: int
    name: str | None
    module_code: str
    module_title: LabelRead
    granted_on: date
    expires_at: date | None
    source: QualificationSource
    session_id: int | None
    state: str
    note: str | None
    revoke_reason: str | None


class PersonTrainingRead(BaseModel):
    """A person's training record and hours over a period."""

    person_id: int
    start: date
    end: date
    hours: Decimal
    qualifications: list[QualificationRead]
    enrolments: list[EnrolmentRead]


class MyTrainingRead(PersonTrainingRead):
    """The caller's own record and the sessions open to them."""

    open_sessions: list[SessionRead]


class QuizRead(BaseModel):
    """A quiz to sit: its questions, the pass mark, attempts used and left."""

    enrolment_id: int
    module_code: str
    module_title: LabelRead
    pass_mark: int
    questions: list[QuestionRead]
    attempts_used: int
    attempts_left: int
    passed: bool


class QuizResultRead(BaseModel):
    """A sitting's result and the qualifications it granted."""

    score: int
    total: int
    pass_mark: int
    passed: bool
    attempts_left: int
    granted: list[QualificationRead]


class TargetRead(BaseModel):
    """A plan target and how far the subtree got."""

    metric: str
    module_code: str | None
    target: int
    actual: Decimal
    percent: float
    met: bool
    children_target: int


class ChildTargetRead(BaseModel):
    """A child unit's figure for one of the parent's targets, and its own target for it."""

    metric: str
    module_code: str | None
    actual: Decimal
    own_target: int | None


class ChildPlanRead(BaseModel):
    """A child unit's share of the parent's plan."""

    unit_id: int
    name: str
    has_plan: bool
    targets: list[ChildTargetRead]


class PlanRead(BaseModel):
    """A unit's annual plan with its progress, rolled up from the children."""

    unit_id: int
    year: int
    note: str | None
    targets: list[TargetRead]
    children: list[ChildPlanRead]


class ModuleStatisticsRead(BaseModel):
    """A module's completion in the subtree over the year."""

    code: str
    title: LabelRead
    sessions: int
    trainees: int
    qualified: int
    holders: int


class UnitStatisticsRead(BaseModel):
    """A unit's (subtree's) training over the year."""

    unit_id: int
    name: str
    volunteers: int
    holders: int
    trainees: int
    qualified: int
    hours: Decimal


class StatisticsRead(BaseModel):
    """Completion statistics per module and per unit (the unit first, then its children)."""

    unit_id: int
    year: int
    modules: list[ModuleStatisticsRead]
    units: list[UnitStatisticsRead]


class RequirementRead(BaseModel):
    """The modules a role requires at the unit today, and the versions set at the unit."""

    role: str
    modules: list[str]
    set_here: list["RequirementVersion"]


class RequirementVersion(BaseModel):
    """One version of a role's requirement set at this unit."""

    modules: list[str]
    valid_from: date


RequirementRead.model_rebuild()


class ImportResult(BaseModel):
    """How many qualifications an import added."""

    imported: int


# -- input ---------------------------------------------------------------------------------


class SessionCreate(BaseModel):
    """Schedule a session at the path's unit."""

    model_config = STRICT

    title: Annotated[Text, Field(max_length=100)] = ""
    department: str = Field(min_length=2, max_length=32)
    modules: list[ModuleCode] = Field(min_length=1, max_length=20)
    starts_at: AwareDatetime = Field(strict=False)
    ends_at: AwareDatetime = Field(strict=False)
    online: bool = False
    place: Annotated[Text, Field(min_length=1, max_length=200)]
    capacity: int = Field(ge=1, le=10_000)
    note: Annotated[Text, Field(max_length=500)] | None = None


class EnrolmentCreate(BaseModel):
    """Enrol a volunteer of the path's unit (subtree) in a session open to them."""

    model_config = STRICT

    session_id: int = Field(ge=1, le=2**62)
    person_id: int = Field(ge=1, le=2**62)


class SelfEnrolmentCreate(BaseModel):
    """Enrol oneself in a session open to one's unit."""

    model_config = STRICT

    session_id: int = Field(ge=1, le=2**62)


class AttendanceMark(BaseModel):
    """Whether one enrolled person attended."""

    model_config = STRICT

    enrolment_id: int = Field(ge=1, le=2**62)
    attended: bool


class AttendanceRecord(BaseModel):
    """Attendance of some or all of a session's enrolments."""

    model_config = STRICT

    records: list[AttendanceMark] = Field(min_length=1, max_length=10_000)


class ReasonInput(BaseModel):
    """An act that needs a reason (cancelling, revoking)."""

    model_config = STRICT

    reason: Annotated[Text, Field(min_length=2, max_length=500)]


class QuizAnswers(BaseModel):
    """One answer per question: the indices (from 0) of the choices picked."""

    model_config = STRICT

    answers: list[list[Annotated[int, Field(ge=0, le=100)]]] = Field(min_length=1, max_length=200)


class QualificationGrant(BaseModel):
    """Grant a module to a person of the path's unit by hand, with a reason."""

    model_config = STRICT

    person_id: int = Field(ge=1, le=2**62)
    module_code: ModuleCode
    granted_on: date | None = Field(default=None, strict=False, description="Default: today")
    reason: Annotated[Text, Field(min_length=2, max_length=500)]


class QualificationImportRow(BaseModel):
    """A qualification from earlier records, named by the volunteer's number."""

    model_config = STRICT

    volunteer_number: Annotated[Text, Field(min_length=1, max_length=32)]
    module_code: ModuleCode
    granted_on: date = Field(strict=False)
    expires_at: date | None = Field(default=None, strict=False)


class QualificationImport(BaseModel):
    """Carry qualifications over from earlier records, all or none."""

    model_config = STRICT

    rows: list[QualificationImportRow] = Field(min_length=1, max_length=5_000)
    reason: Annotated[Text, Field(min_length=2, max_length=500)]


class TargetInput(BaseModel):
    """A plan target."""

    model_config = STRICT

    metric: str = Field(min_length=1, max_length=16)
    module_code: ModuleCode | None = None
    target: int = Field(ge=1, le=100_000_000)


class PlanInput(BaseModel):
    """A unit's plan for a year: its targets replace the ones set before."""

    model_config = STRICT

    targets: list[TargetInput] = Field(max_length=50)
    note: Annotated[Text, Field(max_length=500)] | None = None


class RequirementInput(BaseModel):
    """From ``valid_from``, ``role`` requires ``modules`` at the path's unit and below."""

    model_config = STRICT

    role: str = Field(min_length=2, max_length=64)
    modules: list[ModuleCode] = Field(max_length=30)
    valid_from: date = Field(strict=False)


def label_read(label) -> LabelRead:
    """A ``Label`` as output."""
    return LabelRead(zh=label.zh, en=label.en)


def module_read(module: TrainingModule) -> ModuleRead:
    """A module as output."""
    return ModuleRead(
        code=module.code,
        owner=module.code.split(".", 1)[0],
        title=label_read(module.title),
        summary=label_read(module.summary) if module.summary else None,
        hours=module.hours,
        valid_days=module.valid_days,
        departments=list(module.departments),
        required_roles=list(module.required_roles),
        questions=len(module.quiz.questions) if module.quiz else 0,
        pass_mark=module.quiz.pass_mark if module.quiz else None,
    )
