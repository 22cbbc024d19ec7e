"""Putting volunteers on shifts: by their leaders, by sign-up, by cross-region dispatch.

* A leader holding ``core.assignment.manage`` over a shift's unit assigns the volunteers whose
  home unit lies in that unit's subtree (its own people).
* Cross-region temporary dispatch (跨区域临时调度): a volunteer from elsewhere may be put on
  the shift only by someone holding ``core.assignment.dispatch`` at the 总队, a 大队 or a 中队
  whose subtree contains both the volunteer's home unit and the shift's unit. Nobody else may:
  two sibling districts cannot dispatch each other's volunteers, the city can. The
  assignment keeps the volunteer's ``home_unit_path``, so the home unit sees it and the hours
  count for the volunteer, the home unit and the receiving unit.
* A volunteer signs up for an open shift of their own unit when the task allows it; the
  sign-up waits for a leader's approval when the task asks for one.

Every way runs the same eligibility check (:mod:`core.tasks.eligibility`) after locking the
shift's row and then the volunteer's (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite takes the
write lock at ``BEGIN IMMEDIATE``), always in that order, so two concurrent requests for one
person or one shift are checked one after the other and never double-book.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.accounts.models import User
from core.accounts.principal import Grant, Principal
from core.contributions import DomainEvent, Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.jobs.outbox import enqueue
from core.people.models import Person
from core.platform import Platform
from core.tasks.eligibility import Eligibility, check_eligibility, refusal_error, warning_error
from core.tasks.models import (
    HOLDING_STATUSES,
    Assignment,
    AssignmentSource,
    AssignmentStatus,
    Shift,
    ShiftStatus,
    Task,
)
from core.tasks.permissions import ASSIGN, DISPATCH
from core.tasks.services import STAFFING_STATUSES, wrong_status
from core.tasks.shifts import shift_closed
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer

NOTIFY_JOB = "core.notify_assignment"
#: Unit depths (ids on the path) at which dispatch may be held: 总队, 大队, 中队.
DISPATCH_DEPTHS = (1, 2, 3)

STATUS_LABELS = {
    AssignmentStatus.requested: Label("待审批", "awaiting approval"),
    AssignmentStatus.confirmed: Label("已确认", "confirmed"),
    AssignmentStatus.declined: Label("未获批准", "declined"),
    AssignmentStatus.cancelled: Label("已取消", "cancelled"),
    AssignmentStatus.absent: Label("缺勤", "absent"),
}
SOURCE_LABELS = {
    AssignmentSource.leader: Label("本单位安排", "assigned by own unit"),
    AssignmentSource.signup: Label("本人报名", "signed up"),
    AssignmentSource.dispatch: Label("跨区域调度", "dispatched"),
}


@dataclass(frozen=True)
class Placement:
    """How a volunteer comes to a shift: by their own unit, or dispatched by a grant's unit."""

    source: AssignmentSource
    dispatching_unit_id: int | None = None


def _depth(path: str) -> int:
    return path.count(".")


def dispatch_grant(principal: Principal, home_path: str, shift_path: str) -> Grant | None:
    """The caller's nearest grant that may dispatch between the two units.

    It must allow dispatch and be held at the 总队, a 大队 or a 中队 whose subtree contains
    both the volunteer's home unit and the shift's unit.
    """
    candidates = [
        grant
        for grant in principal.grants
        if DISPATCH in grant.actions
        and _depth(grant.unit_path) in DISPATCH_DEPTHS
        and home_path.startswith(grant.unit_path)
        and shift_path.startswith(grant.unit_path)
    ]
    return max(candidates, key=lambda g: _depth(g.unit_path), default=None)


def placement(principal: Principal, volunteer: Volunteer, shift: Shift) -> Placement:
    """Whether the caller may put ``volunteer`` on ``shift``, and as what.

    Raises:
        DomainError: the volunteer is from outside the shift's unit and the caller holds no
            dispatch over both units (403 ``dispatch_refused``).
    """
    if volunteer.unit_path.startswith(shift.unit_path) and principal.can(ASSIGN, shift.unit_path):
        return Placement(AssignmentSource.leader)
    grant = dispatch_grant(principal, volunteer.unit_path, shift.unit_path)
    if grant is not None:
        return Placement(AssignmentSource.dispatch, grant.unit_id)
    raise DomainError(
        text("不能调度该志愿者", "You may not dispatch this volunteer"),
        "dispatch_refused",
        403,
        [
            FieldError(
                "volunteer_id",
                "dispatch_scope",
                text(
                    "该志愿者不属于班次所在单位；跨区域调度只能由同时管辖志愿者所在单位和班次所在单位的"
                    "总队、大队或中队进行",
                    "The volunteer is not from the shift's unit; cross-region dispatch is done "
                    "only by the 总队, a 大队 or a 中队 whose area holds both the volunteer's "
                    "unit and the shift's",
                ),
            )
        ],
    )


# -- locking and loading ---------------------------------------------------------------------


def lock_shift(session: Session, shift_id: int) -> tuple[Shift, Task, Unit] | None:
    """The shift with its task and unit, in one query.

    The shift's row is locked for this transaction (PostgreSQL; SQLite locks at ``BEGIN``).
    """
    row = session.exec(
        select(Shift, Task, Unit)
        .join(Task, Task.id == Shift.task_id)
        .join(Unit, Unit.id == Shift.unit_id)
        .where(Shift.id == shift_id)
        .with_for_update(of=Shift)
        .execution_options(populate_existing=True)
    ).first()
    return (row[0], row[1], row[2]) if row else None


def lock_volunteer(session: Session, volunteer_id: int) -> tuple[Volunteer, Person] | None:
    """The volunteer with their person, the volunteer's row locked for this transaction.

    The overlap check that follows the lock sees every assignment committed before it.
    """
    row = session.exec(
        select(Volunteer, Person)
        .join(Person, Person.id == Volunteer.person_id)
        .where(Volunteer.id == volunteer_id)
        .with_for_update(of=Volunteer)
        .execution_options(populate_existing=True)
    ).first()
    return (row[0], row[1]) if row else None


def _unknown_volunteer(volunteer_id: int) -> DomainError:
    return DomainError(
        text("没有这名志愿者", "No such volunteer"),
        "not_found",
        404,
        [FieldError("volunteer_id", "unknown", str(volunteer_id))],
    )


def _staffable(shift: Shift, task: Task) -> None:
    if task.status not in STAFFING_STATUSES:
        raise wrong_status(task, Label("排班", "staff"))
    if shift.status != ShiftStatus.open:
        raise shift_closed(shift)
    if shift.ends_at <= utcnow():
        raise DomainError(
            text("班次已结束", "The shift is over"),
            "shift_over",
            409,
            [FieldError("shift_id", "shift_over", str(shift.id))],
        )


# -- assigning -------------------------------------------------------------------------------


def assign(
    platform: Platform,
    session: Session,
    principal: Principal,
    shift: Shift,
    volunteer_id: int,
    *,
    as_leader: bool = False,
    confirm_warnings: bool = False,
) -> Assignment:
    """Put a volunteer on a shift, as their leader or by dispatch (confirmed at once).

    Raises:
        DomainError: the task is not published or in progress, the shift is cancelled or
            over (409); no such volunteer (404); dispatch not allowed (403); a rule refuses
            (409 ``not_eligible``, one field error per rule); warnings not confirmed (409
            ``confirm_warnings``).
    """
    shift, task, unit = lock_shift(session, shift.id)
    _staffable(shift, task)
    locked = lock_volunteer(session, volunteer_id)
    if locked is None:
        raise _unknown_volunteer(volunteer_id)
    volunteer, person = locked
    how = placement(principal, volunteer, shift)
    eligibility = check_eligibility(
        platform, session, shift, task, volunteer, as_leader=as_leader, person=person, unit=unit
    )
    _decide(eligibility, confirm_warnings)
    assignment = _create(
        session,
        shift,
        volunteer,
        status=AssignmentStatus.confirmed,
        source=how.source,
        as_leader=as_leader,
        dispatched_by=how.dispatching_unit_id,
        by_user_id=principal.user_id,
        eligibility=eligibility,
    )
    _confirmed(platform, session, assignment)
    return assignment


def _decide(eligibility: Eligibility, confirm_warnings: bool) -> None:
    if not eligibility.eligible:
        raise refusal_error(eligibility)
    if eligibility.warnings and not confirm_warnings:
        raise warning_error(eligibility)


def _create(
    session: Session,
    shift: Shift,
    volunteer: Volunteer,
    *,
    status: AssignmentStatus,
    source: AssignmentSource,
    as_leader: bool,
    dispatched_by: int | None,
    by_user_id: int | None,
    eligibility: Eligibility,
) -> Assignment:
    assignment = Assignment(
        shift_id=shift.id,
        volunteer_id=volunteer.id,
        person_id=volunteer.person_id,
        unit_id=shift.unit_id,
        unit_path=shift.unit_path,
        home_unit_id=volunteer.unit_id,
        home_unit_path=volunteer.unit_path,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        status=status,
        source=source,
        is_leader=as_leader,
        dispatched_by_unit_id=dispatched_by,
        assigned_by_user_id=by_user_id,
        warnings=[finding.stored() for finding in eligibility.warnings],
        decided_at=utcnow() if status == AssignmentStatus.confirmed else None,
    )
    session.add(assignment)
    session.flush()
    return assignment


def _confirmed(platform: Platform, session: Session, assignment: Assignment) -> None:
    platform.emit(
        session,
        DomainEvent(
            "core.assignment.confirmed",
            unit_id=assignment.unit_id,
            payload={
                "assignment_id": assignment.id,
                "shift_id": assignment.shift_id,
                "volunteer_id": assignment.volunteer_id,
                "home_unit_id": assignment.home_unit_id,
                "source": str(assignment.source),
            },
        ),
    )
    notify(session, assignment, "confirmed")


def notify(session: Session, assignment: Assignment, change: str) -> None:
    """Record the notification job for a change of ``assignment`` (sent after commit)."""
    enqueue(
        session,
        NOTIFY_JOB,
        unit_id=assignment.unit_id,
        assignment_id=assignment.id,
        change=change,
    )


# -- signing up ------------------------------------------------------------------------------


def volunteer_of(session: Session, principal: Principal) -> Volunteer:
    """The caller's own volunteer record (through their account's person).

    Raises:
        DomainError: the account is not linked to a volunteer (409 ``not_a_volunteer``).
    """
    volunteer = session.exec(
        select(Volunteer)
        .join(User, User.person_id == Volunteer.person_id)
        .where(User.id == principal.user_id)
    ).first()
    if volunteer is None:
        raise DomainError(
            text("你的账户没有对应的志愿者档案", "Your account is not linked to a volunteer"),
            "not_a_volunteer",
            409,
            [FieldError("user", "not_a_volunteer", principal.username)],
        )
    return volunteer


def sign_up(platform: Platform, session: Session, principal: Principal, shift: Shift) -> Assignment:
    """The signed-in volunteer signs up for an open shift of their own unit.

    Confirmed at once, or ``requested`` until a leader approves when the task asks for it;
    warnings are kept on the assignment for the approving leader.

    Raises:
        DomainError: not a volunteer (409), sign-up not open on this task or shift (409),
            the shift not of the volunteer's unit (409 ``not_own_unit``), or a rule refuses
            (409 ``not_eligible``).
    """
    own = volunteer_of(session, principal)
    shift, task, unit = lock_shift(session, shift.id)
    _staffable(shift, task)
    if not task.allow_signup or shift.starts_at <= utcnow():
        raise DomainError(
            text("该班次不接受报名", "This shift does not take sign-ups"),
            "signup_closed",
            409,
            [FieldError("shift_id", "signup_closed", str(shift.id))],
        )
    if not own.unit_path.startswith(shift.unit_path):
        raise DomainError(
            text("只能报名本单位的班次", "You may sign up only for your own unit's shifts"),
            "not_own_unit",
            409,
            [FieldError("shift_id", "not_own_unit", str(shift.id))],
        )
    volunteer, person = lock_volunteer(session, own.id)
    eligibility = check_eligibility(
        platform, session, shift, task, volunteer, person=person, unit=unit
    )
    if not eligibility.eligible:
        raise refusal_error(eligibility)
    status = (
        AssignmentStatus.requested if task.signup_needs_approval else AssignmentStatus.confirmed
    )
    assignment = _create(
        session,
        shift,
        volunteer,
        status=status,
        source=AssignmentSource.signup,
        as_leader=False,
        dispatched_by=None,
        by_user_id=principal.user_id,
        eligibility=eligibility,
    )
    if status == AssignmentStatus.confirmed:
        _confirmed(platform, session, assignment)
    else:
        notify(session, assignment, "requested")
    return assignment


# -- deciding and cancelling -----------------------------------------------------------------


def _wrong_assignment_status(assignment: Assignment, wanted: Label) -> DomainError:
    current = STATUS_LABELS[AssignmentStatus(assignment.status)]
    return DomainError(
        text(
            f"该排班当前为「{current.zh}」，不能{wanted.zh}",
            f"The assignment is {current.en}; cannot {wanted.en.lower()} it",
        ),
        "wrong_status",
        409,
        [FieldError("status", "wrong_status", str(assignment.status))],
    )


def _reason(reason: str | None) -> str:
    cleaned = (reason or "").strip()[:500]
    if not cleaned:
        raise DomainError(
            text("须说明理由", "A reason is required"),
            "validation_failed",
            400,
            [FieldError("reason", "missing", text("必填", "is required"))],
        )
    return cleaned


def approve(
    platform: Platform, session: Session, principal: Principal, assignment: Assignment
) -> Assignment:
    """Confirm a sign-up, checking the rules again as they stand now.

    Raises:
        DomainError: not awaiting approval (409), the task or shift closed (409), or a rule
            now refuses (409 ``not_eligible``).
    """
    if assignment.status != AssignmentStatus.requested:
        raise _wrong_assignment_status(assignment, Label("批准", "approve"))
    shift, task, unit = lock_shift(session, assignment.shift_id)
    _staffable(shift, task)
    volunteer, person = lock_volunteer(session, assignment.volunteer_id)
    eligibility = check_eligibility(
        platform,
        session,
        shift,
        task,
        volunteer,
        exclude_assignment_id=assignment.id,
        person=person,
        unit=unit,
    )
    if not eligibility.eligible:
        raise refusal_error(eligibility)
    assignment.status = AssignmentStatus.confirmed
    assignment.decided_at = utcnow()
    assignment.assigned_by_user_id = principal.user_id
    assignment.warnings = [finding.stored() for finding in eligibility.warnings]
    session.add(assignment)
    session.flush()
    _confirmed(platform, session, assignment)
    return assignment


def decline(session: Session, assignment: Assignment, reason: str | None) -> Assignment:
    """Decline a sign-up, with a reason the volunteer is told."""
    cleaned = _reason(reason)
    if assignment.status != AssignmentStatus.requested:
        raise _wrong_assignment_status(assignment, Label("不予批准", "decline"))
    assignment.status = AssignmentStatus.declined
    assignment.reason = cleaned
    assignment.decided_at = utcnow()
    session.add(assignment)
    session.flush()
    notify(session, assignment, "declined")
    return assignment


def cancel(
    platform: Platform, session: Session, assignment: Assignment, reason: str | None
) -> Assignment:
    """Take a volunteer off a shift before they checked in, with a reason they are told."""
    cleaned = _reason(reason)
    if assignment.status not in HOLDING_STATUSES:
        raise _wrong_assignment_status(assignment, Label("取消", "cancel"))
    if assignment.checked_in_at is not None:
        raise DomainError(
            text(
                "志愿者已签到，不能取消排班", "The volunteer has checked in; it cannot be cancelled"
            ),
            "checked_in",
            409,
            [FieldError("status", "checked_in", str(assignment.id))],
        )
    _cancel(platform, session, assignment, cleaned)
    return assignment


def _cancel(platform: Platform, session: Session, assignment: Assignment, reason: str) -> None:
    was_confirmed = assignment.status == AssignmentStatus.confirmed
    assignment.status = AssignmentStatus.cancelled
    assignment.reason = reason
    assignment.decided_at = utcnow()
    session.add(assignment)
    session.flush()
    if was_confirmed:
        platform.emit(
            session,
            DomainEvent(
                "core.assignment.cancelled",
                unit_id=assignment.unit_id,
                payload={"assignment_id": assignment.id, "volunteer_id": assignment.volunteer_id},
            ),
        )
    notify(session, assignment, "cancelled")


def withdraw_own(
    platform: Platform, session: Session, principal: Principal, assignment_id: int
) -> Assignment:
    """The volunteer takes back their own sign-up or assignment before the shift starts.

    Raises:
        DomainError: not theirs (404), no longer holding (409), or the shift has started (409).
    """
    own = volunteer_of(session, principal)
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.volunteer_id != own.id:
        raise DomainError(
            text("没有这条排班", "No such assignment"),
            "not_found",
            404,
            [FieldError("assignment_id", "unknown", str(assignment_id))],
        )
    if assignment.status not in HOLDING_STATUSES:
        raise _wrong_assignment_status(assignment, Label("撤回", "withdraw"))
    if assignment.starts_at <= utcnow():
        raise DomainError(
            text("班次已开始，请联系带班或负责人", "The shift has started; ask your leader"),
            "shift_started",
            409,
            [FieldError("assignment_id", "shift_started", str(assignment.id))],
        )
    _cancel(platform, session, assignment, text("本人撤回", "withdrawn by the volunteer"))
    return assignment


def cancel_holding(
    platform: Platform, session: Session, shift: Shift, by_user_id: int | None, reason: str
) -> int:
    """Cancel every assignment holding ``shift`` (the shift or its task is cancelled)."""
    holding = session.exec(
        select(Assignment).where(
            Assignment.shift_id == shift.id, col(Assignment.status).in_(HOLDING_STATUSES)
        )
    ).all()
    for assignment in holding:
        _cancel(platform, session, assignment, reason)
    return len(holding)


# -- reading ---------------------------------------------------------------------------------


def shift_roster(session: Session, shift_id: int) -> list[tuple[Assignment, str, str]]:
    """The shift's assignments, holding ones first, with the volunteer's name and home unit."""
    order = sa.case((col(Assignment.status).in_(HOLDING_STATUSES), 0), else_=1)
    return list(
        session.exec(
            select(Assignment, Person.name, Unit.name)
            .join(Person, Person.id == Assignment.person_id)
            .join(Unit, Unit.id == Assignment.home_unit_id)
            .where(Assignment.shift_id == shift_id)
            .order_by(order, Assignment.id)
        ).all()
    )
