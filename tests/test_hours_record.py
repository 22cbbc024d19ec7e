"""The service-record certificate, the record pages, corrections through the API and pages."""

import io
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from pypdf import PdfReader
from sqlmodel import select

from core.hours.models import HoursEntry, HoursRecord
from core.jobs.models import Job, JobStatus
from core.people.models import Person
from core.security.masking import mask_name
from core.tasks.models import CheckMethod
from core.units.models import utcnow
from tests.support.hours_world import HoursWorld
from tests.support.web import post_form, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def world(platform, unit_tree):
    return HoursWorld(platform, unit_tree)


async def served(client, world, member, recorder, minutes=90, slot=120, days_ago=2):
    """A shift served and checked out, its hours confirmed by ``recorder`` through the API."""
    start = (utcnow() - timedelta(days=days_ago)).replace(microsecond=0)
    shift_id = world.shift(start, slot)
    world.assign(
        shift_id,
        member,
        checked_in_at=start,
        check_in_method=CheckMethod.qr,
        checked_out_at=start + timedelta(minutes=minutes),
        check_out_method=CheckMethod.qr,
    )
    response = await client.post(
        f"/api/v1/hours/shifts/{shift_id}/confirmation", headers=recorder.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_record_is_issued_numbered_rendered_and_verifiable(
    client, platform, world, worker, broker, accounts, unit_tree
):
    recorder = accounts("village_leader", unit_tree.village)
    certifier = accounts("township_leader", unit_tree.township)
    stranger_office = accounts("township_leader", unit_tree.other_township)
    member = world.member()
    entries = await served(client, world, member, recorder)
    assert [e["hours"] for e in entries] == ["1.5"]
    await served(client, world, member, recorder, minutes=120, days_ago=1)
    nothing = await client.post(
        f"/api/v1/units/{unit_tree.other_township.id}/hours/records",
        json={"volunteer_id": member.volunteer_id},
        headers=stranger_office.headers,
    )
    assert nothing.status_code == 409 and nothing.json()["code"] == "nothing_recorded"
    issued = await client.post(
        f"/api/v1/units/{unit_tree.township.id}/hours/records",
        json={"volunteer_id": member.volunteer_id},
        headers=certifier.headers,
    )
    assert issued.status_code == 201, issued.text
    row = issued.json()
    assert row["number"].startswith(f"JL{unit_tree.township.code}-")
    assert row["total_hours"] == "3.5" and row["entries"] == 2
    broker.join("core", fail_fast=True)
    with platform.session_factory() as session:
        job = session.exec(select(Job).where(Job.name == "core.render_hours_record")).one()
        assert job.status == JobStatus.done
        name = session.get(Person, member.person_id).name
    pdf = await client.get(f"/api/v1/hours/records/{row['id']}/pdf", headers=certifier.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().replace("\x00", "")
    issuer = "解放碑街道平安建设志愿者中队"
    for expected in ("志愿服务记录证明", row["number"], name, "3.5", issuer):
        assert expected in text, expected
    # The volunteer downloads their own; nobody else may through the volunteer's route.
    mine = await client.get("/api/v1/me/hours", headers=member.account.headers)
    assert [r["number"] for r in mine.json()["records"]] == [row["number"]]
    await sign_in(client, member.account.username, member.account.password)
    own = await client.get(f"/me/hours/records/{row['id']}/pdf")
    assert own.status_code == 200 and own.content == pdf.content
    # The public page confirms it by its token, and a wrong token finds nothing.
    query = parse_qs(urlparse(row["verify"]).query)
    page = await client.get(row["verify"])
    assert page.status_code == 200
    assert f"<dd>{mask_name(name)}</dd>" in page.text and "3.5" in page.text
    wrong = await client.get("/verify/record", params={"n": query["n"][0], "t": "A" * 16})
    assert wrong.status_code == 404


async def test_corrections_through_the_api_keep_the_original(
    client, platform, world, accounts, unit_tree
):
    recorder = accounts("village_leader", unit_tree.village)
    approver = accounts("township_leader", unit_tree.township)
    member = world.member()
    entry = (await served(client, world, member, recorder, minutes=30, slot=120))[0]
    assert entry["hours"] == "0" and "不足" in entry["reason"]
    asked = await client.post(
        f"/api/v1/me/hours/entries/{entry['id']}/corrections",
        json={"new_hours": "2.0", "reason": "带班记录显示在岗两小时"},
        headers=member.account.headers,
    )
    assert asked.status_code == 201, asked.text
    own = await client.post(
        f"/api/v1/hours/corrections/{asked.json()['id']}/decision",
        json={"approve": True},
        headers=recorder.headers,
    )
    assert own.status_code == 403  # the village leader holds no approval
    decided = await client.post(
        f"/api/v1/hours/corrections/{asked.json()['id']}/decision",
        json={"approve": True, "reason": "核实"},
        headers=approver.headers,
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    record = await client.get(
        f"/api/v1/hours/volunteers/{member.volunteer_id}", headers=approver.headers
    )
    body = record.json()
    assert body["totals"]["total"] == "2.0"
    assert [(e["kind"], e["hours"]) for e in body["entries"]] == [
        ("correction", "2.0"),
        ("service", "0.0"),
    ] or [(e["kind"], e["hours"]) for e in body["entries"]] == [
        ("service", "0.0"),
        ("correction", "2.0"),
    ]
    with platform.session_factory() as session:
        original = session.get(HoursEntry, entry["id"])
        assert original.hours == Decimal("0")


async def test_the_record_and_unit_pages(client, platform, world, accounts, unit_tree):
    recorder = accounts("village_leader", unit_tree.village)
    office = accounts("district_admin", unit_tree.district)
    member = world.member()
    entry = (await served(client, world, member, recorder))[0]
    await sign_in(client, office.username, office.password)
    unit = await client.get(f"/units/{unit_tree.district.id}/hours")
    assert unit.status_code == 200 and "1.5" in unit.text
    page = await client.get(f"/hours/volunteers/{member.volunteer_id}")
    assert page.status_code == 200 and "1.5" in page.text
    assert f'action="/hours/entries/{entry["id"]}/corrections"' in page.text
    asked = await post_form(
        client,
        f"/hours/entries/{entry['id']}/corrections",
        {"new_hours": "abc", "reason": "补记"},
        from_page=f"/hours/volunteers/{member.volunteer_id}",
    )
    assert asked.status_code == 400 and "new_hours" in asked.text
    asked = await post_form(
        client,
        f"/hours/entries/{entry['id']}/corrections",
        {"new_hours": "2", "reason": "补记半小时"},
        from_page=f"/hours/volunteers/{member.volunteer_id}",
    )
    assert asked.status_code in (200, 302, 303)
    page = await client.get(f"/hours/volunteers/{member.volunteer_id}")
    assert "待审批" in page.text
    # The requester cannot decide it: no decision form for them.
    assert "/decision" not in page.text
    issued = await post_form(
        client,
        f"/units/{unit_tree.district.id}/hours/records",
        {"volunteer_id": str(member.volunteer_id)},
        from_page=f"/hours/volunteers/{member.volunteer_id}",
    )
    assert issued.status_code in (200, 302, 303)
    with platform.session_factory() as session:
        assert session.exec(select(HoursRecord)).one().unit_id == unit_tree.district.id
    english = await client.get(f"/hours/volunteers/{member.volunteer_id}?lang=en")
    assert "Service record" in english.text


async def test_recompute_is_queued_for_the_city_office_only(client, accounts, unit_tree):
    city = accounts("city_admin", unit_tree.city)
    district = accounts("district_admin", unit_tree.district)
    refused = await client.post("/api/v1/hours/recomputation", headers=district.headers)
    assert refused.status_code == 403
    queued = await client.post("/api/v1/hours/recomputation", headers=city.headers)
    assert queued.status_code == 202 and queued.json()["job_id"]
