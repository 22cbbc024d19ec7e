"""Core's hook implementations for reports.

Categories, jobs and the overdue sweep, the reporter as a sensitive field, menu entries and
the dashboard figures.
"""

from core.contributions import Figure, Label, MenuItem, Schedule, SensitiveField
from core.hookspecs import hookimpl
from core.reports.categories import CORE_CATEGORIES
from core.reports.jobs import SWEEP_JOB, notify_report, sweep_report_triage
from core.reports.permissions import READ, REVEAL, SUBMIT
from core.reports.services import waiting_counts


@hookimpl
def register_report_categories():
    """线索、社情民意、隐患、矛盾纠纷."""
    return CORE_CATEGORIES


@hookimpl
def register_jobs():
    """Telling handlers and reporters, and the overdue-triage sweep."""
    return [notify_report, sweep_report_triage]


@hookimpl
def register_schedules():
    """The sweep every quarter of an hour: a report is flagged at most 15 minutes late."""
    return [Schedule(job=SWEEP_JOB, every_seconds=900)]


@hookimpl
def register_sensitive_fields():
    """Who reported, and the text as written: revealed only to handlers, with a reason.

    Masked in the audit trail; responses show the text with its IDs and mobiles masked.
    """
    return [
        SensitiveField("report", "reporter_person_id", "text", REVEAL),
        SensitiveField("report", "reporter_user_id", "text", REVEAL),
        SensitiveField("report", "title", "text", REVEAL),
        SensitiveField("report", "body", "text", REVEAL),
    ]


@hookimpl
def menu_items(unit, actor):
    """Report something here, my reports, and the unit's queue."""
    return [
        MenuItem(
            Label("报告线索", "Report"),
            f"/units/{unit.id}/reports/new",
            icon="report",
            required_action=SUBMIT,
            order=200,
        ),
        MenuItem(
            Label("我的报告", "My reports"),
            "/reports/mine",
            icon="my-reports",
            required_action=SUBMIT,
            order=210,
        ),
        MenuItem(
            Label("线索与社情民意", "Reports"),
            f"/units/{unit.id}/reports/",
            icon="reports",
            required_action=READ,
            order=220,
        ),
    ]


@hookimpl
def dashboard_figures(unit, actor, session):
    """Reports handled in the unit's subtree waiting for triage, and those past the limit."""
    if actor is None or not actor.can(READ, unit):
        return []  # core would drop them anyway; skip the counting
    waiting, late = waiting_counts(session, unit)
    queue = f"/units/{unit.id}/reports/"
    return [
        Figure(
            Label("待分拣报告", "Reports awaiting triage"),
            waiting,
            url=f"{queue}?status=submitted",
            required_action=READ,
        ),
        Figure(
            Label("分拣超时报告", "Reports past the triage limit"),
            late,
            url=f"{queue}?overdue=true",
            required_action=READ,
        ),
    ]
