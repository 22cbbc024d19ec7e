"""Recruitment (SPEC §3): the state machine, who may take which step at which level, duplicate
and age checks, withdrawal, notifications, team suggestions, the pages and the public form.

Every step is tried by every office around the application: the village and township
leaders, the district and city offices, at the application's own unit, above it and beside
it. A refusal must say why: ``wrong_level`` (the right action, the wrong office),
``wrong_status`` (the application is not waiting for that step), the guard's ``not_allowed``
(the role lacks the action) or 404 (out of reach).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import anyio
import pytest
from sqlmodel import func, select

from core.jobs.models import Job
from core.jobs.runtime import JobContext
from core.notifications.models import Notification
from core.people.identity import check_digit
from core.people.models import Person
from core.recruitment import services
from core.recruitment.jobs import notify_application
from core.recruitment.models import Application, ApplicationStep
from core.units.models import Unit, UnitLevel
from core.units.services import create_unit
from core.volunteers.models import TeamMembership, Volunteer
from tests.support.web import csrf_token, post_form, sign_in

pytestmark = pytest.mark.anyio

ENGLISH = {"accept-language": "en"}


def resident_id(born: date, sequence: int = 123, region: str = "500103") -> str:
    """A valid resident ID born on ``born``."""
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (28 February for a 29th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


_SEQUENCE = iter(range(100, 1000))


def body(unit: Unit, **overrides) -> dict:
    """A valid application at ``unit``, with an ID number no other test body uses."""
    number = next(_SEQUENCE)
    data = {
        "unit_id": unit.id,
        "name": f"申请人{number}",
        "id_number": resident_id(date(1990, 1, 1) + timedelta(days=number), number),
        "phone": f"139{number:04d}{number:04d}",
        "address": "重庆市渝中区解放碑街道民族路1号",
        "education": "bachelor",
        "skills": ["first_aid"],
    }
    data.update(overrides)
    return data


# -- the cast --------------------------------------------------------------------------------


@dataclass
class Offices:
    """The tree, a second village beside the first, and an account for every office."""

    tree: object
    second_village: Unit
    accounts: dict[str, object]

    def unit(self, name: str) -> Unit:
        return {
            "city": self.tree.city,
            "district": self.tree.district,
            "township": self.tree.township,
            "village": self.tree.village,
            "second_village": self.second_village,
        }[name]


#: Who acts: a role held at a unit around the applications (which sit under
#: city → district → township → village).
ACTORS = {
    "village": ("village_leader", "village"),
    "village_sibling": ("village_leader", "second_village"),
    "township": ("township_leader", "township"),
    "township_sibling": ("township_leader", "other_township"),
    "district": ("district_admin", "district"),
    "district_sibling": ("district_admin", "other_district"),
    "city": ("city_admin", "city"),
}


@pytest.fixture
def offices(platform, unit_tree, accounts) -> Offices:
    with platform.session_factory() as session:
        township = session.get(Unit, unit_tree.township.id)
        second = create_unit(
            session,
            name="较场口社区",
            level=UnitLevel.village,
            parent=township,
            code="500103002002",
        )
        session.commit()
        session.refresh(second)
    units = {
        "city": unit_tree.city,
        "district": unit_tree.district,
        "township": unit_tree.township,
        "village": unit_tree.village,
        "second_village": second,
        "other_township": unit_tree.other_township,
        "other_district": unit_tree.other_district,
    }
    made = {name: accounts(role, units[where]) for name, (role, where) in ACTORS.items()}
    return Offices(unit_tree, second, made)


async def submit(client, offices, unit_name: str, **overrides) -> dict:
    """An application taken by the office at ``unit_name``."""
    taker = {"village": "village", "township": "township", "district": "district"}.get(
        unit_name, "village"
    )
    response = await client.post(
        "/api/v1/applications",
        json=body(offices.unit(unit_name), **overrides),
        headers=offices.accounts[taker].headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


#: Who takes each forward step, by the level of the receiving unit.
TAKER = {
    "village": {
        "preliminary": "village",
        "approve": "township",
        "register": "district",
        "certify": "city",
    },
    "township": {
        "preliminary": "township",
        "approve": "district",
        "register": "district",
        "certify": "city",
    },
    "district": {
        "preliminary": "district",
        "approve": "city",
        "register": "district",
        "certify": "city",
    },
}
PATHS = {
    "preliminary": "preliminary-approval",
    "approve": "approval",
    "register": "registration",
    "certify": "certification",
}
ORDER = ["preliminary", "approve", "register", "certify"]
STATUS_BEFORE = {
    "preliminary": "submitted",
    "approve": "preliminary_approved",
    "register": "reviewed",
    "certify": "registered",
}


def step_body(step: str, offices: Offices, unit_name: str) -> dict | None:
    if step == "register":
        return {"team_unit_id": offices.unit(unit_name).id}
    if step == "certify":
        return {"identity_verified": True}
    return None


async def take(client, offices, application_id, step, actor, unit_name, headers=None):
    return await client.post(
        f"/api/v1/applications/{application_id}/{PATHS[step]}",
        json=step_body(step, offices, unit_name),
        headers={**offices.accounts[actor].headers, **(headers or {})},
    )


async def advance(client, offices, application: dict, unit_name: str, until: str) -> None:
    """Take the forward steps before ``until`` with the right offices."""
    for step in ORDER[: ORDER.index(until)]:
        response = await take(
            client, offices, application["id"], step, TAKER[unit_name][step], unit_name
        )
        assert response.status_code == 200, (step, response.text)


def status_of(platform, application_id: int) -> str:
    with platform.session_factory() as session:
        return session.get(Application, application_id).status


# -- every step × every office ---------------------------------------------------------------

# The outcome for each actor of ACTORS: ok, wrong_level (403: the right action, the wrong
# office), guard (403 not_allowed: the role lacks the action) or hidden (404: out of reach).
G, W, H = "guard", "wrong_level", "hidden"
EXPECTED = {
    # received by a village committee
    ("village", "preliminary"): dict(
        village="ok",
        village_sibling=H,
        township=W,
        township_sibling=H,
        district=W,
        district_sibling=H,
        city=W,
    ),
    ("village", "approve"): dict(
        village=G,
        village_sibling=G,
        township="ok",
        township_sibling=H,
        district=W,
        district_sibling=H,
        city=W,
    ),
    ("village", "register"): dict(
        village=G,
        village_sibling=G,
        township=G,
        township_sibling=G,
        district="ok",
        district_sibling=H,
        city=W,
    ),
    ("village", "certify"): dict(
        village=G,
        village_sibling=G,
        township=G,
        township_sibling=G,
        district=W,
        district_sibling=H,
        city="ok",
    ),
    # received by a township office
    ("township", "preliminary"): dict(
        village=H,
        village_sibling=H,
        township="ok",
        township_sibling=H,
        district=W,
        district_sibling=H,
        city=W,
    ),
    ("township", "approve"): dict(
        village=G,
        village_sibling=G,
        township=W,
        township_sibling=H,
        district="ok",
        district_sibling=H,
        city=W,
    ),
    ("township", "register"): dict(
        village=G,
        village_sibling=G,
        township=G,
        township_sibling=G,
        district="ok",
        district_sibling=H,
        city=W,
    ),
    ("township", "certify"): dict(
        village=G,
        village_sibling=G,
        township=G,
        township_sibling=G,
        district=W,
        district_sibling=H,
        city="ok",
    ),
    # received by a district office: the level above is the city
    ("district", "preliminary"): dict(
        village=H,
        village_sibling=H,
        township=H,
        township_sibling=H,
        district="ok",
        district_sibling=H,
        city=W,
    ),
    ("district", "approve"): dict(
        village=G,
        village_sibling=G,
        township=H,
        township_sibling=H,
        district=W,
        district_sibling=H,
        city="ok",
    ),
    ("district", "register"): dict(
        village=G,
        village_sibling=G,
        township=G,
        township_sibling=G,
        district="ok",
        district_sibling=H,
        city=W,
    ),
    ("district", "certify"): dict(
        village=G,
        village_sibling=G,
        township=G,
        township_sibling=G,
        district=W,
        district_sibling=H,
        city="ok",
    ),
}


@pytest.mark.parametrize(("received_at", "step"), list(EXPECTED), ids="-".join)
async def test_each_step_only_by_the_right_office_at_the_right_level(
    client, platform, offices, received_at, step
):
    application = await submit(client, offices, received_at)
    await advance(client, offices, application, received_at, step)
    before = STATUS_BEFORE[step]
    assert status_of(platform, application["id"]) == before
    expected = EXPECTED[(received_at, step)]
    # Everyone refused first (the state must not move), then the one office allowed.
    for actor in sorted(expected, key=lambda name: expected[name] == "ok"):
        response = await take(
            client, offices, application["id"], step, actor, received_at, headers=ENGLISH
        )
        outcome = expected[actor]
        where = f"{actor} {step} at {received_at}: {response.status_code} {response.text[:300]}"
        if outcome == "ok":
            assert response.status_code == 200, where
            assert response.json()["status"] == ORDER_STATUS[step]
            continue
        if outcome == H:
            assert response.status_code == 404, where
        else:
            assert response.status_code == 403, where
            error = response.json()
            assert error["code"] == ("not_allowed" if outcome == G else "wrong_level"), where
            if outcome == W:
                # The message names the office that takes the step.
                taker_unit = offices.unit(TAKER[received_at][step])
                assert taker_unit.name in error["message"], where
                assert " is taken by " in error["message"], where
                assert error["errors"][0]["rule"] == "wrong_level"
        assert status_of(platform, application["id"]) == before, where
    # Once taken, the same step again is refused for its status.
    taker = TAKER[received_at][step]
    again = await take(client, offices, application["id"], step, taker, received_at)
    assert again.status_code == 409 and again.json()["code"] == "wrong_status"


ORDER_STATUS = {
    "preliminary": "preliminary_approved",
    "approve": "reviewed",
    "register": "registered",
    "certify": "certified",
}


async def test_a_step_out_of_order_is_refused_for_its_status(client, platform, offices):
    application = await submit(client, offices, "village")
    response = await take(
        client, offices, application["id"], "register", "district", "village", ENGLISH
    )
    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "wrong_status"
    assert "submitted" in error["message"]
    response = await take(client, offices, application["id"], "certify", "city", "village")
    assert response.status_code == 409 and response.json()["code"] == "wrong_status"
    assert status_of(platform, application["id"]) == "submitted"


async def test_the_full_path_makes_a_person_a_numbered_volunteer_and_a_certificate(
    client, platform, offices
):
    data = body(offices.unit("village"), skills=["first_aid", "law"])
    response = await client.post(
        "/api/v1/applications", json=data, headers=offices.accounts["village"].headers
    )
    assert response.status_code == 201, response.text
    application = response.json()
    assert application["status"] == "submitted"
    assert application["id_number"] == data["id_number"][:3] + "*" * 11 + data["id_number"][-4:]
    assert application["allowed_steps"] == ["preliminary_approve", "reject", "withdraw"]
    await advance(client, offices, application, "village", "certify")
    response = await take(client, offices, application["id"], "certify", "city", "village")
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["status"] == "certified"
    assert done["volunteer_number"].startswith("500103" + str(date.today().year))
    assert done["certificate_number"].startswith("500000-")
    assert [(s["from_status"], s["to_status"]) for s in done["steps"]] == [
        ("new", "submitted"),
        ("submitted", "preliminary_approved"),
        ("preliminary_approved", "reviewed"),
        ("reviewed", "registered"),
        ("registered", "certified"),
    ]
    assert [s["at_unit"] for s in done["steps"]] == [
        offices.unit(name).name for name in ("village", "village", "township", "district", "city")
    ]
    with platform.session_factory() as session:
        stored = session.get(Application, application["id"])
        person = session.get(Person, stored.person_id)
        volunteer = session.get(Volunteer, stored.volunteer_id)
        assert person.name == data["name"] and person.id_number == data["id_number"]
        assert person.skills == ["first_aid", "law"] and person.birth_date is not None
        assert volunteer.person_id == person.id and volunteer.unit_id == offices.unit("village").id
        assert volunteer.number == done["volunteer_number"]
        assert volunteer.certificate_number == done["certificate_number"]
        assert stored.decided_at is not None
        membership = session.exec(
            select(TeamMembership).where(TeamMembership.volunteer_id == volunteer.id)
        ).one()
        assert membership.unit_id == offices.unit("village").id
    # Registered now: the same ID number cannot apply again.
    again = await client.post(
        "/api/v1/applications",
        json={**body(offices.unit("village")), "id_number": data["id_number"]},
        headers=offices.accounts["village"].headers,
    )
    assert again.status_code == 409 and again.json()["errors"][0]["rule"] == "registered"


async def test_registration_places_only_in_a_team_of_the_district(client, platform, offices):
    application = await submit(client, offices, "village")
    await advance(client, offices, application, "village", "register")
    for outside in (offices.tree.other_district, offices.tree.city):
        response = await client.post(
            f"/api/v1/applications/{application['id']}/registration",
            json={"team_unit_id": outside.id},
            headers=offices.accounts["district"].headers,
        )
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0] == {
            "field": "team_unit_id",
            "rule": "outside_district",
            "message": str(outside.id),
        }
    response = await client.post(
        f"/api/v1/applications/{application['id']}/registration",
        json={"team_unit_id": offices.tree.other_township.id},
        headers=offices.accounts["district"].headers,
    )
    assert response.status_code == 200, response.text
    with platform.session_factory() as session:
        volunteer = session.exec(
            select(Volunteer).where(Volunteer.id == response.json()["volunteer_id"])
        ).one()
        assert volunteer.unit_id == offices.tree.other_township.id


async def test_certification_needs_the_identity_confirmed(client, platform, offices):
    application = await submit(client, offices, "village")
    await advance(client, offices, application, "village", "certify")
    response = await client.post(
        f"/api/v1/applications/{application['id']}/certification",
        json={"identity_verified": False},
        headers=offices.accounts["city"].headers,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "identity_verified"
    assert status_of(platform, application["id"]) == "registered"


# -- rejecting and withdrawing -----------------------------------------------------------------

#: Who may reject at each open status of an application received by a village: whoever takes
#: its next step; every other office that sees it is refused for its level.
REJECTERS = {
    "submitted": "village",
    "preliminary_approved": "township",
    "reviewed": "district",
}


@pytest.mark.parametrize("status", list(REJECTERS))
async def test_reject_needs_a_reason_and_the_next_steps_office(client, platform, offices, status):
    application = await submit(client, offices, "village")
    step = {v: k for k, v in STATUS_BEFORE.items()}[status]
    await advance(client, offices, application, "village", step)
    url = f"/api/v1/applications/{application['id']}/rejection"
    allowed = REJECTERS[status]
    for reason in ({}, {"reason": ""}, {"reason": "   "}):
        response = await client.post(url, json=reason, headers=offices.accounts[allowed].headers)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["field"] == "reason"
    for actor in ACTORS:
        if actor == allowed:
            continue
        response = await client.post(
            url, json={"reason": "不符合条件"}, headers=offices.accounts[actor].headers
        )
        sees = actor in ("village", "township", "district", "city")
        assert response.status_code == (403 if sees else 404), (actor, response.text)
        if sees:
            assert response.json()["code"] == "wrong_level", (actor, response.text)
    assert status_of(platform, application["id"]) == status
    response = await client.post(
        url, json={"reason": "身体条件不符合巡防要求"}, headers=offices.accounts[allowed].headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    assert response.json()["reason"] == "身体条件不符合巡防要求"
    assert response.json()["steps"][-1]["reason"] == "身体条件不符合巡防要求"
    again = await client.post(
        url, json={"reason": "再次"}, headers=offices.accounts[allowed].headers
    )
    assert again.status_code == 409 and again.json()["code"] == "wrong_status"


async def test_a_registered_application_is_no_longer_open_to_reject_or_withdraw(client, offices):
    application = await submit(client, offices, "village")
    await advance(client, offices, application, "village", "certify")
    for path, payload, actor in (
        ("rejection", {"reason": "迟到的理由"}, "city"),
        ("withdrawal", {}, "village"),
    ):
        response = await client.post(
            f"/api/v1/applications/{application['id']}/{path}",
            json=payload,
            headers=offices.accounts[actor].headers,
        )
        assert response.status_code == 409 and response.json()["code"] == "wrong_status"


async def test_the_receiving_office_withdraws_what_it_took(client, platform, offices):
    application = await submit(client, offices, "village")
    await advance(client, offices, application, "village", "register")
    url = f"/api/v1/applications/{application['id']}/withdrawal"
    for actor in ("township", "district", "city"):
        response = await client.post(url, json={}, headers=offices.accounts[actor].headers)
        assert response.status_code == 403 and response.json()["code"] == "wrong_level"
    response = await client.post(
        url, json={"reason": "本人要求"}, headers=offices.accounts["village"].headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    assert status_of(platform, application["id"]) == "withdrawn"


async def test_a_self_applicant_withdraws_with_the_token_only(client, platform, offices):
    response = await client.post("/api/v1/applications/self", json=body(offices.unit("village")))
    assert response.status_code == 201, response.text
    receipt = response.json()
    token = receipt["withdraw_token"]
    assert token.startswith(f"{receipt['id']}.") and len(token) > 20
    assert receipt["withdraw_url"] == f"/apply/withdraw?token={token}"
    # The office may reject it, but not withdraw it in the applicant's name.
    office = await client.post(
        f"/api/v1/applications/{receipt['id']}/withdrawal",
        json={},
        headers=offices.accounts["village"].headers,
    )
    assert office.status_code == 409 and office.json()["code"] == "self_applied"
    for wrong in (f"{receipt['id']}.guessed-secret", "nonsense", f"{receipt['id'] + 1}.x" + token):
        response = await client.post("/api/v1/applications/withdrawals", json={"token": wrong})
        assert response.status_code == 404, wrong
        assert response.json()["code"] == "invalid_token"
    response = await client.post(
        "/api/v1/applications/withdrawals", json={"token": token, "reason": "时间不够"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    assert status_of(platform, receipt["id"]) == "withdrawn"
    again = await client.post("/api/v1/applications/withdrawals", json={"token": token})
    assert again.status_code == 409 and again.json()["code"] == "wrong_status"
    with platform.session_factory() as session:
        stored = session.get(Application, receipt["id"])
        assert token.split(".", 1)[1] not in str(stored.wishes)  # only its digest is kept
    detail = await client.get(
        f"/api/v1/applications/{receipt['id']}", headers=offices.accounts["village"].headers
    )
    assert detail.json()["wishes"] == {"team_unit_id": None, "special_teams": [], "note": None}


# -- duplicates, identity and age ------------------------------------------------------------


async def test_a_duplicate_id_is_refused_while_open_or_registered_anywhere(
    client, platform, offices, admin
):
    elsewhere = offices.tree.other_district
    first = body(elsewhere)
    response = await client.post("/api/v1/applications", json=first, headers=admin.headers)
    assert response.status_code == 201
    first_id = response.json()["id"]
    # An open application in another district blocks the same ID here, and says where.
    again = {**body(offices.unit("village")), "id_number": first["id_number"]}
    village = offices.accounts["village"].headers
    response = await client.post("/api/v1/applications", json=again, headers=village)
    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "duplicate_id"
    assert error["errors"][0]["field"] == "id_number"
    assert error["errors"][0]["rule"] == "open_application"
    assert "正在办理" in error["message"] and elsewhere.name in error["message"]
    # Rejected (by that district's office, which took it — not by the city): no longer blocks.
    refused = await client.post(
        f"/api/v1/applications/{first_id}/rejection",
        json={"reason": "资料不实"},
        headers=offices.accounts["city"].headers,
    )
    assert refused.status_code == 403 and refused.json()["code"] == "wrong_level"
    rejected = await client.post(
        f"/api/v1/applications/{first_id}/rejection",
        json={"reason": "资料不实"},
        headers=offices.accounts["district_sibling"].headers,
    )
    assert rejected.status_code == 200, rejected.text
    response = await client.post("/api/v1/applications", json=again, headers=village)
    assert response.status_code == 201, response.text
    # A registered person anywhere blocks an ID for good.
    other = body(offices.unit("village"))
    registered = await client.post(
        "/api/v1/people",
        json={"unit_id": elsewhere.id, "name": "已登记", "id_number": other["id_number"]},
        headers=admin.headers,
    )
    assert registered.status_code == 201, registered.text
    response = await client.post("/api/v1/applications", json=other, headers=village)
    assert response.status_code == 409
    assert response.json()["errors"][0]["rule"] == "registered"
    with platform.session_factory() as session:
        assert (
            session.exec(
                select(func.count())
                .select_from(Application)
                .where(Application.unit_id != elsewhere.id)
            ).one()
            == 1
        )


async def test_a_withdrawn_application_does_not_block_a_new_one(client, offices):
    data = body(offices.unit("village"))
    first = await client.post("/api/v1/applications/self", json=data)
    assert first.status_code == 201
    same = {**body(offices.unit("township")), "id_number": data["id_number"]}
    blocked = await client.post("/api/v1/applications/self", json=same)
    assert blocked.status_code == 409
    assert blocked.json()["errors"][0]["rule"] == "open_application"
    assert offices.unit("village").name not in blocked.json()["message"]  # public: no unit
    token = first.json()["withdraw_token"]
    response = await client.post("/api/v1/applications/withdrawals", json={"token": token})
    assert response.status_code == 200
    again = await client.post("/api/v1/applications/self", json=same)
    assert again.status_code == 201, again.text


def wrong_check_digit(id_number: str) -> str:
    """The ID with any check character but the right one."""
    return id_number[:17] + ("1" if id_number[17] != "1" else "2")


@pytest.mark.parametrize(
    ("id_number", "rule"),
    [
        ("50010319900101123", "length"),  # 17 characters
        ("5001031990010112345", "length"),  # 19
        ("50010319900101123Y", "format"),
        ("500103199002301234", "birth_date"),  # 30 February
        ("500103199013011234", "birth_date"),  # month 13
        ("500103209901011234", "birth_date"),  # in the future
        (wrong_check_digit(resident_id(date(1990, 1, 1))), "check_digit"),
    ],
)
async def test_a_resident_id_must_be_valid(client, platform, offices, id_number, rule):
    response = await client.post(
        "/api/v1/applications",
        json=body(offices.unit("village"), id_number=id_number),
        headers={**offices.accounts["village"].headers, **ENGLISH},
    )
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert ("id_number", rule) in {(e["field"], e["rule"]) for e in errors}, errors
    with platform.session_factory() as session:
        assert session.exec(select(func.count()).select_from(Application)).one() == 0


async def test_age_is_counted_on_the_application_day(client, offices):
    today = services.application_day()
    eighteen_today = years_before(today, 18)
    seventeen = eighteen_today + timedelta(days=1)  # 18 tomorrow
    headers = {**offices.accounts["village"].headers, **ENGLISH}
    response = await client.post(
        "/api/v1/applications",
        json=body(offices.unit("village"), id_number=resident_id(seventeen, 17)),
        headers=headers,
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == [
        {"field": "id_number", "rule": "age", "message": "must be 18 or older"}
    ]
    response = await client.post(
        "/api/v1/applications",
        json=body(offices.unit("village"), id_number=resident_id(eighteen_today, 18)),
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["age"] == 18


def test_age_boundary_on_a_given_day_in_the_service(platform, unit_tree):
    day = date(2026, 3, 10)
    with platform.session_factory() as session:
        village = session.get(Unit, unit_tree.village.id)
        for born, allowed in ((date(2008, 3, 10), True), (date(2008, 3, 11), False)):
            applicant = services.Applicant(
                name="边界", id_number=resident_id(born, 7), phone="13912345678"
            )
            if allowed:
                services.submit(session, platform.keyring, village, applicant, today=day)
            else:
                with pytest.raises(services.DomainError) as refused:
                    services.submit(session, platform.keyring, village, applicant, today=day)
                assert [(e.field, e.rule) for e in refused.value.errors] == [("id_number", "age")]
        session.rollback()


def test_where_each_step_is_taken(platform, unit_tree):
    tree = unit_tree
    for unit, expected in (
        (tree.village, (tree.village, tree.township, tree.district, tree.city)),
        (tree.township, (tree.township, tree.district, tree.district, tree.city)),
        (tree.district, (tree.district, tree.city, tree.district, tree.city)),
        (tree.city, (tree.city, tree.city, tree.city, tree.city)),
    ):
        application = Application(unit_id=unit.id, unit_path=unit.path, name="x")
        steps = (
            services.Step.preliminary_approve,
            services.Step.approve,
            services.Step.register,
            services.Step.certify,
        )
        assert [services.step_unit_id(application, step) for step in steps] == [
            u.id for u in expected
        ]


# -- notifications ---------------------------------------------------------------------------


def notifications(platform) -> list[tuple[int, str | None]]:
    with platform.session_factory() as session:
        return [
            (n.user_id, n.dedupe_key)
            for n in session.exec(select(Notification).order_by(Notification.id))
        ]


async def drain(broker) -> None:
    await anyio.to_thread.run_sync(lambda: broker.join("core", fail_fast=True))


async def test_every_step_notifies_who_takes_the_next_one_once(client, platform, broker, offices):
    application = await submit(client, offices, "village")
    await drain(broker)
    accounts = offices.accounts
    assert [user for user, _ in notifications(platform)] == [accounts["village"].user_id]
    await advance(client, offices, application, "village", "register")
    await drain(broker)
    users = sorted(user for user, _ in notifications(platform))
    assert users == sorted(
        [
            accounts["village"].user_id,  # to review it
            accounts["township"].user_id,  # to review it one level up
            accounts["district"].user_id,  # to register it
        ]
    )
    with platform.session_factory() as session:
        steps = session.exec(
            select(ApplicationStep).where(ApplicationStep.application_id == application["id"])
        ).all()
        jobs = session.exec(select(Job).where(Job.name == services.NOTIFY_JOB)).all()
        assert len(jobs) == len(steps) == 3
        assert all(job.status == "done" for job in jobs)
        last = session.exec(
            select(Notification).where(Notification.user_id == accounts["district"].user_id)
        ).one()
        assert last.url == f"{platform.settings.base_url}/applications/{application['id']}"
        assert "登记" in last.subject and application["name"] in last.subject
    before = notifications(platform)
    # The job run again, directly and as a second job row, adds nothing.
    context = JobContext(None, platform.session_factory, platform.settings, platform.plugins)
    for step in steps:
        assert (
            notify_application(application_id=application["id"], step_id=step.id, context=context)
            == 0
        )
    with platform.session_factory() as session:
        from core.jobs import enqueue

        for step in steps:
            enqueue(session, services.NOTIFY_JOB, application_id=application["id"], step_id=step.id)
        session.commit()
    await drain(broker)
    assert sorted(notifications(platform)) == sorted(before)


async def test_the_applicants_account_is_told_too(client, platform, broker, offices, accounts):
    applicant = accounts(None, offices.unit("village"), username="applicant")
    response = await client.post(
        "/api/v1/applications/self",
        json=body(offices.unit("village")),
        headers=applicant.headers,
    )
    assert response.status_code == 201
    await drain(broker)
    reject = await client.post(
        f"/api/v1/applications/{response.json()['id']}/rejection",
        json={"reason": "名额已满"},
        headers=offices.accounts["village"].headers,
    )
    assert reject.status_code == 200
    await drain(broker)
    with platform.session_factory() as session:
        own = session.exec(
            select(Notification).where(Notification.user_id == applicant.user_id)
        ).all()
    assert len(own) == 2  # submitted, rejected
    assert "名额已满" in own[-1].body and own[-1].url is None


# -- team suggestions ------------------------------------------------------------------------


def _volunteer(session, platform, unit: Unit, skills: list[str], number: int) -> None:
    from core.people.services import PersonDetails, create_person
    from core.volunteers.services import enroll

    person = create_person(
        session,
        platform.keyring,
        unit,
        PersonDetails(
            name=f"队员{number}",
            id_number=resident_id(date(1980, 1, 1), number, "500104"),
            skills=skills,
        ),
    )
    enroll(session, person, unit)


async def test_placements_rank_wish_then_skills_then_distance(client, platform, offices):
    tree = offices.tree
    with platform.session_factory() as session:
        _volunteer(session, platform, session.get(Unit, tree.other_village.id), ["law"], 1)
        _volunteer(session, platform, session.get(Unit, tree.other_village.id), ["law"], 2)
        _volunteer(session, platform, session.get(Unit, tree.township.id), ["driving"], 3)
        session.commit()
    plain = await submit(client, offices, "village", skills=["law"])
    await advance(client, offices, plain, "village", "register")
    district = offices.accounts["district"].headers
    response = await client.get(f"/api/v1/applications/{plain['id']}/placements", headers=district)
    assert response.status_code == 200, response.text
    ranked = response.json()
    # The cousin village's team has lawyers; then the nearest: the village itself.
    assert [p["unit_id"] for p in ranked[:2]] == [tree.other_village.id, tree.village.id]
    assert ranked[0]["shared_skills"] == ["law"] and ranked[0]["members"] == 2
    assert ranked[1]["distance"] == 0
    assert tree.other_district.id not in {p["unit_id"] for p in ranked}
    wished = await submit(
        client, offices, "village", skills=["law"], wishes={"team_unit_id": tree.township.id}
    )
    await advance(client, offices, wished, "village", "register")
    ranked = (
        await client.get(f"/api/v1/applications/{wished['id']}/placements", headers=district)
    ).json()
    assert ranked[0]["unit_id"] == tree.township.id and ranked[0]["wished"] is True


async def test_a_wished_team_outside_the_district_is_refused(client, offices):
    response = await client.post(
        "/api/v1/applications",
        json=body(
            offices.unit("village"),
            wishes={"team_unit_id": offices.tree.other_district.id, "special_teams": ["nope"]},
        ),
        headers=offices.accounts["village"].headers,
    )
    assert response.status_code == 400
    assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == {
        ("wishes.team_unit_id", "outside_district"),
        ("wishes.special_teams", "choice"),
    }


# -- lists -----------------------------------------------------------------------------------


async def test_the_queue_holds_what_waits_for_my_step_in_my_reach(client, platform, offices):
    here = await submit(client, offices, "village")
    up = await submit(client, offices, "village")
    await advance(client, offices, up, "village", "approve")
    beside = await client.post("/api/v1/applications/self", json=body(offices.second_village))
    assert beside.status_code == 201

    async def listed(actor, **params):
        response = await client.get(
            "/api/v1/applications", params=params, headers=offices.accounts[actor].headers
        )
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()]

    assert await listed("village", waiting=True) == [here["id"]]
    assert await listed("village") == [up["id"], here["id"]]
    assert await listed("village_sibling", waiting=True) == [beside.json()["id"]]
    assert await listed("township", waiting=True) == [up["id"]]
    assert set(await listed("township")) == {here["id"], up["id"], beside.json()["id"]}
    assert await listed("district", waiting=True) == []
    assert await listed("city", waiting=True) == []
    assert await listed("district_sibling") == []
    assert await listed("township", status="submitted", unit_id=offices.unit("village").id) == [
        here["id"]
    ]
    name = here["name"]
    assert await listed("city", name=name) == [here["id"]]


# -- pages -----------------------------------------------------------------------------------


async def test_the_office_pages_take_an_application_through(client, platform, offices):
    village = offices.accounts["village"]
    await sign_in(client, village.username, village.password)
    form = await client.get(f"/applications/new?unit_id={offices.unit('village').id}")
    assert form.status_code == 200 and "受理报名" in form.text
    data = body(offices.unit("village"))
    fields = {k: str(v) for k, v in data.items() if k not in ("skills",)}
    fields["skill.first_aid"] = "1"
    response = await client.post(
        "/applications",
        data={**fields, "_csrf_token": csrf_token(form.text)},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text[:500]
    location = response.headers["location"]
    page = await client.get(location)
    assert page.status_code == 200
    assert data["name"] in page.text
    assert data["id_number"] not in page.text and data["phone"] not in page.text
    assert "初审通过" in page.text and "审核通过" not in page.text
    queue = await client.get("/applications/")
    assert data["name"] in queue.text
    # A refusal re-renders the page with the reason.
    refused = await post_form(client, location + "/rejection", {"reason": " "}, from_page=location)
    assert refused.status_code == 400 and "理由" in refused.text
    moved = await post_form(client, location + "/preliminary-approval", {}, from_page=location)
    assert moved.status_code == 200 and "初审通过，待审核" in moved.text
    again = await post_form(client, location + "/preliminary-approval", {}, from_page=location)
    assert again.status_code == 409 and 'data-code="wrong_status"' in again.text


async def test_the_district_and_city_pages_register_and_certify(client, platform, offices):
    application = await submit(client, offices, "village", skills=["law"])
    await advance(client, offices, application, "village", "register")
    location = f"/applications/{application['id']}"
    district = offices.accounts["district"]
    await sign_in(client, district.username, district.password)
    page = await client.get(location)
    assert page.status_code == 200
    assert "登记并编队" in page.text and "核查通过并发证" not in page.text
    assert f'value="{offices.unit("village").id}"' in page.text  # suggested and listed
    english = await client.get(location + "?lang=en")
    assert "Register and place in team" in english.text
    await client.get(location + "?lang=zh")
    queue = await client.get("/applications/")
    assert application["name"] in queue.text
    moved = await post_form(
        client,
        location + "/registration",
        {"team_unit_id": str(offices.unit("township").id)},
        from_page=location,
    )
    assert moved.status_code == 200 and "已登记，待发证" in moved.text
    client.cookies.clear()
    city = offices.accounts["city"]
    await sign_in(client, city.username, city.password)
    page = await client.get(location)
    assert "核查通过并发证" in page.text and "登记并编队" not in page.text
    unconfirmed = await post_form(client, location + "/certification", {}, from_page=location)
    assert unconfirmed.status_code == 400 and "identity_verified" in unconfirmed.text
    done = await post_form(
        client, location + "/certification", {"identity_verified": "1"}, from_page=location
    )
    assert done.status_code == 200 and "已发证" in done.text
    with platform.session_factory() as session:
        volunteer = session.exec(
            select(Volunteer).where(Volunteer.unit_id == offices.unit("township").id)
        ).one()
    assert volunteer.number in done.text and volunteer.certificate_number in done.text


async def test_the_intake_page_shows_every_broken_rule(client, offices):
    village = offices.accounts["village"]
    await sign_in(client, village.username, village.password)
    response = await post_form(
        client,
        "/applications",
        {"unit_id": str(offices.unit("village").id), "name": "", "id_number": "123", "phone": ""},
        from_page="/applications/new",
    )
    assert response.status_code == 400
    for field in ("name", "phone"):
        assert f"<strong>{field}</strong>" in response.text


async def test_the_self_application_page_works_without_signing_in(client, platform, offices):
    start = await client.get("/apply")
    assert start.status_code == 200
    assert offices.unit("district").name in start.text
    page = await client.get(f"/apply?unit_id={offices.unit('village').id}")
    assert page.status_code == 200 and 'name="id_number"' in page.text
    data = body(offices.unit("village"))
    form = {k: str(v) for k, v in data.items() if k != "skills"}
    form["skill.law"] = "1"
    form["team.sample"] = "1"
    response = await post_form(
        client, "/apply", form, from_page=f"/apply?unit_id={data['unit_id']}"
    )
    assert response.status_code == 201, response.text[:800]
    # The link to keep points at the public address, not at whatever host the request named.
    assert f"{platform.settings.base_url}/apply/withdraw?token=" in response.text
    with platform.session_factory() as session:
        stored = session.exec(select(Application).where(Application.name == data["name"])).one()
        assert stored.channel == "self" and stored.skills == ["law"]
        assert stored.wishes["special_teams"] == ["sample"]
    token = response.text.split("/apply/withdraw?token=")[1].split('"')[0]
    confirm = await client.get(f"/apply/withdraw?token={token}")
    assert confirm.status_code == 200 and token in confirm.text
    done = await post_form(client, "/apply/withdraw", {"token": token}, from_page="/apply/withdraw")
    assert done.status_code == 200 and "已撤回" in done.text
    assert status_of(platform, stored.id) == "withdrawn"


async def test_the_self_application_page_refuses_without_the_csrf_token(client, offices):
    data = {k: str(v) for k, v in body(offices.unit("village")).items() if k != "skills"}
    response = await client.post("/apply", data=data)
    assert response.status_code == 403


async def test_self_applications_are_rate_limited_per_address(
    client, platform, offices, monkeypatch
):
    monkeypatch.setattr(services, "SELF_APPLY_LIMIT", 3)
    village = offices.unit("village")
    statuses = []
    # Refused attempts count too: an ID-number probe is limited like a submission.
    bad = wrong_check_digit(resident_id(date(1991, 2, 3)))
    attempts = [body(village, id_number=bad), body(village), body(village)]
    for data in attempts:
        response = await client.post("/api/v1/applications/self", json=data)
        statuses.append(response.status_code)
    assert statuses == [400, 201, 201]
    response = await client.post("/api/v1/applications/self", json=body(village))
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    page = await client.get(f"/apply?unit_id={village.id}")
    form = {k: str(v) for k, v in body(village).items() if k != "skills"}
    refused = await client.post("/apply", data={**form, "_csrf_token": csrf_token(page.text)})
    assert refused.status_code == 429 and 'data-code="rate_limited"' in refused.text
    with platform.session_factory() as session:
        assert (
            session.exec(
                select(func.count()).select_from(Application).where(Application.channel == "self")
            ).one()
            == 2
        )


async def test_the_menu_offers_the_queue_and_the_inbox(client, platform, offices):
    from core.web.navigation import unit_page

    leader = await _principal(platform, offices.accounts["village"].user_id)
    with platform.session_factory() as session:
        village = session.get(Unit, offices.unit("village").id)
        urls = {item.url for item in unit_page(platform, session, village, leader).menu}
        assert {"/applications/", f"/applications/new?unit_id={village.id}", "/inbox/"} <= urls
        urls = {item.url for item in unit_page(platform, session, village, None).menu}
        assert "/applications/" not in urls and "/inbox/" not in urls


async def _principal(platform, user_id):
    if user_id is None:
        return None
    from core.accounts.models import User
    from core.accounts.services import principal_for

    with platform.session_factory() as session:
        return principal_for(session, session.get(User, user_id), platform.policy, "session")


def test_hook_menu_items_recruitment_entries_need_their_actions():
    from core.recruitment import hooks

    unit = Unit(id=7, level=UnitLevel.village, name="x", path="1.2.3.7.")
    items = {item.url: item.required_action for item in hooks.menu_items(unit=unit, actor=None)}
    assert items == {
        "/applications/": "core.application.review",
        "/applications/new?unit_id=7": "core.application.submit",
        "/inbox/": "authenticated",
    }
