"""Certificates: the rendering job (PDF with an embedded Chinese font and a QR code to the
public verification page), idempotence, downloads within reach, revocation, and the public
page that shows only a masked name."""

import io
import re
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from pypdf import PdfReader
from sqlmodel import select

from core.audit.models import AuditEntry
from core.certificates import render
from core.certificates.models import CertificateRevocation
from core.certificates.services import (
    RENDER_JOB,
    certificate_content,
    issue_certificate,
    render_certificate,
    revoke_certificate,
    stored_count,
)
from core.certificates.verify import LOCAL_TIME, token_matches, verification_token
from core.files.models import StoredFile
from core.jobs.models import Job, JobStatus
from core.jobs.runtime import JobContext
from core.people.models import Person
from core.units.models import Unit
from core.volunteers.models import Volunteer, VolunteerStatus
from tests.support.web import csrf_token, sign_in

pytestmark = pytest.mark.anyio

NAME = "欧阳晓明"
MASKED = "欧**明"


def make_volunteer(platform, unit: Unit, name: str = NAME, number: str = "5001032026000001"):
    with platform.session_factory() as session:
        person = Person(unit_id=unit.id, unit_path=unit.path, name=name)
        session.add(person)
        session.flush()
        volunteer = Volunteer(
            person_id=person.id, unit_id=unit.id, unit_path=unit.path, number=number
        )
        session.add(volunteer)
        session.commit()
        return volunteer.id


def certify(platform, volunteer_id: int, city: Unit) -> str:
    """Issue the certificate (which records the render job) and commit."""
    with platform.session_factory() as session:
        volunteer = session.get(Volunteer, volunteer_id)
        number = issue_certificate(session, volunteer, session.get(Unit, city.id))
        session.commit()
        return number


def context(platform) -> JobContext:
    return JobContext(None, platform.session_factory, platform.settings, platform.plugins)


def stored_pdf(platform, number: str) -> StoredFile:
    with platform.session_factory() as session:
        return session.exec(
            select(StoredFile).where(StoredFile.name == f"certificate-{number}.pdf")
        ).one()


@pytest.fixture
def certified(platform, unit_tree, worker, broker):
    """A volunteer of the village, certified, the job run by the in-process worker."""
    volunteer_id = make_volunteer(platform, unit_tree.village)
    number = certify(platform, volunteer_id, unit_tree.city)
    broker.join("core", fail_fast=True)
    return volunteer_id, number


def qr_matrix_from_pdf(pdf: bytes) -> list[list[bool]]:
    """Read the QR code back from the page's drawing operations: the filled black rectangles
    inside the white square the code stands on."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    content = page.get_contents().get_data().decode("latin-1")
    rectangles = [
        tuple(float(v) for v in match.groups())
        for match in re.finditer(r"([\d.]+) ([\d.]+) ([\d.]+) ([\d.-]+) re f", content)
    ]
    # The white background square comes first, then the black modules.
    fills = [m.group(1) for m in re.finditer(r"([\d. ]+) rg", content)]
    assert "1.000 1.000 1.000" in fills or "1 1 1" in fills
    square = next(r for r in rectangles if abs(abs(r[2]) - abs(r[3])) < 0.01 and abs(r[2]) > 50)
    x0, y0, side = square[0], square[1], abs(square[2])
    top = y0 if square[3] > 0 else y0 + square[3]  # fpdf2 draws with a negative height
    modules = [r for r in rectangles if r is not square and x0 <= r[0] < x0 + side]
    unit = min(abs(r[3]) for r in modules)
    count = round(side / unit)
    grid = [[False] * count for _ in range(count)]
    for x, y, w, h in modules:
        row = round((y - top) / unit) if h > 0 else round((y + h - top) / unit)
        row = count - 1 - row if h < 0 else row
        first = round((x - x0) / unit)
        for column in range(first, first + round(w / unit)):
            grid[row][column] = True
    return grid


def expected_matrix(url: str) -> list[list[bool]]:
    code = segno.make_qr(url, error="m", boost_error=False)
    border = [[False] * (len(code.matrix) + 4)] * 2
    body = [[False, False, *(bool(v) for v in row), False, False] for row in code.matrix]
    return border + body + border


# -- the job -----------------------------------------------------------------------------


async def test_the_job_renders_a_pdf_with_the_number_an_embedded_font_and_a_qr_code(
    platform, unit_tree, certified
):
    volunteer_id, number = certified
    with platform.session_factory() as session:
        job = session.exec(select(Job).where(Job.name == RENDER_JOB)).one()
        assert job.status == JobStatus.done and job.result["created"] is True
    stored = stored_pdf(platform, number)
    pdf = stored.content
    assert pdf.startswith(b"%PDF-")
    assert stored.media_type == "application/pdf" and stored.size == len(pdf)
    assert stored.unit_path == unit_tree.village.path
    assert number.encode() in pdf  # in the document information, in clear
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    # pypdf puts a NUL before each character of this CMap (poppler's pdftotext does not).
    text = reader.pages[0].extract_text().replace("\x00", "")
    for expected in (
        NAME,
        number,
        "平安建设志愿者证书",
        "5001032026000001",
        "重庆市平安建设志愿者总队",
    ):
        assert expected in text, expected
    assert "渝中区解放碑街道民族路社区" in text  # the unit, named from the district down
    # The font is embedded (a subset of Noto Serif SC as CID-keyed CFF), not merely named.
    fonts = reader.pages[0]["/Resources"]["/Font"]
    (font,) = [fonts[key].get_object() for key in fonts]
    assert font["/Subtype"] == "/Type0"
    descendant = font["/DescendantFonts"][0].get_object()
    assert re.fullmatch(r"/[A-Z]{6}\+NotoSerifSC", str(descendant["/BaseFont"]))
    descriptor = descendant["/FontDescriptor"].get_object()
    assert "/FontFile3" in descriptor or "/FontFile2" in descriptor
    embedded = (descriptor.get("/FontFile3") or descriptor["/FontFile2"]).get_object()
    assert len(embedded.get_data()) > 10_000
    assert "/ToUnicode" in font  # the text can be searched and copied
    # The QR code leads to the public page of this number, with its token.
    url = f"{platform.settings.base_url}/verify?n={number}&t=" + verification_token(
        platform.secrets.secret_key, number
    )
    assert qr_matrix_from_pdf(pdf) == expected_matrix(url)
    assert verification_token(platform.secrets.secret_key, number) in text.replace("-", "")


def test_the_public_url_setting_names_the_address_links_point_to(platform, unit_tree, monkeypatch):
    from pydantic import ValidationError

    from core.settings import Settings

    configured = Settings(_env_file=None, public_url=" https://pingan.example.gov.cn/ ")
    assert configured.base_url == "https://pingan.example.gov.cn"
    monkeypatch.setenv("PINGAN_PUBLIC_URL", "https://平安.example.cn/pingan")
    assert Settings(_env_file=None).base_url == "https://平安.example.cn/pingan"
    for wrong in ("pingan.example.gov.cn", "ftp://pingan.example.gov.cn", "https://x/?a=1"):
        with pytest.raises(ValidationError, match="public_url"):
            Settings(_env_file=None, public_url=wrong)
    monkeypatch.delenv("PINGAN_PUBLIC_URL")
    # Unset: the address `pingan run` listens on; a wildcard address is no address to visit.
    assert Settings(_env_file=None, port=8123).base_url == "http://127.0.0.1:8123"
    everywhere = Settings(_env_file=None, host="0.0.0.0", port=80)
    assert everywhere.base_url == f"http://{socket.gethostname()}:80"
    assert Settings(_env_file=None, host="::1").base_url == "http://[::1]:8000"
    # The certificate's QR code leads there.
    volunteer_id = make_volunteer(platform, unit_tree.village)
    number = certify(platform, volunteer_id, unit_tree.city)
    with platform.session_factory() as session:
        content = certificate_content(
            session,
            session.get(Volunteer, volunteer_id),
            platform.secrets.secret_key,
            configured.base_url,
        )
    assert content.verify_url.startswith(f"https://pingan.example.gov.cn/verify?n={number}&t=")


def test_the_qr_code_reader_notices_another_url(platform):
    """The check above would fail for a certificate pointing elsewhere."""
    from datetime import date

    content = render.CertificateContent(
        number="X-1",
        name="张三",
        volunteer_number="1",
        units=("渝中区",),
        team="分队",
        issuer="总队",
        issued_on=date(2026, 1, 1),
        verify_url="https://example.org/verify?n=X-1&t=AAAA",
        verify_code="AAAA",
    )
    matrix = qr_matrix_from_pdf(render.render_pdf(content))
    assert matrix == expected_matrix(content.verify_url)
    assert matrix != expected_matrix("https://example.org/verify?n=X-1&t=AAAB")


async def test_the_job_is_idempotent(platform, unit_tree, certified, broker):
    volunteer_id, number = certified
    first = stored_pdf(platform, number)
    # Run again directly, and again through the queue: still one file, unchanged.
    again = render_certificate(volunteer_id=volunteer_id, context=context(platform))
    assert again == {"file_id": first.id, "number": number, "created": False}
    with platform.session_factory() as session:
        from core.jobs.outbox import enqueue

        enqueue(session, RENDER_JOB, unit_id=unit_tree.village.id, volunteer_id=volunteer_id)
        session.commit()
    broker.join("core", fail_fast=True)
    # Forced: drawn again into the same file (the same content gives the same bytes).
    forced = render_certificate(volunteer_id=volunteer_id, context=context(platform), force=True)
    assert forced["file_id"] == first.id and forced["created"] is False
    with platform.session_factory() as session:
        assert stored_count(session, number) == 1
        assert [f.id for f in session.exec(select(StoredFile)).all()] == [first.id]
    assert stored_pdf(platform, number).content == first.content
    # A volunteer without a certificate: nothing to draw.
    other = make_volunteer(platform, unit_tree.township, "李四", "5001032026000002")
    assert render_certificate(volunteer_id=other, context=context(platform))["skipped"]


async def test_concurrent_runs_make_one_file(platform, unit_tree):
    import threading

    volunteer_id = make_volunteer(platform, unit_tree.village)
    number = certify(platform, volunteer_id, unit_tree.city)
    results, errors = [], []

    def run():
        try:
            results.append(render_certificate(volunteer_id=volunteer_id, context=context(platform)))
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(result["created"] for result in results) == 1
    assert len({result["file_id"] for result in results}) == 1
    with platform.session_factory() as session:
        assert stored_count(session, number) == 1


# -- verification --------------------------------------------------------------------------


def verify_url(platform, number: str, token: str | None = None) -> str:
    token = token or verification_token(platform.secrets.secret_key, number)
    return f"/verify?n={number}&t={token}"


async def test_the_verification_page_is_public_and_shows_a_masked_name(client, platform, certified):
    volunteer_id, number = certified
    response = await client.get(verify_url(platform, number))
    assert response.status_code == 200
    assert "证书有效" in response.text and MASKED in response.text
    assert NAME not in response.text
    assert number in response.text and "渝中区" in response.text
    assert "民族路社区" not in response.text  # no more than the district
    assert response.headers["x-robots-tag"] == "noindex"
    # The code typed by hand: grouped, in lower case.
    token = verification_token(platform.secrets.secret_key, number)
    typed = "-".join(token[i : i + 4] for i in range(0, 16, 4)).lower()
    assert (await client.get(verify_url(platform, number, typed))).status_code == 200
    # English.
    english = await client.get(verify_url(platform, number) + "&lang=en")
    assert "The certificate is valid" in english.text
    # Without a number or token: the form to type them.
    form = await client.get("/verify")
    assert form.status_code == 200 and 'name="t"' in form.text


async def test_a_wrong_token_or_unknown_number_answers_404(client, platform, certified):
    volunteer_id, number = certified
    token = verification_token(platform.secrets.secret_key, number)
    wrong = ("A" if token[0] != "A" else "B") + token[1:]
    for url in (
        verify_url(platform, number, wrong),
        verify_url(platform, number, token[:-1]),
        f"/verify?n={number}&t=",
        verify_url(platform, number[:-1] + "9", token),  # the next number, this token
        verify_url(platform, "../../etc", token),
    ):
        response = await client.get(url)
        assert response.status_code in (404, 200), url
        if response.status_code == 200:  # an empty token shows the form, nothing else
            assert "证书有效" not in response.text and MASKED not in response.text
        else:
            assert MASKED not in response.text
    # The token is bound to the number and to the secret.
    assert token_matches(platform.secrets.secret_key, number, token)
    assert not token_matches("another secret", number, token)


@pytest.mark.parametrize("status", [VolunteerStatus.left, VolunteerStatus.suspended])
async def test_a_volunteer_who_left_or_is_suspended_shows_invalid(
    client, platform, certified, status
):
    volunteer_id, number = certified
    with platform.session_factory() as session:
        volunteer = session.get(Volunteer, volunteer_id)
        volunteer.status = status
        session.add(volunteer)
        session.commit()
    response = await client.get(verify_url(platform, number))
    assert response.status_code == 200
    assert "证书无效" in response.text and MASKED in response.text
    assert ("已退出" if status == VolunteerStatus.left else "已暂停") in response.text


async def test_a_revoked_certificate_shows_invalid_and_is_gone(
    client, platform, unit_tree, certified, accounts
):
    volunteer_id, number = certified
    city_admin = accounts("city_admin", unit_tree.city)
    refused = await client.post(
        f"/api/v1/units/{unit_tree.city.id}/certificates/revoke",
        json={"volunteer_id": volunteer_id},
        headers=city_admin.headers,
    )
    assert refused.status_code == 400  # a reason is required
    district_admin = accounts("district_admin", unit_tree.district)
    response = await client.post(
        f"/api/v1/units/{unit_tree.district.id}/certificates/revoke",
        json={"volunteer_id": volunteer_id, "reason": "身份核查不通过"},
        headers=district_admin.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": number}
    page = await client.get(verify_url(platform, number))
    assert page.status_code == 200
    with platform.session_factory() as session:
        assert stored_count(session, number) == 0
        volunteer = session.get(Volunteer, volunteer_id)
        assert volunteer.certificate_number is None
        entry = session.exec(select(AuditEntry).where(AuditEntry.event == "revoke")).one()
        assert entry.object_id == number and entry.reason == "身份核查不通过"
        # The number stays on record: who revoked it, when, why, and when it was issued.
        record = session.exec(
            select(CertificateRevocation).where(CertificateRevocation.number == number)
        ).one()
        assert record.volunteer_id == volunteer_id and record.reason == "身份核查不通过"
        assert record.revoked_by_user_id == district_admin.user_id and record.issued_at
        revoked_on = record.revoked_at.astimezone(LOCAL_TIME).date().isoformat()
        with pytest.raises(Exception, match="no certificate|没有证书"):
            revoke_certificate(session, volunteer, "再次撤销")
    assert "证书无效" in page.text and f"该证书已于 {revoked_on} 撤销" in page.text
    assert MASKED not in page.text  # the holder of a void certificate is nobody's business
    english = await client.get(verify_url(platform, number) + "&lang=en")
    assert f"it was revoked on {revoked_on}" in english.text
    # A new certificate takes a new number; the old one stays revoked, with its date.
    renewed = certify(platform, volunteer_id, unit_tree.city)
    assert renewed != number and renewed > number
    # (back to Chinese: the English choice stays in a cookie)
    again = await client.get(verify_url(platform, number) + "&lang=zh")
    assert f"该证书已于 {revoked_on} 撤销" in again.text
    assert "证书有效" in (await client.get(verify_url(platform, renewed))).text
    # Revoking the new one records it too; numbers are never issued twice.
    with platform.session_factory() as session:
        volunteer = session.get(Volunteer, volunteer_id)
        revoke_certificate(session, volunteer, "证件遗失，重新发证")
        session.commit()
    third = certify(platform, volunteer_id, unit_tree.city)
    with platform.session_factory() as session:
        numbers = session.exec(select(CertificateRevocation.number)).all()
    assert sorted(numbers) == sorted([number, renewed]) and third not in numbers


async def test_the_certificates_page_lists_revocations_with_who_and_why(
    client, platform, unit_tree, certified, accounts
):
    volunteer_id, number = certified
    city_admin = accounts("city_admin", unit_tree.city)
    await sign_in(client, city_admin.username, city_admin.password)
    page = await client.get(f"/units/{unit_tree.district.id}/certificates")
    assert page.status_code == 200 and "已撤销的证书" not in page.text
    token = csrf_token(page.text)
    empty = await client.post(
        f"/units/{unit_tree.district.id}/certificates/revoke",
        data={"volunteer_id": str(volunteer_id), "reason": "", "_csrf_token": token},
    )
    assert empty.status_code == 400 and "reason" in empty.text
    revoked = await client.post(
        f"/units/{unit_tree.district.id}/certificates/revoke",
        data={"volunteer_id": str(volunteer_id), "reason": "本人已退出", "_csrf_token": token},
    )
    assert revoked.status_code == 200 and "已撤销的证书" in revoked.text
    assert number in revoked.text and "本人已退出" in revoked.text
    assert city_admin.username in revoked.text  # who revoked it
    other = accounts("district_admin", unit_tree.other_district)
    client.cookies.clear()
    await sign_in(client, other.username, other.password)
    elsewhere = await client.get(f"/units/{unit_tree.other_district.id}/certificates")
    assert elsewhere.status_code == 200 and number not in elsewhere.text


# -- downloads -----------------------------------------------------------------------------


async def test_the_pdf_is_downloaded_by_those_who_may_read_the_volunteer(
    client, platform, unit_tree, certified, accounts
):
    volunteer_id, number = certified
    url = f"/api/v1/certificates/pdf?volunteer_id={volunteer_id}"
    for role, unit, status in (
        ("district_admin", unit_tree.district, 200),
        ("township_leader", unit_tree.township, 200),
        ("village_leader", unit_tree.village, 200),
        ("district_admin", unit_tree.other_district, 404),
        ("township_leader", unit_tree.other_township, 404),
        ("volunteer", unit_tree.village, 403),
        ("platform_admin", unit_tree.city, 403),
    ):
        account = accounts(role, unit)
        response = await client.get(url, headers=account.headers)
        assert response.status_code == status, (role, unit.name)
        if status == 200:
            assert response.content.startswith(b"%PDF")
            assert response.headers["content-type"].startswith("application/pdf")
            assert f"certificate-{number}.pdf" in response.headers["content-disposition"]
    with platform.session_factory() as session:
        downloads = session.exec(select(AuditEntry).where(AuditEntry.event == "download")).all()
        assert len(downloads) == 3 and {d.object_id for d in downloads} == {number}
    # The list of a unit's certificates, and the page with the download link.
    admin = accounts("district_admin", unit_tree.district)
    listed = await client.get(
        f"/api/v1/units/{unit_tree.township.id}/certificates", headers=admin.headers
    )
    (row,) = listed.json()
    assert row["number"] == number and row["rendered"] and row["valid"]
    assert row["name"] == NAME
    assert parse_qs(urlsplit(row["verify"]).query)["n"] == [number]
    other = await client.get(
        f"/api/v1/units/{unit_tree.other_district.id}/certificates", headers=admin.headers
    )
    assert other.status_code == 404
    await sign_in(client, admin.username, admin.password)
    page = await client.get(f"/units/{unit_tree.district.id}/certificates")
    assert page.status_code == 200 and number in page.text
    assert f"/certificates/pdf?volunteer_id={volunteer_id}" in page.text
    pdf = await client.get(f"/certificates/pdf?volunteer_id={volunteer_id}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_a_certificate_not_yet_rendered_is_not_ready(client, platform, unit_tree, accounts):
    volunteer_id = make_volunteer(platform, unit_tree.village)
    admin = accounts("district_admin", unit_tree.district)
    url = f"/api/v1/certificates/pdf?volunteer_id={volunteer_id}"
    assert (await client.get(url, headers=admin.headers)).status_code == 404  # no certificate
    with platform.session_factory() as session:  # numbered, the job not run (no worker)
        volunteer = session.get(Volunteer, volunteer_id)
        volunteer.certificate_number = "500000-2026-999999"
        session.add(volunteer)
        session.commit()
    response = await client.get(url, headers=admin.headers)
    assert response.status_code == 409 and response.json()["code"] == "not_ready"


def test_certificate_content_names_the_team_and_issuer(platform, unit_tree):
    volunteer_id = make_volunteer(platform, unit_tree.village)
    number = certify(platform, volunteer_id, unit_tree.city)
    with platform.session_factory() as session:
        content = certificate_content(
            session, session.get(Volunteer, volunteer_id), "k", "https://pingan.example"
        )
    assert content.units == ("渝中区", "解放碑街道", "民族路社区")
    assert content.team == "民族路社区平安建设志愿者分队"
    assert content.issuer == "重庆市平安建设志愿者总队"
    assert content.verify_url == (
        f"https://pingan.example/verify?n={number}&t={verification_token('k', number)}"
    )
    assert "民族路社区平安建设志愿者分队" in render.body_text(content)
    assert render.body_text(content).count("民族路社区") == 1
