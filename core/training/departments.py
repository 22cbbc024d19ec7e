"""The departments that train volunteers (policy §四（三）2).

The district 综治办 and 团委 lead; the public security organs, courts, justice, civil affairs,
work safety, food and drug, construction and emergency offices teach together. The anti-drug
office, the fire and rescue service and the finance bureau teach the special teams' modules.
A module names the departments that teach it; a session names the one that organises it.
"""

from core.contributions import Label

DEPARTMENTS: dict[str, Label] = {
    "comprehensive": Label("综治办", "Comprehensive management office"),
    "youth_league": Label("团委", "Youth League committee"),
    "police": Label("公安机关", "Public security"),
    "court": Label("法院", "Court"),
    "justice": Label("司法局", "Justice bureau"),
    "civil_affairs": Label("民政局", "Civil affairs bureau"),
    "work_safety": Label("安监局", "Work safety bureau"),
    "food_drug": Label("食品药品监管局", "Food and drug administration"),
    "construction": Label("建委", "Construction commission"),
    "emergency": Label("应急办", "Emergency management office"),
    "narcotics": Label("禁毒办", "Narcotics control office"),
    "fire": Label("消防救援机构", "Fire and rescue service"),
    "finance": Label("财政局", "Finance bureau"),
}

#: The departments that lead the training and may organise a session on any module.
LEADING = ("comprehensive", "youth_league")
