"""Paying a document from its commitments, and reversing a payment.

A payment consumes the document's reserved commitments: one entry per payment posts, for each
commitment, Dr reserve / Cr encumbrance (the reservation is used) and Dr expense / Cr fund
(money leaves the source's account). Reversing a payment posts the reversal of that entry and
puts the commitments back to reserved. A payment made by the insurer straight to the
beneficiary is recorded on memorandum accounts (Dr insurer paid / Cr insurer due) so that
every payment has its entry.
"""

from datetime import datetime

from sqlmodel import Session, col, select

from core.errors import DomainError, FieldError
from core.i18n import text
from core.numbering import next_number
from core.units.models import utcnow
from plugins.insurance import ledger
from plugins.insurance.approvals import Actor
from plugins.insurance.budgets import commitments_of, settle_lines
from plugins.insurance.clock import china_day
from plugins.insurance.funding import refresh_status
from plugins.insurance.models import Commitment, FundingSource, InsurancePolicy, Payment
from plugins.insurance.vocab import AccountKind, CommitmentState, PaymentMethod

VOUCHER_SERIES = "insurance.voucher"


def voucher_number(session: Session, unit_id: int, at: datetime) -> str:
    """``PZ<year>-<unit>-<n>``: numbered per unit and year, never reused."""
    year = china_day(at).year
    number = next_number(session, VOUCHER_SERIES, str(unit_id), year)
    return f"PZ{year}-{unit_id}-{number:06d}"


def pay(
    session: Session,
    actor: Actor,
    *,
    doc_type: str,
    doc,
    amount_fen: int,
    method: PaymentMethod,
    payee_person_id: int | None,
    payee_account: str | None,
    bank_ref: str | None = None,
    now: datetime | None = None,
) -> Payment:
    """Pay ``doc`` from its reserved commitments.

    Raises:
        DomainError: nothing reserved, or an amount different from what was reserved (409);
            a bank payment without a payee account (400).
    """
    now = now or utcnow()
    reserved = commitments_of(session, doc_type, doc.id, CommitmentState.reserved)
    if not reserved:
        raise DomainError(
            text("没有可支付的预算占用", "Nothing is reserved to pay from"),
            "conflict",
            409,
            [FieldError("amount_fen", "not_reserved", str(doc.id))],
        )
    total = sum(c.amount_fen for c in reserved)
    if amount_fen != total:
        raise DomainError(
            text("支付金额须等于批准金额", "The payment must equal the approved amount"),
            "conflict",
            409,
            [FieldError("amount_fen", "not_approved_amount", f"{amount_fen} ≠ {total}")],
        )
    if method == PaymentMethod.bank and not payee_account:
        raise DomainError(
            text("银行转账须有收款账户", "A bank transfer needs the payee's account"),
            "validation_failed",
            400,
            [FieldError("payee_account", "missing", "")],
        )
    lines = [line for commitment in reserved for line in settle_lines(session, commitment)]
    entry = ledger.post(
        session,
        unit_id=doc.unit_id,
        unit_path=doc.unit_path,
        kind="payment",
        memo=f"付款 · {doc_type} {doc.id}",
        lines=lines,
        doc_type=doc_type,
        doc_id=doc.id,
        user_id=actor.user_id,
        address=actor.address,
        now=now,
    )
    for commitment in reserved:
        commitment.state = CommitmentState.consumed.value
        commitment.settle_entry_id = entry.id
        session.add(commitment)
    payment = Payment(
        unit_id=doc.unit_id,
        unit_path=doc.unit_path,
        doc_type=doc_type,
        doc_id=doc.id,
        payee_person_id=payee_person_id,
        payee_account=payee_account,
        amount_fen=amount_fen,
        method=method.value,
        voucher_no=voucher_number(session, doc.unit_id, now),
        bank_ref=bank_ref,
        entry_id=entry.id,
        paid_by_user_id=actor.user_id,
        paid_at=now,
        address=actor.address,
    )
    session.add(payment)
    session.flush()
    for commitment in reserved:
        refresh_status(session, session.get(FundingSource, commitment.source_id))
    return payment


def reverse_payment(
    session: Session, actor: Actor, payment: Payment, reason: str, now: datetime | None = None
) -> Payment:
    """Reverse a payment (a returned transfer, a wrong payee).

    The money is back on its source and the commitments are reserved again.

    Raises:
        DomainError: already reversed, or without a ledger entry (409).
    """
    if payment.reversed_at is not None:
        raise DomainError(
            text("该付款已冲销", "This payment was reversed already"),
            "conflict",
            409,
            [FieldError("payment_id", "already_reversed", str(payment.id))],
        )
    entry = session.get(ledger.JournalEntry, payment.entry_id) if payment.entry_id else None
    if entry is None:
        raise DomainError(
            text("该付款没有记账分录，不能冲销", "This payment has no ledger entry to reverse"),
            "conflict",
            409,
            [FieldError("payment_id", "no_entry", str(payment.id))],
        )
    reversal = ledger.reverse(
        session,
        entry,
        memo=f"冲销付款 {payment.voucher_no} · {reason}"[:300],
        user_id=actor.user_id,
        address=actor.address,
        now=now,
    )
    if payment.method != PaymentMethod.insurer:
        for commitment in session.exec(
            select(Commitment).where(Commitment.settle_entry_id == entry.id)
        ).all():
            commitment.state = CommitmentState.reserved.value
            commitment.settle_entry_id = None
            session.add(commitment)
    payment.reversed_at = now or utcnow()
    payment.reversal_entry_id = reversal.id
    session.add(payment)
    session.flush()
    return payment


def record_insurer_payment(
    session: Session,
    actor: Actor,
    *,
    claim,
    policy: InsurancePolicy,
    amount_fen: int,
    bank_ref: str | None,
    payee_account: str | None,
    now: datetime | None = None,
) -> Payment:
    """Record what the insurer paid the beneficiary, on the policy's memorandum accounts."""
    now = now or utcnow()
    paid = ledger.account(
        session,
        f"insurer_paid:P{policy.id}",
        AccountKind.insurer_paid,
        f"保险公司已赔付 · {policy.insurer} {policy.policy_no}",
        unit_id=policy.unit_id,
        unit_path=policy.unit_path,
    )
    due = ledger.account(
        session,
        f"insurer_due:P{policy.id}",
        AccountKind.insurer_due,
        f"保险公司应赔付 · {policy.insurer} {policy.policy_no}",
        unit_id=policy.unit_id,
        unit_path=policy.unit_path,
    )
    entry = ledger.post(
        session,
        unit_id=claim.unit_id,
        unit_path=claim.unit_path,
        kind="claim_payment",
        memo=f"保险赔付 · {claim.number}",
        lines=[ledger.Line(paid, amount_fen), ledger.Line(due, -amount_fen)],
        doc_type="claim",
        doc_id=claim.id,
        user_id=actor.user_id,
        address=actor.address,
        now=now,
    )
    payment = Payment(
        unit_id=claim.unit_id,
        unit_path=claim.unit_path,
        doc_type="claim",
        doc_id=claim.id,
        payee_person_id=claim.claimant_person_id,
        payee_account=payee_account,
        amount_fen=amount_fen,
        method=PaymentMethod.insurer.value,
        voucher_no=voucher_number(session, claim.unit_id, now),
        bank_ref=bank_ref,
        entry_id=entry.id,
        paid_by_user_id=actor.user_id,
        paid_at=now,
        address=actor.address,
    )
    session.add(payment)
    session.flush()
    return payment


def payments_of(session: Session, doc_type: str, doc_id: int) -> list[Payment]:
    """A document's payments, oldest first."""
    return list(
        session.exec(
            select(Payment)
            .where(Payment.doc_type == doc_type, Payment.doc_id == doc_id)
            .order_by(col(Payment.id))
        )
    )
