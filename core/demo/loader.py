"""Demo data: Chongqing's real districts and counties, and one district in detail."""

import csv
from pathlib import Path

from sqlmodel import Session, select

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


def load_demo(platform: Platform) -> bool:
    """Create the demo organisation if the database has no unit yet; return whether it did."""
    with platform.session_factory() as session:
        if session.exec(select(Unit.id).limit(1)).first() is not None:
            return False
        city = create_unit(session, name="重庆市平安建设志愿服务总队", level=UnitLevel.city, code="500000")
        for name in platform.plugins.names:
            set_plugin_enabled(session, city, name, True, changed_by="demo")
        districts = _load_districts(session, city)
        yuzhong = districts["500103"]
        for number, (street, communities) in enumerate(YUZHONG_STREETS.items(), start=1):
            township = create_unit(
                session, name=street, level=UnitLevel.township, parent=yuzhong,
                code=f"500103{number:03d}",
            )
            for index, community in enumerate(communities, start=1):
                create_unit(
                    session, name=community, level=UnitLevel.village, parent=township,
                    code=f"500103{number:03d}{index:03d}",
                )
        session.commit()
    return True


def _load_districts(session: Session, city: Unit) -> dict[str, Unit]:
    with DISTRICTS_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["code"]: create_unit(
            session, name=row["name"], level=UnitLevel.district, parent=city, code=row["code"]
        )
        for row in rows
    }
