"""Enrolling volunteers: numbering, team placement, status."""

from datetime import date, datetime

from sqlmodel import Session, select

from core.errors import DomainError, FieldError
from core.i18n import text
from core.numbering import next_number
from core.people.models import Person
from core.units.models import Unit, UnitLevel, utcnow
from core.volunteers.models import TeamMembership, TeamRole, Volunteer, VolunteerStatus


def district_of(session: Session, unit: Unit) -> Unit:
    """The district (大队) a unit belongs to; the district itself for a district."""
    if unit.level == UnitLevel.city:
        raise DomainError(
            text("市级单位不属于任何区县", "The city unit has no district"), "invalid", 400
        )
    ancestors = unit.ancestor_ids
    return session.get(Unit, ancestors[1])


def volunteer_number(session: Session, district: Unit, year: int) -> str:
    """``<district code><year><6-digit sequence>``: unique, never reused, readable by hand."""
    sequence = next_number(session, "volunteer", district.code or str(district.id), year)
    return f"{district.code or district.id}{year}{sequence:06d}"


def enroll(
    session: Session,
    person: Person,
    team: Unit,
    *,
    on: date | None = None,
    import_key: str | None = None,
    registered_at: datetime | None = None,
) -> Volunteer:
    """Make ``person`` a registered volunteer in ``team``'s team, numbered by its district.

    ``on`` is the day the team membership begins and the year of the number; ``registered_at``
    the moment of registration (default: now), for records kept on paper before.

    Raises:
        DomainError: the person is already a volunteer (409).
    """
    if session.exec(select(Volunteer.id).where(Volunteer.person_id == person.id)).first():
        raise DomainError(
            text("此人已是志愿者", "This person is already a volunteer"),
            "conflict",
            409,
            [FieldError("id_number", "unique", text("已登记为志愿者", "already a volunteer"))],
        )
    today = on or utcnow().date()
    volunteer = Volunteer(
        person_id=person.id,
        unit_id=team.id,
        unit_path=team.path,
        number=volunteer_number(session, district_of(session, team), today.year),
        status=VolunteerStatus.active,
        import_key=import_key,
        registered_at=registered_at or utcnow(),
    )
    session.add(volunteer)
    session.flush()
    session.add(
        TeamMembership(
            volunteer_id=volunteer.id,
            unit_id=team.id,
            unit_path=team.path,
            role=TeamRole.member,
            since=today,
        )
    )
    session.flush()
    return volunteer
