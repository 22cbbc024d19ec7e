"""Accounts, role grants held at units, API tokens, page sessions and login failures."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.security.fields import Encrypted
from core.units.models import PATH_TYPE, utcnow

TIMESTAMP = UTCDateTime


class User(SQLModel, table=True):
    """Someone who signs in. ``unit_id`` is the unit that manages the account."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=50)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    password_hash: str = Field(sa_type=sa.Text)
    email: str | None = Field(default=None, sa_type=Encrypted())  # for notifications only
    is_active: bool = True
    must_change_password: bool = False
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    last_login_at: datetime | None = Field(default=None, sa_type=TIMESTAMP)


class RoleGrant(SQLModel, table=True):
    """A role held at a unit; it reaches the unit's whole subtree, never a sibling or parent."""

    __tablename__ = "role_grant"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=64)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    granted_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    granted_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)


class ApiToken(SQLModel, table=True):
    """A bearer token for the API. Only its SHA-256 is stored; ``prefix`` identifies it."""

    __tablename__ = "api_token"
    __audit__ = False  # issuing and revoking are recorded as events; use stamps are noise

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    last_used_at: datetime | None = Field(default=None, sa_type=TIMESTAMP)
    expires_at: datetime | None = Field(default=None, sa_type=TIMESTAMP)
    revoked_at: datetime | None = Field(default=None, sa_type=TIMESTAMP)


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; the row holds its SHA-256.

    Kept in the database, which every web process already shares, so that any process can
    end all of a user's sessions (password change, account disabled) at once.
    """

    __tablename__ = "user_session"
    __audit__ = False  # sign-in and sign-out are recorded as events

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=200)


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, counted per account and per address for lockout."""

    __tablename__ = "login_failure"
    __audit__ = False  # each failure is recorded as a login_failed event
    __table_args__ = (
        sa.Index("ix_login_failure_username_at", "username", "at"),
        sa.Index("ix_login_failure_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    address: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
