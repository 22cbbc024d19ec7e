"""The append-only service-hours ledger: confirming hours, and corrections as new entries.

Entries are only ever inserted. The session refuses to flush a changed or deleted
:class:`HoursEntry` and to execute an UPDATE or DELETE aimed at ``hours_entry`` (the guard is
installed on every session when this module is imported, like the audit recorder), so a
certificate printed from the ledger stays true. The one exception is where an entry is held:
a unit's move or merge re-scopes its ``unit_id``/``unit_path`` like every record's. A
wrong entry is put right by a :class:`HoursCorrection`: asked for with a reason, decided by
someone else, and on approval written as a new ``correction`` entry holding the signed
difference, pointing at the original.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, col, func, select

from core.accounts.models import User
from core.accounts.principal import Principal
from core.errors import DomainError, FieldError
from core.hours.models import CorrectionStatus, EntryKind, HoursCorrection, HoursEntry
from core.hours.permissions import APPROVE, CORRECT, RECORD
from core.hours.rules import credit, minutes_between, rule_at, service_date
from core.hours.totals import refresh_totals
from core.i18n import text
from core.tasks.models import Assignment, AssignmentStatus, Shift
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer


class LedgerIsAppendOnly(DomainError):
    """An attempt to change or remove a ledger entry."""


def _refusal(what: str) -> LedgerIsAppendOnly:
    return LedgerIsAppendOnly(
        text(
            f"服务时长记录只能追加，不能{what}；请提出更正",
            f"Service-hour entries are append-only and cannot be {what}; ask for a correction",
        ),
        "append_only",
        409,
    )


#: Where an entry is held, which a unit's move or merge re-scopes (``core.units.moves``):
#: that changes who sees the entry, not what it records, so it is the one update allowed.
SCOPE_COLUMNS = frozenset({"unit_id", "unit_path", "home_unit_id", "home_unit_path"})


def _changed_columns(instance: HoursEntry) -> set[str]:
    state = sa.inspect(instance)
    return {attr.key for attr in state.attrs if attr.history.has_changes()}


@event.listens_for(Session, "before_flush")
def _refuse_changed_entries(session: Session, _context: Any, _instances: Any) -> None:
    for instance in session.deleted:
        if isinstance(instance, HoursEntry):
            raise _refusal(text("删除", "deleted"))
    for instance in session.dirty:
        if isinstance(instance, HoursEntry) and _changed_columns(instance) - SCOPE_COLUMNS:
            raise _refusal(text("修改", "changed"))


def _set_columns(statement: Any) -> set[str]:
    """The columns an UPDATE statement sets (every column when it cannot tell)."""
    values = getattr(statement, "_values", None) or dict(
        getattr(statement, "_ordered_values", None) or ()
    )
    if not values or getattr(statement, "_multi_values", None):
        return {"*"}
    return {getattr(column, "key", str(column)) for column in values}


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_statements(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is None or getattr(table, "name", None) != HoursEntry.__tablename__:
        return
    if state.is_delete:
        raise _refusal(text("删除", "deleted"))
    if _set_columns(state.statement) - SCOPE_COLUMNS:
        raise _refusal(text("修改", "changed"))


# -- who may act on a shift --------------------------------------------------------------


def user_person_id(session: Session, principal: Principal) -> int | None:
    """The person record of the signed-in user, if the account belongs to one."""
    return session.exec(select(User.person_id).where(User.id == principal.user_id)).first()


def leads_shift(session: Session, principal: Principal, shift: Shift) -> bool:
    """Whether the user is this shift's leader (带班): a confirmed leader assignment on it."""
    person_id = user_person_id(session, principal)
    if person_id is None:
        return False
    found = session.exec(
        select(Assignment.id).where(
            Assignment.shift_id == shift.id,
            Assignment.person_id == person_id,
            Assignment.is_leader == sa.true(),
            Assignment.status == AssignmentStatus.confirmed,
        )
    ).first()
    return found is not None


def may_record(session: Session, principal: Principal, shift: Shift) -> bool:
    """The unit's leaders (``core.hours.record`` over the shift's unit) or the shift's leader."""
    return principal.can(RECORD, shift.unit_path) or leads_shift(session, principal, shift)


def require_recorder(session: Session, principal: Principal, shift: Shift) -> None:
    """Refuse (403, saying why) anyone who neither leads the shift nor leads its unit."""
    if not may_record(session, principal, shift):
        raise DomainError(
            text(
                "只有本时段的带班或所属单位负责人可以代为签到和确认时长",
                "Only the shift's leader or a leader of its unit may do this",
            ),
            "not_allowed",
            403,
        )


def refuse_own(session: Session, principal: Principal, assignment: Assignment, what: str) -> None:
    """Nobody records for themselves on someone's behalf, nor confirms their own hours."""
    if user_person_id(session, principal) == assignment.person_id:
        raise DomainError(
            text(f"不能为本人{what}", f"You cannot {what} for yourself"),
            "not_allowed",
            403,
            [FieldError("assignment_id", "own", str(assignment.id))],
        )


# -- confirming hours --------------------------------------------------------------------


def presence_minutes(assignment: Assignment) -> int:
    """Minutes present within the slot: check-in to check-out, clipped to the shift's times.

    Arriving early or leaving late is not service time the unit planned (travel and waiting
    are excluded, as the national rules ask).
    """
    if assignment.checked_in_at is None or assignment.checked_out_at is None:
        return 0
    start = max(assignment.checked_in_at, assignment.starts_at)
    end = min(assignment.checked_out_at, assignment.ends_at)
    return minutes_between(start, end)


def confirm(
    session: Session, principal: Principal, assignment: Assignment, *, now: datetime | None = None
) -> HoursEntry:
    """Write the ledger entry of one checked-out assignment under the unit's rule of its day.

    Raises:
        DomainError: not checked in and out (409), already confirmed (409), one's own (403).
    """
    refuse_own(session, principal, assignment, text("确认时长", "confirm hours"))
    if assignment.status != AssignmentStatus.confirmed:
        raise DomainError(
            text("该安排未确认，不能记录时长", "The assignment is not confirmed"),
            "wrong_status",
            409,
            [FieldError("status", "confirmed", str(assignment.status))],
        )
    if assignment.checked_in_at is None or assignment.checked_out_at is None:
        missing = "checked_in_at" if assignment.checked_in_at is None else "checked_out_at"
        raise DomainError(
            text("尚未签到和签退，不能确认时长", "Not checked in and out yet"),
            "not_checked_out",
            409,
            [FieldError(missing, "missing", text("尚未记录", "not recorded yet"))],
        )
    existing = session.exec(
        select(HoursEntry.id).where(
            HoursEntry.assignment_id == assignment.id, HoursEntry.kind == EntryKind.service
        )
    ).first()
    if existing is not None:
        raise DomainError(
            text("该时段的时长已确认", "These hours are already confirmed"),
            "already_confirmed",
            409,
            [FieldError("assignment_id", "unique", str(assignment.id))],
        )
    unit = session.get(Unit, assignment.unit_id)
    day = service_date(assignment.starts_at)
    rule = rule_at(session, unit, day)
    slot = minutes_between(assignment.starts_at, assignment.ends_at)
    result = credit(presence_minutes(assignment), slot, rule)
    entry = HoursEntry(
        volunteer_id=assignment.volunteer_id,
        kind=EntryKind.service,
        assignment_id=assignment.id,
        unit_id=assignment.unit_id,
        unit_path=assignment.unit_path,
        home_unit_id=assignment.home_unit_id,
        home_unit_path=assignment.home_unit_path,
        service_date=day,
        minutes_present=result.minutes_present,
        hours=result.hours,
        rule={
            **rule.as_json(),
            "slot_minutes": slot,
            "valid": result.valid,
            "checked_in_at": assignment.checked_in_at.isoformat(),
            "checked_out_at": assignment.checked_out_at.isoformat(),
            "check_in_method": str(assignment.check_in_method),
            "check_out_method": str(assignment.check_out_method),
        },
        reason=result.reason,
        recorded_by_user_id=principal.user_id,
        recorded_at=now or utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def confirmable(session: Session, shift: Shift) -> list[Assignment]:
    """The shift's checked-out assignments whose hours are not in the ledger yet."""
    confirmed = select(HoursEntry.assignment_id).where(
        col(HoursEntry.assignment_id).is_not(None), HoursEntry.kind == EntryKind.service
    )
    return list(
        session.exec(
            select(Assignment)
            .where(
                Assignment.shift_id == shift.id,
                Assignment.status == AssignmentStatus.confirmed,
                col(Assignment.checked_out_at).is_not(None),
                col(Assignment.id).not_in(confirmed),
            )
            .order_by(Assignment.id)
        ).all()
    )


def confirm_shift(session: Session, principal: Principal, shift: Shift) -> list[HoursEntry]:
    """Confirm every checked-out assignment of the shift (but one's own); refresh totals."""
    require_recorder(session, principal, shift)
    own = user_person_id(session, principal)
    entries = [
        confirm(session, principal, assignment)
        for assignment in confirmable(session, shift)
        if assignment.person_id != own
    ]
    refresh_totals(session, [entry.volunteer_id for entry in entries])
    return entries


# -- corrections -------------------------------------------------------------------------


def original_of(session: Session, entry: HoursEntry) -> HoursEntry:
    """The entry a correction corrects (an original entry is its own)."""
    if entry.kind == EntryKind.correction and entry.corrects_id is not None:
        return session.get(HoursEntry, entry.corrects_id)
    return entry


def effective_hours(session: Session, original: HoursEntry) -> Decimal:
    """An original entry's hours with every approved correction of it added."""
    corrections = session.exec(
        select(func.coalesce(func.sum(HoursEntry.hours), 0)).where(
            HoursEntry.corrects_id == original.id
        )
    ).one()
    return Decimal(original.hours) + Decimal(corrections)


def _own_entry(session: Session, principal: Principal, entry: HoursEntry) -> bool:
    person_id = user_person_id(session, principal)
    if person_id is None:
        return False
    volunteer = session.get(Volunteer, entry.volunteer_id)
    return volunteer is not None and volunteer.person_id == person_id


def request_correction(
    session: Session, principal: Principal, entry: HoursEntry, new_hours: Decimal, reason: str
) -> HoursCorrection:
    """Ask for an entry's hours to become ``new_hours``, with a reason.

    The recording unit's leaders may ask (``core.hours.correct`` over the entry's unit), and
    so may the volunteer for their own entries. One open request per entry at a time.
    """
    original = original_of(session, entry)
    if not (principal.can(CORRECT, original.unit_path) or _own_entry(session, principal, original)):
        raise DomainError(
            text(
                "只有记录单位或志愿者本人可以申请更正",
                "Only the recording unit or the volunteer may ask",
            ),
            "not_allowed",
            403,
        )
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError(
            text("请填写更正理由", "Give the reason for the correction"),
            "validation_failed",
            400,
            [FieldError("reason", "missing", text("必填", "is required"))],
        )
    if new_hours < 0 or new_hours > Decimal("24"):
        raise DomainError(
            text("更正后的时长应在 0 到 24 小时之间", "Hours must be between 0 and 24"),
            "validation_failed",
            400,
            [FieldError("new_hours", "range", "0–24")],
        )
    if new_hours == effective_hours(session, original):
        raise DomainError(
            text("更正后的时长与现有时长相同", "That is the entry's hours already"),
            "validation_failed",
            400,
            [FieldError("new_hours", "unchanged", str(new_hours))],
        )
    pending = session.exec(
        select(HoursCorrection.id).where(
            HoursCorrection.entry_id == original.id,
            HoursCorrection.status == CorrectionStatus.pending,
        )
    ).first()
    if pending is not None:
        raise DomainError(
            text("该记录已有待审批的更正", "A correction of this entry is already waiting"),
            "conflict",
            409,
            [FieldError("entry_id", "pending_correction", str(pending))],
        )
    correction = HoursCorrection(
        entry_id=original.id,
        volunteer_id=original.volunteer_id,
        unit_path=original.unit_path,
        new_hours=new_hours,
        reason=reason[:500],
        requested_by_user_id=principal.user_id,
    )
    session.add(correction)
    session.flush()
    return correction


def may_decide(session: Session, principal: Principal, correction: HoursCorrection) -> bool:
    """Whether the principal may decide: ``core.hours.approve`` over the entry's unit.

    Never the requester, nor the volunteer whose hours they are.
    """
    if correction.status != CorrectionStatus.pending:
        return False
    if not principal.can(APPROVE, correction.unit_path):
        return False
    if correction.requested_by_user_id == principal.user_id:
        return False
    volunteer = session.get(Volunteer, correction.volunteer_id)
    return volunteer is None or volunteer.person_id != user_person_id(session, principal)


@dataclass(frozen=True)
class Decision:
    """A decided correction and the entry its approval wrote (None when rejected)."""

    correction: HoursCorrection
    entry: HoursEntry | None


def decide_correction(
    session: Session,
    principal: Principal,
    correction: HoursCorrection,
    approve: bool,
    reason: str | None = None,
) -> Decision:
    """Approve (a new correction entry with the difference) or reject, with who and when.

    Raises:
        DomainError: decided already (409); the requester or the volunteer deciding (403).
    """
    if correction.status != CorrectionStatus.pending:
        raise DomainError(
            text("该更正已审批", "This correction has been decided"),
            "wrong_status",
            409,
            [FieldError("status", "pending", str(correction.status))],
        )
    if not may_decide(session, principal, correction):
        raise DomainError(
            text(
                "更正须由申请人和志愿者本人以外、有审批权限的人审批",
                "A correction is decided by someone with the right other than the requester "
                "and the volunteer",
            ),
            "not_allowed",
            403,
        )
    reason = (reason or "").strip()[:500] or None
    if not approve and not reason:
        raise DomainError(
            text("驳回须填写理由", "Give a reason to reject"),
            "validation_failed",
            400,
            [FieldError("reason", "missing", text("必填", "is required"))],
        )
    now = utcnow()
    entry = None
    if approve:
        original = session.get(HoursEntry, correction.entry_id)
        before = effective_hours(session, original)
        entry = HoursEntry(
            volunteer_id=original.volunteer_id,
            kind=EntryKind.correction,
            corrects_id=original.id,
            unit_id=original.unit_id,
            unit_path=original.unit_path,
            home_unit_id=original.home_unit_id,
            home_unit_path=original.home_unit_path,
            service_date=original.service_date,
            hours=Decimal(correction.new_hours) - before,
            rule={
                "correction_id": correction.id,
                "hours_before": str(before),
                "hours_after": str(correction.new_hours),
                "requested_by_user_id": correction.requested_by_user_id,
            },
            reason=correction.reason,
            recorded_by_user_id=principal.user_id,
            recorded_at=now,
        )
        session.add(entry)
        session.flush()
        correction.result_entry_id = entry.id
    correction.status = CorrectionStatus.approved if approve else CorrectionStatus.rejected
    correction.decided_by_user_id = principal.user_id
    correction.decided_at = now
    correction.decision_reason = reason
    session.add(correction)
    session.flush()
    if entry is not None:
        refresh_totals(session, [entry.volunteer_id])
    return Decision(correction, entry)
