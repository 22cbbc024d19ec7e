"""Telling people about assignments through the in-app inbox.

The volunteer hears that they are on a shift, that their sign-up was declined or that they
were taken off; the leaders of the shift's unit hear that a sign-up awaits their approval.
Reminders before a shift and escalations of unfilled shifts are periodic sweeps of the hours
area, not these.
"""

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.accounts.models import RoleGrant, User
from core.accounts.policy import Policy
from core.jobs import job
from core.notifications.email import deliver_with_email
from core.people.models import Person
from core.tasks.assignments import NOTIFY_JOB
from core.tasks.models import Assignment, Point, Shift, Task
from core.tasks.permissions import ASSIGN
from core.tasks.rules import LOCAL_TIME

SUBJECTS = {
    "confirmed": ("你已被安排值勤：{title}", "You are on duty: {title}"),
    "declined": ("你的报名未获批准：{title}", "Your sign-up was declined: {title}"),
    "cancelled": ("你的值勤已取消：{title}", "Your duty was cancelled: {title}"),
    "requested": ("有志愿者报名待审批：{title}", "A sign-up awaits your approval: {title}"),
}


def volunteer_accounts(session: Session, person_id: int) -> list[int]:
    """The active accounts of the volunteer's person."""
    return sorted(
        session.exec(
            select(User.id).where(User.person_id == person_id, User.is_active == sa.true())
        ).all()
    )


def unit_leaders(session: Session, policy: Policy, unit_id: int) -> list[int]:
    """Active users holding, at ``unit_id`` itself, a role that assigns volunteers."""
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


@job(NOTIFY_JOB, max_retries=5)
def notify_assignment(assignment_id: int, change: str, context) -> int:
    """Deliver the notifications of one change of an assignment; return how many were new.

    Idempotent: each notification's ``dedupe_key`` names the assignment, the change and the
    user, so a re-sent or retried message adds nothing.
    """
    english = context.settings.default_locale == "en"
    with context.session_factory() as session:
        assignment = session.get(Assignment, assignment_id)
        if assignment is None or change not in SUBJECTS:
            return 0
        shift = session.get(Shift, assignment.shift_id)
        task = session.get(Task, shift.task_id)
        point = session.get(Point, shift.point_id)
        start = shift.starts_at.astimezone(LOCAL_TIME)
        end = shift.ends_at.astimezone(LOCAL_TIME)
        when = f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
        zh, en = SUBJECTS[change]
        subject = (en if english else zh).format(title=task.title)
        if change == "requested":
            policy = Policy(
                context.plugins.roles, context.plugins.actions, context.settings.policy_file
            )
            person = session.get(Person, assignment.person_id)
            body = (
                f"{person.name} signed up for {point.name}, {when}."
                if english
                else f"{person.name}报名 {when} 在{point.name}值勤，请审批。"
            )
            users = unit_leaders(session, policy, shift.unit_id)
            url = f"/shifts/{shift.id}"
        else:
            body = f"{when} · {point.name}" + (
                f"（{assignment.reason}）" if assignment.reason and not english else ""
            )
            if english and assignment.reason:
                body += f" ({assignment.reason})"
            users = volunteer_accounts(session, assignment.person_id)
            url = "/me/shifts"
        written = deliver_with_email(
            session,
            [
                (user_id, subject, body, url, f"assignment:{assignment.id}:{change}:user:{user_id}")
                for user_id in users
            ],
        )
        session.commit()
        return written
