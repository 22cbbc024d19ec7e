"""Pages in a real browser: Playwright driving the system Chromium."""

import pytest

from core.units.services import set_plugin_enabled
from tests.support import services
from tests.support.server import serving

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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


def sign_in(page, base_url, account):
    page.goto(base_url + "/login")
    page.get_by_label("用户名").fill(account.username)
    page.get_by_label("密码").fill(account.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


@pytest.fixture
def served(platform, unit_tree, app):
    with platform.session_factory() as session:
        set_plugin_enabled(session, unit_tree.city, "sample", True, changed_by="test")
        session.commit()
    with serving(app) as base_url:
        yield base_url


@pytest.mark.plugins("sample")
def test_home_page_in_chinese_and_english_shows_a_plugin_menu_item(browser, served, admin):
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    sign_in(page, served, admin)
    page.goto(served + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "重庆市"
    menu = page.get_by_role("navigation", name="导航")
    assert menu.get_by_role("link", name="邻里便签").is_visible()

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    menu = page.get_by_role("navigation", name="Navigation")
    assert menu.get_by_role("link", name="Notes").is_visible()
    assert menu.get_by_role("link", name="Home").is_visible()

    menu.get_by_role("link", name="Notes").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Neighbourhood notes"
    assert page.url.endswith("/sample/")


@pytest.mark.plugins("sample")
def test_plugin_menu_item_is_absent_where_the_plugin_is_off(
    browser, served, platform, unit_tree, admin
):
    with platform.session_factory() as session:
        set_plugin_enabled(session, unit_tree.other_district, "sample", False, changed_by="test")
        session.commit()
    page = browser.new_page(locale="zh-CN")
    sign_in(page, served, admin)
    page.goto(f"{served}/units/{unit_tree.other_district.id}/")
    assert page.locator("h1").inner_text() == "江北区"
    assert page.get_by_role("link", name="邻里便签").count() == 0
    response = page.goto(f"{served}/units/{unit_tree.other_district.id}/sample/")
    assert response.status == 404


def test_training_a_volunteer_takes_a_quiz_and_gains_the_qualification(
    browser, served, platform, unit_tree, accounts
):
    from datetime import UTC, datetime, timedelta

    from tests.test_training import enrol, make_volunteer, run_session, schedule

    member = make_volunteer(platform, unit_tree.village, "王测验", accounts, username="quiz-taker")
    started = datetime.now(UTC) - timedelta(hours=1)
    session_id = schedule(platform, unit_tree.township, ["core.law"], start=started)
    run_session(platform, session_id, {enrol(platform, session_id, member): True})
    quiz = platform.plugins.training_modules["core.law"].quiz

    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    sign_in(page, served, member.account)
    page.goto(served + "/training/my/")
    assert page.locator("#qualifications").get_by_text("尚未取得培训资格").is_visible()
    page.get_by_role("link", name="参加测验").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "测验 · 平安建设志愿服务涉及的相关法律"
    for index, question in enumerate(quiz.questions):
        fieldset = page.locator("fieldset").nth(index)
        for answer in question.answers:
            fieldset.get_by_label(question.choices[answer], exact=True).check()
    page.get_by_role("button", name="提交答卷").click()
    page.wait_for_load_state()
    result = page.locator("#result")
    assert "测验合格" in result.inner_text()
    assert "已取得培训资格：平安建设志愿服务涉及的相关法律" in result.inner_text()

    page.get_by_role("link", name="返回我的培训").click()
    page.wait_for_load_state()
    row = page.locator("#qualifications tbody tr").first
    assert "平安建设志愿服务涉及的相关法律" in row.inner_text() and "有效" in row.inner_text()
