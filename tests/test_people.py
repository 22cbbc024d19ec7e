"""People: resident IDs validated and decoded, every profile field checked, duplicates refused,
PATCH changes only what is sent, and the register and profile pages."""

from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.people.identity import IdNumberError, check_digit, parse_id_number
from core.people.models import Person
from core.people.services import PersonDetails, check_details
from core.volunteers.services import enroll
from tests.support.web import csrf_token, sign_in

pytestmark = pytest.mark.anyio


def resident_id(born: str = "19900101", sequence: str = "123", region: str = "500103") -> str:
    """A valid resident ID; the last digit of ``sequence`` odd for a man, even for a woman."""
    first17 = region + born + sequence
    return first17 + check_digit(first17)


def wrong_check(number: str) -> str:
    """``number`` with a check character that does not match."""
    return number[:17] + next(c for c in "0123456789X" if c != number[17])


TODAY = date(2026, 6, 15)


# -- the resident ID (GB 11643) ------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        resident_id("19900101", "123"),
        resident_id("19851201", "042"),
        " " + resident_id("20000229", "001") + " ",  # a leap day, spaces around
        "50010519851201042x".replace("x", check_digit("50010519851201042")).lower(),
    ],
)
def test_valid_ids_decode_birth_date_and_gender(raw):
    parsed = parse_id_number(raw, today=TODAY)
    assert parsed.value == raw.strip().upper()
    assert parsed.birth_date == date(
        int(parsed.value[6:10]), int(parsed.value[10:12]), int(parsed.value[12:14])
    )
    assert parsed.male == (int(parsed.value[16]) % 2 == 1)


def test_an_x_check_character_is_accepted_in_either_case():
    for day in range(1, 29):
        first17 = f"500105198512{day:02d}042"
        if check_digit(first17) == "X":
            break
    assert parse_id_number(first17 + "x").value == first17 + "X"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (wrong_check(resident_id()), "check_digit"),
        (resident_id()[:17], "length"),  # 17 characters
        (resident_id() + "1", "length"),  # 19 characters
        ("50010319900101123", "length"),
        ("5001031990010112AB", "format"),
        ("5001031990023012" + "3" + check_digit("50010319900230123"), "birth_date"),  # 30 Feb
        ("50010319891301123" + check_digit("50010319891301123"), "birth_date"),  # month 13
        (resident_id("20300101"), "birth_date"),  # born in the future
        (resident_id("18991231"), "birth_date"),  # before 1900
    ],
)
def test_invalid_ids_name_the_broken_rule(raw, rule):
    with pytest.raises(IdNumberError) as refused:
        parse_id_number(raw, today=TODAY)
    assert refused.value.rule == rule
    errors = check_details(PersonDetails(name="张三", id_number=raw), today=TODAY)
    assert [(e.field, e.rule) for e in errors] == [("id_number", rule)]


@pytest.mark.parametrize(
    ("born", "adult"),
    [("20080615", True), ("20080616", False), ("19500101", True), ("20150101", False)],
    ids=["18-today", "18-tomorrow", "elderly", "child"],
)
def test_volunteers_must_be_18_by_their_id(born, adult):
    details = PersonDetails(name="张三", id_number=resident_id(born))
    errors = check_details(details, today=TODAY, adult=True)
    assert [(e.field, e.rule) for e in errors] == ([] if adult else [("id_number", "age")])
    assert check_details(details, today=TODAY) == []  # a person need not be an adult


# -- the API -------------------------------------------------------------------------------


FULL = {
    "name": "李明",
    "phone": "+86 138-0013-8000",
    "address": "重庆市渝中区解放碑街道民族路 18 号",
    "education": "bachelor",
    "occupation": "教师",
    "skills": ["law", "first_aid", "law"],
    "availability": {"sat": ["morning", "evening"], "sun": ["afternoon"]},
    "emergency_contact_name": "李强",
    "emergency_contact_phone": "13900139000",
}


async def test_create_person_with_every_profile_field_reads_back_masked(
    client, platform, unit_tree, admin
):
    number = resident_id("19850412", "301")
    response = await client.post(
        "/api/v1/people",
        json={"unit_id": unit_tree.village.id, "id_number": number, **FULL},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["gender"] == "male" and body["birth_date"] == "1985-04-12"
    assert body["id_number"] == number[:3] + "*" * 11 + number[-4:]
    assert body["phone"] == "138****8000"
    assert body["address"] == "重庆市渝中区****"
    assert body["emergency_contact_phone"] == "139****9000"
    assert body["skills"] == ["first_aid", "law"]
    assert body["availability"] == {"sat": ["evening", "morning"], "sun": ["afternoon"]}
    assert (body["education"], body["occupation"]) == ("bachelor", "教师")
    assert body["volunteer_id"] is None

    read = await client.get(f"/api/v1/people/{body['id']}", headers=admin.headers)
    assert read.json() == body
    with platform.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT * FROM person")).one()._mapping
    for clear in (number, "13800138000", "13900139000", FULL["address"]):
        assert clear not in str(dict(stored))  # encrypted at rest
    with platform.session_factory() as session:
        person = session.get(Person, body["id"])
        assert (person.id_number, person.phone) == (number, "13800138000")


async def test_every_invalid_field_is_named_with_its_rule(client, unit_tree, admin):
    response = await client.post(
        "/api/v1/people",
        json={
            "unit_id": unit_tree.village.id,
            "name": "  ",
            "id_number": wrong_check(resident_id()),
            "phone": "12345678901",
            "education": "kindergarten",
            "skills": ["juggling"],
            "availability": {"someday": ["morning"]},
            "emergency_contact_phone": "010-1234567",
        },
        headers=admin.headers,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {(e["field"], e["rule"]) for e in body["errors"]} == {
        ("name", "length"),
        ("id_number", "check_digit"),
        ("phone", "mobile"),
        ("education", "choice"),
        ("skills", "choice"),
        ("availability", "choice"),
        ("emergency_contact_phone", "mobile"),
    }
    assert all(e["message"] for e in body["errors"])


async def test_strict_input_refuses_unknown_fields_and_coercion(client, unit_tree, admin):
    response = await client.post(
        "/api/v1/people",
        json={"unit_id": str(unit_tree.village.id), "name": "王五", "gender": "male"},
        headers=admin.headers,
    )
    assert response.status_code == 400
    assert {(e["field"], e["rule"]) for e in response.json()["errors"]} == {
        ("unit_id", "int_type"),
        ("gender", "extra_forbidden"),
    }


async def test_the_same_id_twice_is_refused_with_409_naming_id_number(
    client, platform, unit_tree, admin
):
    number = resident_id("19780305", "214")
    first = await client.post(
        "/api/v1/people",
        json={"unit_id": unit_tree.village.id, "name": "赵六", "id_number": number},
        headers=admin.headers,
    )
    assert first.status_code == 201
    for unit, written in (
        (unit_tree.other_district, number),  # anywhere in the city
        (unit_tree.village, " ".join([number[:6], number[6:14], number[14:]]).lower()),
    ):
        again = await client.post(
            "/api/v1/people",
            json={"unit_id": unit.id, "name": "冒名", "id_number": written},
            headers=admin.headers,
        )
        assert again.status_code == 409, again.text
        assert again.json()["code"] == "conflict"
        assert [(e["field"], e["rule"]) for e in again.json()["errors"]] == [
            ("id_number", "unique")
        ]
    with platform.session_factory() as session:
        assert len(session.exec(select(Person)).all()) == 1


async def test_patch_changes_only_the_fields_sent(client, platform, unit_tree, admin):
    number = resident_id("19850412", "301")
    created = (
        await client.post(
            "/api/v1/people",
            json={"unit_id": unit_tree.village.id, "id_number": number, **FULL},
            headers=admin.headers,
        )
    ).json()
    url = f"/api/v1/people/{created['id']}"

    changed = await client.patch(url, json={"phone": "15912345678"}, headers=admin.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**created, "phone": "159****5678"}

    cleared = await client.patch(
        url, json={"address": None, "skills": None, "occupation": "退休"}, headers=admin.headers
    )
    assert cleared.json()["address"] is None and cleared.json()["skills"] == []
    assert cleared.json()["occupation"] == "退休" and cleared.json()["education"] == "bachelor"

    woman = resident_id("19920820", "442")
    moved = await client.patch(url, json={"id_number": woman}, headers=admin.headers)
    assert (moved.json()["gender"], moved.json()["birth_date"]) == ("female", "1992-08-20")

    refused = await client.patch(
        url, json={"name": None, "id_number": None, "education": "phd"}, headers=admin.headers
    )
    assert refused.status_code == 400
    assert {(e["field"], e["rule"]) for e in refused.json()["errors"]} == {
        ("name", "required"),
        ("id_number", "required"),
    }
    refused = await client.patch(url, json={"education": "phd"}, headers=admin.headers)
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [("education", "choice")]
    refused = await client.patch(url, json={"unit_id": 1}, headers=admin.headers)
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
        ("unit_id", "extra_forbidden")
    ]

    other = await client.post(
        "/api/v1/people",
        json={"unit_id": unit_tree.village.id, "name": "孙七", "id_number": number},
        headers=admin.headers,
    )
    assert other.status_code == 201  # the first person's old number is free again
    taken = await client.patch(url, json={"id_number": number}, headers=admin.headers)
    assert taken.status_code == 409
    assert [(e["field"], e["rule"]) for e in taken.json()["errors"]] == [("id_number", "unique")]
    with platform.session_factory() as session:
        assert session.get(Person, created["id"]).id_number == woman  # nothing half-written


async def test_a_volunteers_id_must_show_age_18(client, platform, unit_tree, admin):
    adult = resident_id("19900101", "123")
    created = (
        await client.post(
            "/api/v1/people",
            json={"unit_id": unit_tree.village.id, "name": "周八", "id_number": adult},
            headers=admin.headers,
        )
    ).json()
    minor = resident_id(f"{date.today().year - 10}0101", "123")
    with platform.session_factory() as session:
        enroll(session, session.get(Person, created["id"]), unit_tree.village)
        session.commit()
    response = await client.patch(
        f"/api/v1/people/{created['id']}", json={"id_number": minor}, headers=admin.headers
    )
    assert response.status_code == 400
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("id_number", "age")]
    read = await client.get(f"/api/v1/people/{created['id']}", headers=admin.headers)
    assert read.json()["volunteer_id"] is not None


async def test_people_outside_reach_are_invisible(client, unit_tree, admin, accounts):
    created = (
        await client.post(
            "/api/v1/people",
            json={"unit_id": unit_tree.other_district.id, "name": "吴九"},
            headers=admin.headers,
        )
    ).json()
    office = accounts("district_admin", unit_tree.district)
    url = f"/api/v1/people/{created['id']}"
    assert (await client.get(url, headers=office.headers)).status_code == 404
    assert (await client.patch(url, json={"name": "改"}, headers=office.headers)).status_code == 404
    leader = accounts("village_leader", unit_tree.village)  # reads, may not manage
    mine = (
        await client.post(
            "/api/v1/people",
            json={"unit_id": unit_tree.village.id, "name": "郑十"},
            headers=admin.headers,
        )
    ).json()
    assert (
        await client.patch(
            f"/api/v1/people/{mine['id']}", json={"name": "改"}, headers=leader.headers
        )
    ).status_code == 403


# -- the pages -----------------------------------------------------------------------------


async def test_register_and_edit_a_person_on_the_pages(client, platform, unit_tree, accounts):
    leader = accounts("township_leader", unit_tree.township)
    await sign_in(client, leader.username, leader.password)
    register = f"/units/{unit_tree.township.id}/volunteers/people/"
    page = await client.get(register)
    assert page.status_code == 200 and "登记人员" in page.text
    number = resident_id("19880808", "118")
    form = {
        "unit_id": str(unit_tree.village.id),
        "name": "钱一",
        "id_number": number,
        "phone": "13711112222",
        "education": "college",
        "skill_first_aid": "1",
        "avail_sat_morning": "1",
        "_csrf_token": csrf_token(page.text),
    }
    bad = await client.post(register, data={**form, "id_number": wrong_check(number)})
    assert bad.status_code == 400
    assert "id_number" in bad.text and number not in bad.text
    created = await client.post(register, data=form)
    assert created.status_code == 200, created.text  # followed to the profile
    assert created.url.path.startswith(register)
    assert "钱一" in created.text and number not in created.text and "137****2222" in created.text
    with platform.session_factory() as session:
        person = session.exec(select(Person).where(Person.name == "钱一")).one()
    assert (person.unit_id, person.skills, person.availability) == (
        unit_tree.village.id,
        ["first_aid"],
        {"sat": ["morning"]},
    )
    duplicate = await client.post(register, data={**form, "name": "钱二"})
    assert duplicate.status_code == 409 and "id_number" in duplicate.text

    profile = f"{register}{person.id}"
    page = await client.get(profile)
    edited = await client.post(
        profile,
        data={
            "name": "钱一",
            "id_number": "",  # masked on the form: blank keeps it
            "phone": "",
            "address": "",
            "education": "bachelor",
            "occupation": "",
            "choices": "1",
            "skill_law": "1",
            "emergency_contact_name": "",
            "emergency_contact_phone": "",
            "_csrf_token": csrf_token(page.text),
        },
    )
    assert edited.status_code == 200, edited.text
    with platform.session_factory() as session:
        person = session.get(Person, person.id)
    assert (person.id_number, person.phone, person.education, person.skills) == (
        number,
        "13711112222",
        "bachelor",
        ["law"],
    )
    assert person.availability == {}
    english = await client.get(profile + "?lang=en")
    assert "Basic information" in english.text and "Bachelor" in english.text


async def test_the_people_pages_stay_inside_the_unit(client, platform, unit_tree, accounts, admin):
    elsewhere = (
        await client.post(
            "/api/v1/people",
            json={"unit_id": unit_tree.other_township.id, "name": "外人"},
            headers=admin.headers,
        )
    ).json()
    leader = accounts("township_leader", unit_tree.township)
    await sign_in(client, leader.username, leader.password)
    listed = await client.get(f"/units/{unit_tree.township.id}/volunteers/people/")
    assert "外人" not in listed.text
    for unit in (unit_tree.township, unit_tree.other_township):
        page = await client.get(
            f"/units/{unit.id}/volunteers/people/{elsewhere['id']}",
            headers={"accept": "text/html"},
        )
        assert page.status_code == 404
