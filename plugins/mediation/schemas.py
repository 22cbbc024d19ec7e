"""Request bodies of the API (pages validate their forms with the same models).

Strict where it matters (ids are integers, booleans are booleans); dates and codes are read
leniently from their text form, as JSON carries them.
"""

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from plugins.mediation import clock
from plugins.mediation.vocab import (
    AgreementForm,
    Appointment,
    AssignmentHow,
    AttachmentPurpose,
    CommitteeKind,
    ConfirmationResult,
    Grade,
    MediatorStatus,
    MemberRole,
    NotAcceptedReason,
    NoticeManner,
    PartyRole,
    RemovalReason,
    ReportedTo,
    Risk,
    Satisfaction,
    SignatureManner,
    Source,
    TermEvent,
)


def _printable(value: str | None) -> str | None:
    if value is not None and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


def _in_china(value: datetime) -> datetime:
    """A time given without an offset is China's (UTC+8)."""
    return value if value.tzinfo else value.replace(tzinfo=clock.CHINA)


def _text(max_length: int, min_length: int = 0):
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_printable)
    ]


Name = _text(50, 1)
Short = _text(100, 1)
Note = _text(500)
Long = _text(5000, 1)
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Fen = Annotated[int, Field(ge=0, le=10**13)]
Day = Annotated[date, Field(strict=False)]
Moment = Annotated[datetime, Field(strict=False), AfterValidator(_in_china)]
Category = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
STRICT = ConfigDict(strict=True, extra="forbid")


def lenient(kind):
    """An enum read from its text value."""
    return Annotated[kind, Field(strict=False)]


class Input(BaseModel):
    """Every body: unknown fields are refused."""

    model_config = STRICT


# -- committees and mediators ----------------------------------------------------------------


class MemberIn(Input):
    """A committee member."""

    person_id: Id
    role: lenient(MemberRole) = MemberRole.member
    ethnicity: _text(20, 1) = "汉族"
    gender: Annotated[str, Field(pattern="^(male|female)$")] | None = None


class CommitteeCreate(Input):
    """A committee formed at the path's unit."""

    kind: lenient(CommitteeKind)
    name: Short
    abbreviation: _text(20, 1)
    established_on: Day | None = None
    members: list[MemberIn] = Field(min_length=1, max_length=20)


class MembersReplace(Input):
    """The committee's whole member list from today."""

    members: list[MemberIn] = Field(min_length=1, max_length=20)


class MediatorCreate(Input):
    """A person made a mediator of a committee."""

    committee_id: Id
    person_id: Id
    appointment: lenient(Appointment)
    appointed_on: Day
    term_end: Day | None = None
    grade: lenient(Grade) = Grade.third
    full_time: bool = False
    pre_service_training_on: Day | None = None


class MediatorUpdate(Input):
    """Corrections to a mediator's record: only the fields sent change.

    ``term_end`` and ``pre_service_training_on`` may be cleared with ``null``; ``grade`` and
    ``full_time`` always have a value, so ``null`` is refused for them.
    """

    term_end: Day | None = None
    grade: lenient(Grade) = Field(default=None)
    full_time: bool = Field(default=None)
    pre_service_training_on: Day | None = None


class MediatorStatusChange(Input):
    """Suspension, removal (Art. 15) or reinstatement."""

    status: lenient(MediatorStatus)
    reason: lenient(RemovalReason) | None = None
    note: Note | None = None


# -- disputes ------------------------------------------------------------------------------


class PartyIn(Input):
    """A party; identity numbers and phones are checked, then stored encrypted."""

    role: lenient(PartyRole)
    name: Name
    id_no: _text(24) | None = None
    phone: _text(20) | None = None
    address: _text(200) | None = None
    gender: Annotated[str, Field(pattern="^(male|female)$")] | None = None
    ethnicity: _text(20) | None = None
    is_minor: bool = False
    represents_id: Id | None = None
    objects_to_public: bool = False


class DisputeFields(Input):
    """What the intake form (受理登记表) records."""

    source: lenient(Source)
    category: Category
    summary: Long
    claims: _text(5000) | None = None
    amount_involved_fen: Fen | None = None
    people_involved: Annotated[int, Field(ge=1, le=100000)] = 2
    risk_level: lenient(Risk) = Risk.none
    supervised: bool = False
    urgent: bool = False
    parties: list[PartyIn] = Field(min_length=2, max_length=50)


class DisputeCreate(DisputeFields):
    """A dispute registered before a committee in reach."""

    committee_id: Id


class DisputeUpdate(Input):
    """Corrections and flags of an open dispute."""

    category: Category | None = None
    summary: Long | None = None
    claims: _text(5000) | None = None
    amount_involved_fen: Fen | None = None
    people_involved: Annotated[int, Field(ge=1, le=100000)] | None = None
    risk_level: lenient(Risk) | None = None
    supervised: bool | None = None
    urgent: bool | None = None


class NoticeIn(Input):
    """The rights notice given, and whether the party consents."""

    manner: lenient(NoticeManner)
    consented: bool = False
    objects_to_public: bool | None = None


class RevealIn(Input):
    """Fields to see in clear, and why (the read is audited)."""

    fields: list[Annotated[str, Field(pattern="^(name|id_no|phone|address)$")]] = Field(
        min_length=1, max_length=4
    )
    reason: _text(200, 2)


class NoteIn(Input):
    """A step that may carry a note."""

    note: Note | None = None


class NonAcceptance(Input):
    """Declining a dispute, with a coded reason."""

    reason: lenient(NotAcceptedReason)
    note: Note | None = None


class PickIn(Input):
    """A mediator for the case."""

    mediator_id: Id
    how: lenient(AssignmentHow) = AssignmentHow.designated
    conflict_declared: bool = False
    conflict_note: Note | None = None


class AssignmentIn(Input):
    """Mediators put on the case."""

    mediators: list[PickIn] = Field(min_length=1, max_length=5)


class AssignmentEnd(Input):
    """Taking a mediator off the case."""

    note: _text(500, 1)


class RefusalIn(Input):
    """A party's clear refusal."""

    party_id: Id
    note: Note | None = None


class ExtensionConsentIn(Input):
    """A party's consent to continue past the time limit."""

    party_id: Id
    consented_on: Day
    manner: lenient(NoticeManner)


class ExtensionIn(Input):
    """The new time limit."""

    until: Day
    note: Note | None = None


class FailureIn(Input):
    """Ending without agreement: the parties were told of the other routes."""

    other_routes_told: bool
    note: Note | None = None


class ClosureIn(Input):
    """Closing: for a defaulted dispute, suing or re-mediation."""

    told_may_sue: bool = False
    remediate: bool = False
    note: Note | None = None


class EscalationIn(Input):
    """A report of escalation risk to the police or the judicial office."""

    reported_to: lenient(ReportedTo)
    agency: Short
    note: Note | None = None


# -- records -------------------------------------------------------------------------------


class HearingIn(Input):
    """A mediation session's record."""

    held_at: Moment
    place: _text(200, 1)
    summary: Long
    attendee_party_ids: list[Id] = Field(default_factory=list, max_length=50)
    invited: _text(500) | None = None
    public: bool = False
    no_party_objects: bool = False
    no_secret_involved: bool = False
    simple_mode: bool = False
    signed_scan_id: Id | None = None


class InvestigationIn(Input):
    """An investigation record."""

    conducted_on: Day
    place: _text(200) | None = None
    findings: Long


class EvidenceIn(Input):
    """A piece of evidence."""

    description: _text(2000, 1)
    source: Short
    collected_on: Day
    investigation_id: Id | None = None
    attachment_id: Id | None = None


class UploadMeta(Input):
    """What an uploaded file is for (the multipart fields besides ``file``)."""

    purpose: lenient(AttachmentPurpose)
    description: _text(500) | None = None


# -- agreements ----------------------------------------------------------------------------


class TermIn(Input):
    """One obligation."""

    obligor_party_id: Id
    content: _text(2000, 1)
    obligee_party_id: Id | None = None
    amount_fen: Fen | None = None
    method: _text(100) | None = None
    place: _text(200) | None = None
    due_on: Day | None = None


class AgreementIn(Input):
    """A written agreement with its terms, or an oral one's register entry."""

    form: lenient(AgreementForm)
    facts: Long
    content: Long
    agreed_on: Day
    terms: list[TermIn] = Field(default_factory=list, max_length=30)


class SignatureIn(Input):
    """A party's signature, seal or fingerprint on the written agreement."""

    party_id: Id
    manner: lenient(SignatureManner) = SignatureManner.signature
    signed_on: Day


class TermEventIn(Input):
    """Performance of a term, or urging its obligor."""

    event: lenient(TermEvent)
    on: Day
    amount_fen: Fen | None = None
    proof_id: Id | None = None
    note: Note | None = None


class DefaultIn(Input):
    """The term that is overdue after urging."""

    term_id: Id
    note: Note | None = None


class FollowUpIn(Input):
    """A follow-up visit."""

    visited_on: Day
    performance_ok: bool
    satisfaction: lenient(Satisfaction)
    court_outcome: _text(200) | None = None
    new_risk: bool = False
    note: _text(2000) | None = None


class ConfirmationIn(Input):
    """The parties' joint application for 司法确认."""

    applied_on: Day
    court: Short


class RulingIn(Input):
    """The court's ruling."""

    result: lenient(ConfirmationResult)
    ruled_on: Day
    court_case_no: _text(60) | None = None


class CaseFileItemIn(Input):
    """A document of the case file."""

    document: Category
    present: bool = True
    pages: Annotated[int, Field(ge=1, le=10000)] | None = None
    attachment_id: Id | None = None


class DocumentIn(Input):
    """A document to print: the agreement, or a party's rights notice; the reason is audited."""

    kind: Annotated[str, Field(pattern="^(agreement|rights_notice)$")]
    party_id: Id | None = None
    reason: _text(200, 2)


# -- leads and settings --------------------------------------------------------------------


class LeadIn(Input):
    """A lead from screening."""

    place: _text(200, 1)
    description: _text(2000, 1)
    risk_level: lenient(Risk) = Risk.none
    people_involved: Annotated[int, Field(ge=1, le=100000)] | None = None


class ZeroReportIn(Input):
    """Nothing found in screening over a period."""

    period_start: Day
    period_end: Day


class LeadConversion(DisputeFields):
    """Registering a lead as a dispute before a committee."""

    committee_id: Id
    source: lenient(Source) = Source.screening


class Dismissal(Input):
    """Dismissing a lead."""

    note: _text(500, 1)


class SettingIn(Input):
    """Local values from a day on (the keys of the configuration; see ``settings.py``)."""

    valid_from: Day
    values: dict = Field(min_length=1)
    note: Note | None = None
