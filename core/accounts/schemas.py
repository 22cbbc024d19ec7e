"""API input and output for accounts, grants and tokens."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Input: exact types, unknown fields refused (no mass assignment)."""

    model_config = ConfigDict(strict=True, extra="forbid")


class TokenRequest(Strict):
    """Exchange a username and password for an API token."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(default="api", min_length=1, max_length=100)
    days: int | None = Field(default=None, ge=1, le=3650)


class TokenIssued(BaseModel):
    """A new token: ``token`` is shown this once."""

    id: int
    name: str
    prefix: str
    token: str
    expires_at: datetime | None


class TokenRead(BaseModel):
    """A token as listed (never its value)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class GrantRead(BaseModel):
    """A role held at a unit."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    role: str
    unit_id: int
    granted_at: datetime


class Me(BaseModel):
    """The signed-in user and their grants."""

    id: int
    username: str
    display_name: str
    unit_id: int
    grants: list[GrantRead]
    must_change_password: bool


class UserRead(BaseModel):
    """An account."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    unit_id: int
    person_id: int | None
    is_active: bool
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None


class UserCreate(Strict):
    """A new account; without ``password`` a one-time password is generated and returned."""

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = Field(min_length=1, max_length=50)
    unit_id: int = Field(ge=1)
    password: str | None = Field(default=None, max_length=128)


class UserCreated(BaseModel):
    """The new account and, if generated, its one-time password (shown once)."""

    user: UserRead
    one_time_password: str | None


class UserUpdate(Strict):
    """Change an account's name or switch it on or off."""

    display_name: str | None = Field(default=None, min_length=1, max_length=50)
    is_active: bool | None = None


class PasswordReset(BaseModel):
    """A new one-time password (shown once)."""

    one_time_password: str


class PasswordChange(Strict):
    """Change one's own password."""

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class GrantCreate(Strict):
    """Give a role at a unit."""

    role: str = Field(min_length=1, max_length=64)
    unit_id: int = Field(ge=1)
