"""Demo data: Chongqing's real districts and counties, one district in detail, demo logins."""

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session, select

from core.accounts import services
from core.people.identity import check_digit
from core.people.models import Person
from core.people.services import ID_PURPOSE
from core.platform import Platform
from core.units.models import Unit, UnitLevel
from core.units.services import create_unit, set_plugin_enabled

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

FAMILY_NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def load_demo(platform: Platform) -> list[tuple[str, str, str]] | None:
    """Create the demo organisation in an empty database; return its logins, or None.

    Each login gets a fresh random password, printed once by ``pingan run --demo``.
    """
    with platform.session_factory() as session:
        if session.exec(select(Unit.id).limit(1)).first() is not None:
            return None
        city = create_unit(
            session, name="重庆市平安建设志愿服务总队", level=UnitLevel.city, code="500000"
        )
        for name in platform.plugins.names:
            set_plugin_enabled(session, city, name, True, changed_by="demo")
        districts = _load_districts(session, city)
        yuzhong = districts["500103"]
        for number, (street, communities) in enumerate(YUZHONG_STREETS.items(), start=1):
            township = create_unit(
                session,
                name=street,
                level=UnitLevel.township,
                parent=yuzhong,
                code=f"500103{number:03d}",
            )
            for index, community in enumerate(communities, start=1):
                village = create_unit(
                    session,
                    name=community,
                    level=UnitLevel.village,
                    parent=township,
                    code=f"500103{number:03d}{index:03d}",
                )
                _add_people(platform, session, village, count=5, seed=village.id)
        logins = _add_logins(platform, session)
        session.commit()
    return logins


def _add_logins(platform: Platform, session: Session) -> list[tuple[str, str, str]]:
    logins = []
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
    return logins


def _add_people(platform: Platform, session: Session, village: Unit, count: int, seed: int) -> None:
    """Residents with invented ID numbers (valid check digit) and phone numbers."""
    chance = random.Random(seed)
    for _ in range(count):
        born = date(1960, 1, 1) + timedelta(days=chance.randrange(365 * 45))
        first17 = f"500103{born:%Y%m%d}{chance.randrange(1000):03d}"
        id_number = first17 + check_digit(first17)
        session.add(
            Person(
                unit_id=village.id,
                unit_path=village.path,
                name=chance.choice(FAMILY_NAMES) + "".join(chance.sample(GIVEN_NAMES, 2)),
                id_number=id_number,
                id_number_index=platform.keyring.blind_index(id_number, ID_PURPOSE),
                phone=f"1{chance.choice('3589')}{chance.randrange(10**9):09d}",
                address=f"重庆市渝中区{village.name}{chance.randrange(1, 200)}号",
            )
        )


def _load_districts(session: Session, city: Unit) -> dict[str, Unit]:
    with DISTRICTS_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["code"]: create_unit(
            session, name=row["name"], level=UnitLevel.district, parent=city, code=row["code"]
        )
        for row in rows
    }
