"""API of tasks, points, shifts, assignments and the duty matrix, and this area's pages.

Unit routes (``/api/v1/units/{unit_id}/…``) are scoped by the guard; record routes look the
record up with :func:`core.access.get_scoped` under their action, so a record outside the
caller's subtree is absent (404) and one they see but may not act on is forbidden (403). The
services then apply the workflow's own rules: the status flow, quotas, dispatch, eligibility.
"""

from datetime import date, timedelta
from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlmodel import select

from core.access import get_scoped
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.tasks import assignments as staffing
from core.tasks import services, shifts, views
from core.tasks.matrix import duty_matrix, suggest, week_start
from core.tasks.models import Assignment, Point, Shift, Task, TaskStatus
from core.tasks.pages import PAGES
from core.tasks.permissions import ASSIGN, MANAGE, PUBLISH, READ, SIGNUP
from core.tasks.queries import Scope, open_shifts, task_list, unit_assignments
from core.tasks.rules import local_midnight
from core.tasks.schemas import (
    AssignmentCreate,
    AssignmentRead,
    MatrixRead,
    OpenShiftRead,
    PointCreate,
    PointFields,
    PointRead,
    Reason,
    ShiftCreate,
    ShiftDetail,
    ShiftFields,
    SubtaskCreate,
    SuggestionRead,
    TaskCreate,
    TaskDetail,
    TaskRead,
    TaskUpdate,
)
from core.units.models import Unit
from core.web.deps import Limit, Offset, PlatformDep, SessionDep, UnitDep

TaskId = FromPath[int]
ShiftId = FromPath[int]
AssignmentId = FromPath[int]
PointId = FromPath[int]
Week = Annotated[
    date | None, QueryParameter(description="A day of the week wanted (default: this week).")
]


class UnitTaskController(Controller):
    """A unit's tasks, points, duty matrix and assignments."""

    path = "/api/v1/units/{unit_id:int}"
    tags = ["tasks"]

    @get("/tasks", sync_to_thread=True, operation_id="ListTasks", opt={"action": READ})
    def list_tasks(
        self,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        within: Annotated[
            Scope, QueryParameter(description="unit: the unit's own; subtree: all below too")
        ] = "unit",
        status: Annotated[TaskStatus | None, QueryParameter()] = None,
        task_type: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[TaskRead]:
        """Tasks of the unit (or its subtree), newest first, with their progress."""
        rows = task_list(
            session,
            unit,
            scope=within,
            status=status,
            task_type=task_type,
            limit=limit,
            offset=offset,
        )
        progress = services.progress_of(session, [task for task, _ in rows])
        return [views.task_read(platform, task, name, progress[task.id]) for task, name in rows]

    @post(
        "/tasks",
        sync_to_thread=True,
        operation_id="CreateTask",
        opt={"action": MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def create_task(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[TaskCreate],
    ) -> TaskDetail:
        """Draft a task at the unit; its type's own fields are checked."""
        principal = request.scope["user"]
        task = services.create_task(
            platform, session, unit, data.as_input(), by_user_id=principal.user_id
        )
        session.commit()
        return views.task_detail(platform, session, principal, task)

    @get("/points", sync_to_thread=True, operation_id="ListPoints", opt={"action": READ})
    def list_points(self, session: SessionDep, unit: UnitDep) -> list[PointRead]:
        """The unit's points."""
        rows = session.exec(
            select(Point).where(Point.unit_id == unit.id).order_by(Point.name, Point.id)
        ).all()
        return [PointRead.model_validate(point) for point in rows]

    @post(
        "/points",
        sync_to_thread=True,
        operation_id="CreatePoint",
        opt={"action": MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def create_point(
        self, session: SessionDep, unit: UnitDep, data: JSONBody[PointCreate]
    ) -> PointRead:
        """Add a point (a post, a gate, a beat's start) at the unit."""
        point = shifts.create_point(session, unit, data.as_input())
        session.commit()
        return PointRead.model_validate(point)

    @get("/duty", sync_to_thread=True, operation_id="GetDutyMatrix", opt={"action": READ})
    def duty(self, session: SessionDep, unit: UnitDep, week: Week = None) -> MatrixRead:
        """The unit's points × days × time slots for a week; gaps below the minimum."""
        return views.matrix_read(duty_matrix(session, unit, week_start(week)))

    @get(
        "/assignments",
        sync_to_thread=True,
        operation_id="ListUnitAssignments",
        opt={"action": READ},
    )
    def assignments(
        self, session: SessionDep, unit: UnitDep, week: Week = None
    ) -> list[AssignmentRead]:
        """A week's assignments on the unit's shifts and of its own people sent elsewhere."""
        monday = week_start(week)
        rows = unit_assignments(
            session, unit, local_midnight(monday), local_midnight(monday + timedelta(days=7))
        )
        return [views.assignment_read(a, name, home) for a, name, _, home, _ in rows]


class TaskController(Controller):
    """One task: details, changes, decomposition, status flow, shifts."""

    path = "/api/v1/tasks/{task_id:int}"
    tags = ["tasks"]

    @get("/", sync_to_thread=True, operation_id="GetTask", opt={"action": READ})
    def get_task(
        self, request: Request, session: SessionDep, platform: PlatformDep, task_id: TaskId
    ) -> TaskDetail:
        """A task with its sub-tasks and progress, shifts, history and allowed transitions."""
        principal = request.scope["user"]
        task = get_scoped(session, Task, task_id, principal, READ)
        return views.task_detail(platform, session, principal, task)

    @patch("/", sync_to_thread=True, operation_id="UpdateTask", opt={"action": MANAGE})
    def update_task(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        task_id: TaskId,
        data: JSONBody[TaskUpdate],
    ) -> TaskDetail:
        """Change an open task."""
        principal = request.scope["user"]
        task = get_scoped(session, Task, task_id, principal, MANAGE)
        services.update_task(platform, session, task, data.as_input())
        session.commit()
        return views.task_detail(platform, session, principal, task)

    @post(
        "/subtasks",
        sync_to_thread=True,
        operation_id="CreateSubtask",
        opt={"action": MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def create_subtask(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        task_id: TaskId,
        data: JSONBody[SubtaskCreate],
    ) -> TaskDetail:
        """Break the task down: a sub-task for a unit below, with a quota."""
        principal = request.scope["user"]
        parent = get_scoped(session, Task, task_id, principal, MANAGE)
        unit = session.get(Unit, data.unit_id)
        if unit is None:
            raise DomainError(
                text("没有这个单位", "No such unit"),
                "validation_failed",
                400,
                [FieldError("unit_id", "unknown", str(data.unit_id))],
            )
        task = services.create_task(
            platform,
            session,
            unit,
            data.as_input(),
            by_user_id=principal.user_id,
            parent=parent,
        )
        session.commit()
        return views.task_detail(platform, session, principal, task)

    def _transition(self, request, session, platform, task_id, name, reason=None) -> TaskDetail:
        principal = request.scope["user"]
        rule = services.TRANSITIONS[name]
        task = get_scoped(session, Task, task_id, principal, rule.action)
        services.transition(
            platform, session, task, name, by_user_id=principal.user_id, reason=reason
        )
        session.commit()
        return views.task_detail(platform, session, principal, task)

    @post(
        "/publication",
        sync_to_thread=True,
        operation_id="PublishTask",
        opt={"action": PUBLISH},
        status_code=HTTP_200_OK,
    )
    def publish(
        self, request: Request, session: SessionDep, platform: PlatformDep, task_id: TaskId
    ) -> TaskDetail:
        """Publish a draft (a sub-task needs its parent published)."""
        return self._transition(request, session, platform, task_id, "publish")

    @post(
        "/start",
        sync_to_thread=True,
        operation_id="StartTask",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def start(
        self, request: Request, session: SessionDep, platform: PlatformDep, task_id: TaskId
    ) -> TaskDetail:
        """Mark a published task in progress."""
        return self._transition(request, session, platform, task_id, "start")

    @post(
        "/completion",
        sync_to_thread=True,
        operation_id="CompleteTask",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def complete(
        self, request: Request, session: SessionDep, platform: PlatformDep, task_id: TaskId
    ) -> TaskDetail:
        """Complete a task in progress whose sub-tasks are all finished."""
        return self._transition(request, session, platform, task_id, "complete")

    @post(
        "/cancellation",
        sync_to_thread=True,
        operation_id="CancelTask",
        opt={"action": PUBLISH},
        status_code=HTTP_200_OK,
    )
    def cancel(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        task_id: TaskId,
        data: JSONBody[Reason],
    ) -> TaskDetail:
        """Cancel with a reason: sub-tasks, shifts and assignments go with it."""
        return self._transition(request, session, platform, task_id, "cancel", data.reason)

    @post(
        "/shifts",
        sync_to_thread=True,
        operation_id="CreateShift",
        opt={"action": MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def create_shift(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        task_id: TaskId,
        data: JSONBody[ShiftCreate],
    ) -> ShiftDetail:
        """Add a shift: a point and a time slot inside the task's dates, with a headcount."""
        task = get_scoped(session, Task, task_id, request.scope["user"], MANAGE)
        shift = shifts.create_shift(platform, session, task, data.as_input())
        session.commit()
        return views.shift_detail(session, shift)


class PointController(Controller):
    """One point."""

    path = "/api/v1/points/{point_id:int}"
    tags = ["tasks"]

    @patch("/", sync_to_thread=True, operation_id="UpdatePoint", opt={"action": MANAGE})
    def update_point(
        self, request: Request, session: SessionDep, point_id: PointId, data: JSONBody[PointFields]
    ) -> PointRead:
        """Change a point or switch it off."""
        point = get_scoped(session, Point, point_id, request.scope["user"], MANAGE)
        shifts.update_point(session, point, data.as_input())
        session.commit()
        return PointRead.model_validate(point)


class ShiftController(Controller):
    """One shift: its people, suggestions, assigning, signing up."""

    path = "/api/v1/shifts/{shift_id:int}"
    tags = ["tasks"]

    @get("/", sync_to_thread=True, operation_id="GetShift", opt={"action": READ})
    def get_shift(self, request: Request, session: SessionDep, shift_id: ShiftId) -> ShiftDetail:
        """A shift and everyone on it."""
        shift = get_scoped(session, Shift, shift_id, request.scope["user"], READ)
        return views.shift_detail(session, shift)

    @patch("/", sync_to_thread=True, operation_id="UpdateShift", opt={"action": MANAGE})
    def update_shift(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        shift_id: ShiftId,
        data: JSONBody[ShiftFields],
    ) -> ShiftDetail:
        """Change a shift (its time and point only while nobody is on it)."""
        shift = get_scoped(session, Shift, shift_id, request.scope["user"], MANAGE)
        shifts.update_shift(platform, session, shift, data.as_input())
        session.commit()
        return views.shift_detail(session, shift)

    @post(
        "/cancellation",
        sync_to_thread=True,
        operation_id="CancelShift",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def cancel_shift(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        shift_id: ShiftId,
        data: JSONBody[Reason],
    ) -> ShiftDetail:
        """Cancel a shift; everyone on it is taken off and told."""
        principal = request.scope["user"]
        shift = get_scoped(session, Shift, shift_id, principal, MANAGE)
        shifts.cancel_shift(
            platform, session, shift, by_user_id=principal.user_id, reason=data.reason
        )
        session.commit()
        return views.shift_detail(session, shift)

    @get(
        "/suggestions",
        sync_to_thread=True,
        operation_id="SuggestVolunteers",
        opt={"action": ASSIGN},
    )
    def suggestions(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        shift_id: ShiftId,
        limit: Annotated[int, QueryParameter(ge=1, le=20)] = 5,
    ) -> list[SuggestionRead]:
        """Volunteers who could fill the shift, best first, each with the reasons."""
        principal = request.scope["user"]
        shift = get_scoped(session, Shift, shift_id, principal, ASSIGN)
        return [
            views.suggestion_read(s)
            for s in suggest(platform, session, principal, shift, limit=limit)
        ]

    @post(
        "/assignments",
        sync_to_thread=True,
        operation_id="AssignVolunteer",
        opt={"action": ASSIGN},
        status_code=HTTP_201_CREATED,
    )
    def assign(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        shift_id: ShiftId,
        data: JSONBody[AssignmentCreate],
    ) -> ShiftDetail:
        """Put a volunteer on the shift: own people, or by dispatch within one's area.

        Refusals name every rule broken; warnings come back as ``confirm_warnings`` until
        the request is repeated with ``confirm_warnings: true``.
        """
        principal = request.scope["user"]
        shift = get_scoped(session, Shift, shift_id, principal, ASSIGN)
        staffing.assign(
            platform,
            session,
            principal,
            shift,
            data.volunteer_id,
            as_leader=data.as_leader,
            confirm_warnings=data.confirm_warnings,
        )
        session.commit()
        return views.shift_detail(session, shift)

    @post(
        "/signup",
        sync_to_thread=True,
        operation_id="SignUpForShift",
        opt={"action": SIGNUP},
        status_code=HTTP_201_CREATED,
    )
    def sign_up(
        self, request: Request, session: SessionDep, platform: PlatformDep, shift_id: ShiftId
    ) -> AssignmentRead:
        """Sign up for an open shift of one's own unit (approval may be needed)."""
        principal = request.scope["user"]
        shift = get_scoped(session, Shift, shift_id, principal, SIGNUP)
        assignment = staffing.sign_up(platform, session, principal, shift)
        session.commit()
        return _one(session, assignment)


def _one(session, assignment: Assignment) -> AssignmentRead:
    person = session.get(Person, assignment.person_id)
    home = session.get(Unit, assignment.home_unit_id)
    return views.assignment_read(assignment, person.name, home.name)


class AssignmentController(Controller):
    """One assignment: approve a sign-up, decline it, cancel, withdraw one's own."""

    path = "/api/v1/assignments/{assignment_id:int}"
    tags = ["tasks"]

    @post(
        "/approval",
        sync_to_thread=True,
        operation_id="ApproveSignup",
        opt={"action": ASSIGN},
        status_code=HTTP_200_OK,
    )
    def approve(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        assignment_id: AssignmentId,
    ) -> AssignmentRead:
        """Confirm a sign-up (the rules are checked again)."""
        principal = request.scope["user"]
        assignment = get_scoped(session, Assignment, assignment_id, principal, ASSIGN)
        staffing.approve(platform, session, principal, assignment)
        session.commit()
        return _one(session, assignment)

    @post(
        "/decline",
        sync_to_thread=True,
        operation_id="DeclineSignup",
        opt={"action": ASSIGN},
        status_code=HTTP_200_OK,
    )
    def decline(
        self,
        request: Request,
        session: SessionDep,
        assignment_id: AssignmentId,
        data: JSONBody[Reason],
    ) -> AssignmentRead:
        """Decline a sign-up, with a reason."""
        assignment = get_scoped(session, Assignment, assignment_id, request.scope["user"], ASSIGN)
        staffing.decline(session, assignment, data.reason)
        session.commit()
        return _one(session, assignment)

    @post(
        "/cancellation",
        sync_to_thread=True,
        operation_id="CancelAssignment",
        opt={"action": ASSIGN},
        status_code=HTTP_200_OK,
    )
    def cancel(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        assignment_id: AssignmentId,
        data: JSONBody[Reason],
    ) -> AssignmentRead:
        """Take a volunteer off a shift, with a reason."""
        assignment = get_scoped(session, Assignment, assignment_id, request.scope["user"], ASSIGN)
        staffing.cancel(platform, session, assignment, data.reason)
        session.commit()
        return _one(session, assignment)

    @post(
        "/withdrawal",
        sync_to_thread=True,
        operation_id="WithdrawOwnAssignment",
        opt={"action": SIGNUP},
        status_code=HTTP_200_OK,
    )
    def withdraw(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        assignment_id: AssignmentId,
    ) -> AssignmentRead:
        """The volunteer takes back their own sign-up or shift before it starts."""
        principal = request.scope["user"]
        get_scoped(session, Assignment, assignment_id, principal, SIGNUP)
        assignment = staffing.withdraw_own(platform, session, principal, assignment_id)
        session.commit()
        return _one(session, assignment)


class OpenShiftController(Controller):
    """The signed-in volunteer's open shifts."""

    path = "/api/v1/me/shifts"
    tags = ["tasks"]

    @get("/open", sync_to_thread=True, operation_id="ListOpenShifts", opt={"action": SIGNUP})
    def open_shifts(self, request: Request, session: SessionDep) -> list[OpenShiftRead]:
        """Shifts of one's own unit (or above) taking sign-ups, soonest first."""
        principal = request.scope["user"]
        volunteer = staffing.volunteer_of(session, principal)
        return [
            OpenShiftRead(
                shift_id=shift.id,
                task_id=task.id,
                task_title=task.title,
                unit_name=unit_name,
                point_name=point.name,
                address=point.address,
                starts_at=shift.starts_at,
                ends_at=shift.ends_at,
                places_left=left,
                needs_approval=task.signup_needs_approval,
            )
            for shift, task, point, unit_name, left in open_shifts(session, principal, volunteer)
        ]


ROUTES: list = [
    UnitTaskController,
    TaskController,
    PointController,
    ShiftController,
    AssignmentController,
    OpenShiftController,
    *PAGES,
]
