"""The plugin's tables, created by its own migration branch (``mediation``).

Every table carries ``unit_path`` (the committee's unit's materialised path), so scoping is
one index range, a unit move re-paths the records, and each audit entry lies in the right
reach. Party identities and the narratives of a case (summaries, records, agreements) are
``Encrypted`` at rest; amounts are integers in fen. The statute makes mediation free
(人民调解法 Art. 4): no table has a fee.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.security.fields import Encrypted
from core.units.models import PATH_TYPE, utcnow
from plugins.mediation.vocab import (
    AgreementForm,
    Appointment,
    AssignmentHow,
    AttachmentPurpose,
    CommitteeKind,
    ConfirmationResult,
    Grade,
    LeadKind,
    LeadStatus,
    MediatorStatus,
    MemberRole,
    NotAcceptedReason,
    NoticeManner,
    Outcome,
    PartyRole,
    RemovalReason,
    ReportedTo,
    Risk,
    Satisfaction,
    SignatureManner,
    Source,
    Status,
    TermEvent,
    TermStatus,
)

STR16 = sa.String(16)
STR24 = sa.String(24)


def _path() -> object:
    return Field(sa_type=PATH_TYPE, index=True)


# -- configuration -------------------------------------------------------------------------


class MediationSetting(SQLModel, table=True):
    """Local configuration of a unit's subtree from ``valid_from`` on.

    ``values`` holds only the keys this row changes; the effective configuration on a day
    merges, key by key, the newest row in force at the nearest unit (see ``settings.py``).
    """

    __tablename__ = "mediation_setting"
    __table_args__ = (sa.UniqueConstraint("unit_id", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = _path()
    valid_from: date
    values: dict = Field(default_factory=dict, sa_type=sa.JSON)
    note: str | None = Field(default=None, max_length=500)
    set_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# -- committees and mediators ----------------------------------------------------------------


class Committee(SQLModel, table=True):
    """A people's mediation committee (调委会) formed at a unit.

    ``abbreviation`` is the X of its case numbers ``（年）X人调字第N号``.
    """

    __tablename__ = "mediation_committee"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = _path()
    kind: CommitteeKind = Field(sa_type=STR16)
    name: str = Field(max_length=100)
    abbreviation: str = Field(max_length=20, unique=True)
    established_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CommitteeMember(SQLModel, table=True):
    """A member of a committee; ``until`` set means a former member."""

    __tablename__ = "mediation_committee_member"

    id: int | None = Field(default=None, primary_key=True)
    committee_id: int = Field(foreign_key="mediation_committee.id", index=True)
    unit_path: str = _path()
    person_id: int = Field(foreign_key="person.id", index=True)
    role: MemberRole = Field(default=MemberRole.member, sa_type=STR16)
    gender: str = Field(sa_type=sa.String(8))
    ethnicity: str = Field(default="汉族", max_length=20)
    since: date
    until: date | None = None


class Mediator(SQLModel, table=True):
    """A people's mediator (人民调解员) serving a committee: a core person with a term.

    Their account is the ``user_account`` whose ``person_id`` is theirs.
    """

    __tablename__ = "mediation_mediator"
    __table_args__ = (sa.UniqueConstraint("committee_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    committee_id: int = Field(foreign_key="mediation_committee.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = _path()
    appointment: Appointment = Field(sa_type=STR16)
    appointed_on: date
    term_end: date | None = None
    grade: Grade = Field(default=Grade.third, sa_type=STR16)
    full_time: bool = False
    pre_service_training_on: date | None = None
    status: MediatorStatus = Field(default=MediatorStatus.active, sa_type=STR16)
    removal_reason: RemovalReason | None = Field(default=None, sa_type=STR16)
    status_note: str | None = Field(default=None, max_length=500)
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# -- disputes ------------------------------------------------------------------------------


class Dispute(SQLModel, table=True):
    """A dispute (纠纷/案件) before a committee, and where it stands.

    ``case_no`` is issued at registration from the committee's yearly series and never
    reused. ``due_on`` is one (configured) period after acceptance; ``extended_until``
    replaces it when both parties consented to continue. ``escalation_reported_at`` is the
    flag of Art. 25: a red-risk dispute moves no further until it is set.
    """

    __tablename__ = "mediation_dispute"
    __table_args__ = (sa.Index("ix_mediation_dispute_path_status", "unit_path", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    committee_id: int = Field(foreign_key="mediation_committee.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = _path()
    case_no: str = Field(max_length=60, unique=True)
    year: int
    sequence: int
    source: Source = Field(sa_type=STR16)
    category: str = Field(max_length=32)
    summary: str = Field(sa_type=Encrypted())
    claims: str | None = Field(default=None, sa_type=Encrypted())
    amount_involved_fen: int | None = Field(default=None, ge=0, sa_type=sa.BigInteger)
    people_involved: int = Field(default=2, ge=1)
    risk_level: Risk = Field(default=Risk.none, sa_type=STR16)
    risk_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: Status = Field(default=Status.registered, sa_type=STR24)
    outcome: Outcome | None = Field(default=None, sa_type=STR24)
    not_accepted_reason: NotAcceptedReason | None = Field(default=None, sa_type=STR24)
    registered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    registered_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_on: date | None = None
    extended_until: date | None = None
    other_routes_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    effective_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    followup_due_on: date | None = None
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retention_class: str | None = Field(default=None, max_length=16)
    supervised: bool = False
    urgent: bool = False
    escalation_reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopened_from_id: int | None = Field(default=None, foreign_key="mediation_dispute.id")
    lead_id: int | None = Field(default=None, foreign_key="mediation_lead.id")

    @property
    def deadline(self) -> date | None:
        """The day by which mediation should end: the extension if any, else ``due_on``."""
        return self.extended_until or self.due_on


class DisputeStep(SQLModel, table=True):
    """One transition of a dispute: which, from and to what, by whom, with what reason."""

    __tablename__ = "mediation_dispute_step"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    transition: str = Field(max_length=32)
    from_status: str = Field(max_length=24)
    to_status: str = Field(max_length=24)
    by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    reason_code: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Party(SQLModel, table=True):
    """A party to a dispute, or an agent acting for one (``represents_id``).

    Identity fields are encrypted and declared sensitive; ``informed_at`` records the
    rights-and-duties notice (告知书), ``consented_at`` the consent to mediate, and
    ``refused_at`` a clear refusal, which ends the mediation (Art. 17, 23).
    """

    __tablename__ = "mediation_party"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    role: PartyRole = Field(sa_type=STR16)
    represents_id: int | None = Field(default=None, foreign_key="mediation_party.id")
    name: str = Field(sa_type=Encrypted())
    gender: str | None = Field(default=None, sa_type=sa.String(8))
    ethnicity: str | None = Field(default=None, max_length=20)
    id_no: str | None = Field(default=None, sa_type=Encrypted())
    phone: str | None = Field(default=None, sa_type=Encrypted())
    address: str | None = Field(default=None, sa_type=Encrypted())
    is_minor: bool = False
    person_id: int | None = Field(default=None, foreign_key="person.id")
    objects_to_public: bool = False
    informed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    informed_manner: NoticeManner | None = Field(default=None, sa_type=STR16)
    consented_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    refused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    refusal_note: str | None = Field(default=None, max_length=500)


class Assignment(SQLModel, table=True):
    """A mediator on a dispute: designated by the committee or chosen by the parties."""

    __tablename__ = "mediation_assignment"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    mediator_id: int = Field(foreign_key="mediation_mediator.id", index=True)
    unit_path: str = _path()
    how: AssignmentHow = Field(sa_type=STR16)
    conflict_declared: bool = False
    conflict_note: str | None = Field(default=None, max_length=500)
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    assigned_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExtensionConsent(SQLModel, table=True):
    """A party's consent to continue mediating past the time limit (local text Art. 36)."""

    __tablename__ = "mediation_extension_consent"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    party_id: int = Field(foreign_key="mediation_party.id")
    unit_path: str = _path()
    consented_on: date
    manner: NoticeManner = Field(sa_type=STR16)
    used_by_extension_id: int | None = Field(default=None, foreign_key="mediation_extension.id")
    recorded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Extension(SQLModel, table=True):
    """The time limit moved to ``until``, approved by the director on recorded consents."""

    __tablename__ = "mediation_extension"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    previous_deadline: date | None = None
    until: date
    note: str | None = Field(default=None, max_length=500)
    approved_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# -- records of the mediation ---------------------------------------------------------------


class Attachment(SQLModel, table=True):
    """An uploaded file of a dispute (evidence, a signed record, a receipt …)."""

    __tablename__ = "mediation_attachment"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    file_id: int = Field(foreign_key="stored_file.id")
    purpose: AttachmentPurpose = Field(sa_type=sa.String(24))
    description: str | None = Field(default=None, sa_type=Encrypted())
    uploaded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Hearing(SQLModel, table=True):
    """A mediation session and its record (调解记录 / 笔录); private unless made public.

    A session may be public only when no party objects and no privacy or trade secret is
    involved (2002 rules Art. 29): both confirmations are stored with the flag.
    """

    __tablename__ = "mediation_session"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    held_at: datetime = Field(sa_type=UTCDateTime)
    place: str = Field(max_length=200)
    mediator_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    attendee_party_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    invited: str | None = Field(default=None, sa_type=Encrypted())
    public: bool = False
    no_party_objects: bool = False
    no_secret_involved: bool = False
    simple_mode: bool = False
    summary: str = Field(sa_type=Encrypted())
    signed_scan_id: int | None = Field(default=None, foreign_key="mediation_attachment.id")
    recorded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Investigation(SQLModel, table=True):
    """An investigation (调查记录): who was asked what, and what was found."""

    __tablename__ = "mediation_investigation"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    conducted_on: date
    place: str | None = Field(default=None, max_length=200)
    findings: str = Field(sa_type=Encrypted())
    recorded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Evidence(SQLModel, table=True):
    """A piece of evidence (证据材料), with its source and, usually, an attachment."""

    __tablename__ = "mediation_evidence"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    investigation_id: int | None = Field(default=None, foreign_key="mediation_investigation.id")
    attachment_id: int | None = Field(default=None, foreign_key="mediation_attachment.id")
    description: str = Field(sa_type=Encrypted())
    source: str = Field(max_length=100)
    collected_on: date
    collected_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")


# -- agreements and what follows ---------------------------------------------------------------


class Agreement(SQLModel, table=True):
    """The agreement of a dispute: a written 调解协议书 or an oral register entry.

    A written agreement takes effect (``effective_at``) only when every party has signed,
    sealed or fingerprinted it, the mediator has signed and the committee's seal is recorded;
    an oral one on the day of agreement, once its content is entered in the register.
    """

    __tablename__ = "mediation_agreement"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", unique=True)
    unit_path: str = _path()
    form: AgreementForm = Field(sa_type=STR16)
    facts: str = Field(sa_type=Encrypted())
    content: str = Field(sa_type=Encrypted())
    agreed_on: date
    mediator_signed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    mediator_signed_by_id: int | None = Field(default=None, foreign_key="mediation_mediator.id")
    sealed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    effective_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    copies_issued: int = 0
    created_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AgreementTerm(SQLModel, table=True):
    """One obligation of an agreement: who does what for whom, how, where and by when."""

    __tablename__ = "mediation_agreement_term"

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="mediation_agreement.id", index=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    position: int = 1
    obligor_party_id: int = Field(foreign_key="mediation_party.id")
    obligee_party_id: int | None = Field(default=None, foreign_key="mediation_party.id")
    content: str = Field(sa_type=Encrypted())
    amount_fen: int | None = Field(default=None, ge=0, sa_type=sa.BigInteger)
    method: str | None = Field(default=None, max_length=100)
    place: str | None = Field(default=None, max_length=200)
    due_on: date | None = None
    status: TermStatus = Field(default=TermStatus.pending, sa_type=STR16)
    performed_on: date | None = None
    urged_on: date | None = None


class Signature(SQLModel, table=True):
    """A party's execution of the written agreement."""

    __tablename__ = "mediation_signature"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "party_id"),)

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="mediation_agreement.id", index=True)
    party_id: int = Field(foreign_key="mediation_party.id")
    unit_path: str = _path()
    manner: SignatureManner = Field(sa_type=STR16)
    signed_on: date
    recorded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")


class Performance(SQLModel, table=True):
    """Something recorded against a term: performed (with proof) or urged (督促)."""

    __tablename__ = "mediation_performance"

    id: int | None = Field(default=None, primary_key=True)
    term_id: int = Field(foreign_key="mediation_agreement_term.id", index=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    event: TermEvent = Field(sa_type=STR16)
    on: date
    amount_fen: int | None = Field(default=None, ge=0, sa_type=sa.BigInteger)
    proof_id: int | None = Field(default=None, foreign_key="mediation_attachment.id")
    note: str | None = Field(default=None, max_length=500)
    recorded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FollowUp(SQLModel, table=True):
    """A follow-up visit (回访): performance, satisfaction, any court outcome, new risk."""

    __tablename__ = "mediation_follow_up"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    visited_on: date
    by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    performance_ok: bool
    satisfaction: Satisfaction = Field(sa_type=STR16)
    court_outcome: str | None = Field(default=None, max_length=200)
    new_risk: bool = False
    note: str | None = Field(default=None, sa_type=Encrypted())


class Confirmation(SQLModel, table=True):
    """司法确认: the parties' joint application to a court and its ruling."""

    __tablename__ = "mediation_confirmation"

    id: int | None = Field(default=None, primary_key=True)
    agreement_id: int = Field(foreign_key="mediation_agreement.id", unique=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    applied_on: date
    court: str = Field(max_length=100)
    court_case_no: str | None = Field(default=None, max_length=60)
    result: ConfirmationResult = Field(default=ConfirmationResult.applied, sa_type=STR16)
    ruled_on: date | None = None
    recorded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")


class Escalation(SQLModel, table=True):
    """A report of a dispute that may turn into a public-order or criminal case (Art. 25)."""

    __tablename__ = "mediation_escalation"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    risk_level: Risk = Field(sa_type=STR16)
    reported_to: ReportedTo = Field(sa_type=STR16)
    agency: str = Field(max_length=100)
    reported_at: datetime = Field(sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=500)
    by_user_id: int | None = Field(default=None, foreign_key="user_account.id")


class CaseFileItem(SQLModel, table=True):
    """One document of a dispute's case file (卷宗) checklist: present, and on how many pages."""

    __tablename__ = "mediation_case_file_item"
    __table_args__ = (sa.UniqueConstraint("dispute_id", "document"),)

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="mediation_dispute.id", index=True)
    unit_path: str = _path()
    document: str = Field(max_length=32)
    present: bool = True
    pages: int | None = Field(default=None, ge=1)
    attachment_id: int | None = Field(default=None, foreign_key="mediation_attachment.id")
    recorded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# -- screening -------------------------------------------------------------------------------


class Lead(SQLModel, table=True):
    """A dispute found in screening (排查线索), or a zero report (零上报) for a period.

    Leads come from information collectors (``reporter_user_id``) or from core's
    dispute-screening reports (``report_id``, one lead per report).
    """

    __tablename__ = "mediation_lead"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = _path()
    kind: LeadKind = Field(sa_type=STR16)
    reporter_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    report_id: int | None = Field(default=None, unique=True)
    place: str | None = Field(default=None, sa_type=Encrypted())
    description: str | None = Field(default=None, sa_type=Encrypted())
    risk_level: Risk = Field(default=Risk.none, sa_type=STR16)
    people_involved: int | None = Field(default=None, ge=1)
    period_start: date | None = None
    period_end: date | None = None
    status: LeadStatus = Field(default=LeadStatus.new, sa_type=STR16)
    dismissal_note: str | None = Field(default=None, max_length=500)
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# -- jobs' own records ----------------------------------------------------------------------


class Snapshot(SQLModel, table=True):
    """Monthly statistics of a committee, frozen on the first of the next month.

    One row per committee and month: re-running the job replaces the figures, never adds a
    row. Figures are counts only: no party appears in them.
    """

    __tablename__ = "mediation_snapshot"
    __table_args__ = (sa.UniqueConstraint("committee_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    committee_id: int = Field(foreign_key="mediation_committee.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = _path()
    period: str = Field(max_length=7)  # YYYY-MM
    figures: dict = Field(default_factory=dict, sa_type=sa.JSON)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


MODELS = [
    MediationSetting,
    Committee,
    CommitteeMember,
    Mediator,
    Lead,
    Dispute,
    DisputeStep,
    Party,
    Assignment,
    Extension,
    ExtensionConsent,
    Attachment,
    Hearing,
    Investigation,
    Evidence,
    Agreement,
    AgreementTerm,
    Signature,
    Performance,
    FollowUp,
    Confirmation,
    Escalation,
    CaseFileItem,
    Snapshot,
]
