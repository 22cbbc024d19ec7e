"""The plugin as a whole: switched per unit, committees' rules, local settings from a day on,
leads and core's screening reports, and what it adds to menus, dashboards and training."""

from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from core.accounts.models import User
from core.accounts.services import principal_for
from core.contributions import DomainEvent
from core.reports.models import Report
from core.units.models import Unit
from core.units.services import set_plugin_enabled
from core.web.navigation import dashboard, unit_page
from plugins.mediation import clock
from plugins.mediation.models import Dispute, Lead
from plugins.mediation.tests.factories import resident_id
from tests.support.web import sign_in

pytestmark = pytest.mark.anyio

TRAINING = {
    "mediation.law_essentials",
    "mediation.procedure",
    "mediation.agreement_writing",
    "mediation.judicial_confirmation",
    "mediation.escalation",
    "mediation.discipline_privacy",
    "mediation.dispute_types",
    "mediation.case_file",
}


def principal(platform, account):
    with platform.session_factory() as session:
        return principal_for(session, session.get(User, account.user_id), platform.policy, "token")


def switch(platform, unit, on: bool) -> None:
    with platform.session_factory() as session:
        set_plugin_enabled(session, session.get(Unit, unit.id), "mediation", on, changed_by="test")
        session.commit()


# -- per-unit switch -------------------------------------------------------------------------


async def test_disabled_at_a_unit_hides_pages_api_menu_figures_and_training_keeps_data(
    flow, client, platform, unit_tree
):
    case = await flow.registered()
    director = flow.world.director
    village = flow.world.unit
    api = f"/api/v1/units/{village.id}/mediation"
    pages = f"/units/{village.id}/mediation"
    await sign_in(client, director.username, director.password)
    who = principal(platform, director)

    # On: everything is there.
    assert (await client.get(f"{api}/disputes", headers=director.headers)).status_code == 200
    assert (await client.get(f"{pages}/", headers={"accept": "text/html"})).status_code == 200
    with platform.session_factory() as session:
        unit = session.get(Unit, village.id)
        assert any(item.url == f"{pages}/" for item in unit_page(platform, session, unit, who).menu)
        assert {f.label.zh for f in dashboard(platform, session, unit, who)} >= {"调解中纠纷"}
        assert TRAINING <= {m.code for m in platform.training_modules(session, unit)}

    switch(platform, village, False)
    for url in (
        f"{api}/disputes",
        f"{api}/disputes/{case['id']}",
        f"{api}/committees",
        f"{api}/statistics",
    ):
        assert (await client.get(url, headers=director.headers)).status_code == 404, url
    refused = await client.post(
        f"{api}/disputes/{case['id']}/acceptance", json={}, headers=director.headers
    )
    assert refused.status_code == 404
    for url in (f"{pages}/", f"{pages}/disputes/{case['id']}", f"{pages}/statistics"):
        assert (await client.get(url, headers={"accept": "text/html"})).status_code == 404
    home = await client.get(f"/units/{village.id}/", headers={"accept": "text/html"})
    assert home.status_code == 200 and "/mediation/" not in home.text
    with platform.session_factory() as session:
        unit = session.get(Unit, village.id)
        assert not any(
            "/mediation" in item.url for item in unit_page(platform, session, unit, who).menu
        )
        assert dashboard(platform, session, unit, who) == []
        assert not {m.code for m in platform.training_modules(session, unit)} & TRAINING
        # The data stays.
        assert session.exec(select(func.count()).select_from(Dispute)).one() == 1

    # The township above still has it on (the switch is the village's alone).
    township = f"/api/v1/units/{unit_tree.township.id}/mediation/disputes"
    officer = flow.world.officer
    assert (await client.get(township, headers=officer.headers)).status_code == 200

    switch(platform, village, True)
    again = await client.get(f"{api}/disputes/{case['id']}", headers=director.headers)
    assert again.status_code == 200 and again.json()["case_no"] == case["case_no"]


# -- core's screening reports ----------------------------------------------------------------


def test_hook_handle_event_turns_dispute_reports_into_leads(platform, world):
    event = DomainEvent(
        "core.report.submitted", world.unit.id, {"report_id": 41, "category": "dispute"}
    )
    with platform.session_factory() as session:
        platform.emit(session, event)
        platform.emit(session, event)  # delivered twice: still one lead
        platform.emit(
            session,
            DomainEvent(
                "core.report.submitted", world.unit.id, {"report_id": 42, "category": "crime"}
            ),
        )
        # Malformed: ignored, never breaking the transaction that emitted it.
        platform.emit(
            session, DomainEvent("core.report.submitted", world.unit.id, {"category": "dispute"})
        )
        session.commit()
        leads = session.exec(select(Lead)).all()
    assert [(lead.report_id, lead.kind, lead.status, lead.unit_id) for lead in leads] == [
        (41, "lead", "new", world.unit.id)
    ]


async def test_hook_register_report_categories_routes_a_dispute_report_to_a_lead(
    client, platform, world, accounts
):
    """A volunteer's dispute-screening report through core's API is routed to mediation and
    waits as a lead; a clue from the same place stays core's."""
    reporter = accounts("volunteer", world.unit)
    url = f"/api/v1/units/{world.unit.id}/reports"
    for category in ("dispute", "clue"):
        response = await client.post(
            url,
            json={"category": category, "title": "两户噪音纠纷", "body": "楼上楼下因装修噪音争吵"},
            headers=reporter.headers,
        )
        assert response.status_code == 201, response.text
    with platform.session_factory() as session:
        reports = session.exec(select(Report).order_by(Report.id)).all()
        assert [(r.category, r.routed_to_plugin) for r in reports] == [
            ("dispute", "mediation"),
            ("clue", None),
        ]
        (lead,) = session.exec(select(Lead)).all()
    assert (lead.report_id, lead.kind, lead.unit_id) == (reports[0].id, "lead", world.unit.id)


def test_hook_handle_event_not_called_where_the_plugin_is_off(platform, world, unit_tree):
    event = DomainEvent(
        "core.report.submitted",
        unit_tree.other_district.id,
        {"report_id": 7, "category": "dispute"},
    )
    with platform.session_factory() as session:
        platform.emit(session, event)
        session.commit()
        assert session.exec(select(func.count()).select_from(Lead)).one() == 0


async def test_leads_from_collectors_their_own_only_then_converted(flow, platform):
    collector, mediator = flow.world.collector, flow.world.mediator_account
    lead = await flow.ok(
        collector,
        "POST",
        "/leads",
        {"place": "民族路20号", "description": "两户因停车位争吵", "risk_level": "orange"},
    )
    other = await flow.ok(
        mediator,
        "POST",
        "/leads",
        {"place": "民族路22号", "description": "邻居噪音"},
    )
    mine = await flow.ok(collector, "GET", "/leads")
    assert [row["id"] for row in mine] == [lead["id"]] and mine[0]["mine"] is True
    everything = await flow.ok(mediator, "GET", "/leads")
    assert {row["id"] for row in everything} == {lead["id"], other["id"]}
    zero = await flow.ok(
        collector,
        "POST",
        "/leads/zero-reports",
        {"period_start": clock.today().isoformat(), "period_end": clock.today().isoformat()},
    )
    assert zero["kind"] == "zero_report"
    twice = await flow.call(
        collector,
        "POST",
        "/leads/zero-reports",
        {"period_start": clock.today().isoformat(), "period_end": clock.today().isoformat()},
    )
    assert twice.status_code == 409
    # A collector does not register disputes; a mediator does, from the lead.
    body = {
        "committee_id": flow.world.committee.id,
        "category": "neighbour",
        "summary": "停车位纠纷",
        "risk_level": "orange",
        "parties": [
            {"role": "applicant", "name": "甲方", "id_no": resident_id("19800101", "111")},
            {"role": "respondent", "name": "乙方"},
        ],
    }
    assert (
        await flow.call(collector, "POST", f"/leads/{lead['id']}/conversion", body)
    ).status_code == 403
    case = await flow.ok(mediator, "POST", f"/leads/{lead['id']}/conversion", body)
    assert case["restricted"] is True  # registering does not put the mediator on the case
    case = await flow.ok(flow.world.director, "GET", f"/disputes/{case['id']}")
    assert case["source"] == "screening" and case["lead_id"] == lead["id"]
    converted = next(r for r in await flow.ok(collector, "GET", "/leads") if r["id"] == lead["id"])
    assert converted["status"] == "converted"
    assert converted["dispute_case_no"] == case["case_no"]
    assert converted["dispute_status"] == "已登记"
    again = await flow.call(mediator, "POST", f"/leads/{lead['id']}/conversion", body)
    assert again.status_code == 409
    dismissed = await flow.ok(
        mediator, "POST", f"/leads/{other['id']}/dismissal", {"note": "已自行和解"}
    )
    assert dismissed["status"] == "dismissed"


# -- committees ------------------------------------------------------------------------------


async def test_committee_of_three_to_nine_members_a_director_and_a_woman(flow, platform, world):
    officer = world.officer
    api = f"/api/v1/units/{world.unit.id}/mediation"
    committee = await flow.ok(officer, "GET", f"/committees/{world.committee.id}")
    people = [member["person_id"] for member in committee["members"]]
    men = [m["person_id"] for m in committee["members"] if m["gender"] == "male"]

    async def create(members, abbreviation="新调委"):
        return await flow.client.post(
            f"{api}/committees",
            json={
                "kind": "enterprise",
                "name": "某厂调委会",
                "abbreviation": abbreviation,
                "members": members,
            },
            headers=officer.headers,
        )

    def member(person_id, role="member", ethnicity="汉族"):
        return {"person_id": person_id, "role": role, "ethnicity": ethnicity}

    two = await create([member(people[0], "director"), member(people[1])])
    assert two.status_code == 400 and {e["rule"] for e in two.json()["errors"]} == {"count"}
    no_woman = await create([member(men[0], "director"), *(member(m) for m in men[1:3])])
    rules = {e["rule"] for e in no_woman.json()["errors"]}
    assert no_woman.status_code == 400 and "no_woman" in rules
    two_directors = await create([member(p, "director") for p in people[:3]])
    assert "director" in {e["rule"] for e in two_directors.json()["errors"]}
    taken = await create(
        [member(people[0], "director"), *(member(p) for p in people[1:3])], "民族路"
    )
    assert taken.status_code == 409 and taken.json()["errors"][0]["rule"] == "taken"
    made = await create([member(people[0], "director"), *(member(p) for p in people[1:3])])
    assert made.status_code == 201, made.text
    # Members change as a whole; a change that breaks the rules changes nothing.
    committee_id = made.json()["id"]
    broken = await flow.client.put(
        f"{api}/committees/{committee_id}/members",
        json={"members": [member(people[0], "director")]},
        headers=officer.headers,
    )
    assert broken.status_code == 400
    changed = await flow.client.put(
        f"{api}/committees/{committee_id}/members",
        json={"members": [member(people[0], "director"), *(member(p) for p in people[1:5])]},
        headers=officer.headers,
    )
    assert changed.status_code == 200 and len(changed.json()["members"]) == 5
    # A mediator may see committees but not form one.
    refused = await flow.client.post(
        f"{api}/committees", json={}, headers=world.mediator_account.headers
    )
    assert refused.status_code == 403


async def test_minority_members_where_the_unit_requires_them(flow, platform, world, set_clock):
    tomorrow = clock.today() + timedelta(days=1)
    await flow.ok(
        world.officer,
        "POST",
        "/settings",
        {"valid_from": tomorrow.isoformat(), "values": {"minority_member_required": True}},
    )
    set_clock(tomorrow)
    committee = await flow.ok(world.officer, "GET", f"/committees/{world.committee.id}")
    members = [
        {"person_id": m["person_id"], "role": m["role"], "ethnicity": "汉族"}
        for m in committee["members"]
    ]
    path = f"/committees/{world.committee.id}/members"
    response = await flow.call(world.officer, "PUT", path, {"members": members})
    assert response.status_code == 400
    assert {e["rule"] for e in response.json()["errors"]} == {"no_minority"}
    members[-1]["ethnicity"] = "土家族"
    await flow.ok(world.officer, "PUT", path, {"members": members})


# -- local settings from a day on -------------------------------------------------------------


async def test_settings_apply_from_their_day_at_the_unit_and_below(flow, world, unit_tree, client):
    officer = world.officer  # at the township
    township_api = f"/api/v1/units/{unit_tree.township.id}/mediation"
    later = date.today() + timedelta(days=10)
    body = {"valid_from": later.isoformat(), "values": {"deadline_months": 2}, "note": "本地细则"}
    made = await client.post(f"{township_api}/settings", json=body, headers=officer.headers)
    assert made.status_code == 201, made.text
    now = await flow.ok(officer, "GET", "/settings")
    assert now["effective"]["deadline_months"] == 1
    then = await flow.ok(officer, "GET", f"/settings?on={later.isoformat()}")
    assert then["effective"]["deadline_months"] == 2
    assert then["set_at_unit"]["deadline_months"] == unit_tree.township.id
    past = await client.post(
        f"{township_api}/settings",
        json={"valid_from": "2020-01-01", "values": {"deadline_months": 3}},
        headers=officer.headers,
    )
    assert past.status_code == 400 and past.json()["errors"][0]["rule"] == "past"
    unknown = await client.post(
        f"{township_api}/settings",
        json={"valid_from": later.isoformat(), "values": {"fee_yuan": 10}},
        headers=officer.headers,
    )
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "values.fee_yuan"
    # Only the supervising office changes settings.
    denied = await client.post(
        f"{township_api}/settings", json=body, headers=world.director.headers
    )
    assert denied.status_code in (403, 404)


async def test_a_dispute_accepted_under_a_later_setting_gets_its_time_limit(flow, world, set_clock):
    later = clock.today() + timedelta(days=5)
    await flow.ok(
        world.officer,
        "POST",
        "/settings",
        {"valid_from": later.isoformat(), "values": {"deadline_months": 2}},
    )
    set_clock(later)
    case = await flow.accepted()
    assert case["due_on"] == clock.add_months(later, 2).isoformat()


def test_roles_and_training_modules_are_declared(platform):
    roles = {name for name in platform.policy.roles if name.startswith("mediation.")}
    assert roles == {
        "mediation.director",
        "mediation.clerk",
        "mediation.mediator",
        "mediation.collector",
        "mediation.officer",
    }
    modules = {code: m for code, m in platform.plugins.training_modules.items() if code in TRAINING}
    assert set(modules) == TRAINING
    gated = {code for code, m in modules.items() if "mediation.mediator" in m.required_roles}
    assert gated == {
        "mediation.law_essentials",
        "mediation.procedure",
        "mediation.agreement_writing",
        "mediation.discipline_privacy",
    }
    folder = platform.plugins.folder("mediation") / "training"
    assert all((folder / m.content).is_file() for m in modules.values())
    sensitive = {
        f for (table, f) in platform.plugins.sensitive_fields if table == "mediation_party"
    }
    assert sensitive == {"name", "id_no", "phone", "address"}


def test_the_committee_director_may_hold_the_role_at_any_level(platform):
    for role in ("mediation.director", "mediation.mediator", "mediation.collector"):
        assert all(platform.policy.allowed_at(role, level) for level in ("city", "village"))


def test_no_table_of_the_plugin_has_a_fee_field(platform):
    columns = {
        column.name
        for model in platform.plugins.models["mediation"]
        for column in model.__table__.columns
    }
    assert not {name for name in columns if "fee" in name or "charge" in name}


async def test_mediator_corrections_keep_the_record_whole(flow, world):
    path = f"/mediators/{world.other_mediator.id}"
    for body in ({"grade": None}, {"full_time": None}):
        response = await flow.call(world.officer, "PATCH", path, body)
        assert response.status_code == 400, response.text
    before_start = await flow.call(world.officer, "PATCH", path, {"term_end": "2023-12-31"})
    assert before_start.status_code == 400
    assert before_start.json()["errors"][0]["rule"] == "before_start"
    changed = await flow.ok(world.officer, "PATCH", path, {"grade": "chief", "term_end": None})
    assert changed["grade"] == "chief" and changed["term_end"] is None
