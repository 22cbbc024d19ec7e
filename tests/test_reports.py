"""Reports of clues, public opinion and hazards: submitting with photos and location, routing
to the handling unit or to the plugin that takes the category (through the event), triage
within the unit's limit and the overdue sweep, the steps by the right handlers, the reporter's
identity kept from everyone who does not handle the report, and the reporter's own view.
"""

import base64
import io
from dataclasses import dataclass
from datetime import timedelta

import anyio
import pytest
from PIL import Image
from pingan_sample.models import SampleNote
from sqlmodel import select

from core.accounts.models import User
from core.audit.models import AuditEntry
from core.contributions import Label, ReportCategory
from core.files.models import StoredFile
from core.hookspecs import hookimpl
from core.jobs.runtime import JobContext
from core.notifications.models import Notification
from core.people.identity import check_digit
from core.people.services import PersonDetails, create_person
from core.platform import build_platform
from core.plugins import PluginMeta, Plugins, StartupError
from core.reports import services
from core.reports.config import HANDLING_LEVEL, TRIAGE_HOURS
from core.reports.jobs import sweep_report_triage
from core.reports.models import Report, ReportStatus, ReportStep
from core.unitconfig.services import local_today, set_setting
from core.units.models import Unit, utcnow
from core.units.services import set_plugin_enabled
from core.volunteers.services import enroll
from tests.support.web import csrf_token, post_form, sign_in

pytestmark = pytest.mark.anyio

REPORTER_NAME = "林报国"
REPORTER_PHONE = "13987654321"
MASKED_NAME = "林*国"


def jpeg(width: int = 40, height: int = 30, *, orientation: int | None = None) -> bytes:
    """A small JPEG whose EXIF names the phone, its owner and (with ``orientation``) a turn."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "Huawei"  # Make
    exif[0x0110] = "P60 Pro"  # Model
    exif[0x013B] = "林报国"  # Artist: the owner's name
    if orientation:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def photo(name: str, content: bytes) -> dict:
    return {"name": name, "content_base64": base64.b64encode(content).decode()}


def report_body(**overrides) -> dict:
    body = {
        "category": "clue",
        "title": "可疑人员撬车",
        "body": "民族路 12 号附近有人夜间撬电动车锁，已连续三晚。",
        "location": "民族路 12 号",
        "latitude": 29.557123,
        "longitude": 106.577456,
    }
    body.update(overrides)
    return body


# -- the cast --------------------------------------------------------------------------------


@dataclass
class Cast:
    """The unit tree, a volunteer who reports from the village, and the leaders around."""

    tree: object
    reporter: object
    person_id: int
    people: dict[str, object]

    def __getitem__(self, name: str):
        return self.people[name]


@pytest.fixture
def cast(platform, unit_tree, accounts) -> Cast:
    reporter = accounts("volunteer", unit_tree.village, username="lin-baoguo")
    with platform.session_factory() as session:
        village = session.get(Unit, unit_tree.village.id)
        first17 = "50010319800101123"
        person = create_person(
            session,
            platform.keyring,
            village,
            PersonDetails(
                name=REPORTER_NAME, id_number=first17 + check_digit(first17), phone=REPORTER_PHONE
            ),
        )
        enroll(session, person, village)
        user = session.get(User, reporter.user_id)
        user.person_id = person.id
        session.add(user)
        session.commit()
        person_id = person.id
    tree = unit_tree
    people = {
        "reporter": reporter,
        "other_volunteer": accounts("volunteer", tree.village, username="neighbour"),
        "village": accounts("village_leader", tree.village),
        "other_village": accounts("village_leader", tree.other_village),
        "township": accounts("township_leader", tree.township),
        "other_township": accounts("township_leader", tree.other_township),
        "district": accounts("district_admin", tree.district),
        "other_district": accounts("district_admin", tree.other_district),
        "city": accounts("city_admin", tree.city),
        "auditor": accounts("auditor", tree.city),
    }
    return Cast(tree, reporter, person_id, people)


async def submit(client, cast: Cast, unit=None, account=None, **overrides):
    unit = unit or cast.tree.village
    account = account or cast.reporter
    response = await client.post(
        f"/api/v1/units/{unit.id}/reports", json=report_body(**overrides), headers=account.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def stored(platform, report_id: int) -> Report:
    with platform.session_factory() as session:
        return session.get(Report, report_id)


async def drain(broker) -> None:
    await anyio.to_thread.run_sync(lambda: broker.join("core", fail_fast=True))


def inbox(platform, user_id: int) -> list[Notification]:
    with platform.session_factory() as session:
        return list(
            session.exec(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            )
        )


# -- submitting ------------------------------------------------------------------------------


async def test_report_goes_to_the_township_with_its_photo_stripped_of_metadata(
    client, platform, cast
):
    before = utcnow()
    mine = await submit(
        client,
        cast,
        photos=[photo("IMG_0001.JPG", jpeg(40, 30, orientation=6)), photo("map.png", png())],
    )
    assert mine["status"] == "submitted" and mine["category"] == "clue"
    assert mine["history"][0]["to_status"] == "submitted"
    report = stored(platform, mine["id"])
    tree = cast.tree
    assert (report.origin_unit_id, report.unit_id) == (tree.village.id, tree.township.id)
    assert report.origin_unit_path == tree.village.path and report.unit_path == tree.township.path
    assert report.reporter_user_id == cast.reporter.user_id
    assert report.reporter_person_id == cast.person_id
    assert report.location == "民族路 12 号" and float(report.latitude) == 29.557123
    assert report.routed_to_plugin is None
    due = report.triage_due_at - report.submitted_at
    assert due == timedelta(hours=24) and report.submitted_at >= before
    with platform.session_factory() as session:
        files = [session.get(StoredFile, file_id) for file_id in report.photo_file_ids]
    assert [f.name for f in files] == [f"report-{report.id}-1.jpg", f"report-{report.id}-2.png"]
    assert [f.media_type for f in files] == ["image/jpeg", "image/png"]
    assert all(f.created_by_id is None for f in files)  # the file does not name the reporter
    with Image.open(io.BytesIO(files[0].content)) as cleaned:
        assert cleaned.format == "JPEG"
        assert cleaned.size == (30, 40)  # the EXIF orientation was applied, then dropped
        assert dict(cleaned.getexif()) == {}
    assert b"Huawei" not in files[0].content and "林报国".encode() not in files[0].content

    township = cast["township"]
    shown = await client.get(f"/api/v1/reports/{report.id}/photos/0", headers=township.headers)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert shown.content == files[0].content
    missing = await client.get(f"/api/v1/reports/{report.id}/photos/2", headers=township.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("photos", "field", "rule"),
    [
        ([photo("a.gif", png())], "photos.0", "extension"),
        ([photo("a.jpg", png())], "photos.0", "type"),  # a PNG named .jpg
        (
            [photo("ok.png", png()), photo("b.jpg", b"not an image at all")],
            "photos.1",
            "unreadable",
        ),
        ([photo(f"p{n}.png", png()) for n in range(5)], "photos", "too_long"),
    ],
    ids=["extension", "content-mismatch", "unreadable", "too-many"],
)
async def test_report_photos_are_checked_and_refusals_name_the_photo(
    client, platform, cast, photos, field, rule
):
    response = await client.post(
        f"/api/v1/units/{cast.tree.village.id}/reports",
        json=report_body(photos=photos),
        headers=cast.reporter.headers,
    )
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert (field, rule) in {(e["field"], e["rule"]) for e in errors}, errors
    with platform.session_factory() as session:
        assert session.exec(select(Report)).all() == []  # nothing half-written
        assert session.exec(select(StoredFile)).all() == []


async def test_report_input_is_checked_field_by_field(client, cast):
    url = f"/api/v1/units/{cast.tree.village.id}/reports"
    headers = cast.reporter.headers
    cases = [
        (report_body(category="rumour"), ("category", "unknown")),
        (report_body(latitude=None), ("latitude", "pair")),
        (report_body(latitude=91), ("latitude", "less_than_equal")),
        (report_body(body=""), ("body", "too_short")),
        (report_body(photos=[{"name": "a.jpg", "content_base64": "***"}]), None),
    ]
    for body, expected in cases:
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 400, (body, response.text)
        errors = {(e["field"], e["rule"]) for e in response.json()["errors"]}
        if expected:
            assert expected in errors, errors
        else:
            assert any(field.startswith("photos.0.content_base64") for field, _ in errors), errors


async def test_reporting_needs_the_submit_action_at_the_unit(client, cast):
    tree = cast.tree
    # A volunteer reports where they serve, not in another township.
    elsewhere = await client.post(
        f"/api/v1/units/{tree.other_village.id}/reports",
        json=report_body(),
        headers=cast.reporter.headers,
    )
    assert elsewhere.status_code == 404
    auditor = await client.post(
        f"/api/v1/units/{tree.village.id}/reports",
        json=report_body(),
        headers=cast["auditor"].headers,
    )
    assert auditor.status_code == 403


async def test_triage_limit_and_handling_level_follow_the_units_settings(client, platform, cast):
    tree = cast.tree
    today = local_today()
    with platform.session_factory() as session:
        district = session.get(Unit, tree.district.id)
        township = session.get(Unit, tree.township.id)
        set_setting(session, district, TRIAGE_HOURS, 48, today, user_id=None)
        set_setting(session, township, TRIAGE_HOURS, 6, today + timedelta(days=3), user_id=None)
        session.commit()
    first = stored(platform, (await submit(client, cast))["id"])
    assert first.unit_id == tree.township.id
    assert first.triage_due_at - first.submitted_at == timedelta(hours=48)  # the district's

    with platform.session_factory() as session:
        village = session.get(Unit, tree.village.id)
        set_setting(session, village, HANDLING_LEVEL, "district", today, user_id=None)
        session.commit()
    second = stored(platform, (await submit(client, cast))["id"])
    assert (second.unit_id, second.origin_unit_id) == (tree.district.id, tree.village.id)
    # A leader's report from the township itself, and a report at the city: handled there.
    own = await submit(client, cast, unit=tree.township, account=cast["township"])
    assert stored(platform, own["id"]).unit_id == tree.township.id
    top = await submit(client, cast, unit=tree.city, account=cast["city"])
    assert stored(platform, top["id"]).unit_id == tree.city.id


# -- routing to the plugin that takes the category -------------------------------------------


def sample_notes(platform, unit_id: int) -> list[str]:
    with platform.session_factory() as session:
        return list(
            session.exec(
                select(SampleNote.text).where(SampleNote.unit_id == unit_id).order_by(SampleNote.id)
            )
        )


@pytest.mark.plugins("sample")
async def test_hook_register_report_categories_routes_the_samples_category_through_the_event(
    client, platform, cast
):
    tree = cast.tree
    assert platform.plugins.report_categories["sample.litter"].label == Label("乱扔垃圾", "Litter")
    assert platform.plugins.report_category_takers == {"sample.litter": "sample"}
    with platform.session_factory() as session:
        set_plugin_enabled(session, tree.township, "sample", True, changed_by="test")
        session.commit()
    villages_notes = sample_notes(platform, tree.village.id)

    litter = await submit(client, cast, category="sample.litter", title="河边堆垃圾")
    assert litter["category_label"] == "乱扔垃圾"
    report = stored(platform, litter["id"])
    assert report.routed_to_plugin == "sample"
    assert report.unit_id == tree.township.id  # the office still triages and answers it
    # The plugin heard of it in the submitting transaction, at the reporter's unit.
    assert sample_notes(platform, tree.village.id) == [
        *villages_notes,
        "event core.report.submitted",
    ]
    # A category nobody takes is not routed; an enabled plugin still hears of it.
    clue = stored(platform, (await submit(client, cast))["id"])
    assert clue.routed_to_plugin is None
    assert sample_notes(platform, tree.village.id)[-2:] == ["event core.report.submitted"] * 2
    handler = await client.get(f"/api/v1/reports/{report.id}", headers=cast["township"].headers)
    assert handler.json()["routed_to_plugin"] == "sample"

    # Where the plugin is off, the same category stays with the office and nobody is told.
    with platform.session_factory() as session:
        set_plugin_enabled(session, tree.township, "sample", False, changed_by="test")
        session.commit()
    before = sample_notes(platform, tree.village.id)
    quiet = stored(platform, (await submit(client, cast, category="sample.litter"))["id"])
    assert quiet.routed_to_plugin is None
    assert sample_notes(platform, tree.village.id) == before


class LeadPlugin:
    """An inline plugin that takes core's disputes and records each event it hears."""

    META = PluginMeta(name="leads", label=Label("调解线索", "Leads"), version="1.0")

    def __init__(self) -> None:
        self.events = []

    @hookimpl
    def register_report_categories(self):
        return [ReportCategory("dispute")]

    @hookimpl
    def handle_event(self, event, session):
        report = session.get(Report, event.payload["report_id"])
        self.events.append((event.name, event.unit_id, event.payload, report.routed_to_plugin))


@pytest.mark.plugins()
async def test_hook_register_report_categories_a_plugin_takes_a_core_category(
    pm, settings, unit_tree, accounts, request
):
    leads = LeadPlugin()
    pm.register(leads, name="leads")
    platform = build_platform(settings, pm)
    request.addfinalizer(platform.engine.dispose)
    assert platform.plugins.report_category_takers == {"dispute": "leads"}
    assert platform.plugins.report_categories["dispute"].label == Label("矛盾纠纷", "Dispute")
    user = accounts("volunteer", unit_tree.village, username="disputant")
    principal = _principal(platform, user.user_id)
    with platform.session_factory() as session:
        village = session.get(Unit, unit_tree.village.id)
        set_plugin_enabled(session, village, "leads", True, changed_by="test")
        dispute = services.submit(
            session,
            platform,
            principal,
            village,
            services.ReportInput(category="dispute", body="邻居装修噪音纠纷"),
            [],
        )
        clue = services.submit(
            session,
            platform,
            principal,
            village,
            services.ReportInput(category="clue", body="可疑人员"),
            [],
        )
        session.commit()
    assert dispute.routed_to_plugin == "leads" and clue.routed_to_plugin is None
    village_id = unit_tree.village.id
    assert leads.events == [
        (
            "core.report.submitted",
            village_id,
            {"report_id": dispute.id, "category": "dispute"},
            "leads",
        ),
        ("core.report.submitted", village_id, {"report_id": clue.id, "category": "clue"}, None),
    ]


def _principal(platform, user_id: int):
    from core.accounts.services import principal_for

    with platform.session_factory() as session:
        return principal_for(session, session.get(User, user_id), platform.policy, "token")


def _taking(name: str, *categories: ReportCategory):
    class Taker:
        META = PluginMeta(name=name, label=Label(name, name), version="1.0")

        @hookimpl
        def register_report_categories(self):
            return list(categories)

    return Taker()


@pytest.mark.plugins()
@pytest.mark.parametrize(
    ("plugins", "message"),
    [
        ([("one", ReportCategory("rumour"))], "takes unknown report category 'rumour'"),
        ([("one", ReportCategory("two.noise", Label("噪音", "Noise")))], "must be one.<name>"),
        ([("one", ReportCategory("one.Noise!", Label("噪音", "Noise")))], "must be one.<name>"),
        (
            [("one", ReportCategory("hazard")), ("two", ReportCategory("hazard"))],
            "already taken by",
        ),
        (
            [
                ("one", ReportCategory("one.noise", Label("噪音", "Noise"))),
                ("two", ReportCategory("one.noise")),
            ],
            "takes unknown report category 'one.noise'",
        ),
    ],
    ids=["unknown", "foreign-prefix", "bad-name", "two-takers", "another-plugins-category"],
)
def test_hook_register_report_categories_refuses_ambiguous_or_bad_categories(pm, plugins, message):
    for name, category in plugins:
        pm.register(_taking(name, category), name=name)
    with pytest.raises(StartupError, match=message.replace(".", r"\.").replace("<", "<")):
        Plugins(pm).validate()


# -- handling ---------------------------------------------------------------------------------


async def step(client, account, report_id: int, name: str, body: dict | None = None):
    return await client.post(
        f"/api/v1/reports/{report_id}/{name}", json=body or {}, headers=account.headers
    )


async def test_each_step_is_taken_by_a_handler_whose_grant_reaches_the_handling_unit(
    client, platform, cast
):
    report_id = (await submit(client, cast))["id"]
    # Out of reach: invisible. A reader below the handling unit: the action is not theirs.
    for outsider in ("other_township", "other_district", "other_village"):
        response = await step(client, cast[outsider], report_id, "triage")
        assert response.status_code in (403, 404), outsider
        assert response.status_code == (403 if outsider == "other_village" else 404), outsider
    village = await step(client, cast["village"], report_id, "triage")
    assert village.status_code == 403  # reads it, does not handle it
    reporter = await step(client, cast.reporter, report_id, "triage")
    assert reporter.status_code == 403

    # Steps out of order are refused, saying why.
    early = await step(client, cast["township"], report_id, "closure", {"feedback": "已处理"})
    assert early.status_code == 409 and early.json()["code"] == "wrong_status"
    assert "待分拣" in early.json()["message"] or "submitted" in early.json()["message"]

    triaged = await step(client, cast["township"], report_id, "triage", {"note": "内部：线索属实"})
    assert triaged.status_code == 200, triaged.text
    assert triaged.json()["status"] == "triaged"
    assert set(triaged.json()["allowed_steps"]) == {"refer", "handle", "close"}
    missing = await step(client, cast["township"], report_id, "referral", {"referred_to": " "})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "referred_to"
    referred = await step(
        client, cast["township"], report_id, "referral", {"referred_to": "解放碑派出所"}
    )
    assert referred.json()["status"] == "referred"
    assert referred.json()["referred_to"] == "解放碑派出所"
    # An office above the handling unit may step in.
    no_feedback = await step(client, cast["district"], report_id, "closure", {"feedback": ""})
    assert no_feedback.status_code == 400
    closed = await step(
        client,
        cast["district"],
        report_id,
        "closure",
        {"feedback": "派出所已布控，嫌疑人已被查获，感谢你的报告。", "note": "内部：已结案"},
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "closed" and body["allowed_steps"] == []
    assert [s["to_status"] for s in body["steps"]] == [
        "submitted",
        "triaged",
        "referred",
        "closed",
    ]
    assert body["steps"][0]["by"] is None  # the submission names nobody
    assert [s["note"] for s in body["steps"]] == [None, "内部：线索属实", None, "内部：已结案"]
    again = await step(client, cast["township"], report_id, "triage")
    assert again.status_code == 409


async def test_a_leader_who_reads_but_does_not_reach_the_handling_unit_is_told_where_it_is(
    client, platform, cast
):
    tree = cast.tree
    with platform.session_factory() as session:
        village = session.get(Unit, tree.village.id)
        set_setting(session, village, HANDLING_LEVEL, "district", local_today(), user_id=None)
        session.commit()
    report_id = (await submit(client, cast))["id"]
    seen = await client.get(f"/api/v1/reports/{report_id}", headers=cast["township"].headers)
    assert seen.status_code == 200 and seen.json()["allowed_steps"] == []
    assert seen.json()["reporter"] is None  # not a handler of this report
    refused = await step(client, cast["township"], report_id, "triage")
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_handler"
    assert tree.district.name in refused.json()["message"]
    assert refused.json()["errors"] == [
        {"field": "unit", "rule": "not_handler", "message": tree.district.name}
    ]
    assert (await step(client, cast["district"], report_id, "triage")).status_code == 200


# -- the reporter's identity -----------------------------------------------------------------


SUSPECT_TEXT = "对方手机13811112222，身份证号50010319800101123X，自称快递员"


async def test_the_reporter_is_shown_only_to_handlers_and_revealed_with_an_audited_reason(
    client, platform, cast
):
    report_id = (await submit(client, cast, body=SUSPECT_TEXT))["id"]
    tree = cast.tree
    secrets = (REPORTER_NAME, REPORTER_PHONE, "lin-baoguo")
    for who in ("village", "auditor", "other_volunteer"):
        for url in (
            f"/api/v1/units/{tree.village.id}/reports",
            f"/api/v1/reports/{report_id}",
            "/api/v1/reports/mine",
        ):
            response = await client.get(url, headers=cast[who].headers)
            assert not any(secret in response.text for secret in secrets), (who, url)
            assert MASKED_NAME not in response.text, (who, url)
    reader = await client.get(f"/api/v1/reports/{report_id}", headers=cast["village"].headers)
    assert reader.status_code == 200 and reader.json()["reporter"] is None
    # Numbers written into the text leave masked, for readers and handlers alike.
    assert reader.json()["body"] == "对方手机138****2222，身份证号500***********123X，自称快递员"

    for who in ("township", "district", "city"):
        listed = await client.get(
            f"/api/v1/units/{tree.township.id}/reports", headers=cast[who].headers
        )
        assert [row["reporter"] for row in listed.json()] == [{"name": MASKED_NAME}]
        assert REPORTER_NAME not in listed.text and REPORTER_PHONE not in listed.text
        assert "13811112222" not in listed.text and "138****2222" in listed.text

    def reveals():
        with platform.session_factory() as session:
            return session.exec(
                select(AuditEntry).where(AuditEntry.event == "reveal").order_by(AuditEntry.id)
            ).all()

    refused = await client.post(
        f"/api/v1/reports/{report_id}/reporter",
        json={"reason": "想知道是谁"},
        headers=cast["village"].headers,
    )
    assert refused.status_code == 403 and reveals() == []
    no_reason = await client.post(
        f"/api/v1/reports/{report_id}/reporter", json={}, headers=cast["township"].headers
    )
    assert no_reason.status_code == 400 and reveals() == []
    revealed = await client.post(
        f"/api/v1/reports/{report_id}/reporter",
        json={"reason": "需向报告人核实案发时间"},
        headers=cast["township"].headers,
    )
    assert revealed.status_code == 200, revealed.text
    assert revealed.json() == {
        "report_id": report_id,
        "name": REPORTER_NAME,
        "phone": REPORTER_PHONE,
        "volunteer_number": revealed.json()["volunteer_number"],
        "unit_name": tree.village.name,
        "username": "lin-baoguo",
        "title": "可疑人员撬车",
        "body": SUSPECT_TEXT,
    }
    assert revealed.json()["volunteer_number"]
    (entry,) = reveals()
    assert (entry.object_type, entry.object_id) == ("report", str(report_id))
    assert entry.action == "core.report.reveal" and entry.reason == "需向报告人核实案发时间"
    assert entry.user_id == cast["township"].user_id

    # The audit trail keeps the report's reporter masked, like any sensitive field.
    with platform.session_factory() as session:
        insert = session.exec(
            select(AuditEntry).where(
                AuditEntry.object_type == "report", AuditEntry.event == "insert"
            )
        ).one()
    assert insert.after["reporter_user_id"] == "******"
    assert insert.after["reporter_person_id"] == "******"
    assert insert.after["body"] == "******"


async def test_report_pages_keep_the_reporter_from_readers(client, platform, cast):
    report_id = (await submit(client, cast))["id"]
    await sign_in(client, cast["village"].username, cast["village"].password)
    page = await client.get(f"/reports/{report_id}")
    assert page.status_code == 200 and "可疑人员撬车" in page.text
    assert REPORTER_NAME not in page.text and MASKED_NAME not in page.text
    assert f"/reports/{report_id}/reporter" not in page.text  # no reveal form
    assert f"/reports/{report_id}/triage" not in page.text  # no step forms
    queue = await client.get(f"/units/{cast.tree.village.id}/reports/")
    assert queue.status_code == 200 and "可疑人员撬车" in queue.text
    assert REPORTER_NAME not in queue.text

    client.cookies.clear()
    township = cast["township"]
    await sign_in(client, township.username, township.password)
    page = await client.get(f"/reports/{report_id}")
    assert MASKED_NAME in page.text and REPORTER_NAME not in page.text
    token = csrf_token(page.text)
    short = await client.post(
        f"/reports/{report_id}/reporter", data={"reason": "看", "_csrf_token": token}
    )
    assert short.status_code == 400 and 'data-code="validation_failed"' in short.text
    assert REPORTER_NAME not in short.text
    shown = await client.post(
        f"/reports/{report_id}/reporter", data={"reason": "核实线索细节", "_csrf_token": token}
    )
    assert shown.status_code == 200
    assert REPORTER_NAME in shown.text and REPORTER_PHONE in shown.text
    assert shown.headers["cache-control"] == "no-store"
    triaged = await post_form(
        client,
        f"/reports/{report_id}/triage",
        {"note": "内部备注甲"},
        from_page=f"/reports/{report_id}",
    )
    assert triaged.status_code == 200 and "内部备注甲" in triaged.text  # after the redirect
    assert stored(platform, report_id).status == ReportStatus.triaged
    wrong = await post_form(
        client, f"/reports/{report_id}/triage", {}, from_page=f"/reports/{report_id}"
    )
    assert wrong.status_code == 409 and 'data-code="wrong_status"' in wrong.text


# -- the reporter's view ---------------------------------------------------------------------


async def test_the_reporter_follows_status_and_feedback_but_never_the_notes(
    client, platform, broker, cast
):
    report_id = (await submit(client, cast))["id"]
    township = cast["township"]
    await step(client, township, report_id, "triage", {"note": "内部：疑似团伙作案"})
    await step(client, township, report_id, "handling", {"note": "内部：安排巡逻蹲守"})
    await step(
        client,
        township,
        report_id,
        "closure",
        {"feedback": "已加强巡逻，感谢报告。", "note": "内部：结"},
    )
    mine = await client.get("/api/v1/reports/mine", headers=cast.reporter.headers)
    assert mine.status_code == 200
    (row,) = mine.json()
    assert row["id"] == report_id and row["status"] == "closed"
    assert row["feedback"] == "已加强巡逻，感谢报告。"
    assert [h["to_status"] for h in row["history"]] == [
        "submitted",
        "triaged",
        "in_handling",
        "closed",
    ]
    assert "内部" not in mine.text and township.username not in mine.text
    others = await client.get("/api/v1/reports/mine", headers=cast["other_volunteer"].headers)
    assert others.json() == []
    # The reporter reads their own reports only through "mine".
    detail = await client.get(f"/api/v1/reports/{report_id}", headers=cast.reporter.headers)
    assert detail.status_code == 403

    await sign_in(client, cast.reporter.username, cast.reporter.password)
    page = await client.get("/reports/mine")
    assert page.status_code == 200
    assert "已加强巡逻，感谢报告。" in page.text and "已办结" in page.text
    assert "内部" not in page.text
    english = await client.get("/reports/mine?lang=en")
    assert "My reports" in english.text and "closed" in english.text

    # Each status change reached the reporter's inbox once; the handlers heard of the new one.
    await drain(broker)
    subjects = [n.subject for n in inbox(platform, cast.reporter.user_id)]
    assert len(subjects) == 3 and all("可疑人员撬车" in s for s in subjects)
    # the jobs run on worker threads, so the notices may arrive in any order
    (closed,) = [n for n in inbox(platform, cast.reporter.user_id) if "已办结" in n.subject]
    assert "已加强巡逻" in closed.body and "内部" not in closed.body
    assert closed.url == "/reports/mine"
    (new,) = inbox(platform, township.user_id)
    assert new.url == f"/reports/{report_id}" and "新报告待分拣" in new.subject
    assert REPORTER_NAME not in new.subject + new.body
    # Again: nothing twice.
    context = JobContext(None, platform.session_factory, platform.settings, platform.plugins)
    from core.reports.jobs import notify_report

    with platform.session_factory() as session:
        steps = session.exec(select(ReportStep).where(ReportStep.report_id == report_id)).all()
    assert [notify_report(report_id=report_id, step_id=s.id, context=context) for s in steps] == [
        0,
        0,
        0,
        0,
    ]


async def test_report_form_on_a_phone_sends_text_photo_and_place(client, platform, cast):
    await sign_in(client, cast.reporter.username, cast.reporter.password)
    url = f"/units/{cast.tree.village.id}/reports/new"
    form = await client.get(url)
    assert form.status_code == 200
    assert 'name="viewport"' in form.text and 'enctype="multipart/form-data"' in form.text
    assert 'accept=".jpeg,.jpg,.png,.webp"' in form.text
    english = await client.get(url + "?lang=en")
    assert "Describe what happened" in english.text

    token = csrf_token(form.text)
    bad = await client.post(
        url,
        data={"category": "clue", "body": "x", "_csrf_token": token},
        files={"photos": ("a.jpg", png(), "image/jpeg")},
    )
    assert bad.status_code == 400 and "photos.0" in bad.text
    blank = await client.post(
        url,
        data={"category": "clue", "body": "", "_csrf_token": token},
        files={"photos": ("", b"", "application/octet-stream")},  # no photo chosen
    )
    assert blank.status_code == 400 and "body" in blank.text
    sent = await client.post(
        url,
        data={
            "category": "hazard",
            "body": "小区消防通道被车辆长期占用",
            "location": "民族路小区 3 栋",
            "latitude": "29.5571",
            "longitude": "106.5774",
            "_csrf_token": token,
        },
        files=[("photos", ("door.jpg", jpeg(), "image/jpeg"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    report_id = int(sent.headers["location"].rsplit("=", 1)[1])
    report = stored(platform, report_id)
    assert report.category == "hazard" and report.title == "小区消防通道被车辆长期占用"
    assert len(report.photo_file_ids) == 1 and float(report.longitude) == 106.5774
    mine = await client.get(sent.headers["location"] + "&lang=zh")
    assert "报告已提交" in mine.text and "小区消防通道被车辆长期占用" in mine.text


# -- the overdue sweep -----------------------------------------------------------------------


async def test_overdue_triage_is_flagged_once_to_the_unit_and_the_unit_above(
    client, platform, cast
):
    late = (await submit(client, cast, title="迟迟未分拣"))["id"]
    triaged_late = (await submit(client, cast, title="已分拣"))["id"]
    fresh = (await submit(client, cast, title="刚提交"))["id"]
    await step(client, cast["township"], triaged_late, "triage")
    with platform.session_factory() as session:
        for report_id in (late, triaged_late):
            report = session.get(Report, report_id)
            report.triage_due_at = utcnow() - timedelta(hours=1)
            session.add(report)
        session.commit()
    context = JobContext(None, platform.session_factory, platform.settings, platform.plugins)
    assert sweep_report_triage(context=context) == 1
    assert sweep_report_triage(context=context) == 0  # a second run tells nobody again
    expected = {cast["township"].user_id, cast["district"].user_id}
    with platform.session_factory() as session:
        flagged = session.exec(
            select(Notification).where(Notification.dedupe_key.like("report:%:overdue:%"))
        ).all()
        assert session.get(Report, late).overdue_notified_at is not None
        assert session.get(Report, fresh).overdue_notified_at is None
        assert session.get(Report, triaged_late).overdue_notified_at is None
    assert {n.user_id for n in flagged} == expected and len(flagged) == 2
    assert all("迟迟未分拣" in n.body and n.url == f"/reports/{late}" for n in flagged)
    # Even if the stamp were lost, the dedupe keys keep each message single.
    with platform.session_factory() as session:
        report = session.get(Report, late)
        report.overdue_notified_at = None
        session.add(report)
        session.commit()
    assert sweep_report_triage(context=context) == 1
    with platform.session_factory() as session:
        again = session.exec(
            select(Notification).where(Notification.dedupe_key.like("report:%:overdue:%"))
        ).all()
    assert len(again) == 2

    overdue = await client.get(
        f"/api/v1/units/{cast.tree.township.id}/reports",
        params={"overdue": "true"},
        headers=cast["township"].headers,
    )
    assert [row["id"] for row in overdue.json()] == [late]
    assert overdue.json()[0]["overdue"] is True


async def test_the_sweep_is_scheduled_and_runs_as_a_job(platform):
    (schedule,) = [s for s in platform.plugins.schedules if s.job == "core.sweep_report_triage"]
    assert schedule.every_seconds == 900
    assert "core.sweep_report_triage" in platform.plugins.jobs


# -- menu and dashboard ----------------------------------------------------------------------


async def test_menu_entries_and_dashboard_figures(client, platform, cast):
    late = (await submit(client, cast))["id"]
    await submit(client, cast)
    with platform.session_factory() as session:
        report = session.get(Report, late)
        report.triage_due_at = utcnow() - timedelta(minutes=5)
        session.add(report)
        session.commit()
    township = cast["township"]
    await sign_in(client, township.username, township.password)
    home = await client.get(f"/units/{cast.tree.township.id}/")
    assert "待分拣报告" in home.text and "分拣超时报告" in home.text
    assert f'href="/units/{cast.tree.township.id}/reports/"' in home.text
    from core.web.navigation import dashboard

    principal = _principal(platform, township.user_id)
    other_principal = _principal(platform, cast["other_township"].user_id)
    with platform.session_factory() as session:
        unit = session.get(Unit, cast.tree.township.id)
        figures = {f.label.zh: f.value for f in dashboard(platform, session, unit, principal)}
        other = session.get(Unit, cast.tree.other_township.id)
        elsewhere = {
            f.label.zh: f.value for f in dashboard(platform, session, other, other_principal)
        }
    assert figures["待分拣报告"] == 2 and figures["分拣超时报告"] == 1
    assert elsewhere["待分拣报告"] == 0

    client.cookies.clear()
    await sign_in(client, cast.reporter.username, cast.reporter.password)
    village = await client.get(f"/units/{cast.tree.village.id}/")
    assert f'href="/units/{cast.tree.village.id}/reports/new"' in village.text
    assert 'href="/reports/mine"' in village.text
    assert f'href="/units/{cast.tree.village.id}/reports/"' not in village.text
