"""A reimbursement in a real browser on a phone-sized screen, from submission to payment."""

from datetime import date

import pytest

from core.web.auth import session_cookie_name
from plugins.insurance.tests.factories import JPEG, active_budget, china, served
from plugins.insurance.vocab import Category
from tests.support import services
from tests.support.server import serving

pytestmark = pytest.mark.plugins("insurance")

PHONE = {"width": 390, "height": 844}
DAY = date(2025, 4, 12)


@pytest.fixture
def browser():
    services.require("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=services.CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
            ],
        )
        yield chromium
        chromium.close()


def as_user(browser, base_url, platform, world, name):
    """A phone-sized page signed in as ``name``."""
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    context.add_cookies(
        [
            {
                "name": session_cookie_name(platform.settings.secure_cookies),
                "value": world.cookie(name),
                "url": base_url,
            }
        ]
    )
    return context.new_page()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_reimbursement_from_submission_to_payment_in_the_browser(
    browser, platform, world, app, tmp_path
):
    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reimbursement, amount_fen=1_000_000)
        served(session, world, "甲", china(2025, 4, 12, 19))
        session.commit()
    receipt = tmp_path / "发票.jpg"
    receipt.write_bytes(JPEG)
    village = f"/units/{world.tree.village.id}/insurance"
    with serving(app) as base:
        # The volunteer, on a phone: a new claim, a line, its receipt, submit.
        me = as_user(browser, base, platform, world, "甲")
        me.goto(base + village + "/my")
        assert me.locator("h1").inner_text() == "我的保障"
        assert fits_the_phone(me)
        me.get_by_role("link", name="新建报销").click()
        me.get_by_label("活动日期").fill(DAY.isoformat())
        me.get_by_label("事由").fill("夜间巡逻往返交通")
        me.get_by_label("收款银行账号").fill("6217000010001234567")
        me.get_by_role("button", name="创建").click()
        me.wait_for_load_state()
        assert "草稿" in me.locator(".status").inner_text()
        me.get_by_label("类型").select_option("transport")
        me.get_by_label("金额（元）").fill("35.00")
        me.get_by_label("发票代码").fill("050001900111")
        me.get_by_label("发票号码").fill("00001234")
        me.get_by_role("button", name="添加", exact=True).click()
        me.wait_for_load_state()
        me.get_by_label("拍照或选择收据").set_input_files(str(receipt))
        me.get_by_role("button", name="上传收据").click()
        me.wait_for_load_state()
        assert me.get_by_role("link", name="收据 1").is_visible()
        assert "6217000010001234567" not in me.content()  # masked even for its owner
        assert fits_the_phone(me)
        me.get_by_role("button", name="提交报销").click()
        me.wait_for_load_state()
        assert me.locator(".status").inner_text() == "待队长确认"
        claim_page = me.url
        claim_id = claim_page.rsplit("=", 1)[1]

        # The team leader confirms against the service record.
        leader = as_user(browser, base, platform, world, "leader")
        leader.goto(f"{base}{village}/expenses/{claim_id}")
        leader.get_by_role("button", name="确认活动属实").click()
        leader.wait_for_load_state()
        assert leader.locator(".status").inner_text() == "待财务审核"

        # Finance reviews at the district: sanctioned amount by default.
        district = f"/units/{world.tree.district.id}/insurance"
        finance = as_user(browser, base, platform, world, "finance")
        finance.goto(f"{base}{district}/expenses")
        finance.get_by_role("link", name="BX", exact=False).first.click()
        finance.get_by_role("button", name="财务审核通过").click()
        finance.wait_for_load_state()
        assert finance.locator(".status").inner_text() == "待审批"

        # The township head approves (35 元 is within the township's level).
        approver = as_user(browser, base, platform, world, "approver")
        approver.goto(f"{base}/units/{world.tree.township.id}/insurance/expenses/{claim_id}")
        approver.get_by_role("button", name="审批通过").click()
        approver.wait_for_load_state()
        assert approver.locator(".status").inner_text() == "待付款"

        # The cashier sees the account only now, with a reason, and pays.
        cashier = as_user(browser, base, platform, world, "cashier")
        cashier.goto(f"{base}{district}/expenses/{claim_id}")
        assert "6217000010001234567" not in cashier.content()
        cashier.get_by_label("查看完整收款账户的理由").fill("办理银行转账")
        cashier.get_by_role("button", name="查看收款账户").click()
        cashier.wait_for_load_state()
        assert cashier.locator(".account").inner_text() == "6217000010001234567"
        cashier.get_by_label("银行流水号").fill("ICBC-20250420-001")
        cashier.get_by_role("button", name="确认付款").click()
        cashier.wait_for_load_state()
        assert cashier.locator(".status").inner_text() == "已付款"
        assert "ICBC-20250420-001" in cashier.content()  # the voucher's bank reference

        # Back on the phone, the volunteer sees it paid.
        me.goto(claim_page)
        assert me.locator(".status").inner_text() == "已付款"
        english = me.goto(claim_page + "&lang=en")
        assert english.status == 200 and me.locator(".status").inner_text() == "Paid"
