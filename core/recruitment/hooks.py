"""Core's hook implementations for recruitment: jobs, menu items, sensitive fields."""

from core.contributions import Label, MenuItem, SensitiveField
from core.hookspecs import hookimpl
from core.recruitment.jobs import notify_application
from core.web.auth import AUTHENTICATED


@hookimpl
def register_jobs():
    """The notification job of every step."""
    return [notify_application]


@hookimpl
def register_sensitive_fields():
    """An applicant's identity data, masked in the audit trail as a person's is."""
    return [
        SensitiveField("application", "id_number", "id_number", "core.person.reveal"),
        SensitiveField("application", "phone", "phone", "core.person.reveal"),
        SensitiveField("application", "address", "address", "core.person.reveal"),
    ]


@hookimpl
def menu_items(unit, actor):
    """The offices' queue and intake form, and everyone's inbox."""
    return [
        MenuItem(
            Label("报名审核", "Applications"),
            "/applications/",
            icon="applications",
            required_action="core.application.review",
            order=300,
        ),
        MenuItem(
            Label("受理报名", "Take an application"),
            f"/applications/new?unit_id={unit.id}",
            icon="intake",
            required_action="core.application.submit",
            order=310,
        ),
        MenuItem(
            Label("消息", "Inbox"),
            "/inbox/",
            icon="inbox",
            required_action=AUTHENTICATED,
            order=940,
        ),
    ]
