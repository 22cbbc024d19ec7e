"""The training API.

* ``/api/v1/units/{unit_id}/training/…`` — a unit's catalogue, calendar, enrolments by a
  leader, qualifications, plan, statistics and role requirements (scoped by the guard);
* ``/api/v1/training/sessions/{id}`` and ``/api/v1/training/qualifications/{id}`` — one
  session or qualification, looked up within the caller's reach of the action;
* ``/api/v1/people/{person_id}/training`` — a person's record and training hours;
* ``/api/v1/training/me`` — the caller's own trainings, self-enrolment and quizzes (any
  signed-in account that belongs to a volunteer).
"""

from datetime import date
from typing import Annotated

from litestar import Controller, Request, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlmodel import Session

from core.access import get_scoped
from core.contributions import TrainingModule
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.platform import Platform
from core.training import awards, config, progress, quizzes, sessions
from core.training.catalogue import render_content, title_of
from core.training.dates import days_bounds, local_today
from core.training.gates import GATED_TEAM_ROLES, required_for_role, set_requirement
from core.training.models import (
    EnrolmentChannel,
    Qualification,
    SessionStatus,
    TrainingEnrolment,
    TrainingSession,
)
from core.training.pages import PAGES
from core.training.present import (
    CONFIGURE,
    ENROL,
    MANAGE,
    PLAN,
    QUALIFY,
    READ,
    catalogue_at,
    enrolment_read,
    own_person,
    qualification_read,
    record_read,
    session_reads,
)
from core.training.qualifications import revoke
from core.training.records import record_of
from core.training.schemas import (
    AttendanceRecord,
    ChildPlanRead,
    ChildTargetRead,
    EnrolmentCreate,
    ImportResult,
    ModuleDetail,
    ModuleRead,
    ModuleStatisticsRead,
    MyTrainingRead,
    PersonTrainingRead,
    PlanInput,
    PlanRead,
    QualificationGrant,
    QualificationImport,
    QualificationRead,
    QuestionRead,
    QuizAnswers,
    QuizRead,
    QuizResultRead,
    ReasonInput,
    RequirementInput,
    RequirementRead,
    RequirementVersion,
    SelfEnrolmentCreate,
    SessionCreate,
    SessionDetail,
    SessionRead,
    StatisticsRead,
    TargetRead,
    UnitStatisticsRead,
    label_read,
    module_read,
)
from core.units.models import Unit
from core.web.auth import AUTHENTICATED
from core.web.deps import Limit, Offset, PlatformDep, SessionDep, UnitDep

Year = Annotated[int | None, QueryParameter(ge=2000, le=2100, description="Default: this year")]
Code = FromPath[str]


def module_in(catalogue: dict[str, TrainingModule], code: str) -> TrainingModule:
    """A module of the catalogue, or 404."""
    module = catalogue.get(code)
    if module is None:
        raise NotFoundException(f"no training module {code} here")
    return module


def session_detail(session: Session, training: TrainingSession, with_roster: bool) -> SessionDetail:
    """A session with its roster when the caller may see it."""
    base = session_reads(session, [training])[0]
    roster = []
    if with_roster:
        codes = sessions.module_codes(session, training)
        for enrolment, person in sessions.enrolments(session, training):
            tries = [a for code in codes for a in quizzes.attempts(session, enrolment, code)]
            roster.append(enrolment_read(enrolment, person.name, tries))
    return SessionDetail(**base.model_dump(), enrolments=roster)


class UnitTrainingController(Controller):
    """A unit's training: catalogue, calendar, enrolment, qualifications, plan, statistics."""

    path = "/api/v1/units/{unit_id:int}/training"
    tags = ["training"]

    @get("/modules", sync_to_thread=True, operation_id="ListTrainingModules", opt={"action": READ})
    def modules(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> list[ModuleRead]:
        """The catalogue at the unit: core's modules and those of the plugins enabled there."""
        return [module_read(m) for m in platform.training_modules(session, unit)]

    @get(
        "/modules/{code:str}",
        sync_to_thread=True,
        operation_id="GetTrainingModule",
        opt={"action": READ},
    )
    def module(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep, code: Code
    ) -> ModuleDetail:
        """One module with its content (404 where its plugin is off)."""
        module = module_in(catalogue_at(platform, session, unit), code)
        folder = platform.plugins.folders("training")[platform.plugins.owner_of(code)]
        if module.content.endswith(".md"):
            kind, content = "text/markdown", (folder / module.content).read_text(encoding="utf-8")
        else:
            kind, content = "text/html", str(render_content(folder, module))
        return ModuleDetail(**module_read(module).model_dump(), content_type=kind, content=content)

    @get(
        "/sessions", sync_to_thread=True, operation_id="ListTrainingSessions", opt={"action": READ}
    )
    def calendar(
        self,
        session: SessionDep,
        unit: UnitDep,
        start: Annotated[date | None, QueryParameter(description="First day (local)")] = None,
        end: Annotated[date | None, QueryParameter(description="Last day (local)")] = None,
        status: Annotated[SessionStatus | None, QueryParameter()] = None,
        limit: Limit = 200,
        offset: Offset = 0,
    ) -> list[SessionRead]:
        """Sessions held by the unit, the units above it (open to its people) and below it."""
        low = days_bounds(start, start)[0] if start else None
        high = days_bounds(end, end)[1] if end else None
        found = sessions.sessions_at(
            session,
            unit,
            starts_from=low,
            starts_before=high,
            status=status,
            limit=limit,
            offset=offset,
        )
        return session_reads(session, found)

    @post(
        "/sessions",
        sync_to_thread=True,
        operation_id="ScheduleTrainingSession",
        opt={"action": MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def schedule(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[SessionCreate],
    ) -> SessionDetail:
        """Schedule a session of modules of the unit's catalogue."""
        training = sessions.schedule(
            session,
            unit,
            catalogue_at(platform, session, unit),
            sessions.SessionPlan(**data.model_dump()),
            request.scope["user"].user_id,
        )
        session.commit()
        return session_detail(session, training, True)

    @post(
        "/enrolments",
        sync_to_thread=True,
        operation_id="EnrolVolunteer",
        opt={"action": ENROL},
        status_code=HTTP_201_CREATED,
    )
    def enrol(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[EnrolmentCreate]
    ) -> SessionDetail:
        """Enrol a volunteer of the unit (subtree) in a session open to them."""
        person = awards.person_under(session, unit, data.person_id)
        training = session.get(TrainingSession, data.session_id)
        if person is None:
            message = text("本单位没有这个人员", "No such person in this unit")
            raise DomainError(
                message, "not_found", 404, [FieldError("person_id", "unknown", message)]
            )
        if training is None:
            message = text("没有这个培训场次", "No such session")
            raise DomainError(
                message, "not_found", 404, [FieldError("session_id", "unknown", message)]
            )
        sessions.enrol(
            session,
            training,
            person,
            channel=EnrolmentChannel.leader,
            by_user_id=request.scope["user"].user_id,
        )
        session.commit()
        principal = request.scope["user"]
        return session_detail(session, training, principal.can(MANAGE, training.unit_path))

    @get(
        "/qualifications",
        sync_to_thread=True,
        operation_id="ListQualifications",
        opt={"action": READ},
    )
    def qualifications(
        self,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        module: Annotated[str | None, QueryParameter(max_length=64)] = None,
        standing: Annotated[
            str | None,
            QueryParameter(name="state", pattern="^(valid|expiring|expired|revoked)$"),
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[QualificationRead]:
        """Qualifications of people of the unit's subtree, latest first."""
        today = local_today()
        rows = awards.qualifications_under(
            session, unit, module_code=module, state=standing, on=today, limit=limit, offset=offset
        )
        catalogue = platform.plugins.training_modules
        return [qualification_read(row, catalogue, today, person.name) for row, person in rows]

    @post(
        "/qualifications",
        sync_to_thread=True,
        operation_id="GrantQualification",
        opt={"action": QUALIFY},
        status_code=HTTP_201_CREATED,
    )
    def grant(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[QualificationGrant],
    ) -> QualificationRead:
        """Grant a module to a person of the unit by hand, with a reason (the approver is you)."""
        catalogue = catalogue_at(platform, session, unit)
        row = awards.grant_manually(
            session,
            unit,
            catalogue,
            data.person_id,
            data.module_code,
            data.granted_on,
            data.reason,
            request.scope["user"].user_id,
        )
        session.commit()
        person = session.get(Person, row.person_id)
        return qualification_read(row, catalogue, local_today(), person.name)

    @post(
        "/qualifications/import",
        sync_to_thread=True,
        operation_id="ImportQualifications",
        opt={"action": QUALIFY},
        status_code=HTTP_201_CREATED,
    )
    def import_qualifications(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[QualificationImport],
    ) -> ImportResult:
        """Carry qualifications over from earlier records (all rows or none)."""
        rows = [awards.ImportRow(**row.model_dump()) for row in data.rows]
        granted = awards.import_rows(
            session,
            unit,
            catalogue_at(platform, session, unit),
            rows,
            data.reason,
            request.scope["user"].user_id,
        )
        session.commit()
        return ImportResult(imported=len(granted))

    @get("/plan", sync_to_thread=True, operation_id="GetTrainingPlan", opt={"action": READ})
    def plan(self, session: SessionDep, unit: UnitDep, year: Year = None) -> PlanRead:
        """The unit's plan for a year, its progress and its children's share."""
        return plan_read(session, unit, year or local_today().year)

    @put("/plan", sync_to_thread=True, operation_id="SetTrainingPlan", opt={"action": PLAN})
    def set_plan(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[PlanInput],
        year: Year = None,
    ) -> PlanRead:
        """Replace the unit's targets for a year."""
        wanted = year or local_today().year
        progress.set_plan(
            session,
            unit,
            wanted,
            [progress.TargetInput(**target.model_dump()) for target in data.targets],
            catalogue_at(platform, session, unit),
            data.note,
            request.scope["user"].user_id,
        )
        session.commit()
        return plan_read(session, unit, wanted)

    @get(
        "/statistics",
        sync_to_thread=True,
        operation_id="GetTrainingStatistics",
        opt={"action": READ},
    )
    def statistics(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep, year: Year = None
    ) -> StatisticsRead:
        """Completion per module and per child unit over a year."""
        wanted, today = year or local_today().year, local_today()
        catalogue = catalogue_at(platform, session, unit)
        modules = progress.module_statistics(session, unit, wanted, list(catalogue), today)
        units = progress.unit_statistics(session, unit, wanted, today)
        return StatisticsRead(
            unit_id=unit.id,
            year=wanted,
            modules=[
                ModuleStatisticsRead(
                    code=row.code,
                    title=label_read(title_of(catalogue, row.code)),
                    sessions=row.sessions,
                    trainees=row.trainees,
                    qualified=row.qualified,
                    holders=row.holders,
                )
                for row in modules
            ],
            units=[
                UnitStatisticsRead(
                    unit_id=row.unit.id,
                    name=row.unit.name,
                    volunteers=row.volunteers,
                    holders=row.holders,
                    trainees=row.trainees,
                    qualified=row.qualified,
                    hours=row.hours,
                )
                for row in units
            ],
        )

    @get(
        "/requirements",
        sync_to_thread=True,
        operation_id="ListTrainingRequirements",
        opt={"action": READ},
    )
    def requirements(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> list[RequirementRead]:
        """What each role requires at the unit today, and the versions set at the unit."""
        return requirement_reads(session, platform, unit)

    @post(
        "/requirements",
        sync_to_thread=True,
        operation_id="SetTrainingRequirement",
        opt={"action": CONFIGURE},
        status_code=HTTP_201_CREATED,
    )
    def set_requirement(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[RequirementInput],
    ) -> list[RequirementRead]:
        """From a date, a role requires these modules here and below (an empty list clears)."""
        set_requirement(
            session,
            unit,
            data.role,
            data.modules,
            data.valid_from,
            request.scope["user"].user_id,
            roles=roles_known(platform),
            catalogue=catalogue_at(platform, session, unit),
        )
        session.commit()
        return requirement_reads(session, platform, unit)


def roles_known(platform: Platform) -> list[str]:
    """Roles a requirement may name: the gated team roles and every registered role."""
    return [*GATED_TEAM_ROLES, *platform.plugins.roles]


def requirement_reads(session: Session, platform: Platform, unit: Unit) -> list[RequirementRead]:
    """Every role that requires something at ``unit`` (or has versions set there)."""
    today = local_today()
    modules = platform.training_modules(session, unit)
    history = config.history(session, unit, config.REQUIREMENTS)
    reads = []
    for role in roles_known(platform):
        codes = required_for_role(session, modules, unit, role, today)
        key = config.requirement_key(role)
        own = [
            RequirementVersion(modules=row.value.get("modules", []), valid_from=row.valid_from)
            for row in history
            if row.key == key
        ]
        if codes or own:
            reads.append(RequirementRead(role=role, modules=codes, set_here=own))
    return reads


def plan_read(session: Session, unit: Unit, year: int) -> PlanRead:
    """A unit's plan and progress in its API form."""
    found = progress.plan_progress(session, unit, year)
    return PlanRead(
        unit_id=unit.id,
        year=year,
        note=found.plan.note if found.plan else None,
        targets=[
            TargetRead(
                metric=target.metric,
                module_code=target.module_code,
                target=target.target,
                actual=target.actual,
                percent=target.percent,
                met=target.met,
                children_target=found.children_target(target.metric, target.module_code),
            )
            for target in found.targets
        ],
        children=[
            ChildPlanRead(
                unit_id=child.unit.id,
                name=child.unit.name,
                has_plan=child.has_plan,
                targets=[
                    ChildTargetRead(
                        metric=metric,
                        module_code=module_code,
                        actual=actual,
                        own_target=child.targets.get((metric, module_code)),
                    )
                    for (metric, module_code), actual in child.actuals.items()
                ],
            )
            for child in found.children
        ],
    )


class TrainingSessionController(Controller):
    """One session: its roster, attendance, completion, cancellation."""

    path = "/api/v1/training/sessions"
    tags = ["training"]

    @get(
        "/{session_id:int}",
        sync_to_thread=True,
        operation_id="GetTrainingSession",
        opt={"action": READ},
    )
    def get_session(
        self, request: Request, session: SessionDep, session_id: FromPath[int]
    ) -> SessionDetail:
        """A session, with its roster for those who run sessions there."""
        principal = request.scope["user"]
        training = get_scoped(session, TrainingSession, session_id, principal, READ)
        return session_detail(session, training, principal.can(MANAGE, training.unit_path))

    def _run(self, request: Request, session: Session, session_id: int) -> TrainingSession:
        return get_scoped(session, TrainingSession, session_id, request.scope["user"], MANAGE)

    @post(
        "/{session_id:int}/attendance",
        sync_to_thread=True,
        operation_id="RecordTrainingAttendance",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def attendance(
        self,
        request: Request,
        session: SessionDep,
        session_id: FromPath[int],
        data: JSONBody[AttendanceRecord],
    ) -> SessionDetail:
        """Record who attended (after the start)."""
        training = self._run(request, session, session_id)
        marks = {mark.enrolment_id: mark.attended for mark in data.records}
        sessions.record_attendance(session, training, marks, request.scope["user"].user_id)
        session.commit()
        return session_detail(session, training, True)

    @post(
        "/{session_id:int}/completion",
        sync_to_thread=True,
        operation_id="CompleteTrainingSession",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def complete(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        session_id: FromPath[int],
    ) -> SessionDetail:
        """Complete the session: attendants gain the modules they earned."""
        training = self._run(request, session, session_id)
        sessions.complete(
            session, training, platform.plugins.training_modules, request.scope["user"].user_id
        )
        session.commit()
        return session_detail(session, training, True)

    @post(
        "/{session_id:int}/cancellation",
        sync_to_thread=True,
        operation_id="CancelTrainingSession",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def cancel(
        self,
        request: Request,
        session: SessionDep,
        session_id: FromPath[int],
        data: JSONBody[ReasonInput],
    ) -> SessionDetail:
        """Cancel a scheduled session, with a reason."""
        training = self._run(request, session, session_id)
        sessions.cancel(session, training, data.reason, request.scope["user"].user_id)
        session.commit()
        return session_detail(session, training, True)

    @post(
        "/{session_id:int}/enrolments/{enrolment_id:int}/cancellation",
        sync_to_thread=True,
        operation_id="CancelTrainingEnrolment",
        opt={"action": MANAGE},
        status_code=HTTP_200_OK,
    )
    def cancel_enrolment(
        self,
        request: Request,
        session: SessionDep,
        session_id: FromPath[int],
        enrolment_id: FromPath[int],
    ) -> SessionDetail:
        """Take someone off the roster (until the session is completed)."""
        training = self._run(request, session, session_id)
        enrolment = session.get(TrainingEnrolment, enrolment_id)
        if enrolment is None or enrolment.session_id != training.id:
            raise NotFoundException(f"enrolment {enrolment_id} not found")
        sessions.cancel_enrolment(session, training, enrolment, by_self=False)
        session.commit()
        return session_detail(session, training, True)


class QualificationController(Controller):
    """One qualification."""

    path = "/api/v1/training/qualifications"
    tags = ["training"]

    @post(
        "/{qualification_id:int}/revocation",
        sync_to_thread=True,
        operation_id="RevokeQualification",
        opt={"action": QUALIFY},
        status_code=HTTP_200_OK,
    )
    def revoke(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        qualification_id: FromPath[int],
        data: JSONBody[ReasonInput],
    ) -> QualificationRead:
        """Revoke a qualification, with a reason: it counts nowhere from now on."""
        principal = request.scope["user"]
        row = get_scoped(session, Qualification, qualification_id, principal, QUALIFY)
        revoke(session, row, data.reason, principal.user_id)
        session.commit()
        person = session.get(Person, row.person_id)
        return qualification_read(
            row, platform.plugins.training_modules, local_today(), person.name
        )


class PersonTrainingController(Controller):
    """A person's training record."""

    path = "/api/v1/people/{person_id:int}/training"
    tags = ["training"]

    @get("/", sync_to_thread=True, operation_id="GetPersonTraining", opt={"action": READ})
    def record(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        person_id: FromPath[int],
        start: Annotated[date | None, QueryParameter(description="Default: 1 January")] = None,
        end: Annotated[date | None, QueryParameter(description="Default: today")] = None,
    ) -> PersonTrainingRead:
        """Qualifications, enrolments and training hours of a person in reach."""
        person = get_scoped(session, Person, person_id, request.scope["user"], READ)
        today = local_today()
        record = record_of(session, person.id, start or date(today.year, 1, 1), end or today)
        return record_read(record, person, platform.plugins.training_modules, today)


class MyTrainingController(Controller):
    """The caller's own training: record, open sessions, enrolment and quizzes."""

    path = "/api/v1/training/me"
    tags = ["training"]

    @get("/", sync_to_thread=True, operation_id="GetMyTraining", opt={"action": AUTHENTICATED})
    def mine(self, request: Request, session: SessionDep, platform: PlatformDep) -> MyTrainingRead:
        """My qualifications, enrolments, this year's hours and the sessions open to me."""
        person, volunteer = own_person(session, request.scope["user"])
        today = local_today()
        record = record_of(session, person.id, date(today.year, 1, 1), today)
        base = record_read(record, person, platform.plugins.training_modules, today)
        path = volunteer.unit_path if volunteer else person.unit_path
        open_now = sessions.open_sessions_for(session, path)
        return MyTrainingRead(**base.model_dump(), open_sessions=session_reads(session, open_now))

    @post(
        "/enrolments",
        sync_to_thread=True,
        operation_id="EnrolMyself",
        opt={"action": AUTHENTICATED},
        status_code=HTTP_201_CREATED,
    )
    def enrol(
        self, request: Request, session: SessionDep, data: JSONBody[SelfEnrolmentCreate]
    ) -> SessionRead:
        """Take a place in a session open to my unit, before it starts."""
        principal = request.scope["user"]
        person, _ = own_person(session, principal)
        training = session.get(TrainingSession, data.session_id)
        if training is None:
            message = text("没有这个培训场次", "No such session")
            raise DomainError(
                message, "not_found", 404, [FieldError("session_id", "unknown", message)]
            )
        sessions.enrol(
            session, training, person, channel=EnrolmentChannel.self, by_user_id=principal.user_id
        )
        session.commit()
        return session_reads(session, [training])[0]

    def _own_enrolment(
        self, session: Session, principal, enrolment_id: int
    ) -> tuple[TrainingEnrolment, TrainingSession]:
        person, _ = own_person(session, principal)
        enrolment = session.get(TrainingEnrolment, enrolment_id)
        if enrolment is None or enrolment.person_id != person.id:
            raise NotFoundException(f"enrolment {enrolment_id} not found")
        return enrolment, session.get(TrainingSession, enrolment.session_id)

    @post(
        "/enrolments/{enrolment_id:int}/cancellation",
        sync_to_thread=True,
        operation_id="CancelMyEnrolment",
        opt={"action": AUTHENTICATED},
        status_code=HTTP_200_OK,
    )
    def cancel(
        self, request: Request, session: SessionDep, enrolment_id: FromPath[int]
    ) -> SessionRead:
        """Give my place back, before the session starts."""
        enrolment, training = self._own_enrolment(session, request.scope["user"], enrolment_id)
        sessions.cancel_enrolment(session, training, enrolment, by_self=True)
        session.commit()
        return session_reads(session, [training])[0]

    @get(
        "/enrolments/{enrolment_id:int}/quiz/{code:str}",
        sync_to_thread=True,
        operation_id="GetMyQuiz",
        opt={"action": AUTHENTICATED},
    )
    def quiz(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        enrolment_id: FromPath[int],
        code: Code,
    ) -> QuizRead:
        """A module's quiz for my enrolment: the questions, without answers."""
        enrolment, training = self._own_enrolment(session, request.scope["user"], enrolment_id)
        catalogue = platform.plugins.training_modules
        module = catalogue.get(code)
        quiz = quizzes.quiz_of(session, training, enrolment, module, code)
        taken = quizzes.attempts(session, enrolment, code)
        passed = any(attempt.passed for attempt in taken)
        return QuizRead(
            enrolment_id=enrolment.id,
            module_code=code,
            module_title=label_read(module.title),
            pass_mark=quiz.pass_mark,
            questions=[
                QuestionRead(text=q.text, choices=list(q.choices), multiple=q.multiple)
                for q in quiz.questions
            ],
            attempts_used=len(taken),
            attempts_left=0 if passed else max(0, quiz.max_attempts - len(taken)),
            passed=passed,
        )

    @post(
        "/enrolments/{enrolment_id:int}/quiz/{code:str}",
        sync_to_thread=True,
        operation_id="TakeMyQuiz",
        opt={"action": AUTHENTICATED},
        status_code=HTTP_200_OK,
    )
    def take_quiz(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        enrolment_id: FromPath[int],
        code: Code,
        data: JSONBody[QuizAnswers],
    ) -> QuizResultRead:
        """Sit the quiz: the score, whether it passed, and what it granted."""
        enrolment, training = self._own_enrolment(session, request.scope["user"], enrolment_id)
        catalogue = platform.plugins.training_modules
        result = quizzes.take(
            session, training, enrolment, catalogue.get(code), code, data.answers, catalogue
        )
        session.commit()
        today = local_today()
        return QuizResultRead(
            score=result.attempt.score,
            total=result.attempt.total,
            pass_mark=result.attempt.pass_mark,
            passed=result.attempt.passed,
            attempts_left=result.attempts_left,
            granted=[qualification_read(row, catalogue, today) for row in result.granted],
        )


ROUTES: list = [
    UnitTrainingController,
    TrainingSessionController,
    QualificationController,
    PersonTrainingController,
    MyTrainingController,
    *PAGES,
]
