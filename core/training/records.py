"""A person's training record: hours attended, sessions, quiz results and qualifications.

Training hours are the scheduled minutes of every module of each completed session the person
attended, counted on the session's local day. They feed the volunteer's record (志愿服务记录
keeps 培训情况 beside service hours), so other areas read them through
:func:`training_hours`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.contributions import TrainingModule
from core.training.dates import days_bounds
from core.training.models import (
    EnrolmentStatus,
    Qualification,
    QuizAttempt,
    SessionStatus,
    TrainingEnrolment,
    TrainingSession,
    TrainingSessionModule,
)
from core.training.qualifications import person_qualifications

HUNDREDTHS = Decimal("0.01")


def hours_of(minutes: int | None) -> Decimal:
    """Minutes as hours, to the hundredth."""
    return (Decimal(minutes or 0) / 60).quantize(HUNDREDTHS)


def attended_minutes(start: date, end: date) -> sa.Select:
    """A query of (person id, minutes) rows: attended module time from ``start`` to ``end``."""
    low, high = days_bounds(start, end)
    return (
        sa.select(TrainingEnrolment.person_id, TrainingSessionModule.minutes)
        .join(TrainingSession, TrainingSession.id == TrainingEnrolment.session_id)
        .join(TrainingSessionModule, TrainingSessionModule.session_id == TrainingSession.id)
        .where(
            TrainingEnrolment.status == EnrolmentStatus.enrolled,
            TrainingEnrolment.attended.is_(True),
            TrainingSession.status == SessionStatus.completed,
            TrainingSession.starts_at >= low,
            TrainingSession.starts_at < high,
        )
    )


def training_hours(session: Session, person_id: int, start: date, end: date) -> Decimal:
    """Hours of training the person attended from ``start`` to ``end`` (local days, inclusive).

    Args:
        session: A database session (read only).
        person_id: The person (a volunteer's ``person_id``).
        start: The first day counted.
        end: The last day counted.

    Returns:
        The hours, to the hundredth (``Decimal("4.50")``); zero if none.
    """
    rows = attended_minutes(start, end).where(TrainingEnrolment.person_id == person_id)
    minutes = session.execute(sa.select(sa.func.sum(rows.subquery().c.minutes))).scalar_one()
    return hours_of(minutes)


@dataclass
class EnrolmentLine:
    """A session the person enrolled in, with their attendance and quiz results."""

    enrolment: TrainingEnrolment
    training: TrainingSession
    modules: list[str]
    attempts: dict[str, list[QuizAttempt]]


def enrolment_lines(session: Session, person_id: int, limit: int = 100) -> list[EnrolmentLine]:
    """The person's enrolments, latest session first."""
    rows = session.exec(
        select(TrainingEnrolment, TrainingSession)
        .join(TrainingSession, TrainingSession.id == TrainingEnrolment.session_id)
        .where(TrainingEnrolment.person_id == person_id)
        .order_by(col(TrainingSession.starts_at).desc(), col(TrainingEnrolment.id).desc())
        .limit(limit)
    ).all()
    ids = [enrolment.id for enrolment, _ in rows]
    sessions = [training.id for _, training in rows]
    modules: dict[int, list[str]] = {}
    for line in session.exec(
        select(TrainingSessionModule)
        .where(col(TrainingSessionModule.session_id).in_(sessions or [0]))
        .order_by(TrainingSessionModule.position)
    ):
        modules.setdefault(line.session_id, []).append(line.module_code)
    attempts: dict[int, dict[str, list[QuizAttempt]]] = {}
    for attempt in session.exec(
        select(QuizAttempt)
        .where(col(QuizAttempt.enrolment_id).in_(ids or [0]))
        .order_by(col(QuizAttempt.id))
    ):
        attempts.setdefault(attempt.enrolment_id, {}).setdefault(attempt.module_code, []).append(
            attempt
        )
    return [
        EnrolmentLine(
            enrolment=enrolment,
            training=training,
            modules=modules.get(training.id, []),
            attempts=attempts.get(enrolment.id, {}),
        )
        for enrolment, training in rows
    ]


@dataclass
class TrainingRecord:
    """Everything about one person's training."""

    person_id: int
    qualifications: list[Qualification]
    enrolments: list[EnrolmentLine]
    hours: Decimal
    start: date
    end: date


def record_of(session: Session, person_id: int, start: date, end: date) -> TrainingRecord:
    """The person's qualifications, enrolments and training hours from ``start`` to ``end``."""
    return TrainingRecord(
        person_id=person_id,
        qualifications=person_qualifications(session, person_id),
        enrolments=enrolment_lines(session, person_id),
        hours=training_hours(session, person_id, start, end),
        start=start,
        end=end,
    )


def titles(catalogue: Mapping[str, TrainingModule]) -> dict[str, object]:
    """Module code → title, for showing rows that name modules."""
    return {code: module.title for code, module in catalogue.items()}
