"""What the API shows of a dispute, by who is asking.

Someone who may not see a case's details (:func:`plugins.mediation.access.sees_details`)
gets a :class:`DisputeSummary` — case number, category, status, unit — and nothing else.
Those who may get the :class:`DisputeDetail`: parties with their identity numbers, phones
and addresses masked (a minor's name cut to the surname unless the caller may reveal), the
case's records, agreement and history. Clear identity values come only from the audited
reveal.
"""

from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from core.accounts.models import User
from core.accounts.principal import Principal
from core.contributions import Label
from core.files.models import StoredFile
from core.i18n import current_locale
from core.security.masking import mask
from core.units.models import Unit
from plugins.mediation import agreements, clock, workflow
from plugins.mediation.access import sees_details
from plugins.mediation.casefile import checklist
from plugins.mediation.committees import mediator_names
from plugins.mediation.models import (
    Assignment,
    Attachment,
    Committee,
    Confirmation,
    Dispute,
    DisputeStep,
    Escalation,
    Evidence,
    Extension,
    FollowUp,
    Hearing,
    Investigation,
    Party,
    Performance,
)
from plugins.mediation.parties import parties_of
from plugins.mediation.permissions import PARTY_REVEAL
from plugins.mediation.settings import Config, config_at
from plugins.mediation.vocab import STATUS_LABELS, Status

MEDIATING = (Status.accepted, Status.in_mediation)


def say(label: Label) -> str:
    """A label in the request's language."""
    return label(current_locale.get())


class DisputeSummary(BaseModel):
    """What anyone allowed to read disputes may know of one: never its parties."""

    id: int
    case_no: str
    category: str
    category_label: str
    status: str
    status_label: str
    unit_id: int
    unit_name: str
    restricted: bool = True


class PartyRead(BaseModel):
    """A party as the case's handlers see it: identity masked."""

    id: int
    role: str
    represents_id: int | None
    name: str
    gender: str | None
    ethnicity: str | None
    id_no: str | None
    phone: str | None
    address: str | None
    is_minor: bool
    objects_to_public: bool
    informed_at: datetime | None
    informed_manner: str | None
    consented_at: datetime | None
    refused_at: datetime | None


class AssignmentRead(BaseModel):
    """A mediator on the case."""

    id: int
    mediator_id: int
    name: str
    how: str
    conflict_declared: bool
    assigned_at: datetime
    ended_at: datetime | None


class HearingRead(BaseModel):
    """A session record."""

    id: int
    held_at: datetime
    place: str
    mediator_ids: list[int]
    attendee_party_ids: list[int]
    invited: str | None
    public: bool
    simple_mode: bool
    summary: str
    signed_scan_id: int | None


class InvestigationRead(BaseModel):
    """An investigation record."""

    id: int
    conducted_on: date
    place: str | None
    findings: str


class EvidenceRead(BaseModel):
    """A piece of evidence."""

    id: int
    investigation_id: int | None
    attachment_id: int | None
    description: str
    source: str
    collected_on: date


class AttachmentRead(BaseModel):
    """An uploaded file of the case (download it by id)."""

    id: int
    purpose: str
    name: str
    media_type: str
    size: int
    description: str | None
    uploaded_at: datetime


class TermRead(BaseModel):
    """One obligation of the agreement and its performance."""

    id: int
    position: int
    obligor_party_id: int
    obligee_party_id: int | None
    content: str
    amount_fen: int | None
    method: str | None
    place: str | None
    due_on: date | None
    status: str
    performed_on: date | None
    urged_on: date | None


class AgreementRead(BaseModel):
    """The agreement, its terms and what it still lacks to take effect."""

    id: int
    form: str
    facts: str
    content: str
    agreed_on: date
    signed_party_ids: list[int]
    mediator_signed_at: datetime | None
    sealed_at: datetime | None
    effective_at: datetime | None
    missing_for_effect: list[str]
    confirmation_deadline: date | None
    terms: list[TermRead]


class PerformanceRead(BaseModel):
    """Something recorded against a term."""

    id: int
    term_id: int
    event: str
    on: date
    amount_fen: int | None
    proof_id: int | None
    note: str | None


class FollowUpRead(BaseModel):
    """A follow-up visit."""

    id: int
    visited_on: date
    performance_ok: bool
    satisfaction: str
    court_outcome: str | None
    new_risk: bool
    note: str | None


class ConfirmationRead(BaseModel):
    """The judicial confirmation."""

    id: int
    applied_on: date
    court: str
    court_case_no: str | None
    result: str
    ruled_on: date | None


class EscalationRead(BaseModel):
    """A report of escalation risk."""

    id: int
    risk_level: str
    reported_to: str
    agency: str
    reported_at: datetime
    note: str | None


class ExtensionRead(BaseModel):
    """A moved time limit."""

    id: int
    previous_deadline: date | None
    until: date
    note: str | None
    at: datetime


class StepRead(BaseModel):
    """One transition in the dispute's history."""

    transition: str
    from_status: str
    to_status: str
    by: str | None
    reason_code: str | None
    note: str | None
    at: datetime


class CaseFileRow(BaseModel):
    """A document of the case file checklist."""

    document: str
    name: str
    required: bool
    present: bool
    pages: int | None
    attachment_id: int | None


class DisputeDetail(DisputeSummary):
    """The whole case, for its handlers."""

    restricted: bool = False
    committee_id: int
    committee_name: str
    source: str
    summary: str
    claims: str | None
    amount_involved_fen: int | None
    people_involved: int
    risk_level: str
    outcome: str | None
    not_accepted_reason: str | None
    registered_at: datetime
    accepted_at: datetime | None
    due_on: date | None
    extended_until: date | None
    deadline: date | None
    overdue: bool
    effective_at: datetime | None
    followup_due_on: date | None
    closed_at: datetime | None
    archived_at: datetime | None
    retention_class: str | None
    supervised: bool
    urgent: bool
    escalation_reported_at: datetime | None
    reopened_from_id: int | None
    lead_id: int | None
    allowed: list[str]
    parties: list[PartyRead]
    mediators: list[AssignmentRead]
    sessions: list[HearingRead]
    investigations: list[InvestigationRead]
    evidence: list[EvidenceRead]
    attachments: list[AttachmentRead]
    agreement: AgreementRead | None
    performance: list[PerformanceRead]
    follow_ups: list[FollowUpRead]
    confirmation: ConfirmationRead | None
    escalations: list[EscalationRead]
    extensions: list[ExtensionRead]
    case_file: list[CaseFileRow]
    history: list[StepRead]


def is_overdue(dispute: Dispute, today: date | None = None) -> bool:
    """Still being mediated past its time limit."""
    deadline = dispute.deadline
    return (
        dispute.status in MEDIATING and deadline is not None and deadline < (today or clock.today())
    )


def summary(dispute: Dispute, unit_name: str, config: Config) -> DisputeSummary:
    """The restricted view."""
    return DisputeSummary(
        id=dispute.id,
        case_no=dispute.case_no,
        category=dispute.category,
        category_label=say(config.category_label(dispute.category)),
        status=str(dispute.status),
        status_label=say(STATUS_LABELS[dispute.status]),
        unit_id=dispute.unit_id,
        unit_name=unit_name,
    )


def party_read(party: Party, reveals: bool) -> PartyRead:
    """A party with identity masked; a minor's name to the surname unless ``reveals``."""
    name = party.name
    if party.is_minor and not reveals:
        name = name[0] + "*" * (len(name) - 1) if name else name
    return PartyRead(
        id=party.id,
        role=str(party.role),
        represents_id=party.represents_id,
        name=name,
        gender=party.gender,
        ethnicity=party.ethnicity,
        id_no=mask("id_number", party.id_no),
        phone=mask("phone", party.phone),
        address=mask("address", party.address),
        is_minor=party.is_minor,
        objects_to_public=party.objects_to_public,
        informed_at=party.informed_at,
        informed_manner=party.informed_manner,
        consented_at=party.consented_at,
        refused_at=party.refused_at,
    )


def _rows(session: Session, model, dispute: Dispute, order) -> list:
    return list(
        session.exec(select(model).where(model.dispute_id == dispute.id).order_by(order)).all()
    )


def detail(session: Session, principal: Principal, dispute: Dispute) -> DisputeDetail:
    """The full view (call only for a caller who :func:`sees_details`)."""
    config = config_at(session, dispute.unit_path, clock.today())
    unit = session.get(Unit, dispute.unit_id)
    committee = session.get(Committee, dispute.committee_id)
    reveals = principal.can(PARTY_REVEAL, dispute.unit_path)
    assignments = _rows(session, Assignment, dispute, Assignment.id)
    names = mediator_names(session, [a.mediator_id for a in assignments])
    agreement = agreements.agreement_of(session, dispute)
    attachments = _rows(session, Attachment, dispute, Attachment.id)
    files = {
        f.id: f
        for f in session.exec(
            select(StoredFile).where(col(StoredFile.id).in_([a.file_id for a in attachments]))
        ).all()
    }
    steps = _rows(session, DisputeStep, dispute, DisputeStep.id)
    users = dict(
        session.exec(
            select(User.id, User.display_name).where(
                col(User.id).in_([s.by_user_id for s in steps if s.by_user_id])
            )
        ).all()
    )
    confirmation = session.exec(
        select(Confirmation).where(Confirmation.dispute_id == dispute.id)
    ).first()
    return DisputeDetail(
        **summary(dispute, unit.name, config).model_dump(exclude={"restricted"}),
        committee_id=committee.id,
        committee_name=committee.name,
        source=str(dispute.source),
        summary=dispute.summary,
        claims=dispute.claims,
        amount_involved_fen=dispute.amount_involved_fen,
        people_involved=dispute.people_involved,
        risk_level=str(dispute.risk_level),
        outcome=dispute.outcome,
        not_accepted_reason=dispute.not_accepted_reason,
        registered_at=dispute.registered_at,
        accepted_at=dispute.accepted_at,
        due_on=dispute.due_on,
        extended_until=dispute.extended_until,
        deadline=dispute.deadline,
        overdue=is_overdue(dispute),
        effective_at=dispute.effective_at,
        followup_due_on=dispute.followup_due_on,
        closed_at=dispute.closed_at,
        archived_at=dispute.archived_at,
        retention_class=dispute.retention_class,
        supervised=dispute.supervised,
        urgent=dispute.urgent,
        escalation_reported_at=dispute.escalation_reported_at,
        reopened_from_id=dispute.reopened_from_id,
        lead_id=dispute.lead_id,
        allowed=workflow.allowed(session, principal, dispute),
        parties=[party_read(p, reveals) for p in parties_of(session, dispute)],
        mediators=[
            AssignmentRead(
                id=a.id,
                mediator_id=a.mediator_id,
                name=names.get(a.mediator_id, ""),
                how=str(a.how),
                conflict_declared=a.conflict_declared,
                assigned_at=a.assigned_at,
                ended_at=a.ended_at,
            )
            for a in assignments
        ],
        sessions=[
            HearingRead.model_validate(h, from_attributes=True)
            for h in _rows(session, Hearing, dispute, Hearing.held_at)
        ],
        investigations=[
            InvestigationRead.model_validate(i, from_attributes=True)
            for i in _rows(session, Investigation, dispute, Investigation.id)
        ],
        evidence=[
            EvidenceRead.model_validate(e, from_attributes=True)
            for e in _rows(session, Evidence, dispute, Evidence.id)
        ],
        attachments=[
            AttachmentRead(
                id=a.id,
                purpose=str(a.purpose),
                name=files[a.file_id].name,
                media_type=files[a.file_id].media_type,
                size=files[a.file_id].size,
                description=a.description,
                uploaded_at=a.uploaded_at,
            )
            for a in attachments
        ],
        agreement=agreement_read(session, dispute, agreement) if agreement else None,
        performance=[
            PerformanceRead.model_validate(p, from_attributes=True)
            for p in _rows(session, Performance, dispute, Performance.id)
        ],
        follow_ups=[
            FollowUpRead.model_validate(f, from_attributes=True)
            for f in _rows(session, FollowUp, dispute, FollowUp.id)
        ],
        confirmation=(
            ConfirmationRead.model_validate(confirmation, from_attributes=True)
            if confirmation
            else None
        ),
        escalations=[
            EscalationRead.model_validate(e, from_attributes=True)
            for e in _rows(session, Escalation, dispute, Escalation.id)
        ],
        extensions=[
            ExtensionRead.model_validate(e, from_attributes=True)
            for e in _rows(session, Extension, dispute, Extension.id)
        ],
        case_file=[
            CaseFileRow(
                document=row.document.code,
                name=say(row.document.label),
                required=row.required,
                present=row.present,
                pages=row.item.pages if row.item else None,
                attachment_id=row.item.attachment_id if row.item else None,
            )
            for row in checklist(session, dispute, config)
        ],
        history=[
            StepRead(
                transition=s.transition,
                from_status=s.from_status,
                to_status=s.to_status,
                by=users.get(s.by_user_id) if s.by_user_id else None,
                reason_code=s.reason_code,
                note=s.note,
                at=s.at,
            )
            for s in steps
        ],
    )


def agreement_read(session: Session, dispute: Dispute, agreement) -> AgreementRead:
    """The agreement with its terms and signatures."""
    return AgreementRead(
        id=agreement.id,
        form=str(agreement.form),
        facts=agreement.facts,
        content=agreement.content,
        agreed_on=agreement.agreed_on,
        signed_party_ids=sorted(s.party_id for s in agreements.signatures_of(session, agreement)),
        mediator_signed_at=agreement.mediator_signed_at,
        sealed_at=agreement.sealed_at,
        effective_at=agreement.effective_at,
        missing_for_effect=agreements.missing_for_effect(session, dispute, agreement),
        confirmation_deadline=(
            agreements.confirmation_deadline(session, dispute, agreement)
            if agreement.effective_at
            else None
        ),
        terms=[
            TermRead.model_validate(t, from_attributes=True)
            for t in agreements.terms_of(session, agreement)
        ],
    )


def view(session: Session, principal: Principal, dispute: Dispute):
    """The detail for a caller who sees it, else the summary."""
    if sees_details(session, principal, dispute):
        return detail(session, principal, dispute)
    config = config_at(session, dispute.unit_path, clock.today())
    return summary(dispute, session.get(Unit, dispute.unit_id).name, config)
