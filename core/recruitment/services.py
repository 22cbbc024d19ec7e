"""Recruitment (SPEC §3): the state machine, who may take each step where, and what it does.

An application is submitted at an office (or by the applicant on the public page), then:

1. preliminary review (初审) by the receiving office — a grant *at* the application's unit;
2. review (审核) one level up — a grant at the parent of that unit (at the city itself for an
   application received by the city office, which has nobody above it);
3. registration (登记) by the district containing the unit — creates the person and the
   volunteer and places them in a team;
4. identity verification and certificate (身份核查、发证) by the city.

Any open application may be rejected, with a reason, by whoever may take its next step; the
applicant may withdraw it. The roles' actions say *what* someone may do; which step a grant
may take is decided here, on the acting grant's own unit, never by widening scopes. Every
step writes an :class:`ApplicationStep` and records a notification job in the same
transaction.
"""

import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.access import path_in, scoped
from core.accounts.models import User
from core.accounts.principal import Grant, Principal
from core.audit.models import AuditEntry
from core.audit.recorder import AuditActor, record
from core.certificates.services import issue_certificate
from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.jobs.outbox import enqueue
from core.people.identity import normalise_mobile, parse_id_number
from core.people.models import Gender, Person
from core.people.services import PersonDetails, check_details, create_person, id_index
from core.recruitment.models import (
    OPEN_STATUSES,
    Application,
    ApplicationStatus,
    ApplicationStep,
)
from core.security.fields import Keyring
from core.units.models import Unit, UnitLevel, utcnow
from core.volunteers.models import TeamMembership, Volunteer, VolunteerStatus
from core.volunteers.services import enroll

CHINA = timezone(timedelta(hours=8))  # China keeps one time zone and no daylight saving
NOTIFY_JOB = "core.notify_application"
NEW = "new"  # the ``from_status`` of the step that records the submission

#: Self-application attempts (accepted or refused) allowed per client address and window.
SELF_APPLY_LIMIT = 10
SELF_APPLY_WINDOW = timedelta(hours=1)
SELF_APPLY_EVENT = "self_application"

#: Keys of ``Application.wishes`` that the platform keeps for itself (never shown): the
#: withdrawal secret's digest and the account of a signed-in self-applicant. The data model
#: has no columns for them, so they live in the JSON column.
WITHDRAW_KEY = "_withdraw"
ACCOUNT_KEY = "_account"

SUBMIT = "core.application.submit"
REVIEW = "core.application.review"
APPROVE = "core.application.approve"
REGISTER = "core.application.register"
CERTIFY = "core.application.certify"

STATUS_LABELS = {
    NEW: Label("新建", "new"),
    ApplicationStatus.submitted: Label("待初审", "submitted"),
    ApplicationStatus.preliminary_approved: Label("初审通过，待审核", "preliminarily approved"),
    ApplicationStatus.reviewed: Label("审核通过，待登记", "reviewed"),
    ApplicationStatus.registered: Label("已登记，待发证", "registered"),
    ApplicationStatus.certified: Label("已发证", "certified"),
    ApplicationStatus.rejected: Label("未通过", "rejected"),
    ApplicationStatus.withdrawn: Label("已撤回", "withdrawn"),
}

CHANNEL_LABELS = {
    "office": Label("单位受理", "taken by an office"),
    "self": Label("本人报名", "self"),
}


class Step(StrEnum):
    """What can be done to an application."""

    preliminary_approve = "preliminary_approve"
    approve = "approve"
    register = "register"
    certify = "certify"
    reject = "reject"
    withdraw = "withdraw"


@dataclass(frozen=True)
class StepRule:
    """A forward step: the status it starts from and leads to, and the action it needs."""

    step: Step
    from_status: ApplicationStatus
    to_status: ApplicationStatus
    action: str
    label: Label
    where: Label  # who takes it, for messages


FORWARD: dict[ApplicationStatus, StepRule] = {
    rule.from_status: rule
    for rule in (
        StepRule(
            Step.preliminary_approve,
            ApplicationStatus.submitted,
            ApplicationStatus.preliminary_approved,
            REVIEW,
            Label("初审", "Preliminary review"),
            Label("受理单位", "the receiving office"),
        ),
        StepRule(
            Step.approve,
            ApplicationStatus.preliminary_approved,
            ApplicationStatus.reviewed,
            APPROVE,
            Label("审核", "Review"),
            Label("受理单位的上一级", "the office one level above the receiving office"),
        ),
        StepRule(
            Step.register,
            ApplicationStatus.reviewed,
            ApplicationStatus.registered,
            REGISTER,
            Label("登记", "Registration"),
            Label("所在区县", "the district office"),
        ),
        StepRule(
            Step.certify,
            ApplicationStatus.registered,
            ApplicationStatus.certified,
            CERTIFY,
            Label("身份核查与发证", "Identity verification and certification"),
            Label("市领导小组办公室", "the city office"),
        ),
    )
}
RULES: dict[Step, StepRule] = {rule.step: rule for rule in FORWARD.values()}
STEP_LABELS = {
    **{rule.step: rule.label for rule in FORWARD.values()},
    Step.reject: Label("不予通过", "Reject"),
    Step.withdraw: Label("撤回", "Withdraw"),
}


def _label(value: Label) -> str:
    return text(value.zh, value.en)


def application_day(at: datetime | None = None) -> date:
    """The calendar day in China of ``at`` (now if absent): ages are counted on it."""
    return (at or utcnow()).astimezone(CHINA).date()


# -- where each step is taken --------------------------------------------------------------


def step_unit_id(application: Application, step: Step) -> int:
    """The unit whose office takes ``step`` on ``application`` (its path says it all).

    Preliminary review and an office's withdrawal: the receiving unit. Review: its parent
    (the city itself for an application the city received). Registration: the district
    containing the unit (the city for the city's own). Certification: the city.
    """
    ids = [int(part) for part in application.unit_path.split(".") if part]
    if step in (Step.preliminary_approve, Step.withdraw):
        return ids[-1]
    if step == Step.approve:
        return ids[-2] if len(ids) > 1 else ids[-1]
    if step == Step.register:
        return ids[1] if len(ids) > 1 else ids[0]
    if step == Step.certify:
        return ids[0]
    raise ValueError(f"{step} is not taken at one unit")


def acting_grant(principal: Principal, action: str, unit_id: int) -> Grant | None:
    """The caller's grant held *at* ``unit_id`` that allows ``action``, if any."""
    return next((g for g in principal.grants if g.unit_id == unit_id and action in g.actions), None)


def _units_named(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(ids))).all())


def _wrong_status(application: Application, wanted: Label) -> DomainError:
    current = STATUS_LABELS[application.status]
    return DomainError(
        text(
            f"该报名当前状态为「{current.zh}」，不能{wanted.zh}",
            f"The application is {current.en}; {wanted.en.lower()} is not possible now",
        ),
        "wrong_status",
        409,
        [FieldError("status", "wrong_status", str(application.status))],
    )


def _wrong_level(
    session: Session, principal: Principal, action: str, unit_id: int, what: Label, who: Label
) -> DomainError:
    names = _units_named(session, [unit_id, *(g.unit_id for g in principal.grants)])
    held = sorted(
        {names.get(g.unit_id, str(g.unit_id)) for g in principal.grants if action in g.actions}
    )
    target = names.get(unit_id, str(unit_id))
    zh = f"{what.zh}须由{who.zh}（{target}）办理"
    en = f"{what.en} is taken by {who.en} ({target})"
    if held:
        zh += f"；你可办理此类事项的角色在：{'、'.join(held)}"
        en += f"; your roles allowing it are held at: {', '.join(held)}"
    else:
        zh += "；你没有可办理此事项的角色"
        en += "; none of your roles allows it"
    return DomainError(
        text(zh, en), "wrong_level", 403, [FieldError("unit", "wrong_level", target)]
    )


@dataclass(frozen=True)
class Requirement:
    """What taking a step needs now: an action, held by a grant at one unit."""

    action: str
    unit_id: int
    what: Label  # the step, for messages
    who: Label  # the office that takes it, for messages


def requirement(application: Application, step: Step) -> Requirement:
    """What ``step`` needs on ``application`` in its current status.

    Raises:
        DomainError: the application is not waiting for that step (409 ``wrong_status``), or
            an office tries to withdraw a self-application (409 ``self_applied``).
    """
    if step in (Step.reject, Step.withdraw):
        if application.status not in OPEN_STATUSES:
            raise _wrong_status(application, STEP_LABELS[step])
        if step == Step.reject:
            rule = FORWARD[ApplicationStatus(application.status)]
            return Requirement(
                rule.action, step_unit_id(application, rule.step), STEP_LABELS[step], rule.where
            )
        if application.channel == "self":
            raise DomainError(
                text(
                    "本人报名只能由申请人通过撤回链接撤回；单位可以不予通过",
                    "A self-application is withdrawn by the applicant through the "
                    "withdrawal link; an office may reject it instead",
                ),
                "self_applied",
                409,
                [FieldError("channel", "self_applied", "self")],
            )
        return Requirement(
            SUBMIT,
            step_unit_id(application, Step.withdraw),
            STEP_LABELS[step],
            Label("受理单位", "the receiving office"),
        )
    rule = RULES[step]
    if application.status != rule.from_status:
        raise _wrong_status(application, rule.label)
    return Requirement(rule.action, step_unit_id(application, step), rule.label, rule.where)


def authorise(
    session: Session, principal: Principal, application: Application, step: Step
) -> Grant:
    """The grant with which the caller takes ``step`` now, or why they may not.

    The status is checked first (409 ``wrong_status``), then the acting grant's unit
    (403 ``wrong_level``), so the refusal names the actual obstacle.
    """
    needed = requirement(application, step)
    grant = acting_grant(principal, needed.action, needed.unit_id)
    if grant is None:
        raise _wrong_level(
            session, principal, needed.action, needed.unit_id, needed.what, needed.who
        )
    return grant


def allowed_steps(principal: Principal, application: Application) -> list[Step]:
    """The steps the caller may take on ``application`` now (for buttons and the API)."""
    allowed = []
    for step in Step:
        try:
            needed = requirement(application, step)
        except DomainError:
            continue
        if acting_grant(principal, needed.action, needed.unit_id) is not None:
            allowed.append(step)
    return allowed


def waiting_for(principal: Principal) -> sa.ColumnElement[bool]:
    """Applications whose next step one of the caller's grants takes (the office's queue)."""
    clauses = []
    for grant in principal.grants:
        depth = grant.unit_path.count(".")
        here = Application.unit_id == grant.unit_id
        if REVIEW in grant.actions:
            clauses.append(sa.and_(Application.status == ApplicationStatus.submitted, here))
        if APPROVE in grant.actions:
            children = select(Unit.id).where(Unit.parent_id == grant.unit_id)
            below = col(Application.unit_id).in_(children)
            clauses.append(
                sa.and_(
                    Application.status == ApplicationStatus.preliminary_approved,
                    sa.or_(below, here) if depth == 1 else below,
                )
            )
        if REGISTER in grant.actions and depth in (1, 2):
            where = path_in(Application.unit_path, grant.unit_path) if depth == 2 else here
            clauses.append(sa.and_(Application.status == ApplicationStatus.reviewed, where))
        if CERTIFY in grant.actions and depth == 1:
            clauses.append(
                sa.and_(
                    Application.status == ApplicationStatus.registered,
                    path_in(Application.unit_path, grant.unit_path),
                )
            )
    return sa.or_(*clauses) if clauses else sa.false()


# -- submitting ----------------------------------------------------------------------------


@dataclass
class Applicant:
    """What an applicant gives: the person's details and their wishes."""

    name: str
    id_number: str
    phone: str
    address: str | None = None
    education: str | None = None
    occupation: str | None = None
    skills: list[str] | None = None
    team_unit_id: int | None = None
    special_teams: list[str] | None = None
    note: str | None = None

    def details(self) -> PersonDetails:
        """As the people service checks and stores them."""
        return PersonDetails(
            name=self.name,
            id_number=self.id_number,
            phone=self.phone,
            address=self.address,
            education=self.education,
            occupation=self.occupation,
            skills=list(self.skills or []),
        )


def public_wishes(application: Application) -> dict:
    """The applicant's wishes without the platform's own keys."""
    return {k: v for k, v in (application.wishes or {}).items() if not k.startswith("_")}


def _lock_id_number(session: Session, index: str) -> None:
    # Two offices submitting the same person at once: serialise on the ID number so the
    # duplicate check below sees the other's row (SQLite serialises writers anyway).
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": "application:" + index}
        )


def _check_unique(session: Session, index: str, *, name_unit: bool) -> None:
    if session.exec(select(Person.id).where(Person.id_number_index == index)).first():
        raise DomainError(
            text(
                "该身份证号已登记：此人已在平台登记，不能重复报名",
                "This ID number is already registered: the person cannot apply again",
            ),
            "duplicate_id",
            409,
            [FieldError("id_number", "registered", text("已登记", "already registered"))],
        )
    other = session.exec(
        select(Application.id, Unit.name)
        .join(Unit, Unit.id == Application.unit_id)
        .where(
            Application.id_number_index == index,
            col(Application.status).in_([s.value for s in OPEN_STATUSES]),
        )
    ).first()
    if other:
        where_zh = f"（受理单位：{other[1]}）" if name_unit else ""
        where_en = f" (at {other[1]})" if name_unit else ""
        raise DomainError(
            text(
                f"该身份证号已有一份正在办理的报名{where_zh}，须待其办结或撤回",
                f"This ID number already has an application in progress{where_en}; "
                "it must be finished or withdrawn first",
            ),
            "duplicate_id",
            409,
            [
                FieldError(
                    "id_number",
                    "open_application",
                    text("已有办理中的报名", "an application is in progress"),
                )
            ],
        )


def _check_wishes(
    session: Session, unit: Unit, applicant: Applicant, special_teams: set[str] | None
) -> list[FieldError]:
    errors = []
    if applicant.team_unit_id is not None:
        team = session.get(Unit, applicant.team_unit_id)
        district = registering_unit_path(unit)
        if (
            team is None
            or not team.active
            or team.level == UnitLevel.city
            or not team.path.startswith(district)
        ):
            errors.append(
                FieldError(
                    "wishes.team_unit_id",
                    "outside_district",
                    text(
                        "意向队伍须是受理单位所在区县内的单位",
                        "the wished team must be a unit in the receiving unit's district",
                    ),
                )
            )
    unknown = sorted(set(applicant.special_teams or []) - (special_teams or set()))
    if special_teams is not None and unknown:
        errors.append(
            FieldError(
                "wishes.special_teams",
                "choice",
                text("未知的专项队伍：", "unknown special teams: ") + ", ".join(unknown),
            )
        )
    return errors


def registering_unit_path(unit: Unit) -> str:
    """The path of the unit that registers applications received at ``unit``."""
    parts = [p for p in unit.path.split(".") if p]
    return ".".join(parts[:2]) + "."


def submit(
    session: Session,
    keyring: Keyring,
    unit: Unit,
    applicant: Applicant,
    *,
    channel: str = "office",
    by_user_id: int | None = None,
    today: date | None = None,
    special_teams: set[str] | None = None,
) -> Application:
    """Record an application received at ``unit``.

    Every check runs before anything is written, so a refusal leaves the session clean.

    Raises:
        DomainError: the unit is inactive (400), a field breaks a rule — the resident ID's
            length, format, birth date or check digit, or an age under 18 on the application
            day (400, every field named) — or the ID number is registered or has another open
            application anywhere (409 ``duplicate_id``).
    """
    if not unit.active:
        raise DomainError(
            text("该单位已撤销或合并，不能受理报名", "This unit is closed or merged"),
            "inactive_unit",
            400,
            [FieldError("unit_id", "inactive", str(unit.id))],
        )
    day = today or application_day()
    details = applicant.details()
    errors = check_details(details, today=day, adult=True)
    if not applicant.phone or not applicant.phone.strip():
        errors.append(FieldError("phone", "missing", text("必填", "is required")))
    if not applicant.id_number or not applicant.id_number.strip():
        errors.append(FieldError("id_number", "missing", text("必填", "is required")))
    errors += _check_wishes(session, unit, applicant, special_teams)
    if errors:
        raise DomainError(
            text("报名信息有误", "The application's details are invalid"),
            "validation_failed",
            400,
            errors,
        )
    parsed = parse_id_number(applicant.id_number, today=day)
    index = id_index(keyring, parsed.value)
    _lock_id_number(session, index)
    _check_unique(session, index, name_unit=channel == "office")
    wishes: dict = {}
    if applicant.team_unit_id is not None:
        wishes["team_unit_id"] = applicant.team_unit_id
    if applicant.special_teams:
        wishes["special_teams"] = sorted(set(applicant.special_teams))
    if applicant.note:
        wishes["note"] = applicant.note.strip()
    application = Application(
        unit_id=unit.id,
        unit_path=unit.path,
        status=ApplicationStatus.submitted,
        channel=channel,
        name=details.name.strip(),
        id_number=parsed.value,
        id_number_index=index,
        gender=Gender.male if parsed.male else Gender.female,
        birth_date=parsed.birth_date,
        phone=normalise_mobile(details.phone),
        address=(details.address or "").strip() or None,
        education=details.education or None,
        occupation=(details.occupation or "").strip() or None,
        skills=sorted(set(details.skills)),
        wishes=wishes,
    )
    session.add(application)
    session.flush()
    _record_step(session, application, NEW, ApplicationStatus.submitted, by_user_id, unit.id, None)
    return application


def self_apply(
    session: Session,
    keyring: Keyring,
    unit: Unit,
    applicant: Applicant,
    address: str,
    *,
    account_user_id: int | None = None,
    today: date | None = None,
    special_teams: set[str] | None = None,
) -> tuple[Application, str]:
    """A self-application from the public page or API; returns it and its withdrawal token.

    Attempts, accepted or refused, are counted per client ``address`` in the audit trail;
    beyond :data:`SELF_APPLY_LIMIT` in :data:`SELF_APPLY_WINDOW` the request is refused (429)
    without any further effect. The token (``<id>.<secret>``) is shown only once: only its
    digest is kept.

    A refusal other than the rate limit leaves the attempt recorded in ``session``: commit
    it before answering.

    Raises:
        DomainError: rate limited (429), or any refusal of :func:`submit`.
    """
    since = utcnow() - SELF_APPLY_WINDOW
    attempts = session.exec(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.event == SELF_APPLY_EVENT,
            AuditEntry.address == address[:64],
            AuditEntry.at >= since,
        )
    ).one()
    if attempts >= SELF_APPLY_LIMIT:
        raise DomainError(
            text(
                "此网络地址提交的报名过于频繁，请一小时后再试，或到就近的办公室报名",
                "Too many applications from this address; try again in an hour or apply at "
                "an office",
            ),
            "rate_limited",
            429,
        )
    actor = AuditActor(account_user_id, None, address[:64], None)
    try:
        application = submit(
            session,
            keyring,
            unit,
            applicant,
            channel="self",
            by_user_id=account_user_id,
            today=today,
            special_teams=special_teams,
        )
    except DomainError as refused:
        record(
            session,
            SELF_APPLY_EVENT,
            object_type="application",
            unit_path=unit.path,
            outcome="refused",
            reason=refused.code,
            actor=actor,
        )
        raise
    secret = secrets.token_urlsafe(24)
    wishes = dict(application.wishes)
    wishes[WITHDRAW_KEY] = _digest(secret)
    if account_user_id is not None:
        wishes[ACCOUNT_KEY] = account_user_id
    application.wishes = wishes
    session.add(application)
    session.flush()
    record(
        session,
        SELF_APPLY_EVENT,
        object_type="application",
        object_id=application.id,
        unit_path=unit.path,
        actor=actor,
    )
    return application, f"{application.id}.{secret}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def application_for_token(session: Session, token: str) -> Application:
    """The self-application a withdrawal token belongs to.

    Raises:
        DomainError: the token is malformed or matches nothing (404, the same either way).
    """
    unknown = DomainError(
        text("撤回链接无效", "This withdrawal link is not valid"),
        "invalid_token",
        404,
        [FieldError("token", "invalid", text("无效", "not valid"))],
    )
    number, _, secret = (token or "").strip().partition(".")
    if not number.isdigit() or len(number) > 12 or not secret:
        raise unknown
    application = session.get(Application, int(number))
    kept = (application.wishes or {}).get(WITHDRAW_KEY) if application else None
    if not kept or not hmac.compare_digest(kept, _digest(secret)):
        raise unknown
    return application


# -- the steps -----------------------------------------------------------------------------


def _record_step(
    session: Session,
    application: Application,
    from_status: str,
    to_status: ApplicationStatus,
    by_user_id: int | None,
    at_unit_id: int | None,
    reason: str | None,
) -> ApplicationStep:
    step = ApplicationStep(
        application_id=application.id,
        from_status=str(from_status),
        to_status=str(to_status),
        by_user_id=by_user_id,
        at_unit_id=at_unit_id,
        reason=reason,
    )
    session.add(step)
    session.flush()
    enqueue(
        session,
        NOTIFY_JOB,
        unit_id=application.unit_id,
        application_id=application.id,
        step_id=step.id,
    )
    return step


def _move(
    session: Session,
    application: Application,
    to_status: ApplicationStatus,
    by_user_id: int | None,
    at_unit_id: int | None,
    reason: str | None = None,
) -> ApplicationStep:
    from_status = application.status
    application.status = to_status
    if to_status in (
        ApplicationStatus.rejected,
        ApplicationStatus.withdrawn,
        ApplicationStatus.certified,
    ):
        application.decided_at = utcnow()
        application.reason = reason
    session.add(application)
    session.flush()
    return _record_step(
        session, application, from_status, to_status, by_user_id, at_unit_id, reason
    )


def preliminary_approve(
    session: Session, principal: Principal, application: Application
) -> ApplicationStep:
    """初审: the receiving office passes the application up."""
    grant = authorise(session, principal, application, Step.preliminary_approve)
    return _move(
        session,
        application,
        ApplicationStatus.preliminary_approved,
        principal.user_id,
        grant.unit_id,
    )


def approve(session: Session, principal: Principal, application: Application) -> ApplicationStep:
    """审核: the office one level up passes it to the district."""
    grant = authorise(session, principal, application, Step.approve)
    return _move(session, application, ApplicationStatus.reviewed, principal.user_id, grant.unit_id)


def _reason(reason: str | None, *, required: bool) -> str | None:
    cleaned = (reason or "").strip() or None
    if required and cleaned is None:
        raise DomainError(
            text("须填写不予通过的理由", "A reason is required to reject"),
            "validation_failed",
            400,
            [FieldError("reason", "missing", text("必填", "is required"))],
        )
    return cleaned[:500] if cleaned else None


def reject(
    session: Session, principal: Principal, application: Application, reason: str | None
) -> ApplicationStep:
    """不予通过, with a reason, by whoever may take the application's next step.

    Raises:
        DomainError: no reason (400), not open (409), not the next step's office (403).
    """
    cleaned = _reason(reason, required=True)
    grant = authorise(session, principal, application, Step.reject)
    return _move(
        session,
        application,
        ApplicationStatus.rejected,
        principal.user_id,
        grant.unit_id,
        cleaned,
    )


def withdraw(
    session: Session, principal: Principal, application: Application, reason: str | None
) -> ApplicationStep:
    """The receiving office withdraws an application it took, at the applicant's request."""
    grant = authorise(session, principal, application, Step.withdraw)
    return _move(
        session,
        application,
        ApplicationStatus.withdrawn,
        principal.user_id,
        grant.unit_id,
        _reason(reason, required=False),
    )


def withdraw_own(session: Session, token: str, reason: str | None) -> ApplicationStep:
    """The applicant withdraws their self-application with the token given at submission.

    Raises:
        DomainError: the token is not valid (404) or the application is no longer open (409).
    """
    application = application_for_token(session, token)
    if application.status not in OPEN_STATUSES:
        raise _wrong_status(application, STEP_LABELS[Step.withdraw])
    account = (application.wishes or {}).get(ACCOUNT_KEY)
    return _move(
        session,
        application,
        ApplicationStatus.withdrawn,
        account,
        None,
        _reason(reason, required=False),
    )


def register(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    application: Application,
    team: Unit,
    *,
    today: date | None = None,
) -> Volunteer:
    """登记: the district creates the person and the volunteer, placed in ``team``'s team.

    Raises:
        DomainError: not reviewed (409), not the district office (403), a team outside the
            district or closed (400), the person registered meanwhile (409).
    """
    grant = authorise(session, principal, application, Step.register)
    district = session.get(Unit, grant.unit_id)
    if not team.active or team.level == UnitLevel.city or not team.path.startswith(district.path):
        raise DomainError(
            text(
                f"队伍须是{district.name}辖区内在用的单位",
                f"The team must be an active unit within {district.name}",
            ),
            "outside_district",
            400,
            [FieldError("team_unit_id", "outside_district", str(team.id))],
        )
    details = PersonDetails(
        name=application.name,
        id_number=application.id_number,
        phone=application.phone,
        address=application.address,
        education=application.education,
        occupation=application.occupation,
        skills=list(application.skills or []),
    )
    person = create_person(session, keyring, team, details)
    volunteer = enroll(session, person, team, on=today or application_day())
    application.person_id = person.id
    application.volunteer_id = volunteer.id
    _move(session, application, ApplicationStatus.registered, principal.user_id, grant.unit_id)
    return volunteer


def certify(session: Session, principal: Principal, application: Application) -> str:
    """身份核查、发证: the city checks the identity and numbers the certificate.

    Raises:
        DomainError: not registered (409), not the city office (403), or the registered
            person's ID number no longer matches the application's (409).
    """
    grant = authorise(session, principal, application, Step.certify)
    volunteer = session.get(Volunteer, application.volunteer_id)
    person = session.get(Person, volunteer.person_id) if volunteer else None
    if person is None or person.id_number_index != application.id_number_index:
        raise DomainError(
            text(
                "身份核查未通过：登记的人员与报名的身份证号不一致",
                "Identity check failed: the registered person's ID does not match",
            ),
            "identity_mismatch",
            409,
        )
    city = session.get(Unit, grant.unit_id)
    number = issue_certificate(session, volunteer, city)
    _move(session, application, ApplicationStatus.certified, principal.user_id, grant.unit_id)
    return number


# -- team placement ------------------------------------------------------------------------


@dataclass
class Placement:
    """A team unit suggested for an applicant, and why."""

    unit: Unit
    wished: bool
    shared_skills: list[str]
    members: int
    distance: int


def _distance(a: str, b: str) -> int:
    left = [p for p in a.split(".") if p]
    right = [p for p in b.split(".") if p]
    common = 0
    for x, y in zip(left, right, strict=False):
        if x != y:
            break
        common += 1
    return len(left) + len(right) - 2 * common


def suggest_teams(
    session: Session, application: Application, *, limit: int = 10, candidates: int = 60
) -> list[Placement]:
    """Team units in the registering district, best first.

    Ranked by the applicant's wish, then by how many of their skills the unit's current team
    members already bring, then nearest to the receiving unit (tree distance). Only the
    ``candidates`` nearest units (and the wished one) are weighed, so a large district costs
    a bounded query.
    """
    top = registering_unit_path(session.get(Unit, application.unit_id))
    units = session.exec(
        select(Unit).where(
            path_in(Unit.path, top), Unit.active == sa.true(), Unit.level != UnitLevel.city
        )
    ).all()
    wished_id = public_wishes(application).get("team_unit_id")
    units = sorted(units, key=lambda u: (_distance(application.unit_path, u.path), u.path))
    chosen = units[:candidates] + [u for u in units[candidates:] if u.id == wished_id]
    ids = [u.id for u in chosen]
    skills_of: dict[int, Counter] = {i: Counter() for i in ids}
    members: Counter = Counter()
    if ids:
        rows = session.exec(
            select(TeamMembership.unit_id, Person.skills)
            .join(Volunteer, Volunteer.id == TeamMembership.volunteer_id)
            .join(Person, Person.id == Volunteer.person_id)
            .where(
                col(TeamMembership.unit_id).in_(ids),
                col(TeamMembership.until).is_(None),
                Volunteer.status == VolunteerStatus.active,
            )
        ).all()
        for unit_id, skills in rows:
            members[unit_id] += 1
            skills_of[unit_id].update(set(skills or []))
    mine = set(application.skills or [])
    placements = [
        Placement(
            unit=u,
            wished=u.id == wished_id,
            shared_skills=sorted(mine & set(skills_of[u.id])),
            members=members[u.id],
            distance=_distance(application.unit_path, u.path),
        )
        for u in chosen
    ]
    placements.sort(
        key=lambda p: (not p.wished, -len(p.shared_skills), p.distance, -p.members, p.unit.path)
    )
    return placements[:limit]


# -- reading -------------------------------------------------------------------------------


def history(
    session: Session, application: Application
) -> list[tuple[ApplicationStep, str | None, str | None]]:
    """The application's steps, oldest first, with who took each and at which unit."""
    rows = session.exec(
        select(ApplicationStep, User.display_name, Unit.name)
        .join(User, User.id == ApplicationStep.by_user_id, isouter=True)
        .join(Unit, Unit.id == ApplicationStep.at_unit_id, isouter=True)
        .where(ApplicationStep.application_id == application.id)
        .order_by(ApplicationStep.id)
    ).all()
    return [(step, by, unit) for step, by, unit in rows]


def age_on_application(application: Application) -> int:
    """Completed years on the day the application was submitted (in China)."""
    day = application_day(application.submitted_at)
    born = application.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def list_query(
    principal: Principal,
    *,
    status: ApplicationStatus | None = None,
    unit: Unit | None = None,
    waiting: bool = False,
    name: str | None = None,
):
    """Applications in the caller's reach, filtered, newest first, with their unit's name."""
    query = scoped(
        select(Application, Unit.name).join(Unit, Unit.id == Application.unit_id),
        Application.unit_path,
        principal,
        REVIEW,
    )
    if waiting:
        query = query.where(waiting_for(principal))
    if status is not None:
        query = query.where(Application.status == status)
    if unit is not None:
        query = query.where(path_in(Application.unit_path, unit.path))
    if name:
        query = query.where(col(Application.name).contains(name))
    return query.order_by(col(Application.id).desc())


def team_unit(session: Session, unit_id: int) -> Unit:
    """The team unit named in a registration, or a field error (400)."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise DomainError(
            text("没有这个单位", "No such unit"),
            "validation_failed",
            400,
            [FieldError("team_unit_id", "unknown", str(unit_id))],
        )
    return unit


def require_verified(verified: bool) -> None:
    """Certification needs the city's explicit confirmation that identity was verified."""
    if not verified:
        raise DomainError(
            text("须先核查身份并确认", "Confirm that the identity has been verified"),
            "validation_failed",
            400,
            [FieldError("identity_verified", "required", text("须确认", "must be confirmed"))],
        )
