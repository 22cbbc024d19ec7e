"""Points (places on duty) and shifts (a time slot at a point, with a headcount).

"时段细化到点": a shift belongs to a task and to the task's unit, stands at a point of that
unit's subtree, lies inside the task's dates (China time), lasts at most 24 hours, and needs
between ``min_headcount`` and ``max_headcount`` people. Its ``checkin_secret`` (random, in the
shift's QR code) lets the volunteers on it check in.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, func, select

from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.taxonomy import SKILLS
from core.platform import Platform
from core.tasks.models import (
    HOLDING_STATUSES,
    Assignment,
    Point,
    Shift,
    ShiftStatus,
    Task,
)
from core.tasks.rules import LONGEST_SHIFT, as_utc, local_midnight
from core.tasks.services import OPEN_STATUSES, invalid, modules_at, wrong_status
from core.units.models import Unit


def task_window(task: Task) -> tuple[datetime, datetime]:
    """From the first day's midnight to the midnight after the last day, China time."""
    return local_midnight(task.starts_on), local_midnight(task.ends_on + timedelta(days=1))


# -- points ----------------------------------------------------------------------------------


@dataclass
class PointInput:
    """A point's details (``None``: not given / unchanged)."""

    name: str | None = None
    address: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    radius_m: int | None = None
    active: bool | None = None


def _check_point(point: Point) -> list[FieldError]:
    errors = []
    if not point.name or not point.name.strip():
        errors.append(FieldError("name", "missing", text("必填", "is required")))
    if (point.latitude is None) != (point.longitude is None):
        errors.append(
            FieldError(
                "longitude" if point.longitude is None else "latitude",
                "coordinates_pair",
                text("经纬度须同时填写", "latitude and longitude go together"),
            )
        )
    if point.radius_m is not None and point.latitude is None:
        errors.append(
            FieldError(
                "radius_m",
                "needs_coordinates",
                text("设置签到半径须先填写经纬度", "a check-in radius needs coordinates"),
            )
        )
    return errors


def create_point(session: Session, unit: Unit, data: PointInput) -> Point:
    """Add a point at ``unit``.

    Raises:
        DomainError: a field breaks a rule (400, each named).
    """
    point = Point(
        unit_id=unit.id,
        unit_path=unit.path,
        name=(data.name or "").strip(),
        address=(data.address or "").strip(),
        latitude=data.latitude,
        longitude=data.longitude,
        radius_m=data.radius_m,
    )
    errors = _check_point(point)
    if errors:
        raise invalid(errors, ("点位信息有误", "The point's details are invalid"))
    session.add(point)
    session.flush()
    return point


def update_point(session: Session, point: Point, data: PointInput) -> Point:
    """Change a point's details or switch it off (its past shifts stay)."""
    for name in ("name", "address", "latitude", "longitude", "radius_m", "active"):
        value = getattr(data, name)
        if value is not None:
            setattr(point, name, value.strip() if isinstance(value, str) else value)
    errors = _check_point(point)
    if errors:
        session.rollback()
        raise invalid(errors, ("点位信息有误", "The point's details are invalid"))
    session.add(point)
    session.flush()
    return point


# -- shifts ----------------------------------------------------------------------------------


@dataclass
class ShiftInput:
    """A shift's details (``None``: not given / unchanged)."""

    point_id: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    min_headcount: int | None = None
    max_headcount: int | None = None
    leader_slot: bool | None = None
    required_skills: list[str] | None = None
    required_modules: list[str] | None = None


def holding_count(session: Session, shift_id: int) -> int:
    """Assignments holding a place on the shift (confirmed, and sign-ups awaiting approval)."""
    return session.exec(
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.shift_id == shift_id, col(Assignment.status).in_(HOLDING_STATUSES))
    ).one()


def _check_shift(
    platform: Platform, session: Session, task: Task, shift: Shift
) -> list[FieldError]:
    errors = []
    point = session.get(Point, shift.point_id) if shift.point_id else None
    if point is None or not point.active or not point.unit_path.startswith(task.unit_path):
        errors.append(
            FieldError(
                "point_id",
                "unknown_point",
                text(
                    "点位须是任务所属单位（或其下级）在用的点位",
                    "the point must be an active point of the task's unit or a unit below it",
                ),
            )
        )
    if shift.ends_at <= shift.starts_at:
        errors.append(
            FieldError(
                "ends_at", "ends_before_start", text("须晚于开始时间", "must be after the start")
            )
        )
    elif shift.ends_at - shift.starts_at > LONGEST_SHIFT:
        errors.append(
            FieldError(
                "ends_at",
                "too_long",
                text("一个班次最长 24 小时", "a shift lasts at most 24 hours"),
            )
        )
    low, high = task_window(task)
    if shift.starts_at < low or shift.ends_at > high:
        errors.append(
            FieldError(
                "starts_at" if shift.starts_at < low else "ends_at",
                "outside_task",
                text(
                    f"须在任务日期 {task.starts_on} 至 {task.ends_on} 之内",
                    f"must lie within the task's dates, {task.starts_on} to {task.ends_on}",
                ),
            )
        )
    if shift.max_headcount < 1:
        errors.append(
            FieldError("max_headcount", "greater_than_equal", text("至少为 1", "at least 1"))
        )
    if shift.min_headcount < 0:
        errors.append(
            FieldError("min_headcount", "greater_than_equal", text("不能为负", "at least 0"))
        )
    if shift.max_headcount < shift.min_headcount:
        errors.append(
            FieldError(
                "max_headcount",
                "below_minimum",
                text("不能少于最少人数", "must not be below the minimum headcount"),
            )
        )
    unknown = sorted(set(shift.required_skills) - set(SKILLS))
    if unknown:
        errors.append(
            FieldError(
                "required_skills",
                "unknown",
                text("未知的特长：", "unknown skills: ") + ", ".join(unknown),
            )
        )
    unit = session.get(Unit, task.unit_id)
    unknown = sorted(set(shift.required_modules) - modules_at(platform, session, unit))
    if unknown:
        errors.append(
            FieldError(
                "required_modules",
                "unknown",
                text("本单位的培训目录中没有：", "not in this unit's training catalogue: ")
                + ", ".join(unknown),
            )
        )
    return errors


def create_shift(platform: Platform, session: Session, task: Task, data: ShiftInput) -> Shift:
    """Add a shift to an open task.

    Raises:
        DomainError: the task is completed or cancelled (409), or a field breaks a rule
            (400, each named).
    """
    if task.status not in OPEN_STATUSES:
        raise wrong_status(task, Label("添加班次", "add shifts to"))
    missing = [
        FieldError(name, "missing", text("必填", "is required"))
        for name in ("point_id", "starts_at", "ends_at")
        if getattr(data, name) is None
    ]
    if missing:
        raise invalid(missing, ("班次信息有误", "The shift's details are invalid"))
    shift = Shift(
        task_id=task.id,
        unit_id=task.unit_id,
        unit_path=task.unit_path,
        point_id=data.point_id,
        starts_at=as_utc(data.starts_at),
        ends_at=as_utc(data.ends_at),
        min_headcount=data.min_headcount if data.min_headcount is not None else 1,
        max_headcount=data.max_headcount
        if data.max_headcount is not None
        else max(1, data.min_headcount or 1),
        leader_slot=bool(data.leader_slot),
        required_skills=sorted(set(data.required_skills or [])),
        required_modules=sorted(set(data.required_modules or [])),
        checkin_secret=secrets.token_urlsafe(24),
    )
    errors = _check_shift(platform, session, task, shift)
    if errors:
        raise invalid(errors, ("班次信息有误", "The shift's details are invalid"))
    session.add(shift)
    session.flush()
    return shift


def update_shift(platform: Platform, session: Session, shift: Shift, data: ShiftInput) -> Shift:
    """Change an open shift. Its times and point stay while people are on it.

    Raises:
        DomainError: the shift or its task is closed (409), times or point change while
            assignments hold it (409), or a field breaks a rule (400).
    """
    task = session.get(Task, shift.task_id)
    if task.status not in OPEN_STATUSES:
        raise wrong_status(task, Label("修改班次", "change shifts of"))
    if shift.status != ShiftStatus.open:
        raise shift_closed(shift)
    held = holding_count(session, shift.id)
    moving = any(
        value is not None and as_utc(value) != getattr(shift, name)
        if name != "point_id"
        else value is not None and value != shift.point_id
        for name, value in (
            ("starts_at", data.starts_at),
            ("ends_at", data.ends_at),
            ("point_id", data.point_id),
        )
    )
    if moving and held:
        raise DomainError(
            text(
                "班次已有人员，不能更改时间或点位；请取消后重新排班",
                "People are on this shift: its time and point cannot change; cancel it and "
                "make a new one",
            ),
            "has_assignments",
            409,
            [FieldError("starts_at", "has_assignments", str(held))],
        )
    for name in ("point_id", "min_headcount", "max_headcount", "leader_slot"):
        value = getattr(data, name)
        if value is not None:
            setattr(shift, name, value)
    if data.starts_at is not None:
        shift.starts_at = as_utc(data.starts_at)
    if data.ends_at is not None:
        shift.ends_at = as_utc(data.ends_at)
    if data.required_skills is not None:
        shift.required_skills = sorted(set(data.required_skills))
    if data.required_modules is not None:
        shift.required_modules = sorted(set(data.required_modules))
    errors = _check_shift(platform, session, task, shift)
    if shift.max_headcount < held:
        errors.append(
            FieldError(
                "max_headcount",
                "below_assigned",
                text(f"已有 {held} 人在岗", f"{held} people are already on it"),
            )
        )
    if errors:
        session.rollback()
        raise invalid(errors, ("班次信息有误", "The shift's details are invalid"))
    session.add(shift)
    session.flush()
    return shift


def shift_closed(shift: Shift) -> DomainError:
    """409: the shift is cancelled."""
    return DomainError(
        text("该班次已取消", "This shift is cancelled"),
        "shift_cancelled",
        409,
        [FieldError("shift_id", "cancelled", str(shift.id))],
    )


def cancel_shift(
    platform: Platform, session: Session, shift: Shift, *, by_user_id: int | None, reason: str
) -> Shift:
    """Cancel a shift; the assignments holding it are cancelled and their volunteers told.

    Raises:
        DomainError: no reason (400), or the shift is already cancelled (409).
    """
    from core.tasks.assignments import cancel_holding  # assignments builds on this module

    cleaned = (reason or "").strip()[:500]
    if not cleaned:
        raise invalid(
            [FieldError("reason", "missing", text("必填", "is required"))],
            ("取消班次须说明理由", "A reason is required to cancel a shift"),
        )
    if shift.status != ShiftStatus.open:
        raise shift_closed(shift)
    shift.status = ShiftStatus.cancelled
    session.add(shift)
    cancel_holding(platform, session, shift, by_user_id, cleaned)
    session.flush()
    return shift
