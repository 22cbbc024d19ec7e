"""Insurance claims: the document checklist per type, the state machine and the insurer's clocks.

``draft`` (opened from an incident) → ``submitted`` (checklist complete) → ``with_insurer``
(sent; the 30-day clock of 保险法 art. 23 starts) ⇄ ``supplement_requested`` (the clock pauses
while documents are supplemented) → ``decided`` (approved, partly approved, or rejected with a
reason; a denial notice is due within 3 days, art. 24) → ``agreed`` (the claimant accepts the
amount; the insurer must pay within 10 days) → ``paid`` → ``closed``. A decision or agreement
may be ``disputed`` and sent back to the insurer; any claim not yet paid may be ``withdrawn``
with a reason. The days are per-unit configuration with a valid-from date.

The clerk takes every step but payment, which finance records; nobody takes a step on their
own claim, and whoever recorded the agreement does not record the payment (four eyes).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.numbering import next_number
from core.units.models import utcnow
from core.volunteers.models import Volunteer
from plugins.insurance import payments
from plugins.insurance.approvals import Actor, record_approval, refuse_own, refuse_same_hand
from plugins.insurance.clock import china_day
from plugins.insurance.config import (
    DECISION_DAYS,
    DENIAL_NOTICE_DAYS,
    PAYMENT_DAYS,
    setting,
)
from plugins.insurance.cover import covers
from plugins.insurance.models import (
    ClaimDocument,
    Incident,
    InsuranceClaim,
    InsurancePolicy,
    SupplementPeriod,
)
from plugins.insurance.vocab import ClaimStatus, ClaimType, Decision


@dataclass(frozen=True)
class DocumentRule:
    """One item of a claim type's checklist."""

    code: str
    label: Label
    required: bool = True
    original: bool = False
    medical: bool = False


COMMON = (
    DocumentRule("claim_form", Label("理赔申请书", "Claim form")),
    DocumentRule("policy", Label("保险单或参保凭证", "Policy or certificate of cover")),
    DocumentRule("insured_id", Label("被保险人身份证明", "ID of the insured")),
    DocumentRule(
        "incident_certificate",
        Label("组织单位出具的事故证明", "Incident certificate of the organising unit"),
    ),
    DocumentRule("activity_record", Label("平台活动记录", "The platform's activity record")),
    DocumentRule("bank_account", Label("收款账户", "Payee bank account")),
    DocumentRule(
        "power_of_attorney",
        Label("授权委托书（代为申请时）", "Power of attorney (if applying for someone)"),
        required=False,
    ),
)
CHECKLISTS: dict[ClaimType, tuple[DocumentRule, ...]] = {
    ClaimType.medical: COMMON
    + (
        DocumentRule(
            "diagnosis",
            Label("二级以上医院诊断证明", "Diagnosis (grade-2 hospital or above)"),
            medical=True,
        ),
        DocumentRule(
            "medical_records",
            Label("病历及手术记录", "Medical records and operation notes"),
            medical=True,
        ),
        DocumentRule(
            "receipts", Label("医疗费用原始收据", "Original medical receipts"), original=True
        ),
        DocumentRule("cost_list", Label("费用清单", "Cost list")),
    ),
    ClaimType.disability: COMMON
    + (
        DocumentRule(
            "diagnosis",
            Label("二级以上医院诊断证明", "Diagnosis (grade-2 hospital or above)"),
            medical=True,
        ),
        DocumentRule(
            "disability_assessment",
            Label("有资质机构的伤残鉴定", "Disability assessment by a qualified body"),
            original=True,
            medical=True,
        ),
    ),
    ClaimType.death: COMMON
    + (
        DocumentRule(
            "death_certificate", Label("死亡证明", "Death certificate"), original=True, medical=True
        ),
        DocumentRule(
            "household_deregistration",
            Label("户籍注销证明", "Household deregistration"),
            original=True,
        ),
        DocumentRule("beneficiary_id", Label("受益人身份证明", "ID of the beneficiary")),
        DocumentRule(
            "beneficiary_relation",
            Label("受益人关系证明", "Proof of the beneficiary's relationship"),
        ),
    ),
    ClaimType.third_party: COMMON
    + (
        DocumentRule("scene_photos", Label("事故现场照片", "Scene photos")),
        DocumentRule(
            "liability_proof", Label("责任认定或赔偿协议", "Liability finding or settlement")
        ),
        DocumentRule(
            "receipts", Label("损失费用原始票据", "Original receipts of the loss"), original=True
        ),
    ),
}
DOCUMENT_LABELS = {rule.code: rule.label for rules in CHECKLISTS.values() for rule in rules}

OPEN = (
    ClaimStatus.draft,
    ClaimStatus.submitted,
    ClaimStatus.with_insurer,
    ClaimStatus.supplement_requested,
    ClaimStatus.decided,
    ClaimStatus.agreed,
    ClaimStatus.disputed,
)


def _conflict(zh: str, en: str, field: str, rule: str) -> DomainError:
    message = text(zh, en)
    return DomainError(message, "conflict", 409, [FieldError(field, rule, message)])


def _require(claim: InsuranceClaim, *statuses: ClaimStatus) -> None:
    if claim.status not in statuses:
        raise _conflict(
            f"当前状态（{claim.status}）不能办理此步骤",
            f"Not possible while the claim is {claim.status}",
            "status",
            "wrong_status",
        )


def _record(session, actor, claim, step, decision="approve", **extra):
    return record_approval(
        session,
        actor,
        subject_type="claim",
        subject_id=claim.id,
        unit_path=claim.unit_path,
        step=step,
        decision=decision,
        party_user_id=claim.claimant_user_id,
        party_person_id=claim.claimant_person_id,
        **extra,
    )


# -- opening and documents -------------------------------------------------------------------


def open_claim(
    session: Session,
    actor: Actor,
    incident: Incident,
    *,
    policy_id: int,
    claim_type: ClaimType,
    claimed_fen: int,
    claimant_user_id: int | None = None,
    beneficiary_name: str | None = None,
    beneficiary_relation: str | None = None,
    payee_account: str | None = None,
    medical_notes: str | None = None,
    now: datetime | None = None,
) -> InsuranceClaim:
    """Open a draft claim on a policy that covered the volunteer on the incident's day.

    Raises:
        DomainError: the policy did not cover them then (409), the clerk is the claimant
            (403), the limitation period has passed (409).
    """
    now = now or utcnow()
    refuse_own(actor, claimant_user_id, incident.person_id)
    policy = session.get(InsurancePolicy, policy_id)
    day = china_day(incident.occurred_at)
    volunteer = session.get(Volunteer, incident.volunteer_id)
    if policy is None or not covers(session, policy, volunteer, day):
        raise _conflict(
            "该保单在出险日未覆盖此志愿者",
            "That policy did not cover the volunteer on the incident's day",
            "policy_id",
            "not_covered",
        )
    if china_day(now) > incident.limitation_deadline:
        raise _conflict(
            "已超过索赔时效", "The limitation period has ended", "incident_id", "time_barred"
        )
    year = china_day(now).year
    claim = InsuranceClaim(
        number=f"LP{year}-{next_number(session, 'insurance.claim', 'city', year):06d}",
        incident_id=incident.id,
        policy_id=policy.id,
        unit_id=incident.unit_id,
        unit_path=incident.unit_path,
        claim_type=claim_type.value,
        claimant_person_id=incident.person_id,
        claimant_user_id=claimant_user_id,
        beneficiary_name=beneficiary_name or None,
        beneficiary_relation=beneficiary_relation,
        payee_account=payee_account or None,
        medical_notes=medical_notes or None,
        claimed_fen=claimed_fen,
        limitation_deadline=incident.limitation_deadline,
        created_at=now,
    )
    session.add(claim)
    session.flush()
    for rule in CHECKLISTS[claim_type]:
        document = ClaimDocument(
            claim_id=claim.id,
            code=rule.code,
            required=rule.required,
            original_required=rule.original,
            medical=rule.medical,
        )
        if rule.code == "activity_record":  # the incident names the platform's own record
            document.received_at, document.original = now, True
        session.add(document)
    _record(session, actor, claim, "opened", decision="record", now=now)
    session.flush()
    return claim


def documents_of(session: Session, claim: InsuranceClaim) -> list[ClaimDocument]:
    """A claim's checklist in its order."""
    return list(
        session.exec(
            select(ClaimDocument)
            .where(ClaimDocument.claim_id == claim.id)
            .order_by(ClaimDocument.id)
        )
    )


def missing_documents(session: Session, claim: InsuranceClaim) -> list[str]:
    """Codes of required documents not received, or received as copies where originals are due."""
    return [
        document.code
        for document in documents_of(session, claim)
        if document.required
        and (document.received_at is None or (document.original_required and not document.original))
    ]


def receive_document(
    session: Session,
    actor: Actor,
    claim: InsuranceClaim,
    code: str,
    *,
    original: bool,
    file_id: int | None = None,
    now: datetime | None = None,
) -> ClaimDocument:
    """Tick a checklist item as received (original or copy), optionally with its scan."""
    refuse_own(actor, claim.claimant_user_id, claim.claimant_person_id)
    _require(
        claim,
        ClaimStatus.draft,
        ClaimStatus.submitted,
        ClaimStatus.supplement_requested,
        ClaimStatus.with_insurer,
        ClaimStatus.disputed,
    )
    document = session.exec(
        select(ClaimDocument).where(ClaimDocument.claim_id == claim.id, ClaimDocument.code == code)
    ).first()
    if document is None:
        raise DomainError(
            text("该类理赔没有这项材料", "No such document for this claim type"),
            "validation_failed",
            400,
            [FieldError("code", "unknown", code)],
        )
    document.received_at = now or utcnow()
    document.original = original
    if file_id is not None:
        document.file_id = file_id
    session.add(document)
    session.flush()
    return document


# -- the clocks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """Where a claim stands against the insurer's deadlines at ``now``."""

    insurer_days_used: timedelta | None
    decision_due: datetime | None
    paused: bool
    decision_overdue: bool
    payment_due: datetime | None
    payment_overdue: bool
    denial_notice_due: datetime | None
    denial_notice_overdue: bool


def supplements_of(session: Session, claim: InsuranceClaim) -> list[SupplementPeriod]:
    """A claim's supplement periods, oldest first."""
    return list(
        session.exec(
            select(SupplementPeriod)
            .where(SupplementPeriod.claim_id == claim.id)
            .order_by(SupplementPeriod.id)
        )
    )


def paused_for(
    claim: InsuranceClaim, supplements: list[SupplementPeriod], now: datetime
) -> timedelta:
    """Time spent supplementing documents since the claim last went to the insurer."""
    start = claim.submitted_to_insurer_at
    total = timedelta(0)
    for period in supplements:
        if start is None or period.requested_at < start:
            continue
        total += (period.provided_at or now) - period.requested_at
    return total


def clock(session: Session, claim: InsuranceClaim, now: datetime | None = None) -> Clock:
    """The claim's clocks at ``now`` (the decision clock excludes supplement periods)."""
    now = now or utcnow()
    on = china_day(claim.submitted_to_insurer_at or claim.created_at)
    decision_days = setting(session, claim.unit_path, DECISION_DAYS, on)
    supplements = supplements_of(session, claim)
    used = decision_due = None
    paused = claim.status == ClaimStatus.supplement_requested
    overdue = False
    if claim.submitted_to_insurer_at is not None:
        until = (
            claim.decided_at
            if claim.decided_at and claim.decided_at >= claim.submitted_to_insurer_at
            else now
        )
        pause = paused_for(claim, supplements, until)
        used = until - claim.submitted_to_insurer_at - pause
        decision_due = claim.submitted_to_insurer_at + timedelta(days=decision_days) + pause
        overdue = claim.status == ClaimStatus.with_insurer and now > decision_due
    payment_due = None
    payment_overdue = False
    if claim.agreed_at is not None:
        payment_due = claim.agreed_at + timedelta(
            days=setting(session, claim.unit_path, PAYMENT_DAYS, china_day(claim.agreed_at))
        )
        payment_overdue = claim.status == ClaimStatus.agreed and now > payment_due
    notice_due = None
    notice_overdue = False
    if claim.decision == Decision.rejected and claim.decided_at is not None:
        notice_due = claim.decided_at + timedelta(
            days=setting(session, claim.unit_path, DENIAL_NOTICE_DAYS, china_day(claim.decided_at))
        )
        notice_overdue = claim.denial_notice_at is None and now > notice_due
    return Clock(
        used,
        decision_due,
        paused,
        overdue,
        payment_due,
        payment_overdue,
        notice_due,
        notice_overdue,
    )


# -- the steps -------------------------------------------------------------------------------


def submit(
    session: Session, actor: Actor, claim: InsuranceClaim, now: datetime | None = None
) -> InsuranceClaim:
    """Draft → submitted, once every required document is in (originals where due)."""
    refuse_own(actor, claim.claimant_user_id, claim.claimant_person_id)
    _require(claim, ClaimStatus.draft)
    missing = missing_documents(session, claim)
    if missing:
        names = "、".join(DOCUMENT_LABELS[code].zh for code in missing)
        names_en = ", ".join(DOCUMENT_LABELS[code].en for code in missing)
        message = text(f"材料不全：{names}", f"Documents missing: {names_en}")
        raise DomainError(
            message,
            "conflict",
            409,
            [FieldError(f"documents.{code}", "missing", message) for code in missing],
        )
    claim.status = ClaimStatus.submitted.value
    claim.submitted_at = now or utcnow()
    return _save(session, actor, claim, "submitted_checked", now)


def send_to_insurer(
    session: Session, actor: Actor, claim: InsuranceClaim, at: datetime | None = None
) -> InsuranceClaim:
    """Submitted → with the insurer; the decision clock starts at ``at``."""
    refuse_own(actor, claim.claimant_user_id, claim.claimant_person_id)
    _require(claim, ClaimStatus.submitted)
    claim.status = ClaimStatus.with_insurer.value
    claim.submitted_to_insurer_at = at or utcnow()
    return _save(session, actor, claim, "sent", at)


def request_supplement(
    session: Session, actor: Actor, claim: InsuranceClaim, what: str, at: datetime | None = None
) -> InsuranceClaim:
    """With the insurer → supplementing: the insurer asked for more; its clock pauses."""
    refuse_own(actor, claim.claimant_user_id, claim.claimant_person_id)
    _require(claim, ClaimStatus.with_insurer)
    at = at or utcnow()
    if claim.submitted_to_insurer_at and at < claim.submitted_to_insurer_at:
        raise _conflict(
            "补充材料要求早于报送时间", "Requested before the claim was sent", "at", "before_sent"
        )
    session.add(SupplementPeriod(claim_id=claim.id, requested_at=at, what=what))
    claim.status = ClaimStatus.supplement_requested.value
    return _save(session, actor, claim, "supplement_requested", at, note=what)


def supplement_provided(
    session: Session, actor: Actor, claim: InsuranceClaim, at: datetime | None = None
) -> InsuranceClaim:
    """Supplementing → with the insurer: the documents were provided; its clock resumes."""
    refuse_own(actor, claim.claimant_user_id, claim.claimant_person_id)
    _require(claim, ClaimStatus.supplement_requested)
    at = at or utcnow()
    period = session.exec(
        select(SupplementPeriod).where(
            SupplementPeriod.claim_id == claim.id, col(SupplementPeriod.provided_at).is_(None)
        )
    ).one()
    if at < period.requested_at:
        raise _conflict(
            "补充时间早于要求时间", "Provided before it was requested", "at", "before_request"
        )
    period.provided_at = at
    session.add(period)
    claim.status = ClaimStatus.with_insurer.value
    return _save(session, actor, claim, "supplement_provided", at)


def decide(
    session: Session,
    actor: Actor,
    claim: InsuranceClaim,
    decision: Decision,
    *,
    approved_fen: int | None = None,
    reason: str | None = None,
    notice_sent: bool = False,
    at: datetime | None = None,
) -> InsuranceClaim:
    """Record the insurer's decision: an amount (not above the claim), or a rejection and why."""
    refuse_own(actor, claim.claimant_user_id, claim.claimant_person_id)
    _require(claim, ClaimStatus.with_insurer)
    at = at or utcnow()
    if decision == Decision.rejected:
        if not reason:
            raise DomainError(
                text("拒赔须记录理由", "A rejection needs its reason"),
                "validation_failed",
                400,
                [FieldError("reason", "missing", "")],
            )
        claim.approved_fen = 0
        claim.rejection_reason = reason
        claim.denial_notice_at = at if notice_sent else None
    else:
        if approved_fen is None or approved_fen <= 0:
            raise DomainError(
                text("须记录核定金额", "The approved amount is required"),
                "validation_failed",
                400,
                [FieldError("approved_fen", "missing", "")],
            )
        if approved_fen > claim.claimed_fen:
            raise DomainError(
                text("核定金额不能超过申请金额", "The approved amount may not exceed the claim"),
                "validation_failed",
                400,
                [FieldError("approved_fen", "above_claimed", str(claim.claimed_fen))],
            )
        if decision == Decision.approved and approved_fen != claim.claimed_fen:
            decision = Decision.partial
        claim.approved_fen = approved_fen
    claim.decision = decision.value
    claim.decided_at = at
    claim.status = ClaimStatus.decided.value
    return _save(session, actor, claim, "decided", at, amount_fen=claim.approved_fen, reason=reason)


def record_denial_notice(
    session: Session, actor: Actor, claim: InsuranceClaim, at: datetime | None = None
) -> InsuranceClaim:
    """Record that the insurer's denial notice (with reasons) reached the claimant."""
    _require(claim, ClaimStatus.decided, ClaimStatus.disputed, ClaimStatus.closed)
    if claim.decision != Decision.rejected:
        raise _conflict(
            "只有拒赔需要拒赔通知",
            "Only a rejection has a denial notice",
            "decision",
            "not_rejected",
        )
    claim.denial_notice_at = at or utcnow()
    return _save(session, actor, claim, "denial_notice", at)


def agree(
    session: Session,
    actor: Actor,
    claim: InsuranceClaim,
    *,
    claimant_confirmed: bool,
    at: datetime | None = None,
) -> InsuranceClaim:
    """Decided (an amount) → agreed, with the claimant's confirmation; payment is due in days."""
    refuse_own(actor, claim.claimant_user_id, claim.claimant_person_id)
    _require(claim, ClaimStatus.decided)
    if claim.decision == Decision.rejected:
        raise _conflict(
            "拒赔不能达成赔付协议",
            "A rejection cannot be agreed to a payment",
            "decision",
            "rejected",
        )
    if not claimant_confirmed:
        raise DomainError(
            text("须经申请人确认接受核定金额", "The claimant must confirm the amount"),
            "validation_failed",
            400,
            [FieldError("claimant_confirmed", "required", "false")],
        )
    claim.agreed_at = at or utcnow()
    claim.status = ClaimStatus.agreed.value
    return _save(session, actor, claim, "agreed", at, amount_fen=claim.approved_fen)


def record_payment(
    session: Session,
    actor: Actor,
    claim: InsuranceClaim,
    *,
    paid_fen: int,
    bank_ref: str | None,
    at: datetime | None = None,
) -> InsuranceClaim:
    """Agreed → paid: finance records the insurer's payment.

    Never the claimant, never whoever recorded the agreement.
    """
    refuse_own(actor, claim.claimant_user_id, claim.claimant_person_id)
    refuse_same_hand(session, actor, "claim", claim.id, "paid")
    _require(claim, ClaimStatus.agreed)
    if paid_fen != claim.approved_fen:
        raise DomainError(
            text("赔付金额须等于协议金额", "The payment must equal the agreed amount"),
            "conflict",
            409,
            [FieldError("paid_fen", "not_agreed_amount", str(claim.approved_fen))],
        )
    at = at or utcnow()
    payments.record_insurer_payment(
        session,
        actor,
        claim=claim,
        policy=session.get(InsurancePolicy, claim.policy_id),
        amount_fen=paid_fen,
        bank_ref=bank_ref,
        payee_account=claim.payee_account,
        now=at,
    )
    claim.paid_at = at
    claim.paid_fen = paid_fen
    claim.status = ClaimStatus.paid.value
    return _save(session, actor, claim, "paid", at, amount_fen=paid_fen)


def dispute(
    session: Session, actor: Actor, claim: InsuranceClaim, reason: str, at: datetime | None = None
) -> InsuranceClaim:
    """Decided or agreed → disputed: the claimant contests the decision."""
    _require(claim, ClaimStatus.decided, ClaimStatus.agreed)
    claim.status = ClaimStatus.disputed.value
    claim.reason = reason
    return _save(session, actor, claim, "disputed", at, reason=reason, decision="record")


def resubmit(
    session: Session, actor: Actor, claim: InsuranceClaim, at: datetime | None = None
) -> InsuranceClaim:
    """Disputed → with the insurer again; its clock starts afresh."""
    refuse_own(actor, claim.claimant_user_id, claim.claimant_person_id)
    _require(claim, ClaimStatus.disputed)
    at = at or utcnow()
    claim.status = ClaimStatus.with_insurer.value
    claim.submitted_to_insurer_at = at
    claim.decision = claim.decided_at = claim.agreed_at = claim.approved_fen = None
    return _save(session, actor, claim, "resubmitted", at)


def close(
    session: Session, actor: Actor, claim: InsuranceClaim, at: datetime | None = None
) -> InsuranceClaim:
    """Paid, a rejection accepted, or a dispute ended → closed."""
    refuse_own(actor, claim.claimant_user_id, claim.claimant_person_id)
    _require(claim, ClaimStatus.paid, ClaimStatus.decided, ClaimStatus.disputed)
    if claim.status == ClaimStatus.decided and claim.decision != Decision.rejected:
        raise _conflict(
            "核定赔付的理赔须先赔付", "An approved claim is paid before closing", "status", "unpaid"
        )
    if claim.decision == Decision.rejected and claim.denial_notice_at is None:
        raise _conflict(
            "拒赔须先记录拒赔通知", "Record the denial notice first", "denial_notice_at", "missing"
        )
    claim.status = ClaimStatus.closed.value
    claim.closed_at = at or utcnow()
    return _save(session, actor, claim, "closed", at)


def withdraw(
    session: Session, actor: Actor, claim: InsuranceClaim, reason: str, at: datetime | None = None
) -> InsuranceClaim:
    """Any claim not yet paid → withdrawn, with a reason (by the claimant or the clerk)."""
    _require(claim, *OPEN)
    if not reason:
        raise DomainError(
            text("撤回须说明理由", "A withdrawal needs a reason"),
            "validation_failed",
            400,
            [FieldError("reason", "missing", "")],
        )
    claim.status = ClaimStatus.withdrawn.value
    claim.reason = reason
    step = "withdrawn"
    return _save(session, actor, claim, step, at, reason=reason, decision="record")


def _save(session, actor, claim, step, at, decision="approve", **extra) -> InsuranceClaim:
    session.add(claim)
    _record(session, actor, claim, step, decision=decision, now=at, **extra)
    session.flush()
    return claim
