"""A small world of duty for the hours, check-in, reminder and calendar tests.

Volunteers with accounts, a published task at a village with a point (coordinates and a
radius) and shifts at chosen times, built straight from the models so these tests do not
depend on the assignment service's rules.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.accounts import services as accounts
from core.people.models import Person
from core.tasks.models import (
    Assignment,
    AssignmentStatus,
    Point,
    Shift,
    Task,
    TaskStatus,
)
from core.units.models import Unit, utcnow
from core.volunteers.services import enroll
from tests.support.fixtures import TEST_PASSWORD, Account

#: 解放碑 (Jiefangbei), the point of the test shifts.
POINT_LAT, POINT_LON = Decimal("29.557300"), Decimal("106.577200")


@dataclass
class Member:
    """A volunteer with an account."""

    volunteer_id: int
    person_id: int
    unit_id: int
    account: Account


class HoursWorld:
    """Builds volunteers, a task, a point, shifts and assignments."""

    def __init__(self, platform, unit_tree) -> None:
        self.platform = platform
        self.tree = unit_tree
        self._people = 0
        with platform.session_factory() as session:
            village = session.get(Unit, unit_tree.village.id)
            task = Task(
                unit_id=village.id,
                unit_path=village.path,
                task_type="core.patrol",
                title="解放碑夜间巡逻",
                status=TaskStatus.published,
                starts_on=utcnow().date() - timedelta(days=30),
                ends_on=utcnow().date() + timedelta(days=60),
            )
            point = Point(
                unit_id=village.id,
                unit_path=village.path,
                name="解放碑纪念碑",
                address="渝中区民族路",
                latitude=POINT_LAT,
                longitude=POINT_LON,
                radius_m=200,
            )
            session.add_all([task, point])
            session.commit()
            self.task_id, self.point_id = task.id, point.id

    def member(self, unit: Unit | None = None, *, role: str | None = "volunteer", email=None):
        """A volunteer of ``unit`` (the village by default) with an account holding ``role``."""
        unit = unit or self.tree.village
        self._people += 1
        with self.platform.session_factory() as session:
            unit = session.get(Unit, unit.id)
            person = Person(unit_id=unit.id, unit_path=unit.path, name=f"队员{self._people}")
            session.add(person)
            session.flush()
            volunteer = enroll(session, person, unit)
            user, _ = accounts.create_user(
                session,
                self.platform.settings,
                username=f"member-{self._people}-{secrets.token_hex(3)}",
                display_name=person.name,
                unit=unit,
                password=TEST_PASSWORD,
                person_id=person.id,
            )
            user.email = email
            session.add(user)
            if role:
                accounts.grant_role(session, self.platform.policy, None, user, role, unit)
            _, token = accounts.issue_token(session, self.platform.settings, user, "test", None)
            session.commit()
            return Member(
                volunteer.id,
                person.id,
                unit.id,
                Account(user.id, user.username, TEST_PASSWORD, token),
            )

    def shift(
        self,
        starts_at: datetime,
        minutes: int = 120,
        *,
        unit: Unit | None = None,
        min_headcount: int = 1,
        max_headcount: int = 5,
        point_id: int | None = None,
    ) -> int:
        """A shift of the task at the point (or ``point_id``), on ``unit``'s books."""
        with self.platform.session_factory() as session:
            unit = session.get(Unit, (unit or self.tree.village).id)
            shift = Shift(
                task_id=self.task_id,
                unit_id=unit.id,
                unit_path=unit.path,
                point_id=point_id or self.point_id,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                min_headcount=min_headcount,
                max_headcount=max_headcount,
                checkin_secret=secrets.token_urlsafe(24),
            )
            session.add(shift)
            session.commit()
            return shift.id

    def assign(self, shift_id: int, member: Member, *, leader: bool = False, **fields) -> int:
        """Put ``member`` on the shift, confirmed (``fields`` override columns)."""
        fields.setdefault("status", AssignmentStatus.confirmed)
        with self.platform.session_factory() as session:
            shift = session.get(Shift, shift_id)
            home = session.get(Unit, member.unit_id)
            assignment = Assignment(
                shift_id=shift.id,
                volunteer_id=member.volunteer_id,
                person_id=member.person_id,
                unit_id=shift.unit_id,
                unit_path=shift.unit_path,
                home_unit_id=home.id,
                home_unit_path=home.path,
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
                is_leader=leader,
                **fields,
            )
            session.add(assignment)
            session.commit()
            return assignment.id

    def get(self, model, record_id):
        """A fresh copy of a row."""
        with self.platform.session_factory() as session:
            return session.get(model, record_id)


def hours_audit_steps(client, platform, unit_tree, admin, password: str) -> list:
    """Steps for the audit test: every write route of the check-in and hours API, called once
    successfully as ``admin`` (linked here to a volunteer of its own) with ``password`` its
    password by the time they run."""
    from core.accounts.models import User
    from core.hours.models import HoursCorrection, HoursEntry

    world = HoursWorld(platform, unit_tree)
    own = world.member(role=None)
    other = world.member(role=None)
    with platform.session_factory() as session:
        user = session.get(User, admin.user_id)
        user.person_id = own.person_id
        session.add(user)
        session.commit()
    now = utcnow()
    self_shift = world.shift(now - timedelta(minutes=5))
    own_assignment = world.assign(self_shift, own)
    qr_shift = world.shift(now - timedelta(minutes=3))
    world.assign(qr_shift, own)
    proxy_shift = world.shift(now - timedelta(minutes=5))
    proxy_assignment = world.assign(proxy_shift, other)
    ids = {}
    with platform.session_factory() as session:
        village = session.get(Unit, unit_tree.village.id)
        entries = []
        for member in (own, other, other):
            entry = HoursEntry(
                volunteer_id=member.volunteer_id,
                unit_id=village.id,
                unit_path=village.path,
                home_unit_id=village.id,
                home_unit_path=village.path,
                service_date=now.date(),
                hours=Decimal("1"),
            )
            session.add(entry)
            entries.append(entry)
        session.flush()
        correction = HoursCorrection(
            entry_id=entries[2].id,
            volunteer_id=other.volunteer_id,
            unit_path=village.path,
            new_hours=Decimal("2"),
            reason="补记",
            requested_by_user_id=other.account.user_id,
        )
        session.add(correction)
        session.commit()
        ids.update(own_entry=entries[0].id, entry=entries[1].id, correction=correction.id)
        secret = session.get(Shift, qr_shift).checkin_secret
    here = {"latitude": float(POINT_LAT), "longitude": float(POINT_LON)}
    headers = admin.headers

    def post(path, **kwargs):
        return lambda: client.post(path, headers=headers, **kwargs)

    me = "/api/v1/me"
    return [
        (
            "POST",
            me + "/assignments/{assignment_id:int}/check-in",
            200,
            post(f"{me}/assignments/{own_assignment}/check-in", json=here),
        ),
        (
            "POST",
            me + "/assignments/{assignment_id:int}/check-out",
            200,
            post(f"{me}/assignments/{own_assignment}/check-out", json=here),
        ),
        (
            "POST",
            me + "/check-ins/qr",
            200,
            post(f"{me}/check-ins/qr", json={"shift_id": qr_shift, "secret": secret}),
        ),
        (
            "POST",
            me + "/hours/entries/{entry_id:int}/corrections",
            201,
            post(
                f"{me}/hours/entries/{ids['own_entry']}/corrections",
                json={"new_hours": "1.5", "reason": "漏记半小时"},
            ),
        ),
        ("POST", me + "/calendar", 201, post(f"{me}/calendar")),
        ("DELETE", me + "/calendar", 204, lambda: client.delete(f"{me}/calendar", headers=headers)),
        (
            "PUT",
            me + "/email",
            200,
            lambda: client.put(
                f"{me}/email",
                json={"email": "root@example.org", "current_password": password},
                headers=headers,
            ),
        ),
        (
            "POST",
            "/api/v1/hours/assignments/{assignment_id:int}/check-in",
            200,
            post(f"/api/v1/hours/assignments/{proxy_assignment}/check-in"),
        ),
        (
            "POST",
            "/api/v1/hours/assignments/{assignment_id:int}/check-out",
            200,
            post(f"/api/v1/hours/assignments/{proxy_assignment}/check-out"),
        ),
        (
            "POST",
            "/api/v1/hours/shifts/{shift_id:int}/confirmation",
            200,
            post(f"/api/v1/hours/shifts/{proxy_shift}/confirmation"),
        ),
        (
            "POST",
            "/api/v1/hours/entries/{entry_id:int}/corrections",
            201,
            post(
                f"/api/v1/hours/entries/{ids['entry']}/corrections",
                json={"new_hours": "0.5", "reason": "提前离岗"},
            ),
        ),
        (
            "POST",
            "/api/v1/hours/corrections/{correction_id:int}/decision",
            200,
            post(
                f"/api/v1/hours/corrections/{ids['correction']}/decision",
                json={"approve": True, "reason": "核实"},
            ),
        ),
        (
            "POST",
            "/api/v1/units/{unit_id:int}/hours/records",
            201,
            post(
                f"/api/v1/units/{unit_tree.village.id}/hours/records",
                json={"volunteer_id": other.volunteer_id},
            ),
        ),
        ("POST", "/api/v1/hours/recomputation", 202, post("/api/v1/hours/recomputation")),
    ]
