"""Accident policies, who they cover, and the answer to "may this volunteer be assigned?".

A policy bought by a unit covers volunteers whose home unit lies in that unit's subtree,
from ``period_from`` to ``period_to`` inclusive (end of day: a policy ending today still
covers the whole of today). Its ``scope_rule`` says who: ``activity`` covers every registered
active volunteer for each activity they do on the platform (荣成's rule; the platform's
activity record is the basis), ``named_list`` only the volunteers enrolled by name. Before
asking volunteers to do work that may bring personal danger the organiser must have insured
them (志愿服务条例 art. 17): an assignment to a risky task without cover on the shift's days
is refused, to any other task it is warned about.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from core.contributions import AssignmentCheck, Label, Refusal
from core.errors import DomainError, FieldError
from core.i18n import text
from core.units.models import Unit
from core.volunteers.models import Volunteer, VolunteerStatus
from plugins.insurance.approvals import Actor, record_approval
from plugins.insurance.clock import china_day
from plugins.insurance.config import ancestor_ids
from plugins.insurance.models import CoverageLine, Enrolment, InsurancePolicy
from plugins.insurance.vocab import CoverKind, ScopeRule

ARTICLE_17 = Label("志愿服务条例第十七条", "Volunteer Service Regulations art. 17")


@dataclass(frozen=True)
class LineInput:
    """One coverage line of a new policy."""

    kind: CoverKind
    limit_fen: int
    deductible_fen: int = 0
    ratio_percent: int = 100


def create_policy(
    session: Session,
    actor: Actor,
    unit: Unit,
    *,
    insurer: str,
    policy_no: str,
    period_from: date,
    period_to: date,
    premium_fen: int,
    scope_rule: ScopeRule,
    lines: list[LineInput],
    activity_types: list[str] | None = None,
    now: datetime | None = None,
) -> InsurancePolicy:
    """Record a policy with its coverage lines.

    Raises:
        DomainError: the period ends before it starts, a line kind repeats (400), or the
            insurer's policy number is recorded already (409).
    """
    if period_to < period_from:
        raise DomainError(
            text("保险期间结束早于开始", "The period ends before it starts"),
            "validation_failed",
            400,
            [FieldError("period_to", "before_start", period_to.isoformat())],
        )
    kinds = [line.kind for line in lines]
    if len(set(kinds)) != len(kinds):
        raise DomainError(
            text("同一保障项目只能出现一次", "Each kind of cover appears once"),
            "validation_failed",
            400,
            [FieldError("lines", "duplicate", ",".join(kinds))],
        )
    taken = session.exec(
        select(InsurancePolicy.id).where(
            InsurancePolicy.insurer == insurer, InsurancePolicy.policy_no == policy_no
        )
    ).first()
    if taken is not None:
        raise DomainError(
            text("该保险公司的保单号已登记", "This policy number is recorded already"),
            "conflict",
            409,
            [FieldError("policy_no", "unique", policy_no)],
        )
    policy = InsurancePolicy(
        unit_id=unit.id,
        unit_path=unit.path,
        insurer=insurer,
        policy_no=policy_no,
        period_from=period_from,
        period_to=period_to,
        premium_fen=premium_fen,
        scope_rule=scope_rule.value,
        activity_types=activity_types or None,
        created_by_user_id=actor.user_id,
    )
    session.add(policy)
    session.flush()
    for line in lines:
        session.add(
            CoverageLine(
                policy_id=policy.id,
                kind=line.kind.value,
                limit_fen=line.limit_fen,
                deductible_fen=line.deductible_fen,
                ratio_percent=line.ratio_percent,
            )
        )
    record_approval(
        session,
        actor,
        subject_type="premium",
        subject_id=policy.id,
        unit_path=unit.path,
        step="created",
        decision="record",
        amount_fen=premium_fen,
        now=now,
    )
    session.flush()
    return policy


def lines_of(session: Session, policy: InsurancePolicy) -> list[CoverageLine]:
    """A policy's coverage lines."""
    return list(
        session.exec(
            select(CoverageLine)
            .where(CoverageLine.policy_id == policy.id)
            .order_by(CoverageLine.id)
        )
    )


def _in_scope(policy: InsurancePolicy, volunteer: Volunteer) -> bool:
    return volunteer.unit_path.startswith(policy.unit_path)


def enrol_list(
    session: Session,
    policy: InsurancePolicy,
    volunteer_ids: list[int],
    *,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> list[Enrolment]:
    """Enrol volunteers by name (idempotent: someone enrolled already is left as they are).

    Raises:
        DomainError: a volunteer is unknown, not active or outside the policy's units (400).
    """
    start = max(valid_from or policy.period_from, policy.period_from)
    end = min(valid_to or policy.period_to, policy.period_to)
    enrolled = []
    for index, volunteer_id in enumerate(volunteer_ids):
        volunteer = session.get(Volunteer, volunteer_id)
        if (
            volunteer is None
            or volunteer.status != VolunteerStatus.active
            or not _in_scope(policy, volunteer)
        ):
            raise DomainError(
                text("志愿者不在该保单的投保范围内", "The volunteer is outside the policy's scope"),
                "validation_failed",
                400,
                [FieldError(f"volunteer_ids.{index}", "out_of_scope", str(volunteer_id))],
            )
        enrolled.append(_enrol(session, policy, volunteer, start, end, "list"))
    return enrolled


def _enrol(session, policy, volunteer, start: date, end: date, basis: str) -> Enrolment:
    existing = session.exec(
        select(Enrolment).where(
            Enrolment.policy_id == policy.id,
            Enrolment.volunteer_id == volunteer.id,
            Enrolment.basis == basis,
        )
    ).first()
    if existing is not None:
        return existing
    enrolment = Enrolment(
        policy_id=policy.id,
        volunteer_id=volunteer.id,
        person_id=volunteer.person_id,
        unit_path=volunteer.unit_path,
        valid_from=start,
        valid_to=end,
        basis=basis,
        certificate_no=f"{policy.policy_no}-{volunteer.number}"[:40],
    )
    session.add(enrolment)
    session.flush()
    return enrolment


def enrol_for_activity(
    session: Session, policy: InsurancePolicy, volunteer: Volunteer, day: date, assignment_id: int
) -> Enrolment:
    """Record the cover an activity-rule policy gives a volunteer for one assignment."""
    return _enrol(session, policy, volunteer, day, day, f"assignment:{assignment_id}")


def policies_at(session: Session, path: str, day: date) -> list[InsurancePolicy]:
    """Active policies held by the unit of ``path`` or above, in force on ``day``."""
    return list(
        session.exec(
            select(InsurancePolicy).where(
                col(InsurancePolicy.unit_id).in_(ancestor_ids(path)),
                InsurancePolicy.active.is_(True),
                InsurancePolicy.period_from <= day,
                InsurancePolicy.period_to >= day,
            )
        )
    )


def covers(
    session: Session,
    policy: InsurancePolicy,
    volunteer: Volunteer,
    day: date,
    task_type: str | None = None,
) -> bool:
    """Whether ``policy`` covers ``volunteer`` on ``day`` (for an activity of ``task_type``)."""
    if not (
        policy.active
        and policy.period_from <= day <= policy.period_to
        and _in_scope(policy, volunteer)
    ):
        return False
    if policy.scope_rule == ScopeRule.activity:
        return task_type is None or not policy.activity_types or task_type in policy.activity_types
    enrolled = session.exec(
        select(Enrolment.id).where(
            Enrolment.policy_id == policy.id,
            Enrolment.volunteer_id == volunteer.id,
            Enrolment.valid_from <= day,
            Enrolment.valid_to >= day,
        )
    ).first()
    return enrolled is not None


def cover_on(
    session: Session, volunteer: Volunteer, day: date, task_type: str | None = None
) -> InsurancePolicy | None:
    """A policy covering an active ``volunteer`` on ``day`` (for ``task_type``), if any."""
    if volunteer.status != VolunteerStatus.active:
        return None
    for policy in policies_at(session, volunteer.unit_path, day):
        if covers(session, policy, volunteer, day, task_type):
            return policy
    return None


def shift_days(starts_at: datetime, ends_at: datetime) -> list[date]:
    """The days in China a shift touches (a night shift touches two)."""
    first, last = china_day(starts_at), china_day(ends_at)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def assignment_refusals(session: Session, check: AssignmentCheck) -> list[Refusal]:
    """The plugin's answer to ``check_assignment``: blocking for a risky task without cover."""
    volunteer = session.get(Volunteer, check.volunteer_id)
    if volunteer is None:
        return []
    missing = [
        day
        for day in shift_days(check.starts_at, check.ends_at)
        if cover_on(session, volunteer, day, check.task_type) is None
    ]
    if not missing:
        return []
    days = "、".join(day.isoformat() for day in missing)
    if check.risky:
        message = Label(
            f"{days} 无有效意外保险：有人身危险的任务须先投保（{ARTICLE_17.zh}）",
            f"No active accident cover on {days}: a task with personal risk needs cover "
            f"first ({ARTICLE_17.en})",
        )
    else:
        message = Label(
            f"提醒：{days} 无有效意外保险",
            f"Warning: no active accident cover on {days}",
        )
    return [Refusal("insurance.no_cover", message, blocking=check.risky)]


def cover_periods(session: Session, volunteer: Volunteer) -> list[dict]:
    """A volunteer's cover: named enrolments and activity-rule policies over their units."""
    periods = []
    enrolments = session.exec(
        select(Enrolment, InsurancePolicy)
        .join(InsurancePolicy, InsurancePolicy.id == Enrolment.policy_id)
        .where(Enrolment.volunteer_id == volunteer.id)
        .order_by(col(Enrolment.valid_from).desc())
    ).all()
    for enrolment, policy in enrolments:
        periods.append(
            {
                "policy": policy,
                "valid_from": enrolment.valid_from,
                "valid_to": enrolment.valid_to,
                "basis": enrolment.basis,
                "certificate_no": enrolment.certificate_no,
            }
        )
    for policy in session.exec(
        select(InsurancePolicy).where(
            col(InsurancePolicy.unit_id).in_(ancestor_ids(volunteer.unit_path)),
            InsurancePolicy.scope_rule == ScopeRule.activity.value,
            InsurancePolicy.active.is_(True),
        )
    ):
        periods.append(
            {
                "policy": policy,
                "valid_from": policy.period_from,
                "valid_to": policy.period_to,
                "basis": "activity",
                "certificate_no": None,
            }
        )
    return periods
