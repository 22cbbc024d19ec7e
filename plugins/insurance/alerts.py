"""Alerts the jobs raise: written once per key, and delivered to whoever must act.

An alert's key names what it is about and which threshold it crossed
(``claim:12:decision_overdue``), so a sweep run twice, or a job delivered twice, raises it
once. Recipients are the users holding, at the record's unit or above, a role that allows
the given action; each gets an inbox notification, deduplicated the same way.
"""

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.accounts.models import RoleGrant, User
from core.accounts.policy import Policy
from core.notifications.services import deliver
from core.units.models import Unit, utcnow
from core.units.services import enabled_plugins
from plugins.insurance.config import ancestor_ids
from plugins.insurance.models import Alert


def ancestor_paths(path: str) -> list[str]:
    """``"1.7.9."`` → ``["1.", "1.7.", "1.7.9."]``."""
    ids = ancestor_ids(path)
    return ["".join(f"{unit_id}." for unit_id in ids[: n + 1]) for n in range(len(ids))]


def holders(session: Session, policy: Policy, path: str, action: str) -> list[int]:
    """Active users allowed ``action`` at the unit of ``path`` (by a grant there or above)."""
    roles = [name for name in policy.roles if action in policy.actions(name)]
    if not roles:
        return []
    return sorted(
        session.exec(
            select(RoleGrant.user_id)
            .join(User, User.id == RoleGrant.user_id)
            .where(
                col(RoleGrant.role).in_(roles),
                col(RoleGrant.unit_path).in_(ancestor_paths(path)),
                User.is_active == sa.true(),
            )
            .distinct()
        ).all()
    )


class Enabled:
    """Whether the plugin is on at a unit, remembered for one sweep."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[int, bool] = {}

    def __call__(self, path: str) -> bool:
        """Whether the plugin is on at the unit of ``path``."""
        unit_id = ancestor_ids(path)[-1]
        if unit_id not in self.known:
            unit = self.session.get(Unit, unit_id)
            self.known[unit_id] = unit is not None and "insurance" in enabled_plugins(
                self.session, unit
            )
        return self.known[unit_id]


def raise_alert(
    session: Session,
    policy: Policy,
    *,
    key: str,
    kind: str,
    subject_type: str,
    subject_id: int,
    unit_path: str,
    zh: str,
    en: str,
    notify: tuple[str, ...],
    severity: str = "warning",
    url: str | None = None,
    locale: str = "zh",
) -> bool:
    """Raise an alert unless one with ``key`` exists; notify the holders of ``notify``.

    Returns whether the alert is new.
    """
    if session.exec(select(Alert.id).where(Alert.key == key)).first() is not None:
        return False
    session.add(
        Alert(
            key=key[:120],
            kind=kind,
            severity=severity,
            subject_type=subject_type,
            subject_id=subject_id,
            unit_path=unit_path,
            message_zh=zh[:300],
            message_en=en[:300],
            raised_at=utcnow(),
        )
    )
    session.flush()
    users = sorted(
        {user for action in notify for user in holders(session, policy, unit_path, action)}
    )
    subject = en if locale == "en" else zh
    deliver(session, [(user, subject, subject, url, f"ins:{key}:u{user}"[:120]) for user in users])
    return True
