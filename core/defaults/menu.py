"""Core's navigation entries."""

from core.contributions import Label, MenuItem
from core.hookspecs import hookimpl


@hookimpl
def menu_items(unit, actor):
    return [
        MenuItem(Label("首页", "Home"), f"/units/{unit.id}/", icon="home", order=0),
        MenuItem(
            Label("后台任务", "Jobs"), "/jobs", icon="jobs", order=900
        ),
    ]
