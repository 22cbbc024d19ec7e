"""Core's hook implementations for coverage: the menu entry and the dashboard figure."""

from core.contributions import Figure, Label, MenuItem
from core.coverage.services import READ, unit_figure
from core.hookspecs import hookimpl


@hookimpl
def menu_items(unit, actor):
    """The coverage page of the unit."""
    return [
        MenuItem(
            Label("覆盖率", "Coverage"),
            f"/units/{unit.id}/coverage",
            icon="coverage",
            required_action=READ,
            order=300,
        )
    ]


@hookimpl
def dashboard_figures(unit, actor, session):
    """Active volunteers per hundred residents in the unit's subtree (target 1 %)."""
    if actor is None or not actor.can(READ, unit):
        return []  # core would drop it anyway; skip the counting
    if unit.parent_id is None:
        # The whole city: a count of every volunteer (≈ 0.3–0.5 s at 1 M, bench/README.md)
        # on each view of its home page is too dear; its coverage page is one click away.
        return []
    row = unit_figure(session, unit)
    value = "—" if row.percent is None else f"{row.percent:.2f}%"
    return [
        Figure(
            Label("志愿者覆盖率（目标 1%）", "Volunteer coverage (target 1 %)"),
            value,
            url=f"/units/{unit.id}/coverage",
            required_action=READ,
        )
    ]
