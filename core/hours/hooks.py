"""Core's hook implementations for this area: jobs, schedules and menu entries."""

from core.contributions import Label, MenuItem, Schedule
from core.hookspecs import hookimpl
from core.hours import ledger  # noqa: F401 - installs the append-only guard on every session
from core.hours.jobs import RECOMPUTE_JOB, recompute_hours
from core.hours.permissions import READ
from core.hours.record import render_hours_record
from core.notifications.email import email_notifications
from core.tasks.reminders import SCHEDULES, escalate_unfilled_shifts, remind_shifts
from core.web.auth import AUTHENTICATED


@hookimpl
def register_jobs():
    """Totals, record certificates, notification e-mail, reminder and escalation sweeps."""
    return [
        recompute_hours,
        render_hours_record,
        email_notifications,
        remind_shifts,
        escalate_unfilled_shifts,
    ]


@hookimpl
def register_schedules():
    """The sweeps, and the nightly recomputation of totals and star levels."""
    return [*SCHEDULES, Schedule(job=RECOMPUTE_JOB, cron="23 2 * * *")]


@hookimpl
def menu_items(unit, actor):
    """My shifts and record for everyone; the unit's hours for its leaders."""
    return [
        MenuItem(
            Label("我的值班", "My shifts"),
            "/me/shifts",
            icon="shifts",
            required_action=AUTHENTICATED,
            order=120,
        ),
        MenuItem(
            Label("我的服务时长", "My service hours"),
            "/me/hours",
            icon="hours",
            required_action=AUTHENTICATED,
            order=125,
        ),
        MenuItem(
            Label("服务时长", "Service hours"),
            f"/units/{unit.id}/hours",
            icon="hours",
            required_action=READ,
            order=420,
        ),
    ]
