"""Per-unit settings: which value applies where and when, the registry of keys, the settings
API and pages, validation of new values and dates, and who may read or change them."""

from datetime import date, timedelta
from typing import Annotated

import pytest
from pingan_sample.config import BOARD_LIMIT
from pingan_sample.models import SampleNote
from pydantic import Field
from sqlmodel import select

from core.contributions import Label
from core.errors import DomainError
from core.hookspecs import hookimpl
from core.plugins import PluginMeta, Plugins, StartupError
from core.reports.config import HANDLING_LEVEL, TRIAGE_HOURS
from core.unitconfig.models import UnitSetting
from core.unitconfig.registry import CORE_CONFIG_MODULES, core_config_keys
from core.unitconfig.services import (
    ConfigKey,
    local_today,
    set_setting,
    setting,
    settings_along,
    settings_in_force,
)
from core.units.models import Unit
from core.units.services import set_plugin_enabled
from tests.support.web import csrf_token, sign_in

pytestmark = pytest.mark.anyio

DAY = date(2026, 3, 1)


def put(platform, unit, key, value, valid_from):
    with platform.session_factory() as session:
        row = set_setting(session, session.get(Unit, unit.id), key, value, valid_from, user_id=None)
        session.commit()
        return row.id


def value_at(platform, unit, key, on):
    with platform.session_factory() as session:
        fresh = session.get(Unit, unit.id)
        value, row = settings_along(session, fresh, key, on)
        bulk = settings_in_force(session, fresh, [key], on)[key.name]
        assert (bulk.value, bulk.row.id if bulk.row else None) == (value, row.id if row else None)
        assert setting(session, fresh, key, on) == value
        return value, (row.unit_id if row else None)


# -- precedence ------------------------------------------------------------------------------


def test_setting_precedence_nearest_unit_then_latest_start_then_default(platform, unit_tree):
    tree = unit_tree
    key = TRIAGE_HOURS
    assert value_at(platform, tree.village, key, DAY) == (24, None)  # the declared default

    put(platform, tree.city, key, 36, DAY - timedelta(days=30))
    assert value_at(platform, tree.village, key, DAY) == (36, tree.city.id)
    assert value_at(platform, tree.village, key, DAY - timedelta(days=31)) == (24, None)

    put(platform, tree.district, key, 12, DAY)
    put(platform, tree.district, key, 18, DAY + timedelta(days=10))
    # The district's latest value started on or before the day wins over the city's.
    assert value_at(platform, tree.village, key, DAY - timedelta(days=1)) == (36, tree.city.id)
    assert value_at(platform, tree.village, key, DAY) == (12, tree.district.id)
    assert value_at(platform, tree.village, key, DAY + timedelta(days=9)) == (12, tree.district.id)
    assert value_at(platform, tree.village, key, DAY + timedelta(days=10)) == (18, tree.district.id)

    # The nearest unit wins even with an older start than the district's latest value.
    put(platform, tree.township, key, 72, DAY - timedelta(days=100))
    assert value_at(platform, tree.village, key, DAY + timedelta(days=20)) == (
        72,
        tree.township.id,
    )
    # Siblings are untouched by each other; the other district only sees the city's.
    assert value_at(platform, tree.other_village, key, DAY) == (12, tree.district.id)
    assert value_at(platform, tree.other_district, key, DAY) == (36, tree.city.id)


def test_a_second_value_on_the_same_day_is_refused(platform, unit_tree):
    put(platform, unit_tree.district, TRIAGE_HOURS, 12, DAY)
    with pytest.raises(DomainError) as refused:
        put(platform, unit_tree.district, TRIAGE_HOURS, 13, DAY)
    assert refused.value.status == 409 and refused.value.errors[0].field == "valid_from"


# -- the registry ----------------------------------------------------------------------------


def test_core_areas_keys_are_registered(platform):
    keys = platform.plugins.config_keys
    assert keys["reports.triage_hours"] is TRIAGE_HOURS
    assert keys["reports.handling_level"] is HANDLING_LEVEL
    assert {key.name for key in core_config_keys()} <= set(keys)
    assert {name.split(".")[0] for name in keys} >= {"reports", "hours", "tasks"}
    assert "core.reports.config" in CORE_CONFIG_MODULES


@pytest.mark.plugins("sample")
def test_hook_register_config_keys_sample_key_is_listed_and_read_by_its_page(platform):
    assert platform.plugins.config_keys["sample.board_limit"] is BOARD_LIMIT


@pytest.mark.plugins("sample")
async def test_hook_register_config_keys_the_board_shows_as_many_notes_as_the_unit_sets(
    client, platform, unit_tree, accounts
):
    district = unit_tree.district
    with platform.session_factory() as session:
        set_plugin_enabled(session, district, "sample", True, changed_by="test")
        for number in range(4):
            session.add(SampleNote(unit_id=district.id, text=f"便签第{number}条"))
        session.commit()
    office = accounts("district_admin", district)
    changed = await client.post(
        f"/api/v1/units/{district.id}/settings/sample.board_limit",
        json={"value": 2, "valid_from": local_today().isoformat()},
        headers=office.headers,
    )
    assert changed.status_code == 201, changed.text
    editor = accounts("sample.editor", district)
    await sign_in(client, editor.username, editor.password)
    board = await client.get(f"/units/{district.id}/sample/")
    assert "便签第3条" in board.text and "便签第2条" in board.text
    assert "便签第1条" not in board.text


def _declaring(name: str, *keys: ConfigKey):
    class Declarer:
        META = PluginMeta(name=name, label=Label(name, name), version="1.0")

        @hookimpl
        def register_config_keys(self):
            return list(keys)

    return Declarer()


def _key(name: str, default=5) -> ConfigKey:
    return ConfigKey(name, Label("x", "x"), Annotated[int, Field(ge=1, le=10)], default)


@pytest.mark.plugins()
@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ([("one", _key("two.limit"))], "must be one.<rule>"),
        ([("one", _key("one.Limit"))], "must be one.<rule>"),
        ([("one", _key("one.limit", default=50))], "invalid default"),
        ([("one", _key("one.limit")), ("one", _key("one.limit"))], "declared twice"),
        ([("one", _key("reports.triage_hours"))], "must be one.<rule>"),
    ],
    ids=["foreign-prefix", "bad-name", "bad-default", "twice", "cores-key"],
)
def test_hook_register_config_keys_refuses_bad_keys(pm, declared, message):
    keys: dict[str, list] = {}
    for name, key in declared:
        keys.setdefault(name, []).append(key)
    for name, owned in keys.items():
        pm.register(_declaring(name, *owned), name=name)
    with pytest.raises(StartupError, match=message):
        Plugins(pm).validate()


# -- the API ---------------------------------------------------------------------------------


@pytest.fixture
def offices(unit_tree, accounts):
    tree = unit_tree
    return {
        "city": accounts("city_admin", tree.city),
        "district": accounts("district_admin", tree.district),
        "other_district": accounts("district_admin", tree.other_district),
        "township": accounts("township_leader", tree.township),
        "village": accounts("village_leader", tree.village),
        "volunteer": accounts("volunteer", tree.village),
        "auditor": accounts("auditor", tree.city),
    }


async def test_settings_api_lists_every_key_with_its_value_and_source(
    client, platform, unit_tree, offices
):
    today = local_today()
    put(platform, unit_tree.city, TRIAGE_HOURS, 30, today - timedelta(days=5))
    put(platform, unit_tree.township, HANDLING_LEVEL, "district", today)
    response = await client.get(
        f"/api/v1/units/{unit_tree.township.id}/settings", headers=offices["township"].headers
    )
    assert response.status_code == 200, response.text
    rows = {row["key"]: row for row in response.json()}
    assert set(rows) == set(platform.plugins.config_keys)
    hours = rows["reports.triage_hours"]
    assert (hours["value"], hours["source"], hours["source_unit_name"]) == (
        30,
        "ancestor",
        unit_tree.city.name,
    )
    assert hours["default"] == 24 and hours["valid_from"] == (today - timedelta(days=5)).isoformat()
    level = rows["reports.handling_level"]
    assert (level["value"], level["source"], level["source_unit_id"]) == (
        "district",
        "unit",
        unit_tree.township.id,
    )
    other = rows["tasks.daily_max_hours"]
    assert other["source"] == "default" and other["source_unit_id"] is None
    # Asked about an earlier day, the township's own value did not apply yet.
    earlier = await client.get(
        f"/api/v1/units/{unit_tree.township.id}/settings",
        params={"on": (today - timedelta(days=1)).isoformat()},
        headers=offices["township"].headers,
    )
    rows = {row["key"]: row for row in earlier.json()}
    assert rows["reports.handling_level"]["source"] == "default"

    detail = await client.get(
        f"/api/v1/units/{unit_tree.village.id}/settings/reports.triage_hours",
        headers=offices["village"].headers,
    )
    assert detail.status_code == 200
    body = detail.json()
    assert [(row["unit_name"], row["value"], row["in_force"]) for row in body["history"]] == [
        (unit_tree.city.name, 30, True)
    ]
    below = await client.get(
        f"/api/v1/units/{unit_tree.district.id}/settings/reports.handling_level",
        headers=offices["district"].headers,
    )
    assert [row["unit_name"] for row in below.json()["below"]] == [unit_tree.township.name]
    unknown = await client.get(
        f"/api/v1/units/{unit_tree.village.id}/settings/reports.nothing",
        headers=offices["village"].headers,
    )
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "key"


async def test_a_new_value_is_checked_and_only_the_city_office_may_back_date(
    client, platform, unit_tree, offices
):
    today = local_today()
    url = f"/api/v1/units/{unit_tree.district.id}/settings/reports.triage_hours"
    district = offices["district"].headers

    async def change(headers, **body):
        return await client.post(url, json=body, headers=headers)

    refused = [
        (
            await change(district, value=0, valid_from=today.isoformat()),
            "value",
            "greater_than_equal",
        ),
        (
            await change(district, value="soon", valid_from=today.isoformat()),
            "value",
            "int_parsing",
        ),
        (
            await change(district, value=12, valid_from=(today - timedelta(days=1)).isoformat()),
            "valid_from",
            "not_in_past",
        ),
        (await change(district, value=12, valid_from="1999-12-31"), "valid_from", "too_early"),
        (await change(district, value=12, valid_from="tomorrow"), "valid_from", None),
    ]
    for response, field, rule in refused:
        assert response.status_code in (400, 422), response.text
        errors = response.json()["errors"]
        assert errors[0]["field"] == field, errors
        if rule:
            assert errors[0]["rule"] == rule, errors
    assert "reports.triage_hours" in refused[0][0].json()["errors"][0]["message"]

    with platform.session_factory() as session:
        assert session.exec(select(UnitSetting)).all() == []

    made = await change(district, value=12, valid_from=today.isoformat(), reason="人手充足")
    assert made.status_code == 201, made.text
    assert made.json()["value"] == 12 and made.json()["source"] == "unit"
    twice = await change(district, value=13, valid_from=today.isoformat())
    assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "valid_from"
    future = await change(district, value=6, valid_from=(today + timedelta(days=7)).isoformat())
    assert future.status_code == 201 and future.json()["value"] == 12  # not yet in force

    city = offices["city"].headers
    past = (today - timedelta(days=10)).isoformat()
    no_reason = await change(city, value=48, valid_from=past)
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    back_dated = await change(city, value=48, valid_from=past, reason="补录：区办文件自上月起执行")
    assert back_dated.status_code == 201, back_dated.text
    with platform.session_factory() as session:
        rows = session.exec(select(UnitSetting).order_by(UnitSetting.id)).all()
    assert [(r.value, r.valid_from, r.set_by_user_id) for r in rows] == [
        (12, today, offices["district"].user_id),
        (6, today + timedelta(days=7), offices["district"].user_id),
        (48, today - timedelta(days=10), offices["city"].user_id),
    ]
    assert rows[-1].reason == "补录：区办文件自上月起执行"


async def test_leaders_read_settings_and_only_offices_change_them_in_their_subtree(
    client, unit_tree, offices
):
    tree = unit_tree
    body = {"value": 12, "valid_from": local_today().isoformat()}

    def url(unit, key="reports.triage_hours"):
        return f"/api/v1/units/{unit.id}/settings/{key}"

    for who, unit in (("township", tree.township), ("village", tree.village)):
        assert (await client.get(url(unit), headers=offices[who].headers)).status_code == 200
        changed = await client.post(url(unit), json=body, headers=offices[who].headers)
        assert changed.status_code == 403, who
    for who in ("volunteer", "auditor"):
        response = await client.get(url(tree.village), headers=offices[who].headers)
        assert response.status_code == 403, who
    across = await client.post(
        url(tree.township), json=body, headers=offices["other_district"].headers
    )
    assert across.status_code == 404
    above = await client.post(url(tree.city), json=body, headers=offices["district"].headers)
    assert above.status_code == 404
    own = await client.post(url(tree.township), json=body, headers=offices["district"].headers)
    assert own.status_code == 201


# -- the pages -------------------------------------------------------------------------------


async def test_settings_pages_show_sources_and_take_a_new_value(
    client, platform, unit_tree, offices
):
    today = local_today()
    put(platform, unit_tree.city, TRIAGE_HOURS, 30, today)
    district = offices["district"]
    await sign_in(client, district.username, district.password)
    listing = await client.get(f"/units/{unit_tree.district.id}/settings")
    assert listing.status_code == 200
    assert "线索分拣时限（小时）" in listing.text and "上级单位" in listing.text
    assert f'href="/units/{unit_tree.district.id}/settings/reports.triage_hours"' in listing.text
    english = await client.get(f"/units/{unit_tree.district.id}/settings?lang=en")
    assert "Time allowed to triage a report (hours)" in english.text
    assert "Platform default" in english.text

    page_url = f"/units/{unit_tree.district.id}/settings/reports.triage_hours"
    page = await client.get(page_url + "?lang=zh")
    assert page.status_code == 200 and "设置新值" in page.text
    assert f'min="{today.isoformat()}"' in page.text  # the district may not back-date
    token = csrf_token(page.text)
    bad = await client.post(
        page_url,
        data={"value": "999", "valid_from": today.isoformat(), "_csrf_token": token},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and 'data-code="validation_failed"' in bad.text
    assert "<strong>value</strong>" in bad.text
    assert ">999</textarea>" in bad.text  # the typed value is kept
    no_date = await client.post(
        page_url,
        data={"value": "12", "valid_from": "", "_csrf_token": token},
        follow_redirects=False,
    )
    assert no_date.status_code == 400 and "<strong>valid_from</strong>" in no_date.text
    saved = await client.post(
        page_url,
        data={"value": "12", "valid_from": today.isoformat(), "reason": "", "_csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    shown = await client.get(page_url)
    assert "本单位" in shown.text and "<code>12</code>" in shown.text

    level = await client.post(
        f"/units/{unit_tree.district.id}/settings/reports.handling_level",
        data={"value": "district", "valid_from": today.isoformat(), "_csrf_token": token},
        follow_redirects=False,
    )
    assert level.status_code == 303
    with platform.session_factory() as session:
        unit = session.get(Unit, unit_tree.village.id)
        assert setting(session, unit, HANDLING_LEVEL, today) == "district"

    client.cookies.clear()
    leader = offices["township"]
    await sign_in(client, leader.username, leader.password)
    read_only = await client.get(f"/units/{unit_tree.township.id}/settings/reports.triage_hours")
    assert read_only.status_code == 200 and "设置新值" not in read_only.text
    assert unit_tree.district.name in read_only.text
