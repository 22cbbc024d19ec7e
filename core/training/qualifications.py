"""Qualifications: held by a person, valid from a date until an expiry, revocable.

A qualification is valid on a day when it is not revoked, was granted on or before that day,
and expires after it (``expires_at`` is the first day it no longer counts; none: no expiry).
A person may hold several rows of a module (renewals, a manual grant and a session); any
valid one qualifies.
"""

from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.contributions import TrainingModule
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.training.models import Qualification, QualificationSource
from core.units.models import utcnow
from core.volunteers.models import Volunteer


def valid_on(on: date) -> sa.ColumnElement[bool]:
    """A predicate: the qualification row counts on day ``on``."""
    return sa.and_(
        col(Qualification.revoked_at).is_(None),
        Qualification.granted_on <= on,
        sa.or_(col(Qualification.expires_at).is_(None), col(Qualification.expires_at) > on),
    )


def held_modules(session: Session, person_id: int, codes: Iterable[str], on: date) -> set[str]:
    """Which of ``codes`` the person holds a valid qualification for on ``on``."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return set()
    return set(
        session.exec(
            select(Qualification.module_code)
            .where(
                Qualification.person_id == person_id,
                col(Qualification.module_code).in_(wanted),
                valid_on(on),
            )
            .distinct()
        ).all()
    )


def missing_modules(session: Session, person_id: int, codes: Iterable[str], on: date) -> list[str]:
    """The codes, in the order given (each once), the person holds no valid qualification for.

    The gate every rule calls: a task type's or shift's required modules (core's
    ``check_assignment``), a team role's (队长/副队长), a plugin's own (the mediation plugin's
    mediator rule).

    Args:
        session: A database session (read only).
        person_id: The person (qualifications are held by the person, not the volunteer).
        codes: Module codes (``core.law``, ``mediation.procedure`` …).
        on: The day that counts, such as the day a shift starts.
    """
    wanted = list(dict.fromkeys(codes))
    held = held_modules(session, person_id, wanted, on)
    return [code for code in wanted if code not in held]


def home_path(session: Session, person: Person) -> str:
    """The unit path a person's training is counted under: their team's, else their own."""
    team_path = session.exec(
        select(Volunteer.unit_path).where(Volunteer.person_id == person.id)
    ).first()
    return team_path or person.unit_path


def expiry_for(module: TrainingModule, granted_on: date) -> date | None:
    """When a qualification of ``module`` granted on ``granted_on`` stops counting."""
    if module.valid_days is None:
        return None
    return granted_on + timedelta(days=module.valid_days)


def grant(
    session: Session,
    person: Person,
    module: TrainingModule,
    *,
    granted_on: date,
    source: QualificationSource,
    granted_by_id: int | None,
    session_id: int | None = None,
    expires_at: date | None = None,
    note: str | None = None,
) -> Qualification:
    """Record that ``person`` holds ``module`` from ``granted_on``.

    The expiry follows the module's validity unless ``expires_at`` is given (an import
    carrying the date its source recorded). A session grants a module to a person once:
    granting it again for the same session returns the row already there.
    """
    if session_id is not None:
        existing = session.exec(
            select(Qualification).where(
                Qualification.person_id == person.id,
                Qualification.module_code == module.code,
                Qualification.session_id == session_id,
            )
        ).first()
        if existing is not None:
            return existing
    qualification = Qualification(
        person_id=person.id,
        unit_path=home_path(session, person),
        module_code=module.code,
        granted_on=granted_on,
        expires_at=expires_at or expiry_for(module, granted_on),
        source=source,
        session_id=session_id,
        granted_by_id=granted_by_id,
        note=note,
    )
    session.add(qualification)
    session.flush()
    return qualification


def revoke(
    session: Session, qualification: Qualification, reason: str, by_user_id: int | None
) -> Qualification:
    """Revoke a qualification: from now on it counts nowhere. The reason is kept.

    Raises:
        DomainError: it is already revoked (409).
    """
    if qualification.revoked_at is not None:
        message = text("该培训资格已撤销", "This qualification is already revoked")
        raise DomainError(message, "conflict", 409, [FieldError("reason", "revoked", message)])
    qualification.revoked_at = utcnow()
    qualification.revoked_by_id = by_user_id
    qualification.revoke_reason = reason
    session.add(qualification)
    session.flush()
    return qualification


def person_qualifications(session: Session, person_id: int) -> list[Qualification]:
    """Every qualification row of a person, newest grant first."""
    return list(
        session.exec(
            select(Qualification)
            .where(Qualification.person_id == person_id)
            .order_by(col(Qualification.granted_on).desc(), col(Qualification.id).desc())
        ).all()
    )


def state_of(qualification: Qualification, on: date, soon: int = 30) -> str:
    """Where a qualification stands on ``on``.

    ``revoked``, ``expired``, ``pending`` (granted later), ``expiring`` (within ``soon``
    days) or ``valid``.
    """
    if qualification.revoked_at is not None:
        return "revoked"
    if qualification.granted_on > on:
        return "pending"
    if qualification.expires_at is not None:
        if qualification.expires_at <= on:
            return "expired"
        if qualification.expires_at <= on + timedelta(days=soon):
            return "expiring"
    return "valid"
