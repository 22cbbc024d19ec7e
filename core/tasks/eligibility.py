"""Whether a volunteer may be put on a shift, and every reason why not.

Core's rules, each with a stable name: the volunteer is active (``core.volunteer_active``), 18
or older on the shift's day (``core.age_minimum``; ``core.age_unknown`` without a birth date),
not older than the unit's limit for risky work (``core.age_maximum``), has the skills the task
and the shift ask for (``core.skills``), is not on another shift at that time
(``core.overlap``, ``core.already_assigned``), stays within the unit's daily maximum of duty
(``core.daily_maximum``) and rest between shifts (``core.rest``), the shift has room
(``core.headcount``) and, when asked, a free leader place (``core.leader_slot``). Then every
plugin enabled at the shift's unit adds its own through ``check_assignment`` (core's training
gate is one of them). All rules are evaluated, so a refusal names every reason at once.

The settings are read at the shift's unit on the shift's day. The overlap, daily and rest
rules read the volunteer's holding assignments (confirmed, or requested and awaiting
approval) from one index range of ``(volunteer_id, starts_at)``; callers lock the volunteer's
row first so two concurrent assignments of one person are checked one after the other.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core.contributions import AssignmentCheck, Label, Refusal
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.people.taxonomy import SKILLS
from core.platform import Platform
from core.plugins import UnitHooks, flatten
from core.tasks.models import HOLDING_STATUSES, Assignment, Shift, Task
from core.tasks.rules import (
    DAILY_MAX_HOURS,
    LOCAL_TIME,
    LONGEST_SHIFT,
    MAX_AGE_RISKY,
    MIN_REST_MINUTES,
    MINIMUM_AGE,
    age_on,
    local_date,
    local_midnight,
)
from core.unitconfig.services import settings_in_force
from core.units.models import Unit
from core.volunteers.models import Volunteer, VolunteerStatus


@dataclass(frozen=True)
class Finding:
    """One rule's answer about the proposed assignment, and the input field it concerns."""

    field: str
    refusal: Refusal

    def field_error(self) -> FieldError:
        """As the API's error shape shows it, in the caller's language."""
        message = self.refusal.message
        return FieldError(self.field, self.refusal.rule, text(message.zh, message.en))

    def stored(self) -> str:
        """As ``Assignment.warnings`` keeps an overridden warning."""
        message = self.refusal.message
        return f"{self.refusal.rule}: {message.zh} / {message.en}"


@dataclass
class Eligibility:
    """Every finding of the check, blocking or not."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        """The reasons that refuse the assignment."""
        return [f for f in self.findings if f.refusal.blocking]

    @property
    def warnings(self) -> list[Finding]:
        """The reasons the assigning leader sees and may override."""
        return [f for f in self.findings if not f.refusal.blocking]

    @property
    def eligible(self) -> bool:
        """No blocking reason."""
        return not self.blocking

    def refuse(self, field_name: str, rule: str, zh: str, en: str) -> None:
        """Add a blocking reason."""
        self.findings.append(Finding(field_name, Refusal(rule, Label(zh, en))))

    def rules(self) -> list[str]:
        """The names of every rule that answered (for tests and explanations)."""
        return [f.refusal.rule for f in self.findings]


def _hm(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%m-%d %H:%M")


def _span(start: datetime, end: datetime) -> str:
    return f"{_hm(start)}–{end.astimezone(LOCAL_TIME).strftime('%H:%M')}"


def _overlap_minutes(start: datetime, end: datetime, low: datetime, high: datetime) -> float:
    return max(0.0, (min(end, high) - max(start, low)).total_seconds() / 60)


def required_modules(platform: Platform, task: Task, shift: Shift) -> tuple[str, ...]:
    """The training modules the task type, the task and the shift ask for."""
    task_type = platform.plugins.task_types.get(task.task_type)
    wanted = set(task_type.required_modules if task_type else ())
    wanted |= set(task.required_modules or []) | set(shift.required_modules or [])
    return tuple(sorted(wanted))


def is_risky(platform: Platform, task: Task) -> bool:
    """Whether the task's type carries personal risk."""
    task_type = platform.plugins.task_types.get(task.task_type)
    return bool(task_type and task_type.risky)


def nearby_assignments(
    session: Session, volunteer_id: int, low: datetime, high: datetime, exclude_id: int | None
) -> list:
    """The volunteer's holding assignments touching ``[low, high)``.

    Rows of ``shift_id``, ``starts_at`` and ``ends_at`` only, from one range of the
    ``(volunteer_id, starts_at)`` index: no shift is longer than
    :data:`~core.tasks.rules.LONGEST_SHIFT`, so none touching the window starts before
    ``low - LONGEST_SHIFT``.
    """
    query = select(Assignment.shift_id, Assignment.starts_at, Assignment.ends_at).where(
        Assignment.volunteer_id == volunteer_id,
        Assignment.starts_at >= low - LONGEST_SHIFT,
        Assignment.starts_at < high,
        Assignment.ends_at > low,
        col(Assignment.status).in_(HOLDING_STATUSES),
    )
    if exclude_id is not None:
        query = query.where(Assignment.id != exclude_id)
    return list(session.exec(query).all())


@dataclass
class ShiftContext:
    """What every check on one shift shares: read once, whoever the volunteer.

    The rules in force at the shift's unit on its day, the plugins enabled there, and how
    many places are held (``exclude`` left out: an assignment being approved).
    """

    shift: Shift
    task: Task
    unit: Unit
    risky: bool
    modules: tuple[str, ...]
    oldest: int
    daily_max: float
    rest: timedelta
    hooks: UnitHooks
    held: int
    leader_taken: bool
    exclude: int | None = None


def shift_context(
    platform: Platform,
    session: Session,
    shift: Shift,
    task: Task,
    *,
    exclude_assignment_id: int | None = None,
    unit: Unit | None = None,
) -> ShiftContext:
    """Read what every check on ``shift`` shares.

    The settings in force, the places held and the plugin switches (and the unit, unless
    given).
    """
    unit = unit or session.get(Unit, shift.unit_id)
    day = local_date(shift.starts_at)
    rules = settings_in_force(
        session, unit, [MAX_AGE_RISKY, DAILY_MAX_HOURS, MIN_REST_MINUTES], day
    )
    holding = select(Assignment.is_leader).where(
        Assignment.shift_id == shift.id, col(Assignment.status).in_(HOLDING_STATUSES)
    )
    if exclude_assignment_id is not None:
        holding = holding.where(Assignment.id != exclude_assignment_id)
    leaders = session.exec(holding).all()
    return ShiftContext(
        shift=shift,
        task=task,
        unit=unit,
        risky=is_risky(platform, task),
        modules=required_modules(platform, task, shift),
        oldest=rules[MAX_AGE_RISKY.name].value,
        daily_max=rules[DAILY_MAX_HOURS.name].value,
        rest=timedelta(minutes=rules[MIN_REST_MINUTES.name].value),
        hooks=platform.unit_hooks(session, unit),
        held=len(leaders),
        leader_taken=any(leaders),
        exclude=exclude_assignment_id,
    )


def check_eligibility(
    platform: Platform,
    session: Session,
    shift: Shift,
    task: Task,
    volunteer: Volunteer,
    *,
    as_leader: bool = False,
    exclude_assignment_id: int | None = None,
    person: Person | None = None,
    unit: Unit | None = None,
    context: ShiftContext | None = None,
) -> Eligibility:
    """Evaluate every rule, core's and the enabled plugins', for ``volunteer`` on ``shift``.

    Nothing is written. ``exclude_assignment_id`` leaves an assignment being approved out of
    the overlap and headcount counts. ``context`` (from :func:`shift_context`) lets several
    volunteers be checked against one shift without reading its rules again; ``person``
    and ``unit`` spare reading the volunteer's person and the shift's unit.
    """
    context = context or shift_context(
        platform, session, shift, task, exclude_assignment_id=exclude_assignment_id, unit=unit
    )
    person = person or session.get(Person, volunteer.person_id)
    result = Eligibility()
    if volunteer.status != VolunteerStatus.active:
        result.refuse(
            "volunteer_id",
            "core.volunteer_active",
            f"志愿者当前不在岗（{volunteer.status}），只能安排在岗志愿者",
            f"The volunteer is {volunteer.status}; only active volunteers are assigned",
        )
    _check_age(context, person, result)
    _check_skills(context, person, result)
    _check_time(session, context, volunteer, result)
    _check_places(context, as_leader, result)
    check = AssignmentCheck(
        volunteer_id=volunteer.id,
        person_id=volunteer.person_id,
        home_unit_id=volunteer.unit_id,
        unit_id=shift.unit_id,
        task_type=task.task_type,
        risky=context.risky,
        required_modules=context.modules,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
    )
    for refusal in flatten(context.hooks.check_assignment(check=check, session=session)):
        result.findings.append(Finding("volunteer_id", refusal))
    return result


def _check_age(context: ShiftContext, person: Person | None, result: Eligibility) -> None:
    born = person.birth_date if person else None
    if born is None:
        result.refuse(
            "volunteer_id",
            "core.age_unknown",
            "没有出生日期，无法核对年龄；请先补全身份证号",
            "No date of birth is recorded, so the age cannot be checked; complete the ID "
            "number first",
        )
        return
    age = age_on(born, local_date(context.shift.starts_at))
    if age < MINIMUM_AGE:
        result.refuse(
            "volunteer_id",
            "core.age_minimum",
            f"班次当天未满 {MINIMUM_AGE} 周岁（{age} 岁）",
            f"Under {MINIMUM_AGE} on the shift's day (aged {age})",
        )
    if context.risky and age > context.oldest:
        result.refuse(
            "volunteer_id",
            "core.age_maximum",
            f"危险任务限 {context.oldest} 周岁以下，该志愿者班次当天 {age} 岁",
            f"Risky tasks take volunteers up to {context.oldest}; this one is {age} on the day",
        )


def required_skills(context: ShiftContext) -> set[str]:
    """The skills the task and the shift ask for."""
    return set(context.task.required_skills or []) | set(context.shift.required_skills or [])


def _check_skills(context: ShiftContext, person: Person | None, result: Eligibility) -> None:
    missing = sorted(required_skills(context) - set(person.skills or [] if person else []))
    if missing:
        names_zh = "、".join(SKILLS[s].zh if s in SKILLS else s for s in missing)
        names_en = ", ".join(SKILLS[s].en if s in SKILLS else s for s in missing)
        result.refuse(
            "volunteer_id",
            "core.skills",
            f"缺少所需特长：{names_zh}",
            f"Missing required skills: {names_en}",
        )


def _check_time(
    session: Session, context: ShiftContext, volunteer: Volunteer, result: Eligibility
) -> None:
    shift, rest, daily_max = context.shift, context.rest, context.daily_max
    first_day = local_date(shift.starts_at)
    last_day = local_date(shift.ends_at - timedelta(microseconds=1))
    day_start, day_end = local_midnight(first_day), local_midnight(last_day + timedelta(days=1))
    low = min(day_start, shift.starts_at - rest)
    high = max(day_end, shift.ends_at + rest)
    nearby = nearby_assignments(session, volunteer.id, low, high, context.exclude)

    overlapping = [a for a in nearby if a.starts_at < shift.ends_at and a.ends_at > shift.starts_at]
    for other in overlapping:
        if other.shift_id == shift.id:
            result.refuse(
                "volunteer_id",
                "core.already_assigned",
                "该志愿者已在此班次",
                "The volunteer is already on this shift",
            )
        else:
            span = _span(other.starts_at, other.ends_at)
            result.refuse(
                "volunteer_id",
                "core.overlap",
                f"该志愿者在 {span} 已有班次，时间重叠",
                f"The volunteer is already on a shift at {span}, which overlaps",
            )
    if overlapping:
        return
    for other in nearby:
        gap = (
            shift.starts_at - other.ends_at
            if other.ends_at <= shift.starts_at
            else other.starts_at - shift.ends_at
        )
        if timedelta(0) < gap < rest:
            minutes = int(gap.total_seconds() // 60)
            span = _span(other.starts_at, other.ends_at)
            result.refuse(
                "volunteer_id",
                "core.rest",
                f"与 {span} 的班次只间隔 {minutes} 分钟，少于规定休息 "
                f"{int(rest.total_seconds() // 60)} 分钟",
                f"Only {minutes} min from the shift at {span}; the rest required is "
                f"{int(rest.total_seconds() // 60)} min",
            )
            break
    current = first_day
    while current <= last_day:
        low_d, high_d = local_midnight(current), local_midnight(current + timedelta(days=1))
        minutes = _overlap_minutes(shift.starts_at, shift.ends_at, low_d, high_d) + sum(
            _overlap_minutes(a.starts_at, a.ends_at, low_d, high_d) for a in nearby
        )
        if minutes > daily_max * 60 + 1e-6:
            hours = round(minutes / 60, 1)
            result.refuse(
                "volunteer_id",
                "core.daily_maximum",
                f"{current} 当天值勤将达 {hours} 小时，超过每日上限 {daily_max:g} 小时",
                f"Duty on {current} would reach {hours} h, above the daily maximum of "
                f"{daily_max:g} h",
            )
            break
        current += timedelta(days=1)


def _check_places(context: ShiftContext, as_leader: bool, result: Eligibility) -> None:
    shift = context.shift
    if context.held >= shift.max_headcount:
        result.refuse(
            "shift_id",
            "core.headcount",
            f"班次已满（{context.held}/{shift.max_headcount} 人）",
            f"The shift is full ({context.held}/{shift.max_headcount})",
        )
    if as_leader and not shift.leader_slot:
        result.refuse(
            "as_leader", "core.leader_slot", "该班次不设带班", "This shift has no leader place"
        )
    elif as_leader and context.leader_taken:
        result.refuse(
            "as_leader",
            "core.leader_slot",
            "该班次已有带班人员",
            "This shift already has its leader",
        )


def refusal_error(eligibility: Eligibility) -> DomainError:
    """409 naming every blocking reason, one field error per rule."""
    return DomainError(
        text("不符合排班条件", "The volunteer cannot be put on this shift"),
        "not_eligible",
        409,
        [finding.field_error() for finding in eligibility.blocking],
    )


def warning_error(eligibility: Eligibility) -> DomainError:
    """409 asking the assigning leader to confirm the warnings before going on."""
    return DomainError(
        text(
            "存在提醒事项：确认后可继续排班",
            "There are warnings: confirm them to assign anyway",
        ),
        "confirm_warnings",
        409,
        [
            FieldError("confirm_warnings", f.refusal.rule, f.field_error().message)
            for f in eligibility.warnings
        ],
    )
