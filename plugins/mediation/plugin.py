"""Hook implementations of the ``mediation`` plugin."""

from datetime import timedelta

from sqlmodel import col, func, select

from core.access import path_in
from core.contributions import (
    Figure,
    Label,
    MenuItem,
    ReportCategory,
    Schedule,
    SensitiveField,
    TrainingModule,
)
from core.hookspecs import hookimpl
from core.units.models import Unit
from plugins.mediation import META, clock, leads
from plugins.mediation.api import ROUTES as API_ROUTES
from plugins.mediation.jobs import JOBS
from plugins.mediation.models import MODELS, Dispute, Lead
from plugins.mediation.pages import PAGES
from plugins.mediation.permissions import (
    ACTIONS,
    CASE_READ,
    COMMITTEE_READ,
    LEAD_READ,
    LEAD_REPORT,
    PARTY_REVEAL,
    REPORT_READ,
    ROLES,
)
from plugins.mediation.vocab import LeadKind, LeadStatus, Status

__all__ = ["META"]

MEDIATOR_ROLE = "mediation.mediator"


@hookimpl
def register_models():
    return list(MODELS)


@hookimpl
def register_api_routes():
    return list(API_ROUTES)


@hookimpl
def register_page_routes():
    return list(PAGES)


@hookimpl
def register_permissions():
    return list(ACTIONS)


@hookimpl
def register_roles():
    return list(ROLES)


@hookimpl
def register_sensitive_fields():
    return [
        SensitiveField("mediation_party", "name", "name", PARTY_REVEAL),
        SensitiveField("mediation_party", "id_no", "id_number", PARTY_REVEAL),
        SensitiveField("mediation_party", "phone", "phone", PARTY_REVEAL),
        SensitiveField("mediation_party", "address", "address", PARTY_REVEAL),
    ]


def _module(code: str, zh: str, en: str, hours: float, required: bool) -> TrainingModule:
    return TrainingModule(
        f"mediation.{code}",
        Label(zh, en),
        f"{code}.md",
        hours=hours,
        required_roles=(MEDIATOR_ROLE,) if required else (),
    )


@hookimpl
def register_training_modules():
    """The eight modules of the domain notes; 1–3 and 6 gate assignment by default."""
    return [
        _module("law_essentials", "人民调解法要点", "The People's Mediation Law", 2, True),
        _module("procedure", "调解程序", "Procedure", 2, True),
        _module("agreement_writing", "制作调解协议书", "Writing the agreement", 2, True),
        _module("judicial_confirmation", "司法确认", "Judicial confirmation", 1, False),
        _module("escalation", "纠纷激化的预防与报告", "Escalation and reporting", 1, False),
        _module("discipline_privacy", "纪律与隐私", "Discipline and privacy", 1, True),
        _module("dispute_types", "常见纠纷类型", "Common dispute types", 2, False),
        _module("case_file", "卷宗整理", "Keeping the case file", 1, False),
    ]


@hookimpl
def register_jobs():
    return list(JOBS)


@hookimpl
def register_schedules():
    return [
        Schedule(job="mediation.deadline_sweep", cron="10 1 * * *"),
        Schedule(job="mediation.performance_sweep", cron="20 1 * * *"),
        Schedule(job="mediation.followup_scheduler", cron="30 1 * * *"),
        Schedule(job="mediation.confirmation_window", cron="40 1 * * *"),
        Schedule(job="mediation.casefile_check", cron="50 1 * * *"),
        Schedule(job="mediation.risk_escalation", every_seconds=3600),
        Schedule(job="mediation.monthly_snapshot", cron="15 2 1 * *"),
        Schedule(job="mediation.mediator_compliance", cron="25 2 1 * *"),
    ]


@hookimpl
def menu_items(unit, actor):
    base = f"/units/{unit.id}/mediation"
    return [
        MenuItem(
            Label("人民调解", "Mediation"),
            f"{base}/",
            icon="mediation",
            required_action=CASE_READ,
            order=200,
            children=(
                MenuItem(Label("纠纷", "Disputes"), f"{base}/disputes", required_action=CASE_READ),
                MenuItem(
                    Label("调委会", "Committees"),
                    f"{base}/committees",
                    required_action=COMMITTEE_READ,
                ),
                MenuItem(
                    Label("统计", "Statistics"), f"{base}/statistics", required_action=REPORT_READ
                ),
            ),
        ),
        MenuItem(
            Label("上报纠纷线索", "Report a dispute lead"),
            f"{base}/leads",
            icon="lead",
            required_action=LEAD_REPORT,
            order=210,
        ),
    ]


@hookimpl
def dashboard_figures(unit, actor, session):
    today = clock.today()
    base = f"/units/{unit.id}/mediation"
    in_reach = path_in(Dispute.unit_path, unit.path)
    open_cases = session.exec(
        select(func.count()).where(
            in_reach, col(Dispute.status).in_([Status.accepted, Status.in_mediation])
        )
    ).one()
    overdue = session.exec(
        select(func.count()).where(
            in_reach,
            col(Dispute.status).in_([Status.accepted, Status.in_mediation]),
            func.coalesce(Dispute.extended_until, Dispute.due_on) < today,
        )
    ).one()
    month_start = today.replace(day=1)
    registered = session.exec(
        select(func.count()).where(
            in_reach,
            Dispute.registered_at >= clock.start_of(month_start),
            Dispute.registered_at < clock.start_of(today + timedelta(days=1)),
        )
    ).one()
    new_leads = session.exec(
        select(func.count()).where(
            path_in(Lead.unit_path, unit.path),
            Lead.kind == LeadKind.lead,
            Lead.status == LeadStatus.new,
        )
    ).one()
    unit_of = Label("件", "cases")
    return [
        Figure(
            Label("调解中纠纷", "Disputes in mediation"),
            open_cases,
            unit_of,
            f"{base}/disputes",
            required_action=CASE_READ,
        ),
        Figure(
            Label("超期未结", "Overdue disputes"),
            overdue,
            unit_of,
            f"{base}/disputes?overdue=1",
            required_action=CASE_READ,
        ),
        Figure(
            Label("本月登记纠纷", "Registered this month"),
            registered,
            unit_of,
            f"{base}/statistics",
            required_action=REPORT_READ,
        ),
        Figure(
            Label("待处理线索", "Leads to handle"),
            new_leads,
            Label("条", "leads"),
            f"{base}/leads",
            required_action=LEAD_READ,
        ),
    ]


@hookimpl
def register_report_categories():
    # Core's dispute-screening reports (矛盾纠纷排查) come here, each becoming a lead.
    return [ReportCategory(leads.DISPUTE_CATEGORY)]


@hookimpl
def handle_event(event, session):
    if event.name == leads.REPORT_EVENT:
        unit = session.get(Unit, event.unit_id)
        leads.lead_from_report(session, event, unit.path)
