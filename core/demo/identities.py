"""Invented residents for the demo: names, resident ID numbers, phones, addresses, skills.

Every number is made up but valid by the rules the platform checks (GB 11643 check digit,
mainland mobile prefixes), and drawn from one seeded generator, so the demo is the same on
every start; ID numbers never repeat within one generator.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from core.people.identity import check_digit
from core.people.services import PersonDetails
from core.people.taxonomy import DAY_PARTS, EDUCATION, SKILLS, WEEKDAYS

FAMILY_NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗谭唐冉向秦"
GIVEN_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红兰德福春燕"
OCCUPATIONS = (
    "社区工作者",
    "退休职工",
    "教师",
    "个体工商户",
    "出租车司机",
    "快递员",
    "保安",
    "商场职员",
    "医生",
    "律师",
    "公务员",
    "企业职员",
    "大学生",
    "物业管理员",
)
STREETS = ("民族路", "民权路", "中山一路", "中山三路", "解放东路", "和平路", "人和街", "大黄路")


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (28 February for a 29 February in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass
class Identities:
    """A seeded source of invented people living in ``district_code`` (e.g. ``500103``)."""

    seed: int
    district_code: str
    district_name: str
    chance: random.Random = field(init=False)
    taken: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.chance = random.Random(self.seed)

    def name(self) -> str:
        """A Chinese name of two or three characters."""
        given = self.chance.sample(GIVEN_NAMES, self.chance.choice((1, 2, 2)))
        return self.chance.choice(FAMILY_NAMES) + "".join(given)

    def id_number(self, *, today: date, youngest: int = 18, oldest: int = 70) -> str:
        """A resident ID number born here, of someone aged ``youngest``–``oldest`` today."""
        latest = years_before(today, youngest) - timedelta(days=1)
        earliest = years_before(today, oldest)
        while True:
            born = earliest + timedelta(days=self.chance.randrange((latest - earliest).days))
            first17 = f"{self.district_code}{born:%Y%m%d}{self.chance.randrange(1000):03d}"
            number = first17 + check_digit(first17)
            if number not in self.taken:
                self.taken.add(number)
                return number

    def phone(self) -> str:
        """A mainland mobile number."""
        return f"1{self.chance.choice('3589')}{self.chance.randrange(10**9):09d}"

    def address(self, place: str) -> str:
        """A street address in ``place``."""
        street = self.chance.choice(STREETS)
        return f"重庆市{self.district_name}{place}{street}{self.chance.randrange(1, 300)}号"

    def skills(self, most: int = 3) -> list[str]:
        """Up to ``most`` skills of the taxonomy."""
        return self.chance.sample(sorted(SKILLS), self.chance.randint(0, most))

    def availability(self) -> dict[str, list[str]]:
        """A few weekly slots: weekend days and evenings are the common ones."""
        days = self.chance.sample(WEEKDAYS, self.chance.randint(1, 4))
        return {day: sorted(self.chance.sample(sorted(DAY_PARTS), 1)) for day in days}

    def details(self, place: str, *, today: date, youngest: int = 18) -> PersonDetails:
        """Everything a registration form asks, for a new invented person."""
        contact = self.chance.random() < 0.6
        return PersonDetails(
            name=self.name(),
            id_number=self.id_number(today=today, youngest=youngest),
            phone=self.phone(),
            address=self.address(place),
            education=self.chance.choice(sorted(EDUCATION)),
            occupation=self.chance.choice(OCCUPATIONS),
            skills=self.skills(),
            availability=self.availability(),
            emergency_contact_name=self.name() if contact else None,
            emergency_contact_phone=self.phone() if contact else None,
        )

    def day_between(self, first: date, last: date) -> date:
        """A day from ``first`` to ``last``, both included."""
        return first + timedelta(days=self.chance.randint(0, max(0, (last - first).days)))
