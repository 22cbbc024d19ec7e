"""Choosing the language of each request, and remembering an explicit choice in a cookie."""

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import LOCALE_COOKIE, current_locale, negotiate

ONE_YEAR = 365 * 24 * 3600


def scope_locale(scope: Scope, default: str) -> tuple[str, str | None]:
    """The request's language and, if the query chose one (``?lang=en``), that choice."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
    headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
    cookies = SimpleCookie(headers.get("cookie", ""))
    cookie = cookies[LOCALE_COOKIE].value if LOCALE_COOKIE in cookies else None
    locale = negotiate(query, cookie, headers.get("accept-language"), default)
    return locale, query if query == locale else None


class LocaleMiddleware(ASGIMiddleware):
    """Sets ``current_locale`` for the request; ``?lang=`` also sets a cookie for next time."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Run the request in its language."""
        default = scope["litestar_app"].state.platform.settings.default_locale
        locale, chosen = scope_locale(scope, default)
        token = current_locale.set(locale)

        async def send_with_cookie(message: Message) -> None:
            if chosen and message["type"] == "http.response.start":
                cookie = f"{LOCALE_COOKIE}={chosen}; Path=/; Max-Age={ONE_YEAR}; SameSite=Lax"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        try:
            await next_app(scope, receive, send_with_cookie)
        finally:
            current_locale.reset(token)
