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
from core.training.models import QualificationSource
from core.training.qualifications import grant
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
        qualified: tuple[str, ...] = (),
    ) -> Member:
        """A volunteer of ``unit``; with ``role``, an account holding it there too; holding
        the training modules named in ``qualified`` from today."""
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
            catalogue = {
                module.code: module for module in self.platform.training_modules(session, unit)
            }
            for code in qualified:
                grant(
                    session,
                    person,
                    catalogue[code],
                    granted_on=date.today(),
                    source=QualificationSource.manual,
                    granted_by_id=None,
                    note="test",
                )
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


def tasks_audit_steps(client, platform, unit_tree, admin) -> list:
    """Steps for the audit test: every write route of the tasks API, called once
    successfully as ``admin``, in an order the workflow accepts.

    A task at the village is drafted, staffed, its people taken off, a sign-up declined,
    another approved and withdrawn, its shift cancelled and the task completed; a sub-task
    of a township task is cancelled. ``admin`` signs up as a volunteer of the village: it
    gets the volunteer role there, and when the steps run whatever volunteer its account is
    linked to by then (another area's steps may link one) gets a date of birth, or one is
    linked if none is.
    """
    from core.accounts.models import User

    world = TasksWorld(platform)
    staff = world.volunteer(unit_tree.village, name="审计队员")
    with platform.session_factory() as session:
        user = session.get(User, admin.user_id)
        village_unit = session.get(Unit, unit_tree.village.id)
        accounts.grant_role(session, platform.policy, None, user, "volunteer", village_unit)
        session.commit()
    monday = next_monday()
    starts = at(monday, 9)
    ids: dict[str, int] = {}

    def ready_to_sign_up() -> None:
        with platform.session_factory() as session:
            user = session.get(User, admin.user_id)
            if user.person_id is None:
                user.person_id = world.volunteer(unit_tree.village, name="审计本人").person_id
                session.add(user)
            person = session.get(Person, user.person_id)
            person.birth_date = person.birth_date or date(1990, 5, 17)
            session.add(person)
            session.commit()

    def step(method, template, status, url, body=None, keep=None, before=None):
        async def run():
            if before:
                before()
            kwargs = {"json": body()} if body else {}
            response = await client.request(method, url(), headers=admin.headers, **kwargs)
            if keep and response.status_code < 300:
                name, pick = keep
                ids[name] = pick(response.json())
            return response

        return (method, template, status, run)

    def own_id(body):
        return body["id"]

    def newest_assignment(body):
        return max(a["id"] for a in body["assignments"])

    village, township = unit_tree.village.id, unit_tree.township.id
    task = {
        "task_type": "core.patrol",
        "title": "审计巡逻",
        "starts_on": monday.isoformat(),
        "ends_on": (monday + timedelta(days=6)).isoformat(),
        "details": {"route": "民族路", "mode": "foot"},
        "allow_signup": True,
        "signup_needs_approval": True,
    }
    reason = {"reason": "审计"}
    tasks, shifts, assignments = (
        "/api/v1/tasks/{task_id:int}",
        "/api/v1/shifts/{shift_id:int}",
        ("/api/v1/assignments/{assignment_id:int}"),
    )

    def on(kind: str, name: str, suffix: str = ""):
        return lambda: f"/api/v1/{kind}/{ids[name]}{suffix}"

    return [
        step(
            "POST",
            "/api/v1/units/{unit_id:int}/points",
            201,
            lambda: f"/api/v1/units/{village}/points",
            lambda: {"name": "审计点位"},
            ("point", own_id),
        ),
        step(
            "PATCH",
            "/api/v1/points/{point_id:int}",
            200,
            on("points", "point"),
            lambda: {"address": "民族路1号"},
        ),
        step(
            "POST",
            "/api/v1/units/{unit_id:int}/tasks",
            201,
            lambda: f"/api/v1/units/{village}/tasks",
            lambda: task,
            ("task", own_id),
        ),
        step("PATCH", tasks, 200, on("tasks", "task"), lambda: {"quota": 6}),
        step(
            "POST",
            tasks + "/shifts",
            201,
            on("tasks", "task", "/shifts"),
            lambda: {
                "point_id": ids["point"],
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
            },
            ("shift", own_id),
        ),
        step("PATCH", shifts, 200, on("shifts", "shift"), lambda: {"max_headcount": 4}),
        step("POST", tasks + "/publication", 200, on("tasks", "task", "/publication")),
        step("POST", tasks + "/start", 200, on("tasks", "task", "/start")),
        step(
            "POST",
            shifts + "/assignments",
            201,
            on("shifts", "shift", "/assignments"),
            lambda: {"volunteer_id": staff.volunteer_id, "confirm_warnings": True},
            ("assignment", newest_assignment),
        ),
        step(
            "POST",
            assignments + "/cancellation",
            200,
            on("assignments", "assignment", "/cancellation"),
            lambda: reason,
        ),
        step(
            "POST",
            shifts + "/signup",
            201,
            on("shifts", "shift", "/signup"),
            keep=("declined", own_id),
            before=ready_to_sign_up,
        ),
        step(
            "POST",
            assignments + "/decline",
            200,
            on("assignments", "declined", "/decline"),
            lambda: reason,
        ),
        step(
            "POST",
            shifts + "/signup",
            201,
            on("shifts", "shift", "/signup"),
            keep=("approved", own_id),
        ),
        step("POST", assignments + "/approval", 200, on("assignments", "approved", "/approval")),
        step(
            "POST",
            assignments + "/withdrawal",
            200,
            on("assignments", "approved", "/withdrawal"),
        ),
        step(
            "POST",
            shifts + "/cancellation",
            200,
            on("shifts", "shift", "/cancellation"),
            lambda: reason,
        ),
        step("POST", tasks + "/completion", 200, on("tasks", "task", "/completion")),
        step(
            "POST",
            "/api/v1/units/{unit_id:int}/tasks",
            201,
            lambda: f"/api/v1/units/{township}/tasks",
            lambda: {**task, "quota": 4},
            ("parent", own_id),
        ),
        step(
            "POST",
            tasks + "/subtasks",
            201,
            on("tasks", "parent", "/subtasks"),
            lambda: {"unit_id": village, "quota": 2},
            ("child", own_id),
        ),
        step(
            "POST",
            tasks + "/cancellation",
            200,
            on("tasks", "child", "/cancellation"),
            lambda: reason,
        ),
    ]
