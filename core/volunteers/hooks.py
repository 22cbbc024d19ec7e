"""Core's hook implementations for volunteers: the menu entry and the national export writers."""

from core.contributions import Label, MenuItem
from core.hookspecs import hookimpl


@hookimpl
def menu_items(unit, actor):
    """The volunteer list and, below it, the people register."""
    return [
        MenuItem(
            Label("志愿者", "Volunteers"),
            f"/units/{unit.id}/volunteers/",
            icon="volunteers",
            required_action="core.volunteer.read",
            order=20,
            children=(
                MenuItem(
                    Label("人员登记", "People"),
                    f"/units/{unit.id}/volunteers/people/",
                    icon="people",
                    required_action="core.person.read",
                    order=21,
                ),
            ),
        )
    ]


@hookimpl(trylast=True)
def export_volunteers(format, volunteers):
    """Core's XLSX and CSV writers: the default, run after every plugin's."""
    from core.volunteers.export import write_csv, write_xlsx

    if format == "xlsx":
        return write_xlsx(volunteers)
    if format == "csv":
        return write_csv(volunteers)
    return None
