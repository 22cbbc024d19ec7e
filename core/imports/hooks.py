"""Core's hook implementations for imports: jobs, schedules, menu items, figures."""

from core.contributions import Label, MenuItem
from core.hookspecs import hookimpl
from core.imports.jobs import import_file


@hookimpl
def register_jobs():
    """The import job."""
    return [import_file]


@hookimpl
def menu_items(unit, actor):
    """Import pages, for those who may import."""
    return [
        MenuItem(
            Label("批量导入志愿者", "Import volunteers"),
            f"/units/{unit.id}/imports/volunteers",
            icon="import",
            required_action="core.volunteer.import",
            order=420,
        ),
        MenuItem(
            Label("导入单位", "Import units"),
            f"/units/{unit.id}/imports/units",
            icon="import",
            required_action="core.unit.manage",
            order=430,
        ),
    ]
