"""Driving pages like a browser: CSRF tokens from forms, signing in."""

import re

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_INPUT.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


async def post_form(client, path: str, form: dict[str, str], *, from_page: str | None = None):
    """Submit a form the way a browser would: fetch the page for its token, then POST."""
    page = await client.get(from_page or path)
    return await client.post(path, data={**form, "_csrf_token": csrf_token(page.text)})


async def sign_in(client, username: str, password: str):
    """Sign in through the login page; the client keeps the session cookie."""
    response = await post_form(client, "/login", {"username": username, "password": password})
    assert response.status_code in (200, 302, 303), response.text[:500]
    return response
