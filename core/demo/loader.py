"""Demo data: Chongqing's real districts and counties, one district in detail, demo logins.

The 38 districts and counties come with their census population (``chongqing-districts.csv``).
:func:`generate_district` fills any district with believable townships and villages: codes
by the division-code rules, populations that add up to the district's. The demo details one
district (渝中区, with its real street names) so that it stays quick to load, and brings it to
life through the platform's own services: residents, some 200 volunteers in teams from the
大队 down to every 分队 (:mod:`core.demo.volunteers`), and applications at every step of
recruitment, taken by the demo logins (:mod:`core.demo.applications`). Everything comes from
seeded generators, so every demo is the same but for the dates, which follow today.
"""

import csv
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from core.accounts import services
from core.accounts.principal import Principal
from core.audit.recorder import ACTOR, AuditActor
from core.demo.applications import Recruitment
from core.demo.duty import patrol_street
from core.demo.identities import Identities
from core.demo.volunteers import Roster
from core.people.services import create_person
from core.platform import Platform
from core.recruitment.services import application_day
from core.units.models import Unit, UnitKind, UnitLevel
from core.units.services import create_unit, default_plugins_of, set_plugin_enabled

DISTRICTS_CSV = Path(__file__).parent / "chongqing-districts.csv"

# 渝中区's eleven streets, each with a few of its communities.
YUZHONG_STREETS = {
    "七星岗街道": ["金汤街社区", "通远门社区", "领事巷社区"],
    "解放碑街道": ["民族路社区", "小什字社区", "较场口社区"],
    "两路口街道": ["中山三路社区", "桂花园社区", "文化宫社区"],
    "上清寺街道": ["学田湾社区", "嘉陵桥东社区", "牛角沱社区"],
    "菜园坝街道": ["新安社区", "石板坡社区", "燕喜洞社区"],
    "南纪门街道": ["凯旋路社区", "储奇门社区", "十八梯社区"],
    "朝天门街道": ["白象街社区", "东水门社区", "朝东路社区"],
    "大溪沟街道": ["双溪沟社区", "人和街社区", "张家花园社区"],
    "大坪街道": ["大黄路社区", "袁家岗社区", "肖家湾社区"],
    "化龙桥街道": ["李子坝社区", "虎头岩社区", "红岩村社区"],
    "石油路街道": ["石油路社区", "万科社区", "协信社区"],
}


# (username, name, role, unit code): one login per level and the auditor.
DEMO_LOGINS = [
    ("city", "市办公室", "city_admin", "500000"),
    ("yuzhong", "渝中区办公室", "district_admin", "500103"),
    ("jiefangbei", "解放碑街道中队", "township_leader", "500103002"),
    ("minzulu", "民族路社区分队", "village_leader", "500103002001"),
    ("auditor", "审计员", "auditor", "500000"),
]

# The street whose communities patrol in the demo (its office, jiefangbei, staffs them).
STREET_ON_DUTY = "500103002"

RESIDENTS_PER_VILLAGE = 2  # registered people who do not volunteer
CERTIFIED_LEADERS = ("500103", "500103002001")  # their captains hold certificates


def load_demo(platform: Platform) -> list[tuple[str, str, str]] | None:
    """Create the demo organisation in an empty database; return its logins, or None.

    Each login gets a fresh random password, printed once by ``pingan run --demo``.
    """
    with platform.session_factory() as session:
        if session.exec(select(Unit.id).limit(1)).first() is not None:
            return None
        session.info[ACTOR] = AuditActor(None, "demo", None, None)
        city = create_unit(
            session,
            name="重庆市平安建设志愿服务总队",
            level=UnitLevel.city,
            code="500000",
            team_name="重庆市平安建设志愿服务总队",
            population=sum(int(row["resident_population"]) for row in district_rows()),
            population_year=2020,
        )
        for name in platform.plugins.names:
            set_plugin_enabled(session, city, name, True, changed_by="demo")
        districts = _load_districts(session, city)
        yuzhong = districts["500103"]
        generated = generate_district(
            session,
            yuzhong,
            seed=500103,
            names={street: communities for street, communities in YUZHONG_STREETS.items()},
            default_plugins=default_plugins_of(platform.plugins),
        )
        enterprise = create_unit(
            session,
            name="时代广场中队",
            level=UnitLevel.township,
            parent=yuzhong,
            code="E500103001",
            kind=UnitKind.enterprise,
            organisation="重庆时代广场商场",
            team_name="时代广场平安志愿服务中队",
            default_plugins=default_plugins_of(platform.plugins),
        )
        logins, offices = _add_logins(platform, session)
        _bring_to_life(platform, session, city, yuzhong, generated, enterprise, offices)
        session.commit()
    return logins


def _bring_to_life(
    platform: Platform,
    session: Session,
    city: Unit,
    district: Unit,
    generated: "Generated",
    enterprise: Unit,
    offices: list[Principal],
) -> None:
    """Residents, volunteers in every team, applications at every step of recruitment.

    And two weeks of evening patrols in one street, staffed with a few gaps left.
    """
    today = application_day()
    people = Identities(
        seed=int(district.code), district_code=district.code, district_name=district.name
    )
    for village in generated.villages:
        for _ in range(RESIDENTS_PER_VILLAGE):
            create_person(
                session, platform.keyring, village, people.details(village.name, today=today)
            )
    special_teams = sorted(platform.plugins.names)
    catalogue = platform.training_modules(session, city)
    roster = Roster(session, platform.keyring, people, today, special_teams, catalogue)
    roster.team(district, city, members=0, vice_captains=2)
    for township in generated.townships:
        roster.team(township, district, members=people.chance.randint(0, 2))
        for village in generated.villages:
            if village.parent_id == township.id:
                roster.team(village, township, members=people.chance.randint(1, 5))
    roster.team(enterprise, district, members=4)
    roster.join_special_teams(share=0.18)
    roster.record_national_numbers(share=0.35)
    captains = {volunteer.unit_id: volunteer for volunteer in reversed(roster.leaders)}
    units = {unit.code: unit for unit in [district, *generated.townships, *generated.villages]}
    roster.certify([captains[units[code].id] for code in CERTIFIED_LEADERS], city)
    roster.suspend_and_release(suspended=4, left=4)
    Recruitment(session, platform.keyring, people, offices, set(special_teams), today).run()
    street = units[STREET_ON_DUTY]
    patrol_street(platform, session, street, _office_at(offices, street), today)


# -- generating a district's townships and villages ------------------------------------------

# Syllables of place names common in Chongqing.
FIRST = "石龙桥江溪凤双新白黄青长太华金玉马鹿花茶柏松梨桃竹回永安明兴复丰和合清"
SECOND = "山坪坝桥湾溪岩场沟岭塘坡口垭林滩河湖井寺园门庙田池台坎梁店"
URBAN = {"500103", "500104", "500105", "500106", "500107", "500108"}
PEOPLE_PER_TOWNSHIP = 35_000
PEOPLE_PER_VILLAGE = 2_900


@dataclass
class Generated:
    """The units :func:`generate_district` created."""

    townships: list[Unit]
    villages: list[Unit]


def split(total: int, parts: int, chance: random.Random) -> list[int]:
    """``total`` split into ``parts`` uneven positive shares that add up exactly."""
    if parts <= 0:
        return []
    weights = [chance.gammavariate(2.0, 1.0) + 0.05 for _ in range(parts)]
    scale = total / sum(weights)
    shares = [int(weight * scale) for weight in weights]
    remainders = sorted(range(parts), key=lambda i: weights[i] * scale - shares[i], reverse=True)
    for index in remainders[: total - sum(shares)]:
        shares[index] += 1
    return shares


def _names(
    chance: random.Random, count: int, suffixes: Sequence[str], taken: set[str]
) -> list[str]:
    names = []
    while len(names) < count:
        stem = chance.choice(FIRST) + chance.choice(SECOND)
        suffix = suffixes[len(names) % len(suffixes)]
        if stem + suffix not in taken:
            taken.add(stem + suffix)
            names.append(stem + suffix)
    return names


def generate_district(
    session: Session,
    district: Unit,
    *,
    seed: int = 0,
    townships: int | None = None,
    names: dict[str, Iterable[str]] | None = None,
    population_year: int = 2020,
    default_plugins: Iterable[str] = (),
) -> Generated:
    """Create believable townships and villages under ``district``.

    Codes follow the statistical rules: streets (街道) ``001``–``099``, towns (镇) from
    ``100``, townships (乡) from ``200`` after the district's code; communities (社区)
    ``001``–``099`` and villages (村) from ``200`` after the township's. Populations are split
    unevenly and add up to the district's population (township by township, then village by
    village); about 35,000 residents a township and 2,900 a village, as in Chongqing.
    ``names`` gives township names and their villages' names instead of invented ones.
    """
    chance = random.Random(seed)
    population = district.population or 300_000
    urban = district.code in URBAN
    default_plugins = list(default_plugins)
    if names is not None:
        plan = [(name, list(villages)) for name, villages in names.items()]
    else:
        count = townships or max(8, min(45, round(population / PEOPLE_PER_TOWNSHIP)))
        streets = count if urban else max(1, count // 5)
        taken: set[str] = set()
        township_names = _names(chance, streets, ["街道"], taken) + _names(
            chance, count - streets, ["镇", "镇", "镇", "乡"], taken
        )
        plan = [(name, None) for name in township_names]
    generated = Generated([], [])
    next_number = {"街道": 1, "镇": 100, "乡": 200}
    for (name, village_names), people in zip(
        plan, split(population, len(plan), chance), strict=True
    ):
        kind = "乡" if name.endswith("乡") else "镇" if name.endswith("镇") else "街道"
        number = next_number[kind]
        next_number[kind] += 1
        township = create_unit(
            session,
            name=name,
            level=UnitLevel.township,
            parent=district,
            code=f"{district.code}{number:03d}",
            team_name=f"{name}平安志愿服务中队",
            population=people,
            population_year=population_year,
            default_plugins=default_plugins,
        )
        generated.townships.append(township)
        if village_names is None:
            count = max(3, min(25, round(people / PEOPLE_PER_VILLAGE)))
            communities = count if kind == "街道" else max(1, count // 4)
            taken = set()
            village_names = _names(chance, communities, ["社区"], taken) + _names(
                chance, count - communities, ["村"], taken
            )
        numbers = {"社区": 1, "村": 200}
        for village_name, village_people in zip(
            village_names, split(people, len(village_names), chance), strict=True
        ):
            village_kind = "村" if village_name.endswith("村") else "社区"
            village_number = numbers[village_kind]
            numbers[village_kind] += 1
            generated.villages.append(
                create_unit(
                    session,
                    name=village_name,
                    level=UnitLevel.village,
                    parent=township,
                    code=f"{township.code}{village_number:03d}",
                    team_name=f"{village_name}平安志愿服务分队",
                    population=village_people,
                    population_year=population_year,
                    default_plugins=default_plugins,
                )
            )
    return generated


def _add_logins(
    platform: Platform, session: Session
) -> tuple[list[tuple[str, str, str]], list[Principal]]:
    """The demo logins with fresh passwords, and each as a principal to take steps with."""
    logins, offices = [], []
    for username, name, role, code in DEMO_LOGINS:
        unit = session.exec(select(Unit).where(Unit.code == code)).one()
        password = services.generate_password(12)
        user, _ = services.create_user(
            session,
            platform.settings,
            username=username,
            display_name=name,
            unit=unit,
            password=password,
        )
        services.grant_role(session, platform.policy, None, user, role, unit)
        logins.append((username, password, f"{role} @ {unit.name}"))
        offices.append(services.principal_for(session, user, platform.policy, "session"))
    return logins, offices


def _office_at(offices: list[Principal], unit: Unit) -> Principal:
    """The demo login whose own unit is ``unit``."""
    return next(office for office in offices if office.unit_id == unit.id)


def district_rows() -> list[dict[str, str]]:
    """The 38 districts and counties: code, name, kind, census population, year."""
    with DISTRICTS_CSV.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _load_districts(session: Session, city: Unit) -> dict[str, Unit]:
    return {
        row["code"]: create_unit(
            session,
            name=row["name"],
            level=UnitLevel.district,
            parent=city,
            code=row["code"],
            team_name=f"{row['name']}平安志愿服务大队",
            population=int(row["resident_population"]),
            population_year=int(row["population_year"]),
        )
        for row in district_rows()
    }
