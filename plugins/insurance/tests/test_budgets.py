"""Budgets: control at the thresholds, the exception approver, versions, restricted gifts."""

from datetime import date

import pytest

from core.errors import DomainError
from plugins.insurance import budgets, config
from plugins.insurance.models import Reward
from plugins.insurance.tests.factories import active_budget, china, fund
from plugins.insurance.vocab import BudgetStatus, Category, OnExceed, SourceKind

pytestmark = pytest.mark.plugins("insurance")


def reward(session, world, amount_fen, unit_name="district", day=(2025, 6, 1)):
    unit = world.unit(session, unit_name)
    doc = Reward(
        unit_id=unit.id,
        unit_path=unit.path,
        recipient_person_id=world.members["甲"].person_id,
        kind="commendation",
        basis_ref="测试",
        amount_fen=amount_fen,
        proposed_at=china(*day),
    )
    session.add(doc)
    session.flush()
    return doc


def reserve(session, world, doc, on=date(2025, 6, 1)):
    finance = world.actor(session, "finance")
    return budgets.reserve(
        session,
        "reward",
        doc,
        doc.amount_fen,
        on=on,
        user_id=finance.user_id,
        address=finance.address,
    )


def test_budget_warns_from_80_percent_and_stops_beyond_100(platform, world):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reward, amount_fen=100_000)
        _, control = reserve(session, world, reward(session, world, 79_999))
        assert control.warning is None
        _, control = reserve(session, world, reward(session, world, 1))
        assert "80%" in control.warning  # 80 000 of 100 000: the warning line
        _, control = reserve(session, world, reward(session, world, 20_000))
        assert "100%" in control.warning and not control.over_stop  # exactly the budget: allowed
        with pytest.raises(DomainError) as stop:
            reserve(session, world, reward(session, world, 1))
        assert stop.value.code == "budget_stop" and stop.value.status == 409
        assert stop.value.errors[0].field == "budget" and stop.value.errors[0].rule == "budget_stop"


def test_the_exception_approver_lets_one_document_pass_a_stopped_budget(platform, world):
    with platform.session_factory() as session:
        budget = active_budget(session, world, category=Category.reward, amount_fen=50_000)
        reserve(session, world, reward(session, world, 45_000))
        over = reward(session, world, 10_000)
        with pytest.raises(DomainError):
            reserve(session, world, over)
        # finance staff cannot sign: the budget names its exception approver role
        with pytest.raises(DomainError) as not_role:
            budgets.sign_exception(
                session,
                world.actor(session, "finance"),
                "reward",
                over,
                amount_fen=10_000,
                reason="突发表彰",
                on=date(2025, 6, 1),
            )
        assert not_role.value.status == 403 and not_role.value.errors[0].rule == "exception_role"
        signed = budgets.sign_exception(
            session,
            world.actor(session, "exception", "192.0.2.7"),
            "reward",
            over,
            amount_fen=10_000,
            reason="突发表彰",
            on=date(2025, 6, 1),
        )
        assert (
            signed.address == "192.0.2.7" and signed.approved_by_user_id == world.users["exception"]
        )
        commitments, control = reserve(session, world, over)
        assert control.over_stop and control.exception.id == signed.id
        assert sum(c.amount_fen for c in commitments) == 10_000
        assert budgets.used_fen(session, budget.lineage_id) == 55_000
        # the exception covers that document only
        with pytest.raises(DomainError):
            reserve(session, world, reward(session, world, 1))


def test_the_recipient_cannot_sign_their_own_exception(platform, world):
    from core.accounts import services as accounts
    from core.accounts.models import User
    from core.units.models import Unit

    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reward, amount_fen=100)
        doc = reward(session, world, 500)
        member = session.get(User, world.members["甲"].user_id)
        accounts.grant_role(
            session,
            platform.policy,
            None,
            member,
            "insurance.exception_approver",
            session.get(Unit, world.tree.district.id),
        )
        with pytest.raises(DomainError) as own:
            budgets.sign_exception(
                session,
                world.actor(session, "甲"),
                "reward",
                doc,
                amount_fen=500,
                reason="自己批",
                on=date(2025, 6, 1),
            )
        assert own.value.code == "four_eyes"


def test_warn_budgets_only_warn(platform, world):
    with platform.session_factory() as session:
        active_budget(
            session, world, category=Category.reward, amount_fen=1_000, on_exceed=OnExceed.warn
        )
        _, control = reserve(session, world, reward(session, world, 5_000))
        assert control.over_stop and "仅预警" in control.warning


def test_thresholds_are_unit_configuration_with_a_valid_from_date(platform, world):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reward, amount_fen=100_000)
        config.set_setting(
            session,
            world.unit(session, "district"),
            "budget.stop_percent",
            110,
            date(2025, 7, 1),
            user_id=world.users["finance"],
            reason="年中追加",
        )
        config.set_setting(
            session,
            world.unit(session, "district"),
            "budget.warn_percent",
            50,
            date(2025, 7, 1),
            user_id=world.users["finance"],
        )
        with pytest.raises(DomainError):  # before 1 July the stop is at 100 %
            reserve(session, world, reward(session, world, 105_000), on=date(2025, 6, 30))
        _, control = reserve(session, world, reward(session, world, 105_000), on=date(2025, 7, 1))
        assert control.warning and not control.over_stop
        assert (
            config.setting(
                session, world.unit(session, "village").path, config.STOP_PERCENT, date(2025, 7, 1)
            )
            == 110
        )  # the village inherits
        assert (
            config.setting(
                session,
                world.unit(session, "other_district").path,
                config.STOP_PERCENT,
                date(2025, 7, 1),
            )
            == 100
        )
        with pytest.raises(DomainError) as same_day:
            config.set_setting(
                session,
                world.unit(session, "district"),
                "budget.stop_percent",
                120,
                date(2025, 7, 1),
                user_id=world.users["finance"],
            )
        assert same_day.value.status == 409


def test_a_parents_budget_covers_its_children(platform, world):
    with platform.session_factory() as session:
        budget = active_budget(session, world, category=Category.reward, amount_fen=10_000)
        commitments, _ = reserve(session, world, reward(session, world, 2_000, unit_name="village"))
        assert commitments[0].lineage_id == budget.lineage_id
        with pytest.raises(DomainError) as none:  # the other district has no budget
            reserve(session, world, reward(session, world, 2_000, unit_name="other_district"))
        assert none.value.code == "no_budget"


def test_revisions_are_new_versions_and_the_old_one_stays_read_only(platform, world):
    with platform.session_factory() as session:
        source = fund(session, world, amount_fen=1_000_000)
        budget = active_budget(
            session, world, category=Category.reward, amount_fen=100_000, source=source
        )
        reserve(session, world, reward(session, world, 60_000))
        finance = world.actor(session, "finance")
        revision = budgets.revise(
            session,
            finance,
            budget,
            allocations=[budgets.AllocationInput(source.id, 150_000)],
            note="追加",
        )
        assert (revision.version, revision.revision_of_id, revision.lineage_id) == (
            2,
            budget.id,
            budget.lineage_id,
        )
        assert budget.status == BudgetStatus.active  # in force until the revision is approved
        with pytest.raises(DomainError):
            budgets.revise(
                session, finance, budget, allocations=[budgets.AllocationInput(source.id, 1)]
            )
        budgets.submit(session, finance, revision)
        with pytest.raises(DomainError) as own:  # the drafter does not approve
            budgets.approve(session, world.actor(session, "finance"), revision)
        assert own.value.code == "four_eyes"
        budgets.approve(session, world.actor(session, "approver_district"), revision)
        assert (budget.status, revision.status) == (BudgetStatus.revised, BudgetStatus.active)
        assert budgets.used_fen(session, revision.lineage_id) == 60_000  # commitments stay
        # a revision below what is already committed is refused
        smaller = budgets.revise(
            session, finance, revision, allocations=[budgets.AllocationInput(source.id, 50_000)]
        )
        budgets.submit(session, finance, smaller)
        with pytest.raises(DomainError) as below:
            budgets.approve(session, world.actor(session, "approver_district"), smaller)
        assert below.value.errors[0].rule == "below_spending"


def test_restricted_gifts_fund_only_their_purpose_and_are_drawn_first(platform, world):
    with platform.session_factory() as session:
        gift = fund(
            session,
            world,
            amount_fen=30_000,
            kind=SourceKind.donation,
            name="某企业捐赠",
            donor_name="重庆某某公司",
            restriction_categories=[Category.reward],
            restriction_until=date(2025, 12, 31),
        )
        plain = fund(session, world, amount_fen=100_000)
        finance = world.actor(session, "finance")
        with pytest.raises(DomainError) as restricted:
            budgets.create_budget(
                session,
                finance,
                world.unit(session, "district"),
                fiscal_year=2025,
                category=Category.training,
                allocations=[budgets.AllocationInput(gift.id, 10_000)],
            )
        assert restricted.value.errors[0].rule == "restricted"
        drafted = budgets.create_budget(
            session,
            finance,
            world.unit(session, "district"),
            fiscal_year=2025,
            category=Category.reward,
            allocations=[
                budgets.AllocationInput(plain.id, 50_000),
                budgets.AllocationInput(gift.id, 30_000),
            ],
        )
        budgets.submit(session, finance, drafted)
        budgets.approve(session, world.actor(session, "approver_district"), drafted)
        commitments, _ = reserve(session, world, reward(session, world, 40_000))
        assert [(c.source_id, c.amount_fen) for c in commitments] == [
            (gift.id, 30_000),
            (plain.id, 10_000),
        ]
        assert gift.status == "allocated"


def test_a_source_is_never_allocated_beyond_what_was_received(platform, world):
    with platform.session_factory() as session:
        source = fund(session, world, amount_fen=10_000)
        active_budget(session, world, category=Category.reward, amount_fen=8_000, source=source)
        finance = world.actor(session, "finance")
        drafted = budgets.create_budget(
            session,
            finance,
            world.unit(session, "district"),
            fiscal_year=2025,
            category=Category.training,
            allocations=[budgets.AllocationInput(source.id, 5_000)],
        )
        budgets.submit(session, finance, drafted)
        with pytest.raises(DomainError) as over:
            budgets.approve(session, world.actor(session, "approver_district"), drafted)
        assert over.value.errors[0].rule == "over_allocated"
