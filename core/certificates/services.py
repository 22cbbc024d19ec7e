"""Volunteer certificates: numbered per city and year, rendered to PDF by a job.

A certificate is the volunteer's ``certificate_number`` (with ``certified_at``) and one stored
PDF named ``certificate-<number>.pdf``, kept at the volunteer's unit path. The job
``core.render_certificate`` draws it; run twice (a redelivered message, a retry, a second
enqueue) it still leaves one file. Revoking records the number, who revoked it, when and why
(:class:`~core.certificates.models.CertificateRevocation`), clears it from the volunteer and
deletes the PDF; the public page then answers "revoked on …", and a new certificate takes a new
number.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.access import path_in
from core.accounts.models import User
from core.audit.recorder import record
from core.certificates.models import CertificateRevocation
from core.certificates.render import CertificateContent, render_pdf
from core.certificates.verify import (
    LOCAL_TIME,
    grouped,
    issuer_name,
    verification_token,
    verify_path,
)
from core.errors import DomainError, FieldError
from core.files.models import StoredFile
from core.i18n import text
from core.jobs import job
from core.jobs.outbox import enqueue
from core.numbering import next_number
from core.people.models import Person
from core.security.secrets import load_secrets
from core.units.models import Unit, UnitLevel, utcnow
from core.volunteers.models import Volunteer

RENDER_JOB = "core.render_certificate"
MEDIA_TYPE = "application/pdf"
TEAM_SUFFIX = {
    UnitLevel.city: "平安建设志愿者总队",
    UnitLevel.district: "平安建设志愿者大队",
    UnitLevel.township: "平安建设志愿者中队",
    UnitLevel.village: "平安建设志愿者分队",
}


def certificate_number(session: Session, city: Unit, year: int) -> str:
    """``<city code>-<year>-<6-digit sequence>``, e.g. ``500000-2026-000042``."""
    scope = city.code or str(city.id)
    return f"{scope}-{year}-{next_number(session, 'certificate', scope, year):06d}"


def issue_certificate(session: Session, volunteer: Volunteer, city: Unit) -> str:
    """Give a volunteer their certificate number and record the job that renders its PDF.

    The number is taken in the caller's transaction; the PDF job is sent once it commits.
    """
    now = utcnow()
    volunteer.certificate_number = certificate_number(session, city, now.year)
    volunteer.certified_at = now
    session.add(volunteer)
    session.flush()
    enqueue(session, RENDER_JOB, unit_id=volunteer.unit_id, volunteer_id=volunteer.id)
    return volunteer.certificate_number


def file_name(number: str) -> str:
    """The stored PDF's name."""
    return f"certificate-{number}.pdf"


def certificate_file_id(session: Session, volunteer: Volunteer) -> int | None:
    """The id of the stored PDF of the volunteer's current certificate, if rendered.

    Files are found by name (``certificate-<number>.pdf``); the unit path narrows the search
    to one index range first, and a volunteer moved since the rendering still finds the file
    by name alone.
    """
    if not volunteer.certificate_number:
        return None
    name = file_name(volunteer.certificate_number)
    for where in (
        (StoredFile.name == name, StoredFile.unit_path == volunteer.unit_path),
        (StoredFile.name == name,),
    ):
        found = session.exec(select(StoredFile.id).where(*where).order_by(StoredFile.id)).first()
        if found is not None:
            return found
    return None


def certificate_file(session: Session, volunteer: Volunteer) -> StoredFile | None:
    """The stored PDF (with its bytes) of the volunteer's current certificate, if rendered."""
    file_id = certificate_file_id(session, volunteer)
    return session.get(StoredFile, file_id) if file_id is not None else None


@dataclass(frozen=True)
class FileInfo:
    """A stored certificate without its bytes."""

    id: int
    size: int
    created_at: datetime


def team_name(unit: Unit) -> str:
    """The unit's team: its own team name, or ``<unit>平安建设志愿者<分队|中队|…>``."""
    return unit.team_name or f"{unit.name}{TEAM_SUFFIX[UnitLevel(unit.level)]}"


def certificate_content(
    session: Session, volunteer: Volunteer, secret_key: str, base_url: str
) -> CertificateContent:
    """What the volunteer's certificate says."""
    number = volunteer.certificate_number
    if not number:
        raise ValueError(f"volunteer {volunteer.id} has no certificate number")
    person = session.get(Person, volunteer.person_id)
    ids = [int(part) for part in volunteer.unit_path.split(".") if part]
    units = {unit.id: unit for unit in session.exec(select(Unit).where(Unit.id.in_(ids)))}
    chain = [units[unit_id] for unit_id in ids if unit_id in units]
    own = session.get(Unit, volunteer.unit_id) or chain[-1]
    token = verification_token(secret_key, number)
    certified: datetime = volunteer.certified_at or utcnow()
    return CertificateContent(
        number=number,
        name=person.name if person else "",
        volunteer_number=volunteer.number,
        units=tuple(unit.name for unit in chain[1:]),  # the city is the issuer
        team=team_name(own),
        issuer=issuer_name(chain[0]),
        issued_on=certified.astimezone(LOCAL_TIME).date(),
        verify_url=base_url + verify_path(secret_key, number),
        verify_code=grouped(token),
    )


def _locked(session: Session, volunteer_id: int) -> Volunteer | None:
    """The volunteer, its row locked until commit (PostgreSQL; SQLite locks the file)."""
    return session.exec(
        select(Volunteer).where(Volunteer.id == volunteer_id).with_for_update()
    ).first()


@job(RENDER_JOB, max_retries=5)
def render_certificate(volunteer_id: int, context, force: bool = False) -> dict:
    """Render the volunteer's certificate PDF and store it; idempotent.

    A certificate already rendered is left as it is (``force=True`` draws it again into the
    same file). Concurrent runs are serialised on the volunteer's row, so they make one file.
    """
    secret_key = load_secrets(context.settings).secret_key
    with context.session_factory() as session:
        volunteer = session.get(Volunteer, volunteer_id)
        if volunteer is None or not volunteer.certificate_number:
            return {"volunteer_id": volunteer_id, "skipped": "no certificate"}
        existing = certificate_file_id(session, volunteer)
        if existing is not None and not force:
            return {
                "file_id": existing,
                "number": volunteer.certificate_number,
                "created": False,
            }
        content = certificate_content(session, volunteer, secret_key, context.settings.base_url)
    pdf = render_pdf(content)  # outside any transaction: no lock held while drawing
    with context.session_factory() as session:
        volunteer = _locked(session, volunteer_id)
        if volunteer is None or volunteer.certificate_number != content.number:
            session.rollback()
            return {"volunteer_id": volunteer_id, "skipped": "certificate changed meanwhile"}
        stored_id = certificate_file_id(session, volunteer)
        if stored_id is not None and not force:
            session.rollback()
            return {"file_id": stored_id, "number": content.number, "created": False}
        created = stored_id is None
        stored = session.get(StoredFile, stored_id) if stored_id is not None else None
        if stored is None:
            stored = StoredFile(
                name=file_name(content.number), media_type=MEDIA_TYPE, content=b"", size=0
            )
        stored.content = pdf
        stored.size = len(pdf)
        stored.unit_path = volunteer.unit_path
        stored.created_at = utcnow()
        session.add(stored)
        session.flush()
        record(
            session,
            "render",
            object_type="certificate",
            object_id=content.number,
            unit_path=volunteer.unit_path,
            after={"volunteer_id": volunteer.id, "file_id": stored.id, "size": len(pdf)},
        )
        session.commit()
        return {"file_id": stored.id, "number": content.number, "created": created}


def revoke_certificate(
    session: Session, volunteer: Volunteer, reason: str, *, by_user_id: int | None = None
) -> str:
    """Withdraw the volunteer's certificate: the number stops verifying, the PDF goes.

    The number stays on record as revoked (who, when, why) and is never reused (the sequence
    moves on); a new certificate takes a new number. Recorded in the audit trail with the
    reason, in the caller's transaction.

    Raises:
        DomainError: the volunteer holds no certificate (409), or no reason is given (400).
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            text("请填写撤销理由", "Give a reason for revoking"),
            "validation_failed",
            400,
            [FieldError("reason", "missing", text("必填", "is required"))],
        )
    number = volunteer.certificate_number
    if not number:
        raise DomainError(
            text("该志愿者没有证书", "This volunteer holds no certificate"), "conflict", 409
        )
    stored = certificate_file(session, volunteer)
    if stored is not None:
        session.delete(stored)
    session.add(
        CertificateRevocation(
            number=number,
            volunteer_id=volunteer.id,
            unit_path=volunteer.unit_path,
            issued_at=volunteer.certified_at,
            revoked_by_user_id=by_user_id,
            reason=reason[:500],
        )
    )
    volunteer.certificate_number = None
    volunteer.certified_at = None
    session.add(volunteer)
    session.flush()
    record(
        session,
        "revoke",
        object_type="certificate",
        object_id=number,
        unit_path=volunteer.unit_path,
        before={"volunteer_id": volunteer.id, "number": number},
        reason=reason[:500],
    )
    return number


def revocations(
    session: Session, unit: Unit, limit: int = 20
) -> list[tuple[CertificateRevocation, str, str | None]]:
    """Certificates revoked in the unit's subtree, newest first, with holder and revoker."""
    query = (
        select(CertificateRevocation, Person.name, User.display_name)
        .join(Volunteer, Volunteer.id == CertificateRevocation.volunteer_id)
        .join(Person, Person.id == Volunteer.person_id)
        .join(User, User.id == CertificateRevocation.revoked_by_user_id, isouter=True)
        .where(path_in(CertificateRevocation.unit_path, unit.path))
        .order_by(col(CertificateRevocation.id).desc())
        .limit(limit)
    )
    return [(row, name, by) for row, name, by in session.exec(query).all()]


def certificate_rows(
    session: Session,
    unit: Unit,
    volunteer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[Volunteer, str, FileInfo | None]]:
    """Certified volunteers in the unit's subtree (newest first), their names and PDFs."""
    query = (
        select(Volunteer, Person.name)
        .join(Person, Person.id == Volunteer.person_id)
        .where(path_in(Volunteer.unit_path, unit.path))
        .where(col(Volunteer.certificate_number).is_not(None))
    )
    if volunteer_id is not None:
        query = query.where(Volunteer.id == volunteer_id)
    query = query.order_by(col(Volunteer.certified_at).desc(), col(Volunteer.id).desc())
    rows = session.exec(query.offset(offset).limit(limit)).all()
    names = [file_name(volunteer.certificate_number) for volunteer, _ in rows]
    files: dict[str, FileInfo] = {}
    if names:
        found = session.execute(
            sa.select(StoredFile.name, StoredFile.id, StoredFile.size, StoredFile.created_at)
            .where(col(StoredFile.name).in_(names))
            .order_by(StoredFile.id.desc())
        )
        for name, file_id, size, created in found:
            files[name] = FileInfo(file_id, size, created)
    return [
        (volunteer, name, files.get(file_name(volunteer.certificate_number)))
        for volunteer, name in rows
    ]


def stored_count(session: Session, number: str) -> int:
    """How many stored files hold certificate ``number`` (1 once rendered; tests)."""
    return session.execute(
        sa.select(sa.func.count())
        .select_from(StoredFile)
        .where(StoredFile.name == file_name(number))
    ).scalar_one()
