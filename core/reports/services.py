"""Reports of clues, public opinion and hazards: submitting, routing, handling, answering.

A volunteer (or a leader) reports at the unit where they serve, the *origin*. The report goes
to the *handling unit*: the origin's ancestor at the level the origin's settings name
(``reports.handling_level``, default the township 中队), or the origin itself when it stands
higher. A category a plugin takes (``register_report_categories``) is routed to that plugin
too where it is enabled at the origin; every plugin enabled there hears of the report through
``handle_event`` (``core.report.submitted``).

The handling unit must triage the report within ``reports.triage_hours`` (default 24,
as set at the handling unit on the day of submission), then refer it (to a police station, a
grid office …) or handle it itself, and close it with feedback for the reporter. Each step
is taken by a holder of ``core.report.handle`` whose grant reaches the handling unit — the
unit's own leaders or an office above it, which may step in — and writes a
:class:`ReportStep` and a notification job in the same transaction.

Who reported is a sensitive field: only holders of ``core.report.reveal`` at the handling
unit see it (masked in lists, in clear through an audited reveal); every other reader,
village leaders and plugins' roles included, sees the report without it.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.access import path_in, scope_predicate
from core.accounts.models import User
from core.accounts.principal import Principal
from core.contributions import DomainEvent, Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.jobs.outbox import enqueue
from core.people.models import Person
from core.platform import Platform
from core.plugins import Plugins
from core.reports import photos as report_photos
from core.reports.config import HANDLING_LEVEL, TRIAGE_HOURS
from core.reports.models import Report, ReportStatus, ReportStep
from core.reports.permissions import HANDLE, READ, REVEAL
from core.security.masking import mask_id_number, mask_phone
from core.security.present import reveal
from core.unitconfig.services import local_today, setting
from core.units.models import Unit, UnitLevel, utcnow
from core.units.services import enabled_plugins
from core.volunteers.models import Volunteer

NOTIFY_JOB = "core.notify_report"
SUBMITTED_EVENT = "core.report.submitted"
NEW = "new"  # the ``from_status`` of the step that records the submission
LEVELS = [UnitLevel.city, UnitLevel.district, UnitLevel.township, UnitLevel.village]

STATUS_LABELS = {
    NEW: Label("新建", "new"),
    ReportStatus.submitted: Label("已提交，待分拣", "submitted, awaiting triage"),
    ReportStatus.triaged: Label("已分拣", "triaged"),
    ReportStatus.referred: Label("已转交有关部门", "referred to the competent body"),
    ReportStatus.in_handling: Label("处理中", "being handled"),
    ReportStatus.closed: Label("已办结", "closed"),
}


class Step(StrEnum):
    """What a handler can do to a report."""

    triage = "triage"
    refer = "refer"
    handle = "handle"
    close = "close"


@dataclass(frozen=True)
class StepRule:
    """Where a step may start from, where it leads, and its name."""

    from_statuses: tuple[ReportStatus, ...]
    to_status: ReportStatus
    label: Label


RULES = {
    Step.triage: StepRule((ReportStatus.submitted,), ReportStatus.triaged, Label("分拣", "Triage")),
    Step.refer: StepRule((ReportStatus.triaged,), ReportStatus.referred, Label("转交", "Refer")),
    Step.handle: StepRule(
        (ReportStatus.triaged,), ReportStatus.in_handling, Label("自行处理", "Handle here")
    ),
    Step.close: StepRule(
        (ReportStatus.triaged, ReportStatus.referred, ReportStatus.in_handling),
        ReportStatus.closed,
        Label("办结并答复", "Close with feedback"),
    ),
}


def category_label(plugins: Plugins, code: str) -> Label:
    """A category's name; a category no longer registered shows its code."""
    category = plugins.report_categories.get(code)
    return category.label if category and category.label else Label(code, code)


# -- submitting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInput:
    """What the reporter tells: the category, what they saw, where."""

    category: str
    body: str
    title: str | None = None
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None


def _invalid(field: str, rule: str, zh: str, en: str) -> DomainError:
    message = text(zh, en)
    return DomainError(message, "validation_failed", 400, [FieldError(field, rule, message)])


def handling_unit(session: Session, origin: Unit, on) -> Unit:
    """The unit that handles reports from ``origin`` under its settings on day ``on``."""
    level = UnitLevel(setting(session, origin, HANDLING_LEVEL, on))
    ids = origin.ancestor_ids
    if LEVELS.index(UnitLevel(origin.level)) <= LEVELS.index(level):
        return origin
    at_level = session.exec(select(Unit).where(col(Unit.id).in_(ids), Unit.level == level)).first()
    # A tree without a unit of that level above the origin: the origin handles its own.
    return at_level or origin


def _title(data: ReportInput) -> str:
    title = (data.title or "").strip()
    if title:
        return title[:120]
    first_line = data.body.strip().splitlines()[0] if data.body.strip() else ""
    return first_line[:40] or "—"


def _coordinate(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 6)))


def submit(
    session: Session,
    platform: Platform,
    principal: Principal,
    origin: Unit,
    data: ReportInput,
    photos: list[report_photos.Photo],
    *,
    now: datetime | None = None,
) -> Report:
    """Record a report made by ``principal`` at ``origin``, route it, and tell the plugins.

    Raises:
        DomainError: an unknown category, a blank text, coordinates given by halves, a photo
            refused (400, naming the field), or a unit merged away (409).
    """
    now = now or utcnow()
    if data.category not in platform.plugins.report_categories:
        raise _invalid(
            "category",
            "unknown",
            f"没有这个类别：{data.category}",
            f"No such category: {data.category}",
        )
    if not data.body.strip():
        raise _invalid("body", "missing", "请写明所见所闻", "Describe what you saw")
    if (data.latitude is None) != (data.longitude is None):
        raise _invalid(
            "longitude" if data.longitude is None else "latitude",
            "pair",
            "经纬度须同时填写",
            "Give latitude and longitude together",
        )
    if not origin.active:
        raise DomainError(
            text("该单位已撤并，不能报告", "This unit has been merged away"), "inactive", 409
        )
    cleaned = report_photos.clean_all(photos)
    today = local_today(now)
    handler = handling_unit(session, origin, today)
    hours = setting(session, handler, TRIAGE_HOURS, today)
    user = session.get(User, principal.user_id)
    taker = platform.plugins.report_category_takers.get(data.category)
    report = Report(
        unit_id=handler.id,
        unit_path=handler.path,
        origin_unit_id=origin.id,
        origin_unit_path=origin.path,
        category=data.category,
        title=_title(data),
        body=data.body.strip(),
        location=(data.location or "").strip() or None,
        latitude=_coordinate(data.latitude),
        longitude=_coordinate(data.longitude),
        reporter_person_id=user.person_id if user else None,
        reporter_user_id=principal.user_id,
        routed_to_plugin=taker if taker and taker in enabled_plugins(session, origin) else None,
        submitted_at=now,
        triage_due_at=now + timedelta(hours=hours),
    )
    session.add(report)
    session.flush()
    if cleaned:
        report.photo_file_ids = report_photos.store(session, report.id, handler.path, cleaned)
        session.add(report)
    # The submission step names nobody: the reporter is on the report, as a sensitive field.
    _record_step(session, report, NEW, ReportStatus.submitted, None, None)
    platform.emit(
        session,
        DomainEvent(
            SUBMITTED_EVENT, origin.id, {"report_id": report.id, "category": report.category}
        ),
    )
    return report


# -- handling --------------------------------------------------------------------------------


def _record_step(
    session: Session,
    report: Report,
    from_status: str,
    to_status: ReportStatus,
    by_user_id: int | None,
    note: str | None,
) -> ReportStep:
    step = ReportStep(
        report_id=report.id,
        from_status=str(from_status),
        to_status=str(to_status),
        by_user_id=by_user_id,
        note=note,
    )
    session.add(step)
    session.flush()
    enqueue(session, NOTIFY_JOB, unit_id=report.unit_id, report_id=report.id, step_id=step.id)
    return step


def handles(principal: Principal, report: Report) -> bool:
    """Whether the caller handles ``report``: their grant reaches its handling unit."""
    return principal.can(HANDLE, report.unit_path)


def may_see_reporter(principal: Principal, report: Report) -> bool:
    """Whether the caller may see who reported (masked, or in clear on purpose)."""
    return principal.can(REVEAL, report.unit_path)


def authorise(session: Session, principal: Principal, report: Report) -> None:
    """Refuse, naming the handling unit, a caller whose grants do not reach it.

    Raises:
        DomainError: 403 ``not_handler``.
    """
    if handles(principal, report):
        return
    unit = session.get(Unit, report.unit_id)
    raise DomainError(
        text(
            f"此报告由{unit.name}处理：须由该单位或其上级持有办理权限的负责人办理",
            f"This report is handled by {unit.name}: a leader holding the handling "
            "permission there or above takes its steps",
        ),
        "not_handler",
        403,
        [FieldError("unit", "not_handler", unit.name)],
    )


def _wrong_status(report: Report, step: Step) -> DomainError:
    current = STATUS_LABELS[ReportStatus(report.status)]
    wanted = RULES[step].label
    return DomainError(
        text(
            f"该报告当前状态为「{current.zh}」，不能{wanted.zh}",
            f"The report is {current.en}; {wanted.en.lower()} is not possible now",
        ),
        "wrong_status",
        409,
        [FieldError("status", "wrong_status", str(report.status))],
    )


def allowed_steps(principal: Principal, report: Report) -> list[Step]:
    """The steps the caller may take on ``report`` now (for buttons and the API)."""
    if not handles(principal, report):
        return []
    return [step for step, rule in RULES.items() if report.status in rule.from_statuses]


def _cleaned(value: str | None, limit: int) -> str | None:
    cleaned = (value or "").strip()
    return cleaned[:limit] if cleaned else None


def take_step(
    session: Session,
    principal: Principal,
    report: Report,
    step: Step,
    *,
    note: str | None = None,
    referred_to: str | None = None,
    feedback: str | None = None,
    now: datetime | None = None,
) -> ReportStep:
    """Move ``report`` by ``step``: the caller, the status, then the step's own fields.

    Raises:
        DomainError: not a handler here (403), not the status the step starts from (409), a
            referral without the body it goes to or a closure without feedback (400).
    """
    authorise(session, principal, report)
    rule = RULES[step]
    if report.status not in rule.from_statuses:
        raise _wrong_status(report, step)
    now = now or utcnow()
    if step == Step.refer:
        report.referred_to = _cleaned(referred_to, 120)
        if report.referred_to is None:
            raise _invalid(
                "referred_to",
                "missing",
                "请写明转交的部门（如派出所、网格中心）",
                "Name the body it is referred to (a police station, a grid office …)",
            )
    if step == Step.close:
        report.feedback = _cleaned(feedback, 2000)
        if report.feedback is None:
            raise _invalid(
                "feedback",
                "missing",
                "办结须给报告人答复",
                "Closing needs feedback for the reporter",
            )
        report.closed_at = now
    if step == Step.triage:
        report.triaged_at = now
    from_status = report.status
    report.status = rule.to_status
    session.add(report)
    session.flush()
    return _record_step(
        session, report, from_status, rule.to_status, principal.user_id, _cleaned(note, 2000)
    )


# -- the reporter ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    """Who reported, and the report's own text unredacted (only from :func:`reveal_reporter`)."""

    name: str | None
    phone: str | None
    volunteer_number: str | None
    unit_name: str | None
    username: str | None
    title: str
    body: str


def reveal_reporter(
    session: Session, platform: Platform, principal: Principal, report: Report, reason: str
) -> Disclosure:
    """Who reported ``report``, and its text in clear, for a handler who gives a reason.

    Responses show the report's text with resident IDs and mobiles masked
    (:func:`redact`); this is the one way to read them, and the read is audited.

    Raises:
        DomainError: the caller may not see the reporter at the handling unit (403).
    """
    values = reveal(
        session,
        report,
        ["reporter_person_id", "reporter_user_id", "title", "body"],
        reason,
        principal,
        platform.plugins.sensitive_fields,
        report.unit_path,
    )
    person = (
        session.get(Person, values["reporter_person_id"]) if values["reporter_person_id"] else None
    )
    user = session.get(User, values["reporter_user_id"]) if values["reporter_user_id"] else None
    volunteer = (
        session.exec(select(Volunteer).where(Volunteer.person_id == person.id)).first()
        if person
        else None
    )
    unit = session.get(Unit, report.origin_unit_id)
    return Disclosure(
        name=person.name if person else (user.display_name if user else None),
        phone=person.phone if person else None,
        volunteer_number=volunteer.number if volunteer else None,
        unit_name=unit.name if unit else None,
        username=user.username if user else None,
        title=values["title"],
        body=values["body"],
    )


def reporter_names(session: Session, reports: list[Report]) -> dict[int, str]:
    """Report id → the reporter's name (to be masked by the caller), for those who have one."""
    person_ids = {r.reporter_person_id for r in reports if r.reporter_person_id}
    user_ids = {
        r.reporter_user_id for r in reports if r.reporter_user_id and not r.reporter_person_id
    }
    people = (
        dict(
            session.exec(select(Person.id, Person.name).where(col(Person.id).in_(person_ids))).all()
        )
        if person_ids
        else {}
    )
    users = (
        dict(
            session.exec(select(User.id, User.display_name).where(col(User.id).in_(user_ids))).all()
        )
        if user_ids
        else {}
    )
    names = {}
    for report in reports:
        if report.reporter_person_id in people:
            names[report.id] = people[report.reporter_person_id]
        elif report.reporter_user_id in users:
            names[report.id] = users[report.reporter_user_id]
    return names


# -- reading ---------------------------------------------------------------------------------

# A resident ID or a mainland mobile inside free text (not part of a longer number).
_ID_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def redact(value: str | None) -> str | None:
    """Free text with every resident ID and mobile in it masked (``138****1234``).

    Reporters write what they saw, and that often holds someone's phone or ID number; like
    every such value, it leaves the platform masked unless revealed on purpose.
    """
    if not value:
        return value
    value = _ID_IN_TEXT.sub(lambda match: mask_id_number(match.group()), value)
    return _MOBILE_IN_TEXT.sub(lambda match: mask_phone(match.group()), value)


def is_overdue(report: Report, now: datetime | None = None) -> bool:
    """Still waiting for triage past its limit."""
    return report.status == ReportStatus.submitted and report.triage_due_at < (now or utcnow())


def list_query(
    principal: Principal,
    unit: Unit,
    *,
    status: ReportStatus | None = None,
    category: str | None = None,
    overdue: bool = False,
    now: datetime | None = None,
):
    """Reports from ``unit``'s subtree that the caller may read, newest first."""
    query = select(Report).where(
        path_in(Report.origin_unit_path, unit.path),
        scope_predicate(Report.origin_unit_path, principal, READ),
    )
    if status is not None:
        query = query.where(Report.status == status)
    if category:
        query = query.where(Report.category == category)
    if overdue:
        query = query.where(
            Report.status == ReportStatus.submitted, Report.triage_due_at < (now or utcnow())
        )
    return query.order_by(col(Report.id).desc())


def mine_query(principal: Principal):
    """The caller's own reports, newest first."""
    return (
        select(Report)
        .where(Report.reporter_user_id == principal.user_id)
        .order_by(col(Report.id).desc())
    )


def history(session: Session, report: Report) -> list[tuple[ReportStep, str | None]]:
    """The report's steps, oldest first, with the display name of the handler who took each."""
    return list(
        session.exec(
            select(ReportStep, User.display_name)
            .join(User, User.id == ReportStep.by_user_id, isouter=True)
            .where(ReportStep.report_id == report.id)
            .order_by(ReportStep.id)
        ).all()
    )


def public_history(session: Session, reports: list[Report]) -> dict[int, list[ReportStep]]:
    """Report id → its steps as the reporter may see them (status and time, never notes)."""
    if not reports:
        return {}
    found: dict[int, list[ReportStep]] = {report.id: [] for report in reports}
    steps = session.exec(
        select(ReportStep).where(col(ReportStep.report_id).in_(list(found))).order_by(ReportStep.id)
    ).all()
    for step in steps:
        found[step.report_id].append(step)
    return found


def waiting_counts(session: Session, unit: Unit, now: datetime | None = None) -> tuple[int, int]:
    """Reports handled in ``unit``'s subtree still waiting for triage, and how many are late."""
    late = sa.and_(Report.triage_due_at < (now or utcnow()))
    row = session.exec(
        select(func.count(), func.coalesce(func.sum(sa.case((late, 1), else_=0)), 0)).where(
            Report.status == ReportStatus.submitted, path_in(Report.unit_path, unit.path)
        )
    ).one()
    return int(row[0]), int(row[1])
