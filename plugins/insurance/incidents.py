"""Incidents (出险) reported against the service record they happened in.

As in 荣成's scheme, the platform's activity record is one of the claim documents — no
record, no payout — so an incident names the volunteer's assignment or hours entry, and must
have happened on its day (travel to and from included). The activity leader reports it the
same day; a later report is marked and the same-day job alerts the leader and the clerk.
The limitation watch counts from the day the claimant knew (the incident's day unless said
otherwise) plus the configured period (保险法 art. 26: 2 years).
"""

from datetime import date, datetime

from sqlmodel import Session

from core.errors import DomainError, FieldError
from core.hours.models import HoursEntry
from core.i18n import text
from core.tasks.models import Assignment, AssignmentStatus
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer
from plugins.insurance.clock import add_years, china_day
from plugins.insurance.config import LIMITATION_YEARS, setting
from plugins.insurance.models import Incident


def _refused(field: str, rule: str, zh: str, en: str, status: int = 409) -> DomainError:
    message = text(zh, en)
    return DomainError(
        message,
        "conflict" if status == 409 else "validation_failed",
        status,
        [FieldError(field, rule, message)],
    )


def service_record(
    session: Session,
    volunteer: Volunteer,
    day: date,
    *,
    assignment_id: int | None,
    hours_entry_id: int | None,
) -> tuple[Unit, Assignment | None, HoursEntry | None]:
    """The assignment or hours entry of ``volunteer`` on ``day``, and the unit it was for.

    Raises:
        DomainError: neither named, not the volunteer's, or not on that day (409).
    """
    if assignment_id is None and hours_entry_id is None:
        raise _refused(
            "assignment_id",
            "no_service_record",
            "须关联平台上的服务记录（排班或服务时长）",
            "Name the service record (an assignment or hours entry)",
        )
    if assignment_id is not None:
        assignment = session.get(Assignment, assignment_id)
        if assignment is None or assignment.volunteer_id != volunteer.id:
            raise _refused(
                "assignment_id",
                "not_volunteers",
                "不是该志愿者的排班",
                "Not this volunteer's assignment",
            )
        if assignment.status in (
            AssignmentStatus.cancelled,
            AssignmentStatus.declined,
            AssignmentStatus.absent,
        ):
            raise _refused(
                "assignment_id", "not_served", "该排班未履行", "This assignment was not served"
            )
        days = {china_day(assignment.starts_at), china_day(assignment.ends_at)}
        if day not in days:
            raise _refused(
                "occurred_at",
                "not_on_record_day",
                "出险日期与排班日期不符",
                "Not on the assignment's day",
            )
        return session.get(Unit, assignment.unit_id), assignment, None
    entry = session.get(HoursEntry, hours_entry_id)
    if entry is None or entry.volunteer_id != volunteer.id:
        raise _refused(
            "hours_entry_id",
            "not_volunteers",
            "不是该志愿者的服务记录",
            "Not this volunteer's hours entry",
        )
    if entry.service_date != day:
        raise _refused(
            "occurred_at",
            "not_on_record_day",
            "出险日期与服务记录日期不符",
            "Not on the record's day",
        )
    return session.get(Unit, entry.unit_id), None, entry


def report(
    session: Session,
    *,
    reporter_user_id: int,
    within: Unit,
    volunteer_id: int,
    occurred_at: datetime,
    place: str,
    description: str,
    injury_kind: str,
    assignment_id: int | None = None,
    hours_entry_id: int | None = None,
    injury_detail: str | None = None,
    hospital: str | None = None,
    police_ref: str | None = None,
    witnesses: str | None = None,
    knowledge_date: date | None = None,
    now: datetime | None = None,
) -> Incident:
    """Register an incident at the unit of its service record (which must lie in ``within``).

    Raises:
        DomainError: an unknown volunteer (400), a missing or mismatched service record,
            an incident in the future (409), or a record outside ``within`` (404).
    """
    now = now or utcnow()
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise _refused("volunteer_id", "unknown", "没有这名志愿者", "No such volunteer", status=400)
    if occurred_at > now:
        raise _refused(
            "occurred_at", "in_future", "出险时间晚于现在", "The incident is in the future"
        )
    day = china_day(occurred_at)
    unit, _, _ = service_record(
        session, volunteer, day, assignment_id=assignment_id, hours_entry_id=hours_entry_id
    )
    if not unit.path.startswith(within.path):
        raise DomainError(
            text("该服务记录不在本单位范围内", "That service record is outside this unit"),
            "not_found",
            404,
            [FieldError("assignment_id", "out_of_scope", str(assignment_id or hours_entry_id))],
        )
    knew = knowledge_date or day
    years = setting(session, unit.path, LIMITATION_YEARS, day)
    incident = Incident(
        unit_id=unit.id,
        unit_path=unit.path,
        volunteer_id=volunteer.id,
        person_id=volunteer.person_id,
        assignment_id=assignment_id,
        hours_entry_id=hours_entry_id,
        occurred_at=occurred_at,
        place=place,
        description=description,
        injury_kind=injury_kind,
        injury_detail=injury_detail or None,
        hospital=hospital,
        police_ref=police_ref,
        witnesses=witnesses or None,
        reported_at=now,
        reported_by_user_id=reporter_user_id,
        reported_same_day=china_day(now) == day,
        knowledge_date=knew,
        limitation_deadline=add_years(knew, years),
    )
    session.add(incident)
    session.flush()
    return incident
