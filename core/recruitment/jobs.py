"""Recruitment's background jobs: telling people that an application has moved."""

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.accounts.models import RoleGrant, User
from core.accounts.policy import Policy
from core.jobs import job
from core.notifications.services import deliver
from core.recruitment.models import Application, ApplicationStatus, ApplicationStep
from core.recruitment.services import (
    ACCOUNT_KEY,
    FORWARD,
    NOTIFY_JOB,
    STATUS_LABELS,
    step_unit_id,
)
from core.units.models import Unit


def next_step_holders(session: Session, policy: Policy, application: Application, status: str):
    """Active users holding, at the right unit, the action of the step after ``status``."""
    rule = FORWARD.get(status)
    if rule is None:
        return None, []
    unit_id = step_unit_id(application, rule.step)
    roles = [name for name in policy.roles if rule.action in policy.actions(name)]
    if not roles:
        return rule, []
    users = session.exec(
        select(RoleGrant.user_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.unit_id == unit_id,
            col(RoleGrant.role).in_(roles),
            User.is_active == sa.true(),
        )
        .distinct()
    ).all()
    return rule, sorted(users)


def applicant_accounts(session: Session, application: Application) -> list[int]:
    """The applicant's own accounts: the one they self-applied with, the person's."""
    found = set()
    account = (application.wishes or {}).get(ACCOUNT_KEY)
    if isinstance(account, int):
        found.add(account)
    if application.person_id is not None:
        found.update(
            session.exec(
                select(User.id).where(
                    User.person_id == application.person_id, User.is_active == sa.true()
                )
            ).all()
        )
    return sorted(found)


@job(NOTIFY_JOB, max_retries=5)
def notify_application(application_id: int, step_id: int, context) -> int:
    """Notify, for one step, whoever takes the next step and the applicant's account.

    Idempotent: each notification's ``dedupe_key`` names the step and the user, so running
    the job again (a re-sent message, a retry after a partial run) adds nothing. Returns how
    many notifications this run wrote.
    """
    locale = context.settings.default_locale
    policy = Policy(context.plugins.roles, context.plugins.actions, context.settings.policy_file)
    with context.session_factory() as session:
        application = session.get(Application, application_id)
        step = session.get(ApplicationStep, step_id)
        if application is None or step is None or step.application_id != application.id:
            return 0
        unit = session.get(Unit, application.unit_id)
        status = STATUS_LABELS.get(step.to_status) or STATUS_LABELS[ApplicationStatus.submitted]
        messages = []
        rule, holders = next_step_holders(session, policy, application, step.to_status)
        if rule is not None:
            subject = (
                f"报名待{rule.label.zh}：{application.name}（{unit.name}）"
                if locale != "en"
                else f"Application awaiting {rule.label.en.lower()}: "
                f"{application.name} ({unit.name})"
            )
            body = (
                f"{application.name}的报名现为「{status.zh}」，请{rule.label.zh}。"
                if locale != "en"
                else f"{application.name}'s application is {status.en}; "
                f"{rule.label.en.lower()} is yours to take."
            )
            url = f"{context.settings.base_url}/applications/{application.id}"
            messages += [(user_id, subject, body, url) for user_id in holders]
        own_subject = (
            f"你的志愿者报名：{status.zh}"
            if locale != "en"
            else f"Your volunteer application: {status.en}"
        )
        own_body = own_subject + (f"（{step.reason}）" if step.reason else "")
        messages += [
            (user_id, own_subject, own_body, None)
            for user_id in applicant_accounts(session, application)
        ]
        written = deliver(
            session,
            [
                (user_id, subject, body, url, f"application:{step.id}:user:{user_id}")
                for user_id, subject, body, url in messages
            ],
        )
        session.commit()
        return written
