"""Assignment and dispatch: the subtree rule for every caller, volunteer and shift; every
eligibility rule refusing by name; no double-booking under concurrent requests; sign-ups
with approval; the volunteer told through the inbox."""

import threading
import time
from datetime import timedelta

import pytest
from litestar.exceptions import NotFoundException
from sqlmodel import select

from core.access import get_scoped
from core.errors import DomainError
from core.notifications.models import Notification
from core.tasks import assignments as staffing
from core.tasks.models import Assignment, AssignmentSource, Shift
from core.tasks.permissions import ASSIGN
from core.tasks.rules import DAILY_MAX_HOURS, MAX_AGE_RISKY, MIN_REST_MINUTES
from core.tasks.types import RESCUE_MODULE
from core.unitconfig.services import set_setting
from core.units.models import Unit, UnitLevel
from core.units.services import create_unit, set_plugin_enabled
from core.volunteers.models import VolunteerStatus
from tests.support.tasks_world import TasksWorld, at, inline_plugin, next_monday, principal_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def world(platform) -> TasksWorld:
    return TasksWorld(platform)


def _rules(error: DomainError) -> set[str]:
    return {e.rule for e in error.errors}


def assign_as(platform, principal, shift_id: int, volunteer_id: int, **options) -> Assignment:
    """Assign the way the API does: the scoped lookup, then the service; committed."""
    with platform.session_factory() as session:
        shift = get_scoped(session, Shift, shift_id, principal, ASSIGN)
        assignment = staffing.assign(platform, session, principal, shift, volunteer_id, **options)
        session.commit()
        return assignment


# -- the subtree rule of dispatch ---------------------------------------------------------------


@pytest.fixture
def tree(platform, unit_tree) -> dict[str, Unit]:
    """The fixture's tree plus a second village under the township and a township and
    village under the other district."""
    with platform.session_factory() as session:
        township = session.get(Unit, unit_tree.township.id)
        other_district = session.get(Unit, unit_tree.other_district.id)
        second_village = create_unit(
            session,
            name="较场口社区",
            level=UnitLevel.village,
            parent=township,
            code="500103002002",
        )
        far_township = create_unit(
            session,
            name="观音桥街道",
            level=UnitLevel.township,
            parent=other_district,
            code="500105001",
        )
        far_village = create_unit(
            session,
            name="建新社区",
            level=UnitLevel.village,
            parent=far_township,
            code="500105001001",
        )
        session.commit()
    return {
        "city": unit_tree.city,
        "district": unit_tree.district,
        "township": unit_tree.township,
        "village": unit_tree.village,
        "second_village": second_village,
        "other_township": unit_tree.other_township,
        "other_village": unit_tree.other_village,
        "other_district": unit_tree.other_district,
        "far_township": far_township,
        "far_village": far_village,
    }


CALLERS = [
    ("city_admin", "city"),
    ("district_admin", "district"),
    ("district_admin", "other_district"),
    ("township_leader", "township"),
    ("township_leader", "other_township"),
    ("village_leader", "village"),
]
HOMES = ["district", "township", "village", "second_village", "other_village", "far_village"]
SHIFT_UNITS = [
    "city",
    "district",
    "township",
    "village",
    "second_village",
    "other_township",
    "other_village",
    "other_district",
    "far_village",
]


def test_every_dispatch_is_allowed_or_refused_by_the_subtree_rule(platform, tree, world):
    """Every caller × volunteer home × shift unit. The oracle walks parent links: a shift
    outside the caller's subtree is not found; a volunteer of the shift's own subtree is the
    leader's own; anyone else needs the caller to be the 总队, a 大队 or a 中队 whose subtree
    holds the volunteer too — so sibling districts never dispatch each other's people, and
    the city dispatches anyone."""
    parent = {unit.id: unit.parent_id for unit in tree.values()}
    by_id = {unit.id: unit for unit in tree.values()}

    def within(inner: Unit, outer: Unit) -> bool:
        current = inner.id
        while current is not None:
            if current == outer.id:
                return True
            current = parent[current]
        return False

    monday = next_monday()
    tasks = {name: world.task(tree[name], days=14) for name in SHIFT_UNITS}
    points = {name: world.point(tree[name]) for name in SHIFT_UNITS}
    outcomes = {"not_found": 0, "own": 0, "dispatch": 0, "refused": 0}
    mismatches = []
    for role, where in CALLERS:
        caller_unit = tree[where]
        principal = principal_of(platform, (role, caller_unit))
        members = {home: world.volunteer(tree[home]) for home in HOMES}
        for day, shift_name in enumerate(SHIFT_UNITS):
            shift = world.shift(
                tasks[shift_name],
                at(monday + timedelta(days=day), 9),
                point_id=points[shift_name],
                max_headcount=len(HOMES),
            )
            shift_unit = tree[shift_name]
            for home in HOMES:
                home_unit = tree[home]
                if not within(shift_unit, caller_unit):
                    want = "not_found"
                elif within(home_unit, shift_unit):
                    want = "own"
                elif caller_unit.level != UnitLevel.village and within(home_unit, caller_unit):
                    want = "dispatch"
                else:
                    want = "refused"
                try:
                    made = assign_as(platform, principal, shift.id, members[home].volunteer_id)
                    got = "own" if made.source == AssignmentSource.leader else "dispatch"
                    if got == "dispatch" and made.dispatched_by_unit_id != caller_unit.id:
                        got = f"dispatch by {by_id[made.dispatched_by_unit_id].name}"
                    assert (made.home_unit_path, made.unit_path) == (
                        home_unit.path,
                        shift_unit.path,
                    )
                except NotFoundException:
                    got = "not_found"
                except DomainError as error:
                    got = (
                        "refused"
                        if error.code == "dispatch_refused"
                        else f"{error.code} {_rules(error)}"
                    )
                    if got == "refused":
                        assert (error.status, _rules(error)) == (403, {"dispatch_scope"})
                outcomes[want] += 1
                if got != want:
                    mismatches.append(
                        f"{role}@{where}: {home} → {shift_name}: want {want}, got {got}"
                    )
    assert not mismatches, "\n".join(mismatches)
    assert all(outcomes.values()), outcomes
    print(f"\ndispatch matrix: {sum(outcomes.values())} attempts {outcomes}")


async def test_dispatch_through_the_api_sibling_districts_cannot_the_city_can(
    client, platform, tree, world, accounts
):
    task = world.task(tree["other_village"])
    shift = world.shift(task, at(next_monday(), 9), max_headcount=3)
    member = world.volunteer(tree["far_village"])  # a volunteer of the other district
    url = f"/api/v1/shifts/{shift.id}/assignments"
    district = accounts("district_admin", tree["district"])  # holds the shift, not the volunteer
    refused = await client.post(
        url, json={"volunteer_id": member.volunteer_id}, headers=district.headers
    )
    assert refused.status_code == 403
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
        ("volunteer_id", "dispatch_scope")
    ]
    other = accounts("district_admin", tree["other_district"])  # holds the volunteer, not the shift
    assert (
        await client.post(url, json={"volunteer_id": member.volunteer_id}, headers=other.headers)
    ).status_code == 404
    city = accounts("city_admin", tree["city"])
    made = await client.post(url, json={"volunteer_id": member.volunteer_id}, headers=city.headers)
    assert made.status_code == 201, made.text
    (assignment,) = made.json()["assignments"]
    assert (
        assignment["source"],
        assignment["dispatched_by_unit_id"],
        assignment["home_unit_name"],
    ) == (
        "dispatch",
        tree["city"].id,
        "建新社区",
    )
    # the volunteer's home unit sees the assignment; the receiving unit does too
    for unit, who in ((tree["far_village"], "other_district"), (tree["other_village"], "city")):
        viewer = accounts("district_admin", tree[who]) if who != "city" else city
        week = next_monday().isoformat()
        listed = await client.get(
            f"/api/v1/units/{unit.id}/assignments", params={"week": week}, headers=viewer.headers
        )
        assert [a["id"] for a in listed.json()] == [assignment["id"]], unit.name


# -- eligibility ---------------------------------------------------------------------------------


@pytest.fixture
def duty(platform, unit_tree, world):
    """A published patrol at the village, a leader, and a helper to try someone on a shift."""
    task = world.task(unit_tree.village, days=7)
    point = world.point(unit_tree.village)
    leader = principal_of(platform, ("village_leader", unit_tree.village))

    def shift(hour: int, hours: float = 2, day: int = 0, minute: int = 0, **fields) -> Shift:
        start = at(next_monday() + timedelta(days=day), hour, minute)
        return world.shift(task, start, hours, point_id=point, **fields)

    def attempt(shift_id: int, member, **options):
        try:
            return assign_as(platform, leader, shift_id, member.volunteer_id, **options)
        except DomainError as error:
            return error

    return task, shift, attempt


def test_each_eligibility_rule_refuses_by_name(platform, unit_tree, world, duty):
    _, shift, attempt = duty
    monday = next_monday()
    eight = shift(8)
    cases = {
        "core.volunteer_active": world.volunteer(
            unit_tree.village, status=VolunteerStatus.suspended
        ),
        "core.age_minimum": world.volunteer(
            unit_tree.village, born=monday.replace(year=monday.year - 18) + timedelta(days=1)
        ),
        "core.age_unknown": world.volunteer(unit_tree.village, born=None),
    }
    for rule, member in cases.items():
        refused = attempt(eight.id, member)
        assert isinstance(refused, DomainError) and refused.code == "not_eligible", rule
        assert _rules(refused) == {rule}
        assert refused.errors[0].field == "volunteer_id"
    # exactly 18 on the day is old enough
    assert isinstance(
        attempt(
            eight.id, world.volunteer(unit_tree.village, born=monday.replace(year=monday.year - 18))
        ),
        Assignment,
    )
    skilled = shift(14, required_skills=["first_aid"])
    refused = attempt(skilled.id, world.volunteer(unit_tree.village, skills=("security",)))
    assert _rules(refused) == {"core.skills"} and "急救" in refused.errors[0].message
    assert isinstance(
        attempt(skilled.id, world.volunteer(unit_tree.village, skills=("first_aid",))), Assignment
    )
    # several rules at once are all named
    refused = attempt(
        skilled.id,
        world.volunteer(
            unit_tree.village,
            status=VolunteerStatus.left,
            born=monday.replace(year=monday.year - 16),
        ),
    )
    assert _rules(refused) == {"core.volunteer_active", "core.age_minimum", "core.skills"}


def test_no_overlap_rest_between_shifts_and_a_daily_maximum(platform, unit_tree, world, duty):
    _, shift, attempt = duty
    member = world.volunteer(unit_tree.village)
    first = shift(8)  # 08:00–10:00
    assert isinstance(attempt(first.id, member), Assignment)
    assert _rules(attempt(first.id, member)) == {"core.already_assigned"}
    assert _rules(attempt(shift(9).id, member)) == {"core.overlap"}
    # 10:00 follows on from 10:00: one continuous duty, no rest needed
    assert isinstance(attempt(shift(10).id, member), Assignment)
    # 12:30 leaves only 30 minutes' rest after 12:00 (an hour by default)
    refused = attempt(shift(12, minute=30).id, member)
    assert _rules(refused) == {"core.rest"} and "30" in refused.errors[0].message
    assert isinstance(attempt(shift(13).id, member), Assignment)
    # 08–12 and 13–15 make 6 hours: 5 more would pass the daily maximum of 10, 4 do not
    refused = attempt(shift(16, 5).id, member)
    assert _rules(refused) == {"core.daily_maximum"} and "11" in refused.errors[0].message
    assert isinstance(attempt(shift(16, 4).id, member), Assignment)
    # the next day starts afresh
    assert isinstance(attempt(shift(8, 10, day=1).id, member), Assignment)


def test_headcount_and_the_leader_place(platform, unit_tree, world, duty):
    _, shift, attempt = duty
    small = shift(8, max_headcount=2, leader_slot=True)
    first, second, third = (world.volunteer(unit_tree.village) for _ in range(3))
    assert _rules(attempt(shift(14).id, first, as_leader=True)) == {"core.leader_slot"}
    assert attempt(small.id, first, as_leader=True).is_leader
    assert _rules(attempt(small.id, second, as_leader=True)) == {"core.leader_slot"}
    assert not attempt(small.id, second).is_leader
    refused = attempt(small.id, third)
    assert _rules(refused) == {"core.headcount"} and refused.errors[0].field == "shift_id"


def test_the_units_settings_apply_from_their_valid_from_date(platform, unit_tree, world):
    """The oldest age for risky tasks, the daily maximum and the rest are per-unit settings
    read at the shift's unit on the shift's day."""
    monday = next_monday()
    rescue = world.task(
        unit_tree.village,
        task_type="core.emergency_rescue",
        details={"incident": "flood", "assembly_point": "朝天门"},
        days=14,
    )
    leader = principal_of(platform, ("village_leader", unit_tree.village))
    sixty_one = world.volunteer(
        unit_tree.village,
        born=monday.replace(year=monday.year - 62) + timedelta(days=3),
        qualified=(RESCUE_MODULE,),
    )
    early = world.shift(rescue, at(monday, 9))
    late = world.shift(rescue, at(monday + timedelta(days=10), 9))

    def attempt(shift, member):
        try:
            return assign_as(platform, leader, shift.id, member.volunteer_id)
        except DomainError as error:
            return error

    refused = attempt(early, sixty_one)
    assert _rules(refused) == {"core.age_maximum"} and "60" in refused.errors[0].message
    with platform.session_factory() as session:
        township = session.get(Unit, unit_tree.township.id)
        set_setting(
            session,
            township,
            MAX_AGE_RISKY,
            65,
            monday + timedelta(days=7),
            user_id=None,
            reason="本镇应急队放宽至65岁",
        )
        session.commit()
    assert _rules(attempt(early, sixty_one)) == {"core.age_maximum"}  # not yet in force
    assert isinstance(attempt(late, sixty_one), Assignment)
    # the daily maximum and the rest, set at the district for everything below
    patrol = world.task(unit_tree.village, days=7)
    with platform.session_factory() as session:
        district = session.get(Unit, unit_tree.district.id)
        set_setting(session, district, DAILY_MAX_HOURS, 3, monday, user_id=None)
        set_setting(session, district, MIN_REST_MINUTES, 0, monday, user_id=None)
        session.commit()
    member = world.volunteer(unit_tree.village)
    point = world.point(unit_tree.village)
    assert isinstance(
        attempt(world.shift(patrol, at(monday, 8), point_id=point), member), Assignment
    )
    assert isinstance(
        attempt(world.shift(patrol, at(monday, 10, 15), 1, point_id=point), member), Assignment
    )  # 15 minutes later: no rest required any more
    refused = attempt(world.shift(patrol, at(monday, 14), 1, point_id=point), member)
    assert _rules(refused) == {"core.daily_maximum"} and "3" in refused.errors[0].message


async def test_refusals_come_back_in_the_callers_language(
    client, platform, unit_tree, world, accounts
):
    task = world.task(unit_tree.village)
    shift = world.shift(task, at(next_monday(), 9), required_skills=["law"])
    member = world.volunteer(unit_tree.village, status=VolunteerStatus.suspended)
    leader = accounts("village_leader", unit_tree.village)
    url = f"/api/v1/shifts/{shift.id}/assignments"
    body = {"volunteer_id": member.volunteer_id}
    chinese = await client.post(url, json=body, headers=leader.headers)
    english = await client.post(url, json=body, headers={**leader.headers, "accept-language": "en"})
    assert chinese.status_code == english.status_code == 409
    assert chinese.json()["code"] == "not_eligible"
    assert [e["rule"] for e in english.json()["errors"]] == ["core.volunteer_active", "core.skills"]
    assert "Missing required skills: Law" in english.json()["errors"][1]["message"]
    assert "缺少所需特长：法律" in chinese.json()["errors"][1]["message"]


# -- never double-booked ------------------------------------------------------------------------


def test_two_simultaneous_assignments_of_one_person_to_overlapping_shifts_one_succeeds(
    pm, settings, request
):
    """Two leaders at once put one volunteer on two overlapping shifts of two villages. A
    plugin enabled there takes its time answering ``check_assignment`` (after core's overlap
    check), so without the volunteer's row lock both requests would pass the check; with it
    the second waits, then sees the first and is refused."""
    entered = []

    def slow(check, session):
        entered.append(time.monotonic())
        time.sleep(0.4)
        return []

    pm.register(inline_plugin("slow", check_assignment=slow), name="slow")
    platform = request.getfixturevalue("platform")
    tree = request.getfixturevalue("unit_tree")
    world = TasksWorld(platform)
    with platform.session_factory() as session:
        set_plugin_enabled(session, tree.district, "slow", True, changed_by="test")
        session.commit()
    monday = next_monday()
    one = world.shift(world.task(tree.township), at(monday, 8), 3)
    other = world.shift(world.task(tree.township), at(monday, 10), 3)
    member = world.volunteer(tree.village)
    leaders = [principal_of(platform, ("township_leader", tree.township)) for _ in range(2)]
    start = threading.Barrier(2)
    results: dict[int, object] = {}

    def run(index: int, shift_id: int) -> None:
        start.wait()
        try:
            results[index] = assign_as(platform, leaders[index], shift_id, member.volunteer_id)
        except DomainError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(n, s.id)) for n, s in enumerate((one, other))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    made = [r for r in results.values() if isinstance(r, Assignment)]
    refused = [r for r in results.values() if isinstance(r, DomainError)]
    assert (len(made), len(refused)) == (1, 1), results
    assert _rules(refused[0]) == {"core.overlap"}
    with platform.session_factory() as session:
        holding = session.exec(
            select(Assignment).where(Assignment.volunteer_id == member.volunteer_id)
        ).all()
    assert len(holding) == 1
    waited = entered[1] - entered[0]
    print(f"\n[{platform.engine.dialect.name}] second check began {waited:.2f}s after the first")
    assert waited >= 0.35  # the second waited for the first to commit


# -- sign-ups ----------------------------------------------------------------------------------


async def test_volunteers_sign_up_for_open_shifts_of_their_own_unit_with_approval(
    client, platform, unit_tree, world, accounts, worker, broker
):
    monday = next_monday()
    open_task = world.task(unit_tree.village, allow_signup=True, signup_needs_approval=True)
    closed_task = world.task(unit_tree.village, allow_signup=False)
    open_shift = world.shift(open_task, at(monday, 9))
    closed_shift = world.shift(closed_task, at(monday, 14))
    cousin_shift = world.shift(
        world.task(unit_tree.other_village, allow_signup=True), at(monday, 9)
    )
    me = world.volunteer(unit_tree.village, role="volunteer")
    leader = world.volunteer(unit_tree.village, role="village_leader", name="李队长")
    headers = me.account.headers
    listed = await client.get("/api/v1/me/shifts/open", headers=headers)
    assert [s["shift_id"] for s in listed.json()] == [open_shift.id]
    closed = await client.post(f"/api/v1/shifts/{closed_shift.id}/signup", headers=headers)
    assert (closed.status_code, closed.json()["code"]) == (409, "signup_closed")
    assert (
        await client.post(f"/api/v1/shifts/{cousin_shift.id}/signup", headers=headers)
    ).status_code == 404
    signed = await client.post(f"/api/v1/shifts/{open_shift.id}/signup", headers=headers)
    assert signed.status_code == 201, signed.text
    assert (signed.json()["status"], signed.json()["source"]) == ("requested", "signup")
    assert (await client.get("/api/v1/me/shifts/open", headers=headers)).json() == []
    approved = await client.post(
        f"/api/v1/assignments/{signed.json()['id']}/approval", headers=leader.account.headers
    )
    assert approved.json()["status"] == "confirmed", approved.text
    broker.join("core", fail_fast=True)
    with platform.session_factory() as session:
        told = session.exec(
            select(Notification.user_id, Notification.subject).order_by(Notification.id)
        ).all()
    assert (leader.account.user_id, "有志愿者报名待审批：周末治安巡逻") in told
    assert (me.account.user_id, "你已被安排值勤：周末治安巡逻") in told
    again = await client.post(
        f"/api/v1/assignments/{signed.json()['id']}/decline",
        json={"reason": "人数已满"},
        headers=leader.account.headers,
    )
    assert (again.status_code, again.json()["code"]) == (409, "wrong_status")
    withdrawn = await client.post(
        f"/api/v1/assignments/{signed.json()['id']}/withdrawal", headers=headers
    )
    assert withdrawn.json()["status"] == "cancelled"


async def test_a_declined_sign_up_tells_the_volunteer_why(
    client, platform, unit_tree, world, worker, broker
):
    task = world.task(unit_tree.village, allow_signup=True, signup_needs_approval=True)
    shift = world.shift(task, at(next_monday(), 9))
    me = world.volunteer(unit_tree.village, role="volunteer")
    leader = world.volunteer(unit_tree.village, role="village_leader")
    signed = await client.post(f"/api/v1/shifts/{shift.id}/signup", headers=me.account.headers)
    declined = await client.post(
        f"/api/v1/assignments/{signed.json()['id']}/decline",
        json={"reason": "本班次需要急救特长"},
        headers=leader.account.headers,
    )
    assert declined.json()["status"] == "declined"
    broker.join("core", fail_fast=True)
    with platform.session_factory() as session:
        body = session.exec(
            select(Notification.body).where(Notification.user_id == me.account.user_id)
        ).one()
    assert "本班次需要急救特长" in body
