"""Funding sources: allocations, donations, grants; donors' questions.

Sources are government allocations, donations (with restrictions and legal receipts) and
foundation grants.

Receiving money posts it to the source's own fund account (a dedicated account per donation):
Dr fund / Cr revenue. A donation moves received → receipted (公益事业捐赠票据 issued) →
allocated (a budget draws on it) → utilised (money paid from it) → disclosed (in a published
disclosure).
"""

from datetime import date, datetime

from sqlmodel import Session, col, func, select

from core.errors import DomainError, FieldError
from core.i18n import text
from core.units.models import Unit, utcnow
from plugins.insurance import ledger
from plugins.insurance.approvals import Actor, record_approval
from plugins.insurance.models import (
    Budget,
    BudgetAllocation,
    Commitment,
    DonorQuery,
    FundingSource,
)
from plugins.insurance.vocab import (
    AccountKind,
    BudgetStatus,
    Category,
    CommitmentState,
    SourceKind,
    SourceStatus,
)

GIFTS = (SourceKind.donation, SourceKind.foundation)


def fund_account(session: Session, source: FundingSource):
    """The source's fund account (its dedicated bank account)."""
    return ledger.account(
        session,
        f"fund:S{source.id}",
        AccountKind.fund,
        f"资金专户 · {source.name}",
        unit_id=source.unit_id,
        unit_path=source.unit_path,
        source_id=source.id,
    )


def revenue_account(session: Session, source: FundingSource):
    """The source's revenue account."""
    return ledger.account(
        session,
        f"revenue:S{source.id}",
        AccountKind.revenue,
        f"收入 · {source.name}",
        unit_id=source.unit_id,
        unit_path=source.unit_path,
        source_id=source.id,
    )


def receive(
    session: Session,
    actor: Actor,
    unit: Unit,
    *,
    kind: SourceKind,
    name: str,
    amount_fen: int,
    received_on: date,
    donor_name: str | None = None,
    donor_public: bool = False,
    restriction_categories: list[Category] | None = None,
    restriction_until: date | None = None,
    purpose: str | None = None,
    bank_account: str | None = None,
    now: datetime | None = None,
) -> FundingSource:
    """Record money received and post it to the source's fund account.

    Raises:
        DomainError: a restriction or donor on a government allocation (400).
    """
    if kind == SourceKind.government and (donor_name or restriction_categories):
        raise DomainError(
            text(
                "财政拨款没有捐赠人或限定用途",
                "A government allocation has no donor or restriction",
            ),
            "validation_failed",
            400,
            [FieldError("kind", "government_plain", kind.value)],
        )
    source = FundingSource(
        unit_id=unit.id,
        unit_path=unit.path,
        kind=kind.value,
        name=name,
        donor_name=donor_name or None,
        donor_public=donor_public and bool(donor_name),
        restriction_categories=[c.value for c in restriction_categories]
        if restriction_categories
        else None,
        restriction_until=restriction_until,
        purpose=purpose,
        received_on=received_on,
        amount_fen=amount_fen,
        bank_account=bank_account or None,
        status=SourceStatus.received.value,
        created_by_user_id=actor.user_id,
    )
    session.add(source)
    session.flush()
    ledger.post(
        session,
        unit_id=unit.id,
        unit_path=unit.path,
        kind="funding",
        memo=f"收到资金 · {name}",
        lines=[
            ledger.Line(fund_account(session, source), amount_fen),
            ledger.Line(revenue_account(session, source), -amount_fen),
        ],
        doc_type="source",
        doc_id=source.id,
        user_id=actor.user_id,
        address=actor.address,
        now=now,
    )
    record_approval(
        session,
        actor,
        subject_type="source",
        subject_id=source.id,
        unit_path=unit.path,
        step="received",
        decision="record",
        amount_fen=amount_fen,
        now=now,
    )
    return source


def issue_receipt(
    session: Session,
    actor: Actor,
    source: FundingSource,
    receipt_no: str,
    now: datetime | None = None,
) -> FundingSource:
    """Record the legal donation receipt (公益事业捐赠票据) issued for a gift.

    Raises:
        DomainError: not a gift, already receipted, or the number used before (409).
    """
    if source.kind not in GIFTS:
        raise DomainError(
            text("只有捐赠需要开具捐赠票据", "Only gifts get a donation receipt"),
            "conflict",
            409,
            [FieldError("receipt_no", "not_a_gift", source.kind)],
        )
    if source.receipt_no is not None:
        raise DomainError(
            text("已开具捐赠票据", "A receipt was issued already"),
            "conflict",
            409,
            [FieldError("receipt_no", "already_receipted", source.receipt_no)],
        )
    taken = session.exec(
        select(FundingSource.id).where(FundingSource.receipt_no == receipt_no)
    ).first()
    if taken is not None:
        raise DomainError(
            text("票据号已被使用", "This receipt number is taken"),
            "conflict",
            409,
            [FieldError("receipt_no", "unique", receipt_no)],
        )
    source.receipt_no = receipt_no
    source.receipted_at = now or utcnow()
    if source.status == SourceStatus.received:
        source.status = SourceStatus.receipted.value
    session.add(source)
    record_approval(
        session,
        actor,
        subject_type="source",
        subject_id=source.id,
        unit_path=source.unit_path,
        step="receipted",
        decision="record",
        now=now,
    )
    session.flush()
    return source


def allocated_fen(session: Session, source_id: int, *, excluding_lineage: int | None = None) -> int:
    """How much of a source active (or submitted) budgets draw on."""
    query = (
        select(func.coalesce(func.sum(BudgetAllocation.amount_fen), 0))
        .join(Budget, Budget.id == BudgetAllocation.budget_id)
        .where(
            BudgetAllocation.source_id == source_id,
            col(Budget.status).in_([BudgetStatus.active.value]),
        )
    )
    if excluding_lineage is not None:
        query = query.where(Budget.lineage_id != excluding_lineage)
    return int(session.exec(query).one())


def spent_fen(session: Session, source_id: int) -> int:
    """How much has been paid from a source."""
    return int(
        session.exec(
            select(func.coalesce(func.sum(Commitment.amount_fen), 0)).where(
                Commitment.source_id == source_id,
                Commitment.state == CommitmentState.consumed.value,
            )
        ).one()
    )


def refresh_status(session: Session, source: FundingSource) -> None:
    """Move a source forward to allocated or utilised as budgets draw on it and money is paid."""
    if source.status == SourceStatus.disclosed:
        return
    order = [s.value for s in SourceStatus]
    target = source.status
    if spent_fen(session, source.id) > 0:
        target = SourceStatus.utilised.value
    elif allocated_fen(session, source.id) > 0:
        target = SourceStatus.allocated.value
    if order.index(target) > order.index(source.status):
        source.status = target
        session.add(source)


def allows(source: FundingSource, category: str, fiscal_year: int) -> bool:
    """Whether a restricted gift may fund ``category`` in ``fiscal_year``."""
    if source.restriction_categories and category not in source.restriction_categories:
        return False
    return source.restriction_until is None or source.restriction_until.year >= fiscal_year


def ask(session: Session, source: FundingSource, question: str, received_on: date) -> DonorQuery:
    """Record a donor's question about their gift."""
    query = DonorQuery(
        source_id=source.id, unit_path=source.unit_path, received_on=received_on, question=question
    )
    session.add(query)
    session.flush()
    return query


def answer(
    session: Session, actor: Actor, query: DonorQuery, answer_text: str, now: datetime | None = None
) -> DonorQuery:
    """Record the answer to a donor's question.

    Raises:
        DomainError: answered already (409).
    """
    if query.answered_at is not None:
        raise DomainError(
            text("该查询已答复", "This question was answered already"),
            "conflict",
            409,
            [FieldError("answer", "already_answered", str(query.id))],
        )
    query.answer = answer_text
    query.answered_at = now or utcnow()
    query.answered_by_user_id = actor.user_id
    session.add(query)
    session.flush()
    return query
