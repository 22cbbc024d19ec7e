"""Monthly and quarterly statistics of a unit's subtree and of each of its committees.

Counts only: no party, no name, no narrative ever enters a figure. A period is a calendar
month (``2026-03``) or quarter (``2026Q1``) in China's time; events are counted in the period
they happened in (registration, acceptance, the end of mediation, a term's due day …).
"""

import re
import statistics as stats
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.access import path_in
from core.errors import DomainError, FieldError
from core.i18n import text
from plugins.mediation import clock
from plugins.mediation.models import (
    AgreementTerm,
    Committee,
    Confirmation,
    Dispute,
    DisputeStep,
    Escalation,
    Extension,
    FollowUp,
    Lead,
)
from plugins.mediation.vocab import ConfirmationResult, LeadKind, Outcome, Status, TermStatus

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
ENDINGS = ("reach_agreement", "fail", "refuse")


@dataclass(frozen=True)
class Period:
    """A month or a quarter: its name and its first and next-after-last days."""

    name: str
    start: date
    end: date  # exclusive

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware instants (China midnight to China midnight)."""
        return (
            datetime.combine(self.start, time(), clock.CHINA),
            datetime.combine(self.end, time(), clock.CHINA),
        )


def parse_period(value: str | None) -> Period:
    """``2026-03`` or ``2026Q1``; absent: the current month.

    Raises:
        DomainError: any other form (400, field ``period``).
    """
    if not value:
        today = clock.today()
        value = f"{today.year}-{today.month:02d}"
    if match := MONTH.match(value):
        start = date(int(match[1]), int(match[2]), 1)
        return Period(value, start, clock.add_months(start, 1))
    if match := QUARTER.match(value):
        start = date(int(match[1]), 3 * int(match[2]) - 2, 1)
        return Period(value, start, clock.add_months(start, 3))
    message = text("统计期应为 2026-03 或 2026Q1 的形式", "A period is 2026-03 or 2026Q1")
    raise DomainError(message, "invalid", 400, [FieldError("period", "format", message)])


def previous_month(today: date) -> Period:
    """The month before ``today``'s."""
    first = date(today.year, today.month, 1)
    start = clock.add_months(first, -1)
    return Period(f"{start.year}-{start.month:02d}", start, first)


@dataclass
class Figures:
    """The statistics of one scope (a unit's subtree or a committee) for one period."""

    registered: int = 0
    accepted: int = 0
    not_accepted: int = 0
    agreement_written: int = 0
    agreement_oral: int = 0
    failed: int = 0
    refused: int = 0
    success_rate: float | None = None
    average_days: float | None = None
    median_days: float | None = None
    overdue_ended: int = 0
    overdue_open: int = 0
    extensions: int = 0
    terms_due: int = 0
    terms_performed: int = 0
    performance_rate: float | None = None
    follow_ups: int = 0
    confirmations_applied: int = 0
    confirmations_valid: int = 0
    escalations: int = 0
    leads: int = 0
    zero_report_units: int = 0
    by_category: dict[str, int] | None = None
    by_source: dict[str, int] | None = None

    def as_dict(self) -> dict:
        """JSON-ready figures."""
        return dict(self.__dict__)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def compute(session: Session, scope, period: Period) -> Figures:
    """The figures of the disputes matched by ``scope`` (a predicate on ``Dispute``)."""
    low, high = period.bounds
    figures = Figures()
    in_scope = select(Dispute.id).where(scope)
    registered = session.exec(
        select(Dispute.category, Dispute.source).where(
            scope, Dispute.registered_at >= low, Dispute.registered_at < high
        )
    ).all()
    figures.registered = len(registered)
    figures.by_category = dict(Counter(category for category, _ in registered))
    figures.by_source = dict(Counter(str(source) for _, source in registered))
    figures.accepted = _count(
        session, Dispute, scope, Dispute.accepted_at >= low, Dispute.accepted_at < high
    )
    steps = session.exec(
        select(DisputeStep.transition, DisputeStep.at, Dispute)
        .join(Dispute, Dispute.id == DisputeStep.dispute_id)
        .where(
            scope,
            col(DisputeStep.transition).in_([*ENDINGS, "not_accept"]),
            DisputeStep.at >= low,
            DisputeStep.at < high,
        )
    ).all()
    durations = []
    for transition, at, dispute in steps:
        if transition == "not_accept":
            figures.not_accepted += 1
            continue
        if transition == "reach_agreement":
            if dispute.outcome == Outcome.agreement_oral:
                figures.agreement_oral += 1
            else:
                figures.agreement_written += 1
        elif transition == "fail":
            figures.failed += 1
        else:
            figures.refused += 1
        if dispute.accepted_at is not None:
            durations.append((at - dispute.accepted_at).total_seconds() / 86400)
        deadline = dispute.extended_until or dispute.due_on
        if deadline is not None and clock.local_day(at) > deadline:
            figures.overdue_ended += 1
    agreements = figures.agreement_written + figures.agreement_oral
    figures.success_rate = _ratio(agreements, agreements + figures.failed + figures.refused)
    if durations:
        figures.average_days = round(sum(durations) / len(durations), 1)
        figures.median_days = round(stats.median(durations), 1)
    if period.start <= clock.today() < period.end:
        today = clock.today()
        figures.overdue_open = session.exec(
            select(func.count())
            .select_from(Dispute)
            .where(
                scope,
                col(Dispute.status).in_([Status.accepted, Status.in_mediation]),
                sa.func.coalesce(Dispute.extended_until, Dispute.due_on) < today,
            )
        ).one()
    figures.extensions = _count(
        session,
        Extension,
        col(Extension.dispute_id).in_(in_scope),
        Extension.at >= low,
        Extension.at < high,
    )
    terms = session.exec(
        select(AgreementTerm.status).where(
            col(AgreementTerm.dispute_id).in_(in_scope),
            AgreementTerm.due_on >= period.start,
            AgreementTerm.due_on < period.end,
        )
    ).all()
    figures.terms_due = len(terms)
    figures.terms_performed = sum(status == TermStatus.performed for status in terms)
    figures.performance_rate = _ratio(figures.terms_performed, figures.terms_due)
    figures.follow_ups = _count(
        session,
        FollowUp,
        col(FollowUp.dispute_id).in_(in_scope),
        FollowUp.visited_on >= period.start,
        FollowUp.visited_on < period.end,
    )
    figures.confirmations_applied = _count(
        session,
        Confirmation,
        col(Confirmation.dispute_id).in_(in_scope),
        Confirmation.applied_on >= period.start,
        Confirmation.applied_on < period.end,
    )
    figures.confirmations_valid = _count(
        session,
        Confirmation,
        col(Confirmation.dispute_id).in_(in_scope),
        Confirmation.result == ConfirmationResult.valid,
        Confirmation.ruled_on >= period.start,
        Confirmation.ruled_on < period.end,
    )
    figures.escalations = _count(
        session,
        Escalation,
        col(Escalation.dispute_id).in_(in_scope),
        Escalation.reported_at >= low,
        Escalation.reported_at < high,
    )
    return figures


def _count(session: Session, model, *conditions) -> int:
    return session.exec(select(func.count()).select_from(model).where(*conditions)).one()


def add_screening(session: Session, figures: Figures, unit_path: str, period: Period) -> Figures:
    """Leads reported and units that filed a zero report, in the unit's subtree."""
    low, high = period.bounds
    figures.leads = _count(
        session,
        Lead,
        path_in(Lead.unit_path, unit_path),
        Lead.kind == LeadKind.lead,
        Lead.reported_at >= low,
        Lead.reported_at < high,
    )
    figures.zero_report_units = session.exec(
        select(func.count(sa.distinct(Lead.unit_id))).where(
            path_in(Lead.unit_path, unit_path),
            Lead.kind == LeadKind.zero_report,
            Lead.period_start < period.end,
            Lead.period_end >= period.start,
        )
    ).one()
    return figures


def for_unit(session: Session, unit_path: str, period: Period) -> Figures:
    """The statistics of every committee in the unit's subtree together."""
    figures = compute(session, path_in(Dispute.unit_path, unit_path), period)
    return add_screening(session, figures, unit_path, period)


def by_committee(
    session: Session, unit_path: str, period: Period
) -> list[tuple[Committee, Figures]]:
    """The statistics of each committee in the unit's subtree."""
    committees = session.exec(
        select(Committee)
        .where(path_in(Committee.unit_path, unit_path))
        .order_by(Committee.unit_path, Committee.id)
    ).all()
    return [
        (committee, compute(session, Dispute.committee_id == committee.id, period))
        for committee in committees
    ]
