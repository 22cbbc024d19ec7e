"""Units: codes, enterprise 中队, moving and merging with everything re-scoped, unit imports,
the demo districts and the district generator."""

import io
from datetime import date

import anyio
import openpyxl
import pytest
from pingan_sample.models import SampleNote
from sqlmodel import func, select

from core.accounts import services as accounts
from core.accounts.models import RoleGrant, User
from core.audit.models import AuditEntry
from core.errors import DomainError
from core.imports.models import ImportBatch
from core.people.identity import check_digit
from core.people.models import Person
from core.people.services import PersonDetails, create_person
from core.units.models import Unit, UnitEvent, UnitKind, UnitLevel
from core.units.moves import merge_unit, move_unit, scoped_tables
from core.units.services import (
    UnitFields,
    add_unit,
    code_errors,
    field_errors,
    set_plugin_enabled,
)
from core.volunteers.models import TeamMembership, TeamRole, Volunteer
from core.volunteers.services import enroll
from tests.support.web import post_form, sign_in

pytestmark = pytest.mark.anyio


def resident_id(region: str, born: str, sequence: int) -> str:
    first17 = f"{region}{born}{sequence:03d}"
    return first17 + check_digit(first17)


def reload(platform, unit: Unit) -> Unit:
    with platform.session_factory() as session:
        return session.get(Unit, unit.id)


def make_enterprise(platform, district: Unit, code: str = "E001") -> Unit:
    with platform.session_factory() as session:
        unit = add_unit(
            session,
            UnitFields(
                name="解放碑商圈中队",
                level=UnitLevel.township,
                kind=UnitKind.enterprise,
                code=code,
                organisation="重庆时代广场商场",
            ),
            session.get(Unit, district.id),
            by_user_id=None,
        )
        session.commit()
        return unit


# -- codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "kind", "parent", "code", "rule"),
    [
        ("district", "territorial", "city", "500199", None),
        ("district", "territorial", "city", "50019", "digits"),
        ("district", "territorial", "city", "510199", "prefix"),
        ("district", "territorial", "city", "500103", "unique"),
        ("township", "territorial", "district", "500103009", None),
        ("township", "territorial", "district", "500105009", "prefix"),
        ("township", "territorial", "district", "5001030090", "digits"),
        ("township", "territorial", "district", "500103000", "prefix"),
        ("township", "territorial", "district", None, "missing"),
        ("village", "territorial", "township", "500103002009", None),
        ("village", "territorial", "township", "500103001009", "prefix"),
        ("village", "territorial", "township", "50010300200A", "digits"),
        ("village", "territorial", "township", "500103002001", "unique"),
        ("township", "enterprise", "district", "ABC-1", None),
        ("township", "enterprise", "district", None, None),
        ("township", "enterprise", "district", "有中文", "format"),
        ("township", "enterprise", "district", "500103002", "unique"),
    ],
)
def test_code_rules_by_level(platform, unit_tree, level, kind, parent, code, rule):
    with platform.session_factory() as session:
        errors = code_errors(
            session,
            level=UnitLevel(level),
            kind=UnitKind(kind),
            parent=session.get(Unit, getattr(unit_tree, parent).id),
            code=code,
        )
    assert [error.rule for error in errors] == ([rule] if rule else [])
    assert all(error.field == "code" for error in errors)


def test_level_kind_and_figure_rules(platform, unit_tree):
    with platform.session_factory() as session:
        township = session.get(Unit, unit_tree.township.id)
        district = session.get(Unit, unit_tree.district.id)

        def rules(fields: UnitFields, parent: Unit) -> set[str]:
            return {e.rule for e in field_errors(session, fields, parent)}

        # an enterprise 中队 stands directly under a district, never under a township
        assert "enterprise_level" in rules(
            UnitFields("厂中队", UnitLevel.village, UnitKind.enterprise, organisation="厂"),
            township,
        )
        assert "missing" in rules(
            UnitFields("厂中队", UnitLevel.township, UnitKind.enterprise), district
        )
        assert (
            rules(
                UnitFields("厂中队", UnitLevel.township, UnitKind.enterprise, organisation="厂"),
                district,
            )
            == set()
        )
        assert "parent_level" in rules(
            UnitFields("村", UnitLevel.village, code="500103009001"), district
        )
        assert {"range", "missing"} <= rules(
            UnitFields("村", UnitLevel.village, code="500103002009", population=-1), township
        )


async def test_api_creates_units_below_with_checked_codes(client, unit_tree, accounts):
    office = accounts("district_admin", unit_tree.district)
    created = await client.post(
        f"/api/v1/units/{unit_tree.district.id}/children",
        json={
            "name": "朝天门街道",
            "code": "500103007",
            "population": 31000,
            "population_year": 2020,
        },
        headers=office.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["level"] == "township" and body["kind"] == "territorial"
    assert body["path"] == f"{unit_tree.district.path}{body['id']}."
    refused = await client.post(
        f"/api/v1/units/{unit_tree.district.id}/children",
        json={"name": "错码街道", "code": "500105001"},
        headers=office.headers,
    )
    assert refused.status_code == 400
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [("code", "prefix")]
    village = await client.post(
        f"/api/v1/units/{body['id']}/children",
        json={"name": "白象街社区", "code": "500103007001"},
        headers=office.headers,
    )
    assert village.status_code == 201 and village.json()["level"] == "village"
    below_village = await client.post(
        f"/api/v1/units/{village.json()['id']}/children",
        json={"name": "楼栋"},
        headers=office.headers,
    )
    assert below_village.status_code == 400
    events = await client.get(f"/api/v1/units/{body['id']}/events", headers=office.headers)
    assert [e["event"] for e in events.json()] == ["created"]
    assert events.json()[0]["by_user_id"] == office.user_id


async def test_editing_a_code_carries_down_to_the_units_below(
    client, platform, unit_tree, accounts
):
    office = accounts("district_admin", unit_tree.district)
    response = await client.patch(
        f"/api/v1/units/{unit_tree.township.id}",
        json={
            "code": "500103011",
            "team_name": "解放碑中队",
            "population": 52000,
            "population_year": 2023,
        },
        headers=office.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["team_name"] == "解放碑中队"
    assert reload(platform, unit_tree.village).code == "500103011001"
    clash = await client.patch(
        f"/api/v1/units/{unit_tree.township.id}",
        json={"code": "500103001"},
        headers=office.headers,
    )
    assert clash.status_code == 400 and clash.json()["errors"][0]["rule"] == "unique"
    with platform.session_factory() as session:
        event = session.exec(
            select(UnitEvent).where(UnitEvent.unit_id == unit_tree.township.id)
        ).one()
    assert event.detail["changes"]["code"] == ["500103002", "500103011"]
    assert event.detail["recoded"] == [[unit_tree.village.id, "500103002001", "500103011001"]]


# -- enterprise 中队 -----------------------------------------------------------------------


async def test_enterprise_team_is_seen_and_directed_by_its_district_not_by_a_township(
    client, platform, unit_tree, accounts
):
    office = accounts("district_admin", unit_tree.district)
    created = await client.post(
        f"/api/v1/units/{unit_tree.district.id}/children",
        json={
            "name": "时代广场中队",
            "kind": "enterprise",
            "code": "SDGC01",
            "organisation": "重庆时代广场商场",
            "team_name": "时代广场平安志愿服务中队",
        },
        headers=office.headers,
    )
    assert created.status_code == 201, created.text
    enterprise = created.json()
    assert enterprise["parent_id"] == unit_tree.district.id
    assert enterprise["level"] == "township" and enterprise["kind"] == "enterprise"

    township = accounts("township_leader", unit_tree.township)
    other_office = accounts("district_admin", unit_tree.other_district)
    city = accounts("city_admin", unit_tree.city)

    # API: the guiding district and the city see it; a township and another district do not.
    for account, status in ((office, 200), (city, 200), (township, 404), (other_office, 404)):
        response = await client.get(f"/api/v1/units/{enterprise['id']}", headers=account.headers)
        assert response.status_code == status, account.username
    assert response.json()["code"] == "not_found"
    listed = await client.get(
        "/api/v1/units", params={"kind": "enterprise"}, headers=office.headers
    )
    assert [unit["organisation"] for unit in listed.json()] == ["重庆时代广场商场"]
    listed = await client.get("/api/v1/units", params={"limit": 500}, headers=township.headers)
    assert enterprise["id"] not in {unit["id"] for unit in listed.json()}

    # The district directs it (changes it); the township may not even see it to try.
    changed = await client.patch(
        f"/api/v1/units/{enterprise['id']}",
        json={"population": 800, "population_year": 2024},
        headers=office.headers,
    )
    assert changed.status_code == 200
    refused = await client.patch(
        f"/api/v1/units/{enterprise['id']}", json={"name": "x"}, headers=township.headers
    )
    assert refused.status_code == 404

    # Pages: the same.
    await sign_in(client, office.username, office.password)
    page = await client.get(f"/units/{enterprise['id']}/about")
    assert page.status_code == 200
    assert "重庆时代广场商场" in page.text and "企事业单位组建" in page.text
    district_page = await client.get(f"/units/{unit_tree.district.id}/about")
    assert "时代广场中队" in district_page.text
    client.cookies.clear()
    await sign_in(client, township.username, township.password)
    page = await client.get(f"/units/{enterprise['id']}/about", headers={"accept": "text/html"})
    assert page.status_code == 404
    township_page = await client.get(f"/units/{unit_tree.township.id}/about")
    assert township_page.status_code == 200 and "时代广场中队" not in township_page.text


def test_an_enterprise_team_has_no_township_parent(platform, unit_tree):
    with platform.session_factory() as session:
        with pytest.raises(DomainError) as refused:
            add_unit(
                session,
                UnitFields("厂中队", UnitLevel.village, UnitKind.enterprise, organisation="厂"),
                session.get(Unit, unit_tree.township.id),
                by_user_id=None,
            )
    assert "enterprise_level" in {e.rule for e in refused.value.errors}


# -- moving and merging --------------------------------------------------------------------


class Holdings:
    """Records of every kind held at a unit: a person, a volunteer with a membership, an
    account with a role, and a note of the sample plugin (unit_id only, no unit_path)."""

    def __init__(self, platform, unit: Unit, tag: str, number: int) -> None:
        with platform.session_factory() as session:
            unit = session.get(Unit, unit.id)
            person = create_person(
                session,
                platform.keyring,
                unit,
                PersonDetails(
                    name=f"志愿者{tag}", id_number=resident_id("500103", "19900101", number)
                ),
            )
            volunteer = enroll(session, person, unit, on=date(2024, 1, 1))
            user, _ = accounts.create_user(
                session, platform.settings, username=f"leader-{tag}", display_name=tag, unit=unit
            )
            role = {"township": "township_leader", "village": "village_leader"}[unit.level]
            grant = accounts.grant_role(session, platform.policy, None, user, role, unit)
            note = SampleNote(unit_id=unit.id, text=f"便签{tag}")
            session.add(note)
            session.commit()
            self.person, self.volunteer, self.user = person.id, volunteer.id, user.id
            self.grant, self.note = grant.id, note.id

    def paths(self, platform) -> dict[str, str]:
        with platform.session_factory() as session:
            membership = session.exec(
                select(TeamMembership).where(TeamMembership.volunteer_id == self.volunteer)
            ).one()
            grant = session.get(RoleGrant, self.grant)  # gone if held twice after a merge
            return {
                "person": session.get(Person, self.person).unit_path,
                "volunteer": session.get(Volunteer, self.volunteer).unit_path,
                "team_membership": membership.unit_path,
                "user_account": session.get(User, self.user).unit_path,
                **({"role_grant": grant.unit_path} if grant else {}),
            }

    def holders(self, platform) -> dict[str, int]:
        with platform.session_factory() as session:
            grant = session.get(RoleGrant, self.grant)
            return {
                "person": session.get(Person, self.person).unit_id,
                "volunteer": session.get(Volunteer, self.volunteer).unit_id,
                "user_account": session.get(User, self.user).unit_id,
                **({"role_grant": grant.unit_id} if grant else {}),
                "sample_note": session.get(SampleNote, self.note).unit_id,
            }


def test_scoped_tables_are_found_from_every_owners_models(platform):
    tables = {scoped.name: scoped for scoped in scoped_tables(platform.plugins.models)}
    for name in (
        "person",
        "volunteer",
        "team_membership",
        "user_account",
        "role_grant",
        "application",
        "stored_file",
        "import_batch",
        "kit_issue",
        "special_team_membership",
    ):
        assert tables[name].path is not None, name
    # the sample plugin's notes: held by unit id, scoped through their unit
    assert tables["sample_note"].path is None and tables["sample_note"].holder is not None
    assert tables["sample_note"].owner == "sample"
    # the audit trail is history (hash-chained); a unit's events and switches stay its own
    assert "audit_entry" not in tables or tables["audit_entry"].path is None
    assert "unit_event" not in tables and "unit_plugin" not in tables


async def test_moving_a_township_rescopes_everything_under_it_and_keeps_history(
    client, platform, unit_tree, accounts
):
    at_township = Holdings(platform, unit_tree.township, "t", 1)
    at_village = Holdings(platform, unit_tree.village, "v", 2)
    office = accounts("city_admin", unit_tree.city)
    old_office = accounts("district_admin", unit_tree.district)
    new_office = accounts("district_admin", unit_tree.other_district)
    old_reader = accounts("sample.reader", unit_tree.district)
    new_reader = accounts("sample.reader", unit_tree.other_district)
    with platform.session_factory() as session:
        set_plugin_enabled(
            session, session.get(Unit, unit_tree.city.id), "sample", True, changed_by="t"
        )
        session.commit()
    # before the move the old district sees the village's people
    person_view = await client.get(
        f"/api/v1/people/{at_village.person}", headers=old_office.headers
    )
    assert person_view.status_code == 200

    response = await client.post(
        f"/api/v1/units/{unit_tree.township.id}/move",
        json={"parent_id": unit_tree.other_district.id},
        headers=office.headers,
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    new_path = f"{unit_tree.other_district.path}{unit_tree.township.id}."
    assert moved["new_path"] == new_path and moved["old_path"] == unit_tree.township.path
    # codes follow the rules under the new district: the next free code, and below it too
    township, village = reload(platform, unit_tree.township), reload(platform, unit_tree.village)
    assert (township.code, village.code) == ("500105001", "500105001001")
    assert township.parent_id == unit_tree.other_district.id
    assert village.path == f"{new_path}{village.id}."
    assert moved["rows"]["unit"] == 2
    for table in ("person", "volunteer", "team_membership", "user_account", "role_grant"):
        assert moved["rows"][table] == 2, table
    assert set(at_township.paths(platform).values()) == {new_path}
    assert set(at_village.paths(platform).values()) == {village.path}
    # the plugin's note is still held by the village, and now lies in the new district:
    # readers of the plugin there see it, readers in the old district no longer do
    for account, status in ((new_reader, 200), (old_reader, 404)):
        notes = await client.get(
            f"/api/v1/units/{village.id}/sample/notes", headers=account.headers
        )
        assert notes.status_code == status, account.username
    notes = await client.get(f"/api/v1/units/{village.id}/sample/notes", headers=new_reader.headers)
    assert [note["id"] for note in notes.json()] == [at_village.note]
    # the old district no longer sees anything of it; the new one sees all of it
    for account, status in ((old_office, 404), (new_office, 200)):
        person = await client.get(f"/api/v1/people/{at_village.person}", headers=account.headers)
        assert person.status_code == status
        unit = await client.get(f"/api/v1/units/{village.id}", headers=account.headers)
        assert unit.status_code == status
    # the moved township's leader keeps reaching its own subtree
    with platform.session_factory() as session:
        grant = session.get(RoleGrant, at_township.grant)
        assert grant.unit_path == new_path
    # history: who, from where, to where; the audit trail has the move with the row counts
    events = await client.get(f"/api/v1/units/{township.id}/events", headers=office.headers)
    moved_event = events.json()[0]
    assert moved_event["event"] == "moved" and moved_event["by_user_id"] == office.user_id
    detail = moved_event["detail"]
    assert (detail["from_parent_id"], detail["to_parent_id"]) == (
        unit_tree.district.id,
        unit_tree.other_district.id,
    )
    assert (detail["from_code"], detail["to_code"]) == ("500103002", "500105001")
    with platform.session_factory() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.event == "move")).one()
    assert entry.user_id == office.user_id and entry.after["rows"]["person"] == 2
    assert entry.unit_path == new_path


async def test_moves_keep_levels_fitting(client, platform, unit_tree, accounts):
    office = accounts("city_admin", unit_tree.city)

    async def move(unit: Unit, parent: Unit, **extra):
        return await client.post(
            f"/api/v1/units/{unit.id}/move",
            json={"parent_id": parent.id, **extra},
            headers=office.headers,
        )

    for unit, parent in (
        (unit_tree.village, unit_tree.district),  # a village goes under a township
        (unit_tree.township, unit_tree.other_township),  # a township under a district
        (unit_tree.district, unit_tree.other_district),
        (unit_tree.township, unit_tree.district),  # already there
    ):
        response = await move(unit, parent)
        assert response.status_code == 400, (unit.name, parent.name)
    enterprise = make_enterprise(platform, unit_tree.district)
    assert (await move(unit_tree.village, enterprise)).status_code == 400
    # a village moves to another township, with a code given by hand
    response = await move(unit_tree.village, unit_tree.other_township, code="500103001077")
    assert response.status_code == 200, response.text
    assert reload(platform, unit_tree.village).code == "500103001077"
    bad_code = await move(unit_tree.village, unit_tree.township, code="500105001001")
    assert bad_code.status_code == 400 and bad_code.json()["errors"][0]["rule"] == "prefix"
    # an enterprise team moves to another district and keeps its free code
    response = await move(enterprise, unit_tree.other_district)
    assert response.status_code == 200 and reload(platform, enterprise).code == "E001"
    # the new parent must be managed by the caller too
    district_office = accounts("district_admin", unit_tree.district)
    response = await client.post(
        f"/api/v1/units/{unit_tree.township.id}/move",
        json={"parent_id": unit_tree.other_district.id},
        headers=district_office.headers,
    )
    assert response.status_code == 404


async def test_merging_passes_children_and_records_over_and_keeps_the_unit_as_history(
    client, platform, unit_tree, accounts
):
    merged = Holdings(platform, unit_tree.township, "m", 3)
    below = Holdings(platform, unit_tree.village, "b", 4)
    staying = Holdings(platform, unit_tree.other_township, "s", 5)
    office = accounts("district_admin", unit_tree.district)
    # the same person leads both townships: after the merge the role is held once
    with platform.session_factory() as session:
        user = session.get(User, merged.user)
        accounts_other = session.get(Unit, unit_tree.other_township.id)
        from core.accounts.services import grant_role

        grant_role(session, platform.policy, None, user, "township_leader", accounts_other)
        membership = session.exec(
            select(TeamMembership).where(TeamMembership.volunteer_id == merged.volunteer)
        ).one()
        membership.role = TeamRole.captain
        session.add(membership)
        session.commit()

    response = await client.post(
        f"/api/v1/units/{unit_tree.township.id}/merge",
        json={"into_id": unit_tree.other_township.id},
        headers=office.headers,
    )
    assert response.status_code == 200, response.text
    into = reload(platform, unit_tree.other_township)
    gone = reload(platform, unit_tree.township)
    village = reload(platform, unit_tree.village)
    assert not gone.active and gone.merged_into_id == into.id
    assert gone.path == unit_tree.township.path  # never deleted, kept where it was
    # the child village is now under the other township, re-coded after its villages
    assert village.parent_id == into.id and village.path == f"{into.path}{village.id}."
    assert village.code == "500103001002"
    # the merged township's records are held by the other township now
    assert set(merged.holders(platform).values()) == {into.id}
    assert set(merged.paths(platform).values()) == {into.path}
    # the village's records stay the village's, under its new path
    assert below.holders(platform)["sample_note"] == village.id
    assert set(below.paths(platform).values()) == {village.path}
    assert set(staying.paths(platform).values()) == {into.path}
    with platform.session_factory() as session:
        grants = session.exec(
            select(RoleGrant).where(RoleGrant.user_id == merged.user, RoleGrant.unit_id == into.id)
        ).all()
        assert [g.role for g in grants] == ["township_leader"]
        membership = session.exec(
            select(TeamMembership).where(TeamMembership.volunteer_id == merged.volunteer)
        ).one()
        assert (membership.unit_id, membership.role) == (into.id, TeamRole.member)
        history = {
            (event.unit_id, event.event): event
            for event in session.exec(
                select(UnitEvent).where(UnitEvent.by_user_id == office.user_id)
            )
        }
    assert history[(gone.id, "merged")].detail["into_id"] == into.id
    assert history[(gone.id, "merged")].detail["leaders_released"] == [
        [merged.volunteer, "captain"]
    ]
    assert history[(into.id, "absorbed")].detail["from_id"] == gone.id
    assert history[(village.id, "moved")].detail["reason"] == "merge"
    # merged units are listed only when asked for, and cannot be merged or changed again
    listed = await client.get("/api/v1/units", params={"level": "township"}, headers=office.headers)
    assert gone.id not in {unit["id"] for unit in listed.json()}
    listed = await client.get(
        "/api/v1/units",
        params={"level": "township", "include_inactive": True},
        headers=office.headers,
    )
    assert gone.id in {unit["id"] for unit in listed.json()}
    again = await client.post(
        f"/api/v1/units/{gone.id}/merge", json={"into_id": into.id}, headers=office.headers
    )
    assert again.status_code == 400 and again.json()["errors"][0]["rule"] == "inactive"
    wrong_level = await client.post(
        f"/api/v1/units/{into.id}/merge",
        json={"into_id": unit_tree.district.id},
        headers=office.headers,
    )
    assert wrong_level.status_code == 400


def test_move_and_merge_in_services_roll_back_together(platform, unit_tree):
    """A refused move changes nothing at all (one transaction)."""
    Holdings(platform, unit_tree.village, "r", 6)
    with platform.session_factory() as session:
        before = session.exec(select(Person.unit_path)).all()
        with pytest.raises(DomainError):
            move_unit(
                session,
                session.get(Unit, unit_tree.village.id),
                session.get(Unit, unit_tree.other_township.id),
                models=platform.plugins.models,
                by_user_id=None,
                code="500105001001",
            )
        session.rollback()
        assert session.exec(select(Person.unit_path)).all() == before
        with pytest.raises(DomainError):
            merge_unit(
                session,
                session.get(Unit, unit_tree.village.id),
                session.get(Unit, unit_tree.township.id),
                models=platform.plugins.models,
                by_user_id=None,
            )


async def test_unit_page_moves_and_merges_by_code_and_shows_leaders(
    client, platform, unit_tree, accounts
):
    held = Holdings(platform, unit_tree.village, "p", 7)
    with platform.session_factory() as session:
        membership = session.exec(
            select(TeamMembership).where(TeamMembership.volunteer_id == held.volunteer)
        ).one()
        membership.role = TeamRole.captain
        session.add(membership)
        session.commit()
    office = accounts("district_admin", unit_tree.district)
    await sign_in(client, office.username, office.password)
    page = await client.get(f"/units/{unit_tree.village.id}/about")
    assert page.status_code == 200
    assert "志愿者p" in page.text and "队长" in page.text
    detail = await client.get(f"/api/v1/units/{unit_tree.village.id}", headers=office.headers)
    assert detail.json()["leaders"] == [
        {"role": "captain", "name": "志愿者p", "volunteer_id": held.volunteer}
    ]
    assert "500103002001" in page.text
    # a code outside the caller's area reads like a code that does not exist
    refused = await post_form(
        client,
        f"/units/{unit_tree.village.id}/move",
        {"parent_code": "500105"},
        from_page=f"/units/{unit_tree.village.id}/about",
    )
    assert refused.status_code == 400 and "500105" in refused.text
    moved = await post_form(
        client,
        f"/units/{unit_tree.village.id}/move",
        {"parent_code": "500103001", "code": ""},
        from_page=f"/units/{unit_tree.village.id}/about",
    )
    assert moved.status_code == 200 and moved.url.path == f"/units/{unit_tree.village.id}/about"
    assert "七星岗街道" in moved.text and "500103001002" in moved.text
    merged = await post_form(
        client,
        f"/units/{unit_tree.village.id}/merge",
        {"into_code": "500103001001"},
        from_page=f"/units/{unit_tree.village.id}/about",
    )
    assert merged.status_code == 200
    assert merged.url.path == f"/units/{unit_tree.other_village.id}/about"
    page = await client.get(f"/units/{unit_tree.village.id}/about")
    assert "该单位已撤并" in page.text and "金汤街社区" in page.text
    edit = await post_form(
        client,
        f"/units/{unit_tree.other_village.id}/about",
        {
            "name": "金汤街社区",
            "code": "500103001001",
            "population": "4200",
            "population_year": "2023",
        },
        from_page=f"/units/{unit_tree.other_village.id}/about",
    )
    assert edit.status_code == 200
    assert reload(platform, unit_tree.other_village).population == 4200
    english = await client.get(f"/units/{unit_tree.other_village.id}/about?lang=en")
    assert "Resident population" in english.text and "History" in english.text


# -- importing units -----------------------------------------------------------------------


def _sheet(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


UNIT_ROWS = [
    ["代码", "名称", "层级", "上级代码", "常住人口", "人口年份", "队伍名称", "类型", "组建单位"],
    # a village before its township: parents are stored first
    ["500103009001", "新华路社区", "社区", "500103009", 5400, 2020, "新华路分队", "", ""],
    ["500103009", "新华路街道", "街道", "500103", 48000, 2020, "新华路中队", "", ""],
    ["500103", "渝中区", "区县", "500000", 588717, 2020, "渝中区大队", "", ""],  # an update
    ["QY0001", "大坪医院中队", "中队", "500103", "", "", "", "企事业", "陆军特色医学中心"],
    ["500103009", "重复街道", "街道", "500103", "", "", "", "", ""],  # a second row: update
    ["50010301", "短码街道", "街道", "500103", "", "", "", "", ""],  # digits
    ["500103010001", "孤儿社区", "社区", "500103010", "", "", "", "", ""],  # unknown parent
    ["500105001", "江北街道", "街道", "500105", "", "", "", "", ""],  # outside the district
    ["500103011", "人口街道", "街道", "500103", "很多", "", "", "", ""],  # not a number
    ["500103012", "层级街道", "省", "500103", "", "", "", "", ""],  # unknown level
    ["500103002001", "民族路社区", "社区", "500103001", "", "", "", "", ""],  # parent changed
]


async def _wait(client, url: str, headers: dict, batch_id: int) -> dict:
    for _ in range(400):
        response = await client.get(url, params={"batch": batch_id}, headers=headers)
        (batch,) = response.json()
        if batch["status"] in ("done", "failed"):
            return batch
        await anyio.sleep(0.05)
    raise AssertionError(f"import {batch_id} did not finish: {batch}")


async def test_unit_import_creates_or_updates_by_code_and_reports_every_bad_row(
    client, platform, unit_tree, accounts
):
    office = accounts("district_admin", unit_tree.district)
    content = _sheet(UNIT_ROWS)
    url = f"/api/v1/units/{unit_tree.district.id}/imports/units"
    results = []
    for _ in range(2):
        upload = await client.post(
            url,
            files={"file": ("单位.xlsx", content, "application/octet-stream")},
            headers=office.headers,
        )
        assert upload.status_code == 202, upload.text
        results.append(await _wait(client, url, office.headers, upload.json()["id"]))
    first, second = results
    assert first["status"] == "done", first
    assert (first["rows_done"], first["created"], first["updated"], first["refused"]) == (
        11,
        3,
        2,
        6,
    )
    # the same file again: nothing new, the same rows updated, the same rows refused
    assert (second["created"], second["updated"], second["refused"]) == (0, 5, 6)
    with platform.session_factory() as session:
        township = session.exec(select(Unit).where(Unit.code == "500103009")).one()
        village = session.exec(select(Unit).where(Unit.code == "500103009001")).one()
        enterprise = session.exec(select(Unit).where(Unit.code == "QY0001")).one()
        district = session.get(Unit, unit_tree.district.id)
        assert village.parent_id == township.id and township.parent_id == district.id
        assert township.name == "重复街道"  # the later row updated the earlier one
        assert (village.population, village.population_year, village.team_name) == (
            5400,
            2020,
            "新华路分队",
        )
        assert (enterprise.kind, enterprise.organisation) == (
            UnitKind.enterprise,
            "陆军特色医学中心",
        )
        assert (district.population, district.team_name) == (588717, "渝中区大队")
        assert session.exec(select(func.count()).select_from(Unit)).one() == 7 + 3
        imported = session.exec(
            select(UnitEvent).where(UnitEvent.unit_id == township.id).order_by(UnitEvent.id)
        ).all()
        assert imported[0].event == "imported" and imported[0].by_user_id == office.user_id
        assert session.get(ImportBatch, first["id"]).error_file_id is not None
    errors = await client.get(
        f"{url}/errors", params={"batch": first["id"]}, headers=office.headers
    )
    assert errors.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(errors.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:9] == tuple(UNIT_ROWS[0]) and rows[0][-2:] == ("行号", "错误原因")
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {
        "50010301",
        "500103010001",
        "500105001",
        "500103011",
        "500103012",
        "500103002001",
    }
    assert "9 位数字" in by_code["50010301"][-1]
    assert "500103010" in by_code["500103010001"][-1]
    assert "不在本单位范围内" in by_code["500105001"][-1]
    assert "整数" in by_code["500103011"][-1]
    assert "省" in by_code["500103012"][-1]
    assert "移动单位" in by_code["500103002001"][-1]
    assert by_code["50010301"][-2] == 7  # the spreadsheet's row number


# -- demo and generator --------------------------------------------------------------------


def test_demo_districts_have_their_census_population_and_one_detailed_district(platform):
    from core.demo.loader import district_rows, load_demo

    assert load_demo(platform) is not None
    rows = {row["code"]: row for row in district_rows()}
    assert len(rows) == 38
    with platform.session_factory() as session:
        districts = session.exec(select(Unit).where(Unit.level == UnitLevel.district)).all()
        assert len(districts) == 38
        for district in districts:
            assert district.population == int(rows[district.code]["resident_population"])
            assert district.population_year == 2020
        yuzhong = next(d for d in districts if d.code == "500103")
        streets = session.exec(
            select(Unit).where(Unit.parent_id == yuzhong.id, Unit.kind == UnitKind.territorial)
        ).all()
        assert len(streets) == 11 and sum(s.population for s in streets) == yuzhong.population
        assert (
            session.exec(
                select(Unit).where(Unit.parent_id == yuzhong.id, Unit.kind == UnitKind.enterprise)
            )
            .one()
            .organisation
        )
        for unit in session.exec(select(Unit).where(Unit.level != UnitLevel.city)).all():
            parent = session.get(Unit, unit.parent_id)
            assert (
                code_errors(
                    session,
                    level=unit.level,
                    kind=unit.kind,
                    parent=parent,
                    code=unit.code,
                    unit_id=unit.id,
                )
                == []
            ), unit.name


def test_generator_fills_a_district_with_believable_units(platform, unit_tree):
    from core.demo.loader import generate_district

    with platform.session_factory() as session:
        district = session.get(Unit, unit_tree.other_district.id)
        district.population = 965_000
        district.population_year = 2020
        generated = generate_district(session, district, seed=7)
        session.commit()
        assert 20 <= len(generated.townships) <= 45
        assert sum(t.population for t in generated.townships) == district.population
        assert sum(v.population for v in generated.villages) == district.population
        assert len(generated.villages) > 3 * len(generated.townships)
        for township in generated.townships:
            villages = [v for v in generated.villages if v.parent_id == township.id]
            assert sum(v.population for v in villages) == township.population
            assert township.name.endswith(("街道", "镇", "乡"))
            assert all(v.name.endswith(("社区", "村")) for v in villages)
            assert (
                code_errors(
                    session,
                    level=township.level,
                    kind=township.kind,
                    parent=district,
                    code=township.code,
                    unit_id=township.id,
                )
                == []
            )
            for village in villages:
                assert village.code.startswith(township.code) and len(village.code) == 12
        codes = [u.code for u in generated.townships + generated.villages]
        assert len(codes) == len(set(codes))
