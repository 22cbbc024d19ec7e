"""Pages of tasks: a unit's tasks, a task, a shift, the duty matrix, points, open shifts.

Forms post to the page routes below, carry the CSRF token, and on a refusal the page comes
back with every field error and the status of the refusal; on success the browser is sent
back (a ``next`` path, when given, must be local).
"""

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session, select

from core.access import get_scoped, path_in
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.taxonomy import SKILLS
from core.platform import Platform
from core.tasks import assignments as staffing
from core.tasks import services, shifts, views
from core.tasks.matrix import duty_matrix, slot_label, suggest, week_start
from core.tasks.models import Assignment, Point, Shift, Task, TaskStatus
from core.tasks.permissions import ASSIGN, DISPATCH, MANAGE, PUBLISH, READ, SIGNUP
from core.tasks.queries import open_shifts, task_list, unit_assignments
from core.tasks.rules import LOCAL_TIME, local_midnight
from core.tasks.schemas import (
    AssignmentCreate,
    PointCreate,
    ShiftCreate,
    SubtaskCreate,
    TaskCreate,
    TaskUpdate,
)
from core.units.models import Unit
from core.volunteers.models import Volunteer
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import errors_of, parse_form
from core.web.navigation import home_page_of, unit_page

Form = URLEncodedBody[dict[str, str]]
PAGE = 50
TASK_TEXT_FIELDS = ("title", "description", "starts_on", "ends_on", "quota")


def local(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time as China time, for pages."""
    return moment.astimezone(LOCAL_TIME).strftime(pattern) if moment else ""


def safe_next(value: str | None, fallback: str) -> str:
    """A local path to go back to; anything else falls back (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:400]
    return fallback


def common(platform: Platform) -> dict[str, Any]:
    """What every page of this area uses."""
    return {
        "statuses": services.STATUS_LABELS,
        "assignment_statuses": staffing.STATUS_LABELS,
        "sources": staffing.SOURCE_LABELS,
        "transitions": services.TRANSITIONS,
        "skills": SKILLS,
        "local": local,
        "slot_label": slot_label,
        "type_name": lambda code: views.type_name(platform, code),
    }


def _refused(error: DomainError) -> tuple[list[FieldError], int, str]:
    return errors_of(error), error.status, error.code


def task_values(form: dict[str, str], with_type: bool) -> dict[str, Any]:
    """A task form as the API's input: checkboxes to booleans and lists, ``details.*``."""
    values: dict[str, Any] = {
        key: form[key].strip() for key in TASK_TEXT_FIELDS if form.get(key, "").strip()
    }
    if with_type and form.get("task_type"):
        values["task_type"] = form["task_type"]
    values["allow_signup"] = form.get("allow_signup") == "1"
    values["signup_needs_approval"] = form.get("signup_needs_approval") == "1"
    values["required_skills"] = sorted(k[6:] for k in form if k.startswith("skill."))
    values["required_modules"] = sorted(k[7:] for k in form if k.startswith("module."))
    values["details"] = {
        k[8:]: v for k, v in form.items() if k.startswith("details.") and v.strip()
    }
    return values


def shift_values(form: dict[str, str]) -> dict[str, Any]:
    """A shift form as the API's input."""
    values: dict[str, Any] = {
        key: form[key].strip()
        for key in ("point_id", "starts_at", "ends_at", "min_headcount", "max_headcount")
        if form.get(key, "").strip()
    }
    values["leader_slot"] = form.get("leader_slot") == "1"
    values["required_skills"] = sorted(k[6:] for k in form if k.startswith("skill."))
    return values


def _units_below(session: Session, task: Task) -> list[Unit]:
    unit = session.get(Unit, task.unit_id)
    return list(
        session.exec(
            select(Unit)
            .where(path_in(Unit.path, unit.path), Unit.id != unit.id, Unit.active.is_(True))
            .order_by(Unit.path)
            .limit(500)
        ).all()
    )


def _points_for(session: Session, task: Task) -> list[Point]:
    return list(
        session.exec(
            select(Point)
            .where(path_in(Point.unit_path, task.unit_path), Point.active.is_(True))
            .order_by(Point.name, Point.id)
            .limit(500)
        ).all()
    )


def duty_page(
    request: Request,
    session: Session,
    platform: Platform,
    unit: Unit,
    week: date | None,
    shift_id: int | None,
    view: str,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
    code: str | None = None,
    form: dict[str, str] | None = None,
) -> Template:
    """The duty matrix page, with the suggestions for one shift and any refusal."""
    principal = request.scope["user"]
    monday = week_start(week)
    matrix = duty_matrix(session, unit, monday)
    chosen, suggestions = None, []
    if shift_id is not None:
        chosen = session.get(Shift, shift_id)
        if chosen is None or not chosen.unit_path.startswith(unit.path):
            chosen = None
        elif principal.can(ASSIGN, chosen.unit_path):
            suggestions = suggest(platform, session, principal, chosen)
    here = f"/units/{unit.id}/duty?week={monday.isoformat()}&view={view}"
    return Template(
        "core:tasks/duty.html",
        context={
            "page": unit_page(platform, session, unit, principal),
            "matrix": matrix,
            "view": view,
            "previous": (monday - timedelta(days=7)).isoformat(),
            "following": (monday + timedelta(days=7)).isoformat(),
            "chosen": chosen,
            "chosen_point": session.get(Point, chosen.point_id) if chosen else None,
            "suggestions": suggestions,
            "may_assign": chosen is not None and principal.can(ASSIGN, chosen.unit_path),
            "here": here,
            "errors": errors or [],
            "code": code,
            "form": form or {},
            **common(platform),
        },
        status_code=status_code,
    )


# -- a unit's tasks and points ---------------------------------------------------------------


class UnitTaskPages(Controller):
    """A unit's tasks, the new-task form, its points, its duty matrix and assignments."""

    path = "/units/{unit_id:int}"
    include_in_schema = False

    @get("/tasks/", sync_to_thread=True, opt={"action": READ})
    def tasks(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        within: Annotated[str, QueryParameter(pattern="^(unit|subtree)$")] = "unit",
        status: Annotated[TaskStatus | None, QueryParameter()] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """The unit's tasks (or its subtree's), newest first, 50 a page, with progress."""
        principal = request.scope["user"]
        rows = task_list(
            session,
            unit,
            scope=within,  # type: ignore[arg-type]
            status=status,
            limit=PAGE + 1,
            offset=(page - 1) * PAGE,
        )
        progress = services.progress_of(session, [task for task, _ in rows[:PAGE]])
        return Template(
            "core:tasks/list.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "rows": [(task, name, progress[task.id]) for task, name in rows[:PAGE]],
                "more": len(rows) > PAGE,
                "page_number": page,
                "filter": {"within": within, "status": status.value if status else ""},
                "all_statuses": list(TaskStatus),
                "can_manage": principal.can(MANAGE, unit),
                **common(platform),
            },
        )

    def _form(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        form: dict[str, str],
        errors: list[FieldError],
        status_code: int = 200,
        code: str | None = None,
    ) -> Template:
        types = services.task_types_at(platform, session, unit)
        return Template(
            "core:tasks/form.html",
            context={
                "page": unit_page(platform, session, unit, request.scope["user"]),
                "unit": unit,
                "task": None,
                "types": types,
                "task_type": types.get(form.get("task_type", "")),
                "modules": platform.training_modules(session, unit),
                "form": form,
                "errors": errors,
                "code": code,
                "action": f"/units/{unit.id}/tasks/",
                **common(platform),
            },
            status_code=status_code,
        )

    @get("/tasks/new", sync_to_thread=True, opt={"action": MANAGE})
    def new_task(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        task_type: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> Template:
        """Choose the task type, then fill in the task and the type's own fields."""
        form = {"task_type": task_type or "", "signup_needs_approval": "1"}
        return self._form(request, session, platform, unit, form, [])

    @post("/tasks/", sync_to_thread=True, opt={"action": MANAGE})
    def create_task(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Draft the task."""
        principal = request.scope["user"]
        wanted, errors = parse_form(TaskCreate, task_values(data, with_type=True))
        status_code, code = 400, "validation_failed"
        if wanted is not None:
            try:
                task = services.create_task(
                    platform, session, unit, wanted.as_input(), by_user_id=principal.user_id
                )
                session.commit()
                return Redirect(f"/tasks/{task.id}")
            except DomainError as error:
                session.rollback()
                errors, status_code, code = _refused(error)
        return self._form(request, session, platform, unit, data, errors, status_code, code)

    def _points(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        form: dict[str, str],
        errors: list[FieldError],
        status_code: int = 200,
    ) -> Template:
        principal = request.scope["user"]
        points = session.exec(
            select(Point).where(Point.unit_id == unit.id).order_by(Point.name, Point.id)
        ).all()
        return Template(
            "core:tasks/points.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "points": points,
                "can_manage": principal.can(MANAGE, unit),
                "form": form,
                "errors": errors,
                **common(platform),
            },
            status_code=status_code,
        )

    @get("/points/", sync_to_thread=True, opt={"action": READ})
    def points(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """The unit's points and the form for a new one."""
        return self._points(request, session, platform, unit, {}, [])

    @post("/points/", sync_to_thread=True, opt={"action": MANAGE})
    def create_point(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Add a point."""
        values = {
            k: data[k].strip()
            for k in ("name", "address", "latitude", "longitude", "radius_m")
            if data.get(k, "").strip()
        }
        wanted, errors = parse_form(PointCreate, values)
        if wanted is not None:
            try:
                shifts.create_point(session, unit, wanted.as_input())
                session.commit()
                return Redirect(f"/units/{unit.id}/points/")
            except DomainError as error:
                session.rollback()
                errors = errors_of(error)
        return self._points(request, session, platform, unit, data, errors, 400)

    @get("/duty", sync_to_thread=True, opt={"action": READ})
    def duty(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        week: Annotated[date | None, QueryParameter()] = None,
        shift: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
        view: Annotated[str, QueryParameter(pattern="^(grid|days)$")] = "grid",
    ) -> Template:
        """The duty matrix of a week; ``shift`` opens the suggestions for one gap."""
        return duty_page(request, session, platform, unit, week, shift, view)

    @get("/assignments", sync_to_thread=True, opt={"action": READ})
    def assignments(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        week: Annotated[date | None, QueryParameter()] = None,
    ) -> Template:
        """A week's assignments on the unit's shifts and of its people dispatched elsewhere."""
        principal = request.scope["user"]
        monday = week_start(week)
        rows = unit_assignments(
            session, unit, local_midnight(monday), local_midnight(monday + timedelta(days=7))
        )
        return Template(
            "core:tasks/assignments.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "unit": unit,
                "rows": rows,
                "week": monday,
                "previous": (monday - timedelta(days=7)).isoformat(),
                "following": (monday + timedelta(days=7)).isoformat(),
                **common(platform),
            },
        )


# -- a task ----------------------------------------------------------------------------------


class TaskPages(Controller):
    """One task: details, editing, decomposition, the status flow, shifts."""

    path = "/tasks/{task_id:int}"
    include_in_schema = False

    def _detail(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        task: Task,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        code: str | None = None,
        form: dict[str, str] | None = None,
    ) -> Template:
        principal = request.scope["user"]
        unit = session.get(Unit, task.unit_id)
        detail = views.task_detail(platform, session, principal, task)
        can_manage = principal.can(MANAGE, task.unit_path)
        open_task = task.status in services.OPEN_STATUSES
        return Template(
            "core:tasks/detail.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "task": detail,
                "parent": session.get(Task, task.parent_id) if task.parent_id else None,
                "task_type": platform.plugins.task_types.get(task.task_type),
                "can_manage": can_manage and open_task,
                "units_below": _units_below(session, task) if can_manage and open_task else [],
                "points": _points_for(session, task) if can_manage and open_task else [],
                "errors": errors or [],
                "code": code,
                "form": form or {},
                **common(platform),
            },
            status_code=status_code,
        )

    @get("/", sync_to_thread=True, opt={"action": READ})
    def detail(
        self, request: Request, session: SessionDep, platform: PlatformDep, task_id: FromPath[int]
    ) -> Template:
        """A task with its progress, sub-tasks, shifts and history."""
        task = get_scoped(session, Task, task_id, request.scope["user"], READ)
        return self._detail(request, session, platform, task)

    def _act(self, request, session, platform, task_id, action, run, form=None) -> Response:
        principal = request.scope["user"]
        task = get_scoped(session, Task, task_id, principal, action)
        try:
            target = run(principal, task)
            session.commit()
        except DomainError as error:
            session.rollback()
            errors, status_code, code = _refused(error)
            task = session.get(Task, task_id)
            return self._detail(request, session, platform, task, errors, status_code, code, form)
        return Redirect(target or f"/tasks/{task_id}")

    def _transition(self, request, session, platform, task_id, name, data=None) -> Response:
        rule = services.TRANSITIONS[name]
        reason = (data or {}).get("reason")

        def run(principal, task) -> None:
            services.transition(
                platform, session, task, name, by_user_id=principal.user_id, reason=reason
            )

        return self._act(request, session, platform, task_id, rule.action, run)

    @post("/publication", sync_to_thread=True, opt={"action": PUBLISH})
    def publish(
        self, request: Request, session: SessionDep, platform: PlatformDep, task_id: FromPath[int]
    ) -> Response:
        """发布."""
        return self._transition(request, session, platform, task_id, "publish")

    @post("/start", sync_to_thread=True, opt={"action": MANAGE})
    def start(
        self, request: Request, session: SessionDep, platform: PlatformDep, task_id: FromPath[int]
    ) -> Response:
        """开始."""
        return self._transition(request, session, platform, task_id, "start")

    @post("/completion", sync_to_thread=True, opt={"action": MANAGE})
    def complete(
        self, request: Request, session: SessionDep, platform: PlatformDep, task_id: FromPath[int]
    ) -> Response:
        """完成."""
        return self._transition(request, session, platform, task_id, "complete")

    @post("/cancellation", sync_to_thread=True, opt={"action": PUBLISH})
    def cancel(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        task_id: FromPath[int],
        data: Form,
    ) -> Response:
        """取消, with a reason."""
        return self._transition(request, session, platform, task_id, "cancel", data)

    @get("/edit", sync_to_thread=True, opt={"action": MANAGE})
    def edit_form(
        self, request: Request, session: SessionDep, platform: PlatformDep, task_id: FromPath[int]
    ) -> Template:
        """The task's form, filled in."""
        task = get_scoped(session, Task, task_id, request.scope["user"], MANAGE)
        form = {
            "title": task.title,
            "description": task.description,
            "starts_on": task.starts_on.isoformat(),
            "ends_on": task.ends_on.isoformat(),
            "quota": "" if task.quota is None else str(task.quota),
            "allow_signup": "1" if task.allow_signup else "",
            "signup_needs_approval": "1" if task.signup_needs_approval else "",
            **{f"skill.{code}": "1" for code in task.required_skills or []},
            **{f"module.{code}": "1" for code in task.required_modules or []},
            **{f"details.{k}": str(v) for k, v in (task.details or {}).items()},
        }
        return self._edit(request, session, platform, task, form, [])

    def _edit(self, request, session, platform, task, form, errors, status_code=200, code=None):
        unit = session.get(Unit, task.unit_id)
        task_type = platform.plugins.task_types.get(task.task_type)
        return Template(
            "core:tasks/form.html",
            context={
                "page": unit_page(platform, session, unit, request.scope["user"]),
                "unit": unit,
                "task": task,
                "types": {task.task_type: task_type} if task_type else {},
                "task_type": task_type,
                "modules": platform.training_modules(session, unit),
                "form": form,
                "errors": errors,
                "code": code,
                "action": f"/tasks/{task.id}/edit",
                **common(platform),
            },
            status_code=status_code,
        )

    @post("/edit", sync_to_thread=True, opt={"action": MANAGE})
    def edit(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        task_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Save the changes."""
        task = get_scoped(session, Task, task_id, request.scope["user"], MANAGE)
        values = task_values(data, with_type=False)
        if "quota" not in values:
            values["clear_quota"] = True
        wanted, errors = parse_form(TaskUpdate, values)
        status_code, code = 400, "validation_failed"
        if wanted is not None:
            try:
                services.update_task(platform, session, task, wanted.as_input())
                session.commit()
                return Redirect(f"/tasks/{task.id}")
            except DomainError as error:
                session.rollback()
                errors, status_code, code = _refused(error)
                task = session.get(Task, task_id)
        return self._edit(request, session, platform, task, data, errors, status_code, code)

    @post("/subtasks", sync_to_thread=True, opt={"action": MANAGE})
    def create_subtask(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        task_id: FromPath[int],
        data: Form,
    ) -> Response:
        """A sub-task for a unit below, with a quota."""

        def run(principal, parent):
            values = {
                k: data[k].strip()
                for k in ("unit_id", "quota", "title", "starts_on", "ends_on")
                if data.get(k, "").strip()
            }
            wanted, errors = parse_form(SubtaskCreate, values)
            if wanted is None:
                raise services.invalid(errors)
            unit = session.get(Unit, wanted.unit_id)
            if unit is None:
                raise services.invalid(
                    [FieldError("unit_id", "unknown", text("没有这个单位", "no such unit"))]
                )
            child = services.create_task(
                platform,
                session,
                unit,
                wanted.as_input(),
                by_user_id=principal.user_id,
                parent=parent,
            )
            return f"/tasks/{child.id}"

        return self._act(request, session, platform, task_id, MANAGE, run, data)

    @post("/shifts", sync_to_thread=True, opt={"action": MANAGE})
    def create_shift(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        task_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Add a shift."""

        def run(principal, task):
            wanted, errors = parse_form(ShiftCreate, shift_values(data))
            if wanted is None:
                raise services.invalid(errors, ("班次信息有误", "The shift's details are invalid"))
            shift = shifts.create_shift(platform, session, task, wanted.as_input())
            return f"/shifts/{shift.id}"

        return self._act(request, session, platform, task_id, MANAGE, run, data)


# -- a shift and its assignments --------------------------------------------------------------


class ShiftPages(Controller):
    """One shift: who is on it, who could be, assigning and deciding sign-ups."""

    path = "/shifts/{shift_id:int}"
    include_in_schema = False

    @staticmethod
    def render(
        request: Request,
        session: Session,
        platform: Platform,
        shift: Shift,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        code: str | None = None,
        form: dict[str, str] | None = None,
    ) -> Template:
        """The shift page (also re-rendered with a refusal by the assignment routes)."""
        principal = request.scope["user"]
        task = session.get(Task, shift.task_id)
        unit = session.get(Unit, shift.unit_id)
        may_assign = principal.can(ASSIGN, shift.unit_path)
        return Template(
            "core:tasks/shift.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "shift": views.shift_detail(session, shift),
                "task": task,
                "point": session.get(Point, shift.point_id),
                "may_assign": may_assign,
                "may_manage": principal.can(MANAGE, shift.unit_path),
                "may_dispatch": principal.can(DISPATCH),
                "suggestions": suggest(platform, session, principal, shift) if may_assign else [],
                "errors": errors or [],
                "code": code,
                "form": form or {},
                "here": f"/shifts/{shift.id}",
                **common(platform),
            },
            status_code=status_code,
        )

    @get("/", sync_to_thread=True, opt={"action": READ})
    def detail(
        self, request: Request, session: SessionDep, platform: PlatformDep, shift_id: FromPath[int]
    ) -> Template:
        """The shift, its people and the best volunteers to fill it."""
        shift = get_scoped(session, Shift, shift_id, request.scope["user"], READ)
        return self.render(request, session, platform, shift)

    @post("/assignments", sync_to_thread=True, opt={"action": ASSIGN})
    def assign(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        shift_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Put a volunteer on the shift (one click from the suggestions, or by number)."""
        principal = request.scope["user"]
        shift = get_scoped(session, Shift, shift_id, principal, ASSIGN)
        back = safe_next(data.get("next"), f"/shifts/{shift_id}")
        volunteer_id = None
        try:
            volunteer_id = _volunteer_from_form(session, data)
            wanted, errors = parse_form(
                AssignmentCreate,
                {
                    "volunteer_id": volunteer_id,
                    "as_leader": data.get("as_leader") == "1",
                    "confirm_warnings": data.get("confirm_warnings") == "1",
                },
            )
            if wanted is None:
                raise services.invalid(errors, ("排班信息有误", "The assignment is invalid"))
            staffing.assign(
                platform,
                session,
                principal,
                shift,
                wanted.volunteer_id,
                as_leader=wanted.as_leader,
                confirm_warnings=wanted.confirm_warnings,
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            errors, status_code, code = _refused(error)
            shift = session.get(Shift, shift_id)
            form = {**data, "volunteer_id": str(volunteer_id or "")}
            if urlsplit(back).path.endswith("/duty"):
                return _duty_again(
                    request, session, platform, back, shift, errors, status_code, code, form
                )
            return self.render(request, session, platform, shift, errors, status_code, code, form)
        return Redirect(back)

    @post("/cancellation", sync_to_thread=True, opt={"action": MANAGE})
    def cancel(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        shift_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Cancel the shift, with a reason."""
        principal = request.scope["user"]
        shift = get_scoped(session, Shift, shift_id, principal, MANAGE)
        try:
            shifts.cancel_shift(
                platform, session, shift, by_user_id=principal.user_id, reason=data.get("reason")
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            errors, status_code, code = _refused(error)
            shift = session.get(Shift, shift_id)
            return self.render(request, session, platform, shift, errors, status_code, code)
        return Redirect(f"/shifts/{shift_id}")

    @post("/signup", sync_to_thread=True, opt={"action": SIGNUP})
    def sign_up(
        self, request: Request, session: SessionDep, platform: PlatformDep, shift_id: FromPath[int]
    ) -> Response:
        """Sign up for the shift."""
        principal = request.scope["user"]
        shift = get_scoped(session, Shift, shift_id, principal, SIGNUP)
        try:
            staffing.sign_up(platform, session, principal, shift)
            session.commit()
        except DomainError as error:
            session.rollback()
            errors, status_code, code = _refused(error)
            return OpenShiftPages.render(request, session, platform, errors, status_code, code)
        return Redirect("/me/shifts/open?signed=1")


def _volunteer_from_form(session: Session, data: dict[str, str]) -> int | str | None:
    """The volunteer id given, or the id of the volunteer number typed in."""
    raw = (data.get("volunteer_id") or "").strip()
    if raw:
        return raw
    number = (data.get("volunteer_number") or "").strip()
    if not number:
        return None
    found = session.exec(
        select(Volunteer.id).where(
            (Volunteer.number == number[:32]) | (Volunteer.national_number == number[:32])
        )
    ).first()
    if found is None:
        raise DomainError(
            text("没有这个志愿者编号", "No volunteer has this number"),
            "validation_failed",
            400,
            [FieldError("volunteer_number", "unknown", number[:32])],
        )
    return found


def _duty_again(request, session, platform, back, shift, errors, status_code, code, form):
    """The duty matrix the one-click assignment came from, with the refusal shown."""
    where = urlsplit(back)
    parts = where.path.strip("/").split("/")
    query = parse_qs(where.query)
    unit = session.get(Unit, int(parts[1])) if len(parts) > 1 and parts[1].isdigit() else None
    if unit is None or not request.scope["user"].sees(unit):
        unit = session.get(Unit, shift.unit_id)
    try:
        week = date.fromisoformat(query.get("week", [""])[0])
    except ValueError:
        week = None
    view = query.get("view", ["grid"])[0]
    return duty_page(
        request,
        session,
        platform,
        unit,
        week,
        shift.id,
        view if view in ("grid", "days") else "grid",
        errors,
        status_code,
        code,
        form,
    )


class AssignmentPages(Controller):
    """Deciding a sign-up, taking someone off a shift, withdrawing one's own."""

    path = "/assignments/{assignment_id:int}"
    include_in_schema = False

    def _act(self, request, session, platform, assignment_id, action, run) -> Response:
        principal = request.scope["user"]
        assignment = get_scoped(session, Assignment, assignment_id, principal, action)
        shift_id = assignment.shift_id
        try:
            run(principal, assignment)
            session.commit()
        except DomainError as error:
            session.rollback()
            errors, status_code, code = _refused(error)
            shift = session.get(Shift, shift_id)
            return ShiftPages.render(request, session, platform, shift, errors, status_code, code)
        return Redirect(f"/shifts/{shift_id}")

    @post("/approval", sync_to_thread=True, opt={"action": ASSIGN})
    def approve(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        assignment_id: FromPath[int],
    ) -> Response:
        """批准报名."""
        return self._act(
            request,
            session,
            platform,
            assignment_id,
            ASSIGN,
            lambda principal, a: staffing.approve(platform, session, principal, a),
        )

    @post("/decline", sync_to_thread=True, opt={"action": ASSIGN})
    def decline(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        assignment_id: FromPath[int],
        data: Form,
    ) -> Response:
        """不予批准, with a reason."""
        return self._act(
            request,
            session,
            platform,
            assignment_id,
            ASSIGN,
            lambda principal, a: staffing.decline(session, a, data.get("reason")),
        )

    @post("/cancellation", sync_to_thread=True, opt={"action": ASSIGN})
    def cancel(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        assignment_id: FromPath[int],
        data: Form,
    ) -> Response:
        """取消排班, with a reason."""
        return self._act(
            request,
            session,
            platform,
            assignment_id,
            ASSIGN,
            lambda principal, a: staffing.cancel(platform, session, a, data.get("reason")),
        )

    @post("/withdrawal", sync_to_thread=True, opt={"action": SIGNUP})
    def withdraw(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        assignment_id: FromPath[int],
    ) -> Response:
        """The volunteer withdraws their own sign-up or shift."""
        principal = request.scope["user"]
        get_scoped(session, Assignment, assignment_id, principal, SIGNUP)
        try:
            staffing.withdraw_own(platform, session, principal, assignment_id)
            session.commit()
        except DomainError as error:
            session.rollback()
            errors, status_code, code = _refused(error)
            return OpenShiftPages.render(request, session, platform, errors, status_code, code)
        return Redirect("/me/shifts/open?withdrawn=1")


# -- the volunteer's open shifts ------------------------------------------------------------


class OpenShiftPages(Controller):
    """Shifts the signed-in volunteer may sign up for."""

    path = "/me/shifts"
    include_in_schema = False

    @staticmethod
    def render(
        request: Request,
        session: Session,
        platform: Platform,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        code: str | None = None,
        notice: str | None = None,
    ) -> Template:
        """The list (also re-rendered with a refused sign-up)."""
        principal = request.scope["user"]
        try:
            volunteer = staffing.volunteer_of(session, principal)
            rows = open_shifts(session, principal, volunteer)
        except DomainError as error:
            volunteer, rows = None, []
            errors = (errors or []) + errors_of(error)
            status_code = max(status_code, error.status)
        return Template(
            "core:tasks/open_shifts.html",
            context={
                "nav": home_page_of(platform, session, principal),
                "volunteer": volunteer,
                "rows": rows,
                "errors": errors or [],
                "code": code,
                "notice": notice,
                **common(platform),
            },
            status_code=status_code,
        )

    @get("/open", sync_to_thread=True, opt={"action": SIGNUP})
    def open_shifts(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        signed: Annotated[int | None, QueryParameter(ge=0, le=1)] = None,
        withdrawn: Annotated[int | None, QueryParameter(ge=0, le=1)] = None,
    ) -> Template:
        """Shifts of one's own unit (or above) taking sign-ups, soonest first."""
        notice = (
            text("已报名", "Signed up")
            if signed
            else (text("已撤回", "Withdrawn") if withdrawn else None)
        )
        return self.render(request, session, platform, notice=notice)


PAGES = [UnitTaskPages, TaskPages, ShiftPages, AssignmentPages, OpenShiftPages]
