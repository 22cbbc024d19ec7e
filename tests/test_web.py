"""The web shell: health, error shape, languages, OpenAPI."""

import pytest

from tests.support.web import sign_in

pytestmark = pytest.mark.anyio


async def test_health_reports_database_and_broker(client, platform):
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "backend": platform.engine.dialect.name}
    assert body["broker"] == {"ok": True, "kind": "embedded"}


async def test_health_answers_503_when_the_database_is_down(client, platform, tmp_path):
    import sqlalchemy as sa

    working = platform.engine
    unreachable = (
        working.url.set(database=str(tmp_path))  # a folder cannot be opened as a database
        if working.dialect.name == "sqlite"
        else working.url.set(port=1)
    )
    platform.engine = sa.create_engine(unreachable)
    try:
        response = await client.get("/health")
    finally:
        platform.engine = working
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"]["ok"] is False


async def test_unknown_api_route_answers_404_in_the_common_shape(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "code": "not_found",
        "message": "未找到",
        "errors": [],
    }


async def test_error_messages_follow_the_requested_language(client):
    response = await client.get(
        "/api/v1/nothing-here", headers={"accept-language": "en-GB,en;q=0.9"}
    )
    assert response.json()["message"] == "Not found"


async def test_invalid_body_names_every_field_and_rule(client, unit_tree, admin):
    response = await client.put(
        f"/api/v1/units/{unit_tree.city.id}/plugins/sample",
        json={"enabled": "yes", "extra": 1},
        headers=admin.headers,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    rules = {(error["field"], error["rule"]) for error in body["errors"]}
    assert rules == {("enabled", "bool_type"), ("extra", "extra_forbidden")}
    assert all(error["message"] for error in body["errors"])


async def test_malformed_json_is_a_400_in_the_common_shape(client, unit_tree, admin):
    response = await client.put(
        f"/api/v1/units/{unit_tree.city.id}/plugins/sample",
        content=b"{not json",
        headers={"content-type": "application/json", **admin.headers},
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"status", "code", "message", "errors"}
    assert body["errors"][0]["field"] == "body"


async def test_bad_path_parameter_is_a_4xx_in_the_common_shape(client, admin):
    response = await client.get("/api/v1/units/abc/plugins", headers=admin.headers)
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"status", "code", "message", "errors"}


async def test_home_page_sends_visitors_to_sign_in_in_chinese(client, unit_tree):
    response = await client.get("/")
    assert response.status_code == 200 and response.url.path == "/login"
    assert '<html lang="zh-CN">' in response.text and "登录" in response.text


async def test_home_page_after_sign_in_is_the_users_unit(client, unit_tree, accounts):
    account = accounts("district_admin", unit_tree.district)
    await sign_in(client, account.username, account.password)
    response = await client.get("/")
    assert response.url.path == f"/units/{unit_tree.district.id}/"
    assert "<h1>渝中区</h1>" in response.text and "首页" in response.text


async def test_lang_query_switches_to_english_and_is_remembered(client, unit_tree):
    response = await client.get("/login?lang=en")
    assert '<html lang="en">' in response.text and "Sign in" in response.text
    assert "pingan_lang=en" in response.headers["set-cookie"]
    again = await client.get("/login")  # the client keeps the cookie
    assert '<html lang="en">' in again.text


async def test_home_page_for_an_account_without_roles_is_the_account_page(
    client, unit_tree, accounts
):
    account = accounts(None, unit_tree.district)
    await sign_in(client, account.username, account.password)
    response = await client.get("/")
    assert response.url.path == "/account/"
    assert account.username in response.text


async def test_unknown_page_renders_an_error_page(client):
    response = await client.get("/units/999999/", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "未找到" in response.text


async def test_openapi_schema_lists_core_and_plugin_operations(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    operations = {
        operation["operationId"]
        for path in response.json()["paths"].values()
        for operation in path.values()
    }
    assert {"Health", "ListJobs", "GetJob", "ListPlugins", "SwitchUnitPlugin"} <= operations
    assert {"ListSampleNotes", "CreateSampleNote"} <= operations
