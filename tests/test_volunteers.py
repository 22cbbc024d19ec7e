"""Volunteer profiles: numbers, status with reasons, teams and the nesting rule, special teams,
kit, the district list (filters, sorts, paging, scope) and their pages."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.accounts.models import User
from core.accounts.services import principal_for
from core.audit.models import AuditEntry
from core.people.identity import check_digit
from core.people.models import Person
from core.people.services import PersonDetails, create_person
from core.units.models import Unit, UnitKind, UnitLevel
from core.units.moves import move_unit
from core.volunteers import profile as ops
from core.volunteers.models import (
    TeamMembership,
    TeamRole,
    Volunteer,
    VolunteerStatus,
    VolunteerTransfer,
)
from core.volunteers.queries import (
    PageRequest,
    Sort,
    SortKey,
    VolunteerFilters,
    district_page,
    page_query,
)
from core.volunteers.services import enroll
from tests.support.web import csrf_token, sign_in

pytestmark = [pytest.mark.anyio, pytest.mark.plugins("sample")]

FULL_ID = re.compile(r"\b\d{17}[\dXx]\b")
MOBILE = re.compile(r"\b1[3-9]\d{9}\b")
TODAY = date.today()


def resident_id(serial: int, born: str = "19900101") -> str:
    first17 = f"500103{born}{serial % 1000:03d}"
    return first17 + check_digit(first17)


@dataclass
class Made:
    volunteer_id: int
    person_id: int
    number: str
    id_number: str
    phone: str


class Roster:
    """Volunteers enrolled through the services, as recruitment leaves them."""

    def __init__(self, platform) -> None:
        self.platform = platform
        self.serial = 0

    def add(
        self,
        unit: Unit,
        name: str | None = None,
        *,
        skills: tuple[str, ...] = (),
        born: str = "19900101",
        on: date | None = None,
    ) -> Made:
        self.serial += 1
        id_number = resident_id(self.serial, born)
        phone = f"139{self.serial:08d}"
        with self.platform.session_factory() as session:
            unit = session.get(Unit, unit.id)
            person = create_person(
                session,
                self.platform.keyring,
                unit,
                PersonDetails(
                    name=name or f"志愿者{self.serial:03d}",
                    id_number=id_number,
                    phone=phone,
                    skills=list(skills),
                ),
            )
            volunteer = enroll(session, person, unit, on=on)
            session.commit()
            return Made(volunteer.id, person.id, volunteer.number, id_number, phone)


@pytest.fixture
def roster(platform, unit_tree) -> Roster:
    return Roster(platform)


@pytest.fixture
def office(accounts, unit_tree):
    return accounts("district_admin", unit_tree.district)


def api(volunteer: Made, suffix: str = "") -> str:
    return f"/api/v1/volunteers/{volunteer.volunteer_id}{suffix}"


def errors_of(response) -> list[tuple[str, str]]:
    return [(e["field"], e["rule"]) for e in response.json()["errors"]]


def principal(platform, account):
    with platform.session_factory() as session:
        return principal_for(session, session.get(User, account.user_id), platform.policy, "token")


# -- the record ----------------------------------------------------------------------------


async def test_profile_shows_number_status_teams_and_masks_identity(
    client, roster, unit_tree, office
):
    made = roster.add(unit_tree.village, "陈一", skills=("first_aid",))
    response = await client.get(api(made), headers=office.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["number"] == made.number and body["number"].startswith(f"500103{TODAY.year}")
    assert body["status"] == "active" and body["national_number"] is None
    assert body["id_number"] == made.id_number[:3] + "*" * 11 + made.id_number[-4:]
    assert body["phone"] == made.phone[:3] + "****" + made.phone[-4:]
    assert body["certificate_number"] is None and body["kit"] == []
    assert [(m["unit_id"], m["role"], m["until"]) for m in body["memberships"]] == [
        (unit_tree.village.id, "member", None)
    ]
    assert body["memberships"][0]["team"] == "民族路社区分队"
    assert not FULL_ID.search(response.text) and not MOBILE.search(response.text)


async def test_national_number_is_editable_and_unique(client, roster, unit_tree, office):
    first, second = roster.add(unit_tree.village), roster.add(unit_tree.township)
    set_first = await client.patch(
        api(first), json={"national_number": " cq2024-000123 "}, headers=office.headers
    )
    assert set_first.status_code == 200 and set_first.json()["national_number"] == "CQ2024-000123"
    taken = await client.patch(
        api(second), json={"national_number": "CQ2024-000123"}, headers=office.headers
    )
    assert taken.status_code == 409
    assert errors_of(taken) == [("national_number", "unique")]
    malformed = await client.patch(
        api(second), json={"national_number": "#1"}, headers=office.headers
    )
    assert errors_of(malformed) == [("national_number", "format")]
    cleared = await client.patch(api(first), json={"national_number": None}, headers=office.headers)
    assert cleared.json()["national_number"] is None


# -- status --------------------------------------------------------------------------------


async def test_status_change_needs_a_reason_and_is_audited(
    client, platform, roster, unit_tree, office
):
    made = roster.add(unit_tree.village)
    no_reason = await client.post(
        api(made, "/status"), json={"status": "suspended"}, headers=office.headers
    )
    assert no_reason.status_code == 400 and errors_of(no_reason) == [("reason", "missing")]
    blank = await client.post(
        api(made, "/status"), json={"status": "suspended", "reason": "    "}, headers=office.headers
    )
    assert errors_of(blank) == [("reason", "required")]
    same = await client.post(
        api(made, "/status"),
        json={"status": "active", "reason": "重复操作"},
        headers=office.headers,
    )
    assert errors_of(same) == [("status", "unchanged")]

    suspended = await client.post(
        api(made, "/status"),
        json={"status": "suspended", "reason": "连续三个月未参加值勤"},
        headers=office.headers,
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    with platform.session_factory() as session:
        entries = session.exec(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == "volunteer",
                AuditEntry.object_id == str(made.volunteer_id),
            )
            .order_by(AuditEntry.id)
        ).all()
    changed = [e for e in entries if e.event == "status_change"]
    assert len(changed) == 1
    assert changed[0].reason == "连续三个月未参加值勤"
    assert changed[0].before == {"status": "active"}
    assert changed[0].after["status"] == "suspended"
    assert (
        changed[0].action == "core.volunteer.manage"
        and changed[0].username == f"district-admin-{unit_tree.district.id}"
    )
    updates = [e for e in entries if e.event == "update"]
    assert updates and updates[-1].after == {"status": "suspended"}  # the automatic trail

    # A suspended volunteer is placed in no team and given no kit.
    refused = await client.post(api(made, "/kit"), json={"item": "badge"}, headers=office.headers)
    assert errors_of(refused) == [("status", "not_active")]


async def test_leaving_ends_current_memberships(client, platform, roster, unit_tree, office):
    made = roster.add(unit_tree.village)
    await client.post(
        api(made, "/memberships"),
        json={"unit_id": unit_tree.township.id, "role": "member"},
        headers=office.headers,
    )
    left = await client.post(
        api(made, "/status"), json={"status": "left", "reason": "迁居外地"}, headers=office.headers
    )
    assert left.status_code == 200
    assert {m["until"] for m in left.json()["memberships"]} == {TODAY.isoformat()}
    back = await client.post(
        api(made, "/status"),
        json={"status": "active", "reason": "返回本地"},
        headers=office.headers,
    )
    assert back.json()["status"] == "active"


# -- teams and the nesting rule ------------------------------------------------------------


@pytest.fixture
def enterprise(platform, unit_tree) -> Unit:
    """An enterprise 中队 (a mall's) guided by the district 大队, standing directly under it."""
    with platform.session_factory() as session:
        district = session.get(Unit, unit_tree.district.id)
        unit = Unit(
            name="大都会商场",
            level=UnitLevel.township,
            parent_id=district.id,
            kind=UnitKind.enterprise,
            organisation="大都会广场有限公司",
            code="500103900",
        )
        session.add(unit)
        session.flush()
        unit.path = f"{district.path}{unit.id}."
        session.commit()
        return unit


@pytest.mark.parametrize(
    ("level", "parent"),
    [
        ("district", "city"),  # a 大队 leader is a member of the 总队
        ("township", "district"),  # a 中队 leader is a member of the 大队
        ("village", "township"),  # a 分队 leader is a member of the 中队
        ("enterprise", "district"),  # an enterprise 中队's leader is a member of the 大队
    ],
)
@pytest.mark.parametrize("role", ["captain", "vice_captain"])
async def test_nesting_rule_at_each_level(
    client, roster, unit_tree, enterprise, accounts, level, parent, role
):
    city_office = accounts("city_admin", unit_tree.city)
    units = {
        level: getattr(unit_tree, level) for level in ("city", "district", "township", "village")
    }
    team, above = {**units, "enterprise": enterprise}[level], units[parent]
    made = roster.add(team)  # enrolled: a member of the team itself, not of the one above

    refused = await client.post(
        api(made, "/memberships"),
        json={"unit_id": team.id, "role": role},
        headers=city_office.headers,
    )
    assert refused.status_code == 400, refused.text
    assert errors_of(refused) == [("role", "nesting")]
    message = refused.json()["errors"][0]["message"]
    assert "队长、副队长须同时是上级" in message and ops.team_name(above) in message

    joined = await client.post(
        api(made, "/memberships"), json={"unit_id": above.id}, headers=city_office.headers
    )
    assert joined.status_code == 201, joined.text
    allowed = await client.post(
        api(made, "/memberships"),
        json={"unit_id": team.id, "role": role},
        headers=city_office.headers,
    )
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["role"] == role

    # While leading, the membership above cannot end.
    profile = (await client.get(api(made), headers=city_office.headers)).json()
    [upper] = [m for m in profile["memberships"] if m["unit_id"] == above.id and not m["until"]]
    ended = await client.post(
        api(made, f"/memberships/{upper['id']}/end"), json={}, headers=city_office.headers
    )
    assert ended.status_code == 400 and errors_of(ended) == [("role", "nesting")]


async def test_the_english_message_names_the_rule(client, roster, unit_tree, office):
    made = roster.add(unit_tree.village)
    refused = await client.post(
        api(made, "/memberships"),
        json={"unit_id": unit_tree.village.id, "role": "captain"},
        headers={**office.headers, "accept-language": "en"},
    )
    message = refused.json()["errors"][0]["message"]
    assert "must at the same time be a member of the parent township squadron" in message


async def test_member_becomes_captain_and_a_team_has_one_captain(
    client, platform, roster, unit_tree, office
):
    first, second = roster.add(unit_tree.township), roster.add(unit_tree.township)
    for made in (first, second):
        await client.post(
            api(made, "/memberships"),
            json={"unit_id": unit_tree.district.id},
            headers=office.headers,
        )
    promoted = await client.post(
        api(first, "/memberships"),
        json={"unit_id": unit_tree.township.id, "role": "captain"},
        headers=office.headers,
    )
    assert promoted.status_code == 201
    roles = {
        (m["unit_id"], m["role"], m["until"])
        for m in (await client.get(api(first), headers=office.headers)).json()["memberships"]
    }
    assert (unit_tree.township.id, "captain", None) in roles
    assert not any(r == (unit_tree.township.id, "member", None) for r in roles)  # replaced
    again = await client.post(
        api(first, "/memberships"),
        json={"unit_id": unit_tree.township.id, "role": "captain"},
        headers=office.headers,
    )
    assert again.status_code == 409 and errors_of(again) == [("unit_id", "unique")]
    rival = await client.post(
        api(second, "/memberships"),
        json={"unit_id": unit_tree.township.id, "role": "captain"},
        headers=office.headers,
    )
    assert rival.status_code == 409 and errors_of(rival) == [("role", "one_captain")]
    vice = await client.post(
        api(second, "/memberships"),
        json={"unit_id": unit_tree.township.id, "role": "vice_captain"},
        headers=office.headers,
    )
    assert vice.status_code == 201


async def test_membership_end_dates_and_scope(client, roster, unit_tree, office, accounts):
    made = roster.add(unit_tree.village)
    joined = (
        await client.post(
            api(made, "/memberships"),
            json={"unit_id": unit_tree.township.id, "since": "2024-03-01"},
            headers=office.headers,
        )
    ).json()
    early = await client.post(
        api(made, f"/memberships/{joined['id']}/end"),
        json={"until": "2024-02-01"},
        headers=office.headers,
    )
    assert errors_of(early) == [("until", "before_since")]
    ended = await client.post(
        api(made, f"/memberships/{joined['id']}/end"),
        json={"until": "2025-12-31"},
        headers=office.headers,
    )
    assert ended.status_code == 200 and ended.json()["until"] == "2025-12-31"
    twice = await client.post(
        api(made, f"/memberships/{joined['id']}/end"), json={}, headers=office.headers
    )
    assert twice.status_code == 409 and errors_of(twice) == [("until", "ended")]

    village_team = roster.add(unit_tree.village)
    leader = accounts("township_leader", unit_tree.township)
    upward = await client.post(
        api(village_team, "/memberships"),
        json={"unit_id": unit_tree.district.id},
        headers=leader.headers,
    )
    assert upward.status_code == 404  # the district lies outside the township leader's reach
    elsewhere = await client.post(
        api(village_team, "/memberships"),
        json={"unit_id": unit_tree.other_district.id},
        headers=office.headers,
    )
    assert elsewhere.status_code == 404


# -- special teams and kit -----------------------------------------------------------------


async def test_special_teams_are_loaded_plugins(client, roster, unit_tree, office):
    made = roster.add(unit_tree.village)
    unknown = await client.post(
        api(made, "/special-teams"),
        json={"team": "juggling", "unit_id": unit_tree.village.id},
        headers=office.headers,
    )
    assert unknown.status_code == 400 and errors_of(unknown) == [("team", "choice")]
    assert "sample" in unknown.json()["errors"][0]["message"]
    joined = await client.post(
        api(made, "/special-teams"),
        json={"team": "sample", "unit_id": unit_tree.village.id, "since": "2025-01-01"},
        headers=office.headers,
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["team_label"] == "邻里便签"
    twice = await client.post(
        api(made, "/special-teams"),
        json={"team": "sample", "unit_id": unit_tree.village.id},
        headers=office.headers,
    )
    assert twice.status_code == 409
    ended = await client.post(
        api(made, f"/special-teams/{joined.json()['id']}/end"),
        json={"until": "2025-06-30"},
        headers=office.headers,
    )
    assert ended.status_code == 200 and ended.json()["until"] == "2025-06-30"


async def test_kit_issue_and_recall(client, platform, roster, unit_tree, office):
    made = roster.add(unit_tree.village)
    issued = await client.post(
        api(made, "/kit"),
        json={"item": "uniform", "size": "L", "serial": "YZ-0001", "issued_on": "2025-03-01"},
        headers=office.headers,
    )
    assert issued.status_code == 201, issued.text
    kit = issued.json()
    assert (kit["item"], kit["size"], kit["serial"], kit["recalled_on"]) == (
        "uniform",
        "L",
        "YZ-0001",
        None,
    )
    other = roster.add(unit_tree.village)
    clash = await client.post(
        api(other, "/kit"), json={"item": "uniform", "serial": "YZ-0001"}, headers=office.headers
    )
    assert clash.status_code == 409 and errors_of(clash) == [("serial", "unique")]
    for body, error in (
        ({"item": "helmet"}, ("item", "choice")),
        (
            {"item": "badge", "issued_on": (TODAY + timedelta(days=2)).isoformat()},
            ("issued_on", "future"),
        ),
        ({"item": "badge", "colour": "red"}, ("colour", "extra_forbidden")),
    ):
        refused = await client.post(api(made, "/kit"), json=body, headers=office.headers)
        assert refused.status_code == 400 and errors_of(refused) == [error]

    recall = f"/kit/{kit['id']}/recall"
    early = await client.post(
        api(made, recall), json={"recalled_on": "2025-02-01"}, headers=office.headers
    )
    assert errors_of(early) == [("recalled_on", "before_issued")]
    assert (
        await client.post(api(other, recall), json={}, headers=office.headers)
    ).status_code == 404
    back = await client.post(
        api(made, recall),
        json={"recalled_on": "2025-09-01", "note": "退出收回"},
        headers=office.headers,
    )
    assert back.status_code == 200
    assert (back.json()["recalled_on"], back.json()["note"]) == ("2025-09-01", "退出收回")
    again = await client.post(api(made, recall), json={}, headers=office.headers)
    assert again.status_code == 409 and errors_of(again) == [("recalled_on", "recalled")]
    reissued = await client.post(
        api(other, "/kit"), json={"item": "uniform", "serial": "YZ-0001"}, headers=office.headers
    )
    assert reissued.status_code == 201  # the serial came back, so it may go out again
    with platform.session_factory() as session:
        events = session.exec(
            select(AuditEntry.event).where(AuditEntry.object_type == "kit_issue")
        ).all()
    assert events.count("insert") == 2 and events.count("update") == 1


# -- the district list ---------------------------------------------------------------------


@pytest.fixture
def crowd(platform, roster, unit_tree):
    """Volunteers across the tree: 3 in the village, 2 in the sibling township, 1 elsewhere."""
    made = {
        "village": [
            roster.add(unit_tree.village, "王芳", skills=("first_aid", "law")),
            roster.add(unit_tree.village, "李娜", skills=("law",)),
            roster.add(unit_tree.village, "张伟"),
        ],
        "other_township": [
            roster.add(unit_tree.other_township, "刘洋", skills=("first_aid",)),
            roster.add(unit_tree.other_village, "陈静"),
        ],
        "other_district": [roster.add(unit_tree.other_district, "杨勇", skills=("first_aid",))],
    }
    with platform.session_factory() as session:
        volunteer = session.get(Volunteer, made["village"][2].volunteer_id)
        volunteer.status = VolunteerStatus.suspended
        session.add(volunteer)
        session.commit()
    return made


async def _names(client, account, **params) -> list[str]:
    response = await client.get("/api/v1/volunteers", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_list_filters(client, crowd, unit_tree, office):
    everyone = ["王芳", "李娜", "张伟", "刘洋", "陈静"]
    assert await _names(client, office) == everyone
    assert await _names(client, office, status="active") == ["王芳", "李娜", "刘洋", "陈静"]
    assert await _names(client, office, status="suspended") == ["张伟"]
    assert await _names(client, office, unit_id=unit_tree.other_township.id) == ["刘洋", "陈静"]
    assert await _names(client, office, unit_id=unit_tree.village.id, status="active") == [
        "王芳",
        "李娜",
    ]
    assert await _names(client, office, name="王") == ["王芳"]
    assert await _names(client, office, skill="first_aid") == ["王芳", "刘洋"]
    assert await _names(client, office, skill="law", unit_id=unit_tree.township.id) == [
        "王芳",
        "李娜",
    ]
    number = crowd["village"][1].number
    assert await _names(client, office, number=number) == ["李娜"]
    assert await _names(client, office, number=number[:-1]) != []  # a prefix
    bad = await client.get(
        "/api/v1/volunteers", params={"skill": "juggling"}, headers=office.headers
    )
    assert bad.status_code == 400 and errors_of(bad) == [("skill", "choice")]


async def test_list_sorts_and_masks(client, platform, crowd, unit_tree, office):
    with platform.session_factory() as session:  # registered in a known order
        for offset, made in enumerate(crowd["village"] + crowd["other_township"]):
            volunteer = session.get(Volunteer, made.volunteer_id)
            volunteer.registered_at = volunteer.registered_at.replace(year=2020) + timedelta(
                days=[3, 1, 4, 0, 2][offset]
            )
            session.add(volunteer)
        session.commit()
    assert await _names(client, office, sort="name") == sorted(
        ["王芳", "李娜", "张伟", "刘洋", "陈静"]
    )
    assert await _names(client, office, sort="-name") == sorted(
        ["王芳", "李娜", "张伟", "刘洋", "陈静"], reverse=True
    )
    assert await _names(client, office, sort="registered_at") == [
        "刘洋",
        "李娜",
        "陈静",
        "王芳",
        "张伟",
    ]
    assert await _names(client, office, sort="-registered_at") == [
        "张伟",
        "王芳",
        "陈静",
        "李娜",
        "刘洋",
    ]
    numbers = [m.number for m in crowd["village"] + crowd["other_township"]]
    listed = (
        await client.get("/api/v1/volunteers", params={"sort": "-number"}, headers=office.headers)
    ).json()
    assert [item["number"] for item in listed["items"]] == sorted(numbers, reverse=True)
    assert listed["sort"] == "-number"
    assert all(re.fullmatch(r"\d{3}\*{11}[\dX]{4}", item["id_number"]) for item in listed["items"])
    bad = await client.get("/api/v1/volunteers", params={"sort": "age"}, headers=office.headers)
    assert bad.status_code == 400


@pytest.mark.parametrize("sort", ["number", "-name", "registered_at"])
async def test_list_pages_by_cursor(client, platform, roster, unit_tree, office, sort):
    for index in range(7):
        roster.add(unit_tree.village, f"队员{index % 3}")  # repeated names: ties broken by id
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 3, "sort": sort, **({"after": after} if after else {})}
        page = (
            await client.get("/api/v1/volunteers", params=params, headers=office.headers)
        ).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        after = page["next"]
        if after is None:
            break
    assert pages == 3 and len(seen) == 7 and len(set(seen)) == 7
    whole = (
        await client.get(
            "/api/v1/volunteers", params={"limit": 50, "sort": sort}, headers=office.headers
        )
    ).json()
    assert [item["id"] for item in whole["items"]] == seen and whole["next"] is None
    foreign = await client.get(
        "/api/v1/volunteers",
        params={"sort": "name", "after": page_cursor(sort)},
        headers=office.headers,
    )
    assert foreign.status_code == 400 and errors_of(foreign) == [("after", "cursor")]
    junk = await client.get("/api/v1/volunteers", params={"after": "!!!"}, headers=office.headers)
    assert junk.status_code == 400


def page_cursor(sort: str) -> str:
    """A well-formed cursor made for another sort than ``name``."""
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps([sort, "x", 1]).encode()).decode().rstrip("=")


async def test_list_scope(client, crowd, unit_tree, accounts):
    township = accounts("township_leader", unit_tree.township)
    assert await _names(client, township) == ["王芳", "李娜", "张伟"]
    sibling_township = accounts("township_leader", unit_tree.other_township)
    assert await _names(client, sibling_township) == ["刘洋", "陈静"]
    sibling_district = accounts("district_admin", unit_tree.other_district)
    assert await _names(client, sibling_district) == ["杨勇"]
    assert (
        await client.get(
            "/api/v1/volunteers",
            params={"unit_id": unit_tree.district.id},
            headers=sibling_district.headers,
        )
    ).status_code == 404
    assert (
        await client.get(
            "/api/v1/volunteers",
            params={"unit_id": unit_tree.district.id},
            headers=township.headers,
        )
    ).status_code == 404
    other = crowd["other_district"][0]
    assert (await client.get(api(other), headers=township.headers)).status_code == 404
    volunteer_role = accounts("volunteer", unit_tree.village)
    assert (
        await client.get("/api/v1/volunteers", headers=volunteer_role.headers)
    ).status_code == 403
    village = accounts("village_leader", unit_tree.village)
    assert (
        await client.post(
            api(crowd["village"][0], "/status"),
            json={"status": "suspended", "reason": "村里想停"},
            headers=village.headers,
        )
    ).status_code == 403


async def test_list_for_the_whole_city(client, crowd, unit_tree, accounts):
    """The city's list joins people rather than probing them: same answers."""
    city = accounts("city_admin", unit_tree.city)
    everyone = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨勇"]
    assert await _names(client, city) == everyone
    assert await _names(client, city, name="杨") == ["杨勇"]
    assert await _names(client, city, skill="first_aid") == ["王芳", "刘洋", "杨勇"]
    assert await _names(client, city, sort="name") == sorted(everyone)
    first = (
        await client.get(
            "/api/v1/volunteers", params={"sort": "-name", "limit": 4}, headers=city.headers
        )
    ).json()
    rest = await _names(client, city, sort="-name", after=first["next"])
    assert [item["name"] for item in first["items"]] + rest == sorted(everyone, reverse=True)


def test_the_lists_copies_follow_the_person_and_the_unit(platform, crowd, unit_tree, accounts):
    """``district_id``, ``name`` and ``skills`` on ``volunteer`` are what the list reads: they
    follow a person's new name and skills, and a township moved to another district."""
    office = principal(platform, accounts("city_admin", unit_tree.city))

    def names(unit_id: int, **narrowing) -> list[str]:
        with platform.session_factory() as session:
            unit = session.get(Unit, unit_id)
            page = district_page(session, office, VolunteerFilters(unit=unit, **narrowing), "name")
            return [row.person.name for row in page.rows]

    with platform.session_factory() as session:
        copies = {
            v.name: (v.district_id, v.skills)
            for v in session.exec(select(Volunteer).order_by(Volunteer.id))
        }
    assert copies["王芳"] == (unit_tree.district.id, ["first_aid", "law"])
    assert copies["杨勇"] == (unit_tree.other_district.id, ["first_aid"])
    assert names(unit_tree.district.id, skill="law") == ["李娜", "王芳"]

    renamed = crowd["village"][1]
    with platform.session_factory() as session:
        person = session.get(Person, renamed.person_id)
        ops.update_person(
            session, platform.keyring, person, {"name": "李娜娜", "skills": ["rescue"]}
        )
        session.commit()
        volunteer = session.get(Volunteer, renamed.volunteer_id)
        assert (volunteer.name, volunteer.skills) == ("李娜娜", ["rescue"])
        entry = session.exec(
            select(AuditEntry)
            .where(AuditEntry.object_type == "volunteer", AuditEntry.event == "update")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry.after == {"name": "李娜娜", "skills": "['rescue']"}  # audited as any write
    assert names(unit_tree.district.id, skill="law") == ["王芳"]
    assert names(unit_tree.district.id, name="娜娜") == ["李娜娜"]

    with platform.session_factory() as session:
        move_unit(
            session,
            session.get(Unit, unit_tree.other_township.id),
            session.get(Unit, unit_tree.other_district.id),
            models=platform.plugins.models,
            by_user_id=None,
        )
        session.commit()
    assert sorted(names(unit_tree.other_district.id)) == ["刘洋", "杨勇", "陈静"]
    assert names(unit_tree.district.id) == ["张伟", "李娜娜", "王芳"]
    with platform.session_factory() as session:
        moved = session.get(Volunteer, crowd["other_township"][1].volunteer_id)
        assert moved.district_id == unit_tree.other_district.id


def test_district_page_is_callable_directly(platform, crowd, unit_tree, accounts):
    office = principal(platform, accounts("district_admin", unit_tree.district))
    with platform.session_factory() as session:
        district = session.get(Unit, unit_tree.district.id)
        first = district_page(
            session, office, VolunteerFilters(unit=district), "name", PageRequest(size=2)
        )
        assert [row.person.name for row in first.rows] == sorted(
            ["王芳", "李娜", "张伟", "刘洋", "陈静"]
        )[:2]
        second = district_page(
            session,
            office,
            VolunteerFilters(unit=district),
            Sort(SortKey.name),
            PageRequest(after=first.next_cursor, size=2),
        )
        assert [row.person.name for row in second.rows] == sorted(
            ["王芳", "李娜", "张伟", "刘洋", "陈静"]
        )[2:4]
        active = district_page(session, office, VolunteerFilters(status=VolunteerStatus.active))
        assert len(active.rows) == 4 and active.next_cursor is None
        outside = session.get(Unit, unit_tree.other_district.id)
        assert district_page(session, office, VolunteerFilters(unit=outside)).rows == []


@pytest.mark.parametrize("sort", ["number", "-name", "registered_at", "-registered_at"])
def test_district_page_is_read_in_order_from_the_index_of_its_sort(
    platform, crowd, unit_tree, accounts, sort
):
    """The page's ids come from ``volunteer`` alone, by the index ``(district_id, <sort key>)``:
    the district an equality on its first column, the rows in the page's order (no sort step),
    the status and name filters checked on the index entries (PostgreSQL includes them)."""
    office = principal(platform, accounts("district_admin", unit_tree.district))
    filters = VolunteerFilters(status=VolunteerStatus.active, name="王")
    query = page_query(office, filters, Sort.parse(sort), PageRequest())
    compiled = query.compile(platform.engine, compile_kwargs={"literal_binds": True})
    index = f"ix_volunteer_district_{Sort.parse(sort).key.value}"
    with platform.engine.connect() as connection:
        if platform.engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1])
                for row in connection.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
            assert re.search(rf"volunteer USING (COVERING )?INDEX {index} \(district_id=\?", plan)
            assert "TEMP B-TREE" not in plan and "person" not in plan, plan
        else:
            for planner_option in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                connection.execute(sa.text(f"SET {planner_option} = off"))
            plan = "\n".join(row[0] for row in connection.execute(sa.text(f"EXPLAIN {compiled}")))
            assert re.search(
                rf"Index Only Scan (Backward )?using {index} on volunteer.*\n"
                rf"\s+Index Cond: \(district_id = {unit_tree.district.id}\)\n"
                r"\s+Filter: .*name.*status",
                plan,
            ), plan
            assert "Sort" not in plan and "person" not in plan, plan


# -- pages ---------------------------------------------------------------------------------


async def test_list_page_fifty_a_page_with_menu_and_filters(
    client, platform, roster, unit_tree, accounts
):
    for index in range(52):
        roster.add(unit_tree.village, f"居民{index:02d}")
    office = accounts("district_admin", unit_tree.district)
    await sign_in(client, office.username, office.password)
    home = await client.get(f"/units/{unit_tree.district.id}/")
    assert f'href="/units/{unit_tree.district.id}/volunteers/"' in home.text
    page = await client.get(f"/units/{unit_tree.district.id}/volunteers/?sort=name")
    assert page.status_code == 200
    assert len(re.findall(r"/volunteers/people/\d+", page.text)) == 50  # one link a volunteer
    assert "居民00" in page.text and "居民50" not in page.text
    assert not FULL_ID.search(page.text) and not MOBILE.search(page.text)
    cursor = re.search(r'after=([^"&]+)', page.text).group(1)
    second = await client.get(
        f"/units/{unit_tree.district.id}/volunteers/?sort=name&after={cursor.replace('%3D', '=')}"
    )
    assert "居民50" in second.text and "居民51" in second.text and "居民00" not in second.text
    filtered_page = await client.get(f"/units/{unit_tree.district.id}/volunteers/?name=居民07")
    assert "居民07" in filtered_page.text and "居民08" not in filtered_page.text
    as_the_form_sends = await client.get(
        f"/units/{unit_tree.district.id}/volunteers/?name=&number=&status=&skill=&sort=number"
    )
    assert as_the_form_sends.status_code == 200 and "居民00" in as_the_form_sends.text
    bad = await client.get(f"/units/{unit_tree.district.id}/volunteers/?status=gone&skill=x")
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    english = await client.get(f"/units/{unit_tree.district.id}/volunteers/?lang=en")
    assert "Volunteers" in english.text and "Export to the national" in english.text

    plain = accounts("volunteer", unit_tree.village)
    client.cookies.clear()
    await sign_in(client, plain.username, plain.password)
    home = await client.get(f"/units/{unit_tree.village.id}/")
    assert "/volunteers/" not in home.text
    refused = await client.get(
        f"/units/{unit_tree.village.id}/volunteers/", headers={"accept": "text/html"}
    )
    assert refused.status_code == 403


async def test_profile_page_forms(client, platform, roster, unit_tree, accounts):
    made = roster.add(unit_tree.village, "孙悦")
    leader = accounts("township_leader", unit_tree.township)
    await sign_in(client, leader.username, leader.password)
    url = f"/units/{unit_tree.township.id}/volunteers/people/{made.person_id}"
    page = await client.get(url)
    assert page.status_code == 200
    assert made.number in page.text and "民族路社区分队" in page.text
    assert made.id_number not in page.text and made.phone not in page.text
    token = csrf_token(page.text)

    refused = await client.post(
        url + "/memberships",
        data={"unit_id": str(unit_tree.village.id), "role": "captain", "_csrf_token": token},
    )
    assert refused.status_code == 400
    assert "须同时是上级中队" in refused.text
    joined = await client.post(
        url + "/memberships",
        data={"unit_id": str(unit_tree.township.id), "role": "member", "_csrf_token": token},
    )
    assert joined.status_code == 200
    captain = await client.post(
        url + "/memberships",
        data={"unit_id": str(unit_tree.village.id), "role": "captain", "_csrf_token": token},
    )
    assert captain.status_code == 200 and "队长" in captain.text

    kit = await client.post(
        url + "/kit", data={"item": "armband", "serial": "XB-9", "_csrf_token": token}
    )
    assert kit.status_code == 200 and "XB-9" in kit.text
    with platform.session_factory() as session:
        [issued] = session.exec(
            select(ops.KitIssue).where(ops.KitIssue.volunteer_id == made.volunteer_id)
        ).all()
    recalled = await client.post(
        url + "/kit/recall", data={"kit_id": str(issued.id), "_csrf_token": token}
    )
    assert recalled.status_code == 200
    no_reason = await client.post(
        url + "/status", data={"status": "suspended", "_csrf_token": token}
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    suspended = await client.post(
        url + "/status",
        data={"status": "suspended", "reason": "本人申请暂停服务", "_csrf_token": token},
    )
    assert suspended.status_code == 200 and "暂停" in suspended.text
    with platform.session_factory() as session:
        volunteer = session.get(Volunteer, made.volunteer_id)
        leaders = session.exec(
            select(TeamMembership).where(
                TeamMembership.volunteer_id == made.volunteer_id,
                TeamMembership.role == TeamRole.captain,
            )
        ).all()
    assert volunteer.status == VolunteerStatus.suspended and len(leaders) == 1

    village = accounts("village_leader", unit_tree.village)
    client.cookies.clear()
    await sign_in(client, village.username, village.password)
    page = await client.get(f"/units/{unit_tree.village.id}/volunteers/people/{made.person_id}")
    assert page.status_code == 200 and "/status" not in page.text  # reads, may not manage


async def test_no_volunteer_response_shows_a_full_id_or_mobile(
    client, app, platform, crowd, unit_tree, accounts
):
    made = crowd["village"][0]
    clear = [m.id_number for group in crowd.values() for m in group]
    clear += [m.phone for group in crowd.values() for m in group]
    urls = [
        "/api/v1/volunteers",
        f"/api/v1/volunteers/{made.volunteer_id}",
        f"/api/v1/people/{made.person_id}",
        f"/units/{unit_tree.district.id}/volunteers/",
        f"/units/{unit_tree.village.id}/volunteers/",
        f"/units/{unit_tree.district.id}/volunteers/people/",
        f"/units/{unit_tree.district.id}/volunteers/people/{made.person_id}",
    ]
    for role in ("city_admin", "district_admin", "township_leader", "village_leader"):
        level = next(
            level
            for level in ("city", "district", "township", "village")
            if platform.policy.allowed_at(role, level)
        )
        account = accounts(role, getattr(unit_tree, level))
        client.cookies.clear()
        await sign_in(client, account.username, account.password)
        for url in urls:
            headers = account.headers if url.startswith("/api/") else {"accept": "text/html"}
            response = await client.get(url, headers=headers)
            assert response.status_code < 500
            leaked = FULL_ID.findall(response.text) + MOBILE.findall(response.text)
            leaked += [value for value in clear if value in response.text]
            assert not leaked, (role, url, leaked)


# -- transfers -----------------------------------------------------------------------------


async def test_transfer_moves_the_volunteer_and_keeps_the_number(
    client, platform, roster, unit_tree, office, accounts
):
    made = roster.add(unit_tree.village, on=TODAY - timedelta(days=100))
    vest = await client.post(api(made, "/kit"), json={"item": "vest"}, headers=office.headers)
    assert vest.status_code == 201
    moved = await client.post(
        api(made, "/transfer"),
        json={"unit_id": unit_tree.other_village.id, "reason": "迁居金汤街"},
        headers=office.headers,
    )
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["unit_id"] == unit_tree.other_village.id and body["number"] == made.number
    memberships = {(m["unit_id"], m["role"], m["until"]) for m in body["memberships"]}
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert memberships == {
        (unit_tree.village.id, "member", yesterday),
        (unit_tree.other_village.id, "member", None),
    }
    [transfer] = body["transfers"]
    assert (transfer["from_unit_name"], transfer["to_unit_name"]) == ("民族路社区", "金汤街社区")
    assert transfer["reason"] == "迁居金汤街" and transfer["effective_on"] == TODAY.isoformat()
    with platform.session_factory() as session:
        volunteer = session.get(Volunteer, made.volunteer_id)
        person = session.get(Person, made.person_id)
        [kit] = session.exec(
            select(ops.KitIssue).where(ops.KitIssue.volunteer_id == made.volunteer_id)
        ).all()
        assert volunteer.unit_path == person.unit_path == kit.unit_path
        assert volunteer.unit_path == unit_tree.other_village.path
        audited = session.exec(
            select(AuditEntry).where(
                AuditEntry.object_type == "volunteer_transfer", AuditEntry.event == "insert"
            )
        ).all()
        assert len(audited) == 1
    # The old township no longer sees the volunteer; the new one does.
    old = accounts("township_leader", unit_tree.township)
    new = accounts("township_leader", unit_tree.other_township)
    assert (await client.get(api(made), headers=old.headers)).status_code == 404
    assert (await client.get(api(made), headers=new.headers)).status_code == 200


async def test_transfer_into_a_team_the_volunteer_is_in_keeps_that_membership(
    client, roster, unit_tree, office
):
    made = roster.add(unit_tree.village, on=TODAY - timedelta(days=30))
    joined = await client.post(
        api(made, "/memberships"),
        json={"unit_id": unit_tree.township.id, "since": (TODAY - timedelta(days=20)).isoformat()},
        headers=office.headers,
    )
    assert joined.status_code == 201
    moved = await client.post(
        api(made, "/transfer"),
        json={"unit_id": unit_tree.township.id, "reason": "调任街道中队"},
        headers=office.headers,
    )
    assert moved.status_code == 200, moved.text
    current = [(m["unit_id"], m["id"]) for m in moved.json()["memberships"] if not m["until"]]
    assert current == [(unit_tree.township.id, joined.json()["id"])]


async def test_transfer_refusals_name_the_rule_and_change_nothing(
    client, platform, roster, unit_tree, office, accounts
):
    made = roster.add(unit_tree.township, on=TODAY - timedelta(days=30))
    captain = await client.post(
        api(made, "/memberships"),
        json={"unit_id": unit_tree.village.id, "role": "captain"},
        headers=office.headers,
    )
    assert captain.status_code == 201  # a township member may lead a village below

    async def transfer(who, body, headers=office.headers):
        return await client.post(api(who, "/transfer"), json=body, headers=headers)

    for body, status, error in (
        ({"unit_id": unit_tree.other_village.id}, 400, ("reason", "missing")),
        ({"unit_id": unit_tree.township.id, "reason": "原地调动"}, 400, ("unit_id", "unchanged")),
        (
            {"unit_id": unit_tree.other_village.id, "reason": "提前调动", "on": "2020-01-01"},
            400,
            ("on", "before_since"),
        ),
        (
            {
                "unit_id": unit_tree.other_village.id,
                "reason": "以后调动",
                "on": (TODAY + timedelta(days=3)).isoformat(),
            },
            400,
            ("on", "future"),
        ),
        # Leaving the township's team while leading the village below it.
        (
            {"unit_id": unit_tree.other_township.id, "reason": "调到七星岗"},
            400,
            ("role", "nesting"),
        ),
    ):
        refused = await transfer(made, body)
        assert refused.status_code == status, refused.text
        assert errors_of(refused) == [error]
    city_office = accounts("city_admin", unit_tree.city)
    refused = await transfer(
        made, {"unit_id": unit_tree.city.id, "reason": "调到市级"}, city_office.headers
    )
    assert refused.status_code == 400 and errors_of(refused) == [("unit_id", "level")]

    # Captain of a team: a member of the team above first, and one captain a team.
    rival = roster.add(unit_tree.other_village, on=TODAY - timedelta(days=30))
    wanted = {"unit_id": unit_tree.village.id, "reason": "调入任队长", "role": "captain"}
    refused = await transfer(rival, wanted)
    assert refused.status_code == 400 and errors_of(refused) == [("role", "nesting")]
    joined = await client.post(
        api(rival, "/memberships"), json={"unit_id": unit_tree.township.id}, headers=office.headers
    )
    assert joined.status_code == 201
    refused = await transfer(rival, wanted)
    assert refused.status_code == 409 and errors_of(refused) == [("role", "one_captain")]

    # Only an active volunteer moves.
    suspended = await client.post(
        api(made, "/status"),
        json={"status": "suspended", "reason": "暂停服务"},
        headers=office.headers,
    )
    assert suspended.status_code == 200
    refused = await transfer(made, {"unit_id": unit_tree.other_village.id, "reason": "调往外区"})
    assert refused.status_code == 400 and errors_of(refused) == [("status", "not_active")]

    # The caller manages both units: a township leader cannot send anyone outside it.
    local = roster.add(unit_tree.village)
    township = accounts("township_leader", unit_tree.township)
    outside = await transfer(
        local, {"unit_id": unit_tree.other_village.id, "reason": "调往外区"}, township.headers
    )
    assert outside.status_code == 404
    with platform.session_factory() as session:
        homes = {
            made.volunteer_id: unit_tree.township.id,
            rival.volunteer_id: unit_tree.other_village.id,
            local.volunteer_id: unit_tree.village.id,
        }
        for volunteer_id, unit_id in homes.items():
            assert session.get(Volunteer, volunteer_id).unit_id == unit_id
        assert not session.exec(select(VolunteerTransfer)).all()
        current = session.exec(
            select(TeamMembership).where(
                TeamMembership.volunteer_id == made.volunteer_id,
                TeamMembership.until == None,  # noqa: E711
            )
        ).all()
        assert {(m.unit_id, m.role) for m in current} == {
            (unit_tree.township.id, TeamRole.member),
            (unit_tree.village.id, TeamRole.captain),
        }


async def test_transfer_page_form(client, platform, roster, unit_tree, accounts):
    made = roster.add(unit_tree.village, "钱进", on=TODAY - timedelta(days=10))
    office = accounts("district_admin", unit_tree.district)
    await sign_in(client, office.username, office.password)
    url = f"/units/{unit_tree.township.id}/volunteers/people/{made.person_id}"
    page = await client.get(url)
    assert page.status_code == 200 and "调动记录" in page.text
    token = csrf_token(page.text)
    unknown = await client.post(
        url + "/transfer", data={"unit_code": "999", "reason": "迁居外区", "_csrf_token": token}
    )
    assert unknown.status_code == 400 and "999" in unknown.text
    moved = await client.post(
        url + "/transfer",
        data={"unit_code": "500103001001", "reason": "迁居金汤街", "_csrf_token": token},
    )
    # The volunteer now lies beyond this township: the profile opens under the new unit.
    assert moved.status_code == 200
    assert (
        moved.url.path == f"/units/{unit_tree.other_village.id}/volunteers/people/{made.person_id}"
    )
    assert "迁居金汤街" in moved.text and "金汤街社区" in moved.text
    with platform.session_factory() as session:
        assert session.get(Volunteer, made.volunteer_id).unit_id == unit_tree.other_village.id
