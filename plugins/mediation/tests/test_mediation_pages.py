"""The pages: every one renders for the people who use it, in Chinese and English, and the
forms take a dispute through its steps, re-rendering a refusal with its reason."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from plugins.mediation.models import Dispute, Lead, Party
from plugins.mediation.tests.factories import resident_id
from tests.support.web import csrf_token, sign_in

pytestmark = pytest.mark.anyio
HTML = {"accept": "text/html"}


async def as_user(client, account) -> None:
    client.cookies.clear()
    await sign_in(client, account.username, account.password)


async def submit(client, page_url: str, action: str, form: dict) -> object:
    """Post a form of the page at ``page_url`` the way a browser does."""
    page = await client.get(page_url, headers=HTML)
    assert page.status_code == 200, page.text[:300]
    return await client.post(
        action,
        data={**form, "_csrf_token": csrf_token(page.text)},
        headers=HTML,
        follow_redirects=False,
    )


async def test_pages_render_for_each_role_in_both_languages(client, flow, world):
    case = await flow.in_mediation()
    base = f"/units/{world.unit.id}/mediation"
    pages = [
        (
            world.director,
            [
                "/",
                "/disputes",
                "/disputes/new",
                f"/disputes/{case['id']}",
                "/committees",
                "/statistics",
                "/leads",
            ],
        ),
        (world.mediator_account, ["/", "/disputes", f"/disputes/{case['id']}", "/leads"]),
        (world.collector, ["/", "/disputes", f"/disputes/{case['id']}", "/leads"]),
    ]
    for account, paths in pages:
        await as_user(client, account)
        for path in paths:
            for lang, marker in (("zh", 'lang="zh-CN"'), ("en", 'lang="en"')):
                response = await client.get(f"{base}{path}?lang={lang}", headers=HTML)
                assert response.status_code == 200, (account.username, path, response.text[:300])
                assert marker in response.text
                assert 'name="viewport"' in response.text
    # The collector's view of a case: number, category, status; no parties.
    await as_user(client, world.collector)
    summary = await client.get(f"{base}/disputes/{case['id']}", headers=HTML)
    assert case["case_no"] in summary.text and "陈申请" not in summary.text
    english = await client.get(f"{base}/leads?lang=en", headers=HTML)
    assert "Report a lead" in english.text and "Zero report" in english.text


async def test_a_mediator_sees_own_cases_with_due_and_overdue_first(client, flow, world, set_clock):
    set_clock(date(2033, 1, 5))
    late = await flow.in_mediation()
    set_clock(date(2033, 1, 20))
    fresh = await flow.in_mediation()
    await flow.registered()  # not assigned to anyone
    set_clock(date(2033, 2, 10))  # the first is past its limit
    await as_user(client, world.mediator_account)
    home = await client.get(f"/units/{world.unit.id}/mediation/", headers=HTML)
    text = home.text
    mine = text.split("我承办的纠纷", 1)[1]
    assert mine.index(late["case_no"]) < mine.index(fresh["case_no"])
    assert 'class="case overdue"' in text and "已超期" in text
    assert "调委会工作台" not in text  # the dashboard is the director's


async def test_the_director_dashboard_counts_and_lists(client, flow, world):
    await flow.registered()
    await flow.registered(risk_level="red")
    await as_user(client, world.director)
    home = await client.get(f"/units/{world.unit.id}/mediation/", headers=HTML)
    assert "调委会工作台" in home.text and "红色风险待报告" in home.text
    board = home.text.split("调委会工作台", 1)[1]
    assert board.count("民族路人调字") == 3  # two waiting, the red one also unreported


async def test_forms_take_a_dispute_from_intake_to_agreement(client, flow, world, platform):
    base = f"/units/{world.unit.id}/mediation"
    await as_user(client, world.clerk)
    response = await submit(
        client,
        f"{base}/disputes/new",
        f"{base}/disputes",
        {
            "committee_id": str(world.committee.id),
            "source": "application",
            "category": "neighbour",
            "summary": "排水管堵塞引发争执",
            "amount_involved": "1200.50",
            "people_involved": "2",
            "risk_level": "none",
            "applicant_name": "吴甲",
            "applicant_id_no": resident_id("19820304", "135"),
            "applicant_phone": "13700001111",
            "respondent_name": "郑乙",
        },
    )
    assert response.status_code in (302, 303), response.text[:500]
    detail = response.headers["location"]
    with platform.session_factory() as session:
        dispute = session.exec(select(Dispute)).one()
        assert dispute.amount_involved_fen == 120050
        parties = session.exec(select(Party).where(Party.dispute_id == dispute.id)).all()
    for party in parties:
        answer = await submit(
            client,
            detail,
            f"{detail}/notice",
            {"party_id": str(party.id), "manner": "written", "consented": "1"},
        )
        assert answer.status_code in (302, 303), answer.text.split('role="alert"')[-1][:500]

    await as_user(client, world.director)
    answer = await submit(client, detail, f"{detail}/acceptance", {})
    assert answer.status_code in (302, 303)
    answer = await submit(
        client,
        detail,
        f"{detail}/assignments",
        {f"mediator.{world.mediator.id}": "1", "how": "designated"},
    )
    assert answer.status_code in (302, 303)

    await as_user(client, world.mediator_account)
    page = await client.get(detail, headers=HTML)
    assert "吴甲" in page.text and "制作调解协议" in page.text
    # A refusal is shown on the page with its reason, nothing changes.
    refused = await submit(client, detail, f"{detail}/agreement-reached", {})
    assert refused.status_code == 409 and 'role="alert"' in refused.text
    answer = await submit(
        client,
        detail,
        f"{detail}/sessions",
        {
            "held_at": f"{date.today() - timedelta(days=1)}T09:30",
            "place": "调解室",
            "summary": "双方陈述",
            f"attendee.{parties[0].id}": "1",
        },
    )
    assert answer.status_code in (302, 303), answer.text.split('role="alert"')[-1][:500]
    answer = await submit(
        client,
        detail,
        f"{detail}/agreement",
        {
            "form": "written",
            "facts": "排水管堵塞",
            "content": "郑乙疏通排水管并赔偿",
            "agreed_on": date.today().isoformat(),
            "t1_obligor_party_id": str(parties[1].id),
            "t1_obligee_party_id": str(parties[0].id),
            "t1_content": "赔偿",
            "t1_amount": "300",
            "t1_due_on": "",
        },
    )
    assert answer.status_code in (302, 303), answer.text.split('role="alert"')[-1][:500]
    for signer in (f"party:{parties[0].id}", f"party:{parties[1].id}", "mediator"):
        answer = await submit(
            client,
            detail,
            f"{detail}/signatures",
            {"signer": signer, "manner": "signature", "signed_on": date.today().isoformat()},
        )
        assert answer.status_code in (302, 303), answer.text.split('role="alert"')[-1][:500]
    await as_user(client, world.director)
    assert (await submit(client, detail, f"{detail}/seal", {})).status_code in (302, 303)
    await as_user(client, world.mediator_account)
    answer = await submit(client, detail, f"{detail}/agreement-reached", {})
    assert answer.status_code in (302, 303)
    with platform.session_factory() as session:
        assert session.exec(select(Dispute)).one().status == "performing"
    pdf = await submit(
        client, detail, f"{detail}/documents", {"kind": "agreement", "reason": "交当事人"}
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"


async def test_statistics_page_draws_charts_and_exports(client, flow, world):
    await flow.agreed(None)
    await as_user(client, world.director)
    page = await client.get(f"/units/{world.unit.id}/mediation/statistics", headers=HTML)
    assert page.status_code == 200
    assert page.text.count("<svg") == 3 and "调解成功率" in page.text
    assert "陈申请" not in page.text
    export = await client.get(f"/units/{world.unit.id}/mediation/statistics/export", headers=HTML)
    assert export.status_code == 200 and export.content[:2] == b"PK"


async def test_a_collector_reports_a_lead_a_mediator_registers_it(client, world, platform):
    base = f"/units/{world.unit.id}/mediation"
    await as_user(client, world.collector)
    reported = await submit(
        client,
        f"{base}/leads",
        f"{base}/leads",
        {"place": "民族路20号", "description": "两户因停车位争吵", "risk_level": "yellow"},
    )
    assert reported.status_code in (302, 303)
    zero = await submit(
        client,
        f"{base}/leads",
        f"{base}/leads/zero-reports",
        {"period_start": date.today().isoformat(), "period_end": date.today().isoformat()},
    )
    assert zero.status_code in (302, 303)
    with platform.session_factory() as session:
        lead = session.exec(select(Lead).where(Lead.kind == "lead")).one()
    await as_user(client, world.mediator_account)
    form = await client.get(f"{base}/disputes/new?lead_id={lead.id}", headers=HTML)
    assert "两户因停车位争吵" in form.text and 'name="lead_id"' in form.text
    response = await submit(
        client,
        f"{base}/disputes/new?lead_id={lead.id}",
        f"{base}/disputes",
        {
            "lead_id": str(lead.id),
            "committee_id": str(world.committee.id),
            "source": "screening",
            "category": "neighbour",
            "summary": "两户因停车位争吵",
            "risk_level": "yellow",
            "applicant_name": "甲",
            "respondent_name": "乙",
        },
    )
    assert response.status_code in (302, 303), response.text.split('role="alert"')[-1][:500]
    with platform.session_factory() as session:
        assert session.get(Lead, lead.id).status == "converted"
        assert session.exec(select(Dispute)).one().lead_id == lead.id
    await as_user(client, world.collector)
    mine = await client.get(f"{base}/leads", headers=HTML)
    assert "已登记为纠纷" in mine.text and "民族路人调字第1号" in mine.text


async def test_forms_for_investigation_extension_and_confirmation(client, flow, world, set_clock):
    set_clock(date(2034, 3, 1))
    case = await flow.signed(None)
    detail = f"/units/{world.unit.id}/mediation/disputes/{case['id']}"
    await as_user(client, world.mediator_account)
    answer = await submit(
        client,
        detail,
        f"{detail}/investigations",
        {"conducted_on": "2034-03-01", "place": "现场", "findings": "水管老化"},
    )
    assert answer.status_code in (302, 303), answer.text.split('role="alert"')[-1][:500]
    for party in case["parties"]:
        answer = await submit(
            client,
            detail,
            f"{detail}/extension-consents",
            {"party_id": str(party["id"]), "consented_on": "2034-03-01", "manner": "written"},
        )
        assert answer.status_code in (302, 303), answer.text.split('role="alert"')[-1][:500]
    await as_user(client, world.director)
    answer = await submit(client, detail, f"{detail}/extension", {"until": "2034-05-01"})
    assert answer.status_code in (302, 303), answer.text.split('role="alert"')[-1][:500]
    await as_user(client, world.mediator_account)
    assert (await submit(client, detail, f"{detail}/agreement-reached", {})).status_code == 302
    page = await client.get(detail, headers=HTML)
    assert "记录共同申请" in page.text and "2034-05-01" in page.text
    late = await submit(
        client,
        detail,
        f"{detail}/confirmation",
        {"applied_on": "2034-02-01", "court": "渝中区法院"},
    )
    assert late.status_code == 409 and 'role="alert"' in late.text
    answer = await submit(
        client,
        detail,
        f"{detail}/confirmation",
        {"applied_on": "2034-03-01", "court": "渝中区法院"},
    )
    assert answer.status_code in (302, 303)
    answer = await submit(
        client,
        detail,
        f"{detail}/confirmation/ruling",
        {"result": "valid", "ruled_on": "2034-03-01", "court_case_no": "（2034）渝0103民特1号"},
    )
    assert answer.status_code in (302, 303)
    assert "确认有效" in (await client.get(detail, headers=HTML)).text
