"""Checking in and out of a confirmed assignment: on the phone, by QR code, or by a leader.

The rules, each refused with the reason named:

- only a confirmed assignment of a shift that is not cancelled; one check-in per assignment,
  no check-out before the check-in and only one;
- check-in opens a configurable number of minutes before the start (``hours.checkin_early_
  minutes``) and closes at the end; the volunteer's own check-out closes a configurable time
  after the end (``hours.checkout_late_minutes``), after which only a leader can do it;
- on the phone, where the point has coordinates and a radius, the browser's location must lie
  within it (the distance is named when it does not); the QR code, shown by the leader at the
  point, proves presence by itself;
- a volunteer is never checked in to two shifts at once (the volunteer's row is locked while
  deciding, so two phones cannot race past the check);
- a leader's check-in on someone's behalf is recorded as such, with who did it, and nobody
  records their own presence that way.
"""

import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from core.accounts.principal import Principal
from core.errors import DomainError, FieldError
from core.hours.ledger import refuse_own, require_recorder, user_person_id
from core.hours.rules import CHECKIN_EARLY_MINUTES, CHECKOUT_LATE_MINUTES, service_date
from core.i18n import text
from core.tasks.models import (
    Assignment,
    AssignmentStatus,
    CheckMethod,
    Point,
    Shift,
    ShiftStatus,
)
from core.unitconfig.services import setting
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


@dataclass(frozen=True)
class Location:
    """Where the phone says it is (WGS-84 degrees)."""

    latitude: float
    longitude: float


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _refused(zh: str, en: str, code: str, field: str, rule: str, detail: str, status=409):
    return DomainError(text(zh, en), code, status, [FieldError(field, rule, detail)])


def _shift_of(session: Session, assignment: Assignment) -> Shift:
    shift = session.get(Shift, assignment.shift_id)
    if assignment.status != AssignmentStatus.confirmed:
        raise _refused(
            "该安排未确认，不能签到",
            "The assignment is not confirmed",
            "wrong_status",
            "status",
            "confirmed",
            str(assignment.status),
        )
    if shift is None or shift.status == ShiftStatus.cancelled:
        raise _refused(
            "该时段已取消", "The shift is cancelled", "wrong_status", "shift", "open", "cancelled"
        )
    return shift


def check_location(session: Session, shift: Shift, location: Location | None) -> int | None:
    """The distance to the point in metres, refusing one beyond its radius.

    Returns None where the point asks for no location check (no coordinates or radius).
    """
    point = session.get(Point, shift.point_id)
    if point is None or point.latitude is None or point.longitude is None or not point.radius_m:
        return None
    if location is None:
        raise _refused(
            "此岗点要求定位签到，请允许浏览器获取位置，或扫描岗点二维码",
            "This point checks your location: allow the browser to share it, or scan the "
            "point's QR code",
            "location_required",
            "latitude",
            "missing",
            text("需要位置", "location required"),
            status=400,
        )
    distance = round(
        haversine_m(
            float(point.latitude),
            float(point.longitude),
            location.latitude,
            location.longitude,
        )
    )
    if distance > point.radius_m:
        raise _refused(
            f"你距离岗点「{point.name}」约 {distance} 米，超出 {point.radius_m} 米的签到范围",
            f"You are about {distance} m from {point.name}, beyond its {point.radius_m} m radius",
            "too_far",
            "latitude",
            "radius",
            f"{distance} m > {point.radius_m} m",
        )
    return distance


def _lock_volunteer(session: Session, volunteer_id: int) -> None:
    """Serialise check-ins of one volunteer (PostgreSQL row lock; SQLite locks the file)."""
    session.exec(select(Volunteer.id).where(Volunteer.id == volunteer_id).with_for_update()).first()


def _refuse_second_shift(session: Session, assignment: Assignment) -> None:
    other = session.exec(
        select(Assignment.id, Assignment.shift_id).where(
            Assignment.volunteer_id == assignment.volunteer_id,
            Assignment.id != assignment.id,
            col(Assignment.checked_in_at).is_not(None),
            col(Assignment.checked_out_at).is_(None),
        )
    ).first()
    if other is not None:
        raise _refused(
            "该志愿者已在另一个时段签到，须先签退",
            "The volunteer is checked in to another shift; check out there first",
            "checked_in_elsewhere",
            "assignment_id",
            "one_at_a_time",
            str(other[1]),
        )


def _minutes(session: Session, shift: Shift, key) -> int:
    unit = session.get(Unit, shift.unit_id)
    return setting(session, unit, key, service_date(shift.starts_at))


def check_in(
    session: Session,
    assignment: Assignment,
    method: CheckMethod,
    by_user_id: int,
    *,
    location: Location | None = None,
    now: datetime | None = None,
) -> Assignment:
    """Record the check-in (the caller has decided who may); refuse what the rules forbid."""
    now = now or utcnow()
    shift = _shift_of(session, assignment)
    _lock_volunteer(session, assignment.volunteer_id)
    session.refresh(assignment)
    if assignment.checked_in_at is not None:
        raise _refused(
            "已经签到过了",
            "Already checked in",
            "already_checked_in",
            "checked_in_at",
            "once",
            assignment.checked_in_at.isoformat(),
        )
    opens = shift.starts_at - timedelta(minutes=_minutes(session, shift, CHECKIN_EARLY_MINUTES))
    if now < opens:
        raise _refused(
            f"签到将于开始前 {int((shift.starts_at - opens).total_seconds() // 60)} 分钟开放",
            "Check-in is not open yet",
            "too_early",
            "checked_in_at",
            "window",
            opens.isoformat(),
        )
    if now >= shift.ends_at:
        raise _refused(
            "该时段已结束，不能再签到；请联系带班补记",
            "The shift is over; ask its leader to record your presence",
            "too_late",
            "checked_in_at",
            "window",
            shift.ends_at.isoformat(),
        )
    distance = None
    if method == CheckMethod.self_service or (method == CheckMethod.qr and location is not None):
        distance = check_location(session, shift, location)
    _refuse_second_shift(session, assignment)
    assignment.checked_in_at = now
    assignment.check_in_method = method
    assignment.checked_in_by_user_id = by_user_id
    assignment.check_in_distance_m = distance
    session.add(assignment)
    session.flush()
    return assignment


def check_out(
    session: Session,
    assignment: Assignment,
    method: CheckMethod,
    by_user_id: int,
    *,
    location: Location | None = None,
    now: datetime | None = None,
) -> Assignment:
    """Record the check-out, after the check-in and once."""
    now = now or utcnow()
    shift = _shift_of(session, assignment)
    _lock_volunteer(session, assignment.volunteer_id)
    session.refresh(assignment)
    if assignment.checked_in_at is None:
        raise _refused(
            "尚未签到，不能签退",
            "Not checked in yet",
            "not_checked_in",
            "checked_in_at",
            "missing",
            text("尚未签到", "not checked in"),
        )
    if assignment.checked_out_at is not None:
        raise _refused(
            "已经签退过了",
            "Already checked out",
            "already_checked_out",
            "checked_out_at",
            "once",
            assignment.checked_out_at.isoformat(),
        )
    if method != CheckMethod.leader:
        closes = shift.ends_at + timedelta(minutes=_minutes(session, shift, CHECKOUT_LATE_MINUTES))
        if now > closes:
            raise _refused(
                "本人签退已截止，请联系带班代为签退",
                "Your own check-out has closed; ask the shift's leader",
                "too_late",
                "checked_out_at",
                "window",
                closes.isoformat(),
            )
        if method == CheckMethod.self_service or location is not None:
            check_location(session, shift, location)
    assignment.checked_out_at = max(now, assignment.checked_in_at)
    assignment.check_out_method = method
    assignment.checked_out_by_user_id = by_user_id
    session.add(assignment)
    session.flush()
    return assignment


# -- who is checking in ------------------------------------------------------------------


def own_assignment(session: Session, principal: Principal, assignment_id: int) -> Assignment:
    """One of the signed-in volunteer's own assignments, else 404 (someone else's is absent)."""
    person_id = user_person_id(session, principal)
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or person_id is None or assignment.person_id != person_id:
        raise DomainError(text("没有这个安排", "No such assignment"), "not_found", 404)
    return assignment


def shift_by_secret(session: Session, shift_id: int, secret: str) -> Shift:
    """The shift whose QR code carries ``secret`` (constant-time), else 404."""
    shift = session.get(Shift, shift_id)
    if shift is None or not hmac.compare_digest(
        shift.checkin_secret.encode(), (secret or "").encode()
    ):
        raise DomainError(text("二维码无效或已过期", "The QR code is not valid"), "not_found", 404)
    return shift


def assignment_on(session: Session, principal: Principal, shift: Shift) -> Assignment:
    """The signed-in volunteer's confirmed assignment on ``shift``."""
    person_id = user_person_id(session, principal)
    assignment = (
        session.exec(
            select(Assignment).where(
                Assignment.shift_id == shift.id,
                Assignment.person_id == person_id,
                Assignment.status == AssignmentStatus.confirmed,
            )
        ).first()
        if person_id is not None
        else None
    )
    if assignment is None:
        raise DomainError(
            text("你没有被安排在这个时段", "You are not assigned to this shift"),
            "not_assigned",
            403,
            [FieldError("shift_id", "assigned", str(shift.id))],
        )
    return assignment


def by_qr(
    session: Session,
    principal: Principal,
    shift_id: int,
    secret: str,
    *,
    location: Location | None = None,
    now: datetime | None = None,
) -> tuple[Assignment, str]:
    """Scan to check in, and scan again to check out; returns the assignment and which."""
    shift = shift_by_secret(session, shift_id, secret)
    assignment = assignment_on(session, principal, shift)
    if assignment.checked_in_at is None:
        check_in(session, assignment, CheckMethod.qr, principal.user_id, location=location, now=now)
        return assignment, "in"
    check_out(session, assignment, CheckMethod.qr, principal.user_id, location=location, now=now)
    return assignment, "out"


def on_behalf(
    session: Session,
    principal: Principal,
    assignment: Assignment,
    what: str,
    *,
    now: datetime | None = None,
) -> Assignment:
    """A leader checks a volunteer in (``what="in"``) or out on their behalf."""
    shift = session.get(Shift, assignment.shift_id)
    require_recorder(session, principal, shift)
    refuse_own(session, principal, assignment, text("代签", "check in on someone's behalf"))
    record = check_in if what == "in" else check_out
    return record(session, assignment, CheckMethod.leader, principal.user_id, now=now)


def parse_location(latitude: str | float | None, longitude: str | float | None) -> Location | None:
    """A location from form or JSON values; None when either is blank, refused when invalid."""
    if latitude in (None, "") or longitude in (None, ""):
        return None
    try:
        lat, lon = float(Decimal(str(latitude))), float(Decimal(str(longitude)))
    except (ArithmeticError, ValueError):
        lat = lon = math.nan
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise DomainError(
            text("位置无效", "The location is not valid"),
            "validation_failed",
            400,
            [FieldError("latitude", "range", "-90..90, -180..180")],
        )
    return Location(lat, lon)
