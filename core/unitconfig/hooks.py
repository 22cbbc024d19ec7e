"""Core's hook implementations for unit settings: the keys of core's areas, the menu entry."""

from core.contributions import Label, MenuItem
from core.hookspecs import hookimpl
from core.unitconfig.permissions import READ
from core.unitconfig.registry import core_config_keys


@hookimpl
def register_config_keys():
    """The keys core's areas declare (tasks, hours, reports)."""
    return core_config_keys()


@hookimpl
def menu_items(unit, actor):
    """The unit's settings page."""
    return [
        MenuItem(
            Label("单位设置", "Unit settings"),
            f"/units/{unit.id}/settings",
            icon="settings",
            required_action=READ,
            order=870,
        )
    ]
