"""Who is told about a dispute, and telling them once through core's inbox.

Recipients are found from the data: the mediators assigned to the dispute (their accounts'
person), and the holders of an action (the director's ``mediation.case.decide``, the
clerk's ``mediation.case.archive``, the supervisor's ``mediation.committee.manage``) by a
role held at the dispute's unit or above it. Every message has a key naming the dispute,
the occasion and the user, so a sweep that runs twice tells nobody twice. Messages name the
case number only, never a party.
"""

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.accounts.models import RoleGrant, User
from core.accounts.policy import Policy
from core.notifications.services import deliver
from plugins.mediation.models import Assignment, Dispute, Mediator


def policy_of(context) -> Policy:
    """The deployment's role → action policy, as a job sees it."""
    return Policy(context.plugins.roles, context.plugins.actions, context.settings.policy_file)


def mediator_accounts(session: Session, dispute: Dispute) -> set[int]:
    """Active accounts of the mediators currently assigned to the dispute."""
    return set(
        session.exec(
            select(User.id)
            .join(Mediator, Mediator.person_id == User.person_id)
            .join(Assignment, Assignment.mediator_id == Mediator.id)
            .where(
                Assignment.dispute_id == dispute.id,
                col(Assignment.ended_at).is_(None),
                User.is_active == sa.true(),
            )
        ).all()
    )


def holders(session: Session, policy: Policy, action: str, unit_path: str) -> set[int]:
    """Active accounts holding ``action`` through a role at ``unit_path``'s unit or above."""
    roles = [name for name in policy.roles if action in policy.actions(name)]
    ids = [int(part) for part in unit_path.split(".") if part]
    if not roles:
        return set()
    return set(
        session.exec(
            select(RoleGrant.user_id)
            .join(User, User.id == RoleGrant.user_id)
            .where(
                col(RoleGrant.role).in_(roles),
                col(RoleGrant.unit_id).in_(ids),
                User.is_active == sa.true(),
            )
        ).all()
    )


def tell(
    session: Session,
    users: set[int],
    dispute: Dispute,
    occasion: str,
    subject: str,
    body: str = "",
) -> int:
    """Deliver one message per user about ``dispute``; how many were new."""
    url = f"/units/{dispute.unit_id}/mediation/disputes/{dispute.id}"
    return deliver(
        session,
        [
            (user_id, subject, body, url, f"mediation:{dispute.id}:{occasion}:{user_id}")
            for user_id in sorted(users)
        ],
    )
