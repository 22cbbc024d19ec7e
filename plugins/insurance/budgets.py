"""Budgets per unit, year and category, funded by allocations from sources; budget control.

A budget moves draft → submitted → active; a revision is a new version of the same lineage
that, once approved, makes the old one ``revised`` (read-only). Only one version of a lineage
is active. Every commitment (an approved reimbursement, reward, platform aid or premium)
passes budget control at the unit's nearest active budget for the year and category (a
parent's budget covers its children): a warning from the warning threshold on, a stop beyond
the stop threshold unless the exception approver has signed for that document (thresholds
are per-unit configuration with a valid-from date). A commitment reserves money on the
sources its budget allocates, restricted gifts first for their purposes, and is posted
Dr encumbrance / Cr reserve; releasing it posts the reversal.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from core.access import path_in
from core.errors import DomainError, FieldError
from core.i18n import text
from core.units.models import Unit, utcnow
from plugins.insurance import ledger
from plugins.insurance.approvals import (
    Actor,
    record_approval,
    refuse_own,
    refuse_same_hand,
)
from plugins.insurance.config import STOP_PERCENT, WARN_PERCENT, ancestor_ids, setting
from plugins.insurance.documents import DOCS
from plugins.insurance.funding import allocated_fen, allows, refresh_status
from plugins.insurance.models import (
    Budget,
    BudgetAllocation,
    BudgetException,
    Commitment,
    FundingSource,
)
from plugins.insurance.money import yuan
from plugins.insurance.vocab import (
    CATEGORY_LABELS,
    AccountKind,
    BudgetStatus,
    Category,
    CommitmentState,
    OnExceed,
)

HOLDING = (CommitmentState.reserved.value, CommitmentState.consumed.value)


def _conflict(
    message_zh: str, message_en: str, field: str, rule: str, value: str = ""
) -> DomainError:
    message = text(message_zh, message_en)
    return DomainError(message, "conflict", 409, [FieldError(field, rule, value or message)])


# -- accounts --------------------------------------------------------------------------------


def _budget_account(session: Session, kind: AccountKind, budget: Budget, source: FundingSource):
    label = CATEGORY_LABELS[Category(budget.category)].zh
    names = {
        AccountKind.encumbrance: "预算占用",
        AccountKind.reserve: "占用准备",
        AccountKind.expense: "支出",
    }
    return ledger.account(
        session,
        f"{kind.value}:B{budget.lineage_id}:S{source.id}",
        kind,
        f"{names[kind]} · {budget.fiscal_year} {label} · {source.name}",
        unit_id=budget.unit_id,
        unit_path=budget.unit_path,
        source_id=source.id,
        lineage_id=budget.lineage_id,
    )


# -- versions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationInput:
    """A source and the amount of it a budget version draws on."""

    source_id: int
    amount_fen: int


def _check_allocations(
    session: Session,
    unit: Unit,
    fiscal_year: int,
    category: str,
    allocations: list[AllocationInput],
) -> list[tuple[FundingSource, int]]:
    if not allocations:
        raise DomainError(
            text("预算至少需要一个资金来源", "A budget needs at least one funding source"),
            "validation_failed",
            400,
            [FieldError("allocations", "missing", "[]")],
        )
    seen: set[int] = set()
    checked = []
    ancestors = set(ancestor_ids(unit.path))
    for index, allocation in enumerate(allocations):
        field = f"allocations.{index}.source_id"
        source = session.get(FundingSource, allocation.source_id)
        if source is None or source.unit_id not in ancestors:
            raise DomainError(
                text(
                    "资金来源须属于本单位或上级单位",
                    "The source must be held by this unit or above",
                ),
                "validation_failed",
                400,
                [FieldError(field, "not_in_reach", str(allocation.source_id))],
            )
        if source.id in seen:
            raise DomainError(
                text("同一资金来源只能出现一次", "Each source appears once"),
                "validation_failed",
                400,
                [FieldError(field, "duplicate", str(source.id))],
            )
        seen.add(source.id)
        if not allows(source, category, fiscal_year):
            raise DomainError(
                text(
                    "限定用途的捐赠不能用于该科目或年度",
                    "A restricted gift may not fund this category or year",
                ),
                "validation_failed",
                400,
                [FieldError(field, "restricted", source.name)],
            )
        checked.append((source, allocation.amount_fen))
    return checked


def create_budget(
    session: Session,
    actor: Actor,
    unit: Unit,
    *,
    fiscal_year: int,
    category: Category,
    allocations: list[AllocationInput],
    on_exceed: OnExceed = OnExceed.stop,
    exception_role: str | None = None,
    quarterly_fen: list[int] | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Budget:
    """Draft the first version of a unit's budget for a year and category.

    Raises:
        DomainError: a budget already exists for that unit, year and category (409), or an
            allocation is out of reach, repeated or against a gift's restriction (400).
    """
    existing = session.exec(
        select(Budget.id).where(
            Budget.unit_id == unit.id,
            Budget.fiscal_year == fiscal_year,
            Budget.category == category.value,
            col(Budget.status).in_(
                [BudgetStatus.draft.value, BudgetStatus.submitted.value, BudgetStatus.active.value]
            ),
        )
    ).first()
    if existing is not None:
        raise _conflict(
            "该单位该年度该科目已有预算，请修订",
            "A budget exists for this year and category; revise it",
            "category",
            "exists",
            category.value,
        )
    checked = _check_allocations(session, unit, fiscal_year, category.value, allocations)
    budget = _new_version(
        session,
        unit,
        fiscal_year,
        category.value,
        checked,
        on_exceed,
        exception_role,
        quarterly_fen,
        note,
        actor,
    )
    budget.lineage_id = budget.id
    session.add(budget)
    _record(session, actor, budget, "created", now=now)
    return budget


def _new_version(
    session,
    unit,
    year,
    category,
    checked,
    on_exceed,
    exception_role,
    quarterly,
    note,
    actor,
    *,
    previous=None,
):
    total = sum(amount for _, amount in checked)
    if quarterly is not None and sum(quarterly) != total:
        raise DomainError(
            text("分季度金额之和须等于预算总额", "The quarters must add up to the total"),
            "validation_failed",
            400,
            [FieldError("quarterly_fen", "sum", f"{sum(quarterly)} ≠ {total}")],
        )
    budget = Budget(
        lineage_id=previous.lineage_id if previous else None,
        version=previous.version + 1 if previous else 1,
        revision_of_id=previous.id if previous else None,
        unit_id=unit.id,
        unit_path=unit.path,
        fiscal_year=year,
        category=category,
        amount_fen=total,
        quarterly_fen=quarterly,
        on_exceed=on_exceed.value if isinstance(on_exceed, OnExceed) else on_exceed,
        exception_role=exception_role,
        status=BudgetStatus.draft.value,
        note=note,
        created_by_user_id=actor.user_id,
    )
    session.add(budget)
    session.flush()
    for source, amount in checked:
        session.add(BudgetAllocation(budget_id=budget.id, source_id=source.id, amount_fen=amount))
    session.flush()
    return budget


def revise(
    session: Session,
    actor: Actor,
    budget: Budget,
    *,
    allocations: list[AllocationInput],
    on_exceed: OnExceed | None = None,
    exception_role: str | None = None,
    quarterly_fen: list[int] | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Budget:
    """Draft a new version of an active budget (the old one stays in force until approval).

    Raises:
        DomainError: the budget is not active, or a revision is already open (409).
    """
    if budget.status != BudgetStatus.active:
        raise _conflict(
            "只能修订执行中的预算",
            "Only an active budget is revised",
            "status",
            "not_active",
            budget.status,
        )
    open_revision = session.exec(
        select(Budget.id).where(
            Budget.lineage_id == budget.lineage_id,
            col(Budget.status).in_([BudgetStatus.draft.value, BudgetStatus.submitted.value]),
        )
    ).first()
    if open_revision is not None:
        raise _conflict(
            "已有待批准的修订",
            "A revision is already open",
            "status",
            "revision_open",
            str(open_revision),
        )
    unit = session.get(Unit, budget.unit_id)
    checked = _check_allocations(session, unit, budget.fiscal_year, budget.category, allocations)
    revision = _new_version(
        session,
        unit,
        budget.fiscal_year,
        budget.category,
        checked,
        on_exceed or OnExceed(budget.on_exceed),
        exception_role or budget.exception_role,
        quarterly_fen,
        note,
        actor,
        previous=budget,
    )
    _record(session, actor, revision, "created", now=now)
    return revision


def submit(session: Session, actor: Actor, budget: Budget, now: datetime | None = None) -> Budget:
    """Send a draft for approval."""
    if budget.status != BudgetStatus.draft:
        raise _conflict(
            "只能提交草稿", "Only a draft is submitted", "status", "not_draft", budget.status
        )
    budget.status = BudgetStatus.submitted.value
    session.add(budget)
    _record(session, actor, budget, "submitted", now=now)
    return budget


def approve(session: Session, actor: Actor, budget: Budget, now: datetime | None = None) -> Budget:
    """Put a submitted version in force; its predecessor becomes read-only.

    Raises:
        DomainError: not submitted; the approver drafted it (four eyes); spending already
            exceeds it; or a source would be allocated beyond what was received (409).
    """
    if budget.status != BudgetStatus.submitted:
        raise _conflict(
            "只能批准已提交的预算",
            "Only a submitted budget is approved",
            "status",
            "not_submitted",
            budget.status,
        )
    refuse_same_hand(session, actor, "budget", budget.id, "approved")
    used = used_fen(session, budget.lineage_id)
    if used > budget.amount_fen:
        raise _conflict(
            f"已占用 {yuan(used)} 元，超过新预算",
            f"{yuan(used)} yuan is already committed, more than this budget",
            "amount_fen",
            "below_spending",
            str(used),
        )
    for allocation in allocations_of(session, budget):
        source = session.get(FundingSource, allocation.source_id)
        drawn = allocated_fen(session, source.id, excluding_lineage=budget.lineage_id)
        if drawn + allocation.amount_fen > source.amount_fen:
            raise _conflict(
                f"资金来源「{source.name}」可分配余额不足",
                f"Source '{source.name}' has too little left to allocate",
                "allocations",
                "over_allocated",
                str(source.id),
            )
    previous = session.get(Budget, budget.revision_of_id) if budget.revision_of_id else None
    if previous is not None and previous.status == BudgetStatus.active:
        previous.status = BudgetStatus.revised.value
        session.add(previous)
    budget.status = BudgetStatus.active.value
    budget.approved_at = now or utcnow()
    session.add(budget)
    _record(session, actor, budget, "approved", now=now)
    session.flush()
    for allocation in allocations_of(session, budget):
        refresh_status(session, session.get(FundingSource, allocation.source_id))
    return budget


def close(session: Session, actor: Actor, budget: Budget, now: datetime | None = None) -> Budget:
    """Close an active budget at year end, releasing what is still only reserved."""
    if budget.status != BudgetStatus.active:
        raise _conflict(
            "只能关闭执行中的预算",
            "Only an active budget is closed",
            "status",
            "not_active",
            budget.status,
        )
    for commitment in session.exec(
        select(Commitment).where(
            Commitment.lineage_id == budget.lineage_id,
            Commitment.state == CommitmentState.reserved.value,
        )
    ).all():
        _release_one(
            session, commitment, actor.user_id, actor.address, now, "年终关闭预算，释放占用"
        )
    budget.status = BudgetStatus.closed.value
    session.add(budget)
    _record(session, actor, budget, "closed", now=now)
    return budget


def _record(session: Session, actor: Actor, budget: Budget, step: str, now=None) -> None:
    record_approval(
        session,
        actor,
        subject_type="budget",
        subject_id=budget.id,
        unit_path=budget.unit_path,
        step=step,
        decision="record" if step == "created" else "approve",
        amount_fen=budget.amount_fen,
        now=now,
    )


def allocations_of(session: Session, budget: Budget) -> list[BudgetAllocation]:
    """A version's allocations, in the order they were given."""
    return list(
        session.exec(
            select(BudgetAllocation)
            .where(BudgetAllocation.budget_id == budget.id)
            .order_by(BudgetAllocation.id)
        )
    )


def versions(session: Session, lineage_id: int) -> list[Budget]:
    """Every version of a budget, newest first."""
    return list(
        session.exec(
            select(Budget)
            .where(Budget.lineage_id == lineage_id)
            .order_by(col(Budget.version).desc())
        )
    )


# -- control ---------------------------------------------------------------------------------


def used_fen(session: Session, lineage_id: int, source_id: int | None = None) -> int:
    """Reserved plus consumed commitments of a budget lineage (optionally one source's)."""
    query = select(func.coalesce(func.sum(Commitment.amount_fen), 0)).where(
        Commitment.lineage_id == lineage_id, col(Commitment.state).in_(HOLDING)
    )
    if source_id is not None:
        query = query.where(Commitment.source_id == source_id)
    return int(session.exec(query).one())


def budget_for(session: Session, path: str, fiscal_year: int, category: str) -> Budget | None:
    """The active budget nearest to the unit of ``path`` (itself, then up the tree)."""
    ancestors = ancestor_ids(path)
    rows = session.exec(
        select(Budget).where(
            col(Budget.unit_id).in_(ancestors),
            Budget.fiscal_year == fiscal_year,
            Budget.category == category,
            Budget.status == BudgetStatus.active.value,
        )
    ).all()
    if not rows:
        return None
    depth = {unit_id: index for index, unit_id in enumerate(ancestors)}
    return max(rows, key=lambda row: depth[row.unit_id])


@dataclass(frozen=True)
class Control:
    """The outcome of budget control for one commitment."""

    budget: Budget
    used_fen: int
    after_fen: int
    warning: str | None
    over_stop: bool
    exception: BudgetException | None


def control(session: Session, doc_type: str, doc, amount_fen: int, on: date) -> Control:
    """Check a commitment of ``amount_fen`` for ``doc`` against its budget.

    Raises:
        DomainError: no active budget (409 ``no_budget``); beyond the stop threshold of a
            stopping budget without the exception approver's signature (409 ``budget_stop``).
    """
    kind = DOCS[doc_type]
    category = kind.category(doc)
    budget = budget_for(session, doc.unit_path, kind.day(doc).year, category)
    if budget is None:
        label = CATEGORY_LABELS[Category(category)]
        message = text(
            f"{kind.day(doc).year} 年度「{label.zh}」没有执行中的预算",
            f"No active {kind.day(doc).year} budget for {label.en}",
        )
        raise DomainError(message, "no_budget", 409, [FieldError("budget", "no_budget", message)])
    used = used_fen(session, budget.lineage_id)
    after = used + amount_fen
    warn = setting(session, budget.unit_path, WARN_PERCENT, on)
    stop = setting(session, budget.unit_path, STOP_PERCENT, on)
    exception = session.exec(
        select(BudgetException).where(
            BudgetException.lineage_id == budget.lineage_id,
            BudgetException.doc_type == doc_type,
            BudgetException.doc_id == doc.id,
        )
    ).first()
    over_stop = after * 100 > budget.amount_fen * stop
    warning = None
    if over_stop:
        if budget.on_exceed == OnExceed.stop and (
            exception is None or exception.amount_fen < amount_fen
        ):
            message = text(
                f"超出预算控制线（{stop}%）：预算 {yuan(budget.amount_fen)} 元，"
                f"已占用 {yuan(used)} 元，本笔 {yuan(amount_fen)} 元；须经例外审批人签批",
                f"Beyond the budget's stop line ({stop}%): budget {yuan(budget.amount_fen)}, "
                f"committed {yuan(used)}, this {yuan(amount_fen)} yuan; "
                "the exception approver must sign",
            )
            raise DomainError(
                message, "budget_stop", 409, [FieldError("budget", "budget_stop", message)]
            )
        warning = text(
            f"超出预算控制线（{stop}%），" + ("已经例外审批" if exception else "仅预警"),
            f"Beyond the budget's stop line ({stop}%), "
            + ("signed as an exception" if exception else "warning only"),
        )
    elif after * 100 >= budget.amount_fen * warn:
        reach = after * 100 // max(budget.amount_fen, 1)
        warning = text(
            f"预算执行将达到 {reach}%（预警线 {warn}%）",
            f"Budget use will reach {reach}% (warning at {warn}%)",
        )
    return Control(budget, used, after, warning, over_stop, exception)


def sign_exception(
    session: Session,
    actor: Actor,
    doc_type: str,
    doc,
    *,
    amount_fen: int,
    reason: str,
    on: date,
    now: datetime | None = None,
) -> BudgetException:
    """The exception approver lets one document pass its stopped budget.

    Raises:
        DomainError: the signer is the document's party (403 four eyes), lacks the budget's
            exception role over its unit (403), or the document has no budget (409).
    """
    kind = DOCS[doc_type]
    refuse_own(actor, *kind.party(doc))
    category = kind.category(doc)
    budget = budget_for(session, doc.unit_path, kind.day(doc).year, category)
    if budget is None:
        raise _conflict(
            "该单据没有执行中的预算", "No active budget for this document", "budget", "no_budget"
        )
    if budget.exception_role is not None and not any(
        grant.role == budget.exception_role and grant.covers(budget.unit_path)
        for grant in actor.principal.grants
    ):
        message = text(
            f"须由预算指定的例外审批角色（{budget.exception_role}）签批",
            f"Only the budget's exception role ({budget.exception_role}) may sign",
        )
        raise DomainError(
            message, "not_allowed", 403, [FieldError("role", "exception_role", message)]
        )
    existing = session.exec(
        select(BudgetException).where(
            BudgetException.lineage_id == budget.lineage_id,
            BudgetException.doc_type == doc_type,
            BudgetException.doc_id == doc.id,
        )
    ).first()
    if existing is not None:
        raise _conflict(
            "该单据已有例外审批",
            "This document has an exception already",
            "doc_id",
            "exists",
            str(doc.id),
        )
    signed = BudgetException(
        lineage_id=budget.lineage_id,
        unit_path=budget.unit_path,
        doc_type=doc_type,
        doc_id=doc.id,
        amount_fen=amount_fen,
        reason=reason,
        approved_by_user_id=actor.user_id,
        approved_at=now or utcnow(),
        address=actor.address,
    )
    session.add(signed)
    party_user, party_person = kind.party(doc)
    record_approval(
        session,
        actor,
        subject_type=doc_type,
        subject_id=doc.id,
        unit_path=doc.unit_path,
        step="budget_exception",
        party_user_id=party_user,
        party_person_id=party_person,
        amount_fen=amount_fen,
        reason=reason,
        now=now,
    )
    session.flush()
    return signed


# -- commitments -----------------------------------------------------------------------------


def reserve(
    session: Session,
    doc_type: str,
    doc,
    amount_fen: int,
    *,
    on: date,
    user_id: int | None,
    address: str | None,
    now: datetime | None = None,
) -> tuple[list[Commitment], Control]:
    """Reserve budget for ``doc`` (after :func:`control`), split over the budget's sources.

    Restricted gifts that allow the category are drawn first (ring-fenced money used for its
    purpose), then the other sources in allocation order; anything beyond every allocation
    (an exception) is drawn on the largest unrestricted allocation.
    """
    checked = control(session, doc_type, doc, amount_fen, on)
    budget = checked.budget
    parts: list[tuple[FundingSource, int]] = []
    remaining = amount_fen
    allocations = [
        (session.get(FundingSource, a.source_id), a.amount_fen)
        for a in allocations_of(session, budget)
    ]
    allocations.sort(key=lambda pair: 0 if pair[0].restriction_categories else 1)
    for source, allocated in allocations:
        if remaining == 0:
            break
        room = allocated - used_fen(session, budget.lineage_id, source.id)
        take = min(room, remaining)
        if take > 0:
            parts.append((source, take))
            remaining -= take
    if remaining > 0:
        unrestricted = [pair for pair in allocations if not pair[0].restriction_categories]
        source = max(unrestricted or allocations, key=lambda pair: pair[1])[0]
        merged = dict((s.id, (s, amount)) for s, amount in parts)
        previous = merged.get(source.id, (source, 0))[1]
        merged[source.id] = (source, previous + remaining)
        parts = list(merged.values())
    commitments = []
    for source, amount in parts:
        entry = ledger.post(
            session,
            unit_id=budget.unit_id,
            unit_path=budget.unit_path,
            kind="commitment",
            memo=f"预算占用 · {doc_type} {doc.id}",
            lines=[
                ledger.Line(
                    _budget_account(session, AccountKind.encumbrance, budget, source), amount
                ),
                ledger.Line(_budget_account(session, AccountKind.reserve, budget, source), -amount),
            ],
            doc_type=doc_type,
            doc_id=doc.id,
            user_id=user_id,
            address=address,
            now=now,
        )
        commitment = Commitment(
            lineage_id=budget.lineage_id,
            source_id=source.id,
            unit_path=budget.unit_path,
            doc_type=doc_type,
            doc_id=doc.id,
            amount_fen=amount,
            reserve_entry_id=entry.id,
        )
        session.add(commitment)
        commitments.append(commitment)
    session.flush()
    return commitments, checked


def commitments_of(
    session: Session, doc_type: str, doc_id: int, state: CommitmentState | None = None
) -> list[Commitment]:
    """A document's commitments (optionally in one state)."""
    query = select(Commitment).where(Commitment.doc_type == doc_type, Commitment.doc_id == doc_id)
    if state is not None:
        query = query.where(Commitment.state == state.value)
    return list(session.exec(query.order_by(Commitment.id)))


def release(
    session: Session,
    doc_type: str,
    doc_id: int,
    *,
    user_id: int | None,
    address: str | None,
    reason: str,
    now: datetime | None = None,
) -> int:
    """Release a document's reserved commitments by reversing their entries; return how many."""
    released = 0
    for commitment in commitments_of(session, doc_type, doc_id, CommitmentState.reserved):
        _release_one(session, commitment, user_id, address, now, reason)
        released += 1
    return released


def _release_one(session, commitment: Commitment, user_id, address, now, reason) -> None:
    entry = session.get(ledger.JournalEntry, commitment.reserve_entry_id)
    ledger.reverse(
        session,
        entry,
        memo=f"释放预算占用 · {reason}"[:300],
        user_id=user_id,
        address=address,
        now=now,
    )
    commitment.state = CommitmentState.released.value
    session.add(commitment)
    session.flush()


def settle_lines(session: Session, commitment: Commitment) -> list[ledger.Line]:
    """The postings that turn a reserved commitment into money spent from its source."""
    budget = session.exec(
        select(Budget)
        .where(Budget.lineage_id == commitment.lineage_id)
        .order_by(col(Budget.version).desc())
    ).first()
    source = session.get(FundingSource, commitment.source_id)
    from plugins.insurance.funding import fund_account

    amount = commitment.amount_fen
    return [
        ledger.Line(_budget_account(session, AccountKind.reserve, budget, source), amount),
        ledger.Line(_budget_account(session, AccountKind.encumbrance, budget, source), -amount),
        ledger.Line(_budget_account(session, AccountKind.expense, budget, source), amount),
        ledger.Line(fund_account(session, source), -amount),
    ]


def execution(session: Session, path: str, fiscal_year: int) -> list[dict]:
    """Budget execution by unit × category × source: budget, committed, spent, remaining."""
    budgets = session.exec(
        select(Budget).where(
            path_in(Budget.unit_path, path),
            Budget.fiscal_year == fiscal_year,
            col(Budget.status).in_([BudgetStatus.active.value, BudgetStatus.closed.value]),
        )
    ).all()
    rows = []
    for budget in budgets:
        unit = session.get(Unit, budget.unit_id)
        for allocation in allocations_of(session, budget):
            source = session.get(FundingSource, allocation.source_id)
            totals = dict(
                session.exec(
                    select(Commitment.state, func.sum(Commitment.amount_fen))
                    .where(
                        Commitment.lineage_id == budget.lineage_id,
                        Commitment.source_id == source.id,
                    )
                    .group_by(Commitment.state)
                ).all()
            )
            reserved = int(totals.get(CommitmentState.reserved.value) or 0)
            consumed = int(totals.get(CommitmentState.consumed.value) or 0)
            rows.append(
                {
                    "budget_id": budget.id,
                    "unit_id": unit.id,
                    "unit": unit.name,
                    "category": budget.category,
                    "source_id": source.id,
                    "source": source.name,
                    "source_kind": source.kind,
                    "budget_fen": allocation.amount_fen,
                    "committed_fen": reserved,
                    "spent_fen": consumed,
                    "remaining_fen": allocation.amount_fen - reserved - consumed,
                }
            )
    rows.sort(key=lambda row: (row["unit"], row["category"], row["source"]))
    return rows


def exceptions_in(session: Session, path: str) -> list[BudgetException]:
    """Budget exceptions signed in a subtree, newest first."""
    return list(
        session.exec(
            select(BudgetException)
            .where(path_in(BudgetException.unit_path, path))
            .order_by(col(BudgetException.id).desc())
        )
    )
