"""Training sessions: scheduling, enrolment, attendance, completion and cancellation.

A unit schedules a session of one or more modules of its catalogue, organised by one of the
departments that train volunteers, at a time and a place (or online), for up to ``capacity``
people. The session is open to the active volunteers of the unit's subtree: a district's
session to the whole district. Volunteers enrol themselves until it starts; a leader or the
organiser may enrol them until it is completed. After it starts the organiser records who
attended, then completes it: every attendant gains a qualification in each module, at once
for a module without a quiz, for the others as soon as they pass its quiz (before or after
completion). A cancelled or completed session changes no more.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from core.contributions import TrainingModule
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.training import qualifications
from core.training.catalogue import title_of
from core.training.dates import local_date
from core.training.departments import DEPARTMENTS, LEADING
from core.training.models import (
    EnrolmentChannel,
    EnrolmentStatus,
    Qualification,
    QualificationSource,
    QuizAttempt,
    SessionStatus,
    TrainingEnrolment,
    TrainingSession,
    TrainingSessionModule,
)
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer, VolunteerStatus

MAX_CAPACITY = 10_000


def refused(message: str, field: str, rule: str, status: int = 400) -> DomainError:
    """A refusal naming one field and one rule."""
    code = "conflict" if status == 409 else "validation_failed"
    return DomainError(message, code, status, [FieldError(field, rule, message)])


@dataclass(frozen=True)
class SessionPlan:
    """What a unit schedules."""

    title: str
    department: str
    modules: Sequence[str]
    starts_at: datetime
    ends_at: datetime
    place: str
    capacity: int
    online: bool = False
    note: str | None = None


def schedule(
    session: Session,
    unit: Unit,
    catalogue: Mapping[str, TrainingModule],
    plan: SessionPlan,
    by_user_id: int | None,
) -> TrainingSession:
    """Schedule a session at ``unit`` of modules from the unit's ``catalogue``.

    Raises:
        DomainError: a module is unknown here or named twice, the department does not teach
            any of them, the end is not after the start, the capacity is out of range, or
            the unit is no longer active (400, naming the field).
    """
    if not unit.active:
        raise refused(text("该单位已停用", "The unit is no longer active"), "unit_id", "inactive")
    codes = list(plan.modules)
    if not codes:
        raise refused(
            text("请至少选择一个培训模块", "Choose at least one module"), "modules", "required"
        )
    for code in codes:
        if code not in catalogue:
            message = text(f"本单位没有培训模块 {code}", f"No training module {code} here")
            raise refused(message, "modules", "unknown")
    if len(set(codes)) != len(codes):
        raise refused(text("培训模块重复", "A module is named twice"), "modules", "unique")
    if plan.department not in DEPARTMENTS:
        raise refused(text("没有这个部门", "No such department"), "department", "choice")
    modules = [catalogue[code] for code in codes]
    if plan.department not in LEADING and not any(
        plan.department in m.departments for m in modules
    ):
        name = DEPARTMENTS[plan.department]
        message = text(
            f"{name.zh}不承担所选模块的培训，请选择授课部门或综治办、团委",
            f"{name.en} teaches none of these modules; choose a teaching department, "
            "the comprehensive management office or the Youth League",
        )
        raise refused(message, "department", "not_teaching")
    if plan.ends_at <= plan.starts_at:
        message = text("结束时间须晚于开始时间", "The end must be after the start")
        raise refused(message, "ends_at", "after_start")
    if not 1 <= plan.capacity <= MAX_CAPACITY:
        message = text(
            f"人数上限须在 1 到 {MAX_CAPACITY} 之间", f"Capacity must be 1 to {MAX_CAPACITY}"
        )
        raise refused(message, "capacity", "range")
    training = TrainingSession(
        unit_id=unit.id,
        unit_path=unit.path,
        title=plan.title.strip() or title_of(catalogue, codes[0]).zh,
        department=plan.department,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        online=plan.online,
        place=plan.place.strip(),
        capacity=plan.capacity,
        note=plan.note,
        created_by_id=by_user_id,
    )
    session.add(training)
    session.flush()
    for position, module in enumerate(modules):
        session.add(
            TrainingSessionModule(
                session_id=training.id,
                module_code=module.code,
                position=position,
                minutes=module.minutes,
            )
        )
    session.flush()
    return training


def module_codes(session: Session, training: TrainingSession) -> list[str]:
    """The codes of the modules a session teaches, in their order."""
    return list(
        session.exec(
            select(TrainingSessionModule.module_code)
            .where(TrainingSessionModule.session_id == training.id)
            .order_by(TrainingSessionModule.position)
        ).all()
    )


def is_open_to(training: TrainingSession, unit_path: str) -> bool:
    """Whether people of the unit with ``unit_path`` may attend (it lies in the subtree)."""
    return unit_path.startswith(training.unit_path)


def enrolled_count(session: Session, training: TrainingSession) -> int:
    """How many places are taken."""
    return session.exec(
        select(func.count())
        .select_from(TrainingEnrolment)
        .where(
            TrainingEnrolment.session_id == training.id,
            TrainingEnrolment.status == EnrolmentStatus.enrolled,
        )
    ).one()


def _require_scheduled(training: TrainingSession) -> None:
    if training.status == SessionStatus.cancelled:
        raise refused(
            text("该场次已取消", "This session is cancelled"), "session_id", "cancelled", 409
        )
    if training.status == SessionStatus.completed:
        raise refused(
            text("该场次已结业", "This session is completed"), "session_id", "completed", 409
        )


def _require_started(training: TrainingSession, now: datetime) -> None:
    if now < training.starts_at:
        message = text("培训尚未开始", "The session has not started yet")
        raise refused(message, "session_id", "not_started", 409)


def _locked(session: Session, training: TrainingSession) -> TrainingSession:
    """The session row, locked until commit: enrolments and completion take turns."""
    return session.exec(
        select(TrainingSession).where(TrainingSession.id == training.id).with_for_update()
    ).one()


def enrol(
    session: Session,
    training: TrainingSession,
    person: Person,
    *,
    channel: EnrolmentChannel,
    by_user_id: int | None,
    now: datetime | None = None,
) -> TrainingEnrolment:
    """Give ``person`` a place in ``training`` (again, if they had cancelled).

    Raises:
        DomainError: the session is cancelled or completed (409); a volunteer enrolling
            themselves after the start (409, ``started``); the person is not an active
            volunteer (400) or lives outside the session's subtree (400, ``not_open``);
            they hold a place already (409, ``unique``); the session is full (409, ``full``).
    """
    now = now or utcnow()
    training = _locked(session, training)
    _require_scheduled(training)
    if channel == EnrolmentChannel.self and now >= training.starts_at:
        message = text("培训已开始，不能再报名", "The session has started; enrolment is closed")
        raise refused(message, "session_id", "started", 409)
    volunteer = session.exec(select(Volunteer).where(Volunteer.person_id == person.id)).first()
    if volunteer is None or volunteer.status != VolunteerStatus.active:
        message = text("只有在册志愿者可以报名培训", "Only active volunteers can enrol")
        raise refused(message, "person_id", "not_volunteer")
    if not is_open_to(training, volunteer.unit_path):
        message = text(
            "该场次只面向举办单位及其下级单位的志愿者",
            "The session is open to volunteers of the organising unit and the units below it",
        )
        raise refused(message, "person_id", "not_open")
    enrolment = session.exec(
        select(TrainingEnrolment).where(
            TrainingEnrolment.session_id == training.id,
            TrainingEnrolment.person_id == person.id,
        )
    ).first()
    if enrolment is not None and enrolment.status == EnrolmentStatus.enrolled:
        message = text("已报名该场次", "Already enrolled in this session")
        raise refused(message, "person_id", "unique", 409)
    if enrolled_count(session, training) >= training.capacity:
        message = text("该场次名额已满", "The session is full")
        raise refused(message, "session_id", "full", 409)
    enrolment = enrolment or TrainingEnrolment(session_id=training.id, person_id=person.id)
    enrolment.status = EnrolmentStatus.enrolled
    enrolment.unit_path = volunteer.unit_path
    enrolment.channel = channel
    enrolment.enrolled_by_id = by_user_id
    enrolment.enrolled_at = now
    enrolment.attended = None
    session.add(enrolment)
    session.flush()
    return enrolment


def cancel_enrolment(
    session: Session,
    training: TrainingSession,
    enrolment: TrainingEnrolment,
    *,
    by_self: bool,
    now: datetime | None = None,
) -> TrainingEnrolment:
    """Give a place back: a volunteer before the start, the organiser until completion.

    Raises:
        DomainError: the session is closed (409), the volunteer's own cancellation comes
            after the start (409), or the enrolment is already cancelled (409).
    """
    now = now or utcnow()
    _require_scheduled(training)
    if by_self and now >= training.starts_at:
        message = text(
            "培训已开始，不能取消报名", "The session has started; it is too late to cancel"
        )
        raise refused(message, "enrolment_id", "started", 409)
    if enrolment.status != EnrolmentStatus.enrolled:
        message = text("该报名已取消", "This enrolment is already cancelled")
        raise refused(message, "enrolment_id", "cancelled", 409)
    enrolment.status = EnrolmentStatus.cancelled
    enrolment.attended = None
    session.add(enrolment)
    session.flush()
    return enrolment


def enrolments(
    session: Session, training: TrainingSession, *, include_cancelled: bool = False
) -> list[tuple[TrainingEnrolment, Person]]:
    """A session's enrolments with their people, by name."""
    query = (
        select(TrainingEnrolment, Person)
        .join(Person, Person.id == TrainingEnrolment.person_id)
        .where(TrainingEnrolment.session_id == training.id)
        .order_by(Person.name, TrainingEnrolment.id)
    )
    if not include_cancelled:
        query = query.where(TrainingEnrolment.status == EnrolmentStatus.enrolled)
    return list(session.exec(query).all())


def record_attendance(
    session: Session,
    training: TrainingSession,
    marks: Mapping[int, bool],
    by_user_id: int | None,
    now: datetime | None = None,
) -> int:
    """Record who attended (enrolment id → attended); return how many marks changed.

    Raises:
        DomainError: the session is closed (409) or has not started (409); a mark names an
            enrolment that is not a current place in this session (400, ``records``).
    """
    now = now or utcnow()
    _require_scheduled(training)
    _require_started(training, now)
    current = {enrolment.id: enrolment for enrolment, _ in enrolments(session, training)}
    changed = 0
    for index, (enrolment_id, attended) in enumerate(marks.items()):
        enrolment = current.get(enrolment_id)
        if enrolment is None:
            message = text(
                f"报名 {enrolment_id} 不属于该场次",
                f"Enrolment {enrolment_id} is not in this session",
            )
            raise refused(message, f"records[{index}].enrolment_id", "unknown")
        if enrolment.attended is not attended:
            enrolment.attended = attended
            enrolment.attendance_by_id = by_user_id
            enrolment.attendance_at = now
            session.add(enrolment)
            changed += 1
    session.flush()
    return changed


def passed_quiz(session: Session, enrolment: TrainingEnrolment, module_code: str) -> bool:
    """Whether the enrolment has a passed attempt at the module's quiz."""
    return (
        session.exec(
            select(QuizAttempt.id).where(
                QuizAttempt.enrolment_id == enrolment.id,
                QuizAttempt.module_code == module_code,
                QuizAttempt.passed.is_(True),
            )
        ).first()
        is not None
    )


def grant_earned(
    session: Session,
    training: TrainingSession,
    enrolment: TrainingEnrolment,
    catalogue: Mapping[str, TrainingModule],
    granted_by_id: int | None,
) -> list[Qualification]:
    """Grant every module of a completed session the attendant has earned and not yet got.

    A module is earned by attending, and by passing its quiz when it has one. Modules no
    longer installed grant nothing. The qualification counts from the session's day.
    """
    if training.status != SessionStatus.completed or not enrolment.attended:
        return []
    person = session.get(Person, enrolment.person_id)
    granted = []
    for code in module_codes(session, training):
        module = catalogue.get(code)
        if module is None or (
            module.quiz is not None and not passed_quiz(session, enrolment, code)
        ):
            continue
        granted.append(
            qualifications.grant(
                session,
                person,
                module,
                granted_on=local_date(training.starts_at),
                source=QualificationSource.session,
                granted_by_id=granted_by_id,
                session_id=training.id,
            )
        )
    return granted


def complete(
    session: Session,
    training: TrainingSession,
    catalogue: Mapping[str, TrainingModule],
    by_user_id: int | None,
    now: datetime | None = None,
) -> list[Qualification]:
    """Close a session that has taken place and grant what its attendants have earned.

    Raises:
        DomainError: the session is closed (409) or has not started (409), or attendance is
            missing for some enrolment (409, ``attendance_missing``, naming how many).
    """
    now = now or utcnow()
    training = _locked(session, training)
    _require_scheduled(training)
    _require_started(training, now)
    places = enrolments(session, training)
    missing = [enrolment for enrolment, _ in places if enrolment.attended is None]
    if missing:
        message = text(
            f"还有 {len(missing)} 人未登记出勤", f"Attendance is not recorded for {len(missing)}"
        )
        raise refused(message, "records", "attendance_missing", 409)
    training.status = SessionStatus.completed
    training.closed_at = now
    training.closed_by_id = by_user_id
    session.add(training)
    session.flush()
    granted = []
    for enrolment, _ in places:
        granted += grant_earned(session, training, enrolment, catalogue, by_user_id)
    return granted


def cancel(
    session: Session, training: TrainingSession, reason: str, by_user_id: int | None
) -> TrainingSession:
    """Cancel a scheduled session, with a reason; its enrolments stay on record.

    Raises:
        DomainError: the session is already completed or cancelled (409).
    """
    training = _locked(session, training)
    _require_scheduled(training)
    training.status = SessionStatus.cancelled
    training.cancel_reason = reason
    training.closed_at = utcnow()
    training.closed_by_id = by_user_id
    session.add(training)
    session.flush()
    return training


def sessions_at(
    session: Session,
    unit: Unit,
    *,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    status: SessionStatus | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[TrainingSession]:
    """The sessions that concern ``unit``, soonest first.

    Those held by the unit or a unit above it (open to its people) and by units below it.
    """
    low, high = unit.subtree_bounds()
    query = select(TrainingSession).where(
        (col(TrainingSession.unit_id).in_(unit.ancestor_ids))
        | ((TrainingSession.unit_path >= low) & (TrainingSession.unit_path < high))
    )
    if starts_from is not None:
        query = query.where(TrainingSession.starts_at >= starts_from)
    if starts_before is not None:
        query = query.where(TrainingSession.starts_at < starts_before)
    if status is not None:
        query = query.where(TrainingSession.status == status)
    query = query.order_by(TrainingSession.starts_at, TrainingSession.id)
    return list(session.exec(query.offset(offset).limit(limit)).all())


def open_sessions_for(
    session: Session, unit_path: str, now: datetime | None = None
) -> list[TrainingSession]:
    """Scheduled sessions not yet started, open to people of the unit at ``unit_path``."""
    now = now or utcnow()
    ancestors = [int(part) for part in unit_path.split(".") if part]
    return list(
        session.exec(
            select(TrainingSession)
            .where(
                col(TrainingSession.unit_id).in_(ancestors),
                TrainingSession.status == SessionStatus.scheduled,
                TrainingSession.starts_at > now,
            )
            .order_by(TrainingSession.starts_at, TrainingSession.id)
            .limit(100)
        ).all()
    )
