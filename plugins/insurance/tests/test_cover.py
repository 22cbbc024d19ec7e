"""Cover and the check_assignment hook: risky tasks are blocked without cover (art. 17)."""

from datetime import date, datetime, timedelta

import pytest

from core.contributions import AssignmentCheck
from core.errors import DomainError
from core.plugins import flatten
from core.units.models import Unit
from core.units.services import set_plugin_enabled
from core.volunteers.models import Volunteer, VolunteerStatus
from plugins.insurance import cover
from plugins.insurance.tests.factories import china, policy

pytestmark = pytest.mark.plugins("insurance")


def check_for(
    world, member: str, start: datetime, *, risky: bool, hours: int = 4, task_type="core.patrol"
):
    someone = world.members[member]
    return AssignmentCheck(
        volunteer_id=someone.volunteer_id,
        person_id=someone.person_id,
        home_unit_id=someone.unit_id,
        unit_id=someone.unit_id,
        task_type=task_type,
        risky=risky,
        required_modules=(),
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
    )


def answers(platform, session, check):
    """Call the hook through the plugin manager, as core's assignment flow does."""
    hooks = platform.unit_hooks(session, session.get(Unit, check.unit_id))
    return flatten(hooks.check_assignment(check=check, session=session))


def test_hook_check_assignment_blocks_a_risky_task_without_cover(platform, world):
    with platform.session_factory() as session:
        refusals = answers(
            platform, session, check_for(world, "甲", china(2025, 3, 1, 20), risky=True)
        )
        assert [r.rule for r in refusals] == ["insurance.no_cover"]
        assert refusals[0].blocking is True
        assert "2025-03-01" in refusals[0].message.zh and "第十七条" in refusals[0].message.zh
        assert "art. 17" in refusals[0].message.en


def test_hook_check_assignment_warns_for_a_task_without_risk(platform, world):
    with platform.session_factory() as session:
        refusals = answers(
            platform, session, check_for(world, "甲", china(2025, 3, 1, 9), risky=False)
        )
        assert len(refusals) == 1 and refusals[0].blocking is False


def test_hook_check_assignment_allows_with_cover_by_list(platform, world):
    with platform.session_factory() as session:
        bought = policy(session, world)
        cover.enrol_list(session, bought, [world.members["甲"].volunteer_id])
        check = check_for(world, "甲", china(2025, 3, 1, 20), risky=True)
        assert answers(platform, session, check) == []
        # 乙 is not on the list
        assert answers(platform, session, check_for(world, "乙", china(2025, 3, 1, 20), risky=True))


def test_hook_check_assignment_activity_rule_covers_every_active_volunteer(platform, world):
    with platform.session_factory() as session:
        policy(session, world, rule="activity")
        assert (
            answers(platform, session, check_for(world, "乙", china(2025, 5, 5, 8), risky=True))
            == []
        )
        volunteer = session.get(Volunteer, world.members["乙"].volunteer_id)
        volunteer.status = VolunteerStatus.suspended
        session.add(volunteer)
        session.flush()
        assert answers(platform, session, check_for(world, "乙", china(2025, 5, 5, 8), risky=True))
        # the other district's volunteer is outside the buying unit's subtree
        assert answers(platform, session, check_for(world, "丙", china(2025, 5, 5, 8), risky=True))


def test_hook_check_assignment_policy_ending_today_covers_the_whole_day(platform, world):
    with platform.session_factory() as session:
        policy(session, world, rule="activity", period=(date(2025, 1, 1), date(2025, 6, 30)))
        late = check_for(world, "甲", china(2025, 6, 30, 22, 0), risky=True, hours=1)
        assert answers(platform, session, late) == []  # until 23:59:59 on its last day
        overnight = check_for(world, "甲", china(2025, 6, 30, 22, 0), risky=True, hours=4)
        refusals = answers(platform, session, overnight)  # runs into 1 July, uncovered
        assert refusals and "2025-07-01" in refusals[0].message.zh
        assert "2025-06-30" not in refusals[0].message.zh


def test_hook_check_assignment_respects_activity_types(platform, world):
    with platform.session_factory() as session:
        policy(session, world, rule="activity", activity_types=["core.patrol"])
        assert (
            answers(platform, session, check_for(world, "甲", china(2025, 4, 1, 9), risky=True))
            == []
        )
        other = check_for(world, "甲", china(2025, 4, 1, 9), risky=True, task_type="fire.drill")
        assert answers(platform, session, other)


def test_hook_check_assignment_is_not_asked_where_insurance_is_off(platform, world):
    with platform.session_factory() as session:
        village = session.get(Unit, world.tree.village.id)
        set_plugin_enabled(session, village, "insurance", False, changed_by="test")
        session.flush()
        assert (
            answers(platform, session, check_for(world, "甲", china(2025, 3, 1, 20), risky=True))
            == []
        )


def test_enrolment_by_list_refuses_volunteers_outside_the_policy(platform, world):
    with platform.session_factory() as session:
        bought = policy(session, world)
        with pytest.raises(DomainError) as outside:
            cover.enrol_list(session, bought, [world.members["丙"].volunteer_id])
        assert outside.value.errors[0].field == "volunteer_ids.0"
        first = cover.enrol_list(session, bought, [world.members["甲"].volunteer_id])
        again = cover.enrol_list(session, bought, [world.members["甲"].volunteer_id])
        assert first[0].id == again[0].id  # idempotent


def test_a_policy_number_is_recorded_once(platform, world):
    with platform.session_factory() as session:
        policy(session, world)
        with pytest.raises(DomainError) as twice:
            policy(session, world)
        assert twice.value.status == 409
