"""The duty matrix in a real browser on a phone-sized screen: a leader fills a gap from the
suggestions, and the volunteer checks in to it on their phone.

:func:`fill_gap_in_duty_matrix` is the scene for other browser tests to continue from (the
check-in test signs the volunteer in next and checks in to the same shift): it returns the
page, still on the duty matrix with the gap filled, and everything needed to go on.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import select

from core.tasks.models import Assignment, AssignmentStatus, CheckMethod
from core.tasks.rules import LOCAL_TIME, local_date
from core.units.models import utcnow
from core.units.services import set_plugin_enabled
from tests.support.fixtures import Account
from tests.support.server import serving
from tests.support.tasks_world import Member, TasksWorld
from tests.test_browser import browser, sign_in  # noqa: F401  (the Chromium fixture)


@dataclass
class DutyScene:
    """Where :func:`fill_gap_in_duty_matrix` leaves things."""

    page: object  # playwright's Page, on the duty matrix, the leader signed in
    base_url: str
    shift_id: int
    assignment_id: int
    volunteer: Member  # assigned; ``volunteer.account`` signs in as them (role volunteer)
    leader: Account  # the village leader who assigned them


def fill_gap_in_duty_matrix(browser, base_url, platform, unit_tree, accounts) -> DutyScene:  # noqa: F811
    """A patrol at the village whose only shift starts in five minutes (so a check-in can
    follow at once) and lacks its one person; the village leader opens the duty matrix on a
    390 px screen, taps the red gap, and assigns the first suggested volunteer.

    Returns with the page back on the duty matrix, showing the shift filled.
    """
    world = TasksWorld(platform)
    start = (
        (utcnow() + timedelta(minutes=5)).astimezone(LOCAL_TIME).replace(second=0, microsecond=0)
    )
    today = local_date(start)
    task = world.task(
        unit_tree.village,
        title="夜间治安巡逻",
        starts_on=today,
        ends_on=today + timedelta(days=1),
    )
    point = world.point(unit_tree.village, "民族路口")
    shift = world.shift(task, start, point_id=point, min_headcount=1, max_headcount=2)
    volunteer = world.volunteer(unit_tree.village, name="赵志愿", role="volunteer")
    leader = accounts("village_leader", unit_tree.village)

    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    sign_in(page, base_url, leader)
    page.goto(f"{base_url}/units/{unit_tree.village.id}/")
    page.get_by_role("navigation", name="导航").get_by_role("link", name="排班表").click()
    page.wait_for_load_state()
    if f'data-shift="{shift.id}"' not in page.content():  # the shift falls in next week
        page.get_by_role("link", name="下一周 ›").click()
        page.wait_for_load_state()
    gap = page.locator(f'a.cell[data-shift="{shift.id}"]')
    assert "gap" in gap.get_attribute("class")
    gap.click()
    page.wait_for_load_state()
    suggestions = page.get_by_role("region", name="推荐人选")
    assert suggestions.get_by_text("赵志愿", exact=True).is_visible()
    assert suggestions.get_by_text("本单位队员").first.is_visible()
    suggestions.get_by_role("button", name="排班 赵志愿").click()
    page.wait_for_load_state()
    with platform.session_factory() as session:
        assignment = session.exec(select(Assignment).where(Assignment.shift_id == shift.id)).one()
    return DutyScene(page, base_url, shift.id, assignment.id, volunteer, leader)


@pytest.fixture
def served(platform, unit_tree, app):
    with platform.session_factory() as session:
        set_plugin_enabled(session, unit_tree.city, "sample", True, changed_by="test")
        session.commit()
    with serving(app) as base_url:
        yield base_url


def test_a_leader_fills_a_gap_in_the_duty_matrix_on_a_phone(
    browser,  # noqa: F811
    served,
    platform,
    unit_tree,
    accounts,
):
    scene = fill_gap_in_duty_matrix(browser, served, platform, unit_tree, accounts)
    page = scene.page
    cell = page.locator(f'a.cell[data-shift="{scene.shift_id}"]')
    assert "gap" not in cell.get_attribute("class") and "open" in cell.get_attribute("class")
    assert cell.get_by_text("赵志愿").is_visible()
    assert page.locator("[data-gaps]").get_attribute("data-gaps") == "0"
    # the matrix scrolls sideways inside its frame; the page itself does not
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1
    with platform.session_factory() as session:
        assignment = session.get(Assignment, scene.assignment_id)
    assert (assignment.volunteer_id, assignment.status) == (
        scene.volunteer.volunteer_id,
        AssignmentStatus.confirmed,
    )
    # the same in English
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Duty roster")

    # ... and the volunteer, on their own phone, checks in to the shift just filled.
    phone = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        geolocation={"latitude": 29.5573, "longitude": 106.5772},
        permissions=["geolocation"],
    ).new_page()
    sign_in(phone, served, scene.volunteer.account)
    phone.goto(served + "/me/shifts")
    card = phone.locator(".shift-card").first
    assert "夜间治安巡逻" in card.inner_text() and "民族路口" in card.inner_text()
    with phone.expect_navigation():  # the page asks for the place, then posts
        phone.get_by_role("button", name="签到").click()
    assert "已签到" in phone.locator(".shift-card").first.inner_text()
    with platform.session_factory() as session:
        checked_in = session.get(Assignment, scene.assignment_id)
    assert checked_in.check_in_method == CheckMethod.self_service
    assert checked_in.checked_in_by_user_id == scene.volunteer.account.user_id
