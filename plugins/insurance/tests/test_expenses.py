"""Reimbursements: receipts, standards by date, duplicate invoices, the chain and four eyes."""

from datetime import date

import pytest
from sqlmodel import select

from core.errors import DomainError
from plugins.insurance import approvals, config, expenses
from plugins.insurance.models import Commitment, InvoiceRegister, Payment
from plugins.insurance.tests.factories import active_budget, expense_claim
from plugins.insurance.vocab import Category, ExpenseStatus, ExpenseType, PaymentMethod

pytestmark = pytest.mark.plugins("insurance")

DAY = date(2025, 4, 12)


def through_review(session, world, claim, sanctioned=None):
    expenses.submit(
        session,
        world.actor(
            session, "甲" if claim.claimant_user_id == world.members["甲"].user_id else "乙"
        ),
        claim,
    ) if claim.status == "draft" else None
    expenses.confirm_activity(session, world.actor(session, "leader"), claim)
    expenses.review(session, world.actor(session, "finance"), claim, sanctioned)
    return claim


def test_the_whole_chain_from_submission_to_payment(platform, world):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reimbursement, amount_fen=1_000_000)
        claim = expense_claim(
            session,
            world,
            "甲",
            DAY,
            [
                ("transport", 3_500, "050001900111", "00001234"),
                ("communication", 2_000, None, None),
            ],
        )
        assert claim.claimed_fen == 5_500
        expenses.submit(session, world.actor(session, "甲"), claim)
        expenses.confirm_activity(session, world.actor(session, "leader", "172.16.0.9"), claim)
        expenses.review(session, world.actor(session, "finance"), claim)
        assert claim.sanctioned_fen == 5_500
        expenses.approve(session, world.actor(session, "approver"), claim)  # ≤ 500 元: township
        payment = expenses.pay(
            session, world.actor(session, "cashier"), claim, method=PaymentMethod.bank
        )
        assert claim.status == ExpenseStatus.paid
        assert payment.amount_fen == 5_500 and payment.payee_account == "6217000010001234567"
        assert payment.voucher_no.startswith("PZ")
        steps = [(a.step, a.by_username) for a in approvals.history(session, "expense", claim.id)]
        assert [step for step, _ in steps] == [
            "created",
            "submitted",
            "activity_confirmed",
            "finance_reviewed",
            "approved",
            "paid",
        ]
        leader = next(
            a
            for a in approvals.history(session, "expense", claim.id)
            if a.step == "activity_confirmed"
        )
        assert leader.address == "172.16.0.9" and leader.note.startswith("assignment:")
        assert [
            c.state for c in session.exec(select(Commitment).where(Commitment.doc_id == claim.id))
        ] == ["consumed"]
        assert approvals.sod_violations(session, world.unit(session, "city").path) == []


def test_a_receipt_or_a_standard_rate_is_required(platform, world):
    with platform.session_factory() as session:
        claim = expense_claim(
            session, world, "甲", DAY, [("lost_time", 5_000, None, None)], receipts=False
        )
        with pytest.raises(DomainError) as missing:
            expenses.submit(session, world.actor(session, "甲"), claim)
        assert missing.value.errors[0].field == "lines.0.receipt"
        # 误工补贴 at a fixed standard needs no receipt, and pays the standard
        config.add_rate(
            session,
            world.unit(session, "district"),
            "lost_time",
            3_000,
            date(2025, 1, 1),
            valid_to=None,
            fixed=True,
            user_id=world.users["finance"],
        )
        active_budget(session, world, category=Category.reimbursement, amount_fen=100_000)
        expenses.submit(session, world.actor(session, "甲"), claim)
        through_review(session, world, claim)
        assert claim.sanctioned_fen == 3_000


def test_sanctioned_is_never_above_the_claim_nor_the_standard_of_the_day(platform, world):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reimbursement, amount_fen=100_000)
        district = world.unit(session, "district")
        config.add_rate(
            session,
            district,
            "meals",
            2_000,
            date(2025, 1, 1),
            valid_to=None,
            fixed=False,
            user_id=world.users["finance"],
        )
        config.add_rate(
            session,
            district,
            "meals",
            3_000,
            date(2025, 5, 1),
            valid_to=None,
            fixed=False,
            user_id=world.users["finance"],
        )
        claim = expense_claim(session, world, "甲", DAY, [("meals", 2_800, None, None)])
        expenses.submit(session, world.actor(session, "甲"), claim)
        expenses.confirm_activity(session, world.actor(session, "leader"), claim)
        line = expenses.lines_of(session, claim)[0]
        finance = world.actor(session, "finance")
        with pytest.raises(DomainError) as above_claim:
            expenses.review(session, finance, claim, {line.id: 2_900})
        assert above_claim.value.errors[0].rule == "above_claimed"
        with pytest.raises(DomainError) as above_standard:  # 12 April: the standard was 20 元
            expenses.review(session, finance, claim, {line.id: 2_500})
        assert above_standard.value.errors[0].rule == "above_standard"
        expenses.review(session, finance, claim)
        assert claim.sanctioned_fen == 2_000  # the standard valid on the day


def test_a_duplicate_invoice_is_refused_across_two_units(platform, world):
    with platform.session_factory() as session:
        first = expense_claim(
            session, world, "甲", DAY, [("transport", 1_000, "050001900111", "00009999")]
        )
        expenses.submit(session, world.actor(session, "甲"), first)
        # 丙 belongs to another district; the same invoice (spaces aside) is refused there
        second = expense_claim(
            session, world, "丙", DAY, [("transport", 1_000, " 050001900111", "00009999 ")]
        )
        assert expenses.lines_of(session, second)[0].duplicate_flag  # flagged as soon as entered
        with pytest.raises(DomainError) as duplicate:
            expenses.submit(session, world.actor(session, "丙"), second)
        assert duplicate.value.code == "duplicate_invoice" and duplicate.value.status == 409
        assert duplicate.value.errors[0].field == "lines.0.invoice_no"
        assert duplicate.value.errors[0].rule == "duplicate_invoice"
        assert "50010" not in duplicate.value.message  # nothing about the other claim leaks
        assert len(session.exec(select(InvoiceRegister)).all()) == 1
        assert [line.id for line in expenses.duplicate_lines(session)] == [
            expenses.lines_of(session, second)[0].id
        ]


def test_the_same_invoice_twice_in_one_claim_is_refused(platform, world):
    with platform.session_factory() as session:
        claim = expense_claim(
            session,
            world,
            "甲",
            DAY,
            [("transport", 1_000, "1", "2"), ("transport", 500, "1", "2")],
        )
        with pytest.raises(DomainError) as duplicate:
            expenses.submit(session, world.actor(session, "甲"), claim)
        assert [e.field for e in duplicate.value.errors] == ["lines.1.invoice_no"]


def test_returning_frees_the_invoices_and_rejecting_keeps_them(platform, world):
    with platform.session_factory() as session:
        claim = expense_claim(session, world, "甲", DAY, [("transport", 1_000, "9", "9")])
        expenses.submit(session, world.actor(session, "甲"), claim)
        with pytest.raises(DomainError) as no_reason:
            expenses.send_back(session, world.actor(session, "leader"), claim, " ")
        assert no_reason.value.errors[0].field == "reason"
        with pytest.raises(DomainError) as not_theirs:  # at "submitted" the leader's step
            expenses.send_back(session, world.actor(session, "finance"), claim, "缺少说明")
        assert not_theirs.value.status == 403
        expenses.send_back(session, world.actor(session, "leader"), claim, "请补充活动说明")
        assert claim.status == ExpenseStatus.draft and claim.reason == "请补充活动说明"
        assert session.exec(select(InvoiceRegister)).all() == []
        expenses.submit(session, world.actor(session, "甲"), claim)
        expenses.reject(session, world.actor(session, "leader"), claim, "当日无此活动")
        assert claim.status == ExpenseStatus.rejected and claim.sanctioned_fen == 0
        assert len(session.exec(select(InvoiceRegister)).all()) == 1


def test_the_leader_checks_the_service_record(platform, world):
    with platform.session_factory() as session:
        claim = expense_claim(
            session, world, "甲", DAY, [("transport", 1_000, None, None)], served_on=False
        )
        expenses.submit(session, world.actor(session, "甲"), claim)
        with pytest.raises(DomainError) as unserved:
            expenses.confirm_activity(session, world.actor(session, "leader"), claim)
        assert unserved.value.errors[0].rule == "no_service_record"


def test_four_eyes_refusals_along_the_chain(platform, world):
    from core.accounts import services as accounts
    from core.accounts.models import User
    from core.units.models import Unit

    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reimbursement, amount_fen=1_000_000)
        claim = expense_claim(session, world, "甲", DAY, [("transport", 1_000, None, None)])
        expenses.submit(session, world.actor(session, "甲"), claim)
        # 甲 also holds every reviewing role at the township: still not on their own claim
        member = session.get(User, world.members["甲"].user_id)
        township = session.get(Unit, world.tree.township.id)
        for role in (
            "insurance.leader",
            "insurance.finance",
            "insurance.approver",
            "insurance.cashier",
        ):
            accounts.grant_role(session, platform.policy, None, member, role, township)
        own = world.actor(session, "甲")
        for step in (expenses.confirm_activity, expenses.review, expenses.approve):
            with pytest.raises(DomainError) as refused:
                if (
                    claim.status == ExpenseStatus.submitted
                    and step is not expenses.confirm_activity
                ):
                    expenses.confirm_activity(session, world.actor(session, "leader"), claim)
                if claim.status == ExpenseStatus.activity_confirmed and step is expenses.approve:
                    expenses.review(session, world.actor(session, "finance"), claim)
                step(session, own, claim)
            assert refused.value.code == "four_eyes", step.__name__
        # a finance officer who reviewed it does not also approve or pay it
        approver_finance = session.get(User, world.users["finance"])
        accounts.grant_role(
            session,
            platform.policy,
            None,
            approver_finance,
            "insurance.approver",
            session.get(Unit, world.tree.district.id),
        )
        accounts.grant_role(
            session,
            platform.policy,
            None,
            approver_finance,
            "insurance.cashier",
            session.get(Unit, world.tree.district.id),
        )
        with pytest.raises(DomainError) as same_hand:
            expenses.approve(session, world.actor(session, "finance"), claim)
        assert same_hand.value.code == "four_eyes"
        expenses.approve(session, world.actor(session, "approver"), claim)
        for payer in ("finance", "approver"):
            with pytest.raises(DomainError) as payer_refused:
                if payer == "approver":
                    accounts.grant_role(
                        session,
                        platform.policy,
                        None,
                        session.get(User, world.users["approver"]),
                        "insurance.cashier",
                        township,
                    )
                expenses.pay(session, world.actor(session, payer), claim, method=PaymentMethod.cash)
            assert payer_refused.value.code == "four_eyes"
        with pytest.raises(DomainError) as own_payment:
            expenses.pay(session, own, claim, method=PaymentMethod.cash)
        assert own_payment.value.code == "four_eyes"
        expenses.pay(session, world.actor(session, "cashier"), claim, method=PaymentMethod.cash)
        assert approvals.sod_violations(session, world.unit(session, "city").path) == []


def test_the_approval_level_follows_the_amount(platform, world):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reimbursement, amount_fen=10_000_000)
        claim = expense_claim(
            session, world, "甲", DAY, [("materials", 80_000, None, None)]
        )  # 800 元
        through_review(session, world, claim)
        with pytest.raises(DomainError) as township:
            expenses.approve(session, world.actor(session, "approver"), claim)
        assert township.value.code == "approval_level" and "区县" in township.value.message
        expenses.approve(session, world.actor(session, "approver_district"), claim)
        approval = approvals.history(session, "expense", claim.id)[-1]
        assert approval.acting_unit_id == world.tree.district.id and approval.amount_fen == 80_000


def test_budget_stop_blocks_the_finance_review_until_the_exception_is_signed(platform, world):
    from plugins.insurance import budgets

    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reimbursement, amount_fen=1_000)
        claim = expense_claim(session, world, "甲", DAY, [("transport", 1_500, None, None)])
        expenses.submit(session, world.actor(session, "甲"), claim)
        expenses.confirm_activity(session, world.actor(session, "leader"), claim)
        with pytest.raises(DomainError) as stop:
            expenses.review(session, world.actor(session, "finance"), claim)
        assert stop.value.code == "budget_stop"
        claim.sanctioned_fen = 1_500  # what finance is about to sanction
        budgets.sign_exception(
            session,
            world.actor(session, "exception"),
            "expense",
            claim,
            amount_fen=1_500,
            reason="汛期加班巡逻",
            on=DAY,
        )
        expenses.review(session, world.actor(session, "finance"), claim)
        assert "例外" in claim.budget_warning
        expenses.approve(session, world.actor(session, "approver"), claim)
        expenses.pay(session, world.actor(session, "cashier"), claim, method=PaymentMethod.cash)
        assert session.exec(select(Payment)).one().amount_fen == 1_500


def test_receipts_are_checked_by_content(platform, world):
    with platform.session_factory() as session:
        claim = expense_claim(
            session, world, "甲", DAY, [("transport", 1_000, None, None)], receipts=False
        )
        line = expenses.lines_of(session, claim)[0]
        with pytest.raises(DomainError) as wrong:
            expenses.attach_receipt(
                session, world.actor(session, "甲"), claim, line, "receipt.jpg", b"MZ\x90\x00"
            )
        assert wrong.value.errors[0].rule == "file_type"
        with pytest.raises(DomainError) as large:
            expenses.attach_receipt(
                session,
                world.actor(session, "甲"),
                claim,
                line,
                "big.pdf",
                b"%PDF-" + b"0" * (5 * 1024 * 1024),
            )
        assert large.value.errors[0].rule == "too_large"
        with pytest.raises(DomainError) as not_theirs:
            expenses.attach_receipt(
                session, world.actor(session, "乙"), claim, line, "r.pdf", b"%PDF-1.4"
            )
        assert not_theirs.value.status == 403
        assert ExpenseType  # the vocabulary is the API's
