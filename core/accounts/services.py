"""Signing in, sessions, API tokens, lockout, accounts and role grants."""

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, func, select

from core.accounts.models import ApiToken, LoginFailure, RoleGrant, User, UserSession
from core.accounts.passwords import (
    DUMMY_HASH,
    check_password_rules,
    generate_password,
    hash_password,
    verify_password,
)
from core.accounts.policy import Policy
from core.accounts.principal import Grant, Principal
from core.audit.recorder import ACTOR, AuditActor, record
from core.errors import DomainError, FieldError
from core.i18n import text
from core.settings import Settings
from core.units.models import Unit, utcnow

TOKEN_PREFIX = "pa_"


def digest(token: str) -> str:
    """SHA-256 of a random token: enough for 256-bit secrets, which no list can guess."""
    return hashlib.sha256(token.encode()).hexdigest()


def principal_for(session: Session, user: User, policy: Policy, via: str) -> Principal:
    """The user with their grants and the actions the policy gives each."""
    grants = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).all()
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        unit_id=user.unit_id,
        grants=[
            Grant(g.id, g.role, g.unit_id, g.unit_path, policy.actions(g.role)) for g in grants
        ],
        via=via,
        must_change_password=user.must_change_password,
    )


# -- signing in --------------------------------------------------------------------------


class LoginRefused(DomainError):
    """Wrong credentials or a lockout; the message never says which part was wrong."""


def locked_until(
    session: Session, settings: Settings, username: str, address: str
) -> datetime | None:
    """When the lockout on this account or address ends, or None if there is none."""
    window = utcnow() - timedelta(minutes=settings.lockout_minutes)
    for column, value, threshold in (
        (LoginFailure.username, username, settings.lockout_account_threshold),
        (LoginFailure.address, address, settings.lockout_address_threshold),
    ):
        recent = session.exec(
            select(LoginFailure.at)
            .where(column == value, LoginFailure.at > window)
            .order_by(LoginFailure.at.desc())
            .limit(threshold)
        ).all()
        if len(recent) >= threshold:
            return recent[-1] + timedelta(minutes=settings.lockout_minutes)
    return None


def authenticate(
    session: Session, settings: Settings, username: str, password: str, address: str
) -> User:
    """Check a username and password, counting failures towards lockout.

    The caller commits: failures must be stored even though sign-in is refused.

    Raises:
        LoginRefused: locked out (status 429) or wrong credentials (401).
    """
    username = username.strip().lower()
    until = locked_until(session, settings, username, address)
    if until is not None:
        record(
            session,
            "login_locked",
            object_type="user_account",
            reason=username,
            outcome="denied",
            actor=AuditActor(None, username, address),
        )
        minutes = max(1, int((until - utcnow()).total_seconds() // 60) + 1)
        raise LoginRefused(
            text(
                f"登录失败次数过多，请 {minutes} 分钟后再试",
                f"Too many failed sign-ins; try again in {minutes} min",
            ),
            "locked_out",
            429,
        )
    user = session.exec(select(User).where(User.username == username)).first()
    valid = verify_password(password, user.password_hash if user else DUMMY_HASH)
    if not (user and valid and user.is_active):
        session.add(LoginFailure(username=username, address=address))
        record(
            session,
            "login_failed",
            object_type="user_account",
            object_id=user.id if user else None,
            outcome="denied",
            actor=AuditActor(None, username, address),
        )
        raise LoginRefused(
            text("用户名或密码错误", "Wrong username or password"), "invalid_credentials", 401
        )
    session.execute(sa.delete(LoginFailure).where(LoginFailure.username == username))
    # The rest of this request acts as the user who just signed in: the audit entries of the
    # sign-in itself (last login, a token issued for the password) name them.
    acting = session.info.get(ACTOR)
    session.info[ACTOR] = AuditActor(
        user.id, user.username, address, acting.action if acting else None
    )
    user.last_login_at = utcnow()
    session.add(user)
    return user


def password_expired(settings: Settings, user: User) -> bool:
    """Whether the deployment's maximum password age (if any) has passed."""
    if settings.password_max_age_days is None:
        return False
    return user.password_changed_at < utcnow() - timedelta(days=settings.password_max_age_days)


# -- page sessions -----------------------------------------------------------------------


def open_session(session: Session, user: User, address: str, user_agent: str | None) -> str:
    """Start a page session; return the cookie value (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=digest(token), user_id=user.id, address=address, user_agent=(user_agent or "")[:200]
        )
    )
    record(
        session,
        "login",
        object_type="user_account",
        object_id=user.id,
        actor=AuditActor(user.id, user.username, address),
    )
    return token


def resume_session(
    session: Session, settings: Settings, token: str
) -> tuple[User, UserSession] | None:
    """The user of a live session, refreshing its idle clock; None if ended or expired."""
    row = session.get(UserSession, digest(token))
    if row is None:
        return None
    now = utcnow()
    idle = now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes)
    too_old = now - row.created_at > timedelta(hours=settings.session_absolute_hours)
    user = session.get(User, row.user_id)
    if idle or too_old or user is None or not user.is_active:
        session.delete(row)
        return None
    if now - row.last_seen_at > timedelta(seconds=30):  # spare a write on every request
        row.last_seen_at = now
        session.add(row)
    return user, row


def end_session(session: Session, token: str) -> None:
    """Sign a browser out."""
    row = session.get(UserSession, digest(token))
    if row is not None:
        user = session.get(User, row.user_id)
        record(
            session,
            "logout",
            object_type="user_account",
            object_id=row.user_id,
            actor=AuditActor(row.user_id, user.username if user else None, row.address),
        )
        session.delete(row)


def end_all_sessions(session: Session, user_id: int, keep: str | None = None) -> int:
    """End every page session of a user (but ``keep``, a session id); return how many."""
    query = sa.delete(UserSession).where(UserSession.user_id == user_id)
    if keep is not None:
        query = query.where(UserSession.id != keep)
    return session.execute(query).rowcount


# -- API tokens --------------------------------------------------------------------------


def issue_token(
    session: Session, settings: Settings, user: User, name: str, days: int | None
) -> tuple[ApiToken, str]:
    """Create a bearer token; the clear value is returned once and never stored."""
    days = min(days or settings.token_max_age_days, settings.token_max_age_days)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=digest(token),
        prefix=token[:10],
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    record(
        session,
        "token_issued",
        object_type="api_token",
        object_id=row.id,
        after={"name": name, "prefix": row.prefix, "user_id": user.id},
    )
    return row, token


def resume_token(session: Session, token: str) -> User | None:
    """The active user of a live token, stamping its last use; None otherwise."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest(token))).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
        session.add(row)
    return user


def revoke_token(session: Session, user_id: int, token_id: int) -> ApiToken:
    """Revoke one of a user's tokens."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise DomainError(text("没有这个令牌", "No such token"), "not_found", 404)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        record(
            session,
            "token_revoked",
            object_type="api_token",
            object_id=row.id,
            after={"prefix": row.prefix, "user_id": user_id},
        )
    return row


# -- accounts ----------------------------------------------------------------------------


def change_password(
    session: Session,
    settings: Settings,
    user: User,
    current: str,
    new: str,
    keep_session: str | None,
) -> None:
    """Change a password after checking the current one; other sessions end."""
    if not verify_password(current, user.password_hash):
        raise DomainError(
            text("当前密码不正确", "The current password is wrong"),
            "wrong_password",
            400,
            [FieldError("current_password", "mismatch", text("当前密码不正确", "wrong password"))],
        )
    set_password(session, settings, user, new, field="new_password")
    end_all_sessions(session, user.id, keep=keep_session)


def set_password(
    session: Session, settings: Settings, user: User, new: str, *, field: str = "password"
) -> None:
    """Set a password that passes the rules."""
    check_password_rules(
        new, username=user.username, min_length=settings.password_min_length, field=field
    )
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    session.add(user)


def create_user(
    session: Session,
    settings: Settings,
    *,
    username: str,
    display_name: str,
    unit: Unit,
    password: str | None = None,
    person_id: int | None = None,
) -> tuple[User, str | None]:
    """Create an account; without a password, a one-time one is generated and returned.

    A generated password must be changed at first sign-in (ASVS 6.4.1).
    """
    username = username.strip().lower()
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise DomainError(
            text("用户名已被使用", "The username is taken"),
            "conflict",
            409,
            [FieldError("username", "unique", text("用户名已被使用", "already taken"))],
        )
    one_time = None
    if password is None:
        one_time = password = generate_password()
    else:
        check_password_rules(password, username=username, min_length=settings.password_min_length)
    user = User(
        username=username,
        display_name=display_name,
        unit_id=unit.id,
        unit_path=unit.path,
        person_id=person_id,
        password_hash=hash_password(password),
        must_change_password=one_time is not None,
    )
    session.add(user)
    session.flush()
    return user, one_time


def reset_password(session: Session, user: User) -> str:
    """Give an account a new one-time password; its sessions end and its tokens are revoked.

    An administrator resets a password when the old one is lost or may be known to someone
    else, so nothing issued under it stays valid.
    """
    one_time = generate_password()
    user.password_hash = hash_password(one_time)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    session.add(user)
    end_all_sessions(session, user.id)
    revoke_all_tokens(session, user.id)
    return one_time


def revoke_all_tokens(session: Session, user_id: int) -> None:
    """Revoke every live API token of a user."""
    session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def set_active(session: Session, user: User, active: bool, *, by: int | None) -> None:
    """Enable or disable an account; disabling ends its sessions and revokes its tokens.

    ``by`` is the acting user's id: nobody may disable their own account.
    """
    if not active and user.id == by:
        raise DomainError(
            text("不能停用自己的账户", "You cannot disable your own account"),
            "self",
            400,
            [FieldError("is_active", "self", text("不能停用自己", "not your own account"))],
        )
    user.is_active = active
    session.add(user)
    if not active:
        end_all_sessions(session, user.id)
        revoke_all_tokens(session, user.id)


def grant_role(
    session: Session, policy: Policy, granter: Principal | None, user: User, role: str, unit: Unit
) -> RoleGrant:
    """Give ``user`` a role at ``unit``.

    A granter needs ``core.grant.manage`` at the unit and may only hand out a role whose
    actions they hold there themselves (no escalation). ``granter=None`` is the system
    (first-run bootstrap, demo data, the command line).
    """
    if role not in policy.roles:
        raise DomainError(
            text("没有这个角色", "No such role"),
            "unknown_role",
            400,
            [FieldError("role", "unknown", role)],
        )
    if not policy.allowed_at(role, unit.level):
        raise DomainError(
            text("该角色不能设在这一级单位", "This role cannot be held at this unit level"),
            "role_level",
            400,
            [FieldError("unit_id", "role_level", f"{role} @ {unit.level}")],
        )
    if granter is not None:
        if not granter.can("core.grant.manage", unit):
            raise DomainError(
                text("无权在该单位授予角色", "Not allowed to grant roles at this unit"),
                "not_allowed",
                403,
            )
        missing = policy.actions(role) - granter.actions_at(unit)
        if missing:
            raise DomainError(
                text("不能授予超出自身权限的角色", "Cannot grant a role with permissions you lack"),
                "escalation",
                403,
                [FieldError("role", "escalation", ", ".join(sorted(missing)))],
            )
    existing = session.exec(
        select(RoleGrant).where(
            RoleGrant.user_id == user.id, RoleGrant.role == role, RoleGrant.unit_id == unit.id
        )
    ).first()
    if existing is not None:
        return existing
    grant = RoleGrant(
        user_id=user.id,
        role=role,
        unit_id=unit.id,
        unit_path=unit.path,
        granted_by_id=granter.user_id if granter else None,
    )
    session.add(grant)
    session.flush()
    return grant


def holders(session: Session, role: str) -> int:
    """How many active accounts hold ``role`` anywhere."""
    return session.exec(
        select(func.count(sa.distinct(RoleGrant.user_id)))
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == role, User.is_active)
    ).one()


def revoke_grant(session: Session, policy: Policy, revoker: Principal, grant: RoleGrant) -> None:
    """Take a role away; like granting, only a role whose actions the revoker holds there."""
    unit = session.get(Unit, grant.unit_id)
    missing = policy.actions(grant.role) - revoker.actions_at(unit)
    if missing or not revoker.can("core.grant.manage", unit):
        raise DomainError(
            text("不能收回超出自身权限的角色", "Cannot revoke a role with permissions you lack"),
            "escalation",
            403,
            [FieldError("role", "escalation", ", ".join(sorted(missing)))],
        )
    session.delete(grant)
