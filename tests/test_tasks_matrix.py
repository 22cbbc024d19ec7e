"""The duty matrix: its cells and gaps, the ranked suggestions and their reasons, the pages
(Chinese and English, on a phone, one-click filling with CSRF), menu and dashboard figure."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pingan_sample.models import SampleNote
from sqlmodel import select

from core.hours.models import HoursEntry
from core.tasks.assignments import assign
from core.tasks.matrix import duty_matrix, open_gaps, suggest, tree_distance
from core.tasks.models import Assignment, AssignmentStatus, Shift
from core.tasks.rules import local_midnight
from core.units.models import Unit, UnitLevel, utcnow
from core.units.services import create_unit, set_plugin_enabled
from tests.support.tasks_world import TasksWorld, at, next_monday, principal_of
from tests.support.web import csrf_token, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def world(platform) -> TasksWorld:
    return TasksWorld(platform)


def put_on(platform, principal, shift: Shift, member) -> Assignment:
    with platform.session_factory() as session:
        made = assign(
            platform, session, principal, session.get(Shift, shift.id), member.volunteer_id
        )
        session.commit()
        return made


# -- the matrix data -------------------------------------------------------------------------


def test_the_matrix_places_each_shift_by_point_day_and_slot_and_colours_gaps(
    platform, unit_tree, world
):
    monday = next_monday()
    task = world.task(unit_tree.village)
    gate, square = world.point(unit_tree.village, "北门"), world.point(unit_tree.village, "广场")
    early = world.shift(task, at(monday, 8), point_id=gate, min_headcount=2, max_headcount=3)
    full = world.shift(task, at(monday, 8), point_id=square, min_headcount=1, max_headcount=1)
    roomy = world.shift(
        task,
        at(monday + timedelta(days=2), 19),
        3,
        point_id=gate,
        min_headcount=1,
        max_headcount=2,
    )
    draft = world.task(unit_tree.village, publish=False)
    world.shift(draft, at(monday, 14), point_id=square)  # not asked of anyone yet: left out
    world.shift(task, at(monday + timedelta(days=7), 8), point_id=gate)  # next week
    leader = principal_of(platform, ("village_leader", unit_tree.village))
    for shift, people in ((early, 1), (full, 1), (roomy, 1)):
        for _ in range(people):
            put_on(platform, leader, shift, world.volunteer(unit_tree.village))
    with platform.session_factory() as session:
        matrix = duty_matrix(
            session, session.get(Unit, unit_tree.village.id), monday + timedelta(days=3)
        )
    assert matrix.week == monday and len(matrix.days) == 7
    assert [name for _, name in matrix.points] == ["北门", "广场"]
    assert [f"{a:%H:%M}-{b:%H:%M}" for a, b in matrix.slots] == ["08:00-10:00", "19:00-22:00"]
    states = {
        (point_id, day, slot): [(c.shift_id, c.state, c.confirmed) for c in cells]
        for (point_id, day, slot), cells in matrix.cells.items()
    }
    assert states == {
        (gate, monday, 0): [(early.id, "gap", 1)],
        (square, monday, 0): [(full.id, "full", 1)],
        (gate, monday + timedelta(days=2), 1): [(roomy.id, "open", 1)],
    }
    assert matrix.gaps == 1
    by_day = dict(matrix.by_day())
    assert [cell.shift_id for _, _, cell in by_day[monday]] == sorted([early.id, full.id])
    # the township sees its villages' shifts too; the other township none of them
    with platform.session_factory() as session:
        assert duty_matrix(session, session.get(Unit, unit_tree.township.id), monday).gaps == 1
        assert not duty_matrix(
            session, session.get(Unit, unit_tree.other_township.id), monday
        ).cells


def test_open_gaps_counts_this_weeks_shifts_still_to_come_below_their_minimum(
    platform, unit_tree, world
):
    monday = next_monday()
    task = world.task(unit_tree.village)
    world.shift(task, at(monday, 8), min_headcount=2)
    world.shift(task, at(monday + timedelta(days=1), 8), min_headcount=0)
    with platform.session_factory() as session:
        village = session.get(Unit, unit_tree.village.id)
        # "now" in next week's Monday morning: the 08:00 gap is still to come
        now = local_midnight(monday)
        assert open_gaps(session, village, now) == 1
        assert open_gaps(session, village, now + timedelta(hours=9)) == 0  # it has started
        assert open_gaps(session, village, local_midnight(monday - timedelta(days=7))) == 0


# -- suggestions ----------------------------------------------------------------------------


def test_suggestions_rank_by_skills_training_distance_then_fairness_and_say_why(
    pm, settings, request
):
    """A gap at a village: a township leader (who may dispatch inside the 中队) gets the
    eligible volunteers of the township, best first."""
    platform = request.getfixturevalue("platform")
    tree = request.getfixturevalue("unit_tree")
    world = TasksWorld(platform)
    with platform.session_factory() as session:
        township = session.get(Unit, tree.township.id)
        second = create_unit(
            session,
            name="较场口社区",
            level=UnitLevel.village,
            parent=township,
            code="500103002002",
        )
        set_plugin_enabled(
            session, session.get(Unit, tree.district.id), "sample", True, changed_by="t"
        )
        session.commit()
    monday = next_monday()
    task = world.task(tree.village, task_type="core.patrol")  # suits "security"
    gap = world.shift(task, at(monday, 9), min_headcount=2, max_headcount=4)
    busy_elsewhere = world.shift(world.task(tree.village), at(monday, 8), 3)
    skilled_far = world.volunteer(second, name="远处有特长", skills=("security",))
    near_tired = world.volunteer(tree.village, name="本村多劳")
    near_fresh = world.volunteer(tree.village, name="本村少劳")
    warned = world.volunteer(tree.village, name="有提醒")
    busy = world.volunteer(tree.village, name="已有班次")
    too_young = world.volunteer(
        tree.village, name="未成年", born=monday.replace(year=monday.year - 17)
    )
    world.volunteer(tree.other_village, name="邻镇")  # outside the 中队: never weighed
    leader = principal_of(platform, ("township_leader", tree.township))
    put_on(platform, leader, busy_elsewhere, busy)
    with platform.session_factory() as session:
        village = session.get(Unit, tree.village.id)
        session.add(
            HoursEntry(
                volunteer_id=near_tired.volunteer_id,
                unit_id=village.id,
                unit_path=village.path,
                home_unit_id=village.id,
                home_unit_path=village.path,
                service_date=utcnow().date() - timedelta(days=3),
                hours=Decimal("12"),
            )
        )
        session.add(SampleNote(unit_id=village.id, text=f"warn:{warned.person_id}"))
        session.commit()
    with platform.session_factory() as session:
        found = suggest(platform, session, leader, session.get(Shift, gap.id), limit=10)
    names = [s.name for s in found]
    assert names == ["远处有特长", "本村少劳", "本村多劳", "有提醒"]
    first, fresh, tired, last = found
    assert [s.volunteer_id for s in found] == [
        m.volunteer_id for m in (skilled_far, near_fresh, near_tired, warned)
    ]
    assert (first.skills, first.distance, first.dispatch) == (["security"], 2, True)
    assert (fresh.distance, fresh.hours, tired.hours) == (0, Decimal(0), Decimal(12))
    assert [f.refusal.rule for f in last.warnings] == ["sample.reminder"]
    reasons = [reason.zh for reason in first.reasons()]
    assert reasons[0] == "特长相符：安保巡逻"
    assert "组织距离 2（较场口社区），需跨区域调度" in reasons
    assert "近 30 天：12 小时，0 个班次" in [r.zh for r in tired.reasons()]
    assert any("提醒：便签上有提醒事项" == r.zh for r in last.reasons())
    assert too_young.name not in names and "已有班次" not in names
    # a village leader cannot dispatch: only the village's own people are weighed
    village_leader = principal_of(platform, ("village_leader", tree.village))
    with platform.session_factory() as session:
        own = suggest(platform, session, village_leader, session.get(Shift, gap.id), limit=10)
    assert [s.name for s in own] == ["本村少劳", "本村多劳", "有提醒"]
    assert tree_distance("1.2.3.4.", "1.2.3.9.") == 2 and tree_distance("1.2.", "1.2.") == 0


# -- pages ----------------------------------------------------------------------------------


@pytest.fixture
async def roster(client, platform, unit_tree, world, accounts):
    """A village's week with one gap; its leader signed in (pages)."""
    monday = next_monday()
    task = world.task(unit_tree.village, title="春节期间巡逻")
    gate = world.point(unit_tree.village, "北门岗亭")
    gap = world.shift(task, at(monday, 8), point_id=gate, min_headcount=1, max_headcount=2)
    member = world.volunteer(unit_tree.village, name="王小明")
    leader = accounts("village_leader", unit_tree.village)
    await sign_in(client, leader.username, leader.password)
    return monday, gap, member


async def test_the_duty_page_shows_the_gap_and_fills_it_in_one_click(
    client, platform, unit_tree, roster
):
    monday, gap, member = roster
    url = f"/units/{unit_tree.village.id}/duty"
    page = await client.get(url, params={"week": monday.isoformat()})
    assert page.status_code == 200
    assert "北门岗亭" in page.text and 'class="cell gap"' in page.text
    assert f'data-shift="{gap.id}"' in page.text and 'data-gaps="1"' in page.text
    chosen = await client.get(url, params={"week": monday.isoformat(), "shift": gap.id})
    assert "王小明" in chosen.text and "本单位队员" in chosen.text
    form = re.search(
        rf'<form method="post" action="/shifts/{gap.id}/assignments"[^>]*>(.*?)</form>',
        chosen.text,
        flags=re.DOTALL,
    ).group(1)
    back = re.search(r'name="next" value="([^"]+)"', form).group(1).replace("&amp;", "&")
    # without the CSRF token the form is refused, nothing is written
    refused = await client.post(
        f"/shifts/{gap.id}/assignments", data={"volunteer_id": str(member.volunteer_id)}
    )
    assert refused.status_code == 403
    done = await client.post(
        f"/shifts/{gap.id}/assignments",
        data={
            "volunteer_id": str(member.volunteer_id),
            "next": back,
            "_csrf_token": csrf_token(chosen.text),
        },
        follow_redirects=False,
    )
    assert done.status_code in (302, 303) and done.headers["location"] == back
    after = await client.get(back)
    assert 'class="cell open"' in after.text and 'data-gaps="0"' in after.text
    with platform.session_factory() as session:
        (made,) = session.exec(select(Assignment).where(Assignment.shift_id == gap.id)).all()
    assert (made.volunteer_id, made.status) == (member.volunteer_id, AssignmentStatus.confirmed)
    # a second click is refused on the same page, naming the rule
    again = await client.post(
        f"/shifts/{gap.id}/assignments",
        data={
            "volunteer_id": str(member.volunteer_id),
            "next": back,
            "_csrf_token": csrf_token(after.text),
        },
    )
    assert again.status_code == 409 and "该志愿者已在此班次" in again.text
    assert "排班表" in again.text  # back on the duty page, not an error page


async def test_the_pages_read_in_english_and_stack_by_day_for_phones(client, unit_tree, roster):
    monday, gap, _ = roster
    url = f"/units/{unit_tree.village.id}/duty"
    english = await client.get(url, params={"week": monday.isoformat(), "lang": "en"})
    assert "Duty roster" in english.text and "Understaffed" in english.text
    stacked = await client.get(url, params={"week": monday.isoformat(), "view": "days"})
    assert '<section class="day">' in stacked.text and "08:00–10:00" in stacked.text
    grid = await client.get(url, params={"week": monday.isoformat()})
    assert 'class="table-wrap matrix-wrap"' in grid.text  # scrolls sideways on a phone
    for path in (
        f"/units/{unit_tree.village.id}/tasks/",
        f"/tasks/{gap.task_id}",
        f"/shifts/{gap.id}",
        f"/units/{unit_tree.village.id}/points/",
        f"/units/{unit_tree.village.id}/assignments?week={monday.isoformat()}",
        f"/units/{unit_tree.village.id}/tasks/new?task_type=core.emergency_rescue",
    ):
        zh = await client.get(path)
        en = await client.get(path + ("&" if "?" in path else "?") + "lang=en")
        assert zh.status_code == en.status_code == 200, path
        assert 'lang="en"' in en.text


async def test_a_task_form_with_errors_comes_back_with_each_field_named(
    client, platform, unit_tree, accounts
):
    leader = accounts("village_leader", unit_tree.village)
    await sign_in(client, leader.username, leader.password)
    new = f"/units/{unit_tree.village.id}/tasks/new"
    choose = await client.get(new)
    assert 'name="task_type"' in choose.text and "应急救援" in choose.text
    form = await client.get(new, params={"task_type": "core.emergency_rescue"})
    assert 'name="details.incident"' in form.text and "有风险" in form.text
    monday = next_monday()
    refused = await client.post(
        f"/units/{unit_tree.village.id}/tasks/",
        data={
            "task_type": "core.emergency_rescue",
            "title": "防汛抢险",
            "starts_on": monday.isoformat(),
            "ends_on": (monday - timedelta(days=2)).isoformat(),
            "details.incident": "tsunami",
            "_csrf_token": csrf_token(form.text),
        },
    )
    assert refused.status_code == 400
    for named in ("details.incident", "details.assembly_point", "ends_on"):
        assert f"<strong>{named}</strong>" in refused.text
    assert 'value="防汛抢险"' in refused.text  # what was typed stays
    made = await client.post(
        f"/units/{unit_tree.village.id}/tasks/",
        data={
            "task_type": "core.emergency_rescue",
            "title": "防汛抢险",
            "starts_on": monday.isoformat(),
            "ends_on": monday.isoformat(),
            "details.incident": "flood",
            "details.assembly_point": "朝天门广场",
            "signup_needs_approval": "1",
            "_csrf_token": csrf_token(form.text),
        },
        follow_redirects=False,
    )
    assert made.status_code in (302, 303)
    detail = await client.get(made.headers["location"])
    assert "朝天门广场" in detail.text and "洪涝" in detail.text and "草稿" in detail.text


async def test_the_menu_and_the_dashboard_figure(client, platform, unit_tree, world, accounts):
    monday = date.today() + timedelta(days=1)
    task = world.task(unit_tree.village, starts_on=monday, ends_on=monday)
    world.shift(task, at(monday, 10), min_headcount=1)
    leader = accounts("township_leader", unit_tree.township)
    await sign_in(client, leader.username, leader.password)
    home = await client.get(f"/units/{unit_tree.township.id}/")
    menu = re.search(r'<nav class="menu".*?</nav>', home.text, flags=re.DOTALL).group(0)
    assert f'href="/units/{unit_tree.township.id}/tasks/"' in menu
    assert f'href="/units/{unit_tree.township.id}/duty"' in menu
    assert "/me/shifts/open" not in menu  # not a volunteer
    figures = re.search(r'<section class="figures".*?</section>', home.text, flags=re.DOTALL)
    assert "本周缺员班次" in figures.group(0)
    with platform.session_factory() as session:
        expected = open_gaps(session, session.get(Unit, unit_tree.township.id))
    assert f">{expected}<" in figures.group(0)
