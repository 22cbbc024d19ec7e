"""API input and output for recruitment.

ID numbers, phones and addresses leave masked; the birth date stays inside (the age is shown
instead, since the masked ID hides it on purpose).
"""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlmodel import Session

from core.accounts.principal import Principal
from core.recruitment import services
from core.recruitment.models import Application
from core.security.masking import mask
from core.units.models import Unit
from core.volunteers.models import Volunteer


def _printable(value: str | None) -> str | None:
    if value is not None and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


Text = Annotated[str, AfterValidator(_printable)]
Name = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_printable)]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
STRICT = ConfigDict(strict=True, extra="forbid")


class WishesInput(BaseModel):
    """Where and in what the applicant would like to serve."""

    model_config = STRICT

    team_unit_id: int | None = Field(default=None, ge=1)
    special_teams: list[Code] = Field(default_factory=list, max_length=10)
    note: Annotated[Text, Field(max_length=200)] | None = None


class ApplicantInput(BaseModel):
    """The applicant's details.

    The resident ID is checked in full by the service (length, format, birth date, check
    digit, 18 or older on the application day), so every broken rule is named.
    """

    model_config = STRICT

    unit_id: int = Field(ge=1, description="The receiving unit (office).")
    name: Name
    id_number: Annotated[Text, Field(min_length=1, max_length=24)]
    phone: Annotated[Text, Field(min_length=1, max_length=20)]
    address: Annotated[Text, Field(max_length=200)] | None = None
    education: Code | None = None
    occupation: Annotated[Text, Field(max_length=64)] | None = None
    skills: list[Code] = Field(default_factory=list, max_length=16)
    wishes: WishesInput = Field(default_factory=WishesInput)


class ApplicationCreate(ApplicantInput):
    """An application taken by an office at ``unit_id`` (in the caller's reach)."""


class SelfApplicationCreate(ApplicantInput):
    """An application made by the applicant, without signing in."""


class RejectRequest(BaseModel):
    """Rejecting needs a reason."""

    model_config = STRICT

    reason: Annotated[Text, Field(min_length=1, max_length=500)]


class WithdrawRequest(BaseModel):
    """An office withdraws an application at the applicant's request."""

    model_config = STRICT

    reason: Annotated[Text, Field(max_length=500)] | None = None


class SelfWithdrawRequest(BaseModel):
    """The applicant withdraws with the token given at submission."""

    model_config = STRICT

    token: Annotated[Text, Field(min_length=3, max_length=100)]
    reason: Annotated[Text, Field(max_length=500)] | None = None


class RegisterRequest(BaseModel):
    """The team unit the district places the new volunteer in."""

    model_config = STRICT

    team_unit_id: int = Field(ge=1)


class CertifyRequest(BaseModel):
    """The city confirms it has verified the applicant's identity."""

    model_config = STRICT

    identity_verified: bool


class WishesRead(BaseModel):
    """The applicant's wishes."""

    team_unit_id: int | None = None
    special_teams: list[str] = []
    note: str | None = None


class ApplicationRead(BaseModel):
    """An application; ID number, phone and address masked."""

    id: int
    unit_id: int
    unit_name: str
    status: str
    channel: str
    name: str
    id_number: str
    phone: str
    address: str | None
    gender: str
    age: int = Field(description="Completed years on the application day.")
    education: str | None
    occupation: str | None
    skills: list[str]
    wishes: WishesRead
    submitted_at: datetime
    decided_at: datetime | None
    reason: str | None
    person_id: int | None
    volunteer_id: int | None


class StepRead(BaseModel):
    """One step of an application's history."""

    id: int
    from_status: str
    to_status: str
    by_user_id: int | None
    by: str | None
    at_unit_id: int | None
    at_unit: str | None
    reason: str | None
    at: datetime


class ApplicationDetail(ApplicationRead):
    """An application with its history and the steps the caller may take now."""

    steps: list[StepRead]
    allowed_steps: list[str]
    volunteer_number: str | None
    certificate_number: str | None


class SelfApplicationReceipt(BaseModel):
    """What a self-applicant gets back; the token is shown this once."""

    id: int
    status: str
    withdraw_token: str
    withdraw_url: str


class PlacementRead(BaseModel):
    """A team unit suggested for the applicant."""

    unit_id: int
    unit_name: str
    level: str
    wished: bool
    shared_skills: list[str]
    members: int
    distance: int


# -- conversions ---------------------------------------------------------------------------


def applicant(data: ApplicantInput) -> services.Applicant:
    """The service's view of an applicant from the API or a page form."""
    return services.Applicant(
        name=data.name,
        id_number=data.id_number,
        phone=data.phone,
        address=data.address,
        education=data.education,
        occupation=data.occupation,
        skills=list(data.skills),
        team_unit_id=data.wishes.team_unit_id,
        special_teams=list(data.wishes.special_teams),
        note=data.wishes.note,
    )


def present(application: Application, unit_name: str) -> ApplicationRead:
    """An application as every response shows it: identity data masked."""
    return ApplicationRead(
        id=application.id,
        unit_id=application.unit_id,
        unit_name=unit_name,
        status=str(application.status),
        channel=application.channel,
        name=application.name,
        id_number=mask("id_number", application.id_number),
        phone=mask("phone", application.phone),
        address=mask("address", application.address),
        gender=str(application.gender),
        age=services.age_on_application(application),
        education=application.education,
        occupation=application.occupation,
        skills=list(application.skills or []),
        wishes=WishesRead.model_validate(services.public_wishes(application)),
        submitted_at=application.submitted_at,
        decided_at=application.decided_at,
        reason=application.reason,
        person_id=application.person_id,
        volunteer_id=application.volunteer_id,
    )


def detail(session: Session, principal: Principal, application: Application) -> ApplicationDetail:
    """An application with its history and what the caller may do with it now."""
    unit = session.get(Unit, application.unit_id)
    volunteer = (
        session.get(Volunteer, application.volunteer_id) if application.volunteer_id else None
    )
    steps = [
        StepRead(
            id=step.id,
            from_status=step.from_status,
            to_status=step.to_status,
            by_user_id=step.by_user_id,
            by=by,
            at_unit_id=step.at_unit_id,
            at_unit=at_unit,
            reason=step.reason,
            at=step.at,
        )
        for step, by, at_unit in services.history(session, application)
    ]
    return ApplicationDetail(
        **present(application, unit.name).model_dump(),
        steps=steps,
        allowed_steps=[str(s) for s in services.allowed_steps(principal, application)],
        volunteer_number=volunteer.number if volunteer else None,
        certificate_number=volunteer.certificate_number if volunteer else None,
    )
