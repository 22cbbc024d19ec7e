"""Coverage: volunteers against resident population, rolled up the unit tree, the 1 % rule,
scoping, the drill-down pages, rankings and the workbook.

The expected figures are worked out here independently of ``core.coverage``: by walking each
volunteer's unit up its ``parent_id`` links (not the materialised paths the service uses) and
by summing populations recursively over ``parent_id`` children.
"""

import io
import random
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from core.coverage.services import PopulationSource, compute_coverage, roll_up
from core.people.models import Person
from core.units.models import Unit, UnitKind, UnitLevel
from core.units.services import create_unit
from core.volunteers.models import Volunteer, VolunteerStatus
from tests.support.web import sign_in

pytestmark = pytest.mark.anyio


# -- building a tree with volunteers -------------------------------------------------------


@dataclass
class World:
    """A tree of units with volunteers, and the ids the tests refer to by name."""

    units: dict[str, Unit]


def add_volunteers(session, unit: Unit, statuses: list[VolunteerStatus]) -> None:
    """Volunteers held by ``unit``, one per status given."""
    for status in statuses:
        person = Person(unit_id=unit.id, unit_path=unit.path, name="志愿者")
        session.add(person)
        session.flush()
        session.add(
            Volunteer(
                person_id=person.id,
                unit_id=unit.id,
                unit_path=unit.path,
                number=f"V{person.id:010d}",
                status=status,
            )
        )
    session.flush()


@pytest.fixture
def world(platform, unit_tree) -> World:
    """``unit_tree`` extended: populations on some units only, an enterprise 中队, an inactive
    village, and volunteers of every status at every level."""
    active, suspended, left = (
        VolunteerStatus.active,
        VolunteerStatus.suspended,
        VolunteerStatus.left,
    )
    with platform.session_factory() as session:
        units = {
            name: session.get(Unit, getattr(unit_tree, name).id)
            for name in (
                "city",
                "district",
                "township",
                "village",
                "other_district",
                "other_township",
                "other_village",
            )
        }
        units["second_village"] = create_unit(
            session, name="较场口社区", level=UnitLevel.village, parent=units["township"]
        )
        units["third_township"] = create_unit(
            session, name="石油路街道", level=UnitLevel.township, parent=units["district"]
        )
        units["closed_village"] = create_unit(
            session, name="已撤并社区", level=UnitLevel.village, parent=units["township"]
        )
        units["enterprise"] = create_unit(
            session,
            name="重庆天地中队",
            level=UnitLevel.township,
            parent=units["district"],
            kind=UnitKind.enterprise,
        )
        units["far_township"] = create_unit(
            session, name="观音桥街道", level=UnitLevel.township, parent=units["other_district"]
        )
        units["far_village"] = create_unit(
            session, name="北城天街社区", level=UnitLevel.village, parent=units["far_township"]
        )
        # Populations: villages mostly known, townships partly, districts not at all (so they
        # are summed), the other district has its own census figure.
        populations = {
            "village": 4_000,
            "second_village": 2_500,
            "closed_village": 900,  # inactive: never added to its township
            "other_village": 3_000,
            "enterprise": 5_000,  # an enterprise: never added to its district
            "third_township": 1_200,
            "far_village": None,  # unknown: its township and district have partial sums
            "other_district": 40_000,
        }
        for name, population in populations.items():
            units[name].population = population
            units[name].population_year = 2024 if population else None
        units["closed_village"].active = False
        for unit in units.values():
            session.add(unit)
        session.flush()
        add_volunteers(session, units["village"], [active] * 30 + [suspended, left])
        add_volunteers(session, units["second_village"], [active] * 25)  # exactly 1 %
        add_volunteers(session, units["closed_village"], [active] * 2)
        add_volunteers(session, units["township"], [active] * 3 + [left] * 4)
        add_volunteers(session, units["other_village"], [active] * 29 + [suspended] * 5)
        add_volunteers(session, units["enterprise"], [active] * 7)
        add_volunteers(session, units["third_township"], [left] * 3)
        add_volunteers(session, units["district"], [active])
        add_volunteers(session, units["far_village"], [active] * 12)
        add_volunteers(session, units["city"], [active] * 2)
        session.commit()
        for unit in units.values():
            session.refresh(unit)
    return World(units)


def expected_figures(platform) -> dict[int, dict]:
    """Per unit: active volunteers of the subtree and the population, worked out from the
    parent links alone."""
    with platform.session_factory() as session:
        units = {u.id: u for u in session.exec(select(Unit))}
        volunteers = session.exec(select(Volunteer.unit_id, Volunteer.status)).all()
    children: dict[int, list[int]] = {uid: [] for uid in units}
    for unit in units.values():
        if unit.parent_id is not None:
            children[unit.parent_id].append(unit.id)
    counts = dict.fromkeys(units, 0)
    for unit_id, status in volunteers:
        if status != "active":
            continue
        current = unit_id
        while current is not None:
            counts[current] += 1
            current = units[current].parent_id

    def population(uid: int) -> tuple[int | None, bool]:
        unit = units[uid]
        if unit.population is not None:
            return unit.population, True
        sums = [
            population(child)
            for child in children[uid]
            if units[child].active and units[child].kind == "territorial"
        ]
        known = [value for value, _ in sums if value is not None]
        if not known:
            return None, not sums
        return sum(known), all(value is not None and complete for value, complete in sums)

    figures = {}
    for uid in units:
        value, complete = population(uid)
        met = None if not value else counts[uid] * 100 >= value
        figures[uid] = {
            "volunteers": counts[uid],
            "population": value,
            "population_complete": complete,
            "met": met,
        }
    return figures


# -- the roll-up ---------------------------------------------------------------------------


async def test_coverage_roll_up_equals_an_independent_count(client, platform, world, admin):
    expected = expected_figures(platform)
    city = world.units["city"]
    response = await client.get(
        f"/api/v1/units/{city.id}/coverage", params={"depth": "all"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    rows = [body["unit"], *body["children"]]
    assert {row["unit_id"] for row in rows} == set(expected)
    for row in rows:
        want = expected[row["unit_id"]]
        got = {key: row[key] for key in want}
        assert got == want, row["name"]
    by_name = {row["name"]: row for row in rows}
    # Spot checks of the rules, by hand.
    district = by_name["渝中区"]
    assert district["volunteers"] == 30 + 25 + 2 + 3 + 29 + 7 + 1  # the closed village's count
    assert district["population"] == 4_000 + 2_500 + 3_000 + 1_200  # no enterprise, no closed
    assert district["population_source"] == "children" and district["population_complete"]
    assert by_name["观音桥街道"]["population"] is None
    assert by_name["观音桥街道"]["population_complete"] is False
    assert by_name["解放碑街道"]["population_complete"] is True
    assert by_name["江北区"]["population"] == 40_000
    assert by_name["江北区"]["population_source"] == "unit"
    assert by_name["北城天街社区"]["population"] is None
    assert by_name["北城天街社区"]["met"] is None and by_name["北城天街社区"]["percent"] is None
    assert (
        by_name["重庆市"]["volunteers"]
        == sum(expected[u.id]["volunteers"] for u in world.units.values() if u.level == "district")
        + 2
    )
    # The children view: direct children only; the closed village still holds volunteers.
    township = world.units["township"]
    response = await client.get(f"/api/v1/units/{township.id}/coverage", headers=admin.headers)
    children = {row["name"]: row for row in response.json()["children"]}
    assert sorted(children) == ["已撤并社区", "民族路社区", "较场口社区"]
    assert children["已撤并社区"]["active"] is False


def test_roll_up_is_the_same_on_a_random_tree():
    """The pure roll-up against brute force on a random tree of 4 levels."""
    rng = random.Random(20260301)
    units, parent_of = [], {}
    next_id = iter(range(1, 10_000))

    def add(parent, level, path):
        uid = next(next_id)
        path = f"{path}{uid}."
        population = rng.choice([None, None, rng.randint(0, 20_000)])
        kind = "enterprise" if level == "township" and rng.random() < 0.1 else "territorial"
        active = rng.random() > 0.05
        units.append((uid, parent, f"u{uid}", level, kind, None, path, active, population, None))
        parent_of[uid] = parent
        return uid, path

    root, root_path = add(None, "city", "")
    for _ in range(5):
        d, dp = add(root, "district", root_path)
        for _ in range(rng.randint(1, 6)):
            t, tp = add(d, "township", dp)
            for _ in range(rng.randint(0, 8)):
                add(t, "village", tp)
    paths = {u[0]: u[6] for u in units}
    holders = [rng.choice(list(paths)) for _ in range(3_000)]
    counts: dict[str, int] = {}
    for uid in holders:
        counts[paths[uid]] = counts.get(paths[uid], 0) + 1
    coverage = roll_up(root, units, counts.items())
    for uid in paths:
        total = 0
        for holder in holders:
            current = holder
            while current is not None and current != uid:
                current = parent_of[current]
            total += current == uid
        assert coverage.rows[uid].volunteers == total


def row_of(volunteers: int, population: int | None):
    unit = (1, None, "u", "village", "territorial", None, "1.", True, population, None)
    return roll_up(1, [unit], [("1.", volunteers)] if volunteers else []).root


@pytest.mark.parametrize(
    ("volunteers", "population", "met", "shortfall"),
    [
        (99, 10_000, False, 1),  # 0.99 %
        (100, 10_000, True, 0),  # exactly 1 %: met
        (101, 10_000, True, 0),
        (1, 101, False, 1),  # 0.990 %: the target is ⌈1.01⌉ = 2
        (2, 101, True, 0),
        (1, 100, True, 0),
        (0, 50, False, 1),
        (3, 0, None, None),  # no residents: no ratio
        (3, None, None, None),
    ],
)
def test_the_one_percent_target_at_the_boundary(volunteers, population, met, shortfall):
    row = row_of(volunteers, population)
    assert row.met is met
    assert row.shortfall == shortfall
    if population:
        assert row.percent == round(volunteers / population * 100, 3)


async def test_one_percent_boundary_through_the_database(platform, world):
    with platform.session_factory() as session:
        second = session.get(Unit, world.units["second_village"].id)
        coverage = compute_coverage(session, second)
        assert (coverage.root.volunteers, coverage.root.population) == (25, 2_500)
        assert coverage.root.met is True and coverage.root.percent == 1.0
        leaving = session.exec(
            select(Volunteer).where(Volunteer.unit_id == second.id).limit(1)
        ).one()
        leaving.status = VolunteerStatus.left
        session.add(leaving)
        session.commit()
        coverage = compute_coverage(session, second)
        assert coverage.root.volunteers == 24 and coverage.root.met is False
        assert coverage.root.shortfall == 1
        assert coverage.root.population_source == PopulationSource.unit


def test_ranking_shares_places_and_puts_unknown_last():
    units = [(1, None, "c", "city", "territorial", None, "1.", True, None, None)]
    figures = {2: (10, 1_000), 3: (5, 500), 4: (30, 1_000), 5: (1, None), 6: (0, 2_000)}
    for uid, (_, population) in figures.items():
        units.append(
            (
                uid,
                1,
                f"d{uid}",
                "district",
                "territorial",
                f"5001{uid:02d}",
                f"1.{uid}.",
                True,
                population,
                None,
            )
        )
    counts = [(f"1.{uid}.", n) for uid, (n, _) in figures.items()]
    coverage = roll_up(1, units, counts)
    best = [(position, row.unit_id) for position, row in coverage.ranking("district")]
    assert best == [(1, 4), (2, 2), (2, 3), (4, 6), (5, 5)]
    worst = [
        (position, row.unit_id) for position, row in coverage.ranking("district", worst_first=True)
    ]
    assert worst == [(1, 6), (2, 2), (2, 3), (4, 4), (5, 5)]


# -- scope, API and pages ------------------------------------------------------------------


async def test_coverage_is_scoped_to_the_callers_reach(client, platform, world, accounts):
    units = world.units
    district_admin = accounts("district_admin", units["district"])
    leader = accounts("village_leader", units["village"])
    volunteer = accounts("volunteer", units["village"])
    for target, status in (
        (units["district"], 200),
        (units["township"], 200),
        (units["other_district"], 404),
        (units["far_village"], 404),
        (units["city"], 404),
    ):
        for suffix in ("", "/ranking", "/export"):
            response = await client.get(
                f"/api/v1/units/{target.id}/coverage{suffix}", headers=district_admin.headers
            )
            assert response.status_code == status, (target.name, suffix)
    reach = await client.get("/api/v1/coverage", headers=district_admin.headers)
    assert [view["unit"]["name"] for view in reach.json()] == ["渝中区"]
    ranking = await client.get(
        f"/api/v1/units/{units['district'].id}/coverage/ranking",
        params={"level": "village"},
        headers=district_admin.headers,
    )
    ranked = {row["name"] for row in ranking.json()["units"]}
    assert ranked == {"民族路社区", "较场口社区", "金汤街社区"}  # not the other district's
    # A village leader sees its village only; it may not export.
    assert (await client.get("/api/v1/coverage", headers=leader.headers)).json()[0]["unit"][
        "name"
    ] == "民族路社区"
    assert (
        await client.get(f"/api/v1/units/{units['township'].id}/coverage", headers=leader.headers)
    ).status_code == 404
    assert (
        await client.get(
            f"/api/v1/units/{units['village'].id}/coverage/export", headers=leader.headers
        )
    ).status_code == 403
    # The volunteer role holds no coverage action.
    assert (await client.get("/api/v1/coverage", headers=volunteer.headers)).status_code == 403
    # Several grants: both subtrees, each once.
    from core.accounts import services
    from core.accounts.models import User

    with platform.session_factory() as session:
        user = session.get(User, leader.user_id)
        services.grant_role(
            session, platform.policy, None, user, "township_leader", units["far_township"]
        )
        session.commit()
    reach = await client.get("/api/v1/coverage", headers=leader.headers)
    assert sorted(view["unit"]["name"] for view in reach.json()) == ["民族路社区", "观音桥街道"]


async def test_coverage_export_holds_every_unit_of_the_subtree(client, platform, world, accounts):
    district_admin = accounts("district_admin", world.units["district"])
    district = world.units["district"]
    response = await client.get(
        f"/api/v1/units/{district.id}/coverage/export", headers=district_admin.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[1] == "单位" and header[7] == "在册志愿者（在岗）"
    expected = expected_figures(platform)
    with platform.session_factory() as session:
        subtree = session.exec(
            select(Unit).where(Unit.path >= district.path, Unit.path < district.path[:-1] + "/")
        ).all()
    assert len(body) == len(subtree)
    assert body[0][1] == "渝中区"  # the root first, then depth first
    names = {unit.name: unit.id for unit in subtree}
    for row in body:
        want = expected[names[row[1]]]
        assert row[4] == want["population"] and row[7] == want["volunteers"], row
        if want["met"] is None:
            assert row[10] == "—" and row[9] is None
        else:
            assert row[10] == ("是" if want["met"] else "否")
            assert abs(row[9] - want["volunteers"] / want["population"]) < 1e-9
    # In English when asked.
    response = await client.get(
        f"/api/v1/units/{district.id}/coverage/export",
        headers={**district_admin.headers, "accept-language": "en"},
    )
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    assert next(sheet.iter_rows(values_only=True))[1] == "Unit"
    # Without the export action: refused.
    leader = accounts("township_leader", world.units["township"])
    response = await client.get(
        f"/api/v1/units/{world.units['township'].id}/coverage/export", headers=leader.headers
    )
    assert response.status_code == 403


async def test_coverage_pages_drill_down_rank_and_export(client, platform, world, accounts):
    district = world.units["district"]
    account = accounts("district_admin", district)
    await sign_in(client, account.username, account.password)
    start = await client.get("/coverage", follow_redirects=False)
    assert start.status_code in (302, 303) and start.headers["location"] == (
        f"/units/{district.id}/coverage"
    )
    page = await client.get(f"/units/{district.id}/coverage")
    assert page.status_code == 200
    text = page.text
    assert "志愿者覆盖率" in text and "解放碑街道" in text and "重庆天地中队" in text
    assert f'href="/units/{world.units["township"].id}/coverage"' in text  # one level down
    assert f"/units/{district.id}/coverage/export" in text
    assert "已撤并社区" not in text  # not a child of the district
    township = await client.get(f"/units/{world.units['township'].id}/coverage")
    assert "民族路社区" in township.text and "已撤并社区" in township.text  # holds volunteers
    assert f'href="/units/{district.id}/coverage"' in township.text  # back up
    ranking = await client.get(
        f"/units/{district.id}/coverage/ranking", params={"level": "village", "order": "best"}
    )
    assert ranking.status_code == 200
    # 较场口 25/2,500 = 1 % > 金汤街 29/3,000 ≈ 0.97 % > 民族路 30/4,000 = 0.75 %
    order = [ranking.text.index(name) for name in ("较场口社区", "金汤街社区", "民族路社区")]
    assert order == sorted(order)
    workbook = await client.get(f"/units/{district.id}/coverage/export")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    english = await client.get(f"/units/{district.id}/coverage", params={"lang": "en"})
    assert "Volunteer coverage" in english.text and "Units below" in english.text
    home = await client.get(f"/units/{district.id}/", params={"lang": "zh"})
    assert f"/units/{district.id}/coverage" in home.text  # menu entry and figure
    assert "志愿者覆盖率（目标 1%）" in home.text and "0.91%" in home.text  # 97 / 10,700
    other = await client.get(f"/units/{world.units['other_district'].id}/coverage")
    assert other.status_code == 404
