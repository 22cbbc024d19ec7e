"""Approving and paying a document that spends budget: one rule for every kind.

Approval is taken at the level the amount needs (per-unit tiers with a valid-from date) by a
holder of the kind's approve action, who is neither the document's party nor whoever took
an incompatible step on it; it passes budget control and reserves the commitment. Payment is
made by a cashier who neither is the party nor approved it; it consumes the commitment.
"""

from datetime import datetime

from sqlmodel import Session

from core.units.models import utcnow
from plugins.insurance import budgets, payments
from plugins.insurance.approvals import (
    Actor,
    record_approval,
    refuse_own,
    refuse_same_hand,
    require_level,
    required_level,
)
from plugins.insurance.clock import china_day
from plugins.insurance.documents import DOCS
from plugins.insurance.models import Approval, Payment
from plugins.insurance.vocab import PaymentMethod


def approve(
    session: Session,
    actor: Actor,
    doc_type: str,
    doc,
    *,
    action: str,
    step: str = "approved",
    now: datetime | None = None,
) -> tuple[Approval, budgets.Control]:
    """Approve ``doc`` at the level its amount needs and reserve its budget.

    Raises:
        DomainError: own document or same hand (403 ``four_eyes``), level too low (403
            ``approval_level``), no budget or beyond a stopping budget (409).
    """
    now = now or utcnow()
    kind = DOCS[doc_type]
    party_user, party_person = kind.party(doc)
    refuse_own(actor, party_user, party_person)
    refuse_same_hand(session, actor, doc_type, doc.id, step)
    amount = kind.amount(doc)
    on = china_day(now)
    level = required_level(session, doc.unit_path, amount, on)
    grant = require_level(actor.principal, action, doc.unit_path, level)
    _, control = budgets.reserve(
        session, doc_type, doc, amount, on=on, user_id=actor.user_id, address=actor.address, now=now
    )
    approval = record_approval(
        session,
        actor,
        subject_type=doc_type,
        subject_id=doc.id,
        unit_path=doc.unit_path,
        step=step,
        party_user_id=party_user,
        party_person_id=party_person,
        amount_fen=amount,
        note=control.warning,
        acting_unit_id=grant.unit_id,
        now=now,
    )
    return approval, control


def pay(
    session: Session,
    actor: Actor,
    doc_type: str,
    doc,
    *,
    method: PaymentMethod,
    payee_account: str | None,
    bank_ref: str | None = None,
    now: datetime | None = None,
) -> Payment:
    """Pay an approved document from its commitments (four eyes with its approver).

    Raises:
        DomainError: own document or same hand (403), nothing reserved or another amount (409).
    """
    now = now or utcnow()
    kind = DOCS[doc_type]
    party_user, party_person = kind.party(doc)
    refuse_own(actor, party_user, party_person)
    refuse_same_hand(session, actor, doc_type, doc.id, "paid")
    amount = kind.amount(doc)
    payment = payments.pay(
        session,
        actor,
        doc_type=doc_type,
        doc=doc,
        amount_fen=amount,
        method=method,
        payee_person_id=party_person,
        payee_account=payee_account,
        bank_ref=bank_ref,
        now=now,
    )
    record_approval(
        session,
        actor,
        subject_type=doc_type,
        subject_id=doc.id,
        unit_path=doc.unit_path,
        step="paid",
        party_user_id=party_user,
        party_person_id=party_person,
        amount_fen=amount,
        note=payment.voucher_no,
        now=now,
    )
    return payment
