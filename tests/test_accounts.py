"""Signing in and out, lockout, sessions, CSRF, API tokens, passwords, accounts and roles.

Time is controlled by moving stored timestamps (session stamps, login failures, token
expiry) into the past, never by sleeping.
"""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlmodel import func, select

from core.accounts import services
from core.accounts.bootstrap import ROOT_NAME, ensure_platform_admin
from core.accounts.models import ApiToken, LoginFailure, RoleGrant, User, UserSession
from core.accounts.passwords import ARGON2ID, verify_password
from core.app import create_app
from core.audit.models import AuditEntry
from core.platform import build_platform
from core.plugins import make_plugin_manager
from core.units.models import Unit, UnitLevel, utcnow
from core.web.auth import SECURE_SESSION_COOKIE, SESSION_COOKIE
from tests.support.fixtures import TEST_PASSWORD
from tests.support.web import csrf_token, post_form, sign_in

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a fresh passphrase for 2025"
WRONG = "not the password at all"
ENGLISH = {"accept-language": "en"}


# -- helpers -----------------------------------------------------------------------------


async def login(client, username: str, password: str, *, next_: str | None = None, headers=None):
    """POST the sign-in form (with its CSRF token) without following the redirect."""
    page = await client.get("/login")
    form = {"username": username, "password": password, "_csrf_token": csrf_token(page.text)}
    if next_ is not None:
        form["next"] = next_
    return await client.post("/login", data=form, headers=headers, follow_redirects=False)


def set_cookies(response) -> dict[str, str]:
    """The response's Set-Cookie headers by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def use_session(client, token: str, name: str = SESSION_COOKIE) -> None:
    """Make the client present ``token`` as its session cookie (a replayed cookie)."""
    client.cookies.delete(name)
    client.cookies.set(name, token, domain="testserver.local", path="/")


def sessions_of(platform, user_id: int) -> list[UserSession]:
    with platform.session_factory() as session:
        return list(session.exec(select(UserSession).where(UserSession.user_id == user_id)))


def failures(platform, username: str) -> int:
    with platform.session_factory() as session:
        return session.exec(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.username == username)
        ).one()


def set_columns(platform, model, where, **values) -> None:
    """UPDATE ``model`` rows matching ``where`` directly: the test's clock."""
    with platform.session_factory() as session:
        session.execute(sa.update(model).where(where).values(**values))
        session.commit()


def user_row(platform, user_id: int) -> User:
    with platform.session_factory() as session:
        return session.get(User, user_id)


def rules(response) -> set[tuple[str, str]]:
    return {(error["field"], error["rule"]) for error in response.json()["errors"]}


async def assert_signed_out(client, path: str = "/account/") -> None:
    """The page redirects to the sign-in form: the session no longer counts."""
    response = await client.get(path, follow_redirects=False)
    assert response.status_code == 302, response.text[:300]
    assert response.headers["location"] == f"/login?next={path.rstrip('/') or '/'}"


async def one_time_account(client, admin, unit) -> tuple[int, str, str]:
    """An account created through the API without a password: (id, username, one-time)."""
    response = await client.post(
        "/api/v1/users",
        json={"username": "newcomer", "display_name": "新来的", "unit_id": unit.id},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["must_change_password"] is True
    assert re.fullmatch(r"[A-Za-z0-9]{16}", body["one_time_password"])
    return body["user"]["id"], "newcomer", body["one_time_password"]


# -- signing in --------------------------------------------------------------------------


async def test_sign_in_redirects_with_an_httponly_samesite_session_cookie(
    client, platform, unit_tree, accounts
):
    account = accounts("district_admin", unit_tree.district)
    response = await login(client, account.username, account.password)
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    cookie = set_cookies(response)[SESSION_COOKIE]
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes
    assert "secure" not in attributes  # settings.secure_cookies is off for plain-http tests
    token = client.cookies[SESSION_COOKIE]
    (row,) = sessions_of(platform, account.user_id)
    assert row.id == services.digest(token) != token  # only the hash is stored
    page = await client.get("/account/")
    assert page.status_code == 200 and account.username in page.text


async def test_sign_in_continues_to_a_local_next_page_only(client, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    response = await login(client, account.username, account.password, next_="/account/")
    assert response.headers["location"] == "/account/"
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = await login(client, account.username, account.password, next_=hostile)
        assert response.headers["location"] == "/", hostile


async def test_secure_cookies_are_secure_and_host_bound_over_https(settings, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    secure = build_platform(
        settings.model_copy(update={"secure_cookies": True}), make_plugin_manager()
    )
    try:
        app = create_app(platform=secure)
        async with AsyncTestClient(app, base_url="https://testserver.local") as client:
            page = await client.get("/login")
            csrf_cookie = set_cookies(page)["pingan_csrf"].lower()
            assert "; secure" in csrf_cookie and "; httponly" in csrf_cookie
            assert "samesite=strict" in csrf_cookie
            response = await login(client, account.username, account.password)
            assert response.status_code == 302
            cookie = set_cookies(response)[SECURE_SESSION_COOKIE]
            attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
            assert {"httponly", "secure", "samesite=lax", "path=/"} <= attributes
            assert not any(a.startswith("domain=") for a in attributes)  # __Host- forbids it
            assert SESSION_COOKIE not in set_cookies(response)
            page = await client.get("/account/")
            assert page.status_code == 200 and account.username in page.text
            # The plain name is not read when cookies are secure.
            token = client.cookies[SECURE_SESSION_COOKIE]
            client.cookies.clear()
            client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
            await assert_signed_out(client)
    finally:
        secure.jobs.stop_worker()
        secure.engine.dispose()


def test_passwords_are_stored_as_argon2id_at_owasps_cost_and_still_verify_cheaper_ones():
    stored = ARGON2ID.hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert not verify_password("correct horse battery", "not a hash")


async def test_a_wrong_password_and_an_unknown_user_get_the_same_message(
    client, platform, unit_tree, accounts
):
    account = accounts("district_admin", unit_tree.district)
    wrong = await login(client, account.username, WRONG)
    unknown = await login(client, "nobody-here", WRONG)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text
        assert SESSION_COOKIE not in set_cookies(response)
    english = await login(client, account.username, WRONG, headers=ENGLISH)
    assert "Wrong username or password" in english.text
    assert failures(platform, account.username) == 2
    assert failures(platform, "nobody-here") == 1
    assert sessions_of(platform, account.user_id) == []


# -- lockout -----------------------------------------------------------------------------


async def test_five_failures_lock_the_account_even_for_the_right_password(
    client, platform, unit_tree, accounts
):
    account = accounts("district_admin", unit_tree.district)
    for _ in range(platform.settings.lockout_account_threshold):
        assert (await login(client, account.username, WRONG)).status_code == 401
    locked = await login(client, account.username, account.password)
    assert locked.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试" in locked.text
    assert SESSION_COOKIE not in set_cookies(locked)
    english = await login(client, account.username, account.password, headers=ENGLISH)
    assert "Too many failed sign-ins; try again in 15 min" in english.text
    assert sessions_of(platform, account.user_id) == []
    # A locked attempt is not counted again, and other accounts at this address still work.
    assert failures(platform, account.username) == 5
    other = accounts("township_leader", unit_tree.township)
    assert (await login(client, other.username, other.password)).status_code == 302
    with platform.session_factory() as session:
        events = session.exec(
            select(AuditEntry.event).where(AuditEntry.reason == account.username)
        ).all()
    assert events == ["login_locked", "login_locked"]


async def test_twenty_failures_from_one_address_lock_every_account_there(
    client, platform, unit_tree, accounts
):
    account = accounts("district_admin", unit_tree.district)
    threshold = platform.settings.lockout_address_threshold
    for n in range(threshold - 1):
        await login(client, f"guess-{n}", WRONG)  # never 5 on one account
    assert (await login(client, account.username, WRONG)).status_code == 401  # the 20th
    locked = await login(client, account.username, account.password)
    assert locked.status_code == 429 and "15 分钟" in locked.text
    never_tried = accounts("township_leader", unit_tree.township)
    assert (await login(client, never_tried.username, never_tried.password)).status_code == 429
    with platform.session_factory() as session:
        address = session.exec(select(LoginFailure.address)).first()
        settings = platform.settings
        assert services.locked_until(session, settings, never_tried.username, address)
        assert services.locked_until(session, settings, never_tried.username, "192.0.2.9") is None


async def test_a_lockout_ends_after_its_window(client, platform, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    for _ in range(5):
        await login(client, account.username, WRONG)
    assert (await login(client, account.username, account.password)).status_code == 429
    mine = LoginFailure.username == account.username
    set_columns(platform, LoginFailure, mine, at=utcnow() - timedelta(minutes=14))
    almost = await login(client, account.username, account.password)
    assert almost.status_code == 429 and "请 1 分钟后再试" in almost.text
    set_columns(platform, LoginFailure, mine, at=utcnow() - timedelta(minutes=16))
    response = await login(client, account.username, account.password)
    assert response.status_code == 302 and SESSION_COOKIE in set_cookies(response)
    assert failures(platform, account.username) == 0


async def test_a_successful_sign_in_clears_the_accounts_failures(
    client, platform, unit_tree, accounts
):
    account = accounts("district_admin", unit_tree.district)
    for _ in range(4):
        await login(client, account.username, WRONG)
    assert failures(platform, account.username) == 4
    assert (await login(client, account.username, account.password)).status_code == 302
    assert failures(platform, account.username) == 0
    for _ in range(4):
        await login(client, account.username, WRONG)
    assert (await login(client, account.username, account.password)).status_code == 302


# -- sessions ----------------------------------------------------------------------------


async def test_an_idle_session_ends_after_30_minutes(client, platform, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    await sign_in(client, account.username, account.password)
    mine = UserSession.user_id == account.user_id
    set_columns(platform, UserSession, mine, last_seen_at=utcnow() - timedelta(minutes=29))
    assert (await client.get("/account/")).status_code == 200
    (row,) = sessions_of(platform, account.user_id)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)  # the idle clock restarted
    set_columns(platform, UserSession, mine, last_seen_at=utcnow() - timedelta(minutes=31))
    await assert_signed_out(client)
    assert sessions_of(platform, account.user_id) == []


async def test_a_session_ends_12_hours_after_sign_in_however_active(
    client, platform, unit_tree, accounts
):
    account = accounts("district_admin", unit_tree.district)
    await sign_in(client, account.username, account.password)
    mine = UserSession.user_id == account.user_id
    set_columns(platform, UserSession, mine, created_at=utcnow() - timedelta(hours=11, minutes=59))
    assert (await client.get("/account/")).status_code == 200
    set_columns(
        platform,
        UserSession,
        mine,
        created_at=utcnow() - timedelta(hours=12, minutes=1),
        last_seen_at=utcnow(),
    )
    await assert_signed_out(client)
    assert sessions_of(platform, account.user_id) == []


async def test_logout_ends_the_session_on_the_server(client, platform, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    await sign_in(client, account.username, account.password)
    token = client.cookies[SESSION_COOKIE]
    response = await client.post(
        "/logout",
        data={"_csrf_token": csrf_token((await client.get("/account/")).text)},
        follow_redirects=False,
    )
    assert response.status_code == 302 and response.headers["location"] == "/login"
    assert "max-age=0" in set_cookies(response)[SESSION_COOKIE].lower()
    assert sessions_of(platform, account.user_id) == []
    use_session(client, token)  # a copy of the cookie kept from before
    await assert_signed_out(client)
    with platform.session_factory() as session:
        logout = session.exec(select(AuditEntry).where(AuditEntry.event == "logout")).one()
    assert (logout.user_id, logout.username) == (account.user_id, account.username)


# -- CSRF --------------------------------------------------------------------------------


async def test_a_form_post_without_or_with_a_wrong_csrf_token_is_refused(
    client, platform, unit_tree, admin
):
    await sign_in(client, admin.username, admin.password)
    await client.get("/account/password")  # the browser holds its CSRF cookie
    before = user_row(platform, admin.user_id).password_hash
    change = {
        "current_password": admin.password,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    create = {"username": "smuggled", "display_name": "偷偷", "unit_id": str(unit_tree.city.id)}
    for token in (None, "forged-token", csrf_token((await client.get("/login")).text)[:-4]):
        extra = {} if token is None else {"_csrf_token": token}
        refused = await client.post("/account/password", data={**change, **extra})
        assert refused.status_code == 403, token
        refused = await client.post("/admin/users", data={**create, **extra})
        assert refused.status_code == 403, token
    assert user_row(platform, admin.user_id).password_hash == before
    with platform.session_factory() as session:
        assert session.exec(select(User).where(User.username == "smuggled")).first() is None
    assert len(sessions_of(platform, admin.user_id)) == 1
    # The same change with the page's token goes through.
    done = await post_form(client, "/account/password", change)
    assert done.history[0].status_code == 302 and done.history[0].headers["location"] == "/"
    assert verify_password(NEW_PASSWORD, user_row(platform, admin.user_id).password_hash)


async def test_the_sign_in_form_itself_needs_its_csrf_token(client, platform, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    await client.get("/login")
    response = await client.post(
        "/login", data={"username": account.username, "password": account.password}
    )
    assert response.status_code == 403
    assert sessions_of(platform, account.user_id) == []


# -- API tokens --------------------------------------------------------------------------


async def test_a_token_is_issued_listed_used_and_revoked(client, platform, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    issued = await client.post(
        "/api/v1/auth/token",
        json={"username": account.username, "password": account.password, "name": "script"},
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    token = body["token"]
    assert token.startswith("pa_") and body["prefix"] == token[:10] and body["name"] == "script"
    bearer = {"authorization": f"Bearer {token}"}
    with platform.session_factory() as session:
        row = session.get(ApiToken, body["id"])
    assert row.token_hash == services.digest(token) and token not in row.model_dump().values()

    me = await client.get("/api/v1/auth/me", headers=bearer)
    assert me.status_code == 200
    assert me.json()["username"] == account.username
    assert [(g["role"], g["unit_id"]) for g in me.json()["grants"]] == [
        ("district_admin", unit_tree.district.id)
    ]
    listed = await client.get("/api/v1/auth/tokens", headers=bearer)
    assert listed.status_code == 200
    assert {t["name"] for t in listed.json()} == {"test", "script"}  # the fixture's and this one
    assert token not in listed.text and all("token" not in t for t in listed.json())

    other = accounts("township_leader", unit_tree.township)
    foreign = await client.delete(f"/api/v1/auth/tokens/{body['id']}", headers=other.headers)
    assert foreign.status_code == 404  # one's own tokens only
    assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 200

    revoked = await client.delete(f"/api/v1/auth/tokens/{body['id']}", headers=bearer)
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 401
    listed = await client.get("/api/v1/auth/tokens", headers=account.headers)
    assert next(t for t in listed.json() if t["id"] == body["id"])["revoked_at"] is not None


async def test_an_expired_token_is_refused(client, platform, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    assert (await client.get("/api/v1/auth/me", headers=account.headers)).status_code == 200
    mine = ApiToken.user_id == account.user_id
    set_columns(platform, ApiToken, mine, expires_at=utcnow() - timedelta(seconds=1))
    response = await client.get("/api/v1/auth/me", headers=account.headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


async def test_token_lifetime_is_capped_by_the_setting(client, unit_tree, accounts, platform):
    account = accounts("district_admin", unit_tree.district)
    response = await client.post(
        "/api/v1/auth/token",
        json={"username": account.username, "password": account.password, "days": 3650},
    )
    assert response.status_code == 201
    with platform.session_factory() as session:
        row = session.get(ApiToken, response.json()["id"])
    lifetime = row.expires_at - row.created_at
    assert abs(lifetime - timedelta(days=platform.settings.token_max_age_days)) < timedelta(
        minutes=1
    )


async def test_the_token_endpoint_counts_failures_and_locks_out(
    client, platform, unit_tree, accounts
):
    account = accounts("district_admin", unit_tree.district)
    wrong = {"username": account.username, "password": WRONG}
    for _ in range(5):
        response = await client.post("/api/v1/auth/token", json=wrong)
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
    right = {"username": account.username, "password": account.password}
    locked = await client.post("/api/v1/auth/token", json=right, headers=ENGLISH)
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert locked.json()["message"] == "Too many failed sign-ins; try again in 15 min"
    # The lockout is shared with the sign-in page.
    assert (await login(client, account.username, account.password)).status_code == 429
    with platform.session_factory() as session:
        tokens = session.exec(select(ApiToken).where(ApiToken.user_id == account.user_id)).all()
    assert [t.name for t in tokens] == ["test"]  # only the fixture's


async def test_a_one_time_password_gets_no_token_until_it_is_changed(client, unit_tree, admin):
    _, username, one_time = await one_time_account(client, admin, unit_tree.district)
    refused = await client.post(
        "/api/v1/auth/token", json={"username": username, "password": one_time}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_change_required"
    await sign_in(client, username, one_time)
    changed = await post_form(
        client,
        "/account/password",
        {
            "current_password": one_time,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 200
    issued = await client.post(
        "/api/v1/auth/token", json={"username": username, "password": NEW_PASSWORD}
    )
    assert issued.status_code == 201
    stale = await client.post(
        "/api/v1/auth/token", json={"username": username, "password": one_time}
    )
    assert stale.status_code == 401


async def test_a_token_never_opens_a_page_and_a_cookie_never_opens_the_api(
    client, unit_tree, accounts
):
    account = accounts("district_admin", unit_tree.district)
    page = await client.get("/account/", headers=account.headers, follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"].startswith("/login")
    await sign_in(client, account.username, account.password)
    assert (await client.get("/account/")).status_code == 200
    api = await client.get("/api/v1/auth/me")
    assert api.status_code == 401 and api.json()["code"] == "unauthenticated"
    listed = await client.get("/api/v1/users")
    assert listed.status_code == 401


# -- passwords ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_password", "rule"),
    [
        (lambda username: "Sh0rt!x", "too_short"),
        (lambda username: "password123", "common"),
        (lambda username: "qwertyuiop", "common"),
        (lambda username: "73920184736251", "all_digits"),
        (lambda username: f"my {username} pass", "like_username"),
        (lambda username: "x" * 129, "too_long"),
    ],
    ids=["too_short", "common_password123", "common_qwertyuiop", "all_digits", "username", "long"],
)
async def test_a_weak_new_password_is_refused_naming_the_rule(
    client, platform, unit_tree, accounts, make_password, rule
):
    account = accounts("district_admin", unit_tree.district)
    before = user_row(platform, account.user_id).password_hash
    response = await client.post(
        "/api/v1/auth/password",
        json={
            "current_password": account.password,
            "new_password": make_password(account.username),
        },
        headers=account.headers,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "weak_password"
    assert ("new_password", rule) in rules(response)
    assert user_row(platform, account.user_id).password_hash == before


async def test_a_weak_password_is_refused_on_the_page_and_when_creating_an_account(
    client, platform, unit_tree, admin
):
    created = await client.post(
        "/api/v1/users",
        json={
            "username": "weakling",
            "display_name": "弱",
            "unit_id": unit_tree.district.id,
            "password": "password123",
        },
        headers=admin.headers,
    )
    assert created.status_code == 400 and ("password", "common") in rules(created)
    await sign_in(client, admin.username, admin.password)
    page = await post_form(
        client,
        "/account/password",
        {
            "current_password": admin.password,
            "new_password": "qwertyuiop",
            "confirm_password": "qwertyuiop",
        },
    )
    assert page.status_code == 400 and "这是常见密码" in page.text
    with platform.session_factory() as session:
        assert session.exec(select(User).where(User.username == "weakling")).first() is None
    assert verify_password(admin.password, user_row(platform, admin.user_id).password_hash)


async def test_the_current_password_must_be_right_to_change_it(
    client, platform, unit_tree, accounts
):
    account = accounts("district_admin", unit_tree.district)
    response = await client.post(
        "/api/v1/auth/password",
        json={"current_password": WRONG, "new_password": NEW_PASSWORD},
        headers=account.headers,
    )
    assert response.status_code == 400
    assert rules(response) == {("current_password", "mismatch")}
    assert verify_password(TEST_PASSWORD, user_row(platform, account.user_id).password_hash)


async def test_changing_the_password_ends_the_other_sessions(client, platform, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    await sign_in(client, account.username, account.password)
    elsewhere = client.cookies[SESSION_COOKIE]
    await sign_in(client, account.username, account.password)
    here = client.cookies[SESSION_COOKIE]
    assert len(sessions_of(platform, account.user_id)) == 2
    changed = await post_form(
        client,
        "/account/password",
        {
            "current_password": account.password,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 200
    assert [row.id for row in sessions_of(platform, account.user_id)] == [services.digest(here)]
    assert (await client.get("/account/")).status_code == 200
    use_session(client, elsewhere)
    await assert_signed_out(client)
    # A change through the API keeps no page session at all.
    response = await client.post(
        "/api/v1/auth/password",
        json={"current_password": NEW_PASSWORD, "new_password": "yet another passphrase"},
        headers=account.headers,
    )
    assert response.status_code == 204
    assert sessions_of(platform, account.user_id) == []


async def test_a_one_time_password_leads_to_the_password_form_until_changed(
    client, platform, unit_tree, admin
):
    user_id, username, one_time = await one_time_account(client, admin, unit_tree.township)
    response = await login(client, username, one_time)
    assert response.status_code == 302
    assert response.headers["location"] == "/account/password?next=/"
    for path in ("/account/", "/admin/users/", f"/units/{unit_tree.township.id}/"):
        blocked = await client.get(path, follow_redirects=False)
        assert blocked.status_code == 302, path
        assert blocked.headers["location"] == f"/account/password?next={path.rstrip('/') or '/'}"
    form = await client.get("/account/password")
    assert form.status_code == 200
    mismatch = await post_form(
        client,
        "/account/password",
        {"current_password": one_time, "new_password": NEW_PASSWORD, "confirm_password": "typo"},
    )
    assert mismatch.status_code == 400 and user_row(platform, user_id).must_change_password
    changed = await post_form(
        client,
        "/account/password",
        {
            "current_password": one_time,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "next": "/account/",
        },
    )
    assert changed.status_code == 200 and changed.url.path == "/account/"
    assert user_row(platform, user_id).must_change_password is False
    assert (await client.get("/account/", follow_redirects=False)).status_code == 200


async def test_a_password_older_than_the_maximum_age_must_be_changed(
    client, platform, unit_tree, accounts
):
    platform.settings = platform.settings.model_copy(update={"password_max_age_days": 90})
    account = accounts("district_admin", unit_tree.district)
    set_columns(
        platform,
        User,
        User.id == account.user_id,
        password_changed_at=utcnow() - timedelta(days=91),
    )
    response = await login(client, account.username, account.password)
    assert response.headers["location"] == "/account/password?next=/"
    refused = await client.post(
        "/api/v1/auth/token", json={"username": account.username, "password": account.password}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"


# -- accounts and roles ------------------------------------------------------------------


async def test_disabling_an_account_ends_its_sessions_and_revokes_its_tokens(
    client, platform, unit_tree, admin, accounts
):
    target = accounts("township_leader", unit_tree.township)
    await sign_in(client, target.username, target.password)
    assert (await client.get("/api/v1/auth/me", headers=target.headers)).status_code == 200
    response = await client.patch(
        f"/api/v1/users/{target.user_id}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert sessions_of(platform, target.user_id) == []
    with platform.session_factory() as session:
        tokens = session.exec(select(ApiToken).where(ApiToken.user_id == target.user_id)).all()
    assert tokens and all(token.revoked_at is not None for token in tokens)
    assert (await client.get("/api/v1/auth/me", headers=target.headers)).status_code == 401
    await assert_signed_out(client)
    again = await login(client, target.username, target.password)
    assert again.status_code == 401 and "用户名或密码错误" in again.text
    self_disable = await client.patch(
        f"/api/v1/users/{admin.user_id}", json={"is_active": False}, headers=admin.headers
    )
    assert self_disable.status_code == 400 and self_disable.json()["code"] == "self"
    assert user_row(platform, admin.user_id).is_active


async def test_a_password_reset_gives_a_one_time_password_and_ends_sessions(
    client, platform, unit_tree, admin, accounts
):
    target = accounts("township_leader", unit_tree.township)
    await sign_in(client, target.username, target.password)
    response = await client.post(
        f"/api/v1/users/{target.user_id}/password-reset", headers=admin.headers
    )
    assert response.status_code == 201
    one_time = response.json()["one_time_password"]
    assert sessions_of(platform, target.user_id) == []
    row = user_row(platform, target.user_id)
    assert row.must_change_password and verify_password(one_time, row.password_hash)
    assert not verify_password(target.password, row.password_hash)
    assert (await client.get("/api/v1/auth/me", headers=target.headers)).status_code == 401


async def test_the_api_asks_for_a_password_change_in_json_not_a_redirect(
    client, platform, unit_tree, accounts
):
    target = accounts("township_leader", unit_tree.township)
    with platform.session_factory() as session:
        user = session.get(User, target.user_id)
        user.must_change_password = True
        session.add(user)
        session.commit()
    response = await client.get("/api/v1/people", headers=target.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"


def _grant_ids(platform, user_id: int) -> list[tuple[str, int]]:
    with platform.session_factory() as session:
        rows = session.exec(select(RoleGrant).where(RoleGrant.user_id == user_id)).all()
    return sorted((row.role, row.unit_id) for row in rows)


async def test_a_district_admin_grants_within_its_district_and_never_more_than_it_holds(
    client, platform, unit_tree, accounts
):
    district_admin = accounts("district_admin", unit_tree.district)
    target = accounts(None, unit_tree.township)
    outsider = accounts(None, unit_tree.other_district)

    async def grant(user_id: int, role: str, unit: Unit):
        return await client.post(
            f"/api/v1/users/{user_id}/grants",
            json={"role": role, "unit_id": unit.id},
            headers=district_admin.headers,
        )

    granted = await grant(target.user_id, "township_leader", unit_tree.township)
    assert granted.status_code == 201
    assert (granted.json()["role"], granted.json()["unit_id"]) == (
        "township_leader",
        unit_tree.township.id,
    )
    sibling = await grant(target.user_id, "district_admin", unit_tree.other_district)
    assert sibling.status_code == 404  # the sibling district is out of sight, not forbidden
    hidden_user = await grant(outsider.user_id, "township_leader", unit_tree.township)
    assert hidden_user.status_code == 404
    escalation = await grant(target.user_id, "auditor", unit_tree.district)
    assert escalation.status_code == 403
    assert escalation.json()["code"] == "escalation"
    (error,) = escalation.json()["errors"]
    assert (error["field"], error["rule"]) == ("role", "escalation")
    assert error["message"] == "core.audit.export, core.audit.read"
    # The city-level roles cannot be handed out from a district either: they may only be
    # held at the city (role_level) and the city is above the district admin's reach (404).
    for role in ("city_admin", "platform_admin"):
        here = await grant(target.user_id, role, unit_tree.district)
        assert here.status_code == 400 and here.json()["code"] == "role_level", role
        above = await grant(target.user_id, role, unit_tree.city)
        assert above.status_code == 404, role
    assert _grant_ids(platform, target.user_id) == [("township_leader", unit_tree.township.id)]
    assert _grant_ids(platform, outsider.user_id) == []


async def test_a_district_admin_revokes_only_what_it_could_grant(
    client, platform, unit_tree, accounts
):
    district_admin = accounts("district_admin", unit_tree.district)
    leader = accounts("township_leader", unit_tree.township)
    auditor = accounts("auditor", unit_tree.district)
    sibling = accounts("district_admin", unit_tree.other_district)

    def grant_id(user_id: int) -> int:
        with platform.session_factory() as session:
            return session.exec(select(RoleGrant.id).where(RoleGrant.user_id == user_id)).one()

    async def revoke(user_id: int):
        return await client.delete(
            f"/api/v1/users/{user_id}/grants/{grant_id(user_id)}", headers=district_admin.headers
        )

    escalation = await revoke(auditor.user_id)
    assert escalation.status_code == 403 and escalation.json()["code"] == "escalation"
    assert (await revoke(sibling.user_id)).status_code == 404
    assert _grant_ids(platform, auditor.user_id) == [("auditor", unit_tree.district.id)]
    assert _grant_ids(platform, sibling.user_id) == [
        ("district_admin", unit_tree.other_district.id)
    ]
    mismatched = await client.delete(
        f"/api/v1/users/{auditor.user_id}/grants/{grant_id(leader.user_id)}",
        headers=district_admin.headers,
    )
    assert mismatched.status_code == 404  # a grant is revoked through its own user only
    assert (await revoke(leader.user_id)).status_code == 204
    assert _grant_ids(platform, leader.user_id) == []


# -- first-run bootstrap -----------------------------------------------------------------


def test_ensure_platform_admin_creates_one_admin_with_a_random_one_time_password(platform):
    created = ensure_platform_admin(platform)
    assert created is not None
    username, one_time = created
    assert username == "admin"
    assert re.fullmatch(r"[A-Za-z0-9]{16}", one_time)
    with platform.session_factory() as session:
        (user,) = session.exec(select(User)).all()
        (root,) = session.exec(select(Unit)).all()
        (grant,) = session.exec(select(RoleGrant)).all()
    assert (root.name, root.level, root.parent_id) == (ROOT_NAME, UnitLevel.city, None)
    assert (user.username, user.unit_id, user.must_change_password) == ("admin", root.id, True)
    assert (grant.user_id, grant.role, grant.unit_id) == (user.id, "platform_admin", root.id)
    assert verify_password(one_time, user.password_hash) and one_time not in user.password_hash

    assert ensure_platform_admin(platform) is None  # never again while an admin is active
    with platform.session_factory() as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 1
        assert session.exec(select(func.count()).select_from(Unit)).one() == 1

    # With no active platform admin left, the next start makes another, with another password.
    set_columns(platform, User, User.id == user.id, is_active=False)
    again = ensure_platform_admin(platform)
    assert again is not None and again[0] == "admin2" and again[1] != one_time
    with platform.session_factory() as session:
        assert session.exec(select(func.count()).select_from(Unit)).one() == 1  # root reused
    assert ensure_platform_admin(platform) is None


def test_ensure_platform_admin_uses_an_existing_top_unit(platform, unit_tree):
    username, _ = ensure_platform_admin(platform)
    with platform.session_factory() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        assert session.exec(select(func.count()).select_from(Unit)).one() == 7
    assert user.unit_id == unit_tree.city.id


async def test_the_bootstrapped_admin_signs_in_and_must_change_the_password(client, platform):
    username, one_time = ensure_platform_admin(platform)
    response = await login(client, username, one_time)
    assert response.headers["location"] == "/account/password?next=/"


# -- security headers --------------------------------------------------------------------


async def test_security_headers_on_every_response(client, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    anonymous = await client.get("/login")
    unknown = await client.get("/api/v1/nothing-here")
    wrong_method = await client.put("/login")
    assert (unknown.status_code, wrong_method.status_code) == (404, 405)
    for response in (anonymous, unknown, wrong_method):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in headers  # plain http
        assert "no-store" not in headers.get("cache-control", "")
    await sign_in(client, account.username, account.password)
    page = await client.get("/account/")
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    api = await client.get("/api/v1/auth/me", headers=account.headers)
    assert api.headers["cache-control"] == "no-store"


async def test_hsts_is_sent_over_https_only(app, client):
    plain = await client.get("/login")
    assert "strict-transport-security" not in plain.headers
    https = AsyncTestClient(app, base_url="https://testserver.local")
    response = await https.get("/login")
    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
