"""The accounts API: tokens, the signed-in user, accounts and role grants."""

from typing import Annotated

from litestar import Controller, Request, delete, get, patch, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlmodel import col, select

from core.access import get_scoped, scoped
from core.accounts import services
from core.accounts.models import ApiToken, RoleGrant, User
from core.accounts.principal import Principal
from core.accounts.schemas import (
    GrantCreate,
    GrantRead,
    Me,
    PasswordChange,
    PasswordReset,
    TokenIssued,
    TokenRead,
    TokenRequest,
    UserCreate,
    UserCreated,
    UserRead,
    UserUpdate,
)
from core.errors import DomainError
from core.i18n import text
from core.units.models import Unit
from core.web.auth import AUTHENTICATED, client_address
from core.web.deps import Limit, Offset, PlatformDep, SessionDep


def _user(request: Request) -> Principal:
    return request.scope["user"]


class AuthController(Controller):
    """API tokens and the signed-in user."""

    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/token",
        sync_to_thread=True,
        operation_id="CreateToken",
        opt={"action": None},
        status_code=HTTP_201_CREATED,
    )
    def create_token(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        data: JSONBody[TokenRequest],
    ) -> TokenIssued:
        """Exchange a username and password for a bearer token (lockout applies)."""
        try:
            user = services.authenticate(
                session,
                platform.settings,
                data.username,
                data.password,
                client_address(request.scope),
            )
        except services.LoginRefused:
            session.commit()  # keep the failure count and the audit entry
            raise
        if user.must_change_password or services.password_expired(platform.settings, user):
            session.commit()
            raise DomainError(
                text("请先在页面上修改密码", "Change your password on the sign-in page first"),
                "password_change_required",
                403,
            )
        row, token = services.issue_token(session, platform.settings, user, data.name, data.days)
        session.commit()
        return TokenIssued(
            id=row.id, name=row.name, prefix=row.prefix, token=token, expires_at=row.expires_at
        )

    @get("/tokens", sync_to_thread=True, operation_id="ListTokens", opt={"action": AUTHENTICATED})
    def list_tokens(self, request: Request, session: SessionDep) -> list[TokenRead]:
        """The caller's own tokens."""
        rows = session.exec(
            select(ApiToken)
            .where(ApiToken.user_id == _user(request).user_id)
            .order_by(col(ApiToken.id).desc())
        )
        return [TokenRead.model_validate(row) for row in rows]

    @delete(
        "/tokens/{token_id:int}",
        sync_to_thread=True,
        operation_id="RevokeToken",
        opt={"action": AUTHENTICATED},
        status_code=HTTP_204_NO_CONTENT,
    )
    def revoke_token(self, request: Request, session: SessionDep, token_id: FromPath[int]) -> None:
        """Revoke one of the caller's tokens."""
        services.revoke_token(session, _user(request).user_id, token_id)
        session.commit()

    @get("/me", sync_to_thread=True, operation_id="GetMe", opt={"action": AUTHENTICATED})
    def me(self, request: Request, session: SessionDep) -> Me:
        """Who the caller is and which roles they hold where."""
        principal = _user(request)
        user = session.get(User, principal.user_id)
        grants = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).all()
        return Me(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            unit_id=user.unit_id,
            grants=[GrantRead.model_validate(g) for g in grants],
            must_change_password=user.must_change_password,
        )

    @post(
        "/password",
        sync_to_thread=True,
        operation_id="ChangePassword",
        opt={"action": AUTHENTICATED},
        status_code=HTTP_204_NO_CONTENT,
    )
    def change_password(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        data: JSONBody[PasswordChange],
    ) -> None:
        """Change the caller's password; their page sessions end."""
        user = session.get(User, _user(request).user_id)
        services.change_password(
            session, platform.settings, user, data.current_password, data.new_password, None
        )
        session.commit()


class UserController(Controller):
    """Accounts and role grants, within the caller's subtree."""

    path = "/api/v1/users"
    tags = ["users"]

    @get("/", sync_to_thread=True, operation_id="ListUsers", opt={"action": "core.user.read"})
    def list_users(
        self,
        request: Request,
        session: SessionDep,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        unit_id: Annotated[int | None, QueryParameter(ge=1)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[UserRead]:
        """Accounts managed within the caller's reach."""
        query = scoped(select(User), User.unit_path, _user(request), "core.user.read")
        if q:
            query = query.where(
                col(User.username).contains(q.lower()) | col(User.display_name).contains(q)
            )
        if unit_id is not None:
            query = query.where(User.unit_id == unit_id)
        rows = session.exec(query.order_by(User.id).offset(offset).limit(limit))
        return [UserRead.model_validate(row) for row in rows]

    @post(
        "/",
        sync_to_thread=True,
        operation_id="CreateUser",
        opt={"action": "core.user.manage"},
        status_code=HTTP_201_CREATED,
    )
    def create_user(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        data: JSONBody[UserCreate],
    ) -> UserCreated:
        """Create an account at a unit within reach."""
        unit = get_scoped(session, Unit, data.unit_id, _user(request), "core.user.manage", "path")
        user, one_time = services.create_user(
            session,
            platform.settings,
            username=data.username,
            display_name=data.display_name,
            unit=unit,
            password=data.password,
        )
        session.commit()
        return UserCreated(user=UserRead.model_validate(user), one_time_password=one_time)

    @get(
        "/{user_id:int}",
        sync_to_thread=True,
        operation_id="GetUser",
        opt={"action": "core.user.read"},
    )
    def get_user(self, request: Request, session: SessionDep, user_id: FromPath[int]) -> UserRead:
        """One account."""
        return UserRead.model_validate(
            get_scoped(session, User, user_id, _user(request), "core.user.read")
        )

    @patch(
        "/{user_id:int}",
        sync_to_thread=True,
        operation_id="UpdateUser",
        opt={"action": "core.user.manage"},
    )
    def update_user(
        self,
        request: Request,
        session: SessionDep,
        user_id: FromPath[int],
        data: JSONBody[UserUpdate],
    ) -> UserRead:
        """Rename an account, or disable it (its sessions end and tokens are revoked)."""
        principal = _user(request)
        user = get_scoped(session, User, user_id, principal, "core.user.manage")
        if data.display_name is not None:
            user.display_name = data.display_name
            session.add(user)
        if data.is_active is not None:
            services.set_active(session, user, data.is_active, by=principal.user_id)
        session.commit()
        return UserRead.model_validate(user)

    @post(
        "/{user_id:int}/password-reset",
        sync_to_thread=True,
        operation_id="ResetPassword",
        opt={"action": "core.user.manage"},
        status_code=HTTP_201_CREATED,
    )
    def reset_password(
        self, request: Request, session: SessionDep, user_id: FromPath[int]
    ) -> PasswordReset:
        """Give the account a one-time password to change at next sign-in."""
        user = get_scoped(session, User, user_id, _user(request), "core.user.manage")
        one_time = services.reset_password(session, user)
        session.commit()
        return PasswordReset(one_time_password=one_time)

    @get(
        "/{user_id:int}/grants",
        sync_to_thread=True,
        operation_id="ListGrants",
        opt={"action": "core.user.read"},
    )
    def list_grants(
        self, request: Request, session: SessionDep, user_id: FromPath[int]
    ) -> list[GrantRead]:
        """The roles an account holds."""
        user = get_scoped(session, User, user_id, _user(request), "core.user.read")
        rows = session.exec(
            select(RoleGrant).where(RoleGrant.user_id == user.id).order_by(RoleGrant.id)
        )
        return [GrantRead.model_validate(row) for row in rows]

    @post(
        "/{user_id:int}/grants",
        sync_to_thread=True,
        operation_id="CreateGrant",
        opt={"action": "core.grant.manage"},
        status_code=HTTP_201_CREATED,
    )
    def create_grant(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        user_id: FromPath[int],
        data: JSONBody[GrantCreate],
    ) -> GrantRead:
        """Give the account a role at a unit (no more than the caller holds there)."""
        principal = _user(request)
        user = get_scoped(session, User, user_id, principal, "core.user.read")
        unit = get_scoped(session, Unit, data.unit_id, principal, "core.grant.manage", "path")
        grant = services.grant_role(session, platform.policy, principal, user, data.role, unit)
        session.commit()
        return GrantRead.model_validate(grant)

    @delete(
        "/{user_id:int}/grants/{grant_id:int}",
        sync_to_thread=True,
        operation_id="RevokeGrant",
        opt={"action": "core.grant.manage"},
        status_code=HTTP_204_NO_CONTENT,
    )
    def revoke_grant(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        user_id: FromPath[int],
        grant_id: FromPath[int],
    ) -> None:
        """Take a role away."""
        principal = _user(request)
        grant = get_scoped(session, RoleGrant, grant_id, principal, "core.grant.manage")
        if grant.user_id != user_id:
            raise NotFoundException(f"grant {grant_id} not found")
        services.revoke_grant(session, platform.policy, principal, grant)
        session.commit()
