"""Periodic sweeps: reminding volunteers of a shift, escalating shifts nobody has filled.

Both are recomputed from the database on every run (never far-future delayed messages), so a
missed run heals itself at the next one, and both are idempotent: an assignment is reminded
once (``assignment.reminded_at``), a shift escalated once (``shift.escalated_at``), and every
notification carries a dedupe key, so two sweeps at the same time still send each once. The
notifications go to the inbox and by e-mail (:func:`core.notifications.email.
deliver_with_email`).
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.accounts.models import RoleGrant, User
from core.accounts.policy import Policy
from core.contributions import Schedule
from core.jobs import job
from core.notifications.email import deliver_with_email
from core.notifications.services import Message
from core.tasks.models import (
    Assignment,
    AssignmentStatus,
    Point,
    Shift,
    ShiftStatus,
    Task,
    TaskStatus,
)
from core.tasks.permissions import ASSIGN
from core.units.models import Unit, utcnow

REMIND_JOB = "core.remind_shifts"
ESCALATE_JOB = "core.escalate_unfilled_shifts"
REMIND_AHEAD = timedelta(hours=24)
ESCALATE_AHEAD = timedelta(hours=48)
BATCH = 2000  # rows per run; the next run takes the rest
LIVE_TASKS = (TaskStatus.published, TaskStatus.in_progress)
SCHEDULES = [
    Schedule(job=REMIND_JOB, cron="*/10 * * * *"),
    Schedule(job=ESCALATE_JOB, cron="5,35 * * * *"),
]


def local_time(moment: datetime) -> str:
    """``11月30日 08:00`` in Chongqing time."""
    from core.hours.rules import LOCAL_TIME

    local = moment.astimezone(LOCAL_TIME)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def accounts_of(session: Session, person_ids: list[int]) -> dict[int, list[int]]:
    """Person id → the active accounts of that person."""
    if not person_ids:
        return {}
    found: dict[int, list[int]] = {}
    for user_id, person_id in session.exec(
        select(User.id, User.person_id).where(
            col(User.person_id).in_(person_ids), User.is_active == sa.true()
        )
    ).all():
        found.setdefault(person_id, []).append(user_id)
    return found


def remind(session: Session, now: datetime) -> int:
    """Remind every confirmed volunteer whose shift starts within 24 hours, once.

    Returns how many assignments were reminded in this run.
    """
    rows = session.exec(
        select(Assignment, Shift, Task.title, Point.name)
        .join(Shift, Shift.id == Assignment.shift_id)
        .join(Task, Task.id == Shift.task_id)
        .join(Point, Point.id == Shift.point_id)
        .where(
            Assignment.status == AssignmentStatus.confirmed,
            col(Assignment.reminded_at).is_(None),
            Assignment.starts_at > now,
            Assignment.starts_at <= now + REMIND_AHEAD,
            Shift.status == ShiftStatus.open,
            col(Task.status).in_(LIVE_TASKS),
        )
        .order_by(Assignment.starts_at, Assignment.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=Assignment)
    ).all()
    accounts = accounts_of(session, sorted({a.person_id for a, *_ in rows}))
    messages: list[Message] = []
    for assignment, shift, title, point in rows:
        when = f"{local_time(shift.starts_at)}–{local_time(shift.ends_at)[-5:]}"
        subject = f"值班提醒：{when} {point}"
        body = f"你已被安排参加「{title}」，{when}，岗点：{point}。请准时到岗并签到。"
        for user_id in accounts.get(assignment.person_id, []):
            key = f"reminder:assignment:{assignment.id}:user:{user_id}"
            messages.append((user_id, subject, body, "/me/shifts", key))
        assignment.reminded_at = now
        session.add(assignment)
    deliver_with_email(session, messages)
    session.flush()
    return len(rows)


def escalation_recipients(session: Session, policy: Policy, unit_id: int) -> list[int]:
    """Active users holding, at ``unit_id``, a role that may assign volunteers."""
    roles = [name for name in policy.roles if ASSIGN in policy.actions(name)]
    if not roles:
        return []
    return sorted(
        session.exec(
            select(RoleGrant.user_id)
            .join(User, User.id == RoleGrant.user_id)
            .where(
                RoleGrant.unit_id == unit_id,
                col(RoleGrant.role).in_(roles),
                User.is_active == sa.true(),
            )
            .distinct()
        ).all()
    )


def escalate(session: Session, policy: Policy, now: datetime) -> int:
    """Tell the parent unit about every shift starting within 48 hours still short of people.

    A shift is short while its confirmed assignments are fewer than its minimum headcount.
    Each is escalated once; returns how many were escalated in this run.
    """
    confirmed = (
        select(func.count())
        .select_from(Assignment)
        .where(
            Assignment.shift_id == Shift.id,
            Assignment.status == AssignmentStatus.confirmed,
        )
        .scalar_subquery()
    )
    rows = session.exec(
        select(Shift, Task.title, Point.name, Unit, confirmed)
        .join(Task, Task.id == Shift.task_id)
        .join(Point, Point.id == Shift.point_id)
        .join(Unit, Unit.id == Shift.unit_id)
        .where(
            Shift.status == ShiftStatus.open,
            col(Shift.escalated_at).is_(None),
            Shift.starts_at > now,
            Shift.starts_at <= now + ESCALATE_AHEAD,
            col(Task.status).in_(LIVE_TASKS),
            confirmed < Shift.min_headcount,
        )
        .order_by(Shift.starts_at, Shift.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=Shift)
    ).all()
    messages: list[Message] = []
    for shift, title, point, unit, filled in rows:
        above = unit.parent_id or unit.id  # the city has nobody above: its own leaders
        when = f"{local_time(shift.starts_at)}–{local_time(shift.ends_at)[-5:]}"
        subject = f"缺员预警：{unit.name} {when} {point}"
        body = (
            f"{unit.name}「{title}」{when}在{point}的班次仅有 {filled} 人确认，"
            f"少于最低 {shift.min_headcount} 人，请协调补员或跨区域调度。"
        )
        for user_id in escalation_recipients(session, policy, above):
            key = f"escalation:shift:{shift.id}:user:{user_id}"
            messages.append((user_id, subject, body, f"/units/{unit.id}/", key))
        shift.escalated_at = now
        session.add(shift)
    deliver_with_email(session, messages)
    session.flush()
    return len(rows)


@job(REMIND_JOB, max_retries=3)
def remind_shifts(context, now: str | None = None) -> dict:
    """The reminder sweep (every 10 minutes)."""
    moment = datetime.fromisoformat(now) if now else utcnow()
    with context.session_factory() as session:
        reminded = remind(session, moment)
        session.commit()
    return {"reminded": reminded}


@job(ESCALATE_JOB, max_retries=3)
def escalate_unfilled_shifts(context, now: str | None = None) -> dict:
    """The escalation sweep (twice an hour)."""
    moment = datetime.fromisoformat(now) if now else utcnow()
    policy = Policy(context.plugins.roles, context.plugins.actions, context.settings.policy_file)
    with context.session_factory() as session:
        escalated = escalate(session, policy, moment)
        session.commit()
    return {"escalated": escalated}
