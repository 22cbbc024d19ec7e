"""Tasks (SPEC §4): drafting, decomposition to lower units, the status flow, and progress.

A task belongs to a unit and runs ``draft → published → in_progress → completed``, or is
``cancelled`` with a reason from any open status. Each transition needs its action at the
task's unit (the caller's grant must reach it, which :func:`core.access.get_scoped` checks
before these functions run) and writes a :class:`TaskStep`. A task may be split into
sub-tasks for units below its own, each with a quota of person-shifts; the quotas of a task's
sub-tasks never add up to more than its own. Progress is the confirmed person-shifts of a task
and all its sub-tasks against its quota, rolled up the task tree.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.accounts.models import User
from core.contributions import DomainEvent, Label, TaskType
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.taxonomy import SKILLS
from core.platform import Platform
from core.tasks.models import (
    Assignment,
    AssignmentStatus,
    Shift,
    ShiftStatus,
    Task,
    TaskStatus,
    TaskStep,
)
from core.tasks.permissions import MANAGE, PUBLISH
from core.tasks.types import check_details
from core.units.models import Unit, utcnow
from core.units.services import enabled_plugins

NEW = "new"  # the ``from_status`` of the step that records the creation
OPEN_STATUSES = (TaskStatus.draft, TaskStatus.published, TaskStatus.in_progress)
#: Statuses in which shifts are filled.
STAFFING_STATUSES = (TaskStatus.published, TaskStatus.in_progress)

STATUS_LABELS = {
    NEW: Label("新建", "new"),
    TaskStatus.draft: Label("草稿", "draft"),
    TaskStatus.published: Label("已发布", "published"),
    TaskStatus.in_progress: Label("进行中", "in progress"),
    TaskStatus.completed: Label("已完成", "completed"),
    TaskStatus.cancelled: Label("已取消", "cancelled"),
}


@dataclass(frozen=True)
class Transition:
    """A status change: where it may start, where it leads, the action it needs."""

    name: str
    from_statuses: tuple[TaskStatus, ...]
    to_status: TaskStatus
    action: str
    label: Label


TRANSITIONS = {
    t.name: t
    for t in (
        Transition(
            "publish", (TaskStatus.draft,), TaskStatus.published, PUBLISH, Label("发布", "Publish")
        ),
        Transition(
            "start", (TaskStatus.published,), TaskStatus.in_progress, MANAGE, Label("开始", "Start")
        ),
        Transition(
            "complete",
            (TaskStatus.in_progress,),
            TaskStatus.completed,
            MANAGE,
            Label("完成", "Complete"),
        ),
        Transition("cancel", OPEN_STATUSES, TaskStatus.cancelled, PUBLISH, Label("取消", "Cancel")),
    )
}


def _label(value: Label) -> str:
    return text(value.zh, value.en)


def invalid(errors: list[FieldError], message: tuple[str, str] | None = None) -> DomainError:
    """A 400 refusal naming every field and rule."""
    zh, en = message or ("任务信息有误", "The task's details are invalid")
    return DomainError(text(zh, en), "validation_failed", 400, errors)


# -- task types at a unit ------------------------------------------------------------------


def task_types_at(platform: Platform, session: Session, unit: Unit) -> dict[str, TaskType]:
    """The task types usable at ``unit``: core's and those of plugins enabled there."""
    owners = enabled_plugins(session, unit) | {"core"}
    return {
        code: task_type
        for code, task_type in platform.plugins.task_types.items()
        if platform.plugins.owner_of(code) in owners
    }


def modules_at(platform: Platform, session: Session, unit: Unit) -> set[str]:
    """Codes of the training modules in the catalogue at ``unit``."""
    return {module.code for module in platform.training_modules(session, unit)}


# -- the input -----------------------------------------------------------------------------


@dataclass
class TaskInput:
    """What a caller gives to create or change a task (``None``: not given / unchanged)."""

    task_type: str | None = None
    title: str | None = None
    description: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    quota: int | None = None
    allow_signup: bool | None = None
    signup_needs_approval: bool | None = None
    details: dict[str, Any] | None = None
    required_skills: list[str] | None = None
    required_modules: list[str] | None = None
    clear_quota: bool = False  # on edit: remove the quota (``quota=None`` keeps it)


def _check_common(
    platform: Platform, session: Session, unit: Unit, task: Task, errors: list[FieldError]
) -> None:
    if not task.title or not task.title.strip():
        errors.append(FieldError("title", "missing", text("必填", "is required")))
    if task.ends_on < task.starts_on:
        errors.append(
            FieldError(
                "ends_on",
                "ends_before_start",
                text("结束日期不能早于开始日期", "must not be before the start date"),
            )
        )
    unknown = sorted(set(task.required_skills) - set(SKILLS))
    if unknown:
        errors.append(
            FieldError(
                "required_skills",
                "unknown",
                text("未知的特长：", "unknown skills: ") + ", ".join(unknown),
            )
        )
    unknown = sorted(set(task.required_modules) - modules_at(platform, session, unit))
    if unknown:
        errors.append(
            FieldError(
                "required_modules",
                "unknown",
                text("本单位的培训目录中没有：", "not in this unit's training catalogue: ")
                + ", ".join(unknown),
            )
        )


def _apply(task: Task, data: TaskInput) -> None:
    for name in (
        "title",
        "description",
        "starts_on",
        "ends_on",
        "allow_signup",
        "signup_needs_approval",
    ):
        value = getattr(data, name)
        if value is not None:
            setattr(task, name, value.strip() if isinstance(value, str) else value)
    if data.quota is not None:
        task.quota = data.quota
    elif data.clear_quota:
        task.quota = None
    if data.required_skills is not None:
        task.required_skills = sorted(set(data.required_skills))
    if data.required_modules is not None:
        task.required_modules = sorted(set(data.required_modules))


def _record_step(
    session: Session,
    task: Task,
    from_status: str,
    to_status: TaskStatus,
    by_user_id: int | None,
    reason: str | None = None,
) -> TaskStep:
    step = TaskStep(
        task_id=task.id,
        from_status=str(from_status),
        to_status=str(to_status),
        by_user_id=by_user_id,
        reason=reason,
    )
    session.add(step)
    session.flush()
    return step


# -- creating and editing --------------------------------------------------------------------


def create_task(
    platform: Platform,
    session: Session,
    unit: Unit,
    data: TaskInput,
    *,
    by_user_id: int | None,
    parent: Task | None = None,
) -> Task:
    """Draft a task at ``unit`` (a sub-task of ``parent`` when given).

    A sub-task keeps its parent's type, lies inside its parent's dates, belongs to a unit
    below the parent's, and its quota fits in what the parent's quota leaves.

    Raises:
        DomainError: a field breaks a rule (400, each field named), the unit is closed
            (400), or the parent is no longer open (409).
    """
    errors: list[FieldError] = []
    if not unit.active:
        errors.append(
            FieldError("unit_id", "inactive", text("该单位已撤销或合并", "the unit is closed"))
        )
    if parent is not None:
        _check_parent(session, parent, unit, errors)
        code = parent.task_type
    else:
        code = data.task_type
    types = task_types_at(platform, session, unit)
    task_type = types.get(code or "")
    if task_type is None:
        errors.append(
            FieldError(
                "task_type",
                "unknown" if code not in platform.plugins.task_types else "not_enabled",
                text("本单位没有这种任务类型", "no such task type at this unit"),
            )
        )
    raw_details = data.details if data.details is not None else (parent.details if parent else {})
    details: dict[str, Any] = {}
    if task_type is not None:
        details, detail_errors = check_details(task_type, raw_details or {})
        errors += detail_errors
    if data.starts_on is None or data.ends_on is None:
        if parent is None:
            for name in ("starts_on", "ends_on"):
                if getattr(data, name) is None:
                    errors.append(FieldError(name, "missing", text("必填", "is required")))
            raise invalid(errors)
    task = Task(
        unit_id=unit.id,
        unit_path=unit.path,
        parent_id=parent.id if parent else None,
        task_type=code or "",
        title=(data.title or (parent.title if parent else "")).strip(),
        description=(data.description or (parent.description if parent else "")).strip(),
        starts_on=data.starts_on or parent.starts_on,
        ends_on=data.ends_on or parent.ends_on,
        quota=data.quota,
        allow_signup=bool(
            data.allow_signup
            if data.allow_signup is not None
            else (parent.allow_signup if parent else False)
        ),
        signup_needs_approval=(
            data.signup_needs_approval
            if data.signup_needs_approval is not None
            else (parent.signup_needs_approval if parent else True)
        ),
        details=details,
        required_skills=sorted(
            set(
                data.required_skills
                if data.required_skills is not None
                else (parent.required_skills if parent else [])
            )
        ),
        required_modules=sorted(
            set(
                data.required_modules
                if data.required_modules is not None
                else (parent.required_modules if parent else [])
            )
        ),
        created_by_user_id=by_user_id,
    )
    _check_common(platform, session, unit, task, errors)
    if parent is not None:
        errors += _dates_inside(task, parent)
        errors += _quota_fits(session, parent, task.quota, exclude_id=None)
    if errors:
        raise invalid(errors)
    session.add(task)
    session.flush()
    _record_step(session, task, NEW, TaskStatus.draft, by_user_id)
    return task


def _check_parent(session: Session, parent: Task, unit: Unit, errors: list[FieldError]) -> None:
    if parent.status not in OPEN_STATUSES:
        raise wrong_status(parent, Label("分解", "break down"))
    if unit.id == parent.unit_id or not unit.path.startswith(parent.unit_path):
        errors.append(
            FieldError(
                "unit_id",
                "not_below",
                text(
                    "子任务须下达给本任务所属单位的下级单位",
                    "a sub-task goes to a unit below the task's own",
                ),
            )
        )


def _dates_inside(task: Task, parent: Task) -> list[FieldError]:
    errors = []
    if task.starts_on < parent.starts_on:
        errors.append(
            FieldError(
                "starts_on",
                "outside_parent",
                text(
                    f"不能早于上级任务的开始日期 {parent.starts_on}",
                    f"must not be before the parent task's start, {parent.starts_on}",
                ),
            )
        )
    if task.ends_on > parent.ends_on:
        errors.append(
            FieldError(
                "ends_on",
                "outside_parent",
                text(
                    f"不能晚于上级任务的结束日期 {parent.ends_on}",
                    f"must not be after the parent task's end, {parent.ends_on}",
                ),
            )
        )
    return errors


def children_quota(session: Session, parent_id: int, *, exclude_id: int | None) -> int:
    """The quotas of a task's sub-tasks that are not cancelled, added up."""
    query = select(func.coalesce(func.sum(Task.quota), 0)).where(
        Task.parent_id == parent_id, Task.status != TaskStatus.cancelled
    )
    if exclude_id is not None:
        query = query.where(Task.id != exclude_id)
    return int(session.exec(query).one())


def _quota_fits(
    session: Session, parent: Task, quota: int | None, *, exclude_id: int | None
) -> list[FieldError]:
    if parent.quota is None or quota is None:
        return []
    taken = children_quota(session, parent.id, exclude_id=exclude_id)
    if taken + quota <= parent.quota:
        return []
    left = max(parent.quota - taken, 0)
    return [
        FieldError(
            "quota",
            "exceeds_parent",
            text(
                f"子任务配额合计不能超过上级任务的 {parent.quota}，尚可分配 {left}",
                f"sub-task quotas may add up to the parent's {parent.quota}; {left} left",
            ),
        )
    ]


def update_task(platform: Platform, session: Session, task: Task, data: TaskInput) -> Task:
    """Change an open task's title, description, dates, quota, sign-up rules or fields.

    Dates must still hold the task's shifts and sub-tasks; the quota must still hold the
    sub-tasks' quotas and fit in the parent's.

    Raises:
        DomainError: the task is completed or cancelled (409), or a field breaks a rule (400).
    """
    if task.status not in OPEN_STATUSES:
        raise wrong_status(task, Label("修改", "edit"))
    unit = session.get(Unit, task.unit_id)
    before_quota = task.quota
    _apply(task, data)
    errors: list[FieldError] = []
    if data.details is not None:
        task_type = platform.plugins.task_types.get(task.task_type)
        if task_type is not None:
            task.details, detail_errors = check_details(task_type, data.details)
            errors += detail_errors
    _check_common(platform, session, unit, task, errors)
    parent = session.get(Task, task.parent_id) if task.parent_id else None
    if parent is not None:
        errors += _dates_inside(task, parent)
        if task.quota != before_quota:
            errors += _quota_fits(session, parent, task.quota, exclude_id=task.id)
    if task.quota is not None:
        taken = children_quota(session, task.id, exclude_id=None)
        if taken > task.quota:
            errors.append(
                FieldError(
                    "quota",
                    "below_children",
                    text(
                        f"不能少于已分配给子任务的 {taken}",
                        f"must hold the {taken} already given to sub-tasks",
                    ),
                )
            )
    errors += _children_inside(session, task)
    errors += _shifts_inside(session, task)
    if errors:
        session.rollback()
        raise invalid(errors)
    session.add(task)
    session.flush()
    return task


def _children_inside(session: Session, task: Task) -> list[FieldError]:
    bounds = session.exec(
        select(func.min(Task.starts_on), func.max(Task.ends_on)).where(
            Task.parent_id == task.id, Task.status != TaskStatus.cancelled
        )
    ).one()
    earliest, latest = bounds
    errors = []
    if earliest is not None and earliest < task.starts_on:
        errors.append(
            FieldError(
                "starts_on",
                "subtask_outside",
                text(f"子任务从 {earliest} 开始", f"a sub-task starts on {earliest}"),
            )
        )
    if latest is not None and latest > task.ends_on:
        errors.append(
            FieldError(
                "ends_on",
                "subtask_outside",
                text(f"子任务至 {latest} 结束", f"a sub-task ends on {latest}"),
            )
        )
    return errors


def _shifts_inside(session: Session, task: Task) -> list[FieldError]:
    from core.tasks.shifts import task_window  # shifts builds on this module

    low, high = task_window(task)
    outside = session.exec(
        select(func.count())
        .select_from(Shift)
        .where(
            Shift.task_id == task.id,
            Shift.status == ShiftStatus.open,
            sa.or_(Shift.starts_at < low, Shift.ends_at > high),
        )
    ).one()
    if not outside:
        return []
    return [
        FieldError(
            "ends_on",
            "shifts_outside",
            text(
                f"有 {outside} 个班次会落在任务日期之外",
                f"{outside} shift(s) would fall outside the task's dates",
            ),
        )
    ]


# -- the status flow -------------------------------------------------------------------------


def wrong_status(task: Task, wanted: Label) -> DomainError:
    """409: the task's status does not allow ``wanted``."""
    current = STATUS_LABELS[TaskStatus(task.status)]
    return DomainError(
        text(
            f"该任务当前状态为「{current.zh}」，不能{wanted.zh}",
            f"The task is {current.en}; cannot {wanted.en.lower()} it now",
        ),
        "wrong_status",
        409,
        [FieldError("status", "wrong_status", str(task.status))],
    )


def allowed_transitions(principal: Any, task: Task) -> list[str]:
    """The transitions the caller may take on ``task`` now (for buttons and the API)."""
    return [
        t.name
        for t in TRANSITIONS.values()
        if task.status in t.from_statuses and principal.can(t.action, task.unit_path)
    ]


def transition(
    platform: Platform,
    session: Session,
    task: Task,
    name: str,
    *,
    by_user_id: int | None,
    reason: str | None = None,
) -> TaskStep:
    """Move ``task`` along the flow (``publish``, ``start``, ``complete``, ``cancel``).

    The caller's action at the task's unit has been checked by the scoped lookup. Publishing
    a sub-task needs its parent published; completing needs every sub-task finished;
    cancelling needs a reason and cancels the open sub-tasks, the shifts and the assignments
    holding them, each told to its volunteer.

    Raises:
        DomainError: the status does not allow it (409), the parent is not published (409),
            sub-tasks are still open (409), or a cancellation has no reason (400).
    """
    rule = TRANSITIONS[name]
    if task.status not in rule.from_statuses:
        raise wrong_status(task, rule.label)
    cleaned = (reason or "").strip()[:500] or None
    if name == "cancel" and cleaned is None:
        raise invalid(
            [FieldError("reason", "missing", text("必填", "is required"))],
            ("取消任务须说明理由", "A reason is required to cancel a task"),
        )
    if name == "publish" and task.parent_id:
        parent = session.get(Task, task.parent_id)
        if parent.status not in STAFFING_STATUSES:
            raise DomainError(
                text("上级任务尚未发布", "The parent task is not published"),
                "parent_not_published",
                409,
                [FieldError("parent_id", "not_published", str(parent.status))],
            )
    if name == "complete":
        open_children = session.exec(
            select(func.count())
            .select_from(Task)
            .where(Task.parent_id == task.id, col(Task.status).in_(list(OPEN_STATUSES)))
        ).one()
        if open_children:
            raise DomainError(
                text(
                    f"还有 {open_children} 个子任务未完成或取消",
                    f"{open_children} sub-task(s) are neither completed nor cancelled",
                ),
                "open_subtasks",
                409,
                [FieldError("status", "open_subtasks", str(open_children))],
            )
    step = _move(platform, session, task, rule.to_status, by_user_id, cleaned)
    if name == "cancel":
        _cancel_below(platform, session, task, by_user_id, cleaned)
    return step


def _move(
    platform: Platform,
    session: Session,
    task: Task,
    to_status: TaskStatus,
    by_user_id: int | None,
    reason: str | None,
) -> TaskStep:
    from_status = task.status
    task.status = to_status
    now = utcnow()
    if to_status == TaskStatus.published:
        task.published_at = now
    elif to_status == TaskStatus.completed:
        task.completed_at = now
    elif to_status == TaskStatus.cancelled:
        task.cancel_reason = reason
    session.add(task)
    session.flush()
    step = _record_step(session, task, from_status, to_status, by_user_id, reason)
    if to_status in (TaskStatus.published, TaskStatus.completed, TaskStatus.cancelled):
        verb = {"published": "published", "completed": "completed", "cancelled": "cancelled"}
        platform.emit(
            session,
            DomainEvent(
                f"core.task.{verb[to_status.value]}",
                unit_id=task.unit_id,
                payload={"task_id": task.id, "task_type": task.task_type},
            ),
        )
    return step


def _cancel_below(
    platform: Platform, session: Session, task: Task, by_user_id: int | None, reason: str
) -> None:
    from core.tasks.assignments import cancel_holding  # assignments builds on this module

    for child in session.exec(
        select(Task).where(Task.parent_id == task.id, col(Task.status).in_(list(OPEN_STATUSES)))
    ).all():
        _move(platform, session, child, TaskStatus.cancelled, by_user_id, reason)
        _cancel_below(platform, session, child, by_user_id, reason)
    shifts = session.exec(
        select(Shift).where(Shift.task_id == task.id, Shift.status == ShiftStatus.open)
    ).all()
    for shift in shifts:
        shift.status = ShiftStatus.cancelled
        session.add(shift)
        cancel_holding(platform, session, shift, by_user_id, reason)
    session.flush()


# -- progress --------------------------------------------------------------------------------


@dataclass
class Progress:
    """Confirmed person-shifts of a task and its sub-tasks against its quota."""

    filled: int
    target: int

    @property
    def percent(self) -> int:
        """Whole percent filled (100 when nothing is asked)."""
        if self.target <= 0:
            return 100 if self.filled or not self.target else 0
        return min(100, self.filled * 100 // self.target)


def descendants(session: Session, root_ids: list[int]) -> dict[int, int | None]:
    """Every task under ``root_ids`` (the roots included) → its parent, level by level."""
    parents: dict[int, int | None] = {task_id: None for task_id in root_ids}
    level = list(root_ids)
    while level:
        rows = session.exec(
            select(Task.id, Task.parent_id).where(
                col(Task.parent_id).in_(level), Task.status != TaskStatus.cancelled
            )
        ).all()
        level = [task_id for task_id, _ in rows if task_id not in parents]
        parents.update({task_id: parent_id for task_id, parent_id in rows})
    return parents


def progress_of(session: Session, tasks: list[Task]) -> dict[int, Progress]:
    """Progress of each task in ``tasks``, rolled up over all its sub-tasks.

    ``filled`` counts confirmed assignments on open shifts of the task and of every sub-task
    below it (not cancelled); ``target`` is the task's quota, or, without one, the minimum
    headcounts of its own shifts plus its sub-tasks' targets.
    """
    if not tasks:
        return {}
    parents = descendants(session, [task.id for task in tasks])
    ids = list(parents)
    filled_own: dict[int, int] = defaultdict(int)
    minimum_own: dict[int, int] = defaultdict(int)
    for chunk in _chunks(ids, 1000):
        filled_own.update(
            session.exec(
                select(Shift.task_id, func.count(Assignment.id))
                .join(Assignment, Assignment.shift_id == Shift.id)
                .where(
                    col(Shift.task_id).in_(chunk),
                    Shift.status == ShiftStatus.open,
                    Assignment.status == AssignmentStatus.confirmed,
                )
                .group_by(Shift.task_id)
            ).all()
        )
        minimum_own.update(
            session.exec(
                select(Shift.task_id, func.sum(Shift.min_headcount))
                .where(col(Shift.task_id).in_(chunk), Shift.status == ShiftStatus.open)
                .group_by(Shift.task_id)
            ).all()
        )
    quotas: dict[int, int | None] = {}
    for chunk in _chunks(ids, 1000):
        quotas.update(
            session.exec(select(Task.id, Task.quota).where(col(Task.id).in_(chunk))).all()
        )
    children: dict[int, list[int]] = defaultdict(list)
    for task_id, parent_id in parents.items():
        if parent_id is not None:
            children[parent_id].append(task_id)
    result: dict[int, Progress] = {}

    def roll(task_id: int) -> Progress:
        if task_id in result:
            return result[task_id]
        below = [roll(child) for child in children[task_id]]
        filled = filled_own[task_id] + sum(p.filled for p in below)
        quota = quotas.get(task_id)
        target = quota if quota is not None else minimum_own[task_id] + sum(p.target for p in below)
        result[task_id] = Progress(filled=int(filled), target=int(target))
        return result[task_id]

    return {task.id: roll(task.id) for task in tasks}


def _chunks(items: list[int], size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- reading ---------------------------------------------------------------------------------


def steps_of(session: Session, task: Task) -> list[tuple[TaskStep, str | None]]:
    """The task's status changes, oldest first, with who made each."""
    return list(
        session.exec(
            select(TaskStep, User.display_name)
            .join(User, User.id == TaskStep.by_user_id, isouter=True)
            .where(TaskStep.task_id == task.id)
            .order_by(TaskStep.id)
        ).all()
    )


def subtasks_of(session: Session, task: Task) -> list[tuple[Task, str]]:
    """The task's direct sub-tasks with their unit's name."""
    return list(
        session.exec(
            select(Task, Unit.name)
            .join(Unit, Unit.id == Task.unit_id)
            .where(Task.parent_id == task.id)
            .order_by(Unit.path, Task.id)
        ).all()
    )
