"""Building duty for the task, dispatch and duty-matrix tests through the services.

Volunteers are people with a date of birth and skills (optionally an account); tasks,
points and shifts are made with ``core.tasks`` services, so what the tests then exercise
through the API and the pages starts from records the rules accepted.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType

from core.accounts import services as accounts
from core.accounts.principal import Principal
from core.contributions import Label
from core.hookspecs import hookimpl
from core.people.models import Person
from core.plugins import PluginMeta
from core.tasks import services, shifts
from core.tasks.models import Shift, Task
from core.tasks.rules import LOCAL_TIME, local_date, week_of
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer, VolunteerStatus
from core.volunteers.services import enroll
from tests.support.fixtures import TEST_PASSWORD, Account


@dataclass
class Member:
    """A volunteer (with an account when asked)."""

    volunteer_id: int
    person_id: int
    unit_id: int
    name: str
    account: Account | None = None


def next_monday() -> date:
    """The Monday of next week (China time): every test shift lies in the future."""
    return week_of(local_date(utcnow())) + timedelta(days=7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """China time on ``day``."""
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIME)


def inline_plugin(name: str, **hooks) -> ModuleType:
    """A plugin module named ``name`` with the given functions as hook implementations."""
    module = ModuleType(f"inline_{name}")
    module.__file__ = str(Path(__file__).parent / "inline-plugin" / "plugin.py")
    module.META = PluginMeta(name=name, label=Label(f"临时{name}", f"Inline {name}"), version="0")
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


def principal_of(platform, *grants: tuple[str, Unit]) -> Principal:
    """A new account holding ``role`` at ``unit`` for each pair, as a request would see it."""
    with platform.session_factory() as session:
        first = session.get(Unit, grants[0][1].id)
        user, _ = accounts.create_user(
            session,
            platform.settings,
            username=f"p-{secrets.token_hex(4)}",
            display_name="负责人",
            unit=first,
            password=TEST_PASSWORD,
        )
        for role, unit in grants:
            accounts.grant_role(
                session, platform.policy, None, user, role, session.get(Unit, unit.id)
            )
        session.commit()
        return accounts.principal_for(session, user, platform.policy, "token")


class TasksWorld:
    """Volunteers, tasks, points and shifts for one test's database."""

    def __init__(self, platform) -> None:
        self.platform = platform
        self.count = 0

    def volunteer(
        self,
        unit: Unit,
        *,
        born: date = date(1990, 5, 17),
        skills: tuple[str, ...] = (),
        status: VolunteerStatus = VolunteerStatus.active,
        role: str | None = None,
        name: str | None = None,
    ) -> Member:
        """A volunteer of ``unit``; with ``role``, an account holding it there too."""
        self.count += 1
        name = name or f"志愿者{self.count}"
        with self.platform.session_factory() as session:
            unit = session.get(Unit, unit.id)
            person = Person(
                unit_id=unit.id,
                unit_path=unit.path,
                name=name,
                birth_date=born,
                skills=list(skills),
            )
            session.add(person)
            session.flush()
            volunteer = enroll(session, person, unit)
            volunteer.status = status
            session.add(volunteer)
            account = None
            if role is not None:
                user, _ = accounts.create_user(
                    session,
                    self.platform.settings,
                    username=f"v{self.count}-{secrets.token_hex(3)}",
                    display_name=name,
                    unit=unit,
                    password=TEST_PASSWORD,
                    person_id=person.id,
                )
                accounts.grant_role(session, self.platform.policy, None, user, role, unit)
                _, token = accounts.issue_token(session, self.platform.settings, user, "t", None)
                account = Account(user.id, user.username, TEST_PASSWORD, token)
            session.commit()
            return Member(volunteer.id, person.id, unit.id, name, account)

    def task(
        self,
        unit: Unit,
        *,
        task_type: str = "core.patrol",
        details: dict | None = None,
        publish: bool = True,
        days: int = 14,
        parent: Task | None = None,
        **fields,
    ) -> Task:
        """A task at ``unit`` over the next ``days`` days from next Monday, published."""
        start = next_monday()
        data = services.TaskInput(
            task_type=task_type,
            title=fields.pop("title", "周末治安巡逻"),
            starts_on=fields.pop("starts_on", start),
            ends_on=fields.pop("ends_on", start + timedelta(days=days - 1)),
            details=details
            if details is not None
            else ({"route": "民族路—邹容路", "mode": "foot"} if task_type == "core.patrol" else {}),
            **fields,
        )
        with self.platform.session_factory() as session:
            unit = session.get(Unit, unit.id)
            parent = session.get(Task, parent.id) if parent else None
            task = services.create_task(
                self.platform, session, unit, data, by_user_id=None, parent=parent
            )
            if publish:
                services.transition(self.platform, session, task, "publish", by_user_id=None)
            session.commit()
            return task

    def point(self, unit: Unit, name: str = "解放碑") -> int:
        """A point at ``unit``."""
        with self.platform.session_factory() as session:
            unit = session.get(Unit, unit.id)
            point = shifts.create_point(session, unit, shifts.PointInput(name=name))
            session.commit()
            return point.id

    def shift(
        self,
        task: Task,
        starts_at: datetime,
        hours: float = 2,
        *,
        point_id: int | None = None,
        min_headcount: int = 1,
        max_headcount: int = 3,
        **fields,
    ) -> Shift:
        """A shift of ``task`` (at a new point of the task's unit unless ``point_id``)."""
        if point_id is None:
            with self.platform.session_factory() as session:
                unit = session.get(Unit, task.unit_id)
            point_id = self.point(unit, f"点位{secrets.token_hex(2)}")
        with self.platform.session_factory() as session:
            task = session.get(Task, task.id)
            shift = shifts.create_shift(
                self.platform,
                session,
                task,
                shifts.ShiftInput(
                    point_id=point_id,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=hours),
                    min_headcount=min_headcount,
                    max_headcount=max_headcount,
                    **fields,
                ),
            )
            session.commit()
            return shift

    def get(self, model, record_id):
        """A fresh copy of a row."""
        with self.platform.session_factory() as session:
            return session.get(model, record_id)

    def volunteer_row(self, member: Member) -> Volunteer:
        """The member's volunteer row."""
        return self.get(Volunteer, member.volunteer_id)
