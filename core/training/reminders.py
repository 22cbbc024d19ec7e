"""Training reminders: a daily sweep that recomputes what is due from the database.

* A qualification expiring within the notice period (30 days unless the unit sets
  ``reminders:expiry_days``) and not yet renewed: its holder is told once per expiry date.
* A session starting tomorrow (local date): everyone enrolled is told once per start day.

Each notification's dedupe key names the record and the date it is about, so running the
sweep again, or twice at once, adds nothing; a missed day is caught up by the next run as
long as the date is still ahead.
"""

from collections.abc import Mapping
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.accounts.models import User
from core.contributions import TrainingModule
from core.jobs import job
from core.notifications.services import Message, deliver
from core.training import config
from core.training.catalogue import title_of
from core.training.dates import LOCAL_TIME, days_bounds, local_today
from core.training.models import (
    EnrolmentStatus,
    Qualification,
    SessionStatus,
    TrainingEnrolment,
    TrainingSession,
    TrainingSetting,
)
from core.training.qualifications import valid_on
from core.units.models import Unit

REMINDER_JOB = "core.training_reminders"
DEFAULT_EXPIRY_DAYS = 30


def _accounts(session: Session, person_ids: set[int]) -> dict[int, list[int]]:
    """Person id → ids of their active accounts."""
    found: dict[int, list[int]] = {}
    if not person_ids:
        return found
    for user_id, person_id in session.exec(
        select(User.id, User.person_id).where(
            col(User.person_id).in_(person_ids), User.is_active == sa.true()
        )
    ):
        found.setdefault(person_id, []).append(user_id)
    return found


def _notice_days(session: Session, unit_path: str, today: date, cache: dict[str, int]) -> int:
    """The expiry notice period in force at the unit with ``unit_path``."""
    if unit_path not in cache:
        unit_id = int(unit_path.rstrip(".").rsplit(".", 1)[-1])
        unit = session.get(Unit, unit_id)
        value = config.nearest(session, unit, config.EXPIRY_DAYS, today) if unit else None
        cache[unit_path] = int((value or {}).get("days", DEFAULT_EXPIRY_DAYS))
    return cache[unit_path]


def expiring_messages(
    session: Session, catalogue: Mapping[str, TrainingModule], today: date, locale: str
) -> list[Message]:
    """Messages for qualifications expiring within their unit's notice period, not renewed."""
    longest = max(
        [DEFAULT_EXPIRY_DAYS]
        + [
            int((row.value or {}).get("days", 0))
            for row in session.exec(
                select(TrainingSetting).where(TrainingSetting.key == config.EXPIRY_DAYS)
            )
        ]
    )
    candidates = session.exec(
        select(Qualification).where(
            valid_on(today),
            Qualification.expires_at <= today + timedelta(days=longest),
        )
    ).all()
    cache: dict[str, int] = {}
    due = [
        row
        for row in candidates
        if row.expires_at
        <= today + timedelta(days=_notice_days(session, row.unit_path, today, cache))
    ]
    accounts = _accounts(session, {row.person_id for row in due})
    messages: list[Message] = []
    for row in due:
        renewed = session.exec(
            select(Qualification.id).where(
                Qualification.person_id == row.person_id,
                Qualification.module_code == row.module_code,
                Qualification.id != row.id,
                valid_on(row.expires_at),
            )
        ).first()
        if renewed is not None:
            continue
        title = title_of(catalogue, row.module_code)
        expires = row.expires_at.isoformat()
        subject = (
            f"Training qualification expiring: {title.en}"
            if locale == "en"
            else f"培训资格即将到期：{title.zh}"
        )
        body = (
            f"Your qualification in {title.en} expires on {expires}; enrol in a session to renew."
            if locale == "en"
            else f"你的「{title.zh}」培训资格将于 {expires} 到期，请报名参加培训续期。"
        )
        for user_id in accounts.get(row.person_id, []):
            key = f"training:expiry:{row.id}:{expires}:{user_id}"
            messages.append((user_id, subject, body, "/training/my", key))
    return messages


def tomorrow_messages(session: Session, today: date, locale: str) -> list[Message]:
    """Messages for everyone enrolled in a session that starts tomorrow."""
    tomorrow = today + timedelta(days=1)
    low, high = days_bounds(tomorrow, tomorrow)
    rows = session.exec(
        select(TrainingEnrolment, TrainingSession)
        .join(TrainingSession, TrainingSession.id == TrainingEnrolment.session_id)
        .where(
            TrainingSession.status == SessionStatus.scheduled,
            TrainingSession.starts_at >= low,
            TrainingSession.starts_at < high,
            TrainingEnrolment.status == EnrolmentStatus.enrolled,
        )
    ).all()
    accounts = _accounts(session, {enrolment.person_id for enrolment, _ in rows})
    messages: list[Message] = []
    for enrolment, training in rows:
        start = training.starts_at.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")
        subject = (
            f"Training tomorrow: {training.title}"
            if locale == "en"
            else f"明天培训：{training.title}"
        )
        body = (
            f"{training.title} starts at {start} ({training.place})."
            if locale == "en"
            else f"「{training.title}」将于 {start} 开始，地点：{training.place}。"
        )
        for user_id in accounts.get(enrolment.person_id, []):
            key = f"training:session:{training.id}:{tomorrow.isoformat()}:{user_id}"
            messages.append((user_id, subject, body, "/training/my", key))
    return messages


@job(REMINDER_JOB, max_retries=3)
def send_training_reminders(context) -> int:
    """Deliver the day's training reminders; return how many notifications were new."""
    today = local_today()
    locale = context.settings.default_locale
    with context.session_factory() as session:
        messages = expiring_messages(session, context.plugins.training_modules, today, locale)
        messages += tomorrow_messages(session, today, locale)
        written = deliver(session, messages)
        session.commit()
    return written
