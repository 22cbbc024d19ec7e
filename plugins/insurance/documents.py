"""The documents that commit budget and get paid, described once for budgets and payments.

Reimbursements (``expense``), rewards (``reward``), compensation aid paid by the platform
(``compensation``) and policy premiums (``premium``) each draw on a budget category, have an
amount to commit, a party (the claimant or recipient, who may not decide on them) and a day
that fixes the fiscal year and the rules in force.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from core.errors import DomainError, FieldError
from core.i18n import text
from plugins.insurance.clock import china_day
from plugins.insurance.models import CompensationCase, ExpenseClaim, InsurancePolicy, Reward
from plugins.insurance.vocab import (
    Category,
    CompensationStatus,
    ExpenseStatus,
    RewardKind,
    RewardStatus,
)


@dataclass(frozen=True)
class DocKind:
    """How budgets and payments see one kind of document."""

    name: str
    model: type
    category: Callable[[Any], str]
    amount: Callable[[Any], int]
    party: Callable[[Any], tuple[int | None, int | None]]
    day: Callable[[Any], date]


DOCS: dict[str, DocKind] = {
    kind.name: kind
    for kind in (
        DocKind(
            "expense",
            ExpenseClaim,
            lambda doc: Category.reimbursement.value,
            lambda doc: doc.sanctioned_fen if doc.sanctioned_fen is not None else doc.claimed_fen,
            lambda doc: (doc.claimant_user_id, doc.claimant_person_id),
            lambda doc: doc.activity_date,
        ),
        DocKind(
            "reward",
            Reward,
            lambda doc: (
                Category.case_subsidy.value
                if doc.kind == RewardKind.case_subsidy
                else Category.reward.value
            ),
            lambda doc: doc.amount_fen,
            lambda doc: (None, doc.recipient_person_id),
            lambda doc: china_day(doc.proposed_at),
        ),
        DocKind(
            "compensation",
            CompensationCase,
            lambda doc: Category.compensation.value,
            lambda doc: doc.platform_fen or 0,
            lambda doc: (None, doc.person_id),
            lambda doc: china_day(doc.referred_at),
        ),
        DocKind(
            "premium",
            InsurancePolicy,
            lambda doc: Category.premium.value,
            lambda doc: doc.premium_fen,
            lambda doc: (None, None),
            lambda doc: doc.period_from,
        ),
    )
}


#: The status a paid document returns to when its payment is reversed.
REOPENED = {
    "expense": ("status", ExpenseStatus.approved.value),
    "reward": ("status", RewardStatus.approved.value),
    "compensation": ("status", CompensationStatus.platform_approved.value),
    "premium": ("premium_paid", False),
}


def reopen(session: Session, doc_type: str, doc_id: int) -> None:
    """Put a document whose payment was reversed back to payable."""
    attribute, value = REOPENED[doc_type]
    doc = session.get(DOCS[doc_type].model, doc_id)
    setattr(doc, attribute, value)
    session.add(doc)
    session.flush()


def load(session: Session, doc_type: str, doc_id: int, path: str) -> Any:
    """The document of that kind and id within the subtree of ``path``.

    Raises:
        DomainError: unknown kind (400) or no such document in reach (404).
    """
    kind = DOCS.get(doc_type)
    if kind is None:
        raise DomainError(
            text("没有这种单据", "No such kind of document"),
            "validation_failed",
            400,
            [FieldError("doc_type", "unknown", doc_type)],
        )
    doc = session.get(kind.model, doc_id)
    if doc is None or not doc.unit_path.startswith(path):
        raise DomainError(
            text("没有这份单据", "No such document"),
            "not_found",
            404,
            [FieldError("doc_id", "not_found", str(doc_id))],
        )
    return doc
