"""Agreements, their performance, follow-up visits and judicial confirmation.

A written agreement (调解协议书) lists the terms — obligor, what, how much, where, by when —
and takes effect only when every party has signed (sealed, fingerprinted), the mediator has
signed and the committee's seal is recorded; an oral one takes effect when the parties agree,
its content entered in the register (人民调解法 Art. 28–29). Each term is then performed or,
after urging (督促), defaulted. 司法确认 may be applied for only within the configured window
(30 days by statute, Art. 33) from the day the agreement took effect.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from core.accounts.principal import Principal
from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from plugins.mediation import clock
from plugins.mediation.access import own_mediator_ids
from plugins.mediation.cases import refused
from plugins.mediation.models import (
    Agreement,
    AgreementTerm,
    Assignment,
    Attachment,
    Confirmation,
    Dispute,
    FollowUp,
    Party,
    Performance,
    Signature,
)
from plugins.mediation.parties import parties_of
from plugins.mediation.settings import config_at
from plugins.mediation.vocab import (
    AgreementForm,
    ConfirmationResult,
    Outcome,
    PartyRole,
    Satisfaction,
    SignatureManner,
    Status,
    TermEvent,
    TermStatus,
)
from plugins.mediation.workflow import (
    CASE_HANDLERS,
    DIRECTOR,
    MEDIATOR,
    authorise,
    move,
    require,
)

DRAFTING = Label("制作调解协议", "Drawing up the agreement")
SIGNING = Label("记录协议签署", "Recording signatures")
SEALING = Label("加盖调委会印章", "Sealing the agreement")
PERFORMANCE = Label("记录履行情况", "Recording performance")
FOLLOW_UP = Label("回访", "Follow-up visit")
CONFIRMING = Label("记录司法确认", "Recording judicial confirmation")
AFTER_AGREEMENT = (
    Status.agreement_reached,
    Status.performing,
    Status.performed,
    Status.defaulted,
)


@dataclass(frozen=True)
class TermInput:
    """One obligation as given."""

    obligor_party_id: int
    content: str
    obligee_party_id: int | None = None
    amount_fen: int | None = None
    method: str | None = None
    place: str | None = None
    due_on: date | None = None


def agreement_of(session: Session, dispute: Dispute) -> Agreement | None:
    """The dispute's agreement, if one was drawn up."""
    return session.exec(select(Agreement).where(Agreement.dispute_id == dispute.id)).first()


def terms_of(session: Session, agreement: Agreement) -> list[AgreementTerm]:
    """The agreement's terms in order."""
    return list(
        session.exec(
            select(AgreementTerm)
            .where(AgreementTerm.agreement_id == agreement.id)
            .order_by(AgreementTerm.position)
        ).all()
    )


def signatures_of(session: Session, agreement: Agreement) -> list[Signature]:
    """The parties' signatures recorded on the agreement."""
    return list(session.exec(select(Signature).where(Signature.agreement_id == agreement.id)).all())


def signatories(session: Session, dispute: Dispute) -> list[Party]:
    """Who must sign a written agreement: every party except agents (who sign for others)."""
    return [p for p in parties_of(session, dispute) if p.role != PartyRole.agent]


def _check_terms(session: Session, dispute: Dispute, terms: list[TermInput], agreed_on: date):
    sides = {p.id: p for p in parties_of(session, dispute) if p.role != PartyRole.agent}
    for index, term in enumerate(terms):
        field = f"terms.{index}"
        if term.obligor_party_id not in sides:
            raise refused(
                f"{field}.obligor_party_id",
                "unknown",
                "义务人须为本案当事人",
                "The obligor must be a party of this dispute",
            )
        if term.obligee_party_id is not None and term.obligee_party_id not in sides:
            raise refused(
                f"{field}.obligee_party_id",
                "unknown",
                "权利人须为本案当事人",
                "The obligee must be a party of this dispute",
            )
        if term.due_on is not None and term.due_on < agreed_on:
            raise refused(
                f"{field}.due_on",
                "before_agreement",
                "履行期限不能早于协议日期",
                "A term cannot be due before the agreement",
            )


def draw_up(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    *,
    form: AgreementForm,
    facts: str,
    content: str,
    agreed_on: date,
    terms: list[TermInput],
) -> Agreement:
    """Draw up (or redraw, while not yet in effect) the dispute's agreement.

    Written: at least one term, each saying who performs what, and by when if at all;
    signatures start afresh when it is redrawn. Oral: the content is the register entry
    (口头协议登记), and it takes effect on the day agreed.
    """
    require(session, principal, dispute, DRAFTING, (MEDIATOR,), (Status.in_mediation,))
    if agreed_on > clock.today():
        raise refused("agreed_on", "future", "协议日期不能晚于今天", "The date is in the future")
    if form == AgreementForm.written and not terms:
        raise refused(
            "terms",
            "missing",
            "书面协议须写明履行方式、地点和期限：至少一项条款",
            "A written agreement states how, where and by when: give at least one term",
        )
    _check_terms(session, dispute, terms, agreed_on)
    agreement = agreement_of(session, dispute)
    if agreement is not None and agreement.effective_at is not None:
        raise refused(
            "agreement", "in_effect", "协议已生效，不能修改", "The agreement is in effect", 409
        )
    if agreement is None:
        agreement = Agreement(
            dispute_id=dispute.id,
            unit_path=dispute.unit_path,
            form=form,
            facts=facts,
            content=content,
            agreed_on=agreed_on,
            created_by_user_id=principal.user_id,
        )
    else:
        for old in [*terms_of(session, agreement), *signatures_of(session, agreement)]:
            session.delete(old)
        agreement.form, agreement.facts, agreement.content = form, facts, content
        agreement.agreed_on = agreed_on
        agreement.mediator_signed_at = agreement.sealed_at = None
        agreement.mediator_signed_by_id = None
    session.add(agreement)
    session.flush()
    for position, term in enumerate(terms, start=1):
        session.add(
            AgreementTerm(
                agreement_id=agreement.id,
                dispute_id=dispute.id,
                unit_path=dispute.unit_path,
                position=position,
                **term.__dict__,
            )
        )
    if form == AgreementForm.oral:
        agreement.effective_at = clock.now()
    session.add(agreement)
    session.flush()
    return agreement


def _written(session: Session, dispute: Dispute) -> Agreement:
    agreement = agreement_of(session, dispute)
    if agreement is None or agreement.form != AgreementForm.written:
        raise refused(
            "agreement", "missing", "尚未制作书面调解协议", "No written agreement drawn up", 409
        )
    if agreement.effective_at is not None:
        raise refused("agreement", "in_effect", "协议已生效", "The agreement is in effect", 409)
    return agreement


def _take_effect_if_complete(session: Session, dispute: Dispute, agreement: Agreement) -> None:
    signed = {s.party_id for s in signatures_of(session, agreement)}
    everyone = all(p.id in signed for p in signatories(session, dispute))
    if everyone and agreement.mediator_signed_at and agreement.sealed_at:
        agreement.effective_at = clock.now()
        session.add(agreement)
        session.flush()


def sign(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    party: Party,
    manner: SignatureManner,
    signed_on: date,
) -> Signature:
    """Record that a party signed, sealed or fingerprinted the written agreement."""
    require(session, principal, dispute, SIGNING, (MEDIATOR,), (Status.in_mediation,))
    agreement = _written(session, dispute)
    if party.dispute_id != dispute.id or party.role == PartyRole.agent:
        raise refused("party_id", "not_a_party", "须为本案当事人", "Name a party of this dispute")
    if signed_on < agreement.agreed_on or signed_on > clock.today():
        raise refused(
            "signed_on", "out_of_range", "签署日期须在协议日期之后、今天之前", "Date out of range"
        )
    exists = session.exec(
        select(Signature).where(
            Signature.agreement_id == agreement.id, Signature.party_id == party.id
        )
    ).first()
    if exists is not None:
        raise refused("party_id", "signed", "该当事人已签署", "This party has signed", 409)
    signature = Signature(
        agreement_id=agreement.id,
        party_id=party.id,
        unit_path=dispute.unit_path,
        manner=manner,
        signed_on=signed_on,
        recorded_by_user_id=principal.user_id,
    )
    session.add(signature)
    session.flush()
    _take_effect_if_complete(session, dispute, agreement)
    return signature


def mediator_sign(session: Session, principal: Principal, dispute: Dispute) -> Agreement:
    """Record the signing mediator's signature (the caller, assigned to the case)."""
    require(session, principal, dispute, SIGNING, (MEDIATOR,), (Status.in_mediation,))
    agreement = _written(session, dispute)
    mine = set(own_mediator_ids(session, principal))
    assignment = session.exec(
        select(Assignment).where(
            Assignment.dispute_id == dispute.id,
            col(Assignment.mediator_id).in_(mine),
            col(Assignment.ended_at).is_(None),
        )
    ).first()
    agreement.mediator_signed_at = clock.now()
    agreement.mediator_signed_by_id = assignment.mediator_id
    session.add(agreement)
    session.flush()
    _take_effect_if_complete(session, dispute, agreement)
    return agreement


def seal(session: Session, principal: Principal, dispute: Dispute) -> Agreement:
    """Record the committee's seal on the written agreement (the director)."""
    require(session, principal, dispute, SEALING, (DIRECTOR,), (Status.in_mediation,))
    agreement = _written(session, dispute)
    agreement.sealed_at = clock.now()
    session.add(agreement)
    session.flush()
    _take_effect_if_complete(session, dispute, agreement)
    return agreement


def missing_for_effect(session: Session, dispute: Dispute, agreement: Agreement) -> list[str]:
    """What a written agreement still lacks to take effect, as field names."""
    if agreement.effective_at is not None:
        return []
    signed = {s.party_id for s in signatures_of(session, agreement)}
    missing = [f"signature.{p.id}" for p in signatories(session, dispute) if p.id not in signed]
    if agreement.mediator_signed_at is None:
        missing.append("mediator_signature")
    if agreement.sealed_at is None:
        missing.append("seal")
    return missing


def reach_agreement(session: Session, principal: Principal, dispute: Dispute) -> Dispute:
    """Close the mediation on the agreement in effect.

    With obligations still to perform, the system passes the dispute on to performance.
    """
    authorise(session, principal, dispute, "reach_agreement")
    agreement = agreement_of(session, dispute)
    if agreement is None:
        raise refused("agreement", "missing", "尚未制作调解协议", "No agreement drawn up", 409)
    missing = missing_for_effect(session, dispute, agreement)
    if missing:
        raise DomainError(
            text(
                "书面协议经各方当事人签名（盖章或按指印）、调解员签名并加盖调委会印章后方生效",
                "A written agreement takes effect once every party, the mediator and the "
                "committee's seal are on it",
            ),
            "agreement_not_effective",
            409,
            [FieldError(item, "missing", text("尚缺", "missing")) for item in missing],
        )
    dispute.effective_at = agreement.effective_at
    dispute.outcome = (
        Outcome.agreement_written
        if agreement.form == AgreementForm.written
        else Outcome.agreement_oral
    )
    move(session, dispute, "reach_agreement", by_user_id=principal.user_id)
    if any(term.status == TermStatus.pending for term in terms_of(session, agreement)):
        move(session, dispute, "start_performing", by_user_id=None)
    return dispute


# -- performance -------------------------------------------------------------------------------


def record_term_event(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    term: AgreementTerm,
    *,
    event: TermEvent,
    on: date,
    amount_fen: int | None,
    proof: Attachment | None,
    note: str | None,
) -> Performance:
    """Record a term performed (with its proof) or the obligor urged (督促) after its due day.

    When the last pending term is performed, the system marks the dispute performed.
    """
    require(session, principal, dispute, PERFORMANCE, (MEDIATOR,), (Status.performing,))
    if term.status != TermStatus.pending:
        raise refused("term_id", "not_pending", "该条款已办结", "This term is settled", 409)
    if on > clock.today():
        raise refused("on", "future", "日期不能晚于今天", "The date is in the future")
    if proof is not None and proof.dispute_id != dispute.id:
        raise refused("proof_id", "unknown", "凭证不属于本案", "Not this dispute's file")
    if event == TermEvent.urged and (term.due_on is None or on <= term.due_on):
        raise refused(
            "on",
            "not_due",
            "督促在履行期限届满后进行",
            "Urging comes after the term's due day",
            409,
        )
    row = Performance(
        term_id=term.id,
        dispute_id=dispute.id,
        unit_path=dispute.unit_path,
        event=event,
        on=on,
        amount_fen=amount_fen,
        proof_id=proof.id if proof else None,
        note=note,
        recorded_by_user_id=principal.user_id,
        recorded_at=clock.now(),
    )
    session.add(row)
    if event == TermEvent.performed:
        term.status, term.performed_on = TermStatus.performed, on
    else:
        term.urged_on = on
    session.add(term)
    session.flush()
    agreement = session.get(Agreement, term.agreement_id)
    if all(t.status == TermStatus.performed for t in terms_of(session, agreement)):
        move(session, dispute, "complete", by_user_id=None)
    return row


def perform_at_once(session: Session, principal: Principal, dispute: Dispute) -> Dispute:
    """The obligations were performed on the spot: every term is recorded performed today."""
    authorise(session, principal, dispute, "perform_at_once")
    agreement = agreement_of(session, dispute)
    for term in terms_of(session, agreement):
        if term.status == TermStatus.pending:
            term.status, term.performed_on = TermStatus.performed, clock.today()
            session.add(term)
            session.add(
                Performance(
                    term_id=term.id,
                    dispute_id=dispute.id,
                    unit_path=dispute.unit_path,
                    event=TermEvent.performed,
                    on=clock.today(),
                    recorded_by_user_id=principal.user_id,
                    recorded_at=clock.now(),
                )
            )
    move(session, dispute, "perform_at_once", by_user_id=principal.user_id)
    return dispute


def complete(session: Session, principal: Principal, dispute: Dispute) -> Dispute:
    """The mediator confirms every term performed (each must be recorded so)."""
    authorise(session, principal, dispute, "complete")
    pending = [
        t
        for t in terms_of(session, agreement_of(session, dispute))
        if t.status != TermStatus.performed
    ]
    if pending:
        raise DomainError(
            text("尚有条款未履行", "Some terms are not performed"),
            "terms_pending",
            409,
            [
                FieldError(f"terms.{t.position}", "pending", text("未履行", "pending"))
                for t in pending
            ],
        )
    move(session, dispute, "complete", by_user_id=principal.user_id)
    return dispute


def default(
    session: Session, principal: Principal, dispute: Dispute, term: AgreementTerm, note: str | None
) -> Dispute:
    """A term is overdue although the obligor was urged: the dispute is defaulted."""
    authorise(session, principal, dispute, "default")
    if term.dispute_id != dispute.id or term.status != TermStatus.pending:
        raise refused("term_id", "not_pending", "须为未履行的条款", "Name a pending term", 409)
    if term.due_on is None or term.due_on >= clock.today():
        raise refused(
            "term_id", "not_overdue", "该条款尚未逾期", "This term is not overdue yet", 409
        )
    if term.urged_on is None:
        raise refused(
            "term_id",
            "not_urged",
            "认定未履行前应先督促义务人履行",
            "Urge the obligor (督促) before recording a default",
            409,
        )
    term.status = TermStatus.defaulted
    session.add(term)
    move(session, dispute, "default", by_user_id=principal.user_id, note=note)
    return dispute


# -- after the agreement ---------------------------------------------------------------------


def follow_up(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    *,
    visited_on: date,
    performance_ok: bool,
    satisfaction: Satisfaction,
    court_outcome: str | None,
    new_risk: bool,
    note: str | None,
) -> FollowUp:
    """Record a follow-up visit (回访): performance, satisfaction, court outcome, new risk."""
    require(
        session, principal, dispute, FOLLOW_UP, CASE_HANDLERS, (*AFTER_AGREEMENT, Status.closed)
    )
    if visited_on > clock.today():
        raise refused("visited_on", "future", "日期不能晚于今天", "The date is in the future")
    visit = FollowUp(
        dispute_id=dispute.id,
        unit_path=dispute.unit_path,
        visited_on=visited_on,
        by_user_id=principal.user_id,
        performance_ok=performance_ok,
        satisfaction=satisfaction,
        court_outcome=court_outcome,
        new_risk=new_risk,
        note=note,
    )
    session.add(visit)
    dispute.followup_due_on = None
    session.add(dispute)
    session.flush()
    return visit


def confirmation_deadline(session: Session, dispute: Dispute, agreement: Agreement) -> date:
    """The last day the parties may jointly apply for 司法确认."""
    effective_day = clock.local_day(agreement.effective_at)
    config = config_at(session, dispute.unit_path, effective_day)
    return effective_day + timedelta(days=config.confirmation_window_days)


def apply_for_confirmation(
    session: Session, principal: Principal, dispute: Dispute, *, applied_on: date, court: str
) -> Confirmation:
    """Record the parties' joint application to a court, only within the window."""
    require(session, principal, dispute, CONFIRMING, CASE_HANDLERS, AFTER_AGREEMENT)
    agreement = agreement_of(session, dispute)
    if agreement is None or agreement.effective_at is None:
        raise refused("agreement", "missing", "没有生效的协议", "No agreement in effect", 409)
    effective_day = clock.local_day(agreement.effective_at)
    last_day = confirmation_deadline(session, dispute, agreement)
    if applied_on > clock.today():
        raise refused("applied_on", "future", "日期不能晚于今天", "The date is in the future")
    if applied_on < effective_day or applied_on > last_day:
        raise refused(
            "applied_on",
            "outside_window",
            f"司法确认应自协议生效之日起 {(last_day - effective_day).days} 日内（{effective_day}"
            f" 至 {last_day}）共同申请",
            f"Judicial confirmation is applied for jointly within "
            f"{(last_day - effective_day).days} days of the agreement taking effect "
            f"({effective_day} to {last_day})",
            409,
        )
    existing = session.exec(
        select(Confirmation).where(Confirmation.agreement_id == agreement.id)
    ).first()
    if existing is not None:
        raise refused("agreement", "applied", "已申请司法确认", "Already applied for", 409)
    confirmation = Confirmation(
        agreement_id=agreement.id,
        dispute_id=dispute.id,
        unit_path=dispute.unit_path,
        applied_on=applied_on,
        court=court,
        recorded_by_user_id=principal.user_id,
    )
    session.add(confirmation)
    session.flush()
    return confirmation


def record_ruling(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    *,
    result: ConfirmationResult,
    ruled_on: date,
    court_case_no: str | None,
) -> Confirmation:
    """Record the court's ruling: valid (enforceable) or rejected."""
    require(
        session, principal, dispute, CONFIRMING, CASE_HANDLERS, (*AFTER_AGREEMENT, Status.closed)
    )
    confirmation = session.exec(
        select(Confirmation).where(Confirmation.dispute_id == dispute.id)
    ).first()
    if confirmation is None:
        raise refused("confirmation", "missing", "尚未申请司法确认", "Not applied for", 409)
    if confirmation.result != ConfirmationResult.applied:
        raise refused("result", "ruled", "法院已作出裁定", "Already ruled", 409)
    if result == ConfirmationResult.applied:
        raise refused("result", "invalid", "裁定结果应为有效或驳回", "Rule valid or rejected")
    if ruled_on < confirmation.applied_on or ruled_on > clock.today():
        raise refused("ruled_on", "out_of_range", "裁定日期不正确", "Ruling date out of range")
    confirmation.result = result
    confirmation.ruled_on = ruled_on
    confirmation.court_case_no = court_case_no
    session.add(confirmation)
    session.flush()
    return confirmation
