"""Volunteer certificates: numbered per city and year, rendered to PDF by a job."""

from sqlmodel import Session

from core.jobs.outbox import enqueue
from core.numbering import next_number
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer

RENDER_JOB = "core.render_certificate"


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
