"""Training pages: a unit's, a session's, and each volunteer's own.

A unit's catalogue, calendar, qualifications, plan, statistics and role requirements; one
session's roster, attendance and completion; a volunteer's trainings and quizzes.

Unit pages live under ``/units/{unit_id}/training/`` (the guard scopes them by the path's
unit); a session's page and a qualification's revocation are looked up within the caller's
reach; ``/training/my/`` is the signed-in volunteer's own, like the inbox.
"""

from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session, select

from core.access import get_scoped
from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.platform import Platform
from core.training import awards, config, progress, quizzes, sessions
from core.training.catalogue import render_content
from core.training.dates import LOCAL_TIME, local_today
from core.training.departments import DEPARTMENTS
from core.training.gates import GATED_TEAM_ROLES, required_for_role, set_requirement
from core.training.models import (
    EnrolmentChannel,
    EnrolmentStatus,
    Qualification,
    SessionStatus,
    TrainingEnrolment,
    TrainingSession,
)
from core.training.present import (
    CONFIGURE,
    ENROL,
    MANAGE,
    PLAN,
    QUALIFY,
    READ,
    catalogue_at,
    modules_of,
    own_person,
    places_taken,
    unit_names,
)
from core.training.qualifications import revoke, state_of
from core.training.records import record_of
from core.units.models import Unit
from core.volunteers.models import Volunteer
from core.volunteers.profile import ROLE_LABELS
from core.web.auth import AUTHENTICATED
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import errors_of
from core.web.navigation import home_page_of, unit_page

Form = URLEncodedBody[dict[str, str]]
Year = Annotated[int | None, QueryParameter(ge=2000, le=2100)]
PAGE = 50
STATE_LABELS = {
    "valid": Label("有效", "Valid"),
    "expiring": Label("即将到期", "Expiring soon"),
    "expired": Label("已过期", "Expired"),
    "revoked": Label("已撤销", "Revoked"),
    "pending": Label("尚未生效", "Not yet in force"),
}
SESSION_STATUS_LABELS = {
    SessionStatus.scheduled: Label("已排期", "Scheduled"),
    SessionStatus.completed: Label("已结业", "Completed"),
    SessionStatus.cancelled: Label("已取消", "Cancelled"),
}
SOURCE_LABELS = {
    "session": Label("参加培训", "Session"),
    "manual": Label("人工认定", "Granted by hand"),
    "import": Label("历史导入", "Imported"),
}


def vocabulary(platform: Platform) -> dict[str, Any]:
    """The names every training page shows."""
    return {
        "departments": DEPARTMENTS,
        "metrics": progress.METRICS,
        "state_labels": STATE_LABELS,
        "session_statuses": SESSION_STATUS_LABELS,
        "sources": SOURCE_LABELS,
        "all_modules": platform.plugins.training_modules,
        "local": lambda moment: moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M"),
        "role_label": lambda role: _role_label(platform, role),
    }


def _role_label(platform: Platform, role: str) -> str:
    team = {member.value: label for member, label in ROLE_LABELS.items()}
    found = team.get(role) or getattr(platform.plugins.roles.get(role), "label", None)
    return text(found.zh, found.en) if found else role


def _local_input(value: str | None, field: str, errors: list[FieldError]) -> datetime | None:
    """A ``datetime-local`` input read as China time."""
    if not value:
        errors.append(FieldError(field, "required", text("必填", "is required")))
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=LOCAL_TIME)
    except ValueError:
        errors.append(
            FieldError(field, "datetime", text("时间格式不正确", "is not a date and time"))
        )
        return None


def _date_input(value: str | None, field: str, errors: list[FieldError]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, "date", text("日期格式不正确", "is not a date")))
        return None


def _int_input(value: str | None, field: str, errors: list[FieldError]) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        errors.append(FieldError(field, "int", text("须为整数", "must be a whole number")))
        return None


def _volunteer_by_number(session: Session, unit: Unit, number: str) -> Volunteer | None:
    volunteer = session.exec(select(Volunteer).where(Volunteer.number == number.strip())).first()
    return volunteer if volunteer and volunteer.unit_path.startswith(unit.path) else None


class UnitTrainingPages(Controller):
    """A unit's training pages."""

    path = "/units/{unit_id:int}/training"
    include_in_schema = False

    def _render(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        template: str,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        principal = request.scope["user"]
        return Template(
            f"core:training/{template}",
            context={
                "page": unit_page(platform, session, unit, principal),
                "can": {
                    name: principal.can(action, unit)
                    for name, action in (
                        ("manage", MANAGE),
                        ("enrol", ENROL),
                        ("plan", PLAN),
                        ("qualify", QUALIFY),
                        ("configure", CONFIGURE),
                    )
                },
                **vocabulary(platform),
                **context,
            },
            status_code=status_code,
        )

    @get("/", sync_to_thread=True, opt={"action": READ})
    def catalogue(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """The modules taught at the unit."""
        modules = platform.training_modules(session, unit)
        owners = {name: platform.plugins.meta(name).label for name in platform.plugins.names}
        return self._render(
            request, session, platform, unit, "catalogue.html", modules=modules, owners=owners
        )

    @get("/modules/{code:str}", sync_to_thread=True, opt={"action": READ})
    def module(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        code: FromPath[str],
    ) -> Template:
        """A module's page: what it covers, who teaches it, its content."""
        module = catalogue_at(platform, session, unit).get(code)
        if module is None:
            raise NotFoundException(f"no training module {code} here")
        folder = platform.plugins.folders("training")[platform.plugins.owner_of(code)]
        return self._render(
            request,
            session,
            platform,
            unit,
            "module.html",
            module=module,
            content=render_content(folder, module),
            back=f"/units/{unit.id}/training/",
        )

    def _calendar(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        *,
        errors: list[FieldError] | None = None,
        form: dict[str, str] | None = None,
        status_code: int = 200,
        show: str = "upcoming",
    ) -> Template:
        today_start = datetime.combine(local_today(), datetime.min.time(), LOCAL_TIME)
        found = sessions.sessions_at(
            session,
            unit,
            starts_from=today_start if show == "upcoming" else None,
            starts_before=None if show == "upcoming" else today_start,
            limit=200,
        )
        if show != "upcoming":
            found.reverse()
        principal = request.scope["user"]
        return self._render(
            request,
            session,
            platform,
            unit,
            "sessions.html",
            status_code=status_code,
            sessions=found,
            modules=modules_of(session, found),
            taken=places_taken(session, found),
            unit_names=unit_names(session, {training.unit_id for training in found}),
            visible={training.id for training in found if principal.can(READ, training.unit_path)},
            catalogue=platform.training_modules(session, unit),
            errors=errors or [],
            form=form or {},
            show=show,
        )

    @get("/sessions", sync_to_thread=True, opt={"action": READ})
    def calendar(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        show: Annotated[str, QueryParameter(pattern="^(upcoming|past)$")] = "upcoming",
    ) -> Template:
        """The calendar: sessions open to the unit's people and those held below it."""
        return self._calendar(request, session, platform, unit, show=show)

    @post("/sessions", sync_to_thread=True, opt={"action": MANAGE})
    def schedule(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Schedule a session from the form."""
        errors: list[FieldError] = []
        starts_at = _local_input(data.get("starts_at"), "starts_at", errors)
        ends_at = _local_input(data.get("ends_at"), "ends_at", errors)
        capacity = _int_input(data.get("capacity"), "capacity", errors)
        place = data.get("place", "").strip()
        if not place:
            errors.append(FieldError("place", "required", text("必填", "is required")))
        status_code = 400
        if not errors:
            plan = sessions.SessionPlan(
                title=data.get("title", "")[:100],
                department=data.get("department", ""),
                modules=[key[7:] for key in data if key.startswith("module.")],
                starts_at=starts_at,
                ends_at=ends_at,
                place=place[:200],
                capacity=capacity,
                online=data.get("online") == "1",
                note=data.get("note", "").strip()[:500] or None,
            )
            try:
                training = sessions.schedule(
                    session,
                    unit,
                    catalogue_at(platform, session, unit),
                    plan,
                    request.scope["user"].user_id,
                )
                session.commit()
                return Redirect(f"/training/sessions/{training.id}")
            except DomainError as error:
                session.rollback()
                errors, status_code = errors_of(error), error.status
        return self._calendar(
            request, session, platform, unit, errors=errors, form=data, status_code=status_code
        )

    @post("/enrolments", sync_to_thread=True, opt={"action": ENROL})
    def enrol(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Enrol a volunteer of the unit, by volunteer number, in a session open to them."""
        errors: list[FieldError] = []
        session_id = _int_input(data.get("session_id"), "session_id", errors)
        volunteer = _volunteer_by_number(session, unit, data.get("volunteer_number", ""))
        training = session.get(TrainingSession, session_id) if session_id else None
        if volunteer is None:
            message = text("本单位没有这个志愿者编号", "No volunteer with this number here")
            errors.append(FieldError("volunteer_number", "unknown", message))
        if session_id and training is None:
            errors.append(
                FieldError("session_id", "unknown", text("没有这个场次", "No such session"))
            )
        status_code = 400
        if not errors:
            try:
                sessions.enrol(
                    session,
                    training,
                    session.get(Person, volunteer.person_id),
                    channel=EnrolmentChannel.leader,
                    by_user_id=request.scope["user"].user_id,
                )
                session.commit()
                return Redirect(f"/units/{unit.id}/training/sessions?enrolled={training.id}")
            except DomainError as error:
                session.rollback()
                errors, status_code = errors_of(error), error.status
        return self._calendar(
            request, session, platform, unit, errors=errors, form=data, status_code=status_code
        )

    def _qualifications(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        *,
        module: str | None = None,
        state: str | None = None,
        page_number: int = 1,
        errors: list[FieldError] | None = None,
        form: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        today = local_today()
        rows = awards.qualifications_under(
            session,
            unit,
            module_code=module,
            state=state,
            on=today,
            limit=PAGE + 1,
            offset=(page_number - 1) * PAGE,
        )
        return self._render(
            request,
            session,
            platform,
            unit,
            "qualifications.html",
            status_code=status_code,
            rows=[(row, person, state_of(row, today)) for row, person in rows[:PAGE]],
            more=len(rows) > PAGE,
            page_number=page_number,
            filter={"module": module or "", "state": state or ""},
            catalogue=platform.training_modules(session, unit),
            errors=errors or [],
            form=form or {},
            today=today,
        )

    @get("/qualifications", sync_to_thread=True, opt={"action": READ})
    def qualifications(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        module: Annotated[str | None, QueryParameter(max_length=64)] = None,
        standing: Annotated[
            str | None,
            QueryParameter(name="state", pattern="^(valid|expiring|expired|revoked)?$"),
        ] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """Qualifications of the unit's people, filterable."""
        return self._qualifications(
            request,
            session,
            platform,
            unit,
            module=module or None,
            state=standing or None,
            page_number=page,
        )

    @post("/qualifications", sync_to_thread=True, opt={"action": QUALIFY})
    def grant(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Grant a module by hand to a volunteer of the unit, with a reason."""
        errors: list[FieldError] = []
        volunteer = _volunteer_by_number(session, unit, data.get("volunteer_number", ""))
        granted_on = _date_input(data.get("granted_on"), "granted_on", errors)
        reason = data.get("reason", "").strip()
        if volunteer is None:
            message = text("本单位没有这个志愿者编号", "No volunteer with this number here")
            errors.append(FieldError("volunteer_number", "unknown", message))
        if len(reason) < 2:
            errors.append(FieldError("reason", "required", text("请填写理由", "Give a reason")))
        status_code = 400
        if not errors:
            try:
                awards.grant_manually(
                    session,
                    unit,
                    catalogue_at(platform, session, unit),
                    volunteer.person_id,
                    data.get("module_code", ""),
                    granted_on,
                    reason[:500],
                    request.scope["user"].user_id,
                )
                session.commit()
                return Redirect(f"/units/{unit.id}/training/qualifications")
            except DomainError as error:
                session.rollback()
                errors, status_code = errors_of(error), error.status
        return self._qualifications(
            request, session, platform, unit, errors=errors, form=data, status_code=status_code
        )

    def _plan(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        year: int,
        *,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
    ) -> Template:
        found = progress.plan_progress(session, unit, year)
        return self._render(
            request,
            session,
            platform,
            unit,
            "plan.html",
            status_code=status_code,
            progress=found,
            year=year,
            catalogue=platform.training_modules(session, unit),
            errors=errors or [],
            blank_rows=range(len(found.targets), len(found.targets) + 3),
        )

    @get("/plan", sync_to_thread=True, opt={"action": READ})
    def plan(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        year: Year = None,
    ) -> Template:
        """The unit's annual plan, its progress and its children's."""
        return self._plan(request, session, platform, unit, year or local_today().year)

    @post("/plan", sync_to_thread=True, opt={"action": PLAN})
    def set_plan(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Replace the unit's targets for the year from the form's rows."""
        errors: list[FieldError] = []
        year = _int_input(data.get("year"), "year", errors) or local_today().year
        targets = []
        index = 0
        while f"metric.{index}" in data:
            metric = data.get(f"metric.{index}", "")
            amount = data.get(f"target.{index}", "").strip()
            if metric and amount:
                number = _int_input(amount, f"targets[{index}].target", errors)
                if number is not None and number >= 1:
                    targets.append(
                        progress.TargetInput(
                            metric=metric,
                            target=number,
                            module_code=data.get(f"module.{index}") or None,
                        )
                    )
                elif number is not None:
                    errors.append(
                        FieldError(
                            f"targets[{index}].target", "min", text("须大于 0", "must be > 0")
                        )
                    )
            index += 1
        status_code = 400
        if not errors and 2000 <= year <= 2100:
            try:
                progress.set_plan(
                    session,
                    unit,
                    year,
                    targets,
                    catalogue_at(platform, session, unit),
                    data.get("note", "").strip()[:500] or None,
                    request.scope["user"].user_id,
                )
                session.commit()
                return Redirect(f"/units/{unit.id}/training/plan?year={year}")
            except DomainError as error:
                session.rollback()
                errors, status_code = errors_of(error), error.status
        elif not errors:
            errors = [FieldError("year", "range", text("年份超出范围", "The year is out of range"))]
        return self._plan(
            request,
            session,
            platform,
            unit,
            local_today().year,
            errors=errors,
            status_code=status_code,
        )

    @get("/statistics", sync_to_thread=True, opt={"action": READ})
    def statistics(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        year: Year = None,
    ) -> Template:
        """Completion per module and per child unit over a year."""
        wanted, today = year or local_today().year, local_today()
        catalogue = platform.training_modules(session, unit)
        return self._render(
            request,
            session,
            platform,
            unit,
            "statistics.html",
            year=wanted,
            modules=progress.module_statistics(
                session, unit, wanted, [m.code for m in catalogue], today
            ),
            units=progress.unit_statistics(session, unit, wanted, today),
        )

    def _requirements(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        *,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
    ) -> Template:
        today = local_today()
        catalogue = platform.training_modules(session, unit)
        roles = [*GATED_TEAM_ROLES, *platform.plugins.roles]
        history = config.history(session, unit, config.REQUIREMENTS)
        return self._render(
            request,
            session,
            platform,
            unit,
            "requirements.html",
            status_code=status_code,
            roles=roles,
            effective={
                role: required_for_role(session, catalogue, unit, role, today) for role in roles
            },
            history=[(row, row.key.removeprefix(config.REQUIREMENTS)) for row in history],
            catalogue=catalogue,
            errors=errors or [],
            today=today,
        )

    @get("/requirements", sync_to_thread=True, opt={"action": READ})
    def requirements(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """What each role requires here, and the versions set at this unit."""
        return self._requirements(request, session, platform, unit)

    @post("/requirements", sync_to_thread=True, opt={"action": CONFIGURE})
    def set_requirement(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """From a date, a role requires the modules ticked (none: clears this unit's)."""
        errors: list[FieldError] = []
        valid_from = _date_input(data.get("valid_from"), "valid_from", errors)
        if valid_from is None and not errors:
            errors.append(FieldError("valid_from", "required", text("必填", "is required")))
        status_code = 400
        if not errors:
            try:
                set_requirement(
                    session,
                    unit,
                    data.get("role", ""),
                    [key[7:] for key in data if key.startswith("module.")],
                    valid_from,
                    request.scope["user"].user_id,
                    roles=[*GATED_TEAM_ROLES, *platform.plugins.roles],
                    catalogue=catalogue_at(platform, session, unit),
                )
                session.commit()
                return Redirect(f"/units/{unit.id}/training/requirements")
            except DomainError as error:
                session.rollback()
                errors, status_code = errors_of(error), error.status
        return self._requirements(
            request, session, platform, unit, errors=errors, status_code=status_code
        )


class SessionPages(Controller):
    """One session's page: details, roster, attendance, completion."""

    path = "/training"
    include_in_schema = False

    def _page(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        training: TrainingSession,
        *,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
    ) -> Template:
        principal = request.scope["user"]
        unit = session.get(Unit, training.unit_id)
        may_manage = principal.can(MANAGE, training.unit_path)
        codes = sessions.module_codes(session, training)
        roster = []
        if may_manage:
            for enrolment, person in sessions.enrolments(session, training):
                results = {code: quizzes.attempts(session, enrolment, code) for code in codes}
                roster.append((enrolment, person, results))
        now = datetime.now(LOCAL_TIME)
        return Template(
            "core:training/session.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "training": training,
                "codes": codes,
                "roster": roster,
                "taken": sessions.enrolled_count(session, training),
                "may_manage": may_manage,
                "started": now >= training.starts_at,
                "errors": errors or [],
                **vocabulary(platform),
            },
            status_code=status_code,
        )

    @get("/sessions/{session_id:int}", sync_to_thread=True, opt={"action": READ})
    def detail(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        session_id: FromPath[int],
    ) -> Template:
        """A session: when, where, what, who."""
        training = get_scoped(session, TrainingSession, session_id, request.scope["user"], READ)
        return self._page(request, session, platform, training)

    def _act(self, request, session, platform, session_id, run) -> Response:
        training = get_scoped(session, TrainingSession, session_id, request.scope["user"], MANAGE)
        try:
            run(training)
            session.commit()
            return Redirect(f"/training/sessions/{training.id}")
        except DomainError as error:
            session.rollback()
            return self._page(
                request,
                session,
                platform,
                training,
                errors=errors_of(error),
                status_code=error.status,
            )

    @post("/sessions/{session_id:int}/attendance", sync_to_thread=True, opt={"action": MANAGE})
    def attendance(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        session_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Record attendance: every listed enrolment, ticked present or not."""
        listed = [key[10:] for key in data if key.startswith("enrolment.")]
        marks = {int(key): data.get(f"attended.{key}") == "1" for key in listed if key.isdigit()}
        user_id = request.scope["user"].user_id

        def run(training):
            if not marks:
                message = text("名单为空", "Nobody to mark")
                raise DomainError(
                    message, "validation_failed", 400, [FieldError("records", "required", message)]
                )
            sessions.record_attendance(session, training, marks, user_id)

        return self._act(request, session, platform, session_id, run)

    @post("/sessions/{session_id:int}/completion", sync_to_thread=True, opt={"action": MANAGE})
    def complete(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        session_id: FromPath[int],
    ) -> Response:
        """Complete the session and grant what attendants earned."""
        user_id = request.scope["user"].user_id
        return self._act(
            request,
            session,
            platform,
            session_id,
            lambda training: sessions.complete(
                session, training, platform.plugins.training_modules, user_id
            ),
        )

    @post("/sessions/{session_id:int}/cancellation", sync_to_thread=True, opt={"action": MANAGE})
    def cancel(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        session_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Cancel the session, with a reason."""
        reason = data.get("reason", "").strip()[:500]
        user_id = request.scope["user"].user_id

        def run(training):
            if len(reason) < 2:
                message = text("请填写取消原因", "Give a reason")
                raise DomainError(
                    message, "validation_failed", 400, [FieldError("reason", "required", message)]
                )
            sessions.cancel(session, training, reason, user_id)

        return self._act(request, session, platform, session_id, run)

    @post(
        "/sessions/{session_id:int}/enrolments/{enrolment_id:int}/cancellation",
        sync_to_thread=True,
        opt={"action": MANAGE},
    )
    def cancel_enrolment(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        session_id: FromPath[int],
        enrolment_id: FromPath[int],
    ) -> Response:
        """Take someone off the roster."""

        def run(training):
            enrolment = session.get(TrainingEnrolment, enrolment_id)
            if enrolment is None or enrolment.session_id != training.id:
                raise NotFoundException(f"enrolment {enrolment_id} not found")
            sessions.cancel_enrolment(session, training, enrolment, by_self=False)

        return self._act(request, session, platform, session_id, run)

    @post(
        "/qualifications/{qualification_id:int}/revocation",
        sync_to_thread=True,
        opt={"action": QUALIFY},
    )
    def revoke(
        self,
        request: Request,
        session: SessionDep,
        qualification_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Revoke a qualification with a reason, then back to the holder's unit list."""
        principal = request.scope["user"]
        row = get_scoped(session, Qualification, qualification_id, principal, QUALIFY)
        reason = data.get("reason", "").strip()[:500]
        unit_id = int(row.unit_path.rstrip(".").rsplit(".", 1)[-1])
        target = f"/units/{unit_id}/training/qualifications"
        if len(reason) < 2:
            return Redirect(target + "?error=reason")
        try:
            revoke(session, row, reason, principal.user_id)
            session.commit()
        except DomainError:
            session.rollback()
        return Redirect(target)


class MyTrainingPages(Controller):
    """The signed-in volunteer's own trainings, enrolments and quizzes."""

    path = "/training/my"
    include_in_schema = False

    def _mine(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        *,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
    ) -> Template:
        principal = request.scope["user"]
        try:
            person, volunteer = own_person(session, principal)
        except DomainError:  # a staff account of nobody: nothing to show, nothing wrong
            return Template(
                "core:training/my.html",
                context={
                    "nav": home_page_of(platform, session, principal),
                    "person": None,
                    "errors": [],
                },
            )
        today = local_today()
        record = record_of(session, person.id, date(today.year, 1, 1), today)
        path = volunteer.unit_path if volunteer else person.unit_path
        open_now = sessions.open_sessions_for(session, path)
        enrolled = {
            line.training.id
            for line in record.enrolments
            if line.enrolment.status == EnrolmentStatus.enrolled
        }
        now = datetime.now(LOCAL_TIME)
        return Template(
            "core:training/my.html",
            context={
                "nav": home_page_of(platform, session, principal),
                "person": person,
                "volunteer": volunteer,
                "record": record,
                "states": {row.id: state_of(row, today) for row in record.qualifications},
                "open_sessions": [t for t in open_now if t.id not in enrolled],
                "modules": modules_of(
                    session, [line.training for line in record.enrolments] + open_now
                ),
                "taken": places_taken(session, open_now),
                "now": now,
                "errors": errors or [],
                **vocabulary(platform),
            },
            status_code=status_code,
        )

    @get("/", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def mine(self, request: Request, session: SessionDep, platform: PlatformDep) -> Template:
        """My trainings and qualifications."""
        return self._mine(request, session, platform)

    @post("/enrolments", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def enrol(
        self, request: Request, session: SessionDep, platform: PlatformDep, data: Form
    ) -> Response:
        """Enrol myself in a session open to me."""
        principal = request.scope["user"]
        person, _ = own_person(session, principal)
        errors: list[FieldError] = []
        session_id = _int_input(data.get("session_id"), "session_id", errors)
        training = session.get(TrainingSession, session_id) if session_id else None
        if session_id and training is None:
            errors.append(
                FieldError("session_id", "unknown", text("没有这个场次", "No such session"))
            )
        status_code = 400
        if not errors:
            try:
                sessions.enrol(
                    session,
                    training,
                    person,
                    channel=EnrolmentChannel.self,
                    by_user_id=principal.user_id,
                )
                session.commit()
                return Redirect("/training/my/")
            except DomainError as error:
                session.rollback()
                errors, status_code = errors_of(error), error.status
        return self._mine(request, session, platform, errors=errors, status_code=status_code)

    def _own(self, session: Session, principal, enrolment_id: int):
        person, volunteer = own_person(session, principal)
        enrolment = session.get(TrainingEnrolment, enrolment_id)
        if enrolment is None or enrolment.person_id != person.id:
            raise NotFoundException(f"enrolment {enrolment_id} not found")
        return enrolment, session.get(TrainingSession, enrolment.session_id), volunteer

    @post(
        "/enrolments/{enrolment_id:int}/cancellation",
        sync_to_thread=True,
        opt={"action": AUTHENTICATED},
    )
    def cancel(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        enrolment_id: FromPath[int],
    ) -> Response:
        """Give my place back."""
        enrolment, training, _ = self._own(session, request.scope["user"], enrolment_id)
        try:
            sessions.cancel_enrolment(session, training, enrolment, by_self=True)
            session.commit()
        except DomainError as error:
            session.rollback()
            return self._mine(
                request, session, platform, errors=errors_of(error), status_code=error.status
            )
        return Redirect("/training/my/")

    @get("/modules/{code:str}", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def module(
        self, request: Request, session: SessionDep, platform: PlatformDep, code: FromPath[str]
    ) -> Template:
        """A module's page, for a module taught where I volunteer."""
        principal = request.scope["user"]
        person, volunteer = own_person(session, principal)
        unit = session.get(Unit, volunteer.unit_id if volunteer else person.unit_id)
        module = catalogue_at(platform, session, unit).get(code)
        if module is None:
            raise NotFoundException(f"no training module {code} here")
        folder = platform.plugins.folders("training")[platform.plugins.owner_of(code)]
        return Template(
            "core:training/module.html",
            context={
                "nav": home_page_of(platform, session, principal),
                "module": module,
                "content": render_content(folder, module),
                "back": "/training/my/",
                **vocabulary(platform),
            },
        )

    def _quiz(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        enrolment_id: int,
        code: str,
        *,
        result: quizzes.QuizResult | None = None,
        errors: list[FieldError] | None = None,
        chosen: dict[int, list[int]] | None = None,
        status_code: int = 200,
    ) -> Template:
        principal = request.scope["user"]
        enrolment, training, _ = self._own(session, principal, enrolment_id)
        module = platform.plugins.training_modules.get(code)
        quiz = quizzes.quiz_of(session, training, enrolment, module, code)
        taken = quizzes.attempts(session, enrolment, code)
        passed = any(attempt.passed for attempt in taken)
        return Template(
            "core:training/quiz.html",
            context={
                "nav": home_page_of(platform, session, principal),
                "training": training,
                "enrolment": enrolment,
                "module": module,
                "quiz": quiz,
                "taken": taken,
                "passed": passed,
                "left": 0 if passed else max(0, quiz.max_attempts - len(taken)),
                "result": result,
                "chosen": chosen or {},
                "errors": errors or [],
                **vocabulary(platform),
            },
            status_code=status_code,
        )

    @get(
        "/enrolments/{enrolment_id:int}/quiz/{code:str}",
        sync_to_thread=True,
        opt={"action": AUTHENTICATED},
    )
    def quiz(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        enrolment_id: FromPath[int],
        code: FromPath[str],
    ) -> Template:
        """A module's quiz, to sit on this page."""
        return self._quiz(request, session, platform, enrolment_id, code)

    @post(
        "/enrolments/{enrolment_id:int}/quiz/{code:str}",
        sync_to_thread=True,
        opt={"action": AUTHENTICATED},
    )
    def answer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        enrolment_id: FromPath[int],
        code: FromPath[str],
        data: Form,
    ) -> Template:
        """Sit the quiz: radios ``q<i>`` for single answers, boxes ``q<i>.<choice>`` for more."""
        enrolment, training, _ = self._own(session, request.scope["user"], enrolment_id)
        catalogue = platform.plugins.training_modules
        module = catalogue.get(code)
        quiz = quizzes.quiz_of(session, training, enrolment, module, code)
        chosen: dict[int, list[int]] = {}
        for index in range(len(quiz.questions)):
            picks = []
            single = data.get(f"q{index}", "")
            if single.isdigit():
                picks.append(int(single))
            prefix = f"q{index}."
            picks += [
                int(key[len(prefix) :])
                for key in data
                if key.startswith(prefix) and key[len(prefix) :].isdigit()
            ]
            chosen[index] = picks
        try:
            result = quizzes.take(
                session,
                training,
                enrolment,
                module,
                code,
                [chosen[index] for index in range(len(quiz.questions))],
                catalogue,
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            return self._quiz(
                request,
                session,
                platform,
                enrolment_id,
                code,
                errors=errors_of(error),
                chosen=chosen,
                status_code=error.status,
            )
        return self._quiz(request, session, platform, enrolment_id, code, result=result)


PAGES: list = [UnitTrainingPages, SessionPages, MyTrainingPages]
