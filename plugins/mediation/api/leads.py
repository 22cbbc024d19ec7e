"""API: screening leads and zero reports."""

from datetime import date, datetime

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from pydantic import BaseModel
from sqlmodel import Session, col, select

from core.access import path_in
from core.accounts.principal import Principal
from core.units.models import Unit
from core.web.deps import Limit, Offset, SessionDep, UnitDep
from plugins.mediation import leads
from plugins.mediation.access import within
from plugins.mediation.api.common import after_step, caller
from plugins.mediation.api.disputes import DisputeView, registration
from plugins.mediation.models import Committee, Dispute, Lead
from plugins.mediation.permissions import LEAD_CONVERT, LEAD_READ, LEAD_REPORT
from plugins.mediation.present import say
from plugins.mediation.schemas import Dismissal, LeadConversion, LeadIn, ZeroReportIn
from plugins.mediation.vocab import STATUS_LABELS


class LeadRead(BaseModel):
    """A lead, and the status (only) of the dispute it became."""

    id: int
    unit_id: int
    kind: str
    place: str | None
    description: str | None
    risk_level: str
    people_involved: int | None
    period_start: date | None
    period_end: date | None
    status: str
    from_report: bool
    reported_at: datetime
    mine: bool
    dispute_case_no: str | None
    dispute_status: str | None


def visible_leads(principal: Principal, unit: Unit):
    """Leads in the unit's subtree: all for those who convert them, else one's own."""
    query = select(Lead).where(path_in(Lead.unit_path, unit.path))
    if not principal.can(LEAD_CONVERT, unit):
        query = query.where(Lead.reporter_user_id == principal.user_id)
    return query


def lead_reads(session: Session, principal: Principal, found: list[Lead]) -> list[LeadRead]:
    """Leads as the API shows them; a converted one names its case number and status."""
    disputes = {
        d.lead_id: d
        for d in session.exec(
            select(Dispute).where(col(Dispute.lead_id).in_([lead.id for lead in found]))
        ).all()
    }
    result = []
    for lead in found:
        dispute = disputes.get(lead.id)
        result.append(
            LeadRead(
                id=lead.id,
                unit_id=lead.unit_id,
                kind=str(lead.kind),
                place=lead.place,
                description=lead.description,
                risk_level=str(lead.risk_level),
                people_involved=lead.people_involved,
                period_start=lead.period_start,
                period_end=lead.period_end,
                status=str(lead.status),
                from_report=lead.report_id is not None,
                reported_at=lead.reported_at,
                mine=lead.reporter_user_id == principal.user_id,
                dispute_case_no=dispute.case_no if dispute else None,
                dispute_status=say(STATUS_LABELS[dispute.status]) if dispute else None,
            )
        )
    return result


class LeadController(Controller):
    """Leads and zero reports of the unit's subtree."""

    path = "/leads"

    @get("/", sync_to_thread=True, operation_id="ListLeads", opt={"action": LEAD_READ})
    def list_leads(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[LeadRead]:
        """Leads in reach (a collector's own only), newest first."""
        principal = caller(request)
        found = session.exec(
            visible_leads(principal, unit).order_by(col(Lead.id).desc()).offset(offset).limit(limit)
        ).all()
        return lead_reads(session, principal, list(found))

    @post(
        "/",
        sync_to_thread=True,
        operation_id="ReportLead",
        opt={"action": LEAD_REPORT},
        status_code=HTTP_201_CREATED,
    )
    def report(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[LeadIn]
    ) -> LeadRead:
        """Report a dispute found in screening at this unit."""
        principal = caller(request)
        lead = leads.report_lead(session, principal, unit.id, unit.path, **data.model_dump())
        session.commit()
        return lead_reads(session, principal, [lead])[0]

    @post(
        "/zero-reports",
        sync_to_thread=True,
        operation_id="ZeroReport",
        opt={"action": LEAD_REPORT},
        status_code=HTTP_201_CREATED,
    )
    def zero_report(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[ZeroReportIn]
    ) -> LeadRead:
        """State that screening found nothing at this unit over a period (零上报)."""
        principal = caller(request)
        lead = leads.zero_report(session, principal, unit.id, unit.path, **data.model_dump())
        session.commit()
        return lead_reads(session, principal, [lead])[0]

    @post(
        "/{lead_id:int}/conversion",
        sync_to_thread=True,
        operation_id="ConvertLead",
        opt={"action": LEAD_CONVERT},
        status_code=HTTP_201_CREATED,
    )
    def convert(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        lead_id: FromPath[int],
        data: JSONBody[LeadConversion],
    ) -> DisputeView:
        """Register the lead as a dispute before a committee."""
        principal = caller(request)
        lead = within(session, Lead, lead_id, unit)
        committee = within(session, Committee, data.committee_id, unit)
        dispute = leads.convert(session, principal, lead, committee, registration(data))
        return after_step(session, principal, dispute)

    @post(
        "/{lead_id:int}/dismissal",
        sync_to_thread=True,
        operation_id="DismissLead",
        opt={"action": LEAD_CONVERT},
        status_code=200,
    )
    def dismiss(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        lead_id: FromPath[int],
        data: JSONBody[Dismissal],
    ) -> LeadRead:
        """Dismiss a lead that needs no mediation."""
        principal = caller(request)
        lead = within(session, Lead, lead_id, unit)
        leads.dismiss(lead, data.note)
        session.add(lead)
        session.commit()
        return lead_reads(session, principal, [lead])[0]


ROUTES = [LeadController]
