"""Who is asking (bearer token for the API, session cookie for pages) and whether they may.

Every route names its action in ``opt["action"]``: ``None`` for a public route,
:data:`AUTHENTICATED` for "any signed-in user", otherwise a registered action. The single
guard :func:`authorize` decides, in this order: a plugin route at a unit where the plugin is
off answers 404; no principal answers 401 (a page redirects to the sign-in form); a unit
outside everything the principal sees answers 404; a unit they see but may not act on
answers 403.
"""

from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote

from anyio import to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send

from core.accounts.principal import Principal
from core.accounts.services import password_expired, principal_for, resume_session, resume_token
from core.errors import DomainError
from core.i18n import text
from core.platform import Platform
from core.plugins import CORE
from core.units.models import Unit
from core.units.services import enabled_plugins

AUTHENTICATED = "authenticated"
SESSION_COOKIE = "pingan_session"
SECURE_SESSION_COOKIE = "__Host-pingan_session"
API_PREFIX = "/api/"
OPEN_WHILE_PASSWORD_EXPIRED = {"/account/password", "/logout"}


class PasswordChangeRequired(Exception):
    """A one-time or expired password must be replaced before anything else."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def redirect_to_password_change(_: object, error: PasswordChangeRequired) -> Redirect:
    """Send the user to the password form, then back where they were going."""
    return Redirect("/account/password?next=" + quote(error.path))


class SignInRequired(Exception):
    """A page was asked for without a live session (never signed in, expired or ended)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def redirect_to_sign_in(_: object, error: SignInRequired) -> Redirect:
    """Send the browser to the sign-in form, then back where it was going."""
    return Redirect("/login?next=" + quote(error.path))


def session_cookie_name(secure: bool) -> str:
    """``__Host-`` binds the cookie to this host and path ``/``, but needs ``Secure``."""
    return SECURE_SESSION_COOKIE if secure else SESSION_COOKIE


def client_address(scope: Scope) -> str:
    """The client's address (behind a proxy, run uvicorn with ``--proxy-headers``)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def _bearer(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" and token.strip() else None
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope["headers"]:
        if key == b"cookie":
            try:
                cookies = SimpleCookie(value.decode("latin-1"))
            except CookieError:
                return None
            return cookies[name].value if name in cookies else None
    return None


class AuthMiddleware(ASGIMiddleware):
    """Resolves the principal: API requests by bearer token only, pages by session cookie only.

    Keeping the two apart means a browser's cookie never authenticates an API call, so the
    API needs no CSRF token and pages need no bearer token.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Attach ``scope["user"]``: a principal, or None for an anonymous request."""
        scope["user"] = None
        if scope["type"] == "http":
            platform: Platform = scope["litestar_app"].state.platform
            if scope["path"].startswith(API_PREFIX):
                token = _bearer(scope)
                if token:
                    scope["user"] = await to_thread.run_sync(_from_token, platform, token)
            else:
                name = session_cookie_name(platform.settings.secure_cookies)
                cookie = _cookie(scope, name)
                if cookie:
                    scope["user"] = await to_thread.run_sync(_from_session, platform, cookie)
                    scope.setdefault("state", {})["session_token"] = cookie
        await next_app(scope, receive, send)


def _from_token(platform: Platform, token: str) -> Principal | None:
    with platform.session_factory() as session:
        user = resume_token(session, token)
        principal = principal_for(session, user, platform.policy, "token") if user else None
        session.commit()
        return principal


def _from_session(platform: Platform, cookie: str) -> Principal | None:
    with platform.session_factory() as session:
        resumed = resume_session(session, platform.settings, cookie)
        principal = None
        if resumed:
            user = resumed[0]
            principal = principal_for(session, user, platform.policy, "session")
            principal.must_change_password |= password_expired(platform.settings, user)
        session.commit()
        return principal


async def authorize(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The one permission guard, applied to every route of the app."""
    action = handler.opt.get("action")
    owner = handler.opt.get("owner", CORE)
    unit_id = connection.path_params.get("unit_id")
    platform: Platform = connection.app.state.platform
    unit = await to_thread.run_sync(_unit_and_check_plugin, platform, unit_id, owner)
    if action is None:
        return
    principal: Principal | None = connection.scope.get("user")
    if principal is None:
        if not connection.url.path.startswith(API_PREFIX):
            raise SignInRequired(connection.url.path)
        raise NotAuthorizedException("sign in first")
    if principal.must_change_password and connection.url.path not in OPEN_WHILE_PASSWORD_EXPIRED:
        if connection.url.path.startswith(API_PREFIX):
            raise DomainError(
                text("请先在页面上修改密码", "Change your password on the sign-in page first"),
                "password_change_required",
                403,
            )
        raise PasswordChangeRequired(connection.url.path)
    if action == AUTHENTICATED:
        return
    if unit is not None and not principal.sees(unit):
        raise NotFoundException(f"unit {unit_id} not found")
    if not principal.can(action, unit):
        raise PermissionDeniedException(f"not allowed: {action}")


def _unit_and_check_plugin(platform: Platform, unit_id: int | None, owner: str) -> Unit | None:
    if unit_id is None:
        return None
    with platform.session_factory() as session:
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFoundException(f"unit {unit_id} not found")
        if owner != CORE and owner not in enabled_plugins(session, unit):
            raise NotFoundException(f"{owner} is not enabled at unit {unit_id}")
        return unit


def principal_of(connection: ASGIConnection) -> Principal | None:
    """The signed-in principal, if any."""
    return connection.scope.get("user")
