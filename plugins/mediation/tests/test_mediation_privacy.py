"""Who sees what of a dispute's parties: never anyone not on the case, masked for those on
it, in clear only through an audited reveal; printed documents and statistics likewise."""

import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from pypdf import PdfReader
from sqlmodel import select

from core.audit.models import AuditEntry
from plugins.mediation import clock
from plugins.mediation.models import Attachment, Committee, Dispute, Lead, Mediator
from plugins.mediation.tests.factories import (
    APPLICANT_ID,
    APPLICANT_PHONE,
    SECRETS,
    resident_id,
)
from tests.support.web import sign_in

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SUMMARY_KEYS = {
    "id",
    "case_no",
    "category",
    "category_label",
    "status",
    "status_label",
    "unit_id",
    "unit_name",
    "restricted",
}


async def full_case(flow, set_clock) -> dict:
    """A dispute with every kind of record: sessions, investigation, evidence with a file,
    agreement, performance and a follow-up visit."""
    start = date(2032, 9, 1)
    set_clock(start)
    case = await flow.in_mediation()
    dispute_id = case["id"]
    mediator = flow.world.mediator_account
    await flow.ok(
        mediator,
        "POST",
        f"/disputes/{dispute_id}/sessions",
        {
            "held_at": f"{start.isoformat()}T09:00:00+08:00",
            "place": "社区调解室",
            "summary": "陈申请陈述楼上漏水经过，刘被申承认水管老化",
            "attendee_party_ids": [p["id"] for p in case["parties"]],
        },
    )
    await flow.ok(
        mediator,
        "POST",
        f"/disputes/{dispute_id}/investigations",
        {"conducted_on": start.isoformat(), "findings": "现场查看，刘被申家卫生间水管破裂"},
    )
    upload = await flow.client.post(
        f"{flow.base}/disputes/{dispute_id}/attachments",
        files={"file": ("漏水照片.png", PNG, "image/png")},
        data={"purpose": "evidence", "description": "陈申请家天花板照片"},
        headers=mediator.headers,
    )
    assert upload.status_code == 201, upload.text
    attachment_id = upload.json()["attachments"][0]["id"]
    await flow.ok(
        mediator,
        "POST",
        f"/disputes/{dispute_id}/evidence",
        {
            "description": "陈申请提供的照片",
            "source": "申请人提供",
            "collected_on": start.isoformat(),
            "attachment_id": attachment_id,
        },
    )
    applicant, respondent = (p["id"] for p in case["parties"])
    await flow.ok(
        mediator,
        "PUT",
        f"/disputes/{dispute_id}/agreement",
        {
            "form": "written",
            "facts": "刘被申家水管老化漏水",
            "content": "刘被申赔偿陈申请维修费两千元",
            "agreed_on": start.isoformat(),
            "terms": [
                {
                    "obligor_party_id": respondent,
                    "obligee_party_id": applicant,
                    "content": "支付维修费",
                    "amount_fen": 200000,
                    "due_on": (start + timedelta(days=10)).isoformat(),
                }
            ],
        },
    )
    for party in case["parties"]:
        await flow.ok(
            mediator,
            "POST",
            f"/disputes/{dispute_id}/agreement/signatures",
            {"party_id": party["id"], "signed_on": start.isoformat()},
        )
    await flow.ok(mediator, "POST", f"/disputes/{dispute_id}/agreement/mediator-signature", {})
    await flow.ok(flow.world.director, "POST", f"/disputes/{dispute_id}/agreement/seal", {})
    case = await flow.ok(mediator, "POST", f"/disputes/{dispute_id}/agreement-reached", {})
    await flow.ok(
        mediator,
        "POST",
        f"/disputes/{dispute_id}/follow-ups",
        {
            "visited_on": start.isoformat(),
            "performance_ok": True,
            "satisfaction": "satisfied",
            "note": "陈申请表示满意",
        },
    )
    await flow.ok(
        flow.world.collector,
        "POST",
        "/leads",
        {"place": "民族路20号", "description": "两户因停车位争吵", "risk_level": "yellow"},
    )
    return case


def mediation_get_routes(app) -> list[tuple[str, tuple[str, ...]]]:
    """Every GET route the plugin adds, API and pages."""
    found = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("owner") == "mediation" and "GET" in handler.http_methods:
                found.add((route.path, tuple(route.path_parameters)))
    return sorted(found)


def urls(platform, world, path: str, parameters: tuple[str, ...]) -> list[str]:
    """The path with the village's id and every real id of each other parameter."""
    with platform.session_factory() as session:
        ids = {
            "dispute_id": list(session.exec(select(Dispute.id)).all()),
            "attachment_id": list(session.exec(select(Attachment.id)).all()),
            "committee_id": list(session.exec(select(Committee.id)).all()),
            "mediator_id": list(session.exec(select(Mediator.id)).all()),
            "lead_id": list(session.exec(select(Lead.id)).all()),
        }
    filled = [path.replace("{unit_id:int}", str(world.unit.id))]
    for name in parameters:
        if name == "unit_id":
            continue
        assert name in ids, f"GET {path}: no ids for {name}"
        filled = [
            re.sub(r"\{" + name + r"(?::\w+)?\}", str(value), url)
            for url in filled
            for value in ids[name]
        ]
    return filled


async def test_a_volunteer_not_on_the_case_sees_number_category_and_status_only(
    flow, app, platform, set_clock
):
    case = await full_case(flow, set_clock)
    # Those on the case see the parties (masked) and the records.
    mine = await flow.ok(flow.world.mediator_account, "GET", f"/disputes/{case['id']}")
    assert {p["name"] for p in mine["parties"]} == {"陈申请", "刘被申"}
    assert mine["parties"][0]["id_no"] == APPLICANT_ID[:3] + "*" * 11 + APPLICANT_ID[-4:]
    assert mine["sessions"] and mine["evidence"] and mine["agreement"]["terms"]

    routes = mediation_get_routes(app)
    assert len(routes) >= 12
    for account in (flow.world.other_mediator_account, flow.world.collector):
        shown = await flow.ok(account, "GET", f"/disputes/{case['id']}")
        assert set(shown) == SUMMARY_KEYS and shown["restricted"] is True
        listed = await flow.ok(account, "GET", "/disputes")
        assert all(row["restricted"] and row["risk_level"] is None for row in listed)
        flow.client.cookies.clear()
        await sign_in(flow.client, account.username, account.password)
        checked = 0
        for path, parameters in routes:
            for url in urls(platform, flow.world, path, parameters):
                page = not url.startswith("/api/")
                response = await flow.client.get(
                    url,
                    headers={"accept": "text/html"} if page else account.headers,
                    follow_redirects=False,
                )
                assert response.status_code < 500, (url, response.text[:300])
                body = response.text
                leaked = [secret for secret in SECRETS if secret in body]
                assert not leaked, f"{account.username} GET {url}: {leaked}"
                checked += 1
        assert checked >= len(routes)


async def test_files_of_a_case_only_for_those_on_it_and_each_read_audited(
    flow, platform, set_clock
):
    case = await full_case(flow, set_clock)
    with platform.session_factory() as session:
        attachment_id = session.exec(select(Attachment.id)).first()
    path = f"/disputes/{case['id']}/attachments/{attachment_id}"
    denied = await flow.call(flow.world.other_mediator_account, "GET", path)
    assert denied.status_code == 403 and denied.json()["code"] == "not_assigned"
    got = await flow.call(flow.world.mediator_account, "GET", path)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["cache-control"] == "no-store"
    with platform.session_factory() as session:
        reads = session.exec(
            select(AuditEntry).where(
                AuditEntry.event == "read", AuditEntry.object_type == "mediation_attachment"
            )
        ).all()
    assert [entry.user_id for entry in reads] == [flow.world.mediator_account.user_id]
    # Not a PDF, JPEG or PNG by its content: refused whatever its name.
    fake = await flow.client.post(
        f"{flow.base}/disputes/{case['id']}/attachments",
        files={"file": ("证据.png", b"MZ\x90\x00 not an image", "image/png")},
        data={"purpose": "evidence"},
        headers=flow.world.mediator_account.headers,
    )
    assert fake.status_code == 400 and fake.json()["errors"][0]["rule"] == "file_type"
    odd = await flow.client.post(
        f"{flow.base}/disputes/{case['id']}/attachments",
        files={"file": ("证据.png", PNG, "image/png")},
        data={"purpose": "whatever"},
        headers=flow.world.mediator_account.headers,
    )
    assert odd.status_code == 400 and odd.json()["errors"][0]["field"] == "purpose"


async def test_reveal_is_the_only_way_to_clear_identity_and_is_audited(flow, platform):
    case = await flow.registered()
    applicant = case["parties"][0]["id"]
    path = f"/disputes/{case['id']}/parties/{applicant}/reveal"
    body = {"fields": ["id_no", "phone"], "reason": "核实申请人身份"}
    assert (await flow.call(flow.world.mediator_account, "POST", path, body)).status_code == 403
    assert (await flow.call(flow.world.clerk, "POST", path, body)).status_code == 403
    missing_reason = await flow.call(flow.world.director, "POST", path, {"fields": ["id_no"]})
    assert missing_reason.status_code == 400
    shown = await flow.ok(flow.world.director, "POST", path, body)
    assert shown == {"id": applicant, "values": {"id_no": APPLICANT_ID, "phone": APPLICANT_PHONE}}
    with platform.session_factory() as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.event == "reveal")).all()
    assert [(e.reason, e.object_type, e.action) for e in entries] == [
        ("核实申请人身份", "mediation_party", "mediation.party.reveal")
    ]
    # The trail itself keeps the registration masked.
    with platform.session_factory() as session:
        trail = " ".join(str(e.after) for e in session.exec(select(AuditEntry)).all() if e.after)
    assert APPLICANT_ID not in trail and APPLICANT_PHONE not in trail and "陈申请" not in trail


async def test_a_minors_name_is_cut_to_the_surname_except_for_who_may_reveal(flow):
    case = await flow.in_mediation()
    minor = await flow.ok(
        flow.world.mediator_account,
        "POST",
        f"/disputes/{case['id']}/parties",
        {"role": "third_party", "name": "陈小明", "id_no": _minor_id()},
    )
    child = next(p for p in minor["parties"] if p["role"] == "third_party")
    assert child["is_minor"] is True and child["name"] == "陈**"
    for_director = await flow.ok(flow.world.director, "GET", f"/disputes/{case['id']}")
    assert "陈小明" in {p["name"] for p in for_director["parties"]}


def _minor_id() -> str:
    born = clock.today().replace(year=clock.today().year - 10, day=1)
    return resident_id(born.strftime("%Y%m%d"), "246")


def pdf_text(content: bytes) -> str:
    """The text of a PDF (the embedded font's extraction pads characters with NULs)."""
    pages = PdfReader(io.BytesIO(content)).pages
    return "".join(page.extract_text() for page in pages).replace("\x00", "")


async def test_printed_documents_need_details_and_are_audited(flow, platform, set_clock):
    case = await full_case(flow, set_clock)
    path = f"/disputes/{case['id']}/documents"
    body = {"kind": "agreement", "reason": "交当事人各执一份"}
    denied = await flow.call(flow.world.other_mediator_account, "POST", path, body)
    assert denied.status_code == 403
    printed = await flow.call(flow.world.mediator_account, "POST", path, body)
    assert printed.status_code == 200 and printed.headers["content-type"] == "application/pdf"
    text = pdf_text(printed.content)
    assert case["case_no"] in text and "人民调解协议书" in text
    assert "陈申请" in text and "支付维修费" in text
    assert APPLICANT_ID not in text  # masked for a mediator who may not reveal
    by_director = await flow.call(flow.world.director, "POST", path, body)
    director_text = pdf_text(by_director.content)
    assert APPLICANT_ID in director_text
    notice = await flow.call(
        flow.world.mediator_account,
        "POST",
        path,
        {"kind": "rights_notice", "party_id": case["parties"][0]["id"], "reason": "送达告知书"},
    )
    notice_text = pdf_text(notice.content)
    assert "人民调解权利义务告知书" in notice_text and "不收取任何费用" in notice_text
    with platform.session_factory() as session:
        exports = session.exec(
            select(AuditEntry).where(AuditEntry.event == "export").order_by(AuditEntry.id)
        ).all()
    assert [e.reason for e in exports] == ["交当事人各执一份", "交当事人各执一份", "送达告知书"]


async def test_statistics_hold_counts_and_never_a_party(flow, platform, set_clock):
    case = await full_case(flow, set_clock)
    stats = await flow.ok(flow.world.director, "GET", "/statistics?period=2032-09")
    assert stats["totals"]["registered"] == 1 and stats["totals"]["agreement_written"] == 1
    assert stats["totals"]["success_rate"] == 1.0
    assert stats["totals"]["by_category"] == {"neighbour": 1}
    assert stats["committees"][0]["figures"]["registered"] == 1
    quarter = await flow.ok(flow.world.director, "GET", "/statistics?period=2032Q3")
    assert quarter["totals"]["registered"] == 1 and quarter["start"] == "2032-07-01"
    bad = await flow.call(flow.world.director, "GET", "/statistics?period=2032-13")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "period"
    workbook = await flow.call(flow.world.director, "GET", "/statistics/export?period=2032-09")
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    cells = " ".join(
        str(cell)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )
    assert "民族路社区人民调解委员会" in cells
    for text in (stats.__repr__(), quarter.__repr__(), cells):
        assert not [secret for secret in SECRETS if secret in text]
    assert case["case_no"] not in cells
