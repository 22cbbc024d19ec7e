"""The plugin's home page at a unit: what each person has to do.

A mediator sees their own cases, the overdue and the soon due first; the director sees the
committee's dashboard (what waits for a decision, what is overdue, red risk not yet
reported, new leads); a collector sees where to report. One page, its sections by role.
"""

from datetime import timedelta

from litestar import Controller, Request, get
from litestar.response import Template
from sqlmodel import Session, col, func, select

from core.access import path_in
from core.accounts.principal import Principal
from core.units.models import Unit
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.navigation import unit_page
from plugins.mediation import clock
from plugins.mediation.access import assigned_dispute_ids
from plugins.mediation.api.disputes import rows
from plugins.mediation.models import Dispute, Lead
from plugins.mediation.pages.labels import labels
from plugins.mediation.permissions import (
    CASE_DECIDE,
    CASE_READ,
    CASE_REGISTER,
    LEAD_CONVERT,
    LEAD_REPORT,
)
from plugins.mediation.vocab import OPEN_STATUSES, LeadKind, LeadStatus, Risk, Status

SOON_DAYS = 7


def my_cases(session: Session, principal: Principal, unit: Unit) -> list:
    """The caller's open cases in reach: overdue first, then by deadline."""
    ids = assigned_dispute_ids(session, principal)
    if not ids:
        return []
    found = session.exec(
        select(Dispute).where(
            col(Dispute.id).in_(ids),
            path_in(Dispute.unit_path, unit.path),
            col(Dispute.status).in_(list(OPEN_STATUSES)),
        )
    ).all()
    listed = rows(session, principal, list(found))
    far = clock.today() + timedelta(days=3650)
    return sorted(listed, key=lambda row: (not row.overdue, row.deadline or far, row.id))


def dashboard(session: Session, principal: Principal, unit: Unit) -> dict:
    """The committee director's view of the subtree."""
    in_reach = path_in(Dispute.unit_path, unit.path)
    counts = dict(
        session.exec(
            select(Dispute.status, func.count()).where(in_reach).group_by(Dispute.status)
        ).all()
    )
    today = clock.today()
    waiting = session.exec(
        select(Dispute).where(in_reach, Dispute.status == Status.registered).limit(50)
    ).all()
    overdue = session.exec(
        select(Dispute)
        .where(
            in_reach,
            col(Dispute.status).in_([Status.accepted, Status.in_mediation]),
            func.coalesce(Dispute.extended_until, Dispute.due_on) < today,
        )
        .limit(50)
    ).all()
    unreported = session.exec(
        select(Dispute)
        .where(
            in_reach,
            Dispute.risk_level == Risk.red,
            col(Dispute.escalation_reported_at).is_(None),
            col(Dispute.status).in_(list(OPEN_STATUSES)),
        )
        .limit(50)
    ).all()
    new_leads = session.exec(
        select(func.count()).where(
            path_in(Lead.unit_path, unit.path),
            Lead.kind == LeadKind.lead,
            Lead.status == LeadStatus.new,
        )
    ).one()
    return {
        "counts": {str(status): count for status, count in counts.items()},
        "waiting": rows(session, principal, list(waiting)),
        "overdue": rows(session, principal, list(overdue)),
        "unreported": rows(session, principal, list(unreported)),
        "new_leads": new_leads,
    }


class Workbench(Controller):
    """The plugin's home page at a unit."""

    @get("/", sync_to_thread=True, opt={"action": CASE_READ})
    def home(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """My cases, the committee dashboard, the way to report a lead."""
        principal: Principal = request.scope["user"]
        director = principal.can(CASE_DECIDE, unit)
        return Template(
            "mediation/home.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "mine": my_cases(session, principal, unit),
                "soon": clock.today() + timedelta(days=SOON_DAYS),
                "board": dashboard(session, principal, unit) if director else None,
                "may_register": principal.can(CASE_REGISTER, unit),
                "may_report": principal.can(LEAD_REPORT, unit),
                "may_convert": principal.can(LEAD_CONVERT, unit),
                **labels(session, unit),
            },
        )
