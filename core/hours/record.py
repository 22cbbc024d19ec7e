"""The service-record certificate (志愿服务记录证明): numbered, printed by a job, verifiable.

"谁记录谁证明": a unit certifies only hours recorded within its own subtree, and the record
names it as issuer. Issuing takes a number of the unit's series for the year
(``JL<unit code>-<year>-<5 digits>``), freezes the sums as they stand (up to the last entry
id) and records the rendering job in the same transaction. The PDF reuses the volunteer
certificate's font and QR drawing; the QR code leads to a public page that confirms the
record with the masked name, behind an HMAC token as on the volunteer certificate.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode

import sqlalchemy as sa
from fpdf import FPDF
from sqlmodel import Session, col, func, select

from core.access import path_in
from core.audit.recorder import record as audit
from core.certificates.render import GOLD, INK, MUTED, RED, chinese_date, draw_qr, font_file
from core.certificates.services import team_name
from core.certificates.verify import grouped, normalise_token
from core.errors import DomainError
from core.files.models import StoredFile
from core.hours.models import EntryKind, HoursEntry, HoursRecord
from core.hours.rules import LOCAL_TIME
from core.i18n import text
from core.jobs import job
from core.jobs.outbox import enqueue
from core.numbering import next_number
from core.people.models import Person
from core.security.masking import mask_name
from core.security.secrets import load_secrets
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer

RENDER_JOB = "core.render_hours_record"
MEDIA_TYPE = "application/pdf"
VERIFY_PATH = "/verify/record"
PURPOSE = b"pingan.hours.record\x00"
NUMBER = re.compile(r"^JL[0-9A-Za-z]{1,16}-\d{4}-\d{5,}$")
LISTED = 18  # entries printed on the certificate, most recent first


def token(secret_key: str, number: str) -> str:
    """16 base-32 characters proving ``number`` was issued here."""
    digest = hmac.new(secret_key.encode(), PURPOSE + number.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode()


def verify_path(secret_key: str, number: str) -> str:
    """Where the QR code on the record leads."""
    return f"{VERIFY_PATH}?{urlencode({'n': number, 't': token(secret_key, number)})}"


def file_name(number: str) -> str:
    """The stored PDF's name."""
    return f"hours-record-{number}.pdf"


@dataclass(frozen=True)
class Sums:
    """What a unit may certify of a volunteer's hours."""

    total: Decimal
    entries: int  # service and training entries (corrections adjust them, not counted)
    first: date | None
    last: date | None
    last_entry_id: int | None


def sums(session: Session, volunteer_id: int, unit: Unit, up_to: int | None = None) -> Sums:
    """The volunteer's hours recorded within ``unit``'s subtree (up to entry ``up_to``)."""
    where = [HoursEntry.volunteer_id == volunteer_id, path_in(HoursEntry.unit_path, unit.path)]
    if up_to is not None:
        where.append(HoursEntry.id <= up_to)
    row = session.exec(
        select(
            func.coalesce(func.sum(HoursEntry.hours), 0),
            func.count(sa.case((HoursEntry.kind != EntryKind.correction, HoursEntry.id))),
            func.min(HoursEntry.service_date),
            func.max(HoursEntry.service_date),
            func.max(HoursEntry.id),
        ).where(*where)
    ).one()
    return Sums(Decimal(row[0]), int(row[1]), row[2], row[3], row[4])


def nothing_recorded() -> DomainError:
    """The refusal of a unit that recorded no hours of the volunteer."""
    return DomainError(
        text(
            "本单位没有该志愿者的服务时长记录，不能出具证明（谁记录谁证明）",
            "This unit recorded no hours of the volunteer, so it cannot certify any",
        ),
        "nothing_recorded",
        409,
    )


def issue(session: Session, volunteer: Volunteer, unit: Unit, by_user_id: int) -> HoursRecord:
    """Number and record a certificate of the hours ``unit`` recorded; the PDF follows.

    Raises:
        DomainError: the unit recorded no hours of the volunteer (409).
    """
    found = sums(session, volunteer.id, unit)
    if found.entries == 0:
        raise nothing_recorded()
    year = utcnow().astimezone(LOCAL_TIME).year
    scope = unit.code or str(unit.id)
    number = f"JL{scope}-{year}-{next_number(session, 'hours_record', scope, year):05d}"
    row = HoursRecord(
        number=number,
        volunteer_id=volunteer.id,
        unit_id=unit.id,
        unit_path=unit.path,
        total_hours=found.total,
        entries=found.entries,
        first_date=found.first,
        last_date=found.last,
        last_entry_id=found.last_entry_id,
        issued_by_user_id=by_user_id,
    )
    session.add(row)
    session.flush()
    enqueue(session, RENDER_JOB, unit_id=unit.id, record_id=row.id)
    return row


# -- the PDF -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordContent:
    """Everything printed on a service-record certificate."""

    number: str
    name: str
    volunteer_number: str
    issuer: str
    total_hours: Decimal
    entries: int
    first: date | None
    last: date | None
    issued_on: date
    lines: tuple[tuple[date, str, Decimal], ...]  # date, where, hours (most recent first)
    verify_url: str
    verify_code: str


def _hours(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.1'))}"


def render_pdf(content: RecordContent) -> bytes:
    """The certificate as PDF bytes (A4 portrait); the same content gives the same bytes."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(datetime(content.issued_on.year, content.issued_on.month, 1))
    pdf.set_title(f"志愿服务记录证明 {content.number}")
    pdf.set_author(content.issuer)
    pdf.set_subject(f"Volunteer service record No. {content.number}")
    pdf.set_creator("Pingan")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("cert", fname=str(font_file()))
    pdf.add_page()
    width, height = pdf.w, pdf.h
    pdf.set_draw_color(*RED)
    pdf.set_line_width(1.6)
    pdf.rect(10, 10, width - 20, height - 20)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.5)
    pdf.rect(14, 14, width - 28, height - 28)

    pdf.set_text_color(*RED)
    pdf.set_font("cert", size=26)
    pdf.set_xy(0, 28)
    pdf.cell(width, 14, "志愿服务记录证明", align="C")
    pdf.set_font("cert", size=10)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(0, 42)
    pdf.cell(width, 5, "CERTIFICATE OF VOLUNTEER SERVICE RECORD", align="C")
    pdf.set_xy(0, 48)
    pdf.cell(width, 5, f"编号 No. {content.number}", align="C")

    period = (
        f"自{chinese_date(content.first)}至{chinese_date(content.last)}"
        if content.first and content.last
        else ""
    )
    body = (
        f"兹证明 {content.name}（志愿者编号 {content.volunteer_number}）{period}"
        f"参加{content.issuer}组织的志愿服务 {content.entries} 次，"
        f"经本单位记录的志愿服务时长累计 {_hours(content.total_hours)} 小时。"
        "以上记录真实、准确、完整，特此证明。"
    )
    pdf.set_text_color(*INK)
    pdf.set_font("cert", size=13)
    pdf.set_xy(28, 62)
    pdf.multi_cell(width - 56, 8, body, align="L")

    # The most recent entries, as a short table.
    y = 104
    pdf.set_font("cert", size=10)
    pdf.set_text_color(*MUTED)
    for x, label in ((28, "日期"), (60, "服务单位"), (width - 52, "时长（小时）")):
        pdf.set_xy(x, y)
        pdf.cell(40, 6, label)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.2)
    pdf.line(28, y + 7, width - 28, y + 7)
    pdf.set_text_color(*INK)
    y += 9
    for day, where, hours in content.lines[:LISTED]:
        pdf.set_xy(28, y)
        pdf.cell(30, 6, day.isoformat())
        pdf.set_xy(60, y)
        pdf.cell(width - 120, 6, where[:30])
        pdf.set_xy(width - 52, y)
        pdf.cell(24, 6, _hours(hours))
        y += 6.5
    if content.entries > LISTED:
        pdf.set_text_color(*MUTED)
        pdf.set_xy(28, y)
        pdf.cell(100, 6, f"（仅列最近 {LISTED} 条，共 {content.entries} 条）")

    # Issuer, date and QR code at the foot.
    pdf.set_text_color(*INK)
    pdf.set_font("cert", size=13)
    pdf.set_xy(width - 130, height - 62)
    pdf.cell(100, 8, content.issuer, align="C")
    pdf.set_font("cert", size=11)
    pdf.set_xy(width - 130, height - 53)
    pdf.cell(100, 7, chinese_date(content.issued_on), align="C")
    size = 30
    x, y = 28, height - 70
    draw_qr(pdf, content.verify_url, x, y, size)
    pdf.set_font("cert", size=8)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(x - 6, y + size + 1)
    pdf.cell(size + 12, 4, "扫码核验 Scan to verify", align="C")
    pdf.set_font("cert", size=8)
    pdf.set_text_color(*INK)
    pdf.set_xy(x - 6, y + size + 5)
    pdf.cell(size + 12, 4, content.verify_code, align="C")
    return bytes(pdf.output())


def content_of(session: Session, row: HoursRecord, secret_key: str, base_url: str) -> RecordContent:
    """What the record prints: the sums frozen at issue and the entries they cover."""
    volunteer = session.get(Volunteer, row.volunteer_id)
    person = session.get(Person, volunteer.person_id)
    issuer = session.get(Unit, row.unit_id)
    lines = session.exec(
        select(HoursEntry.service_date, Unit.name, HoursEntry.hours)
        .join(Unit, Unit.id == HoursEntry.unit_id)
        .where(
            HoursEntry.volunteer_id == row.volunteer_id,
            path_in(HoursEntry.unit_path, row.unit_path),
            HoursEntry.id <= (row.last_entry_id or 0),
        )
        .order_by(col(HoursEntry.service_date).desc(), col(HoursEntry.id).desc())
        .limit(LISTED)
    ).all()
    return RecordContent(
        number=row.number,
        name=person.name if person else "",
        volunteer_number=volunteer.number,
        issuer=team_name(issuer),
        total_hours=row.total_hours,
        entries=row.entries,
        first=row.first_date,
        last=row.last_date,
        issued_on=row.issued_at.astimezone(LOCAL_TIME).date(),
        lines=tuple((day, where, Decimal(hours)) for day, where, hours in lines),
        verify_url=base_url + verify_path(secret_key, row.number),
        verify_code=grouped(token(secret_key, row.number)),
    )


@job(RENDER_JOB, max_retries=5)
def render_hours_record(record_id: int, context) -> dict:
    """Draw and store the record's PDF once; a second run finds it and does nothing."""
    secret_key = load_secrets(context.settings).secret_key
    with context.session_factory() as session:
        row = session.get(HoursRecord, record_id)
        if row is None:
            return {"record_id": record_id, "skipped": "no such record"}
        if row.file_id is not None:
            return {"file_id": row.file_id, "created": False}
        content = content_of(session, row, secret_key, context.settings.base_url)
    pdf = render_pdf(content)  # outside any transaction: no lock held while drawing
    with context.session_factory() as session:
        row = session.exec(
            select(HoursRecord).where(HoursRecord.id == record_id).with_for_update()
        ).one()
        if row.file_id is not None:
            session.rollback()
            return {"file_id": row.file_id, "created": False}
        stored = StoredFile(
            name=file_name(row.number),
            media_type=MEDIA_TYPE,
            content=pdf,
            size=len(pdf),
            unit_path=row.unit_path,
        )
        session.add(stored)
        session.flush()
        row.file_id = stored.id
        session.add(row)
        audit(
            session,
            "render",
            object_type="hours_record",
            object_id=row.number,
            unit_path=row.unit_path,
            after={"volunteer_id": row.volunteer_id, "file_id": stored.id, "size": len(pdf)},
        )
        session.commit()
        return {"file_id": stored.id, "created": True}


# -- public verification -----------------------------------------------------------------


@dataclass(frozen=True)
class RecordCheck:
    """What the public page says about a record."""

    number: str
    masked_name: str
    issuer: str
    total_hours: Decimal
    entries: int
    first: date | None
    last: date | None
    issued_on: date


def check(session: Session, secret_key: str, number: str, given: str) -> RecordCheck | None:
    """The record numbered ``number``; None when unknown or the token is wrong (404)."""
    if not NUMBER.match(number):
        return None
    expected = token(secret_key, number)
    if not hmac.compare_digest(expected.encode(), normalise_token(given).encode()):
        return None
    row = session.exec(select(HoursRecord).where(HoursRecord.number == number)).first()
    if row is None:
        return None
    volunteer = session.get(Volunteer, row.volunteer_id)
    person = session.get(Person, volunteer.person_id) if volunteer else None
    return RecordCheck(
        number=row.number,
        masked_name=mask_name(person.name) if person else "",
        issuer=team_name(session.get(Unit, row.unit_id)),
        total_hours=row.total_hours,
        entries=row.entries,
        first=row.first_date,
        last=row.last_date,
        issued_on=row.issued_at.astimezone(LOCAL_TIME).date(),
    )
