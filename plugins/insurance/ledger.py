"""The double-entry ledger behind every commitment and payment.

An entry is a set of postings on accounts whose amounts (integer fen, debit positive, credit
negative) sum to zero. Entries and postings are immutable: the session refuses to flush an
update or delete of either (and the database refuses a changed posting too), and postings can
only be written together with their new entry, which must balance. A mistake is corrected by
a reversal: a new entry with every posting negated, pointing at the one it reverses.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, col, func, select

from core.access import path_in
from core.errors import DomainError, FieldError
from core.i18n import text
from core.units.models import utcnow
from plugins.insurance.models import JournalEntry, LedgerAccount, Posting
from plugins.insurance.vocab import AccountKind


class LedgerViolation(RuntimeError):
    """An attempt to write an unbalanced entry or to change a written one: a bug, never input."""


@dataclass(frozen=True)
class Line:
    """One posting to be written: an account and a signed amount in fen."""

    account: LedgerAccount
    amount_fen: int


# -- accounts --------------------------------------------------------------------------------


def account(
    session: Session,
    code: str,
    kind: AccountKind,
    name: str,
    *,
    unit_id: int,
    unit_path: str,
    source_id: int | None = None,
    lineage_id: int | None = None,
) -> LedgerAccount:
    """The account named ``code``, opened on first use."""
    found = session.exec(select(LedgerAccount).where(LedgerAccount.code == code)).first()
    if found is not None:
        return found
    opened = LedgerAccount(
        code=code,
        kind=kind.value,
        name=name[:200],
        unit_id=unit_id,
        unit_path=unit_path,
        source_id=source_id,
        budget_lineage_id=lineage_id,
    )
    session.add(opened)
    session.flush()
    return opened


# -- writing ---------------------------------------------------------------------------------


def post(
    session: Session,
    *,
    unit_id: int,
    unit_path: str,
    kind: str,
    memo: str,
    lines: Iterable[Line],
    doc_type: str | None = None,
    doc_id: int | None = None,
    user_id: int | None = None,
    address: str | None = None,
    now: datetime | None = None,
    reverses_id: int | None = None,
) -> JournalEntry:
    """Write one balanced entry.

    Raises:
        LedgerViolation: fewer than two postings, a zero posting, or a sum other than zero.
    """
    lines = [line for line in lines]
    if len(lines) < 2 or any(line.amount_fen == 0 for line in lines):
        raise LedgerViolation(f"entry {memo!r}: needs two or more non-zero postings")
    if sum(line.amount_fen for line in lines) != 0:
        raise LedgerViolation(
            f"entry {memo!r} does not balance: {[line.amount_fen for line in lines]}"
        )
    entry = JournalEntry(
        unit_id=unit_id,
        unit_path=unit_path,
        kind=kind,
        memo=memo[:300],
        doc_type=doc_type,
        doc_id=doc_id,
        posted_at=now or utcnow(),
        posted_by_user_id=user_id,
        address=address,
        reverses_id=reverses_id,
    )
    entry.postings = [
        Posting(account_id=line.account.id, amount_fen=line.amount_fen) for line in lines
    ]
    session.add(entry)
    session.flush()
    return entry


def reverse(
    session: Session,
    entry: JournalEntry,
    *,
    memo: str,
    user_id: int | None = None,
    address: str | None = None,
    now: datetime | None = None,
) -> JournalEntry:
    """Write the reversal of ``entry``: the same postings negated.

    Raises:
        DomainError: the entry is itself a reversal, or was reversed already (409).
    """
    if entry.reverses_id is not None:
        raise DomainError(
            text("冲销分录不能再冲销，请另行记账", "A reversal is not reversed; post a new entry"),
            "conflict",
            409,
            [FieldError("entry_id", "is_reversal", str(entry.id))],
        )
    if reversal_of(session, entry.id) is not None:
        raise DomainError(
            text("该分录已冲销", "This entry has been reversed already"),
            "conflict",
            409,
            [FieldError("entry_id", "already_reversed", str(entry.id))],
        )
    accounts = {
        a.id: a
        for a in session.exec(
            select(LedgerAccount).where(
                col(LedgerAccount.id).in_([p.account_id for p in entry.postings])
            )
        )
    }
    return post(
        session,
        unit_id=entry.unit_id,
        unit_path=entry.unit_path,
        kind="reversal",
        memo=memo,
        lines=[Line(accounts[p.account_id], -p.amount_fen) for p in entry.postings],
        doc_type=entry.doc_type,
        doc_id=entry.doc_id,
        user_id=user_id,
        address=address,
        now=now,
        reverses_id=entry.id,
    )


def reversal_of(session: Session, entry_id: int) -> JournalEntry | None:
    """The entry that reverses ``entry_id``, if any."""
    return session.exec(select(JournalEntry).where(JournalEntry.reverses_id == entry_id)).first()


# -- reading ---------------------------------------------------------------------------------


def balances(session: Session, path: str | None = None) -> dict[int, int]:
    """Account id → balance (debit positive), for accounts in a subtree (or all)."""
    query = (
        select(Posting.account_id, func.sum(Posting.amount_fen))
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .group_by(Posting.account_id)
    )
    if path is not None:
        query = query.where(path_in(LedgerAccount.unit_path, path))
    return {account_id: int(total or 0) for account_id, total in session.exec(query)}


def balance_of(session: Session, account_code: str) -> int:
    """The balance of one account (0 if it was never used)."""
    total = session.exec(
        select(func.sum(Posting.amount_fen))
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.code == account_code)
    ).one()
    return int(total or 0)


def trial_balance(session: Session, path: str | None = None) -> list[dict[str, Any]]:
    """Each account with its debits, credits and balance; the balances sum to zero."""
    query = (
        select(
            LedgerAccount,
            func.coalesce(
                func.sum(sa.case((Posting.amount_fen > 0, Posting.amount_fen), else_=0)), 0
            ),
            func.coalesce(
                func.sum(sa.case((Posting.amount_fen < 0, -Posting.amount_fen), else_=0)), 0
            ),
        )
        .join(Posting, Posting.account_id == LedgerAccount.id, isouter=True)
        .group_by(LedgerAccount.id)
        .order_by(LedgerAccount.kind, LedgerAccount.code)
    )
    if path is not None:
        query = query.where(path_in(LedgerAccount.unit_path, path))
    return [
        {
            "account": account_,
            "debit_fen": int(debit),
            "credit_fen": int(credit),
            "balance_fen": int(debit) - int(credit),
        }
        for account_, debit, credit in session.exec(query)
    ]


def unbalanced_entries(session: Session) -> list[int]:
    """Ids of entries whose postings do not sum to zero (always empty; audited by the tests)."""
    query = (
        select(Posting.entry_id)
        .group_by(Posting.entry_id)
        .having(func.sum(Posting.amount_fen) != 0)
    )
    return [entry_id for entry_id in session.exec(query)]


# -- the check at flush ----------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _guard_ledger(session: Session, _context: Any, _instances: Any) -> None:
    for instance in session.deleted:
        if isinstance(instance, JournalEntry | Posting):
            raise LedgerViolation(f"ledger rows are never deleted ({instance!r}); post a reversal")
    for instance in session.dirty:
        if isinstance(instance, JournalEntry | Posting) and session.is_modified(
            instance, include_collections=False
        ):
            raise LedgerViolation(f"ledger rows are never changed ({instance!r}); post a reversal")
    new_entries = [o for o in session.new if isinstance(o, JournalEntry)]
    owned: set[int] = set()
    for entry in new_entries:
        amounts = [posting.amount_fen for posting in entry.postings]
        if len(amounts) < 2 or 0 in amounts or sum(amounts) != 0:
            raise LedgerViolation(f"entry {entry.memo!r} does not balance: {amounts}")
        owned.update(id(posting) for posting in entry.postings)
    for instance in session.new:
        if isinstance(instance, Posting) and id(instance) not in owned:
            raise LedgerViolation("a posting is written only with its new entry")


def entries_by_doc(session: Session, doc_type: str, doc_id: int) -> list[JournalEntry]:
    """A document's entries in posting order."""
    return list(
        session.exec(
            select(JournalEntry)
            .where(JournalEntry.doc_type == doc_type, JournalEntry.doc_id == doc_id)
            .order_by(JournalEntry.id)
        )
    )


def postings_by_kind(session: Session, path: str | None = None) -> dict[str, int]:
    """Total balance per account kind (for reports)."""
    totals: dict[str, int] = defaultdict(int)
    query = (
        select(LedgerAccount.kind, func.sum(Posting.amount_fen))
        .join(Posting, Posting.account_id == LedgerAccount.id)
        .group_by(LedgerAccount.kind)
    )
    if path is not None:
        query = query.where(path_in(LedgerAccount.unit_path, path))
    for kind, total in session.exec(query):
        totals[kind] = int(total or 0)
    return dict(totals)
