"""Security headers on every response (ASVS 3.4, 14.3)."""

from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The OpenAPI viewer loads its scripts and styles from a CDN; it gets its own policy.
SCHEMA_POLICY = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'"

BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
]


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Add CSP, anti-framing, no-sniff and referrer headers; HSTS over https.

    A ``before_send`` hook rather than a middleware: litestar runs middleware only around a
    matched route, so the 404 and 405 answers to unknown paths would go out without them.

    Responses to signed-in requests are marked ``Cache-Control: no-store`` so personal data
    never lingers in shared caches or the browser's back-forward cache.
    """
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    present = {key.lower() for key, _ in headers}
    policy = (
        SCHEMA_POLICY if scope.get("path", "").startswith("/schema") else CONTENT_SECURITY_POLICY
    )
    headers.append((b"content-security-policy", policy.encode()))
    headers.extend(h for h in BASE_HEADERS if h[0] not in present)
    if scope.get("scheme") == "https":
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    if scope.get("user") is not None and b"cache-control" not in present:
        headers.append((b"cache-control", b"no-store"))
    message["headers"] = headers
