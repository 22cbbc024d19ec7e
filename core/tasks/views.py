"""What the API and the pages show of tasks, shifts and assignments."""

from collections import Counter

from sqlmodel import Session, col, select

from core.accounts.principal import Principal
from core.i18n import current_locale
from core.platform import Platform
from core.tasks import services
from core.tasks.assignments import shift_roster
from core.tasks.matrix import DutyMatrix, Suggestion, slot_label
from core.tasks.models import HOLDING_STATUSES, Assignment, AssignmentStatus, Point, Shift, Task
from core.tasks.schemas import (
    AssignmentRead,
    MatrixRead,
    MatrixShift,
    ProgressRead,
    ShiftDetail,
    ShiftRead,
    StepRead,
    SuggestionRead,
    TaskDetail,
    TaskRead,
)
from core.units.models import Unit


def type_name(platform: Platform, code: str) -> str:
    """The task type's name in the reader's language (its code if no longer installed)."""
    task_type = platform.plugins.task_types.get(code)
    return task_type.label(current_locale.get()) if task_type else code


def task_read(
    platform: Platform, task: Task, unit_name: str, progress: services.Progress
) -> TaskRead:
    """A task as the API shows it."""
    task_type = platform.plugins.task_types.get(task.task_type)
    return TaskRead(
        id=task.id,
        unit_id=task.unit_id,
        unit_name=unit_name,
        parent_id=task.parent_id,
        task_type=task.task_type,
        task_type_name=type_name(platform, task.task_type),
        risky=bool(task_type and task_type.risky),
        title=task.title,
        description=task.description,
        status=str(task.status),
        starts_on=task.starts_on,
        ends_on=task.ends_on,
        quota=task.quota,
        allow_signup=task.allow_signup,
        signup_needs_approval=task.signup_needs_approval,
        details=dict(task.details or {}),
        required_skills=list(task.required_skills or []),
        required_modules=list(task.required_modules or []),
        cancel_reason=task.cancel_reason,
        progress=ProgressRead(
            filled=progress.filled, target=progress.target, percent=progress.percent
        ),
    )


def fill_counts(session: Session, shift_ids: list[int]) -> dict[int, Counter]:
    """Shift → holding assignments by status."""
    counts: dict[int, Counter] = {shift_id: Counter() for shift_id in shift_ids}
    if shift_ids:
        for shift_id, status in session.exec(
            select(Assignment.shift_id, Assignment.status).where(
                col(Assignment.shift_id).in_(shift_ids),
                col(Assignment.status).in_(HOLDING_STATUSES),
            )
        ).all():
            counts[shift_id][str(status)] += 1
    return counts


def shift_read(shift: Shift, point_name: str, counts: Counter) -> ShiftRead:
    """A shift as the API shows it."""
    return ShiftRead(
        id=shift.id,
        task_id=shift.task_id,
        unit_id=shift.unit_id,
        point_id=shift.point_id,
        point_name=point_name,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        min_headcount=shift.min_headcount,
        max_headcount=shift.max_headcount,
        leader_slot=shift.leader_slot,
        required_skills=list(shift.required_skills or []),
        required_modules=list(shift.required_modules or []),
        status=str(shift.status),
        confirmed=counts[AssignmentStatus.confirmed.value],
        requested=counts[AssignmentStatus.requested.value],
    )


def shifts_of(session: Session, task: Task) -> list[tuple[Shift, str]]:
    """The task's own shifts in time order, with their point's name."""
    return list(
        session.exec(
            select(Shift, Point.name)
            .join(Point, Point.id == Shift.point_id)
            .where(Shift.task_id == task.id)
            .order_by(Shift.starts_at, Shift.id)
        ).all()
    )


def task_detail(
    platform: Platform, session: Session, principal: Principal, task: Task
) -> TaskDetail:
    """A task with its sub-tasks and their progress, its shifts, its history."""
    unit = session.get(Unit, task.unit_id)
    children = services.subtasks_of(session, task)
    progress = services.progress_of(session, [task, *(child for child, _ in children)])
    shifts = shifts_of(session, task)
    counts = fill_counts(session, [shift.id for shift, _ in shifts])
    return TaskDetail(
        **task_read(platform, task, unit.name, progress[task.id]).model_dump(),
        subtasks=[task_read(platform, child, name, progress[child.id]) for child, name in children],
        shifts=[shift_read(shift, name, counts[shift.id]) for shift, name in shifts],
        steps=[
            StepRead(
                from_status=step.from_status,
                to_status=step.to_status,
                by=by,
                reason=step.reason,
                at=step.at,
            )
            for step, by in services.steps_of(session, task)
        ],
        allowed_transitions=services.allowed_transitions(principal, task),
    )


def assignment_read(assignment: Assignment, name: str, home_unit_name: str) -> AssignmentRead:
    """An assignment as the API shows it."""
    return AssignmentRead(
        id=assignment.id,
        shift_id=assignment.shift_id,
        volunteer_id=assignment.volunteer_id,
        name=name,
        home_unit_id=assignment.home_unit_id,
        home_unit_name=home_unit_name,
        unit_id=assignment.unit_id,
        status=str(assignment.status),
        source=str(assignment.source),
        is_leader=assignment.is_leader,
        dispatched_by_unit_id=assignment.dispatched_by_unit_id,
        warnings=list(assignment.warnings or []),
        reason=assignment.reason,
        starts_at=assignment.starts_at,
        ends_at=assignment.ends_at,
    )


def shift_detail(session: Session, shift: Shift) -> ShiftDetail:
    """A shift with everyone on it (holding first)."""
    point = session.get(Point, shift.point_id)
    roster = shift_roster(session, shift.id)
    counts = Counter(str(a.status) for a, _, _ in roster)
    return ShiftDetail(
        **shift_read(shift, point.name, counts).model_dump(),
        assignments=[assignment_read(a, name, home) for a, name, home in roster],
    )


def suggestion_read(suggestion: Suggestion) -> SuggestionRead:
    """A suggestion as the API shows it, reasons in the reader's language."""
    locale = current_locale.get()
    return SuggestionRead(
        volunteer_id=suggestion.volunteer_id,
        name=suggestion.name,
        unit_name=suggestion.unit_name,
        distance=suggestion.distance,
        dispatch=suggestion.dispatch,
        skills=suggestion.skills,
        hours_30_days=suggestion.hours,
        shifts_30_days=suggestion.shifts,
        warnings=[f.field_error().message for f in suggestion.warnings],
        reasons=[reason(locale) for reason in suggestion.reasons()],
    )


def matrix_read(matrix: DutyMatrix) -> MatrixRead:
    """The duty matrix as the API shows it: one entry per shift, placed by point, day, slot."""
    shifts = [
        MatrixShift(
            shift_id=cell.shift_id,
            task_id=cell.task_id,
            task_title=cell.task_title,
            point_id=point_id,
            day=day,
            slot=slot,
            starts_at=cell.starts_at,
            ends_at=cell.ends_at,
            min_headcount=cell.min_headcount,
            max_headcount=cell.max_headcount,
            confirmed=cell.confirmed,
            requested=cell.requested,
            state=cell.state,
            people=[person.name for person in cell.people],
        )
        for (point_id, day, slot), cells in sorted(
            matrix.cells.items(), key=lambda item: (item[0][1], item[0][2], item[0][0])
        )
        for cell in cells
    ]
    return MatrixRead(
        unit_id=matrix.unit.id,
        week=matrix.week,
        days=matrix.days,
        slots=[slot_label(slot) for slot in matrix.slots],
        points=[{"id": point_id, "name": name} for point_id, name in matrix.points],
        gaps=matrix.gaps,
        shifts=shifts,
    )
