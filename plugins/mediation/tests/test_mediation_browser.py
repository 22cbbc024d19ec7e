"""A dispute from registration to agreement in a real browser on a phone-sized screen.

The clerk registers it and gives the parties the rights notice, the director accepts it and
assigns a mediator, the mediator records a session, draws up the agreement and records the
signatures, the director seals it, and the mediator concludes on it.
"""

import pytest

from tests.support import services
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


def signed_in(browser, base_url: str, account):
    """A fresh phone-sized browser context signed in as ``account``."""
    page = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()
    page.goto(base_url + "/login")
    page.get_by_label("用户名").fill(account.username)
    page.get_by_label("密码").fill(account.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page


def open_step(page, summary: str):
    """Open a collapsed form of the dispute page and return it."""
    details = page.locator("details.step", has=page.locator("summary", has_text=summary))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details.locator("form")


@pytest.mark.plugins("mediation")
def test_a_dispute_from_registration_to_agreement(browser, platform, app, world):
    with serving(app) as base_url:
        base = f"{base_url}/units/{world.unit.id}/mediation"

        clerk = signed_in(browser, base_url, world.clerk)
        clerk.goto(f"{base}/disputes/new")
        assert clerk.locator("h1").inner_text().startswith("登记纠纷")
        clerk.locator('select[name="category"]').select_option(label="邻里")
        clerk.get_by_label("纠纷简要情况").fill("排水管堵塞，楼下被淹")
        clerk.locator('input[name="applicant_name"]').fill("吴甲")
        clerk.locator('input[name="applicant_phone"]').fill("13700001111")
        clerk.locator('input[name="respondent_name"]').fill("郑乙")
        clerk.get_by_role("button", name="登记", exact=True).click()
        clerk.wait_for_load_state()
        case_no = clerk.locator("h1").inner_text()
        assert case_no.startswith("（") and "民族路人调字第" in case_no
        dispute_url = clerk.url
        for party in ("申请人 吴甲", "被申请人 郑乙"):
            form = open_step(clerk, "送达权利义务告知书")
            form.locator('select[name="party_id"]').select_option(label=party)
            form.get_by_label("当事人同意调解").check()
            form.get_by_role("button", name="记录告知").click()
            clerk.wait_for_load_state()
        assert clerk.locator("table tbody").first.inner_text().count("同意") == 2

        director = signed_in(browser, base_url, world.director)
        director.goto(dispute_url)
        director.get_by_role("button", name="受理").click()
        director.wait_for_load_state()
        assert "已受理" in director.locator("main p").first.inner_text()
        form = open_step(director, "指派调解员")
        form.get_by_label("李调解", exact=False).check()
        form.get_by_role("button", name="指派").click()
        director.wait_for_load_state()
        assert "调解中" in director.locator("main p").first.inner_text()

        mediator = signed_in(browser, base_url, world.mediator_account)
        mediator.goto(f"{base}/")
        mediator.get_by_role("link", name=case_no).click()
        mediator.wait_for_load_state()
        form = open_step(mediator, "记录一次调解")
        form.get_by_label("时间").fill("2026-01-05T09:30")
        form.get_by_label("地点").fill("社区调解室")
        form.get_by_label("调解情况").fill("双方陈述，同意疏通并赔偿")
        form.get_by_role("button", name="保存调解记录").click()
        mediator.wait_for_load_state()
        assert "社区调解室" in mediator.content()

        form = open_step(mediator, "制作调解协议")
        form.get_by_label("纠纷事实、争议事项及各方责任").fill("郑乙家排水管堵塞所致")
        form.get_by_label("协议内容").fill("郑乙疏通排水管并赔偿吴甲损失")
        term = form.locator("fieldset").first
        term.locator('select[name="t1_obligor_party_id"]').select_option(label="郑乙")
        term.locator('select[name="t1_obligee_party_id"]').select_option(label="吴甲")
        term.get_by_label("履行内容").fill("赔偿损失")
        term.get_by_label("金额（元）").fill("500")
        form.get_by_role("button", name="保存协议").click()
        mediator.wait_for_load_state()
        for signer in ("申请人 吴甲", "被申请人 郑乙", "调解员（本人）"):
            form = open_step(mediator, "登记签名")
            form.locator('select[name="signer"]').select_option(label=signer)
            form.get_by_role("button", name="登记签名").click()
            mediator.wait_for_load_state()

        director.goto(dispute_url)
        director.get_by_role("button", name="加盖调委会印章").click()
        director.wait_for_load_state()

        mediator.goto(dispute_url)
        mediator.get_by_role("button", name="确认达成协议").click()
        mediator.wait_for_load_state()
        status = mediator.locator("main p").first.inner_text()
        assert "履行中" in status  # an agreement in effect, with a term to perform
        facts = mediator.locator("dl.facts").first.inner_text()
        assert "书面协议" in facts
        # Nothing sticks out of a phone's screen.
        width = mediator.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1
