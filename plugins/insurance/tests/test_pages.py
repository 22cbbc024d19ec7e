"""The pages: every one renders in Chinese and English; the work queue and a volunteer's own."""

import re

import pytest

from core.web.auth import session_cookie_name
from plugins.insurance.tests.factories import (
    JPEG,
    active_budget,
    china,
    expense_claim,
    policy,
    served,
)
from plugins.insurance.vocab import Category, ClaimType
from tests.support.web import csrf_token

pytestmark = [pytest.mark.plugins("insurance"), pytest.mark.anyio]


def signed_in(client, platform, world, name):
    client.cookies.clear()
    client.cookies.set(session_cookie_name(platform.settings.secure_cookies), world.cookie(name))
    return client


def page(world, unit="district"):
    return f"/units/{getattr(world.tree, unit).id}/insurance"


@pytest.fixture
def filled(platform, world):
    from plugins.insurance import claims, expenses, incidents

    with platform.session_factory() as session:
        active_budget(session, world, category=Category.reimbursement, amount_fen=500_000)
        bought = policy(
            session,
            world,
            rule="activity",
            period=(china(2025, 1, 1).date(), china(2099, 12, 31).date()),
        )
        claim = expense_claim(
            session, world, "甲", china(2025, 4, 12).date(), [("transport", 2_000, "77", "88")]
        )
        expenses.submit(session, world.actor(session, "甲"), claim)
        assignment, _ = served(session, world, "乙", china(2025, 5, 1, 9))
        incident = incidents.report(
            session,
            reporter_user_id=world.users["leader"],
            within=world.unit(session, "district"),
            volunteer_id=world.members["乙"].volunteer_id,
            occurred_at=china(2025, 5, 1, 10),
            place="江边",
            description="摔伤",
            injury_kind="sprain",
            assignment_id=assignment.id,
        )
        opened = claims.open_claim(
            session,
            world.actor(session, "clerk"),
            incident,
            policy_id=bought.id,
            claim_type=ClaimType.medical,
            claimed_fen=30_000,
        )
        session.commit()
        return {"expense": claim.id, "claim": opened.id, "policy": bought.id}


async def test_every_page_renders_in_chinese_and_english(client, platform, world, filled):
    signed_in(client, platform, world, "finance")
    paths = [
        "/",
        "/expenses",
        f"/expenses/{filled['expense']}",
        "/budgets",
        "/reports",
        "/sources",
        "/policies",
        "/rewards",
        "/settings",
    ]
    for path in paths:
        for lang, marker in (("zh", "保险"), ("en", "")):
            response = await client.get(
                page(world) + path + f"?lang={lang}", headers={"accept": "text/html"}
            )
            assert response.status_code == 200, (path, lang, response.text[:300])
            assert marker in response.text
    signed_in(client, platform, world, "clerk")
    for path in ("/claims", f"/claims/{filled['claim']}", "/incidents", "/compensations"):
        response = await client.get(
            page(world) + path + "?lang=en", headers={"accept": "text/html"}
        )
        assert response.status_code == 200, (path, response.text[:300])
    english = await client.get(page(world) + f"/claims/{filled['claim']}?lang=en")
    assert "Document checklist" in english.text and "Claim form" in english.text


async def test_the_reimbursement_queue_and_a_step_by_form(client, platform, world, filled):
    signed_in(client, platform, world, "leader")
    village = page(world, "village")
    queue = await client.get(f"{village}/expenses")
    assert f"/expenses/{filled['expense']}" in queue.text
    detail = await client.get(f"{village}/expenses/{filled['expense']}")
    assert "确认活动属实" in detail.text
    confirmed = await client.post(
        f"{village}/expenses/{filled['expense']}/steps",
        data={"step": "confirm", "_csrf_token": csrf_token(detail.text)},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303, confirmed.text[:300]
    after = await client.get(f"{village}/expenses/{filled['expense']}")
    assert "待财务审核" in after.text and "activity_confirmed" in after.text
    # a refused step re-renders the page with the reason
    again = await client.post(
        f"{village}/expenses/{filled['expense']}/steps",
        data={"step": "return", "reason": "", "_csrf_token": csrf_token(after.text)},
    )
    assert again.status_code in (400, 403) and 'role="alert"' in again.text


async def test_my_pages_on_a_phone_show_only_my_own(client, platform, world, filled):
    signed_in(client, platform, world, "乙")
    mine = await client.get(page(world, "village") + "/my")
    assert mine.status_code == 200
    assert "今天有有效的意外保险" in mine.text  # the activity-rule policy covers 乙
    assert "BX" not in mine.text  # 甲's claim is not 乙's
    other = await client.get(page(world, "village") + f"/my/expense?id={filled['expense']}")
    assert other.status_code == 404
    new = await client.get(page(world, "village") + "/my/new")
    created = await client.post(
        page(world, "village") + "/my/new",
        data={
            "activity_date": "2025-05-01",
            "purpose": "巡逻交通",
            "payee_account": "6222000011112222",
            "_csrf_token": csrf_token(new.text),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    location = created.headers["location"]
    draft = await client.get(location)
    assert "6222000011112222" not in draft.text and "**** 2222" in draft.text
    expense_id = re.search(r"id=(\d+)", location).group(1)
    added = await client.post(
        page(world, "village") + "/my/expense/lines",
        data={
            "expense_id": expense_id,
            "expense_type": "transport",
            "spent_on": "2025-05-01",
            "amount": "12.50",
            "_csrf_token": csrf_token(draft.text),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text[:500]
    draft = await client.get(location)
    assert "12.50" in draft.text
    line_id = re.search(r'name="line_id" value="(\d+)"', draft.text).group(1)
    uploaded = await client.post(
        page(world, "village") + "/my/expense/receipts",
        data={"expense_id": expense_id, "line_id": line_id, "_csrf_token": csrf_token(draft.text)},
        files={"file": ("票.jpg", JPEG, "image/jpeg")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text[:500]
    draft = await client.get(location)
    submitted = await client.post(
        page(world, "village") + "/my/expense/submission",
        data={"expense_id": expense_id, "_csrf_token": csrf_token(draft.text)},
        follow_redirects=False,
    )
    assert submitted.status_code == 303
    assert "待队长确认" in (await client.get(location)).text
    bad = await client.post(
        page(world, "village") + "/my/expense/lines",
        data={
            "expense_id": expense_id,
            "expense_type": "transport",
            "spent_on": "2025-05-01",
            "amount": "1.234",
            "_csrf_token": csrf_token(draft.text),
        },
    )
    assert bad.status_code in (400, 409) and 'role="alert"' in bad.text
