"""Checking in on a phone in a real browser: the page sends the phone's location."""

from datetime import timedelta

import pytest

from core.tasks.models import Assignment, CheckMethod
from core.units.models import utcnow
from tests.support import services
from tests.support.hours_world import POINT_LAT, POINT_LON, HoursWorld
from tests.support.server import serving

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser():
    services.require("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=services.CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def phone(browser, latitude: float, longitude: float):
    """A phone-sized page that shares the given location when asked."""
    context = browser.new_context(
        locale="zh-CN",
        viewport=PHONE,
        geolocation={"latitude": latitude, "longitude": longitude},
        permissions=["geolocation"],
    )
    return context.new_page()


def sign_in(page, base_url, account):
    page.goto(base_url + "/login")
    page.get_by_label("用户名").fill(account.username)
    page.get_by_label("密码").fill(account.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def test_checking_in_and_out_on_the_phone_sends_the_location(browser, platform, unit_tree, app):
    world = HoursWorld(platform, unit_tree)
    member = world.member()
    assignment_id = world.assign(world.shift(utcnow() - timedelta(minutes=10)), member)
    with serving(app) as base_url:
        far = phone(browser, float(POINT_LAT) + 0.01, float(POINT_LON))
        sign_in(far, base_url, member.account)
        far.goto(base_url + "/me/shifts")
        far.get_by_role("button", name="签到").click()
        far.wait_for_load_state()
        assert "超出 200 米的签到范围" in far.get_by_role("alert").inner_text()
        assert world.get(Assignment, assignment_id).checked_in_at is None

        here = phone(browser, float(POINT_LAT), float(POINT_LON))
        sign_in(here, base_url, member.account)
        here.goto(base_url + "/me/shifts")
        button = here.get_by_role("button", name="签到")
        assert button.bounding_box()["height"] >= 44  # thumb-sized on a 390 px screen
        with here.expect_navigation():  # the page asks for the place, then posts
            button.click()
        assert "已签到" in here.locator(".shift-card").first.inner_text()
        stored = world.get(Assignment, assignment_id)
        assert stored.check_in_method == CheckMethod.self_service
        assert stored.check_in_distance_m == 0
        with here.expect_navigation():
            here.get_by_role("button", name="签退").click()
        assert world.get(Assignment, assignment_id).checked_out_at is not None
        assert here.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
