"""Building an insured world for the plugin's tests: units, staff, volunteers, money."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from core.accounts import services as accounts
from core.accounts.models import User
from core.accounts.services import principal_for
from core.people.models import Person
from core.units.models import Unit, UnitLevel
from core.units.services import create_unit, set_plugin_enabled
from core.volunteers.services import enroll
from plugins.insurance import budgets, funding
from plugins.insurance.approvals import Actor
from plugins.insurance.clock import CHINA
from plugins.insurance.vocab import Category, OnExceed, SourceKind

#: Staff of the test world: name → (role, unit attribute of the unit tree).
STAFF = {
    "clerk": ("insurance.clerk", "district"),
    "finance": ("insurance.finance", "district"),
    "finance2": ("insurance.finance", "district"),
    "approver": ("insurance.approver", "township"),
    "approver_district": ("insurance.approver", "district"),
    "approver_city": ("insurance.approver", "city"),
    "exception": ("insurance.exception_approver", "district"),
    "cashier": ("insurance.cashier", "district"),
    "leader": ("insurance.leader", "village"),
    "auditor": ("insurance.auditor", "city"),
    "other_finance": ("insurance.finance", "other_district"),
}


@dataclass
class Member:
    """A volunteer with an account: person, volunteer, user."""

    person_id: int
    volunteer_id: int
    user_id: int
    username: str
    unit_id: int


@dataclass
class World:
    """The unit tree with insurance on, staff and volunteers, and ways to act as them."""

    platform: object
    tree: object
    users: dict[str, int] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def actor(self, session: Session, name: str, address: str = "10.0.0.8") -> Actor:
        """The named user acting from ``address``."""
        user_id = self.users[name] if name in self.users else self.members[name].user_id
        user = session.get(User, user_id)
        principal = principal_for(session, user, self.platform.policy, "token")
        return Actor(principal, user.person_id, address)

    def headers(self, name: str) -> dict[str, str]:
        """Bearer-token headers for the named user (a token issued once per test)."""
        if name not in self.tokens:
            user_id = self.users[name] if name in self.users else self.members[name].user_id
            with self.platform.session_factory() as session:
                _, token = accounts.issue_token(
                    session, self.platform.settings, session.get(User, user_id), "test", None
                )
                session.commit()
            self.tokens[name] = token
        return {"authorization": f"Bearer {self.tokens[name]}"}

    def cookie(self, name: str) -> str:
        """A signed-in page session for the named user."""
        user_id = self.users[name] if name in self.users else self.members[name].user_id
        with self.platform.session_factory() as session:
            token = accounts.open_session(session, session.get(User, user_id), "testclient", "test")
            session.commit()
        return token

    def unit(self, session: Session, name: str) -> Unit:
        """A unit of the tree, loaded in ``session``."""
        return session.get(Unit, getattr(self.tree, name).id)


def _user(session: Session, username: str, name: str, unit: Unit, person_id: int | None = None):
    """An account without a usable password (tests act through tokens and sessions)."""
    user = User(
        username=username,
        display_name=name,
        unit_id=unit.id,
        unit_path=unit.path,
        person_id=person_id,
        password_hash="!",
    )
    session.add(user)
    session.flush()
    return user


def build_world(platform, tree) -> World:
    """Insurance switched on at the city; staff per ``STAFF``; volunteers 甲 and 乙 at the
    village, 丙 in a village of the other district; each with an account."""
    world = World(platform, tree)
    with platform.session_factory() as session:
        set_plugin_enabled(
            session, session.get(Unit, tree.city.id), "insurance", True, changed_by="test"
        )
        for name, (role, level) in STAFF.items():
            unit = session.get(Unit, getattr(tree, level).id)
            user = _user(session, f"ins-{name}".replace("_", "-"), name, unit)
            accounts.grant_role(session, platform.policy, None, user, role, unit)
            world.users[name] = user.id
        far_township = create_unit(
            session,
            name="观音桥街道",
            level=UnitLevel.township,
            parent=session.get(Unit, tree.other_district.id),
            code="500105001",
        )
        far = create_unit(
            session,
            name="观音桥社区",
            level=UnitLevel.village,
            parent=far_township,
            code="500105001001",
        )
        for name, unit in (
            ("甲", session.get(Unit, tree.village.id)),
            ("乙", session.get(Unit, tree.village.id)),
            ("丙", far),
        ):
            person = Person(unit_id=unit.id, unit_path=unit.path, name=f"志愿者{name}")
            session.add(person)
            session.flush()
            volunteer = enroll(session, person, unit, on=date(2024, 1, 1))
            user = _user(session, f"vol-{person.id}", person.name, unit, person.id)
            accounts.grant_role(session, platform.policy, None, user, "volunteer", unit)
            accounts.grant_role(session, platform.policy, None, user, "insurance.insured", unit)
            world.members[name] = Member(person.id, volunteer.id, user.id, user.username, unit.id)
        # The leader also leads the village team in core.
        leader = session.get(User, world.users["leader"])
        accounts.grant_role(
            session,
            platform.policy,
            None,
            leader,
            "village_leader",
            session.get(Unit, tree.village.id),
        )
        session.commit()
    return world


def fund(
    session: Session,
    world: World,
    unit_name: str = "district",
    amount_fen: int = 1_000_000,
    **extra,
):
    """A government allocation (or, with ``kind``, a gift) received at a unit."""
    actor = world.actor(session, "finance" if unit_name != "other_district" else "other_finance")
    unit = world.unit(session, unit_name)
    return funding.receive(
        session,
        actor,
        unit,
        kind=extra.pop("kind", SourceKind.government),
        name=extra.pop("name", "2025年财政拨款"),
        amount_fen=amount_fen,
        received_on=extra.pop("received_on", date(2025, 1, 10)),
        **extra,
    )


def active_budget(
    session: Session,
    world: World,
    *,
    category: Category,
    amount_fen: int,
    unit_name: str = "district",
    year: int = 2025,
    on_exceed: OnExceed = OnExceed.stop,
    source=None,
    exception_role: str | None = "insurance.exception_approver",
):
    """A budget drafted by finance, approved by the district approver."""
    source = source or fund(session, world, unit_name, max(amount_fen, 1) * 2)
    drafted = budgets.create_budget(
        session,
        world.actor(session, "finance"),
        world.unit(session, unit_name),
        fiscal_year=year,
        category=category,
        allocations=[budgets.AllocationInput(source.id, amount_fen)],
        on_exceed=on_exceed,
        exception_role=exception_role,
    )
    budgets.submit(session, world.actor(session, "finance"), drafted)
    return budgets.approve(session, world.actor(session, "approver_district"), drafted)


def china(
    year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0
) -> datetime:
    """An instant in China time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA)


def served(
    session: Session,
    world: World,
    member: str,
    start: datetime,
    hours: int = 3,
    *,
    task_type: str = "core.patrol",
):
    """A confirmed assignment of a volunteer on a shift at their unit, and its hours entry."""
    from datetime import timedelta
    from decimal import Decimal

    from core.hours.models import HoursEntry
    from core.tasks.models import Assignment, AssignmentStatus, Point, Shift, Task

    someone = world.members[member]
    unit = session.get(Unit, someone.unit_id)
    point = Point(unit_id=unit.id, unit_path=unit.path, name="解放碑岗亭")
    task = Task(
        unit_id=unit.id,
        unit_path=unit.path,
        task_type=task_type,
        title="夜间巡逻",
        starts_on=start.date(),
        ends_on=start.date(),
    )
    session.add_all([point, task])
    session.flush()
    end = start + timedelta(hours=hours)
    shift = Shift(
        task_id=task.id,
        unit_id=unit.id,
        unit_path=unit.path,
        point_id=point.id,
        starts_at=start,
        ends_at=end,
        checkin_secret="s" * 32,
    )
    session.add(shift)
    session.flush()
    assignment = Assignment(
        shift_id=shift.id,
        volunteer_id=someone.volunteer_id,
        person_id=someone.person_id,
        unit_id=unit.id,
        unit_path=unit.path,
        home_unit_id=unit.id,
        home_unit_path=unit.path,
        starts_at=start,
        ends_at=end,
        status=AssignmentStatus.confirmed,
    )
    session.add(assignment)
    session.flush()
    entry = HoursEntry(
        volunteer_id=someone.volunteer_id,
        assignment_id=assignment.id,
        unit_id=unit.id,
        unit_path=unit.path,
        home_unit_id=unit.id,
        home_unit_path=unit.path,
        service_date=start.astimezone(CHINA).date(),
        hours=Decimal(hours),
    )
    session.add(entry)
    session.flush()
    return assignment, entry


def policy(
    session: Session,
    world: World,
    *,
    rule: str = "named_list",
    unit_name: str = "district",
    period=(date(2025, 1, 1), date(2025, 12, 31)),
    number: str = "PA2025-001",
    **extra,
):
    """A policy bought by a unit with death, disability and medical lines."""
    from plugins.insurance import cover
    from plugins.insurance.vocab import CoverKind, ScopeRule

    return cover.create_policy(
        session,
        world.actor(session, "clerk"),
        world.unit(session, unit_name),
        insurer="中国人民财产保险重庆分公司",
        policy_no=number,
        period_from=period[0],
        period_to=period[1],
        premium_fen=extra.pop("premium_fen", 2_000_000),
        scope_rule=ScopeRule(rule),
        lines=[
            cover.LineInput(CoverKind.death, 20_000_000),
            cover.LineInput(CoverKind.disability, 20_000_000),
            cover.LineInput(CoverKind.medical, 2_000_000, deductible_fen=10_000, ratio_percent=100),
        ],
        **extra,
    )


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def expense_claim(
    session: Session,
    world: World,
    member: str,
    day: date,
    lines,
    *,
    unit_name=None,
    receipts=True,
    served_on=True,
):
    """A volunteer's submitted reimbursement; ``lines`` are (type, fen, invoice code, number)."""
    from plugins.insurance import expenses
    from plugins.insurance.vocab import ExpenseType

    someone = world.members[member]
    if served_on:
        served(session, world, member, datetime(day.year, day.month, day.day, 9, tzinfo=CHINA))
    actor = world.actor(session, member)
    unit = (
        session.get(Unit, someone.unit_id) if unit_name is None else world.unit(session, unit_name)
    )
    claim = expenses.create(
        session,
        actor,
        unit,
        volunteer_id=someone.volunteer_id,
        activity_date=day,
        purpose="巡逻交通与通讯",
        payee_account="6217000010001234567",
    )
    for kind, fen, code, number in lines:
        line = expenses.add_line(
            session,
            actor,
            claim,
            expense_type=ExpenseType(kind),
            spent_on=day,
            amount_fen=fen,
            invoice_code=code,
            invoice_no=number,
        )
        if receipts:
            expenses.attach_receipt(session, actor, claim, line, "receipt.jpg", JPEG)
    return claim
