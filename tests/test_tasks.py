"""Tasks: types and their fields, the status flow, decomposition with quotas, progress
rolled up (checked against an independent count), points and shifts."""

from datetime import timedelta

import pytest
from sqlmodel import select

from core.contributions import Label, TaskField, TaskType
from core.tasks import services
from core.tasks.assignments import assign
from core.tasks.models import (
    Assignment,
    AssignmentStatus,
    Shift,
    ShiftStatus,
    Task,
    TaskStatus,
    TaskStep,
)
from core.tasks.types import check_details
from core.units.models import Unit, UnitLevel
from core.units.services import create_unit
from tests.support.tasks_world import TasksWorld, at, inline_plugin, next_monday, principal_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def world(platform) -> TasksWorld:
    return TasksWorld(platform)


# -- task types --------------------------------------------------------------------------------


def test_core_registers_its_seven_task_types_each_with_fields(platform):
    types = platform.plugins.task_types
    expected = {
        "core.patrol": "巡逻",
        "core.guarding": "守楼护院",
        "core.legal_publicity": "法制宣传",
        "core.dispute_screening": "矛盾纠纷排查",
        "core.information_collection": "社情民意",
        "core.emergency_rescue": "应急救援",
        "core.key_person": "重点人员",
    }
    assert {code: types[code].label.zh for code in expected} == expected
    assert all(types[code].fields for code in expected)
    assert [code for code in expected if types[code].risky] == ["core.emergency_rescue"]
    assert types["core.emergency_rescue"].required_modules == ("core.emergency_rescue",)


def test_a_task_field_is_checked_by_its_kind():
    kind = TaskType(
        "x.y",
        Label("测", "Test"),
        fields=(
            TaskField("name", Label("名", "Name"), required=True, max_length=5),
            TaskField("count", Label("数", "Count"), kind="integer", maximum=10),
            TaskField(
                "mode", Label("式", "Mode"), kind="choice", choices=(("a", Label("甲", "A")),)
            ),
            TaskField("day", Label("日", "Day"), kind="date"),
            TaskField("ok", Label("是", "OK"), kind="boolean", required=True),
        ),
    )
    cleaned, errors = check_details(
        kind, {"name": " 巡逻 ", "count": "3", "mode": "a", "day": "2026-01-02", "ok": "1"}
    )
    assert errors == [] and cleaned == {
        "name": "巡逻",
        "count": 3,
        "mode": "a",
        "day": "2026-01-02",
        "ok": True,
    }
    _, errors = check_details(
        kind, {"name": "太长的名字啊", "count": 11, "mode": "b", "day": "2026-13-01", "x": 1}
    )
    assert {(e.field, e.rule) for e in errors} == {
        ("details.name", "string_too_long"),
        ("details.count", "less_than_equal"),
        ("details.mode", "enum"),
        ("details.day", "date_parsing"),
        ("details.ok", "missing"),
        ("details.x", "extra_forbidden"),
    }


def test_bad_task_field_declarations_are_refused_at_import():
    with pytest.raises(ValueError, match="kind"):
        TaskField("a", Label("a", "a"), kind="colour")
    with pytest.raises(ValueError, match="choices"):
        TaskField("a", Label("a", "a"), kind="choice")
    with pytest.raises(ValueError, match="lowercase"):
        TaskField("Bad", Label("a", "a"))
    with pytest.raises(ValueError, match="twice"):
        TaskType("x.y", Label("a", "a"), fields=(TaskField("a", Label("a", "a")),) * 2)


async def test_creating_a_task_checks_its_types_fields_and_names_each(client, unit_tree, accounts):
    leader = accounts("township_leader", unit_tree.township)
    start = next_monday()
    url = f"/api/v1/units/{unit_tree.township.id}/tasks"
    body = {
        "task_type": "core.patrol",
        "title": "夜间巡逻",
        "starts_on": start.isoformat(),
        "ends_on": (start - timedelta(days=1)).isoformat(),
        "details": {"mode": "helicopter", "colour": "red"},
        "required_skills": ["juggling"],
    }
    refused = await client.post(url, json=body, headers=leader.headers)
    assert refused.status_code == 400
    assert {(e["field"], e["rule"]) for e in refused.json()["errors"]} == {
        ("details.route", "missing"),
        ("details.mode", "enum"),
        ("details.colour", "extra_forbidden"),
        ("ends_on", "ends_before_start"),
        ("required_skills", "unknown"),
    }
    unknown = await client.post(
        url,
        json={**body, "task_type": "nobody.nothing", "details": {}, "required_skills": []},
        headers=leader.headers,
    )
    assert ("task_type", "unknown") in {(e["field"], e["rule"]) for e in unknown.json()["errors"]}
    created = await client.post(
        url,
        json={
            **body,
            "ends_on": start.isoformat(),
            "details": {"route": "较场口—解放碑", "mode": "foot"},
            "required_skills": ["security"],
        },
        headers=leader.headers,
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert (task["status"], task["task_type_name"], task["details"]) == (
        "draft",
        "巡逻",
        {"route": "较场口—解放碑", "mode": "foot"},
    )
    assert [(s["from_status"], s["to_status"]) for s in task["steps"]] == [("new", "draft")]


@pytest.mark.plugins("sample")
def test_a_plugins_task_type_is_usable_only_where_the_plugin_is_on(platform, unit_tree, world):
    from core.units.services import set_plugin_enabled

    with pytest.raises(services.DomainError) as refused:
        world.task(unit_tree.village, task_type="sample.litter_pick", details={"bags": 3})
    assert ("task_type", "not_enabled") in {(e.field, e.rule) for e in refused.value.errors}
    with platform.session_factory() as session:
        set_plugin_enabled(session, unit_tree.district, "sample", True, changed_by="test")
        session.commit()
    task = world.task(unit_tree.village, task_type="sample.litter_pick", details={"bags": 3})
    assert task.details == {"bags": 3}


# -- the status flow -------------------------------------------------------------------------


async def test_the_status_flow_each_step_by_its_action_at_the_tasks_unit(
    client, platform, unit_tree, accounts, world
):
    task = world.task(unit_tree.village, publish=False)
    volunteer = accounts("volunteer", unit_tree.village)
    cousin_leader = accounts("village_leader", unit_tree.other_village)
    leader = accounts("village_leader", unit_tree.village)
    base = f"/api/v1/tasks/{task.id}"
    # outside the caller's subtree: absent; inside without the action: forbidden
    assert (
        await client.post(f"{base}/publication", headers=cousin_leader.headers)
    ).status_code == 404
    assert (await client.post(f"{base}/publication", headers=volunteer.headers)).status_code == 403
    wrong = await client.post(f"{base}/start", headers=leader.headers)
    assert (wrong.status_code, wrong.json()["code"]) == (409, "wrong_status")
    for step, status in (("publication", "published"), ("start", "in_progress")):
        response = await client.post(f"{base}/{step}", headers=leader.headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    no_reason = await client.post(
        f"{base}/cancellation", json={"reason": " "}, headers=leader.headers
    )
    assert no_reason.status_code == 400
    done = await client.post(f"{base}/completion", headers=leader.headers)
    assert done.json()["status"] == "completed"
    assert done.json()["allowed_transitions"] == []
    with platform.session_factory() as session:
        steps = session.exec(select(TaskStep.to_status).where(TaskStep.task_id == task.id)).all()
    assert steps == ["draft", "published", "in_progress", "completed"]


async def test_cancelling_takes_sub_tasks_shifts_and_assignments_with_it(
    client, platform, unit_tree, accounts, world
):
    parent = world.task(unit_tree.township, quota=4)
    child = world.task(unit_tree.village, parent=parent, quota=2)
    shift = world.shift(child, at(next_monday(), 9))
    member = world.volunteer(unit_tree.village)
    with platform.session_factory() as session:
        assignment = assign(
            platform,
            session,
            principal_of(platform, ("village_leader", unit_tree.village)),
            session.get(Shift, shift.id),
            member.volunteer_id,
        )
        session.commit()
    leader = accounts("township_leader", unit_tree.township)
    response = await client.post(
        f"/api/v1/tasks/{parent.id}/cancellation",
        json={"reason": "暴雨预警，活动取消"},
        headers=leader.headers,
    )
    assert response.status_code == 200, response.text
    assert world.get(Task, child.id).status == TaskStatus.cancelled
    assert world.get(Task, child.id).cancel_reason == "暴雨预警，活动取消"
    assert world.get(Shift, shift.id).status == ShiftStatus.cancelled
    cancelled = world.get(Assignment, assignment.id)
    assert (cancelled.status, cancelled.reason) == (
        AssignmentStatus.cancelled,
        "暴雨预警，活动取消",
    )


def test_a_sub_task_is_published_after_its_parent_and_completion_waits_for_sub_tasks(
    platform, unit_tree, world
):
    parent = world.task(unit_tree.township, publish=False)
    child = world.task(unit_tree.village, parent=parent, publish=False)
    with platform.session_factory() as session:
        with pytest.raises(services.DomainError) as refused:
            services.transition(
                platform, session, session.get(Task, child.id), "publish", by_user_id=None
            )
        assert refused.value.code == "parent_not_published"
        services.transition(
            platform, session, session.get(Task, parent.id), "publish", by_user_id=None
        )
        services.transition(
            platform, session, session.get(Task, child.id), "publish", by_user_id=None
        )
        services.transition(
            platform, session, session.get(Task, parent.id), "start", by_user_id=None
        )
        with pytest.raises(services.DomainError) as refused:
            services.transition(
                platform, session, session.get(Task, parent.id), "complete", by_user_id=None
            )
        assert refused.value.code == "open_subtasks"
        services.transition(
            platform, session, session.get(Task, child.id), "cancel", by_user_id=None, reason="并入"
        )
        services.transition(
            platform, session, session.get(Task, parent.id), "complete", by_user_id=None
        )
        session.commit()


def test_publishing_and_finishing_are_told_to_the_plugins_enabled_there(pm, settings, request):
    heard = []
    pm.register(
        inline_plugin(
            "ear", handle_event=lambda event, session: heard.append((event.name, event.payload))
        ),
        name="ear",
    )
    platform = request.getfixturevalue("platform")
    tree = request.getfixturevalue("unit_tree")
    from core.units.services import set_plugin_enabled

    with platform.session_factory() as session:
        set_plugin_enabled(session, tree.district, "ear", True, changed_by="test")
        session.commit()
    world = TasksWorld(platform)
    task = world.task(tree.village)
    other = world.task(tree.other_district)
    assert heard == [("core.task.published", {"task_id": task.id, "task_type": "core.patrol"})]
    assert other.id != task.id  # published where the plugin is off: not heard


# -- decomposition and roll-up ---------------------------------------------------------------


async def test_sub_task_quotas_never_add_up_to_more_than_the_parents(
    client, platform, unit_tree, accounts, world
):
    leader = accounts("district_admin", unit_tree.district)
    parent = world.task(unit_tree.district, quota=10)
    url = f"/api/v1/tasks/{parent.id}/subtasks"
    first = await client.post(
        url, json={"unit_id": unit_tree.township.id, "quota": 6}, headers=leader.headers
    )
    assert first.status_code == 201, first.text
    child = first.json()
    assert (child["task_type"], child["parent_id"], child["details"]) == (
        "core.patrol",
        parent.id,
        parent.details,
    )
    over = await client.post(
        url, json={"unit_id": unit_tree.other_township.id, "quota": 5}, headers=leader.headers
    )
    assert over.status_code == 400
    assert [(e["field"], e["rule"]) for e in over.json()["errors"]] == [("quota", "exceeds_parent")]
    assert "4" in over.json()["errors"][0]["message"]  # what is left
    fits = await client.post(
        url, json={"unit_id": unit_tree.other_township.id, "quota": 4}, headers=leader.headers
    )
    assert fits.status_code == 201
    # the parent's quota cannot drop below what its sub-tasks hold, nor a child grow past it
    lowered = await client.patch(
        f"/api/v1/tasks/{parent.id}", json={"quota": 9}, headers=leader.headers
    )
    assert [(e["field"], e["rule"]) for e in lowered.json()["errors"]] == [
        ("quota", "below_children")
    ]
    grown = await client.patch(
        f"/api/v1/tasks/{child['id']}", json={"quota": 7}, headers=leader.headers
    )
    assert [(e["field"], e["rule"]) for e in grown.json()["errors"]] == [
        ("quota", "exceeds_parent")
    ]
    # a sub-task goes below the task's unit, inside its dates
    sideways = await client.post(
        url, json={"unit_id": unit_tree.other_district.id, "quota": 0}, headers=leader.headers
    )
    assert ("unit_id", "not_below") in {(e["field"], e["rule"]) for e in sideways.json()["errors"]}
    late = await client.post(
        url,
        json={
            "unit_id": unit_tree.village.id,
            "ends_on": (parent.ends_on + timedelta(days=1)).isoformat(),
        },
        headers=leader.headers,
    )
    assert ("ends_on", "outside_parent") in {(e["field"], e["rule"]) for e in late.json()["errors"]}


def _independent_progress(platform, root_id: int) -> tuple[int, int]:
    """Filled and target of a task, counted without the service: every task and every
    assignment read once, the tree walked by parent links."""
    with platform.session_factory() as session:
        tasks = {t.id: t for t in session.exec(select(Task)).all()}
        shifts = {s.id: s for s in session.exec(select(Shift)).all()}
        assignments = session.exec(select(Assignment)).all()

    def under(task_id: int) -> bool:
        current = task_id
        while current is not None:
            if current == root_id:
                return True
            current = tasks[current].parent_id
        return False

    def alive(task_id: int) -> bool:  # not cancelled, nor under a cancelled task below root
        current = task_id
        while current is not None and current != root_id:
            if tasks[current].status == TaskStatus.cancelled:
                return False
            current = tasks[current].parent_id
        return True

    filled = sum(
        1
        for a in assignments
        if a.status == AssignmentStatus.confirmed
        and shifts[a.shift_id].status == ShiftStatus.open
        and under(shifts[a.shift_id].task_id)
        and alive(shifts[a.shift_id].task_id)
    )

    def target(task_id: int) -> int:
        task = tasks[task_id]
        if task.quota is not None:
            return task.quota
        own = sum(
            s.min_headcount
            for s in shifts.values()
            if s.task_id == task_id and s.status == ShiftStatus.open
        )
        children = [
            t.id
            for t in tasks.values()
            if t.parent_id == task_id and t.status != TaskStatus.cancelled
        ]
        return own + sum(target(child) for child in children)

    return filled, target(root_id)


def test_progress_rolls_up_the_task_tree_and_matches_an_independent_count(
    platform, unit_tree, world
):
    with platform.session_factory() as session:
        township = session.get(Unit, unit_tree.township.id)
        second_village = create_unit(
            session,
            name="较场口社区",
            level=UnitLevel.village,
            parent=township,
            code="500103002002",
        )
        session.commit()
    city_task = world.task(unit_tree.city, quota=None)
    district = world.task(unit_tree.district, parent=city_task, quota=12)
    township_task = world.task(unit_tree.township, parent=district, quota=8)
    village_a = world.task(unit_tree.village, parent=township_task, quota=None)
    village_b = world.task(second_village, parent=township_task, quota=3)
    other = world.task(unit_tree.other_township, parent=district, quota=None)
    dropped = world.task(unit_tree.other_village, parent=other, quota=None)
    monday = next_monday()
    plan = [  # (task, start hour, minimum, people)
        (village_a, 8, 2, 2),
        (village_a, 12, 3, 1),
        (village_b, 8, 1, 1),
        (township_task, 18, 2, 2),
        (other, 8, 4, 3),
        (dropped, 8, 2, 2),
        (city_task, 9, 1, 1),
    ]
    leader = principal_of(platform, ("city_admin", unit_tree.city))
    for task, hour, minimum, people in plan:
        shift = world.shift(task, at(monday, hour), min_headcount=minimum, max_headcount=5)
        with platform.session_factory() as session:
            unit = session.get(Unit, task.unit_id)
        if unit.level == UnitLevel.city:  # the city has no volunteers of its own
            unit = unit_tree.district
        for _ in range(people):
            member = world.volunteer(unit)
            with platform.session_factory() as session:
                assign(platform, session, leader, session.get(Shift, shift.id), member.volunteer_id)
                session.commit()
    with platform.session_factory() as session:
        services.transition(
            platform, session, session.get(Task, dropped.id), "cancel", by_user_id=None, reason="撤"
        )
        session.commit()
    all_tasks = [city_task, district, township_task, village_a, village_b, other]
    with platform.session_factory() as session:
        progress = services.progress_of(session, [session.get(Task, t.id) for t in all_tasks])
    for task in all_tasks:
        got = progress[task.id]
        assert (got.filled, got.target) == _independent_progress(platform, task.id), task.title
    # spelled out for two of them
    assert (progress[township_task.id].filled, progress[township_task.id].target) == (6, 8)
    assert (progress[village_a.id].filled, progress[village_a.id].target) == (3, 5)
    assert (progress[city_task.id].filled, progress[city_task.id].target) == (10, 1 + 12)
    assert progress[township_task.id].percent == 75


# -- points and shifts -----------------------------------------------------------------------


async def test_a_shift_lies_inside_its_tasks_dates_ends_after_it_starts_at_a_point_of_the_unit(
    client, unit_tree, accounts, world
):
    task = world.task(unit_tree.village, days=7)
    point = world.point(unit_tree.village)
    elsewhere = world.point(unit_tree.other_village)
    leader = accounts("village_leader", unit_tree.village)
    url = f"/api/v1/tasks/{task.id}/shifts"
    monday = next_monday()

    async def refused(**body) -> set[tuple[str, str]]:
        response = await client.post(url, json=body, headers=leader.headers)
        assert response.status_code == 400, response.text
        return {(e["field"], e["rule"]) for e in response.json()["errors"]}

    assert ("ends_at", "ends_before_start") in await refused(
        point_id=point, starts_at=at(monday, 10).isoformat(), ends_at=at(monday, 9).isoformat()
    )
    assert ("starts_at", "outside_task") in await refused(
        point_id=point,
        starts_at=at(monday - timedelta(days=1), 22).isoformat(),
        ends_at=at(monday, 1).isoformat(),
    )
    assert ("ends_at", "too_long") in await refused(
        point_id=point,
        starts_at=at(monday, 8).isoformat(),
        ends_at=at(monday + timedelta(days=1), 9).isoformat(),
    )
    assert {("point_id", "unknown_point"), ("max_headcount", "below_minimum")} <= await refused(
        point_id=elsewhere,
        starts_at=at(monday, 8).isoformat(),
        ends_at=at(monday, 10).isoformat(),
        min_headcount=3,
        max_headcount=2,
    )
    # a time without an offset is China time; the shift ending at midnight after the last
    # day still lies inside the task
    created = await client.post(
        url,
        json={
            "point_id": point,
            "starts_at": f"{task.ends_on.isoformat()}T20:00:00",
            "ends_at": f"{(task.ends_on + timedelta(days=1)).isoformat()}T00:00:00",
            "leader_slot": True,
        },
        headers=leader.headers,
    )
    assert created.status_code == 201, created.text
    shift = created.json()
    assert shift["starts_at"].endswith(("12:00:00Z", "12:00:00+00:00"))
    stored = world.get(Shift, shift["id"])
    assert len(stored.checkin_secret) >= 32
    other = world.get(Shift, world.shift(task, at(monday, 8)).id)
    assert other.checkin_secret != stored.checkin_secret


async def test_points_need_both_coordinates_for_a_radius(client, unit_tree, accounts):
    leader = accounts("village_leader", unit_tree.village)
    url = f"/api/v1/units/{unit_tree.village.id}/points"
    half = await client.post(url, json={"name": "北门", "latitude": "29.5"}, headers=leader.headers)
    assert {(e["field"], e["rule"]) for e in half.json()["errors"]} == {
        ("longitude", "coordinates_pair")
    }
    made = await client.post(
        url,
        json={"name": "北门", "latitude": "29.557300", "longitude": "106.577200", "radius_m": 150},
        headers=leader.headers,
    )
    assert made.status_code == 201
    listed = await client.get(url, headers=leader.headers)
    assert [p["name"] for p in listed.json()] == ["北门"]
