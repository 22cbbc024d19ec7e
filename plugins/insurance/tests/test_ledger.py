"""The double-entry ledger: balanced after any sequence of operations, immutable, reversible."""

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from core.errors import DomainError
from plugins.insurance import budgets, ledger, payments
from plugins.insurance.models import (
    Commitment,
    JournalEntry,
    LedgerAccount,
    Payment,
    Posting,
    Reward,
)
from plugins.insurance.tests.factories import active_budget, china, fund
from plugins.insurance.vocab import Category, CommitmentState, PaymentMethod

pytestmark = pytest.mark.plugins("insurance")

BUDGET_FEN = 500_000

operations = st.lists(
    st.tuples(
        st.sampled_from(["commit", "pay", "release", "reverse"]),
        st.integers(min_value=1, max_value=200_000),
        st.integers(min_value=0, max_value=50),
    ),
    min_size=1,
    max_size=30,
)


def kind_total(session, kind: str) -> int:
    return int(
        session.exec(
            select(func.coalesce(func.sum(Posting.amount_fen), 0))
            .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
            .where(LedgerAccount.kind == kind)
        ).one()
    )


def state_total(session, state: CommitmentState) -> int:
    return int(
        session.exec(
            select(func.coalesce(func.sum(Commitment.amount_fen), 0)).where(
                Commitment.state == state.value
            )
        ).one()
    )


def check_invariants(session, received_fen: int) -> None:
    assert ledger.unbalanced_entries(session) == []
    assert session.exec(select(func.coalesce(func.sum(Posting.amount_fen), 0))).one() == 0
    reserved = state_total(session, CommitmentState.reserved)
    consumed = state_total(session, CommitmentState.consumed)
    assert kind_total(session, "encumbrance") == reserved
    assert kind_total(session, "reserve") == -reserved
    assert kind_total(session, "expense") == consumed
    assert kind_total(session, "fund") == received_fen - consumed
    assert kind_total(session, "revenue") == -received_fen
    assert reserved + consumed <= BUDGET_FEN  # a stopping budget never goes over
    for row in ledger.trial_balance(session):
        assert row["balance_fen"] == row["debit_fen"] - row["credit_fen"]
    assert sum(row["balance_fen"] for row in ledger.trial_balance(session)) == 0


def test_ledger_balances_after_random_commitments_payments_and_reversals(platform, world):
    """Hypothesis drives sequences of operations on a stopping budget; after each one every
    entry balances, the books sum to zero, and the ledger agrees with the commitments."""

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(ops=operations)
    def run(ops):
        with platform.session_factory() as session:
            try:
                source = fund(session, world, amount_fen=BUDGET_FEN * 2)
                received = source.amount_fen
                active_budget(
                    session, world, category=Category.reward, amount_fen=BUDGET_FEN, source=source
                )
                finance = world.actor(session, "finance")
                cashier = world.actor(session, "cashier")
                district = world.unit(session, "district")
                docs: list[Reward] = []
                paid: list[Payment] = []
                check_invariants(session, received)
                for op, amount, pick in ops:
                    if op == "commit":
                        doc = Reward(
                            unit_id=district.id,
                            unit_path=district.path,
                            recipient_person_id=world.members["甲"].person_id,
                            kind="commendation",
                            basis_ref="test",
                            amount_fen=amount,
                            proposed_at=china(2025, 6, 1),
                        )
                        session.add(doc)
                        session.flush()
                        used = budgets.used_fen(
                            session,
                            budgets.budget_for(session, district.path, 2025, "reward").lineage_id,
                        )
                        try:
                            budgets.reserve(
                                session,
                                "reward",
                                doc,
                                amount,
                                on=china(2025, 6, 1).date(),
                                user_id=finance.user_id,
                                address=finance.address,
                            )
                            docs.append(doc)
                        except DomainError as refused:
                            assert refused.code == "budget_stop"
                            assert used + amount > BUDGET_FEN
                    elif op == "pay":
                        open_docs = [
                            d
                            for d in docs
                            if budgets.commitments_of(
                                session, "reward", d.id, CommitmentState.reserved
                            )
                        ]
                        if open_docs:
                            doc = open_docs[pick % len(open_docs)]
                            total = sum(
                                c.amount_fen
                                for c in budgets.commitments_of(
                                    session, "reward", doc.id, CommitmentState.reserved
                                )
                            )
                            paid.append(
                                payments.pay(
                                    session,
                                    cashier,
                                    doc_type="reward",
                                    doc=doc,
                                    amount_fen=total,
                                    method=PaymentMethod.cash,
                                    payee_person_id=doc.recipient_person_id,
                                    payee_account=None,
                                )
                            )
                    elif op == "release":
                        if docs:
                            doc = docs[pick % len(docs)]
                            budgets.release(
                                session,
                                "reward",
                                doc.id,
                                user_id=finance.user_id,
                                address=None,
                                reason="test",
                            )
                    elif op == "reverse":
                        live = [p for p in paid if p.reversed_at is None]
                        if live:
                            payments.reverse_payment(
                                session, cashier, live[pick % len(live)], "退汇"
                            )
                    check_invariants(session, received)
            finally:
                session.rollback()

    run()


def test_a_posting_is_never_updated_or_deleted(platform, world):
    with platform.session_factory() as session:
        fund(session, world, amount_fen=12_345)
        session.commit()
        posting = session.exec(select(Posting)).first()
        posting.amount_fen = 1
        with pytest.raises(ledger.LedgerViolation):
            session.flush()
        session.rollback()
        session.delete(session.exec(select(Posting)).first())
        with pytest.raises(ledger.LedgerViolation):
            session.flush()
        session.rollback()
        entry = session.exec(select(JournalEntry)).first()
        entry.memo = "改过"
        with pytest.raises(ledger.LedgerViolation):
            session.flush()
        session.rollback()


def test_the_database_refuses_a_changed_posting_too(platform, world):
    with platform.session_factory() as session:
        fund(session, world, amount_fen=12_345)
        session.commit()
    with platform.engine.connect() as connection:
        for statement in (
            "UPDATE insurance_posting SET amount_fen = 1",
            "DELETE FROM insurance_posting",
        ):
            with pytest.raises(sa.exc.DBAPIError):
                with connection.begin():
                    connection.execute(sa.text(statement))


def test_an_unbalanced_entry_is_refused_in_the_service_and_at_flush(platform, world):
    with platform.session_factory() as session:
        source = fund(session, world, amount_fen=100)
        session.commit()
        fund_account = session.exec(
            select(LedgerAccount).where(LedgerAccount.code == f"fund:S{source.id}")
        ).one()
        revenue = session.exec(
            select(LedgerAccount).where(LedgerAccount.code == f"revenue:S{source.id}")
        ).one()
        with pytest.raises(ledger.LedgerViolation):
            ledger.post(
                session,
                unit_id=source.unit_id,
                unit_path=source.unit_path,
                kind="x",
                memo="坏账",
                lines=[ledger.Line(fund_account, 100), ledger.Line(revenue, -99)],
            )
        entry = JournalEntry(
            unit_id=source.unit_id, unit_path=source.unit_path, kind="x", memo="绕过服务"
        )
        entry.postings = [
            Posting(account_id=fund_account.id, amount_fen=5),
            Posting(account_id=revenue.id, amount_fen=-4),
        ]
        session.add(entry)
        with pytest.raises(ledger.LedgerViolation):
            session.flush()
        session.rollback()
        # a posting slipped into an existing entry
        written = session.exec(select(JournalEntry)).first()
        session.add(Posting(entry_id=written.id, account_id=fund_account.id, amount_fen=1))
        with pytest.raises(ledger.LedgerViolation):
            session.flush()
        session.rollback()


def test_a_reversal_negates_every_posting_once(platform, world):
    with platform.session_factory() as session:
        source = fund(session, world, amount_fen=8_800)
        entry = ledger.entries_by_doc(session, "source", source.id)[0]
        reversal = ledger.reverse(session, entry, memo="录入错误")
        assert reversal.reverses_id == entry.id
        assert sorted(p.amount_fen for p in reversal.postings) == sorted(
            -p.amount_fen for p in entry.postings
        )
        assert ledger.balance_of(session, f"fund:S{source.id}") == 0
        with pytest.raises(DomainError) as again:
            ledger.reverse(session, entry, memo="再来一次")
        assert again.value.errors[0].rule == "already_reversed"
        with pytest.raises(DomainError) as of_reversal:
            ledger.reverse(session, reversal, memo="冲销的冲销")
        assert of_reversal.value.errors[0].rule == "is_reversal"
