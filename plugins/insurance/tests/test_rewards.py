"""Rewards by amount, per-case subsidies from domain events, compensation referrals, premiums,
payment reversals, and the segregation-of-duties report."""

from datetime import date

import pytest
from sqlmodel import select

from core.contributions import DomainEvent
from core.errors import DomainError
from core.units.models import Unit
from plugins.insurance import approvals, budgets, config, documents, payments, rewards
from plugins.insurance.models import Approval, Reward
from plugins.insurance.tests.factories import active_budget, china, policy
from plugins.insurance.vocab import (
    Category,
    CommitmentState,
    CompensationBasis,
    CompensationStatus,
    PaymentMethod,
    RewardKind,
    RewardStatus,
)

pytestmark = pytest.mark.plugins("insurance")
JUNE = china(2025, 6, 1)


def proposed(session, world, amount_fen, kind=RewardKind.commendation):
    return rewards.propose(
        session,
        world.actor(session, "finance"),
        world.unit(session, "district"),
        recipient_person_id=world.members["甲"].person_id,
        kind=kind,
        amount_fen=amount_fen,
        basis_ref="见义勇为",
        citation="协助抓获盗窃嫌疑人",
        now=JUNE,
    )


def test_a_reward_is_approved_at_the_level_its_amount_needs_and_paid_by_someone_else(
    platform, world
):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reward, amount_fen=10_000_000)
        reward = proposed(session, world, 600_000)  # 6000 元: the city approves
        with pytest.raises(DomainError) as own_review:
            rewards.review(session, world.actor(session, "甲"), reward)
        assert own_review.value.status == 403
        rewards.review(session, world.actor(session, "finance2"), reward)
        with pytest.raises(DomainError) as low:
            rewards.approve(session, world.actor(session, "approver_district"), reward)
        assert low.value.code == "approval_level"
        rewards.approve(session, world.actor(session, "approver_city"), reward)
        with pytest.raises(DomainError) as same_hand:
            from core.accounts import services as accounts
            from core.accounts.models import User

            approver = session.get(User, world.users["approver_city"])
            accounts.grant_role(
                session,
                platform.policy,
                None,
                approver,
                "insurance.cashier",
                session.get(Unit, world.tree.city.id),
            )
            rewards.pay_reward(
                session, world.actor(session, "approver_city"), reward, method=PaymentMethod.cash
            )
        assert same_hand.value.code == "four_eyes"
        rewards.pay_reward(
            session, world.actor(session, "cashier"), reward, method=PaymentMethod.cash
        )
        rewards.publish(session, world.actor(session, "finance"), reward)
        assert reward.status == RewardStatus.published
        assert approvals.sod_violations(session, world.unit(session, "city").path) == []


def test_a_rejection_needs_its_reason(platform, world):
    with platform.session_factory() as session:
        reward = proposed(session, world, 1_000)
        with pytest.raises(DomainError):
            rewards.reject(session, world.actor(session, "finance2"), reward, "")
        rewards.reject(session, world.actor(session, "finance2"), reward, "事迹不实")
        assert reward.status == RewardStatus.rejected and reward.reason == "事迹不实"


def test_hook_handle_event_proposes_a_per_case_subsidy_when_configured(platform, world):
    with platform.session_factory() as session:
        district = world.unit(session, "district")
        event = DomainEvent(
            "mediation.case.closed",
            district.id,
            {"id": 77, "mediator_person_id": world.members["甲"].person_id, "subsidy_fen": 30_000},
            occurred_at=JUNE,
        )
        platform.emit(session, event)
        assert session.exec(select(Reward)).all() == []  # no rule: nothing
        config.set_setting(
            session,
            district,
            "reward.subsidy_events",
            [
                {
                    "event": "mediation.case.closed",
                    "recipient_field": "mediator_person_id",
                    "amount_field": "subsidy_fen",
                    "default_fen": 10_000,
                    "max_fen": 20_000,
                }
            ],
            date(2025, 1, 1),
            user_id=world.users["finance"],
        )
        platform.emit(session, event)
        platform.emit(session, event)  # the same case twice: one proposal
        made = session.exec(select(Reward)).all()
        assert [(r.kind, r.amount_fen, r.basis_ref, r.status) for r in made] == [
            ("case_subsidy", 20_000, "mediation.case.closed:77", "proposed")
        ]
        assert documents.DOCS["reward"].category(made[0]) == Category.case_subsidy


def test_compensation_is_referred_and_the_department_decides(platform, world):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.compensation, amount_fen=1_000_000)
        clerk = world.actor(session, "clerk")
        case = rewards.refer(
            session,
            clerk,
            world.unit(session, "district"),
            person_id=world.members["甲"].person_id,
            basis=CompensationBasis.fire_50,
            competent_dept="区应急管理局",
            summary="扑救火灾中烧伤",
            recommended_fen=500_000,
            now=JUNE,
        )
        with pytest.raises(DomainError):  # the platform decides nothing before the department
            rewards.approve_platform_aid(
                session,
                world.actor(session, "approver_district"),
                case,
                amount_fen=1_000,
                payee_account=None,
            )
        rewards.record_decision(
            session, clerk, case, dept="区应急管理局", doc_no="应急〔2025〕12号", amount_fen=300_000
        )
        rewards.approve_platform_aid(
            session,
            world.actor(session, "approver_district"),
            case,
            amount_fen=20_000,
            payee_account="6222000012345678",
        )
        rewards.pay_platform_aid(
            session, world.actor(session, "cashier"), case, method=PaymentMethod.bank
        )
        rewards.close_case(session, clerk, case)
        assert case.status == CompensationStatus.closed and case.decision_fen == 300_000


def test_a_premium_is_approved_and_paid_from_the_premium_budget(platform, world):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.premium, amount_fen=100_000)
        bought = policy(session, world, premium_fen=40_000)
        rewards.approve_premium(session, world.actor(session, "approver_district"), bought)
        with pytest.raises(DomainError):
            rewards.pay_premium(
                session,
                world.actor(session, "approver_district"),
                bought,
                payee_account="123456789012",
            )
        rewards.pay_premium(
            session, world.actor(session, "cashier"), bought, payee_account="123456789012"
        )
        assert bought.premium_paid


def test_a_reversed_payment_reopens_the_document_and_restores_the_budget(platform, world):
    with platform.session_factory() as session:
        budget = active_budget(session, world, category=Category.reward, amount_fen=100_000)
        reward = proposed(session, world, 5_000)
        rewards.review(session, world.actor(session, "finance2"), reward)
        rewards.approve(session, world.actor(session, "approver_district"), reward)
        paid = rewards.pay_reward(
            session, world.actor(session, "cashier"), reward, method=PaymentMethod.cash
        )
        payments.reverse_payment(session, world.actor(session, "cashier"), paid, "收款人账户有误")
        documents.reopen(session, "reward", reward.id)
        assert reward.status == RewardStatus.approved
        assert [c.state for c in budgets.commitments_of(session, "reward", reward.id)] == [
            CommitmentState.reserved
        ]
        assert budgets.used_fen(session, budget.lineage_id) == 5_000
        again = rewards.pay_reward(
            session, world.actor(session, "cashier"), reward, method=PaymentMethod.cash
        )
        assert again.voucher_no != paid.voucher_no


def test_the_segregation_of_duties_report_catches_what_the_services_refuse(platform, world):
    """The services refuse these; a row written around them (an import, a bad migration) is
    still caught by the report."""
    with platform.session_factory() as session:
        reward = proposed(session, world, 1_000)
        district = world.unit(session, "district")
        finance = world.actor(session, "finance")
        session.add(
            Approval(
                subject_type="reward",
                subject_id=reward.id,
                unit_path=district.path,
                step="approved",
                decision="approve",
                by_user_id=finance.user_id,
                by_username=finance.username,
                party_person_id=reward.recipient_person_id,
            )
        )
        member = world.actor(session, "甲")
        session.add(
            Approval(
                subject_type="reward",
                subject_id=reward.id,
                unit_path=district.path,
                step="paid",
                decision="approve",
                by_user_id=member.user_id,
                by_username=member.username,
                by_person_id=member.person_id,
                party_person_id=reward.recipient_person_id,
            )
        )
        session.flush()
        found = approvals.sod_violations(session, world.unit(session, "city").path)
        assert {(v.rule, v.steps) for v in found} == {
            ("same_hand", ("proposed", "approved")),
            ("own", ("paid",)),
        }
        assert approvals.sod_violations(session, world.unit(session, "other_district").path) == []
