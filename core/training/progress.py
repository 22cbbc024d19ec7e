"""Annual training plans, and what was achieved, for a unit's subtree and each child's.

The 2009 policy asks every level for an annual plan (年度计划) carried down to each unit. A
unit's plan for a year is a list of targets, each one of four metrics, for all modules or for
one module. What counts, always for the unit's whole subtree and the local calendar year:

* ``sessions`` — completed sessions organised by units in the subtree (teaching the module);
* ``trainees`` — distinct people of the subtree who attended a completed session (of the
  module), counted by the unit they belonged to when they enrolled;
* ``qualified`` — qualifications granted in the year to people of the subtree, not revoked
  (of the module);
* ``hours`` — hours of training those people attended (of the module), in person-hours.

Rolled up the tree: a unit's figure covers everything below it; its children's figures come
from the same queries split by child (one ``CASE`` over the children's path ranges), so each
child's figure is exactly what that child's own page shows.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from core.access import path_in
from core.contributions import Label, TrainingModule
from core.errors import DomainError, FieldError
from core.i18n import text
from core.training.dates import year_bounds
from core.training.models import (
    EnrolmentStatus,
    Qualification,
    SessionStatus,
    TrainingEnrolment,
    TrainingPlan,
    TrainingPlanTarget,
    TrainingSession,
    TrainingSessionModule,
)
from core.training.qualifications import valid_on
from core.training.records import hours_of
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer, VolunteerStatus

METRICS: dict[str, Label] = {
    "sessions": Label("培训场次", "Sessions held"),
    "trainees": Label("参训人数", "People trained"),
    "qualified": Label("取得资格人次", "Qualifications granted"),
    "hours": Label("培训学时（人·小时）", "Training hours (person-hours)"),
}
MAX_TARGETS = 50

Figure = int | Decimal


def _bucket(column, unit: Unit, children: Sequence[Unit]):
    """Which child's subtree a path lies in (the unit's own id for anything else)."""
    if not children:
        return sa.literal(unit.id)
    return sa.case(*[(path_in(column, child.path), child.id) for child in children], else_=unit.id)


def measure(
    session: Session,
    unit: Unit,
    year: int,
    metric: str,
    module_code: str | None = None,
    children: Sequence[Unit] = (),
) -> dict[int, Figure]:
    """``metric`` for ``unit``'s subtree in ``year``, split by ``children`` when given.

    Returns:
        Unit id → figure: without ``children`` just ``{unit.id: total}``; with them one
        entry per child that has anything, and ``unit.id`` for what lies in none of them.
    """
    low, high = year_bounds(year)
    if metric == "sessions":
        bucket = _bucket(TrainingSession.unit_path, unit, children)
        query = (
            sa.select(bucket, sa.func.count(sa.distinct(TrainingSession.id)))
            .select_from(TrainingSession)
            .where(
                path_in(TrainingSession.unit_path, unit.path),
                TrainingSession.status == SessionStatus.completed,
                TrainingSession.starts_at >= low,
                TrainingSession.starts_at < high,
            )
            .group_by(bucket)
        )
        if module_code:
            query = query.join(
                TrainingSessionModule, TrainingSessionModule.session_id == TrainingSession.id
            ).where(TrainingSessionModule.module_code == module_code)
    elif metric in ("trainees", "hours"):
        bucket = _bucket(TrainingEnrolment.unit_path, unit, children)
        value = (
            sa.func.count(sa.distinct(TrainingEnrolment.person_id))
            if metric == "trainees"
            else sa.func.sum(TrainingSessionModule.minutes)
        )
        query = (
            sa.select(bucket, value)
            .select_from(TrainingEnrolment)
            .join(TrainingSession, TrainingSession.id == TrainingEnrolment.session_id)
            .join(TrainingSessionModule, TrainingSessionModule.session_id == TrainingSession.id)
            .where(
                path_in(TrainingEnrolment.unit_path, unit.path),
                TrainingEnrolment.status == EnrolmentStatus.enrolled,
                TrainingEnrolment.attended.is_(True),
                TrainingSession.status == SessionStatus.completed,
                TrainingSession.starts_at >= low,
                TrainingSession.starts_at < high,
            )
            .group_by(bucket)
        )
        if module_code:
            query = query.where(TrainingSessionModule.module_code == module_code)
    elif metric == "qualified":
        bucket = _bucket(Qualification.unit_path, unit, children)
        query = (
            sa.select(bucket, sa.func.count(Qualification.id))
            .where(
                path_in(Qualification.unit_path, unit.path),
                col(Qualification.revoked_at).is_(None),
                Qualification.granted_on >= date(year, 1, 1),
                Qualification.granted_on <= date(year, 12, 31),
            )
            .group_by(bucket)
        )
        if module_code:
            query = query.where(Qualification.module_code == module_code)
    else:
        raise ValueError(f"unknown metric {metric!r}")
    figures: dict[int, Figure] = {}
    for bucket_id, value in session.execute(query).all():
        figures[bucket_id] = hours_of(value) if metric == "hours" else int(value or 0)
    return figures


def total(
    session: Session, unit: Unit, year: int, metric: str, module_code: str | None = None
) -> Figure:
    """``metric`` for ``unit``'s whole subtree in ``year``."""
    zero: Figure = Decimal("0.00") if metric == "hours" else 0
    return measure(session, unit, year, metric, module_code).get(unit.id, zero)


# -- plans ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetInput:
    """A target as asked for: a metric, optionally one module, a positive number."""

    metric: str
    target: int
    module_code: str | None = None


def plan_of(session: Session, unit: Unit, year: int) -> TrainingPlan | None:
    """The unit's plan for ``year``, if it has one."""
    return session.exec(
        select(TrainingPlan).where(TrainingPlan.unit_id == unit.id, TrainingPlan.year == year)
    ).first()


def targets_of(session: Session, plan: TrainingPlan | None) -> list[TrainingPlanTarget]:
    """A plan's targets in the order they were set."""
    if plan is None:
        return []
    return list(
        session.exec(
            select(TrainingPlanTarget)
            .where(TrainingPlanTarget.plan_id == plan.id)
            .order_by(col(TrainingPlanTarget.id))
        ).all()
    )


def set_plan(
    session: Session,
    unit: Unit,
    year: int,
    targets: Sequence[TargetInput],
    catalogue: Mapping[str, TrainingModule],
    note: str | None,
    by_user_id: int | None,
) -> TrainingPlan:
    """Replace the unit's plan for ``year`` with ``targets``.

    Raises:
        DomainError: a target names an unknown metric or a module not in the unit's
            catalogue, repeats a (metric, module) pair, or there are too many (400, naming
            ``targets[i]``).
    """
    if len(targets) > MAX_TARGETS:
        message = text(f"最多 {MAX_TARGETS} 项指标", f"At most {MAX_TARGETS} targets")
        raise DomainError(
            message, "validation_failed", 400, [FieldError("targets", "max", message)]
        )
    seen = set()
    for index, wanted in enumerate(targets):
        where = f"targets[{index}]"
        if wanted.metric not in METRICS:
            message = text("没有这项指标", "No such metric")
            raise DomainError(
                message,
                "validation_failed",
                400,
                [FieldError(f"{where}.metric", "choice", message)],
            )
        if wanted.module_code and wanted.module_code not in catalogue:
            message = text(
                f"本单位没有培训模块 {wanted.module_code}",
                f"No training module {wanted.module_code} here",
            )
            raise DomainError(
                message,
                "validation_failed",
                400,
                [FieldError(f"{where}.module_code", "unknown", message)],
            )
        key = (wanted.metric, wanted.module_code or None)
        if key in seen:
            message = text("指标重复", "This target is set twice")
            raise DomainError(
                message, "validation_failed", 400, [FieldError(where, "unique", message)]
            )
        seen.add(key)
    plan = plan_of(session, unit, year) or TrainingPlan(
        unit_id=unit.id, unit_path=unit.path, year=year
    )
    plan.note = note
    plan.updated_by_id = by_user_id
    plan.updated_at = utcnow()
    session.add(plan)
    session.flush()
    session.execute(delete(TrainingPlanTarget).where(TrainingPlanTarget.plan_id == plan.id))
    for wanted in targets:
        session.add(
            TrainingPlanTarget(
                plan_id=plan.id,
                metric=wanted.metric,
                module_code=wanted.module_code or None,
                target=wanted.target,
            )
        )
    session.flush()
    return plan


@dataclass
class TargetProgress:
    """One target and how far the subtree got."""

    metric: str
    module_code: str | None
    target: int
    actual: Figure

    @property
    def percent(self) -> float:
        """Achieved, in per cent of the target (may exceed 100)."""
        return round(float(self.actual) * 100 / self.target, 1)

    @property
    def met(self) -> bool:
        """Whether the target is reached."""
        return self.actual >= self.target


@dataclass
class ChildProgress:
    """A child unit: its own plan's targets and its figures for the parent's targets."""

    unit: Unit
    has_plan: bool
    targets: dict[tuple[str, str | None], int]
    actuals: dict[tuple[str, str | None], Figure]


@dataclass
class PlanProgress:
    """A unit's plan for a year, its progress, and its children's."""

    unit: Unit
    year: int
    plan: TrainingPlan | None
    targets: list[TargetProgress]
    children: list[ChildProgress] = field(default_factory=list)

    def children_target(self, metric: str, module_code: str | None) -> int:
        """What the children's own plans add up to for one of the unit's targets."""
        return sum(child.targets.get((metric, module_code), 0) for child in self.children)


def child_units(session: Session, unit: Unit) -> list[Unit]:
    """A unit's active children, by code."""
    return list(
        session.exec(
            select(Unit)
            .where(Unit.parent_id == unit.id, Unit.active.is_(True))
            .order_by(Unit.code, Unit.id)
        ).all()
    )


def plan_progress(session: Session, unit: Unit, year: int) -> PlanProgress:
    """The unit's targets for ``year`` against its subtree, and each child's share."""
    plan = plan_of(session, unit, year)
    targets = targets_of(session, plan)
    children = child_units(session, unit)
    progress = PlanProgress(
        unit=unit,
        year=year,
        plan=plan,
        targets=[
            TargetProgress(
                metric=target.metric,
                module_code=target.module_code,
                target=target.target,
                actual=total(session, unit, year, target.metric, target.module_code),
            )
            for target in targets
        ],
    )
    split = {
        (target.metric, target.module_code): measure(
            session, unit, year, target.metric, target.module_code, children
        )
        for target in targets
    }
    child_plans = {
        child_plan.unit_id: child_plan
        for child_plan in session.exec(
            select(TrainingPlan).where(
                col(TrainingPlan.unit_id).in_([child.id for child in children] or [0]),
                TrainingPlan.year == year,
            )
        )
    }
    for child in children:
        own = child_plans.get(child.id)
        zero_hours = Decimal("0.00")
        progress.children.append(
            ChildProgress(
                unit=child,
                has_plan=own is not None,
                targets={
                    (target.metric, target.module_code): target.target
                    for target in targets_of(session, own)
                },
                actuals={
                    key: figures.get(child.id, zero_hours if key[0] == "hours" else 0)
                    for key, figures in split.items()
                },
            )
        )
    return progress


# -- statistics ----------------------------------------------------------------------------


@dataclass
class ModuleStatistics:
    """One module in a unit's subtree over a year."""

    code: str
    sessions: int
    trainees: int
    qualified: int
    holders: int  # people holding it validly today


@dataclass
class UnitStatistics:
    """One unit's subtree over a year."""

    unit: Unit
    volunteers: int  # active
    holders: int  # people holding at least one valid qualification today
    trainees: int
    qualified: int
    hours: Decimal


def _per_module(session: Session, query) -> dict[str, int]:
    return {code: int(value) for code, value in session.execute(query).all()}


def module_statistics(
    session: Session, unit: Unit, year: int, codes: Sequence[str], today: date
) -> list[ModuleStatistics]:
    """Completion per module in ``unit``'s subtree: one grouped query per figure."""
    low, high = year_bounds(year)
    completed = (
        TrainingSession.status == SessionStatus.completed,
        TrainingSession.starts_at >= low,
        TrainingSession.starts_at < high,
    )
    module = TrainingSessionModule.module_code
    sessions = _per_module(
        session,
        sa.select(module, sa.func.count(sa.distinct(TrainingSession.id)))
        .select_from(TrainingSessionModule)
        .join(TrainingSession, TrainingSession.id == TrainingSessionModule.session_id)
        .where(path_in(TrainingSession.unit_path, unit.path), *completed)
        .group_by(module),
    )
    trainees = _per_module(
        session,
        sa.select(module, sa.func.count(sa.distinct(TrainingEnrolment.person_id)))
        .select_from(TrainingEnrolment)
        .join(TrainingSession, TrainingSession.id == TrainingEnrolment.session_id)
        .join(TrainingSessionModule, TrainingSessionModule.session_id == TrainingSession.id)
        .where(
            path_in(TrainingEnrolment.unit_path, unit.path),
            TrainingEnrolment.status == EnrolmentStatus.enrolled,
            TrainingEnrolment.attended.is_(True),
            *completed,
        )
        .group_by(module),
    )
    in_subtree = path_in(Qualification.unit_path, unit.path)
    qualified = _per_module(
        session,
        sa.select(Qualification.module_code, sa.func.count(Qualification.id))
        .where(
            in_subtree,
            col(Qualification.revoked_at).is_(None),
            Qualification.granted_on >= date(year, 1, 1),
            Qualification.granted_on <= date(year, 12, 31),
        )
        .group_by(Qualification.module_code),
    )
    holders = _per_module(
        session,
        sa.select(Qualification.module_code, sa.func.count(sa.distinct(Qualification.person_id)))
        .where(in_subtree, valid_on(today))
        .group_by(Qualification.module_code),
    )
    return [
        ModuleStatistics(
            code=code,
            sessions=sessions.get(code, 0),
            trainees=trainees.get(code, 0),
            qualified=qualified.get(code, 0),
            holders=holders.get(code, 0),
        )
        for code in codes
    ]


def unit_statistics(session: Session, unit: Unit, year: int, today: date) -> list[UnitStatistics]:
    """The unit's subtree and each active child's: volunteers, holders, the year's figures."""
    children = child_units(session, unit)
    rows = []
    splits = {
        metric: measure(session, unit, year, metric, None, children)
        for metric in ("trainees", "qualified", "hours")
    }
    # Active volunteers add up: counted per path (an index-only scan, as coverage does) and
    # summed into each child's subtree here, rather than a CASE evaluated on every row.
    volunteers: dict[int, int] = {}
    for path, count in session.execute(
        sa.select(Volunteer.unit_path, sa.func.count(Volunteer.id))
        .where(path_in(Volunteer.unit_path, unit.path), Volunteer.status == VolunteerStatus.active)
        .group_by(Volunteer.unit_path)
    ).all():
        owner = next((child.id for child in children if path.startswith(child.path)), unit.id)
        volunteers[owner] = volunteers.get(owner, 0) + count
    holders_bucket = _bucket(Qualification.unit_path, unit, children)
    holders = dict(
        session.execute(
            sa.select(holders_bucket, sa.func.count(sa.distinct(Qualification.person_id)))
            .where(path_in(Qualification.unit_path, unit.path), valid_on(today))
            .group_by(holders_bucket)
        ).all()
    )
    whole = {
        "volunteers": sum(volunteers.values()),
        "holders": session.execute(
            sa.select(sa.func.count(sa.distinct(Qualification.person_id))).where(
                path_in(Qualification.unit_path, unit.path), valid_on(today)
            )
        ).scalar_one(),
        **{
            metric: total(session, unit, year, metric)
            for metric in ("trainees", "qualified", "hours")
        },
    }
    rows.append(
        UnitStatistics(
            unit=unit,
            volunteers=whole["volunteers"],
            holders=whole["holders"],
            trainees=whole["trainees"],
            qualified=whole["qualified"],
            hours=whole["hours"],
        )
    )
    for child in children:
        rows.append(
            UnitStatistics(
                unit=child,
                volunteers=volunteers.get(child.id, 0),
                holders=holders.get(child.id, 0),
                trainees=splits["trainees"].get(child.id, 0),
                qualified=splits["qualified"].get(child.id, 0),
                hours=splits["hours"].get(child.id, Decimal("0.00")),
            )
        )
    return rows
