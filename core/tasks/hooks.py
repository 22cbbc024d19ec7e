"""Core's hook implementations for tasks: task types, the notification job, menu, figure."""

from core.contributions import Figure, Label, MenuItem
from core.hookspecs import hookimpl
from core.tasks.jobs import notify_assignment
from core.tasks.matrix import open_gaps
from core.tasks.permissions import READ, SIGNUP
from core.tasks.types import CORE_TASK_TYPES
from core.units.models import UnitLevel


@hookimpl
def register_task_types():
    """Core's seven task types, each with its own fields and requirements."""
    return CORE_TASK_TYPES


@hookimpl
def register_jobs():
    """The assignment notifications."""
    return [notify_assignment]


@hookimpl
def menu_items(unit, actor):
    """Tasks at every level, the duty roster at a 中队 or 分队, open shifts for volunteers."""
    items = [
        MenuItem(
            Label("任务", "Tasks"),
            f"/units/{unit.id}/tasks/",
            icon="tasks",
            required_action=READ,
            order=200,
        ),
        MenuItem(
            Label("可报名的班次", "Open shifts"),
            "/me/shifts/open",
            icon="signup",
            required_action=SIGNUP,
            order=230,
        ),
    ]
    if unit.level in (UnitLevel.township, UnitLevel.village):
        items.append(
            MenuItem(
                Label("排班表", "Duty roster"),
                f"/units/{unit.id}/duty",
                icon="roster",
                required_action=READ,
                order=210,
            )
        )
    return items


@hookimpl
def dashboard_figures(unit, actor, session):
    """Shifts still to come this week below their minimum headcount."""
    url = (
        f"/units/{unit.id}/duty"
        if unit.level in (UnitLevel.township, UnitLevel.village)
        else (f"/units/{unit.id}/tasks/")
    )
    return [
        Figure(
            Label("本周缺员班次", "Understaffed shifts this week"),
            open_gaps(session, unit),
            url=url,
            required_action=READ,
        )
    ]
