"""Core's hook implementations for units: jobs, schedules, menu items, figures."""

from core.contributions import Label, MenuItem
from core.hookspecs import hookimpl


@hookimpl
def menu_items(unit, actor):
    """The unit page."""
    return [
        MenuItem(
            Label("单位信息", "Unit"),
            f"/units/{unit.id}/about",
            icon="unit",
            required_action="core.unit.read",
            order=10,
        ),
    ]
