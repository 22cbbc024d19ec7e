"""Building an insured world for the plugin's tests: units, staff, volunteers, money."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from core.accounts import services as accounts
from core.accounts.models import User
from core.accounts.services import principal_for
from core.people.models import Person
from core.units.models import Unit
from core.units.services import set_plugin_enabled
from core.volunteers.services import enroll
from plugins.insurance import budgets, funding
from plugins.insurance.approvals import Actor
from plugins.insurance.clock import CHINA
from plugins.insurance.vocab import Category, OnExceed, SourceKind
from tests.support.fixtures import TEST_PASSWORD

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

    def actor(self, session: Session, name: str, address: str = "10.0.0.8") -> Actor:
        """The named user acting from ``address``."""
        user_id = self.users[name] if name in self.users else self.members[name].user_id
        user = session.get(User, user_id)
        principal = principal_for(session, user, self.platform.policy, "token")
        return Actor(principal, user.person_id, address)

    def unit(self, session: Session, name: str) -> Unit:
        """A unit of the tree, loaded in ``session``."""
        return session.get(Unit, getattr(self.tree, name).id)


def build_world(platform, tree) -> World:
    """Insurance switched on at the city; staff per ``STAFF``; volunteers 甲 and 乙 at the
    village, 丙 in the other district; each with an account."""
    world = World(platform, tree)
    with platform.session_factory() as session:
        set_plugin_enabled(
            session, session.get(Unit, tree.city.id), "insurance", True, changed_by="test"
        )
        for name, (role, level) in STAFF.items():
            unit = session.get(Unit, getattr(tree, level).id)
            user, _ = accounts.create_user(
                session,
                platform.settings,
                username=f"ins-{name}".replace("_", "-"),
                display_name=name,
                unit=unit,
                password=TEST_PASSWORD,
            )
            accounts.grant_role(session, platform.policy, None, user, role, unit)
            world.users[name] = user.id
        for name, level in (("甲", "village"), ("乙", "village"), ("丙", "other_village")):
            unit = session.get(Unit, getattr(tree, level).id)
            person = Person(unit_id=unit.id, unit_path=unit.path, name=f"志愿者{name}")
            session.add(person)
            session.flush()
            volunteer = enroll(session, person, unit, on=date(2024, 1, 1))
            user, _ = accounts.create_user(
                session,
                platform.settings,
                username=f"vol-{person.id}",
                display_name=person.name,
                unit=unit,
                password=TEST_PASSWORD,
                person_id=person.id,
            )
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
