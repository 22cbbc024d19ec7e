"""The periodic jobs: what they find at a chosen time, and that running them twice adds nothing."""

from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from core.jobs.runtime import JobContext
from core.notifications.models import Notification
from plugins.insurance import claims, cover, expenses, jobs
from plugins.insurance.models import Alert, Enrolment, ExpenseClaim, MonthClose, Payment
from plugins.insurance.tests.factories import active_budget, china, expense_claim, policy, served
from plugins.insurance.tests.test_claims import ready_claim
from plugins.insurance.vocab import Category, ExpenseStatus, PaymentMethod

pytestmark = pytest.mark.plugins("insurance")


@pytest.fixture
def context(platform):
    return JobContext(None, platform.session_factory, platform.settings, platform.plugins)


def alerts(platform) -> list[Alert]:
    with platform.session_factory() as session:
        return list(session.exec(select(Alert).order_by(Alert.id)))


def notifications(platform) -> int:
    with platform.session_factory() as session:
        return session.exec(select(func.count()).select_from(Notification)).one()


def test_claim_clocks_chase_then_escalate_once_each(platform, world, context):
    with platform.session_factory() as session:
        clerk = world.actor(session, "clerk")
        claim = ready_claim(session, world)
        claims.submit(session, clerk, claim)
        sent = china(2025, 3, 10, 9)
        claims.send_to_insurer(session, clerk, claim, at=sent)
        session.commit()
    assert jobs.claim_clocks(now=(sent + timedelta(days=19)).isoformat(), context=context) == 0
    assert jobs.claim_clocks(now=(sent + timedelta(days=20)).isoformat(), context=context) == 1
    assert [a.kind for a in alerts(platform)] == ["claim_chase"]
    clerk_inbox = notifications(platform)
    assert clerk_inbox >= 1  # the clerk was told
    assert (
        jobs.claim_clocks(now=(sent + timedelta(days=21)).isoformat(), context=context) == 0
    )  # once
    assert (
        jobs.claim_clocks(now=(sent + timedelta(days=30, seconds=1)).isoformat(), context=context)
        == 1
    )
    assert [a.kind for a in alerts(platform)] == ["claim_chase", "claim_decision_overdue"]
    assert notifications(platform) > clerk_inbox  # the approving head was told too


def test_limitation_watch_warns_at_90_and_30_days(platform, world, context):
    from plugins.insurance.tests.test_claims import incident

    with platform.session_factory() as session:
        reported = incident(session, world)  # 2025-03-01: limitation ends 2027-03-01
        session.commit()
    assert jobs.limitation_watch(now="2026-11-30T09:00:00+08:00", context=context) == 0  # 91 days
    assert jobs.limitation_watch(now="2026-12-01T09:00:00+08:00", context=context) == 1  # 90 days
    assert jobs.limitation_watch(now="2026-12-02T09:00:00+08:00", context=context) == 0
    assert jobs.limitation_watch(now="2027-02-01T09:00:00+08:00", context=context) == 1  # 28 days
    assert {a.key for a in alerts(platform)} == {
        f"incident:{reported.id}:limitation:90",
        f"incident:{reported.id}:limitation:30",
    }


def test_policy_expiry_renewal_alerts(platform, world, context):
    with platform.session_factory() as session:
        policy(session, world, period=(date(2025, 1, 1), date(2025, 12, 31)))
        session.commit()
    assert jobs.policy_expiry(now="2025-10-01T08:00:00+08:00", context=context) == 0
    assert jobs.policy_expiry(now="2025-11-02T08:00:00+08:00", context=context) == 1  # 59 days
    assert jobs.policy_expiry(now="2025-12-25T08:00:00+08:00", context=context) == 1  # 6 days
    assert jobs.policy_expiry(now="2025-12-26T08:00:00+08:00", context=context) == 0


def test_pre_activity_check_enrols_under_the_activity_rule_and_blocks_risky_tasks(
    platform, world, context
):
    with platform.session_factory() as session:
        assignment, _ = served(session, world, "甲", china(2025, 4, 2, 9), task_type="core.patrol")
        session.commit()
    start = china(2025, 4, 1, 12).isoformat()
    assert jobs.pre_activity_check(now=start, context=context) == 1
    assert [a.kind for a in alerts(platform)] == [
        "no_cover"
    ]  # core.patrol is not a risky type here
    with platform.session_factory() as session:
        policy(session, world, rule="activity", number="RULE-1")
        session.commit()
    assert jobs.pre_activity_check(now=start, context=context) == 0
    assert jobs.pre_activity_check(now=start, context=context) == 0
    with platform.session_factory() as session:
        rows = session.exec(select(Enrolment)).all()
    assert [row.basis for row in rows] == [f"assignment:{assignment.id}"]  # once, however often


def test_same_day_incident_alert(platform, world, context):
    from plugins.insurance.tests.test_claims import incident

    with platform.session_factory() as session:
        incident(session, world, when=china(2025, 3, 1, 21), now=china(2025, 3, 1, 23, 59))
        late = incident(
            session, world, member="乙", when=china(2025, 3, 1, 22), now=china(2025, 3, 2, 8)
        )
        session.commit()
    assert jobs.incident_same_day(context=context) == 1
    assert jobs.incident_same_day(context=context) == 0
    assert [a.subject_id for a in alerts(platform)] == [late.id]


def test_budget_watch_and_duplicate_sweep_and_monthly_close(platform, world, context):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reimbursement, amount_fen=2_000)
        claim = expense_claim(
            session, world, "甲", date(2025, 4, 12), [("transport", 1_700, "55", "66")]
        )
        expenses.submit(session, world.actor(session, "甲"), claim)
        expenses.confirm_activity(session, world.actor(session, "leader"), claim)
        expenses.review(session, world.actor(session, "finance"), claim)
        expenses.approve(session, world.actor(session, "approver"), claim)
        payment = expenses.pay(
            session,
            world.actor(session, "cashier"),
            claim,
            method=PaymentMethod.cash,
            now=china(2025, 4, 20),
        )
        twin = expense_claim(
            session, world, "乙", date(2025, 4, 13), [("transport", 1_700, "55", "66")]
        )
        session.commit()
    assert jobs.budget_watch(now="2025-04-21T08:00:00+08:00", context=context) == 1  # 85 % ≥ 80 %
    assert jobs.budget_watch(now="2025-04-22T08:00:00+08:00", context=context) == 0
    assert jobs.duplicate_receipts(context=context) == 1
    assert jobs.duplicate_receipts(context=context) == 0
    assert {a.kind for a in alerts(platform)} == {"budget_warn", "duplicate_invoice"}
    assert jobs.monthly_close(month="2025-04", context=context) == 1
    assert jobs.monthly_close(month="2025-04", context=context) == 0
    with platform.session_factory() as session:
        closed = session.exec(select(MonthClose)).one()
        assert closed.figures["paid_fen"] == 1_700 and closed.figures["payments"] == 1
        assert session.get(Payment, payment.id).reconciled_at is not None
        assert session.get(ExpenseClaim, claim.id).status == ExpenseStatus.closed
    assert twin  # the twin's duplicate stays a draft for its claimant to fix
    assert cover  # cover is exercised in test_cover


def test_jobs_skip_units_where_the_plugin_is_off(platform, world, context):
    from core.units.models import Unit
    from core.units.services import set_plugin_enabled
    from plugins.insurance.tests.test_claims import incident

    with platform.session_factory() as session:
        incident(session, world, when=china(2025, 3, 1, 21), now=china(2025, 3, 2, 8))
        set_plugin_enabled(
            session, session.get(Unit, world.tree.city.id), "insurance", False, changed_by="test"
        )
        session.commit()
    assert jobs.incident_same_day(context=context) == 0
