"""Screening leads (排查线索) and zero reports (零上报) from information collectors.

A collector reports what they found, or explicitly that there was nothing, for a period; a
mediator, clerk or director registers a lead as a dispute, or dismisses it with a note.
Core's dispute-screening reports arrive as the event ``core.report.submitted``: those of
category ``dispute`` become leads (one per report, however often the event is delivered).
Collectors see their own leads and the status of the disputes they led to — never parties.
"""

import logging
from datetime import date

from sqlmodel import Session, select

from core.accounts.principal import Principal
from core.contributions import DomainEvent
from plugins.mediation import clock
from plugins.mediation.cases import Registration, refused, register
from plugins.mediation.models import Committee, Dispute, Lead
from plugins.mediation.vocab import LeadKind, LeadStatus, Risk, Source

log = logging.getLogger(__name__)

REPORT_EVENT = "core.report.submitted"
DISPUTE_CATEGORY = "dispute"


def report_lead(
    session: Session,
    principal: Principal,
    unit_id: int,
    unit_path: str,
    *,
    place: str,
    description: str,
    risk_level: Risk,
    people_involved: int | None,
) -> Lead:
    """A collector reports a dispute found in screening."""
    lead = Lead(
        unit_id=unit_id,
        unit_path=unit_path,
        kind=LeadKind.lead,
        reporter_user_id=principal.user_id,
        place=place,
        description=description,
        risk_level=risk_level,
        people_involved=people_involved,
        reported_at=clock.now(),
    )
    session.add(lead)
    session.flush()
    return lead


def zero_report(
    session: Session,
    principal: Principal,
    unit_id: int,
    unit_path: str,
    *,
    period_start: date,
    period_end: date,
) -> Lead:
    """A collector states that screening found nothing over a period.

    Once per collector, unit and period (``period_start`` to ``period_end``).
    """
    if period_end < period_start:
        raise refused("period_end", "before_start", "结束日期早于开始日期", "The period ends first")
    if period_end > clock.today():
        raise refused("period_end", "future", "不能为未来的时段零上报", "The period is not over")
    duplicate = session.exec(
        select(Lead.id).where(
            Lead.kind == LeadKind.zero_report,
            Lead.unit_id == unit_id,
            Lead.reporter_user_id == principal.user_id,
            Lead.period_start == period_start,
            Lead.period_end == period_end,
        )
    ).first()
    if duplicate is not None:
        raise refused("period_start", "duplicate", "该时段已零上报", "Already reported", 409)
    lead = Lead(
        unit_id=unit_id,
        unit_path=unit_path,
        kind=LeadKind.zero_report,
        reporter_user_id=principal.user_id,
        period_start=period_start,
        period_end=period_end,
        reported_at=clock.now(),
    )
    session.add(lead)
    session.flush()
    return lead


def _open_lead(lead: Lead) -> Lead:
    if lead.kind != LeadKind.lead or lead.status != LeadStatus.new:
        raise refused("lead_id", "not_open", "该线索已处理", "This lead has been dealt with", 409)
    return lead


def convert(
    session: Session,
    principal: Principal,
    lead: Lead,
    committee: Committee,
    data: Registration,
) -> Dispute:
    """Register a lead as a dispute before a committee (source: found in screening)."""
    _open_lead(lead)
    if not lead.unit_path.startswith(committee.unit_path) and not committee.unit_path.startswith(
        lead.unit_path
    ):
        raise refused(
            "committee_id",
            "elsewhere",
            "调委会须在线索所在地或其上级",
            "Choose a committee where the lead was found or above it",
        )
    if data.source != Source.screening:
        data = Registration(**{**data.__dict__, "source": Source.screening})
    return register(session, principal, committee, data, lead=lead)


def dismiss(lead: Lead, note: str) -> Lead:
    """Dismiss a lead that needs no mediation, saying why."""
    _open_lead(lead)
    lead.status = LeadStatus.dismissed
    lead.dismissal_note = note
    return lead


def lead_from_report(session: Session, event: DomainEvent, unit_path: str) -> Lead | None:
    """The lead of a core dispute-screening report (None for other categories).

    Idempotent: a report already turned into a lead is not turned into another.
    """
    if event.name != REPORT_EVENT or event.payload.get("category") != DISPUTE_CATEGORY:
        return None
    report_id = event.payload.get("report_id")
    if not isinstance(report_id, int):
        # The event is core's; a malformed one must not undo the report that caused it.
        log.warning("%s without an integer report_id: %r", REPORT_EVENT, event.payload)
        return None
    existing = session.exec(select(Lead).where(Lead.report_id == report_id)).first()
    if existing is not None:
        return existing
    lead = Lead(
        unit_id=event.unit_id,
        unit_path=unit_path,
        kind=LeadKind.lead,
        report_id=report_id,
        reported_at=event.occurred_at,
    )
    session.add(lead)
    session.flush()
    return lead
