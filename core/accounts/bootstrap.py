"""First-run bootstrap: a platform administrator with a one-time password, never a default."""

from sqlmodel import Session, select

from core.accounts import services
from core.accounts.models import User
from core.platform import Platform
from core.units.models import Unit, UnitLevel
from core.units.services import create_unit

ROOT_NAME = "平安建设志愿服务总队"


def ensure_platform_admin(platform: Platform) -> tuple[str, str] | None:
    """Create ``admin`` if nobody active holds ``platform_admin``; return its one-time login.

    The password is random, shown once, and must be changed at first sign-in. An empty
    database first gets its top unit, where the role is held.
    """
    with platform.session_factory() as session:
        if services.holders(session, "platform_admin"):
            return None
        root = _root(session) or create_unit(session, name=ROOT_NAME, level=UnitLevel.city)
        username = _free_username(session, "admin")
        user, one_time = services.create_user(
            session, platform.settings, username=username, display_name="平台管理员", unit=root
        )
        services.grant_role(session, platform.policy, None, user, "platform_admin", root)
        session.commit()
        return username, one_time


def _root(session: Session) -> Unit | None:
    return session.exec(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id)).first()


def _free_username(session: Session, wanted: str) -> str:
    candidate, number = wanted, 1
    while session.exec(select(User.id).where(User.username == candidate)).first() is not None:
        number += 1
        candidate = f"{wanted}{number}"
    return candidate
