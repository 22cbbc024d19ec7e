"""Pages for signing in and out, one's own account, and managing accounts and roles."""

from typing import Annotated
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from core.access import get_scoped, scoped
from core.accounts import services
from core.accounts.models import ApiToken, RoleGrant, User, UserSession
from core.accounts.schemas import GrantCreate, PasswordChange, UserCreate
from core.errors import DomainError, FieldError
from core.i18n import text
from core.platform import Platform
from core.units.models import Unit
from core.web.auth import AUTHENTICATED, client_address, session_cookie_name
from core.web.deps import PlatformDep, SessionDep
from core.web.forms import errors_of, parse_form
from core.web.navigation import home_page_of

Form = URLEncodedBody[dict[str, str]]


def safe_next(target: str | None) -> str:
    """Only same-site paths may follow a sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _session_cookie(platform: Platform, value: str, *, clear: bool = False) -> Cookie:
    return Cookie(
        key=session_cookie_name(platform.settings.secure_cookies),
        value="" if clear else value,
        path="/",
        httponly=True,
        secure=platform.settings.secure_cookies,
        samesite="lax",
        max_age=0 if clear else None,
    )


def grantable_roles(platform: Platform, principal) -> list[str]:
    """Roles the principal could hand out somewhere (the service decides per unit)."""
    managing = [grant.actions for grant in principal.grants if "core.grant.manage" in grant.actions]
    return [
        name
        for name in platform.policy.roles
        if any(platform.policy.actions(name) <= actions for actions in managing)
    ]


class SignInPages(Controller):
    """Signing in and out."""

    include_in_schema = False

    @get("/login", sync_to_thread=False, opt={"action": None})
    def login_form(
        self, next_: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None
    ) -> Template:
        """The sign-in form."""
        return Template(
            "core:login.html", context={"next": safe_next(next_), "errors": [], "username": ""}
        )

    @post("/login", sync_to_thread=True, opt={"action": None})
    def login(
        self, request: Request, session: SessionDep, platform: PlatformDep, data: Form
    ) -> Response:
        """Check the credentials; on success start a session and continue."""
        username = data.get("username", "")[:64]
        target = safe_next(data.get("next"))
        try:
            user = services.authenticate(
                session,
                platform.settings,
                username,
                data.get("password", "")[:256],
                client_address(request.scope),
            )
        except services.LoginRefused as refused:
            session.commit()
            return Template(
                "core:login.html",
                context={"next": target, "errors": errors_of(refused), "username": username},
                status_code=refused.status,
            )
        token = services.open_session(
            session, user, client_address(request.scope), request.headers.get("user-agent")
        )
        session.commit()
        if user.must_change_password or services.password_expired(platform.settings, user):
            target = "/account/password?next=" + quote(target)
        return Redirect(target, cookies=[_session_cookie(platform, token)])

    @post("/logout", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def logout(self, request: Request, session: SessionDep, platform: PlatformDep) -> Redirect:
        """End this browser's session."""
        token = request.scope.get("state", {}).get("session_token")
        if token:
            services.end_session(session, token)
            session.commit()
        return Redirect("/login", cookies=[_session_cookie(platform, "", clear=True)])


class AccountPages(Controller):
    """One's own account: password, tokens, sessions."""

    path = "/account"
    include_in_schema = False

    def _page(self, request: Request, session: Session, **extra: object) -> Template:
        principal = request.scope["user"]
        user = session.get(User, principal.user_id)
        tokens = session.exec(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id).desc())
        ).all()
        sessions = session.exec(select(UserSession).where(UserSession.user_id == user.id)).all()
        grants = session.exec(
            select(RoleGrant, Unit)
            .join(Unit, Unit.id == RoleGrant.unit_id)
            .where(RoleGrant.user_id == user.id)
        ).all()
        context = {
            "user": user,
            "tokens": tokens,
            "sessions": sessions,
            "grants": grants,
            "errors": [],
            "new_token": None,
        }
        context.update(extra)
        return Template(
            "core:account.html", context=context, status_code=400 if context["errors"] else 200
        )

    @get("/", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def account(self, request: Request, session: SessionDep) -> Template:
        """Who I am, my roles, my tokens and my sessions."""
        return self._page(request, session)

    @get("/password", sync_to_thread=False, opt={"action": AUTHENTICATED})
    def password_form(
        self, next_: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None
    ) -> Template:
        """The password change form (also where a one-time password leads)."""
        return Template("core:password.html", context={"errors": [], "next": safe_next(next_)})

    @post("/password", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def change_password(
        self, request: Request, session: SessionDep, platform: PlatformDep, data: Form
    ) -> Response:
        """Change my password; my other sessions end."""
        target = safe_next(data.get("next"))
        change, errors = parse_form(
            PasswordChange, {k: data.get(k, "") for k in ("current_password", "new_password")}
        )
        if change is not None and change.new_password != data.get("confirm_password"):
            errors = [
                FieldError(
                    "confirm_password",
                    "mismatch",
                    text("两次输入的密码不一致", "The passwords differ"),
                )
            ]
        if not errors:
            user = session.get(User, request.scope["user"].user_id)
            current = request.scope.get("state", {}).get("session_token")
            try:
                services.change_password(
                    session,
                    platform.settings,
                    user,
                    change.current_password,
                    change.new_password,
                    services.digest(current) if current else None,
                )
                session.commit()
                return Redirect(target)
            except DomainError as refused:
                session.rollback()
                errors = errors_of(refused)
        return Template(
            "core:password.html", context={"errors": errors, "next": target}, status_code=400
        )

    @post("/tokens", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def create_token(
        self, request: Request, session: SessionDep, platform: PlatformDep, data: Form
    ) -> Template:
        """Issue an API token for myself; it is shown this once."""
        user = session.get(User, request.scope["user"].user_id)
        name = (data.get("name") or "api")[:100]
        days = int(data["days"]) if data.get("days", "").isdigit() else None
        _, token = services.issue_token(session, platform.settings, user, name, days)
        session.commit()
        return self._page(request, session, new_token=token)

    @post("/tokens/{token_id:int}/revoke", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def revoke_token(
        self, request: Request, session: SessionDep, token_id: FromPath[int]
    ) -> Redirect:
        """Revoke one of my tokens."""
        services.revoke_token(session, request.scope["user"].user_id, token_id)
        session.commit()
        return Redirect("/account/")


class UserPages(Controller):
    """Managing accounts and their roles within one's subtree."""

    path = "/admin/users"
    include_in_schema = False

    @get("/", sync_to_thread=True, opt={"action": "core.user.read"})
    def users(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        q: Annotated[str | None, QueryParameter(max_length=64)] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """Accounts in reach, searchable, 50 a page."""
        principal = request.scope["user"]
        query = scoped(
            select(User, Unit).join(Unit, Unit.id == User.unit_id),
            User.unit_path,
            principal,
            "core.user.read",
        )
        if q:
            query = query.where(
                col(User.username).contains(q.lower()) | col(User.display_name).contains(q)
            )
        rows = session.exec(query.order_by(User.id).offset((page - 1) * 50).limit(51)).all()
        units = session.exec(
            scoped(select(Unit), Unit.path, principal, "core.user.manage")
            .order_by(Unit.path)
            .limit(500)
        ).all()
        return Template(
            "core:users.html",
            context={
                "rows": rows[:50],
                "more": len(rows) > 50,
                "page_number": page,
                "q": q or "",
                "units": units,
                "errors": [],
                "created": None,
                "nav": home_page_of(platform, session, principal),
            },
        )

    @post("/", sync_to_thread=True, opt={"action": "core.user.manage"})
    def create(
        self, request: Request, session: SessionDep, platform: PlatformDep, data: Form
    ) -> Response:
        """Create an account at a unit in reach."""
        principal = request.scope["user"]
        wanted, errors = parse_form(UserCreate, data)
        if wanted is not None:
            try:
                unit = get_scoped(
                    session, Unit, wanted.unit_id, principal, "core.user.manage", "path"
                )
                user, one_time = services.create_user(
                    session,
                    platform.settings,
                    username=wanted.username,
                    display_name=wanted.display_name,
                    unit=unit,
                    password=wanted.password,
                )
                session.commit()
                return Template(
                    "core:user_created.html",
                    context={
                        "user": user,
                        "one_time": one_time,
                        "nav": home_page_of(platform, session, principal),
                    },
                )
            except DomainError as refused:
                session.rollback()
                errors = errors_of(refused)
        units = session.exec(
            scoped(select(Unit), Unit.path, principal, "core.user.manage")
            .order_by(Unit.path)
            .limit(500)
        ).all()
        return Template(
            "core:users.html",
            context={
                "rows": [],
                "more": False,
                "page_number": 1,
                "q": "",
                "units": units,
                "errors": errors,
                "created": None,
                "nav": home_page_of(platform, session, principal),
                "form": data,
            },
            status_code=400,
        )

    @get("/{user_id:int}", sync_to_thread=True, opt={"action": "core.user.read"})
    def detail(
        self, request: Request, session: SessionDep, platform: PlatformDep, user_id: FromPath[int]
    ) -> Template:
        """One account, its roles, and the forms to change them."""
        return self._detail(request, session, platform, user_id)

    def _detail(
        self, request, session, platform, user_id, errors=None, one_time=None, status_code=200
    ):
        principal = request.scope["user"]
        user = get_scoped(session, User, user_id, principal, "core.user.read")
        grants = session.exec(
            select(RoleGrant, Unit)
            .join(Unit, Unit.id == RoleGrant.unit_id)
            .where(RoleGrant.user_id == user.id)
        ).all()
        units = session.exec(
            scoped(select(Unit), Unit.path, principal, "core.grant.manage")
            .order_by(Unit.path)
            .limit(500)
        ).all()
        return Template(
            "core:user_detail.html",
            context={
                "user": user,
                "grants": grants,
                "units": units,
                "roles": platform.policy.roles,
                "grantable": grantable_roles(platform, principal),
                "errors": errors or [],
                "one_time": one_time,
                "nav": home_page_of(platform, session, principal),
            },
            status_code=status_code,
        )

    @post("/{user_id:int}/grants", sync_to_thread=True, opt={"action": "core.grant.manage"})
    def grant(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        user_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Give the account a role at a unit."""
        principal = request.scope["user"]
        wanted, errors = parse_form(GrantCreate, data)
        if wanted is not None:
            try:
                user = get_scoped(session, User, user_id, principal, "core.user.read")
                unit = get_scoped(
                    session, Unit, wanted.unit_id, principal, "core.grant.manage", "path"
                )
                services.grant_role(session, platform.policy, principal, user, wanted.role, unit)
                session.commit()
                return Redirect(f"/admin/users/{user_id}")
            except DomainError as refused:
                session.rollback()
                errors = errors_of(refused)
        return self._detail(request, session, platform, user_id, errors=errors, status_code=400)

    @post(
        "/{user_id:int}/grants/{grant_id:int}/revoke",
        sync_to_thread=True,
        opt={"action": "core.grant.manage"},
    )
    def revoke(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        user_id: FromPath[int],
        grant_id: FromPath[int],
    ) -> Response:
        """Take a role away."""
        principal = request.scope["user"]
        grant = get_scoped(session, RoleGrant, grant_id, principal, "core.grant.manage")
        if grant.user_id != user_id:
            raise NotFoundException(f"grant {grant_id} not found")
        try:
            services.revoke_grant(session, platform.policy, principal, grant)
        except DomainError as refused:
            return self._detail(
                request,
                session,
                platform,
                user_id,
                errors=errors_of(refused),
                status_code=refused.status,
            )
        session.commit()
        return Redirect(f"/admin/users/{user_id}")

    @post("/{user_id:int}/active", sync_to_thread=True, opt={"action": "core.user.manage"})
    def set_active(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        user_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Enable or disable the account."""
        principal = request.scope["user"]
        user = get_scoped(session, User, user_id, principal, "core.user.manage")
        active = data.get("active") == "1"
        try:
            services.set_active(session, user, active, by=principal.user_id)
        except DomainError as refused:
            return self._detail(
                request, session, platform, user_id, errors=errors_of(refused), status_code=400
            )
        session.commit()
        return Redirect(f"/admin/users/{user_id}")

    @post("/{user_id:int}/password-reset", sync_to_thread=True, opt={"action": "core.user.manage"})
    def reset(
        self, request: Request, session: SessionDep, platform: PlatformDep, user_id: FromPath[int]
    ) -> Template:
        """Give the account a one-time password (shown once)."""
        user = get_scoped(session, User, user_id, request.scope["user"], "core.user.manage")
        one_time = services.reset_password(session, user)
        session.commit()
        return self._detail(request, session, platform, user_id, one_time=one_time)
