"""Rewards and per-case subsidies, compensation referrals, and policy premiums.

Rewards (表彰奖励, 线索奖励, 以案定补, 积分兑换): ``proposed → reviewed → approved`` (at the
level the amount needs; budget reserved) ``→ paid → published`` (commendations), or
``rejected`` with a reason. A per-case subsidy may also be proposed by a domain event another
plugin emits (a closed mediation case), if the unit's configuration maps that event to a
reward rule; the event's key makes it idempotent.

Compensation (抚恤 / 救助 / 见义勇为 / 烈士): the platform refers the case to the competent
department and records its decision; it decides nothing. Then either the department pays
(``paid_by_dept``) or the platform pays an approved aid (``platform_approved →
paid_by_platform``); either way the case is closed.

Premiums: a policy's premium is approved at the level its amount needs (budget category 保险费)
and paid by the cashier.
"""

from datetime import datetime

from sqlmodel import Session, select

from core.contributions import DomainEvent
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.units.models import Unit, utcnow
from plugins.insurance import spending
from plugins.insurance.approvals import Actor, record_approval, refuse_own, refuse_same_hand
from plugins.insurance.clock import china_day
from plugins.insurance.config import SUBSIDY_RULES, setting
from plugins.insurance.models import CompensationCase, InsurancePolicy, Reward
from plugins.insurance.vocab import (
    CompensationBasis,
    CompensationStatus,
    PaymentMethod,
    RewardKind,
    RewardStatus,
)


def _conflict(zh: str, en: str, field: str = "status", rule: str = "wrong_status") -> DomainError:
    message = text(zh, en)
    return DomainError(message, "conflict", 409, [FieldError(field, rule, message)])


def _need(principal, action: str, path: str) -> None:
    if not principal.can(action, path):
        message = text("此步骤不由您办理", "This step is not yours to take")
        raise DomainError(
            message, "not_allowed", 403, [FieldError("step", "not_your_step", message)]
        )


def _need_reason(reason: str | None) -> None:
    if not reason or not reason.strip():
        raise DomainError(
            text("须说明理由", "A reason is required"),
            "validation_failed",
            400,
            [FieldError("reason", "missing", "")],
        )


# -- rewards ---------------------------------------------------------------------------------


def propose(
    session: Session,
    actor: Actor | None,
    unit: Unit,
    *,
    recipient_person_id: int,
    kind: RewardKind,
    amount_fen: int,
    basis_ref: str,
    citation: str = "",
    rule_version: str | None = None,
    payee_account: str | None = None,
    event_key: str | None = None,
    now: datetime | None = None,
) -> Reward:
    """Propose a reward (by a person, or by a configured domain event when ``actor`` is None).

    Raises:
        DomainError: the recipient is unknown or outside the unit (400); a person proposing
            their own reward (403).
    """
    person = session.get(Person, recipient_person_id)
    if person is None or not person.unit_path.startswith(unit.path):
        raise DomainError(
            text("没有这名受奖人", "No such recipient"),
            "validation_failed",
            400,
            [FieldError("recipient_person_id", "unknown", str(recipient_person_id))],
        )
    if actor is not None:
        refuse_own(actor, None, recipient_person_id)
    reward = Reward(
        unit_id=unit.id,
        unit_path=unit.path,
        recipient_person_id=recipient_person_id,
        kind=kind.value,
        basis_ref=basis_ref,
        event_key=event_key,
        amount_fen=amount_fen,
        rule_version=rule_version,
        citation=citation,
        payee_account=payee_account or None,
        proposed_by_user_id=actor.user_id if actor else None,
        proposed_at=now or utcnow(),
    )
    session.add(reward)
    session.flush()
    if actor is not None:
        _record(session, actor, reward, "proposed", decision="record", now=now)
    return reward


def _record(session, actor, reward, step, decision="approve", **extra):
    return record_approval(
        session,
        actor,
        subject_type="reward",
        subject_id=reward.id,
        unit_path=reward.unit_path,
        step=step,
        decision=decision,
        party_person_id=reward.recipient_person_id,
        **extra,
    )


def _require(reward: Reward, *statuses: RewardStatus) -> None:
    if reward.status not in statuses:
        raise _conflict(
            f"当前状态（{reward.status}）不能办理此步骤",
            f"Not possible while it is {reward.status}",
        )


def review(session: Session, actor: Actor, reward: Reward, now: datetime | None = None) -> Reward:
    """Proposed → reviewed (by someone other than the recipient)."""
    _need(actor.principal, "insurance.reward.propose", reward.unit_path)
    refuse_own(actor, None, reward.recipient_person_id)
    _require(reward, RewardStatus.proposed)
    reward.status = RewardStatus.reviewed.value
    session.add(reward)
    _record(session, actor, reward, "reviewed", now=now)
    return reward


def approve(session: Session, actor: Actor, reward: Reward, now: datetime | None = None) -> Reward:
    """Reviewed → approved at the level its amount needs; the budget is reserved."""
    _need(actor.principal, "insurance.reward.approve", reward.unit_path)
    _require(reward, RewardStatus.reviewed)
    spending.approve(session, actor, "reward", reward, action="insurance.reward.approve", now=now)
    reward.status = RewardStatus.approved.value
    session.add(reward)
    return reward


def reject(
    session: Session, actor: Actor, reward: Reward, reason: str, now: datetime | None = None
) -> Reward:
    """Proposed or reviewed → rejected, with a reason."""
    _need(actor.principal, "insurance.reward.propose", reward.unit_path)
    refuse_own(actor, None, reward.recipient_person_id)
    _require(reward, RewardStatus.proposed, RewardStatus.reviewed)
    _need_reason(reason)
    reward.status = RewardStatus.rejected.value
    reward.reason = reason
    session.add(reward)
    _record(session, actor, reward, "rejected", decision="reject", reason=reason, now=now)
    return reward


def pay_reward(
    session: Session,
    actor: Actor,
    reward: Reward,
    *,
    method: PaymentMethod,
    bank_ref: str | None = None,
    now: datetime | None = None,
):
    """Approved → paid by the cashier."""
    _require(reward, RewardStatus.approved)
    payment = spending.pay(
        session,
        actor,
        "reward",
        reward,
        method=method,
        payee_account=reward.payee_account,
        bank_ref=bank_ref,
        now=now,
    )
    reward.status = RewardStatus.paid.value
    session.add(reward)
    return payment


def publish(session: Session, actor: Actor, reward: Reward, now: datetime | None = None) -> Reward:
    """Paid commendation → published."""
    _need(actor.principal, "insurance.reward.propose", reward.unit_path)
    _require(reward, RewardStatus.paid)
    if reward.kind != RewardKind.commendation:
        raise _conflict(
            "只有表彰需要公布", "Only commendations are published", "kind", "not_commendation"
        )
    reward.status = RewardStatus.published.value
    reward.published_at = now or utcnow()
    session.add(reward)
    _record(session, actor, reward, "published", decision="record", now=now)
    return reward


def from_event(session: Session, event: DomainEvent) -> Reward | None:
    """Propose a subsidy for an event the unit's configuration maps to a reward rule.

    Idempotent: the same event (name and reference) proposes at most one reward. Events with
    no rule, or a payload without a known recipient, propose nothing.
    """
    unit = session.get(Unit, event.unit_id)
    on = china_day(event.occurred_at)
    rule = next(
        (r for r in setting(session, unit.path, SUBSIDY_RULES, on) if r.event == event.name), None
    )
    if rule is None:
        return None
    recipient = event.payload.get(rule.recipient_field)
    reference = event.payload.get(rule.ref_field)
    if (
        not isinstance(recipient, int)
        or reference is None
        or session.get(Person, recipient) is None
    ):
        return None
    key = f"{event.name}:{reference}"[:120]
    if session.exec(select(Reward.id).where(Reward.event_key == key)).first() is not None:
        return None
    amount = event.payload.get(rule.amount_field) if rule.amount_field else None
    amount = amount if isinstance(amount, int) and amount > 0 else rule.default_fen
    if rule.max_fen is not None:
        amount = min(amount, rule.max_fen)
    if amount <= 0:
        return None
    return propose(
        session,
        None,
        unit,
        recipient_person_id=recipient,
        kind=RewardKind(rule.kind),
        amount_fen=amount,
        basis_ref=f"{event.name}:{reference}"[:80],
        event_key=key,
        rule_version=f"{rule.event}@{on.isoformat()}"[:40],
        now=event.occurred_at,
    )


# -- compensation ----------------------------------------------------------------------------


def refer(
    session: Session,
    actor: Actor,
    unit: Unit,
    *,
    person_id: int,
    basis: CompensationBasis,
    competent_dept: str,
    summary: str,
    recommended_fen: int = 0,
    incident_id: int | None = None,
    now: datetime | None = None,
) -> CompensationCase:
    """Refer a case to the competent department."""
    if session.get(Person, person_id) is None:
        raise DomainError(
            text("没有这个人", "No such person"),
            "validation_failed",
            400,
            [FieldError("person_id", "unknown", str(person_id))],
        )
    refuse_own(actor, None, person_id)
    case = CompensationCase(
        unit_id=unit.id,
        unit_path=unit.path,
        person_id=person_id,
        incident_id=incident_id,
        basis=basis.value,
        competent_dept=competent_dept,
        recommended_fen=recommended_fen,
        summary=summary,
        referred_at=now or utcnow(),
        referred_by_user_id=actor.user_id,
    )
    session.add(case)
    session.flush()
    _record_case(session, actor, case, "referred", decision="record", now=now)
    return case


def _record_case(session, actor, case, step, decision="approve", **extra):
    return record_approval(
        session,
        actor,
        subject_type="compensation",
        subject_id=case.id,
        unit_path=case.unit_path,
        step=step,
        decision=decision,
        party_person_id=case.person_id,
        **extra,
    )


def _require_case(case: CompensationCase, *statuses: CompensationStatus) -> None:
    if case.status not in statuses:
        raise _conflict(
            f"当前状态（{case.status}）不能办理此步骤", f"Not possible while it is {case.status}"
        )


def record_decision(
    session: Session,
    actor: Actor,
    case: CompensationCase,
    *,
    dept: str,
    doc_no: str,
    amount_fen: int,
    decided_at: datetime | None = None,
) -> CompensationCase:
    """Referred → the department's decision recorded (department, document, amount)."""
    _need(actor.principal, "insurance.compensation.manage", case.unit_path)
    refuse_own(actor, None, case.person_id)
    _require_case(case, CompensationStatus.referred)
    case.decision_dept, case.decision_doc_no, case.decision_fen = dept, doc_no, amount_fen
    case.decided_at = decided_at or utcnow()
    case.status = CompensationStatus.dept_decided.value
    session.add(case)
    _record_case(
        session,
        actor,
        case,
        "dept_decided",
        decision="record",
        amount_fen=amount_fen,
        now=decided_at,
    )
    return case


def paid_by_dept(
    session: Session, actor: Actor, case: CompensationCase, now: datetime | None = None
) -> CompensationCase:
    """The department paid its decision itself."""
    _need(actor.principal, "insurance.compensation.manage", case.unit_path)
    refuse_own(actor, None, case.person_id)
    _require_case(case, CompensationStatus.dept_decided)
    case.status = CompensationStatus.paid_by_dept.value
    session.add(case)
    _record_case(session, actor, case, "paid_by_dept", decision="record", now=now)
    return case


def approve_platform_aid(
    session: Session,
    actor: Actor,
    case: CompensationCase,
    *,
    amount_fen: int,
    payee_account: str | None,
    now: datetime | None = None,
) -> CompensationCase:
    """After the department decided, approve the platform's own aid by amount (budget reserved)."""
    _need(actor.principal, "insurance.reward.approve", case.unit_path)
    _require_case(case, CompensationStatus.dept_decided)
    if amount_fen <= 0:
        raise DomainError(
            text("补助金额须大于零", "The aid must be positive"),
            "validation_failed",
            400,
            [FieldError("amount_fen", "positive", str(amount_fen))],
        )
    case.platform_fen = amount_fen
    case.payee_account = payee_account or case.payee_account
    spending.approve(
        session,
        actor,
        "compensation",
        case,
        action="insurance.reward.approve",
        step="platform_approved",
        now=now,
    )
    case.status = CompensationStatus.platform_approved.value
    session.add(case)
    return case


def pay_platform_aid(
    session: Session,
    actor: Actor,
    case: CompensationCase,
    *,
    method: PaymentMethod,
    bank_ref: str | None = None,
    now: datetime | None = None,
):
    """Platform aid approved → paid by the cashier."""
    _require_case(case, CompensationStatus.platform_approved)
    refuse_same_hand(session, actor, "compensation", case.id, "paid_by_platform")
    payment = spending.pay(
        session,
        actor,
        "compensation",
        case,
        method=method,
        payee_account=case.payee_account,
        bank_ref=bank_ref,
        now=now,
    )
    case.status = CompensationStatus.paid_by_platform.value
    session.add(case)
    return payment


def close_case(
    session: Session, actor: Actor, case: CompensationCase, now: datetime | None = None
) -> CompensationCase:
    """Paid (by the department or the platform) → closed."""
    _need(actor.principal, "insurance.compensation.manage", case.unit_path)
    _require_case(case, CompensationStatus.paid_by_dept, CompensationStatus.paid_by_platform)
    case.status = CompensationStatus.closed.value
    case.closed_at = now or utcnow()
    session.add(case)
    _record_case(session, actor, case, "closed", decision="record", now=now)
    return case


# -- premiums --------------------------------------------------------------------------------


def approve_premium(
    session: Session, actor: Actor, policy: InsurancePolicy, now: datetime | None = None
) -> InsurancePolicy:
    """Approve paying a policy's premium (budget category 保险费 reserved)."""
    if policy.premium_paid:
        raise _conflict("保费已支付", "The premium is paid already", "premium", "paid")
    spending.approve(
        session,
        actor,
        "premium",
        policy,
        action="insurance.expense.approve",
        step="premium_approved",
        now=now,
    )
    return policy


def pay_premium(
    session: Session,
    actor: Actor,
    policy: InsurancePolicy,
    *,
    payee_account: str,
    bank_ref: str | None = None,
    now: datetime | None = None,
):
    """Pay an approved premium to the insurer."""
    if policy.premium_paid:
        raise _conflict("保费已支付", "The premium is paid already", "premium", "paid")
    payment = spending.pay(
        session,
        actor,
        "premium",
        policy,
        method=PaymentMethod.bank,
        payee_account=payee_account,
        bank_ref=bank_ref,
        now=now,
    )
    policy.premium_paid = True
    session.add(policy)
    return payment
