"""A volunteer's shifts as an iCalendar feed, at a URL with a secret token.

The token is shown once when made; only its SHA-256 is stored (``calendar_token``), so a
database reader cannot subscribe to anyone's calendar. A volunteer holds at most one live
token: making a new one revokes the old (rotation), and revoking leaves none. The feed lists
the volunteer's own confirmed shifts from 30 days back to 180 days ahead — the task, the
point and the times, nothing about anyone else.
"""

import hashlib
import secrets
from datetime import timedelta

import icalendar
from sqlmodel import Session, col, select

from core.tasks.models import (
    Assignment,
    AssignmentStatus,
    CalendarToken,
    Point,
    Shift,
    ShiftStatus,
    Task,
)
from core.units.models import Unit, utcnow

FEED_PATH = "/calendar/"
PAST = timedelta(days=30)
AHEAD = timedelta(days=180)
MEDIA_TYPE = "text/calendar; charset=utf-8"


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def live_token(session: Session, volunteer_id: int) -> CalendarToken | None:
    """The volunteer's current token row, if any."""
    return session.exec(
        select(CalendarToken).where(
            CalendarToken.volunteer_id == volunteer_id, col(CalendarToken.revoked_at).is_(None)
        )
    ).first()


def revoke(session: Session, volunteer_id: int) -> int:
    """Revoke the volunteer's live tokens; return how many."""
    now = utcnow()
    rows = session.exec(
        select(CalendarToken).where(
            CalendarToken.volunteer_id == volunteer_id, col(CalendarToken.revoked_at).is_(None)
        )
    ).all()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    session.flush()
    return len(rows)


def issue(session: Session, volunteer_id: int) -> str:
    """A new token for the volunteer (any older one stops working); shown only now."""
    revoke(session, volunteer_id)
    token = secrets.token_urlsafe(32)
    session.add(CalendarToken(volunteer_id=volunteer_id, token_hash=digest(token)))
    session.flush()
    return token


def feed_path(token: str) -> str:
    """The feed's path for ``token``."""
    return f"{FEED_PATH}{token}.ics"


def volunteer_for(session: Session, token: str) -> int | None:
    """The volunteer whose live token this is, or None."""
    token = token.removesuffix(".ics")
    if not token or len(token) > 100:
        return None
    row = session.exec(
        select(CalendarToken).where(CalendarToken.token_hash == digest(token))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    return row.volunteer_id


def feed(session: Session, volunteer_id: int, base_url: str) -> bytes:
    """The volunteer's confirmed shifts as an RFC 5545 calendar."""
    now = utcnow()
    rows = session.exec(
        select(Assignment, Shift, Task, Point, Unit.name)
        .join(Shift, Shift.id == Assignment.shift_id)
        .join(Task, Task.id == Shift.task_id)
        .join(Point, Point.id == Shift.point_id)
        .join(Unit, Unit.id == Shift.unit_id)
        .where(
            Assignment.volunteer_id == volunteer_id,
            Assignment.status == AssignmentStatus.confirmed,
            Shift.status == ShiftStatus.open,
            Assignment.starts_at >= now - PAST,
            Assignment.starts_at <= now + AHEAD,
        )
        .order_by(Assignment.starts_at)
        .limit(1000)
    ).all()
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Pingan//Volunteer shifts//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "平安志愿值班")
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    host = base_url.split("://", 1)[-1].split("/", 1)[0] or "pingan"
    for assignment, shift, task, point, unit_name in rows:
        event = icalendar.Event()
        event.add("uid", f"assignment-{assignment.id}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", shift.starts_at)
        event.add("dtend", shift.ends_at)
        role = "（带班）" if assignment.is_leader else ""
        event.add("summary", f"{task.title} · {point.name}{role}")
        event.add("location", f"{point.name} {point.address}".strip())
        if point.latitude is not None and point.longitude is not None:
            event.add("geo", (float(point.latitude), float(point.longitude)))
        event.add("description", f"{unit_name}\n{base_url}/me/shifts")
        event.add("url", f"{base_url}/me/shifts")
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
