"""A dispute from registration to the end of mediation: the steps before any agreement.

Registration gives the case number; the director accepts it (or not, with a coded reason)
and assigns mediators, who are gated on their training; a party's refusal ends the
mediation; the time limit moves only on both parties' recorded consent; failure records
that the parties were told of the other routes (arbitration, administration, courts).
Every step goes through :mod:`plugins.mediation.workflow`, which checks status and role.
"""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from core.accounts.principal import Principal
from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.jobs.outbox import enqueue
from core.numbering import next_number
from plugins.mediation import clock, gate
from plugins.mediation.models import (
    Assignment,
    Committee,
    Dispute,
    Escalation,
    Extension,
    ExtensionConsent,
    FollowUp,
    Lead,
    Mediator,
    Party,
)
from plugins.mediation.parties import (
    PartyInput,
    add_party,
    check_ready_to_accept,
    parties_of,
    principal_parties,
)
from plugins.mediation.settings import config_at
from plugins.mediation.vocab import (
    OPEN_STATUSES,
    PRINCIPAL_ROLES,
    AssignmentHow,
    LeadStatus,
    MediatorStatus,
    NotAcceptedReason,
    NoticeManner,
    Outcome,
    PartyRole,
    ReportedTo,
    Risk,
    Source,
    Status,
)
from plugins.mediation.workflow import (
    CASE_HANDLERS,
    DIRECTOR,
    authorise,
    move,
    require,
    require_intake,
)

CASE_SERIES = "mediation.case"
RISK_JOB = "mediation.risk_escalation"


def refused(field: str, rule: str, zh: str, en: str, status: int = 400) -> DomainError:
    """A refusal naming one field and rule."""
    message = text(zh, en)
    return DomainError(
        message, rule if status == 409 else "invalid", status, [FieldError(field, rule, message)]
    )


def case_number(session: Session, committee: Committee, year: int) -> tuple[str, int]:
    """The next ``（年）X人调字第N号`` of the committee's yearly series, never reused."""
    sequence = next_number(session, CASE_SERIES, f"committee:{committee.id}", year)
    return f"（{year}）{committee.abbreviation}人调字第{sequence}号", sequence


# -- registration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """What the intake form (受理登记表) records."""

    source: Source
    category: str
    summary: str
    parties: list[PartyInput]
    claims: str | None = None
    amount_involved_fen: int | None = None
    people_involved: int = 2
    risk_level: Risk = Risk.none
    supervised: bool = False
    urgent: bool = False


def _check_registration(session: Session, committee: Committee, data: Registration) -> None:
    config = config_at(session, committee.unit_path, clock.today())
    if config.category(data.category) is None:
        raise refused(
            "category",
            "unknown",
            f"纠纷类别「{data.category}」不在本地类别目录中",
            f"{data.category!r} is not one of the configured dispute categories",
        )
    roles = [party.role for party in data.parties]
    if PartyRole.agent in roles:
        raise refused(
            "parties",
            "agent",
            "委托代理人在登记后添加，并注明所代理的当事人",
            "Add agents after registration, naming whom they act for",
        )
    if PartyRole.applicant not in roles or PartyRole.respondent not in roles:
        raise refused(
            "parties",
            "sides",
            "至少登记一名申请人和一名被申请人",
            "Register at least one applicant and one respondent",
        )


def register(
    session: Session,
    principal: Principal | None,
    committee: Committee,
    data: Registration,
    *,
    lead: Lead | None = None,
    reopened_from: Dispute | None = None,
) -> Dispute:
    """Register a dispute before ``committee``: number it, store its parties, record the step."""
    _check_registration(session, committee, data)
    year = clock.today().year
    case_no, sequence = case_number(session, committee, year)
    dispute = Dispute(
        committee_id=committee.id,
        unit_id=committee.unit_id,
        unit_path=committee.unit_path,
        case_no=case_no,
        year=year,
        sequence=sequence,
        source=data.source,
        category=data.category,
        summary=data.summary,
        claims=data.claims,
        amount_involved_fen=data.amount_involved_fen,
        people_involved=data.people_involved,
        risk_level=data.risk_level,
        risk_changed_at=clock.now(),
        supervised=data.supervised,
        urgent=data.urgent,
        registered_at=clock.now(),
        registered_by_user_id=principal.user_id if principal else None,
        lead_id=lead.id if lead else None,
        reopened_from_id=reopened_from.id if reopened_from else None,
    )
    session.add(dispute)
    session.flush()
    for index, party in enumerate(data.parties):
        try:
            add_party(session, dispute, party)
        except DomainError as error:
            for item in error.errors:
                item.field = item.field.replace("party", f"parties.{index}", 1)
            raise
    if lead is not None:
        lead.status = LeadStatus.converted
        session.add(lead)
    move(session, dispute, "register", by_user_id=principal.user_id if principal else None)
    if dispute.risk_level in (Risk.red, Risk.orange):
        enqueue(session, RISK_JOB, unit_id=dispute.unit_id, dispute_id=dispute.id)
    return dispute


# -- acceptance ------------------------------------------------------------------------------


def accept(session: Session, principal: Principal, dispute: Dispute, note: str | None) -> Dispute:
    """Accept the dispute: the parties were informed and the applicant consents.

    The time limit (the configured months from today) starts.
    """
    authorise(session, principal, dispute, "accept")
    check_ready_to_accept(session, dispute)
    config = config_at(session, dispute.unit_path, clock.today())
    dispute.accepted_at = clock.now()
    dispute.due_on = clock.add_months(clock.today(), config.deadline_months)
    move(session, dispute, "accept", by_user_id=principal.user_id, note=note)
    return dispute


def not_accept(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    reason: NotAcceptedReason,
    note: str | None,
) -> Dispute:
    """Decline the dispute, with a coded reason (and a note for ``other``)."""
    authorise(session, principal, dispute, "not_accept")
    if reason == NotAcceptedReason.other and not note:
        raise refused("note", "missing", "理由为「其他」时须说明", "Explain the other reason")
    dispute.not_accepted_reason = reason
    dispute.outcome = Outcome.not_accepted
    move(
        session, dispute, "not_accept", by_user_id=principal.user_id, reason_code=reason, note=note
    )
    return dispute


# -- mediators on the case -------------------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    """A mediator to put on a case, and how they came to it."""

    mediator_id: int
    how: AssignmentHow = AssignmentHow.designated
    conflict_declared: bool = False
    conflict_note: str | None = None


def _check_pick(
    session: Session, dispute: Dispute, pick: Pick, required: tuple[str, ...], field: str
) -> Mediator:
    mediator = session.get(Mediator, pick.mediator_id)
    if mediator is None or mediator.committee_id != dispute.committee_id:
        raise refused(
            f"{field}.mediator_id",
            "unknown",
            "须指派本调委会的调解员",
            "Assign a mediator of this dispute's committee",
        )
    today = clock.today()
    if mediator.status != MediatorStatus.active:
        raise refused(
            f"{field}.mediator_id",
            "not_active",
            "该调解员已暂停或罢免",
            "This mediator is suspended or removed",
            409,
        )
    if mediator.term_end is not None and mediator.term_end < today:
        raise refused(
            f"{field}.mediator_id",
            "term_ended",
            f"该调解员任期已于 {mediator.term_end} 届满",
            f"This mediator's term ended on {mediator.term_end}",
            409,
        )
    if pick.conflict_declared and not pick.conflict_note:
        raise refused(
            f"{field}.conflict_note", "missing", "申报利害关系须说明", "Describe the conflict"
        )
    if pick.conflict_declared and pick.how == AssignmentHow.designated:
        raise refused(
            f"{field}.conflict_declared",
            "conflict",
            "调解员与本案有利害关系，调委会不应指派；当事人知情后仍选择的，可登记为当事人选择",
            "The mediator declared a conflict of interest: the committee may not designate "
            "them; only the parties, knowing it, may still choose them",
            409,
        )
    missing = gate.missing_modules(session, mediator.person_id, required, today)
    if missing:
        raise refused(
            f"{field}.mediator_id",
            "training_missing",
            f"该调解员尚未完成必修培训：{'、'.join(missing)}",
            f"This mediator has not completed the required training: {', '.join(missing)}",
            409,
        )
    return mediator


def assign(session: Session, principal: Principal, dispute: Dispute, picks: list[Pick]) -> Dispute:
    """Put mediators on the case (the committee designates, or the parties chose them).

    Each must serve the dispute's committee, be active and in term, hold the required
    training (``required_modules``), and not be designated despite a declared conflict.
    """
    authorise(session, principal, dispute, "assign")
    if not picks:
        raise refused("mediators", "missing", "至少指派一名调解员", "Assign at least one mediator")
    config = config_at(session, dispute.unit_path, clock.today())
    active = set(
        session.exec(
            select(Assignment.mediator_id).where(
                Assignment.dispute_id == dispute.id, col(Assignment.ended_at).is_(None)
            )
        ).all()
    )
    chosen = []
    for index, pick in enumerate(picks):
        mediator = _check_pick(
            session, dispute, pick, config.required_modules, f"mediators.{index}"
        )
        if mediator.id in active or mediator.id in chosen:
            raise refused(
                f"mediators.{index}.mediator_id",
                "duplicate",
                "该调解员已在本案",
                "This mediator is already on the case",
                409,
            )
        chosen.append(mediator.id)
    now = clock.now()
    for pick in picks:
        session.add(
            Assignment(
                dispute_id=dispute.id,
                mediator_id=pick.mediator_id,
                unit_path=dispute.unit_path,
                how=pick.how,
                conflict_declared=pick.conflict_declared,
                conflict_note=pick.conflict_note,
                assigned_at=now,
                assigned_by_user_id=principal.user_id,
            )
        )
    move(session, dispute, "assign", by_user_id=principal.user_id)
    return dispute


def end_assignment(
    session: Session, principal: Principal, dispute: Dispute, assignment: Assignment, note: str
) -> Assignment:
    """Take a mediator off the case (withdrawal, conflict discovered); one must remain."""
    require(
        session,
        principal,
        dispute,
        Label("撤换调解员", "Taking a mediator off the case"),
        (DIRECTOR,),
        (Status.in_mediation,),
    )
    if assignment.ended_at is not None:
        raise refused("assignment_id", "ended", "已撤换", "Already taken off", 409)
    others = session.exec(
        select(Assignment.id).where(
            Assignment.dispute_id == dispute.id,
            col(Assignment.ended_at).is_(None),
            Assignment.id != assignment.id,
        )
    ).first()
    if others is None:
        raise refused(
            "assignment_id",
            "last_mediator",
            "调解中的纠纷至少须有一名调解员：请先指派接替者",
            "A dispute in mediation keeps at least one mediator: assign a successor first",
            409,
        )
    assignment.ended_at = clock.now()
    assignment.conflict_note = note if assignment.conflict_declared else assignment.conflict_note
    session.add(assignment)
    session.flush()
    return assignment


# -- refusal, time limit, failure --------------------------------------------------------------


def _principal_party(dispute: Dispute, party: Party, field: str = "party_id") -> Party:
    if party.dispute_id != dispute.id or party.role not in PRINCIPAL_ROLES:
        raise refused(
            field,
            "not_a_side",
            "须为本案的申请人或被申请人",
            "Name an applicant or respondent of this dispute",
        )
    return party


def refuse(
    session: Session, principal: Principal, dispute: Dispute, party: Party, note: str | None
) -> Dispute:
    """A party clearly refuses mediation: the mediation ends (Art. 17, 23)."""
    authorise(session, principal, dispute, "refuse")
    _principal_party(dispute, party)
    party.refused_at = clock.now()
    party.refusal_note = note
    session.add(party)
    dispute.outcome = Outcome.refused
    move(
        session,
        dispute,
        "refuse",
        by_user_id=principal.user_id,
        reason_code="party_refused",
        note=note,
    )
    return dispute


def record_extension_consent(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    party: Party,
    consented_on: date,
    manner: NoticeManner,
) -> ExtensionConsent:
    """Record a party's consent to continue past the time limit (local text Art. 36)."""
    require(
        session,
        principal,
        dispute,
        Label("记录同意延长调解期限", "Recording consent to extend"),
        CASE_HANDLERS,
        (Status.in_mediation,),
    )
    _principal_party(dispute, party)
    if consented_on > clock.today():
        raise refused("consented_on", "future", "日期不能晚于今天", "The date is in the future")
    consent = ExtensionConsent(
        dispute_id=dispute.id,
        party_id=party.id,
        unit_path=dispute.unit_path,
        consented_on=consented_on,
        manner=manner,
        recorded_by_user_id=principal.user_id,
        recorded_at=clock.now(),
    )
    session.add(consent)
    session.flush()
    return consent


def extend(
    session: Session, principal: Principal, dispute: Dispute, until: date, note: str | None
) -> Extension:
    """Move the time limit to ``until``.

    Only with every applicant's and respondent's consent recorded since the last extension.
    """
    authorise(session, principal, dispute, "extend")
    current = dispute.deadline
    if current is not None and until <= current:
        raise refused(
            "until",
            "not_later",
            f"新期限须晚于现期限 {current}",
            f"The new time limit must be after {current}",
        )
    fresh = session.exec(
        select(ExtensionConsent).where(
            ExtensionConsent.dispute_id == dispute.id,
            col(ExtensionConsent.used_by_extension_id).is_(None),
        )
    ).all()
    consenting = {consent.party_id for consent in fresh}
    missing = [p for p in principal_parties(session, dispute) if p.id not in consenting]
    if missing:
        raise DomainError(
            text(
                "延长调解期限须经双方当事人同意：尚有当事人未同意",
                "Extending needs both parties' consent: some have not consented",
            ),
            "consent_missing",
            409,
            [
                FieldError(
                    "party_id",
                    "consent_missing",
                    text(f"当事人 {p.id} 尚未同意延期", f"party {p.id} has not consented"),
                )
                for p in missing
            ],
        )
    extension = Extension(
        dispute_id=dispute.id,
        unit_path=dispute.unit_path,
        previous_deadline=current,
        until=until,
        note=note,
        approved_by_user_id=principal.user_id,
        at=clock.now(),
    )
    session.add(extension)
    session.flush()
    for consent in fresh:
        consent.used_by_extension_id = extension.id
        session.add(consent)
    dispute.extended_until = until
    move(session, dispute, "extend", by_user_id=principal.user_id, note=note)
    return extension


def fail(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    other_routes_told: bool,
    note: str | None,
) -> Dispute:
    """End the mediation without agreement.

    The parties must have been told of the arbitration, administrative and court routes
    (Art. 26).
    """
    authorise(session, principal, dispute, "fail")
    if not other_routes_told:
        raise refused(
            "other_routes_told",
            "required",
            "终止调解时应告知当事人可依法通过仲裁、行政、司法等途径解决",
            "Tell the parties of the arbitration, administrative and court routes first",
        )
    dispute.other_routes_told_at = clock.now()
    dispute.outcome = Outcome.failed
    move(session, dispute, "fail", by_user_id=principal.user_id, note=note)
    return dispute


# -- closing -------------------------------------------------------------------------------


def close(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    *,
    told_may_sue: bool,
    remediate: bool,
    note: str | None,
) -> Dispute | None:
    """Close a performed or defaulted dispute; returns the new dispute of a re-mediation.

    A performed one needs a follow-up visit first (where configured). A defaulted one needs
    the other party told they may sue (Art. 39), or a re-mediation started (Art. 40), which
    registers a new dispute with the same parties, linked to this one.
    """
    authorise(session, principal, dispute, "close")
    config = config_at(session, dispute.unit_path, clock.today())
    if dispute.status == Status.performed and config.followup_required_to_close:
        visited = session.exec(select(FollowUp.id).where(FollowUp.dispute_id == dispute.id)).first()
        if visited is None:
            raise refused(
                "follow_up",
                "missing",
                "结案前须至少回访一次",
                "Record at least one follow-up visit before closing",
                409,
            )
    new_dispute = None
    if dispute.status == Status.defaulted:
        if not (told_may_sue or remediate):
            raise refused(
                "told_may_sue",
                "required",
                "未履行的纠纷结案前，应告知对方当事人可依法向人民法院起诉，或启动重新调解",
                "Tell the other party they may sue, or start a re-mediation, before closing",
            )
        if remediate:
            committee = session.get(Committee, dispute.committee_id)
            again = Registration(
                source=Source.initiative,
                category=dispute.category,
                summary=dispute.summary,
                claims=dispute.claims,
                amount_involved_fen=dispute.amount_involved_fen,
                people_involved=dispute.people_involved,
                risk_level=dispute.risk_level,
                parties=[
                    PartyInput(
                        role=p.role,
                        name=p.name,
                        id_no=p.id_no,
                        phone=p.phone,
                        address=p.address,
                        gender=p.gender,
                        ethnicity=p.ethnicity,
                        is_minor=p.is_minor,
                    )
                    for p in parties_of(session, dispute)
                    if p.role != PartyRole.agent
                ],
            )
            new_dispute = register(session, principal, committee, again, reopened_from=dispute)
    finish(session, dispute, config.default_retention_class)
    move(
        session,
        dispute,
        "close",
        by_user_id=principal.user_id,
        reason_code="remediate" if remediate else ("told_may_sue" if told_may_sue else None),
        note=note,
    )
    return new_dispute


def finish(session: Session, dispute: Dispute, retention_class: str) -> None:
    """Stamp a dispute closed, with the retention class of its file."""
    dispute.closed_at = clock.now()
    dispute.retention_class = dispute.retention_class or retention_class
    session.add(dispute)


def close_finished(session: Session, dispute: Dispute) -> bool:
    """The system closes a failed, refused or declined dispute.

    Idempotent: False when the dispute is not one of those any more.
    """
    if dispute.status not in (Status.failed, Status.refused, Status.not_accepted):
        return False
    config = config_at(session, dispute.unit_path, clock.today())
    finish(session, dispute, config.default_retention_class)
    move(session, dispute, "close_finished", by_user_id=None)
    return True


# -- what any handler keeps up to date -----------------------------------------------------------


@dataclass(frozen=True)
class DisputeChange:
    """Fields of a dispute its handlers may correct while it is open."""

    category: str | None = None
    summary: str | None = None
    claims: str | None = None
    amount_involved_fen: int | None = None
    people_involved: int | None = None
    risk_level: Risk | None = None
    supervised: bool | None = None
    urgent: bool | None = None


def update(
    session: Session, principal: Principal, dispute: Dispute, change: DisputeChange
) -> Dispute:
    """Correct an open dispute; raising the risk to orange or red starts the escalation job."""
    require_intake(
        session, principal, dispute, Label("修改纠纷信息", "Changing the dispute"), OPEN_STATUSES
    )
    if change.category is not None:
        config = config_at(session, dispute.unit_path, clock.today())
        if config.category(change.category) is None:
            raise refused(
                "category", "unknown", "纠纷类别不在本地目录中", "Not a configured category"
            )
    before = dispute.risk_level
    for key, value in change.__dict__.items():
        if value is not None:
            setattr(dispute, key, value)
    session.add(dispute)
    session.flush()
    if dispute.risk_level != before:
        dispute.risk_changed_at = clock.now()
        session.add(dispute)
        if dispute.risk_level in (Risk.red, Risk.orange):
            enqueue(session, RISK_JOB, unit_id=dispute.unit_id, dispute_id=dispute.id)
    return dispute


def report_escalation(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    *,
    reported_to: ReportedTo,
    agency: str,
    note: str | None,
) -> Escalation:
    """Record the report of a dispute that may escalate (Art. 25): to whom, when, by whom.

    Open disputes only, by its mediators or the director; a red-risk dispute moves on only
    after this.
    """
    require(
        session,
        principal,
        dispute,
        Label("报告纠纷激化风险", "Reporting escalation risk"),
        CASE_HANDLERS,
        OPEN_STATUSES,
    )
    now = clock.now()
    escalation = Escalation(
        dispute_id=dispute.id,
        unit_path=dispute.unit_path,
        risk_level=dispute.risk_level,
        reported_to=reported_to,
        agency=agency,
        reported_at=now,
        note=note,
        by_user_id=principal.user_id,
    )
    session.add(escalation)
    dispute.escalation_reported_at = dispute.escalation_reported_at or now
    session.add(dispute)
    session.flush()
    return escalation
