"""The duty matrix (到人到点到时段) of a 中队 or 分队, its gaps, and who could fill them.

The matrix of a unit for a week has a row per point and a column per day and time slot
(China time); each cell holds the shifts there with their people. A shift whose confirmed
people are fewer than its minimum headcount is a **gap**. Gaps are filled from ranked
suggestions: volunteers of the shift's unit (and, for a caller who may dispatch, of the 中队
around it) who pass the eligibility check, ranked by the skills the task asks for or suits,
no warnings from the training gate or another plugin, distance in the unit tree from their
home unit, and fairness (fewest hours, then fewest shifts, in the last 30 days). Every
suggestion carries the reasons of its rank.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import groupby

from sqlmodel import Session, col, func, select

from core.access import path_in
from core.accounts.principal import Principal
from core.contributions import Label
from core.hours.models import HoursEntry
from core.people.models import Person
from core.people.taxonomy import SKILLS
from core.platform import Platform
from core.tasks.assignments import DISPATCH_DEPTHS
from core.tasks.eligibility import Finding, check_eligibility, shift_context
from core.tasks.models import (
    HOLDING_STATUSES,
    Assignment,
    AssignmentStatus,
    Point,
    Shift,
    ShiftStatus,
    Task,
    TaskStatus,
)
from core.tasks.permissions import DISPATCH
from core.tasks.rules import LOCAL_TIME, MINIMUM_AGE, local_date, local_midnight, week_of
from core.tasks.services import STAFFING_STATUSES
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer, VolunteerStatus

#: How far back fairness looks.
FAIRNESS_DAYS = 30
#: The most volunteers weighed for one gap (a district-level shift draws from a large area).
CANDIDATE_LIMIT = 2000


# -- the matrix ------------------------------------------------------------------------------


@dataclass(slots=True)
class OnDuty:
    """Someone on a shift, as the matrix shows them."""

    assignment_id: int
    name: str
    status: str
    is_leader: bool
    dispatched: bool


@dataclass(slots=True)
class Cell:
    """One shift in the matrix, with its people."""

    shift_id: int
    task_id: int
    task_title: str
    starts_at: datetime
    ends_at: datetime
    min_headcount: int
    max_headcount: int
    leader_slot: bool
    people: list[OnDuty] = field(default_factory=list)

    @property
    def confirmed(self) -> int:
        """People confirmed on the shift."""
        return sum(1 for p in self.people if p.status == AssignmentStatus.confirmed)

    @property
    def requested(self) -> int:
        """Sign-ups awaiting approval."""
        return sum(1 for p in self.people if p.status == AssignmentStatus.requested)

    @property
    def state(self) -> str:
        """``gap`` (below the minimum), ``open`` (room left) or ``full``."""
        if self.confirmed < self.min_headcount:
            return "gap"
        return "open" if self.confirmed + self.requested < self.max_headcount else "full"


@dataclass
class DutyMatrix:
    """A unit's points × days × time slots for one week."""

    unit: Unit
    week: date
    days: list[date]
    slots: list[tuple[time, time]]
    points: list[tuple[int, str]]
    cells: dict[tuple[int, date, int], list[Cell]]

    @property
    def gaps(self) -> int:
        """Shifts below their minimum headcount."""
        return sum(1 for cells in self.cells.values() for c in cells if c.state == "gap")

    def at(self, point_id: int, day: date, slot: int) -> list[Cell]:
        """The shifts of one cell."""
        return self.cells.get((point_id, day, slot), [])

    def by_day(self) -> list[tuple[date, list[tuple[str, tuple[time, time], Cell]]]]:
        """The week stacked by day (for phones): each day's shifts in time order."""
        names = dict(self.points)
        stacked: dict[date, list] = defaultdict(list)
        for (point_id, day, slot), cells in self.cells.items():
            for cell in cells:
                stacked[day].append((names[point_id], self.slots[slot], cell))
        return [
            (day, sorted(stacked[day], key=lambda item: (item[2].starts_at, item[0])))
            for day in self.days
        ]


def duty_matrix(session: Session, unit: Unit, week: date) -> DutyMatrix:
    """The matrix of ``unit``'s subtree for the week starting on ``week``'s Monday.

    Shifts of tasks still in draft are left out (nobody is asked for them yet), and so are
    cancelled ones. Two indexed queries: the week's shifts of the subtree with their points
    and tasks, and the people holding them.
    """
    monday = week_of(week)
    low, high = local_midnight(monday), local_midnight(monday + timedelta(days=7))
    # Plain rows through the session's connection: the ORM's row processing would cost more
    # than the queries for a busy 中队's week (hundreds of shifts, thousands of people).
    connection = session.connection()
    rows = connection.execute(
        select(
            Shift.id,
            Shift.task_id,
            Shift.point_id,
            Shift.starts_at,
            Shift.ends_at,
            Shift.min_headcount,
            Shift.max_headcount,
            Shift.leader_slot,
            Point.name,
            Task.title,
        )
        .join(Point, Point.id == Shift.point_id)
        .join(Task, Task.id == Shift.task_id)
        .where(
            path_in(Shift.unit_path, unit.path),
            Shift.starts_at >= low,
            Shift.starts_at < high,
            Shift.status == ShiftStatus.open,
            col(Task.status).in_(list(STAFFING_STATUSES) + [TaskStatus.completed]),
        )
        .order_by(Shift.starts_at, Shift.id)
    ).all()
    cells: dict[int, Cell] = {}
    points: dict[int, str] = {}
    slots: set[tuple[time, time]] = set()
    placed: list[tuple[int, date, tuple[time, time], int]] = []
    for shift in rows:
        start = shift.starts_at.astimezone(LOCAL_TIME)
        end = shift.ends_at.astimezone(LOCAL_TIME)
        slot = (start.time(), end.time())
        slots.add(slot)
        points[shift.point_id] = shift.name
        cells[shift.id] = Cell(
            shift_id=shift.id,
            task_id=shift.task_id,
            task_title=shift.title,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            min_headcount=shift.min_headcount,
            max_headcount=shift.max_headcount,
            leader_slot=shift.leader_slot,
        )
        placed.append((shift.point_id, start.date(), slot, shift.id))
    if cells:
        people = connection.execute(
            select(
                Assignment.id,
                Assignment.shift_id,
                Assignment.status,
                Assignment.is_leader,
                Assignment.source,
                Person.name,
            )
            .join(Person, Person.id == Assignment.person_id)
            .where(
                col(Assignment.shift_id).in_(list(cells)),
                col(Assignment.status).in_(HOLDING_STATUSES),
            )
            .order_by(Assignment.is_leader.desc(), Assignment.id)
        ).all()
        for assignment_id, shift_id, status, leader, source, name in people:
            cells[shift_id].people.append(
                OnDuty(assignment_id, name, str(status), bool(leader), source == "dispatch")
            )
    ordered_slots = sorted(slots)
    index = {slot: number for number, slot in enumerate(ordered_slots)}
    grid: dict[tuple[int, date, int], list[Cell]] = defaultdict(list)
    for point_id, day, slot, shift_id in placed:
        grid[(point_id, day, index[slot])].append(cells[shift_id])
    return DutyMatrix(
        unit=unit,
        week=monday,
        days=[monday + timedelta(days=n) for n in range(7)],
        slots=ordered_slots,
        points=sorted(points.items(), key=lambda item: (item[1], item[0])),
        cells=dict(grid),
    )


def open_gaps(session: Session, unit: Unit, now: datetime | None = None) -> int:
    """Shifts of ``unit``'s subtree still to come this week (China time) below their minimum."""
    now = now or utcnow()
    monday = week_of(local_date(now))
    high = local_midnight(monday + timedelta(days=7))
    confirmed = (
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.shift_id == Shift.id, Assignment.status == AssignmentStatus.confirmed)
        .correlate(Shift)
        .scalar_subquery()
    )
    return session.exec(
        select(func.count())
        .select_from(Shift)
        .join(Task, Task.id == Shift.task_id)
        .where(
            path_in(Shift.unit_path, unit.path),
            Shift.starts_at >= now,
            Shift.starts_at < high,
            Shift.status == ShiftStatus.open,
            col(Task.status).in_(list(STAFFING_STATUSES)),
            Shift.min_headcount > confirmed,
        )
    ).one()


# -- suggestions -----------------------------------------------------------------------------


@dataclass
class Suggestion:
    """A volunteer who could fill a gap, and why they rank where they do."""

    volunteer_id: int
    name: str
    unit_name: str
    distance: int
    skills: list[str]
    hours: Decimal
    shifts: int
    warnings: list[Finding]
    dispatch: bool

    def reasons(self) -> list[Label]:
        """The rank explained, one short reason each."""
        reasons = []
        if self.skills:
            zh = "、".join(SKILLS[s].zh if s in SKILLS else s for s in self.skills)
            en = ", ".join(SKILLS[s].en if s in SKILLS else s for s in self.skills)
            reasons.append(Label(f"特长相符：{zh}", f"Matching skills: {en}"))
        if not self.warnings:
            reasons.append(Label("培训及其他条件无提醒", "No training or other warnings"))
        for finding in self.warnings:
            reasons.append(
                Label(
                    f"提醒：{finding.refusal.message.zh}", f"Warning: {finding.refusal.message.en}"
                )
            )
        if self.distance == 0:
            reasons.append(Label("本单位队员", "From the shift's own unit"))
        else:
            reasons.append(
                Label(
                    f"组织距离 {self.distance}（{self.unit_name}）"
                    + ("，需跨区域调度" if self.dispatch else ""),
                    f"Tree distance {self.distance} ({self.unit_name})"
                    + (", by dispatch" if self.dispatch else ""),
                )
            )
        hours = f"{self.hours.normalize():f}"
        reasons.append(
            Label(
                f"近 {FAIRNESS_DAYS} 天：{hours} 小时，{self.shifts} 个班次",
                f"Last {FAIRNESS_DAYS} days: {hours} h, {self.shifts} shifts",
            )
        )
        return reasons


def tree_distance(a: str, b: str) -> int:
    """Edges between two units in the tree, from their paths."""
    left = [p for p in a.split(".") if p]
    right = [p for p in b.split(".") if p]
    common = 0
    for x, y in zip(left, right, strict=False):
        if x != y:
            break
        common += 1
    return len(left) + len(right) - 2 * common


def pool_path(principal: Principal, shift: Shift) -> str:
    """Where candidates come from: the shift's unit, or the 中队 around a 分队's shift.

    The pool widens to the 中队 only when the caller may dispatch there, and never further,
    so one gap weighs a bounded number of volunteers.
    """
    path = shift.unit_path
    parts = [p for p in path.split(".") if p]
    if len(parts) > 3:  # a 分队's shift: the 中队 around it, if the caller may dispatch there
        township = ".".join(parts[:3]) + "."
        may = any(
            DISPATCH in g.actions
            and g.unit_path.count(".") in DISPATCH_DEPTHS
            and township.startswith(g.unit_path)
            for g in principal.grants
        )
        if may:
            return township
    return path


def _years_before(day: date, years: int) -> date:
    """The latest birth date of someone ``years`` old on ``day`` (29 February → 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _task_skills(platform: Platform, task: Task, shift: Shift) -> set[str]:
    task_type = platform.plugins.task_types.get(task.task_type)
    wanted = set(task.required_skills or []) | set(shift.required_skills or [])
    return wanted | set(task_type.skills if task_type else ())


def suggest(
    platform: Platform,
    session: Session,
    principal: Principal,
    shift: Shift,
    *,
    limit: int = 5,
    now: datetime | None = None,
) -> list[Suggestion]:
    """The best ``limit`` volunteers to fill ``shift``, each passing the full check.

    A cheap first pass over the pool (active, of age, free at that time, with the required
    skills) ranks everyone by skills, distance and fairness; the full eligibility check,
    plugins included, then runs down that order until ``limit`` pass. Those with warnings
    only (a training reminder, say) come after those with none.
    """
    now = now or utcnow()
    task = session.get(Task, shift.task_id)
    context = shift_context(platform, session, shift, task)
    if context.held >= shift.max_headcount:
        return []  # no place to fill
    pool = pool_path(principal, shift)
    day = local_date(shift.starts_at)
    latest_birth = _years_before(day, MINIMUM_AGE)
    busy = (
        select(Assignment.id)
        .where(
            Assignment.volunteer_id == Volunteer.id,
            col(Assignment.status).in_(HOLDING_STATUSES),
            Assignment.starts_at < shift.ends_at,
            Assignment.ends_at > shift.starts_at,
        )
        .correlate(Volunteer)
        .exists()
    )
    candidates = session.exec(
        select(Volunteer.id, Volunteer.unit_path, Volunteer.unit_id, Person.name, Person.skills)
        .join(Person, Person.id == Volunteer.person_id)
        .where(
            path_in(Volunteer.unit_path, pool),
            Volunteer.status == VolunteerStatus.active,
            col(Person.birth_date).is_not(None),
            Person.birth_date <= latest_birth,
            ~busy,
        )
        .order_by(Volunteer.unit_path != shift.unit_path, Volunteer.id)
        .limit(CANDIDATE_LIMIT)
    ).all()
    required = set(task.required_skills or []) | set(shift.required_skills or [])
    suited = _task_skills(platform, task, shift)
    candidates = [c for c in candidates if required <= set(c.skills or [])]
    if not candidates:
        return []

    def tier(c) -> tuple[int, int]:
        return (-len(suited & set(c.skills or [])), tree_distance(c.unit_path, shift.unit_path))

    # Fairness decides only within a tier of skills and distance: weigh it for the best tiers
    # that hold enough people, not for the whole 中队.
    candidates.sort(key=tier)
    weighed: list = []
    for _, group in groupby(candidates, key=tier):
        weighed.extend(group)
        if len(weighed) >= limit * 4:
            break
    ids = [c.id for c in weighed]
    since = now - timedelta(days=FAIRNESS_DAYS)
    shifts_done = dict(
        session.exec(
            select(Assignment.volunteer_id, func.count())
            .where(
                col(Assignment.volunteer_id).in_(ids),
                Assignment.starts_at >= since,
                Assignment.status == AssignmentStatus.confirmed,
            )
            .group_by(Assignment.volunteer_id)
        ).all()
    )
    hours_done = dict(
        session.exec(
            select(HoursEntry.volunteer_id, func.sum(HoursEntry.hours))
            .where(col(HoursEntry.volunteer_id).in_(ids), HoursEntry.service_date >= since.date())
            .group_by(HoursEntry.volunteer_id)
        ).all()
    )

    def rank(c) -> tuple:
        matched = len(suited & set(c.skills or []))
        return (
            -matched,
            tree_distance(c.unit_path, shift.unit_path),
            Decimal(hours_done.get(c.id) or 0),
            shifts_done.get(c.id, 0),
            c.id,
        )

    ranked = sorted(weighed, key=rank)[: limit * 4]
    unit_names = dict(
        session.exec(
            select(Unit.id, Unit.name).where(col(Unit.id).in_({c.unit_id for c in ranked}))
        ).all()
    )
    people = {
        volunteer.id: (volunteer, person)
        for volunteer, person in session.exec(
            select(Volunteer, Person)
            .join(Person, Person.id == Volunteer.person_id)
            .where(col(Volunteer.id).in_([c.id for c in ranked]))
        ).all()
    }
    found: list[tuple[tuple, Suggestion]] = []
    for c in ranked:
        volunteer, person = people[c.id]
        eligibility = check_eligibility(
            platform, session, shift, task, volunteer, person=person, context=context
        )
        if not eligibility.eligible:
            continue
        suggestion = Suggestion(
            volunteer_id=c.id,
            name=c.name,
            unit_name=unit_names.get(c.unit_id, ""),
            distance=tree_distance(c.unit_path, shift.unit_path),
            skills=sorted(suited & set(c.skills or [])),
            hours=Decimal(hours_done.get(c.id) or 0),
            shifts=shifts_done.get(c.id, 0),
            warnings=eligibility.warnings,
            dispatch=not c.unit_path.startswith(shift.unit_path),
        )
        found.append(((bool(eligibility.warnings), *rank(c)), suggestion))
        if sum(1 for key, _ in found if not key[0]) >= limit:
            break
    found.sort(key=lambda item: item[0])
    return [suggestion for _, suggestion in found[:limit]]


def week_start(value: date | None) -> date:
    """The Monday of the week asked for, this week (China time) when none is."""
    return week_of(value or local_date(utcnow()))


def slot_label(slot: tuple[time, time]) -> str:
    """``08:00–10:00``."""
    return f"{slot[0].strftime('%H:%M')}–{slot[1].strftime('%H:%M')}"
