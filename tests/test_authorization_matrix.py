"""The authorization matrix, generated from the app's own routes.

Every HTTP route whose ``opt["action"]`` is a registered action (core's and every plugin's) is
called as every role, with its target (the path's unit, or the unit of the record or body unit
it names) placed relative to the role's grant: the grant's own unit, a child, a grandchild, a
sibling or the parent. Positions the role's levels make impossible (no sibling of the city, no
child of a village) are skipped and counted.

The expected outcome comes from an oracle independent of the code under test: the role's
actions as the policy lists them (``platform.policy.actions``), the subtree rule worked out by
walking the unit tree's parent links, and the guard's documented status codes — a target
outside the subtree is invisible (404), a visible target without the action is forbidden
(403), and an allowed request gets past authorization (anything but 401, 403 and 404; bodies
are chosen to fail validation or hit a conflict after the permission checks, so nothing much
changes). Every id sent names a record that exists, so a 404 can only mean "out of scope".
"""

import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from litestar.middleware.csrf import generate_csrf_token
from sqlmodel import select

from core.accounts import services
from core.accounts.models import RoleGrant, User
from core.files.models import StoredFile
from core.hours.models import CorrectionStatus, HoursCorrection, HoursEntry, HoursRecord
from core.jobs.models import Job, JobStatus
from core.people.identity import check_digit
from core.people.models import Person
from core.people.services import ID_PURPOSE
from core.recruitment.models import Application, ApplicationStatus
from core.reports.models import Report, ReportStatus
from core.tasks.models import (
    Assignment,
    AssignmentStatus,
    Point,
    Shift,
    ShiftStatus,
    Task,
    TaskStatus,
)
from core.training.models import (
    Qualification,
    QualificationSource,
    SessionStatus,
    TrainingEnrolment,
    TrainingSession,
    TrainingSessionModule,
)
from core.units.models import Unit, UnitLevel
from core.units.services import create_unit, set_plugin_enabled
from core.volunteers.models import KitIssue, SpecialTeamMembership, TeamMembership, Volunteer
from core.web.auth import session_cookie_name
from plugins.insurance.tests import security as insurance_records
from plugins.mediation.tests import records as mediation_records

pytestmark = pytest.mark.anyio

POSITIONS = ("own", "child", "grandchild", "sibling", "parent")
#: What the subtree rule says about each position; checked against the tree walk below.
REACHABLE = {"own": True, "child": True, "grandchild": True, "sibling": False, "parent": False}
#: The order in which a role's grant unit is chosen among the levels it may be held at: the
#: level with the most positions around it first.
LEVEL_PREFERENCE = (UnitLevel.district, UnitLevel.township, UnitLevel.village, UnitLevel.city)
#: Path parameters that name a record held by a unit (its unit is the request's target).
RECORD_PARAMETERS = {"user_id", "person_id", "job_id", "grant_id", "application_id"}
#: A volunteer's profile routes name the volunteer, and its membership, special team or kit.
RECORD_PARAMETERS |= {"volunteer_id"}
#: A training session (its organising unit) and a qualification (its holder's unit).
RECORD_PARAMETERS |= {"session_id", "qualification_id"}
#: A report names the unit it came from (and is handled there in this world).
RECORD_PARAMETERS |= {"report_id"}
#: Tasks, points, shifts and assignments belong to the unit whose work they are.
RECORD_PARAMETERS |= {"task_id", "point_id", "shift_id", "assignment_id"}
#: Ledger entries, corrections and record certificates belong to the unit that recorded them.
RECORD_PARAMETERS |= {"entry_id", "correction_id", "record_id"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
EXISTING_USERNAME = "matrix-existing"
EXISTING_ID = "50010319900101123"
EXISTING_ID += check_digit(EXISTING_ID)


# -- the routes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One method of one route handler that performs a registered action."""

    method: str
    path: str  # litestar's template, e.g. /api/v1/users/{user_id:int}
    action: str
    owner: str
    parameters: tuple[str, ...]
    has_body: bool

    @property
    def page(self) -> bool:
        """Pages authenticate by session cookie, the API by bearer token."""
        return not self.path.startswith("/api/")

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def kind(self) -> str:
        """``unit``: the guard scopes by the path's unit; ``record``: the handler scopes by a
        record or body unit; ``global``: a list with no target (scoped rows, checked below)."""
        if "unit_id" in self.parameters:
            return "unit"
        if RECORD_PARAMETERS & set(self.parameters) or self.key in BODY_TARGETED:
            return "record"
        return "global"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def discover(app, platform) -> list[Route]:
    """Every (method, route) of the app whose action is a registered action."""
    known = set(platform.plugins.actions)
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            action = handler.opt.get("action")
            if action not in known:
                continue
            for method in sorted(set(handler.http_methods) - {"OPTIONS", "HEAD"}):
                found.append(
                    Route(
                        method=method,
                        path=route.path,
                        action=action,
                        owner=handler.opt.get("owner", "core"),
                        parameters=tuple(route.path_parameters),
                        has_body="data" in handler.parsed_fn_signature.parameters,
                    )
                )
    return sorted(found, key=lambda r: (r.path, r.method))


# -- request bodies ------------------------------------------------------------------------
# A body must get the request past the permission checks and then stop it without lasting
# effect: a duplicate (409), an unknown role (400), or an unchanged value. Bodies that carry
# the target unit are listed in BODY_TARGETED. Unit routes get an empty (invalid) body: the
# guard has decided before the body is read. A route with a body and no entry here fails the
# test, so a new route cannot slip through unchecked.

BODY_TARGETED = {
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/people"),
    ("POST", "/api/v1/users/{user_id:int}/grants"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/{user_id:int}/grants"),
    ("POST", "/api/v1/volunteers/export"),
    ("POST", "/api/v1/applications"),
    ("POST", "/applications"),
}

BODIES = {
    ("POST", "/api/v1/users"): lambda unit: {
        "username": EXISTING_USERNAME,
        "display_name": "重复",
        "unit_id": unit.id,
    },
    ("POST", "/api/v1/people"): lambda unit: {
        "unit_id": unit.id,
        "name": "重复",
        "id_number": EXISTING_ID,
    },
    ("PATCH", "/api/v1/users/{user_id:int}"): lambda unit: {"display_name": "目标"},
    ("POST", "/api/v1/users/{user_id:int}/grants"): lambda unit: {
        "role": "no.such.role",
        "unit_id": unit.id,
    },
    ("POST", "/api/v1/people/{person_id:int}/reveal"): lambda unit: {
        "fields": ["phone"],
        "reason": "authorization matrix",
    },
    ("POST", "/admin/users"): lambda unit: {
        "username": EXISTING_USERNAME,
        "display_name": "重复",
        "unit_id": str(unit.id),
    },
    ("POST", "/admin/users/{user_id:int}/grants"): lambda unit: {
        "role": "no.such.role",
        "unit_id": str(unit.id),
    },
    ("POST", "/admin/users/{user_id:int}/active"): lambda unit: {"active": "1"},
    # People and volunteers: each body is refused after the lookups (a name cleared, a status
    # unchanged, a membership, special team or serial already there, a date before the
    # record began, a transfer to the unit already holding the volunteer, a format nobody
    # writes), or changes nothing (a national number kept).
    ("PATCH", "/api/v1/people/{person_id:int}"): lambda unit: {"name": None},
    ("PATCH", "/api/v1/volunteers/{volunteer_id:int}"): lambda unit: {"national_number": None},
    ("POST", "/api/v1/volunteers/{volunteer_id:int}/status"): lambda unit: {
        "status": "active",
        "reason": "authorization matrix",
    },
    ("POST", "/api/v1/volunteers/{volunteer_id:int}/memberships"): lambda unit: {
        "unit_id": unit.id
    },
    ("POST", "/api/v1/volunteers/{volunteer_id:int}/memberships/{membership_id:int}/end"): (
        lambda unit: {"until": "1900-01-01"}
    ),
    ("POST", "/api/v1/volunteers/{volunteer_id:int}/special-teams"): lambda unit: {
        "team": "sample",
        "unit_id": unit.id,
    },
    ("POST", "/api/v1/volunteers/{volunteer_id:int}/special-teams/{special_team_id:int}/end"): (
        lambda unit: {"until": "1900-01-01"}
    ),
    ("POST", "/api/v1/volunteers/{volunteer_id:int}/transfer"): lambda unit: {
        "unit_id": unit.id,
        "reason": "authorization matrix",
    },
    ("POST", "/api/v1/volunteers/{volunteer_id:int}/kit"): lambda unit: {
        "item": "badge",
        "serial": f"MATRIX-{unit.id}",
    },
    ("POST", "/api/v1/volunteers/{volunteer_id:int}/kit/{kit_id:int}/recall"): lambda unit: {
        "recalled_on": "1900-01-01"
    },
    ("POST", "/api/v1/volunteers/export"): lambda unit: {
        "unit_id": unit.id,
        "format": "none",
        "reason": "authorization matrix",
    },
    # Recruitment: an intake collides with the registered ID number (409); every step is
    # taken on a withdrawn application, which the workflow refuses for its status (409)
    # after the guard and the scoped lookup have let the caller through.
    ("POST", "/api/v1/applications"): lambda unit: {
        "unit_id": unit.id,
        "name": "重复",
        "id_number": EXISTING_ID,
        "phone": "13800000000",
    },
    ("POST", "/applications"): lambda unit: {
        "unit_id": str(unit.id),
        "name": "重复",
        "id_number": EXISTING_ID,
        "phone": "13800000000",
    },
    ("POST", "/api/v1/applications/{application_id:int}/registration"): lambda unit: {
        "team_unit_id": unit.id
    },
    ("POST", "/api/v1/applications/{application_id:int}/certification"): lambda unit: {
        "identity_verified": True
    },
    ("POST", "/api/v1/applications/{application_id:int}/rejection"): lambda unit: {
        "reason": "authorization matrix"
    },
    ("POST", "/api/v1/applications/{application_id:int}/withdrawal"): lambda unit: {},
    ("POST", "/applications/{application_id:int}/registration"): lambda unit: {
        "team_unit_id": str(unit.id)
    },
    ("POST", "/applications/{application_id:int}/certification"): lambda unit: {
        "identity_verified": "1"
    },
    ("POST", "/applications/{application_id:int}/rejection"): lambda unit: {
        "reason": "authorization matrix"
    },
    ("POST", "/applications/{application_id:int}/withdrawal"): lambda unit: {},
    # Training: every session of the world is cancelled and every qualification revoked, so
    # each act on them is refused for its state (409) after the scoped lookup.
    ("POST", "/api/v1/training/sessions/{session_id:int}/attendance"): lambda unit: {
        "records": [{"enrolment_id": 1, "attended": True}]
    },
    ("POST", "/api/v1/training/sessions/{session_id:int}/cancellation"): lambda unit: {
        "reason": "authorization matrix"
    },
    ("POST", "/api/v1/training/qualifications/{qualification_id:int}/revocation"): (
        lambda unit: {"reason": "authorization matrix"}
    ),
    ("POST", "/training/sessions/{session_id:int}/attendance"): lambda unit: {},
    ("POST", "/training/sessions/{session_id:int}/cancellation"): lambda unit: {
        "reason": "authorization matrix"
    },
    ("POST", "/training/qualifications/{qualification_id:int}/revocation"): lambda unit: {
        "reason": "authorization matrix"
    },
    # Reports: every step is taken on a closed report (409 for its status); revealing the
    # reporter succeeds where allowed.
    ("POST", "/api/v1/reports/{report_id:int}/triage"): lambda unit: {},
    ("POST", "/api/v1/reports/{report_id:int}/referral"): lambda unit: {"referred_to": "派出所"},
    ("POST", "/api/v1/reports/{report_id:int}/handling"): lambda unit: {},
    ("POST", "/api/v1/reports/{report_id:int}/closure"): lambda unit: {"feedback": "矩阵"},
    ("POST", "/api/v1/reports/{report_id:int}/reporter"): lambda unit: {
        "reason": "authorization matrix"
    },
    ("POST", "/reports/{report_id:int}/triage"): lambda unit: {},
    ("POST", "/reports/{report_id:int}/referral"): lambda unit: {"referred_to": "派出所"},
    ("POST", "/reports/{report_id:int}/handling"): lambda unit: {},
    ("POST", "/reports/{report_id:int}/closure"): lambda unit: {"feedback": "矩阵"},
    ("POST", "/reports/{report_id:int}/reporter"): lambda unit: {"reason": "authorization matrix"},
    # Tasks: every step is taken on a cancelled task, shift and assignment (409 for their
    # status) or with a point's latitude alone (400), after the scoped lookup; a volunteer's
    # own sign-up and withdrawal answer 409 for an account without a volunteer record.
    **{
        (method, prefix + path): body
        for prefix in ("/api/v1", "")
        for method, path, body in (
            ("PATCH", "/tasks/{task_id:int}", lambda unit: {"title": "矩阵"}),
            ("POST", "/tasks/{task_id:int}/edit", lambda unit: {"title": "矩阵"}),
            ("POST", "/tasks/{task_id:int}/subtasks", lambda unit: {"unit_id": unit.id}),
            ("POST", "/tasks/{task_id:int}/cancellation", lambda unit: {"reason": "矩阵"}),
            (
                "POST",
                "/tasks/{task_id:int}/shifts",
                lambda unit: {
                    "point_id": 1,
                    "starts_at": "2030-01-01T08:00:00+08:00",
                    "ends_at": "2030-01-01T10:00:00+08:00",
                },
            ),
            ("PATCH", "/points/{point_id:int}", lambda unit: {"latitude": "29.5"}),
            ("PATCH", "/shifts/{shift_id:int}", lambda unit: {"min_headcount": 1}),
            ("POST", "/shifts/{shift_id:int}/cancellation", lambda unit: {"reason": "矩阵"}),
            ("POST", "/shifts/{shift_id:int}/assignments", lambda unit: {"volunteer_id": 1}),
            ("POST", "/assignments/{assignment_id:int}/decline", lambda unit: {"reason": "矩阵"}),
            (
                "POST",
                "/assignments/{assignment_id:int}/cancellation",
                lambda unit: {"reason": "矩阵"},
            ),
        )
    },
}

# Hours: a correction to the hours an entry has already (400), a decision on a correction
# decided already (409).
BODIES |= {
    (method, path): body
    for method, path, body in (
        (
            "POST",
            "/api/v1/hours/entries/{entry_id:int}/corrections",
            lambda unit: {"new_hours": "0.0", "reason": "authorization matrix"},
        ),
        (
            "POST",
            "/hours/entries/{entry_id:int}/corrections",
            lambda unit: {"new_hours": "0", "reason": "authorization matrix"},
        ),
        (
            "POST",
            "/api/v1/hours/corrections/{correction_id:int}/decision",
            lambda unit: {"approve": False, "reason": "authorization matrix"},
        ),
        (
            "POST",
            "/hours/corrections/{correction_id:int}/decision",
            lambda unit: {"decision": "reject", "reason": "authorization matrix"},
        ),
    )
}

#: Scoped lookups a handler makes with an action other than the route's own.
EXTRA_ACTIONS = {
    ("POST", "/api/v1/users/{user_id:int}/grants"): {"core.user.read"},
    ("POST", "/admin/users/{user_id:int}/grants"): {"core.user.read"},
}

#: Lookups that filter by the action's reach instead of going through ``get_scoped``: a
#: record the caller sees but may not act on is absent (404) rather than forbidden (403).
#: (``GET /api/v1/jobs/{id}`` uses ``jobs_in_reach``.)
REACH_FILTERED = {("GET", "/api/v1/jobs/{job_id:str}")}

#: Routes that, past the guard, need the case's details: ``mediation.case.detail`` at the
#: target, or an assignment to the case (nobody in this world is assigned). A caller who only
#: reads disputes is refused (403 ``not_assigned``).
CASE_DETAIL = "mediation.case.detail"
DETAIL_ONLY = {
    (
        "GET",
        "/api/v1/units/{unit_id:int}/mediation/disputes/{dispute_id:int}"
        "/attachments/{attachment_id:int}",
    ),
}

#: Routes that take a role grant away: the service refuses (403 ``escalation``) a role whose
#: actions the caller lacks, after the permission checks.
REVOKING = {
    ("DELETE", "/api/v1/users/{user_id:int}/grants/{grant_id:int}"),
    ("POST", "/admin/users/{user_id:int}/grants/{grant_id:int}/revoke"),
}


# -- the world -----------------------------------------------------------------------------


class World:
    """The unit tree as the test sees it, target records at every unit, and the callers."""

    def __init__(self, platform, unit_tree, accounts) -> None:
        self.platform = platform
        self.policy = platform.policy
        self.accounts = accounts
        with platform.session_factory() as session:
            township = session.get(Unit, unit_tree.township.id)
            # A village needs a sibling of its own (other_village is a cousin).
            second_village = create_unit(
                session,
                name="较场口社区",
                level=UnitLevel.village,
                parent=township,
                code="500103002002",
            )
            session.commit()
            session.refresh(second_village)
        self.units: dict[str, Unit] = {
            "city": unit_tree.city,
            "district": unit_tree.district,
            "township": unit_tree.township,
            "village": unit_tree.village,
            "second_village": second_village,
            "other_district": unit_tree.other_district,
            "other_township": unit_tree.other_township,
            "other_village": unit_tree.other_village,
        }
        self.by_id = {unit.id: unit for unit in self.units.values()}
        self.parent = {unit.id: unit.parent_id for unit in self.units.values()}
        # The designated child and sibling of each unit, named by the test.
        self.child = {
            unit_tree.city.id: unit_tree.district,
            unit_tree.district.id: unit_tree.township,
            unit_tree.township.id: unit_tree.village,
        }
        self.sibling = {
            unit_tree.district.id: unit_tree.other_district,
            unit_tree.township.id: unit_tree.other_township,
            unit_tree.village.id: second_village,
        }
        self._populate()
        self._populate_volunteers()
        self._populate_training()
        self._populate_reports()
        self._populate_duty()
        self._populate_hours()
        self._populate_mediation()
        # Plugins whose routes name records: a record of each kind at every unit.
        self.plugin_ids = insurance_records.populate(
            platform, list(self.units.values()), city=unit_tree.city
        )
        self.cookies: dict[int, str] = {}

    # tree --------------------------------------------------------------------------------

    def reachable(self, grant_unit: Unit, target: Unit) -> bool:
        """The subtree rule, by walking the target's parent links up to the root."""
        current: int | None = target.id
        while current is not None:
            if current == grant_unit.id:
                return True
            current = self.parent[current]
        return False

    def target(self, grant_unit: Unit, position: str) -> Unit | None:
        """The unit at ``position`` relative to ``grant_unit``, or None if there is none."""
        if position == "own":
            return grant_unit
        if position == "child":
            return self.child.get(grant_unit.id)
        if position == "grandchild":
            child = self.child.get(grant_unit.id)
            return self.child.get(child.id) if child else None
        if position == "sibling":
            return self.sibling.get(grant_unit.id)
        parent = self.parent[grant_unit.id]
        return self.by_id[parent] if parent else None

    def grant_unit(self, role: str) -> Unit:
        """Where the role is held for the matrix: the allowed level with most positions."""
        for level in LEVEL_PREFERENCE:
            if self.policy.allowed_at(role, level):
                return self.units[level.value]
        raise AssertionError(f"role {role} may be held nowhere")

    # records -----------------------------------------------------------------------------

    def _populate(self) -> None:
        """A user, a person, a finished job and a withdrawn application at every unit; the
        records bodies collide with."""
        self.user: dict[int, int] = {}
        self.person: dict[int, int] = {}
        self.job: dict[int, str] = {}
        self.application: dict[int, int] = {}
        with self.platform.session_factory() as session:
            for name, unit in self.units.items():
                user = User(
                    username=f"target-{name}".replace("_", "-"),
                    display_name="目标",
                    unit_id=unit.id,
                    unit_path=unit.path,
                    password_hash="!",
                )
                person = Person(unit_id=unit.id, unit_path=unit.path, name=f"目标{name}")
                job = Job(
                    name="sample.count_notes",
                    queue="default",
                    unit_id=unit.id,
                    status=JobStatus.done,
                )
                application = Application(
                    unit_id=unit.id,
                    unit_path=unit.path,
                    status=ApplicationStatus.withdrawn,
                    name=f"报名{name}",
                    id_number=EXISTING_ID,
                    id_number_index=self.platform.keyring.blind_index(EXISTING_ID, ID_PURPOSE),
                    gender="male",
                    birth_date=date(1990, 1, 1),
                    phone="13800000000",
                )
                session.add_all([user, person, job, application])
                session.flush()
                self.application[unit.id] = application.id
                self.user[unit.id], self.person[unit.id], self.job[unit.id] = (
                    user.id,
                    person.id,
                    job.id,
                )
            city = self.units["city"]
            session.add(
                User(
                    username=EXISTING_USERNAME,
                    display_name="已存在",
                    unit_id=city.id,
                    unit_path=city.path,
                    password_hash="!",
                )
            )
            session.add(
                Person(
                    unit_id=city.id,
                    unit_path=city.path,
                    name="已登记",
                    id_number=EXISTING_ID,
                    id_number_index=self.platform.keyring.blind_index(EXISTING_ID, ID_PURPOSE),
                )
            )
            # The plugin routes answer only where the plugin is on: on everywhere.
            set_plugin_enabled(session, session.get(Unit, city.id), "sample", True, changed_by="t")
            session.commit()

    def _populate_hours(self) -> None:
        """A ledger entry of 0 hours at every unit, a correction of it already approved and a
        record certificate not yet drawn: a correction to 0 hours is refused as unchanged
        (400), a decision for the correction's status (409), the PDF as not ready (409)."""
        self.entry: dict[int, int] = {}
        self.correction: dict[int, int] = {}
        self.record: dict[int, int] = {}
        with self.platform.session_factory() as session:
            for unit in self.units.values():
                entry = HoursEntry(
                    volunteer_id=self.volunteer[unit.id],
                    unit_id=unit.id,
                    unit_path=unit.path,
                    home_unit_id=unit.id,
                    home_unit_path=unit.path,
                    service_date=date(2024, 1, 1),
                    hours=Decimal(0),
                )
                session.add(entry)
                session.flush()
                correction = HoursCorrection(
                    entry_id=entry.id,
                    volunteer_id=entry.volunteer_id,
                    unit_path=unit.path,
                    new_hours=Decimal(0),
                    reason="授权矩阵",
                    status=CorrectionStatus.approved,
                )
                record = HoursRecord(
                    number=f"JLMATRIX{unit.id}-2024-00001",
                    volunteer_id=entry.volunteer_id,
                    unit_id=unit.id,
                    unit_path=unit.path,
                    total_hours=Decimal(0),
                    entries=1,
                )
                session.add_all([correction, record])
                session.flush()
                self.entry[unit.id] = entry.id
                self.correction[unit.id], self.record[unit.id] = correction.id, record.id
            session.commit()

    def _populate_volunteers(self) -> None:
        """The target person of every unit volunteers there: a member of the unit's team, in
        the sample special team, wearing a badge (the records volunteer bodies collide with)."""
        self.volunteer: dict[int, int] = {}
        self.membership: dict[int, int] = {}
        self.special_team: dict[int, int] = {}
        self.kit: dict[int, int] = {}
        since = date(2024, 1, 1)
        with self.platform.session_factory() as session:
            for unit in self.units.values():
                volunteer = Volunteer(
                    person_id=self.person[unit.id],
                    unit_id=unit.id,
                    unit_path=unit.path,
                    number=f"MATRIX-{unit.id}",
                )
                session.add(volunteer)
                session.flush()
                records = (
                    TeamMembership(
                        volunteer_id=volunteer.id, unit_id=unit.id, unit_path=unit.path, since=since
                    ),
                    SpecialTeamMembership(
                        volunteer_id=volunteer.id,
                        team="sample",
                        unit_id=unit.id,
                        unit_path=unit.path,
                        since=since,
                    ),
                    KitIssue(
                        volunteer_id=volunteer.id,
                        unit_path=unit.path,
                        item="badge",
                        serial=f"MATRIX-{unit.id}",
                        issued_on=since,
                    ),
                )
                session.add_all(records)
                session.flush()
                self.volunteer[unit.id] = volunteer.id
                self.membership[unit.id], self.special_team[unit.id], self.kit[unit.id] = (
                    record.id for record in records
                )
            session.commit()

    def _populate_training(self) -> None:
        """At every unit a cancelled session the unit's volunteer was enrolled in, and a
        revoked qualification of theirs (every act on them is refused after scoping)."""
        self.session: dict[int, int] = {}
        self.enrolment: dict[int, int] = {}
        self.qualification: dict[int, int] = {}
        start = datetime(2024, 6, 1, 1, 0, tzinfo=UTC)
        with self.platform.session_factory() as session:
            for unit in self.units.values():
                training = TrainingSession(
                    unit_id=unit.id,
                    unit_path=unit.path,
                    title="矩阵培训",
                    department="comprehensive",
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    place="会议室",
                    capacity=10,
                    status=SessionStatus.cancelled,
                    cancel_reason="authorization matrix",
                )
                session.add(training)
                session.flush()
                session.add(
                    TrainingSessionModule(
                        session_id=training.id, module_code="core.law", minutes=180
                    )
                )
                enrolment = TrainingEnrolment(
                    session_id=training.id, person_id=self.person[unit.id], unit_path=unit.path
                )
                qualification = Qualification(
                    person_id=self.person[unit.id],
                    unit_path=unit.path,
                    module_code="core.law",
                    granted_on=date(2024, 6, 1),
                    source=QualificationSource.manual,
                    revoked_at=start,
                    revoke_reason="authorization matrix",
                )
                session.add_all([enrolment, qualification])
                session.flush()
                self.session[unit.id] = training.id
                self.enrolment[unit.id] = enrolment.id
                self.qualification[unit.id] = qualification.id
            session.commit()

    def _populate_reports(self) -> None:
        """A closed report from every unit, handled there, with one photo: every step on it
        is refused for its status (409) after the permission checks."""
        self.report: dict[int, int] = {}
        with self.platform.session_factory() as session:
            for unit in self.units.values():
                photo = StoredFile(
                    name="report-photo.png",
                    media_type="image/png",
                    content=b"\x89PNG\r\n\x1a\n",
                    size=8,
                    unit_path=unit.path,
                )
                session.add(photo)
                session.flush()
                report = Report(
                    unit_id=unit.id,
                    unit_path=unit.path,
                    origin_unit_id=unit.id,
                    origin_unit_path=unit.path,
                    category="clue",
                    title="矩阵报告",
                    body="授权矩阵",
                    photo_file_ids=[photo.id],
                    reporter_person_id=self.person[unit.id],
                    reporter_user_id=self.user[unit.id],
                    status=ReportStatus.closed,
                    triage_due_at=datetime.now(UTC),
                    feedback="已办结",
                )
                session.add(report)
                session.flush()
                self.report[unit.id] = report.id
            session.commit()

    def _populate_duty(self) -> None:
        """A point and a cancelled task at every unit, with a cancelled shift holding the
        unit's volunteer in a cancelled assignment: every step on them is refused for its
        status (409) after the permission checks."""
        self.task: dict[int, int] = {}
        self.point: dict[int, int] = {}
        self.shift: dict[int, int] = {}
        self.assignment: dict[int, int] = {}
        starts = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)
        with self.platform.session_factory() as session:
            for unit in self.units.values():
                task = Task(
                    unit_id=unit.id,
                    unit_path=unit.path,
                    task_type="core.patrol",
                    title="矩阵任务",
                    status=TaskStatus.cancelled,
                    starts_on=starts.date(),
                    ends_on=starts.date(),
                    cancel_reason="授权矩阵",
                )
                point = Point(unit_id=unit.id, unit_path=unit.path, name="矩阵点位")
                session.add_all([task, point])
                session.flush()
                shift = Shift(
                    task_id=task.id,
                    unit_id=unit.id,
                    unit_path=unit.path,
                    point_id=point.id,
                    starts_at=starts,
                    ends_at=starts.replace(hour=2),
                    status=ShiftStatus.cancelled,
                    checkin_secret="matrix",
                )
                session.add(shift)
                session.flush()
                assignment = Assignment(
                    shift_id=shift.id,
                    volunteer_id=self.volunteer[unit.id],
                    person_id=self.person[unit.id],
                    unit_id=unit.id,
                    unit_path=unit.path,
                    home_unit_id=unit.id,
                    home_unit_path=unit.path,
                    starts_at=shift.starts_at,
                    ends_at=shift.ends_at,
                    status=AssignmentStatus.cancelled,
                )
                session.add(assignment)
                session.flush()
                self.task[unit.id], self.point[unit.id] = task.id, point.id
                self.shift[unit.id], self.assignment[unit.id] = shift.id, assignment.id
            session.commit()

    def _populate_mediation(self) -> None:
        """One of each mediation record at every unit (a registered dispute, its parties,
        mediator, agreement term, file; a committee and a lead), the target person of the
        unit its mediator; mediation on everywhere."""
        self.mediation: dict[int, dict[str, int]] = {}
        with self.platform.session_factory() as session:
            for unit in self.units.values():
                self.mediation[unit.id] = mediation_records.seed(
                    session, session.get(Unit, unit.id), self.person[unit.id]
                )
            city = session.get(Unit, self.units["city"].id)
            set_plugin_enabled(session, city, "mediation", True, changed_by="t")
            session.commit()

    def actions_at(self, caller: list[tuple[str, Unit]], target: Unit) -> set[str]:
        """What the caller's grants allow at ``target``, by the policy table and the tree."""
        return {
            action
            for role, unit in caller
            if self.reachable(unit, target)
            for action in self.policy.actions(role)
        }

    def revocable_role(self, caller: list[tuple[str, Unit]], unit: Unit) -> str:
        """A role that may be held at ``unit``, the caller's own actions there covering it if
        any does."""
        held = self.actions_at(caller, unit)
        candidates = [r for r in self.policy.roles if self.policy.allowed_at(r, unit.level)]
        candidates.sort(key=lambda r: len(self.policy.actions(r) - held))
        return candidates[0]

    def fresh_grant(self, unit: Unit, role: str) -> int:
        """A grant of ``role`` at ``unit`` to the unit's target user (revoking destroys it)."""
        with self.platform.session_factory() as session:
            user_id = self.user[unit.id]
            grant = session.exec(
                select(RoleGrant).where(
                    RoleGrant.user_id == user_id,
                    RoleGrant.role == role,
                    RoleGrant.unit_id == unit.id,
                )
            ).first() or RoleGrant(user_id=user_id, role=role, unit_id=unit.id, unit_path=unit.path)
            session.add(grant)
            session.commit()
            return grant.id

    # callers -----------------------------------------------------------------------------

    def cookie(self, account) -> str:
        """A page session for the account (signing in the way the login page does)."""
        if account.user_id not in self.cookies:
            with self.platform.session_factory() as session:
                user = session.get(User, account.user_id)
                self.cookies[account.user_id] = services.open_session(
                    session, user, "testclient", "matrix"
                )
                session.commit()
        return self.cookies[account.user_id]

    def headers(self, route: Route, account) -> dict[str, str]:
        """Credentials the way a client of that kind sends them (none for ``account=None``)."""
        if not route.page:
            return account.headers if account else {}
        headers = {"accept": "text/html"}
        cookies = []
        if account:
            name = session_cookie_name(self.platform.settings.secure_cookies)
            cookies.append(f"{name}={self.cookie(account)}")
        if route.method in UNSAFE:
            csrf = generate_csrf_token(self.platform.secrets.secret_key)
            cookies.append(f"pingan_csrf={csrf}")
            headers["x-csrftoken"] = csrf
        if cookies:
            headers["cookie"] = "; ".join(cookies)
        return headers


# -- making requests -----------------------------------------------------------------------


@dataclass
class Request:
    route: Route
    url: str
    body: dict | None
    missing: str | None = None  # for a revocation the oracle expects refused: what it lacks


def build_request(
    world: World, route: Route, caller: list[tuple[str, Unit]] | None, target: Unit | None
):
    """The request for ``route`` by ``caller`` (its grants: role, unit) aimed at ``target``
    (None for a list with no target)."""
    unit = target or world.units["city"]
    values: dict[str, object] = {}
    missing = None
    for name in route.parameters:
        if name == "unit_id":
            values[name] = unit.id
        elif name == "user_id":
            values[name] = world.user[unit.id]
        elif name == "person_id":
            values[name] = world.person[unit.id]
        elif name == "job_id":
            values[name] = world.job[unit.id]
        elif name in ("volunteer_id", "membership_id", "special_team_id", "kit_id"):
            values[name] = getattr(world, name.removesuffix("_id"))[unit.id]
        elif name == "application_id":
            values[name] = world.application[unit.id]
        elif name in ("session_id", "enrolment_id", "qualification_id"):
            values[name] = getattr(world, name.removesuffix("_id"))[unit.id]
        elif name == "code":
            values[name] = "core.law"
        elif name == "report_id":
            values[name] = world.report[unit.id]
        elif name == "photo":
            values[name] = 0
        elif name == "key":
            values[name] = "reports.triage_hours"
        elif name in ("task_id", "point_id", "shift_id", "assignment_id"):
            values[name] = getattr(world, name.removesuffix("_id"))[unit.id]
        elif name in ("entry_id", "correction_id", "record_id"):
            values[name] = getattr(world, name.removesuffix("_id"))[unit.id]
        elif name == "what":  # a check-in on someone's behalf
            values[name] = "check-in"
        elif name in mediation_records.PARAMETERS:
            values[name] = world.mediation[unit.id][name]
        elif name == "grant_id":
            role = world.revocable_role(caller, unit) if caller else "auditor"
            values[name] = world.fresh_grant(unit, role)
            if caller:
                lacking = world.policy.actions(role) - world.actions_at(caller, unit)
                missing = ", ".join(sorted(lacking)) or None
        elif name == "name":
            values[name] = "sample"
        elif name in world.plugin_ids:
            values[name] = world.plugin_ids[name][unit.id]
        else:
            raise AssertionError(f"{route}: no way to fill path parameter {name!r}")
    url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), route.path)
    body = None
    if route.key in BODIES:
        body = BODIES[route.key](unit)
    elif route.has_body:
        assert route.kind == "unit", f"{route}: add a body to BODIES"
        body = {}
    return Request(route, url, body, missing if route.key in REVOKING else None)


async def send(client, world: World, request: Request, account):
    client.cookies.clear()
    headers = world.headers(request.route, account)
    kwargs: dict = {"headers": headers}
    if request.body is not None:
        kwargs["data" if request.route.page else "json"] = request.body
    return await client.request(request.route.method, request.url, follow_redirects=False, **kwargs)


def observed(response) -> str:
    """What the response says about authorization."""
    status = response.status_code
    if status == 401:
        return "unauthenticated"
    if status == 404:
        return "invisible"
    if status == 403:
        if "json" in response.headers.get("content-type", ""):
            return "escalation" if response.json().get("code") == "escalation" else "forbidden"
        # a page re-rendered with the service's refusal, rather than the error page
        return "escalation" if 'role="alert"' in response.text else "forbidden"
    return "allowed"


def expected(
    world: World, route: Route, caller: list[tuple[str, Unit]], target: Unit | None, missing
) -> str:
    """The oracle: policy table + subtree rule + the guard's documented order."""
    anywhere = {action for role, _ in caller for action in world.policy.actions(role)}
    visible = target is not None and any(world.reachable(unit, target) for _, unit in caller)
    here = world.actions_at(caller, target) if target is not None else set()
    if route.kind == "unit":  # the guard: invisible unit first, then the action there
        if not visible:
            return "invisible"
        if route.action not in here:
            return "forbidden"
        if route.key in DETAIL_ONLY and CASE_DETAIL not in here:
            return "forbidden"
        return "allowed"
    if route.action not in anywhere:  # the guard: the action held nowhere
        return "forbidden"
    if route.kind == "global":
        return "allowed"
    if not visible:  # the handler's scoped lookup
        return "invisible"
    if ({route.action} | EXTRA_ACTIONS.get(route.key, set())) - here:
        return "invisible" if route.key in REACH_FILTERED else "forbidden"
    if missing:
        return "escalation"
    return "allowed"


# -- the matrix ----------------------------------------------------------------------------


def positions(world: World, route: Route, role: str) -> tuple[str, ...]:
    """The positions to call ``route`` from as ``role``.

    Every one where the role holds the route's action somewhere. Where it holds it nowhere,
    the guard's answer depends on reachability alone (invisible, else forbidden), so one
    reachable and one unreachable position tell it all.
    """
    if route.action in world.policy.actions(role):
        return POSITIONS
    grant_unit = world.grant_unit(role)
    outside = next(
        (p for p in ("sibling", "parent") if world.target(grant_unit, p) is not None), "sibling"
    )
    return ("own", outside)


def plan(world: World, routes: list[Route]):
    """Every (route, role, position, target) to call, and the combinations skipped."""
    combinations, skipped = [], []
    for route in routes:
        for role in world.policy.roles:
            grant_unit = world.grant_unit(role)
            if route.kind == "global":
                combinations.append((route, role, "-", None))
                continue
            for position in positions(world, route, role):
                target = world.target(grant_unit, position)
                if target is None:
                    skipped.append((route, role, position))
                else:
                    combinations.append((route, role, position, target))
    return combinations, skipped


@pytest.fixture
def world(platform, unit_tree, accounts) -> World:
    return World(platform, unit_tree, accounts)


@pytest.mark.heavy
async def test_authorization_matrix(client, app, platform, world, database_url):
    started = time.perf_counter()
    routes = discover(app, platform)
    # The generation found core's routes and the plugin's, of every kind.
    owners = {route.owner for route in routes}
    assert {"core", "sample", "mediation"} <= owners
    assert {route.kind for route in routes} == {"unit", "record", "global"}
    assert {("GET", "/api/v1/units/{unit_id:int}/sample/notes"), ("GET", "/api/v1/people")} <= {
        route.key for route in routes
    }
    combinations, skipped = plan(world, routes)
    expected_requests = sum(
        len(world.policy.roles)
        if route.kind == "global"
        else sum(
            1
            for role in world.policy.roles
            for position in positions(world, route, role)
            if world.target(world.grant_unit(role), position) is not None
        )
        for route in routes
    )
    assert len(combinations) == expected_requests

    mismatches, made, outcomes = [], 0, Counter()
    for route, role, position, target in combinations:
        grant_unit = world.grant_unit(role)
        reachable = None
        if target is not None:
            reachable = world.reachable(grant_unit, target)
            assert reachable == REACHABLE[position], (role, position, target.name)
        account = world.accounts(role, grant_unit)
        caller = [(role, grant_unit)]
        request = build_request(world, route, caller, target)
        response = await send(client, world, request, account)
        made += 1
        want = expected(world, route, caller, target, request.missing)
        got = observed(response)
        outcomes[got] += 1
        if got != want:
            mismatches.append(
                f"{route} as {role}@{grant_unit.name} → {position}: expected {want}, "
                f"got {response.status_code} {response.text[:200]!r}"
            )
        elif got == "escalation":
            body = response.json() if not route.page else None
            shown = body["errors"][0]["message"] if body else response.text
            assert request.missing in shown, (str(route), role)

    # Without credentials every one of these routes asks to sign in: the API with 401, a
    # page with 401 or by sending the browser to the sign-in form.
    for route in routes:
        request = build_request(world, route, None, world.units["district"])
        response = await send(client, world, request, None)
        made += 1
        got = observed(response)
        if route.page and response.is_redirect:
            location = response.headers["location"]
            got = "unauthenticated" if location.startswith("/login") else f"redirect {location}"
        outcomes[got] += 1
        if got != "unauthenticated":
            mismatches.append(f"{route} anonymously: got {response.status_code} {got}")

    elapsed = time.perf_counter() - started
    print(
        f"\nauthorization matrix [{platform.engine.dialect.name}]: {len(routes)} routes × "
        f"{len(world.policy.roles)} roles × up to {len(POSITIONS)} positions → "
        f"{made} requests ({len(combinations)} role requests + {len(routes)} anonymous; "
        f"where a role holds the action nowhere, one position inside and one outside), "
        f"{len(skipped)} combinations skipped as impossible for the role's levels; "
        f"outcomes {dict(sorted(outcomes.items()))}; {elapsed:.1f}s"
    )
    assert made == expected_requests + len(routes)
    assert not mismatches, "\n".join(mismatches)
    # Impossible positions: those the role's grant unit does not have, per route and role.
    assert len(skipped) == sum(
        world.target(world.grant_unit(role), p) is None
        for route in routes
        if route.kind != "global"
        for role in world.policy.roles
        for p in positions(world, route, role)
    )
    assert outcomes["allowed"] and outcomes["forbidden"] and outcomes["invisible"]


async def test_plugin_routes_answer_404_where_the_plugin_is_off(client, platform, world, app):
    """The guard's first rule: a plugin route at a unit where the plugin is off is not there."""
    with platform.session_factory() as session:
        village = session.get(Unit, world.units["village"].id)
        set_plugin_enabled(session, village, "sample", False, changed_by="test")
        session.commit()
    editor = world.accounts("sample.editor", world.units["district"])
    plugin_routes = [route for route in discover(app, platform) if route.owner == "sample"]
    assert plugin_routes
    for route in plugin_routes:
        for unit, status in ((world.units["village"], {404}), (world.units["township"], None)):
            request = build_request(world, route, [("sample.editor", unit)], unit)
            response = await send(client, world, request, editor)
            if status:
                assert response.status_code in status, (str(route), unit.name)
            else:
                assert observed(response) == "allowed", (str(route), response.status_code)


@pytest.mark.parametrize(
    "grants",
    [
        # strong at one district, weak at the other: visible everywhere, allowed in one half
        (("district_admin", "district"), ("sample.reader", "other_district")),
        # a leader of one township who also audits the city
        (("township_leader", "township"), ("auditor", "city")),
        # two village-level roles in different townships
        (("village_leader", "village"), ("volunteer", "other_village")),
    ],
    ids=["district_admin+sample.reader", "township_leader+auditor", "village_leader+volunteer"],
)
async def test_callers_with_several_grants(client, app, platform, world, grants):
    """A caller with grants of different roles at different units: the action must be held
    by a grant that reaches the target, not merely somewhere."""
    caller = [(role, world.units[level]) for role, level in grants]
    first_role, first_unit = caller[0]
    account = world.accounts(first_role, first_unit, username="several-" + first_role)
    with platform.session_factory() as session:
        user = session.get(User, account.user_id)
        for role, unit in caller[1:]:
            services.grant_role(session, platform.policy, None, user, role, unit)
        session.commit()
    mismatches, made = [], 0
    for route in discover(app, platform):
        targets = [None] if route.kind == "global" else list(world.units.values())
        for target in targets:
            request = build_request(world, route, caller, target)
            response = await send(client, world, request, account)
            made += 1
            want = expected(world, route, caller, target, request.missing)
            if observed(response) != want:
                mismatches.append(
                    f"{route} → {target.name if target else '-'}: expected {want}, "
                    f"got {response.status_code}"
                )
    print(f"\nseveral grants {grants}: {made} requests")
    assert not mismatches, "\n".join(mismatches)


# -- object-level scoping of the lists -----------------------------------------------------


def _in_subtree(world: World, top: Unit, unit_id: int) -> bool:
    return world.reachable(top, world.by_id[unit_id])


@pytest.mark.parametrize(
    ("role", "level"),
    [
        ("city_admin", "city"),
        ("district_admin", "district"),
        ("township_leader", "township"),
        ("village_leader", "village"),
    ],
)
async def test_lists_hold_exactly_the_callers_subtree(client, platform, world, role, level):
    top = world.units[level]
    caller = world.accounts(role, top)
    # More people and accounts, spread over the tree.
    with platform.session_factory() as session:
        for index, unit in enumerate(world.units.values()):
            for n in range(index % 3 + 1):
                session.add(Person(unit_id=unit.id, unit_path=unit.path, name=f"居民{index}-{n}"))
        session.commit()
        people = session.exec(select(Person.id, Person.unit_id)).all()
        users = session.exec(select(User.id, User.unit_id)).all()
    expected_people = {pid for pid, unit_id in people if _in_subtree(world, top, unit_id)}
    expected_users = {uid for uid, unit_id in users if _in_subtree(world, top, unit_id)}
    everything = level == "city"  # the city's subtree is the whole tree
    assert 0 < len(expected_people) and (len(expected_people) < len(people)) != everything

    response = await client.get("/api/v1/people", params={"limit": 200}, headers=caller.headers)
    assert response.status_code == 200
    assert {row["id"] for row in response.json()} == expected_people

    response = await client.get("/api/v1/users", params={"limit": 200}, headers=caller.headers)
    if "core.user.read" in platform.policy.actions(role):
        assert response.status_code == 200
        assert {row["id"] for row in response.json()} == expected_users
        assert 0 < len(expected_users) and (len(expected_users) < len(users)) != everything
    else:
        assert response.status_code == 403

    sibling = world.sibling.get(top.id)
    if sibling is not None:
        outside = world.person[sibling.id]
        response = await client.get(f"/api/v1/people/{outside}", headers=caller.headers)
        assert response.status_code == 404
        inside = world.person[top.id]
        response = await client.get(f"/api/v1/people/{inside}", headers=caller.headers)
        assert response.status_code == 200 and response.json()["id"] == inside
