"""The navigation and dashboard of a unit's pages, assembled from the per-unit hooks."""

from dataclasses import dataclass

from sqlmodel import Session, select

from core.contributions import Figure, MenuItem
from core.platform import Platform
from core.plugins import flatten
from core.units.models import Unit


def visible(item: MenuItem | Figure, actor: object | None) -> bool:
    """Whether ``actor`` may see an entry: anonymous visitors see only unrestricted ones."""
    if item.required_action is None:
        return True
    can = getattr(actor, "can", None)
    return bool(can and can(item.required_action))


def _prune(items: list[MenuItem], actor: object | None) -> list[MenuItem]:
    kept = []
    for item in sorted(items, key=lambda item: item.order):
        if visible(item, actor):
            children = tuple(_prune(list(item.children), actor))
            kept.append(MenuItem(**{**item.__dict__, "children": children}))
    return kept


@dataclass
class UnitPage:
    """What every page about a unit shows around its content."""

    unit: Unit
    ancestors: list[Unit]
    menu: list[MenuItem]


def unit_page(platform: Platform, session: Session, unit: Unit, actor: object | None) -> UnitPage:
    """Breadcrumb and menu for ``unit``, from core and the plugins enabled there."""
    hooks = platform.unit_hooks(session, unit)
    menu = _prune(flatten(hooks.menu_items(unit=unit, actor=actor)), actor)
    ids = unit.ancestor_ids[:-1]
    ancestors = list(session.exec(select(Unit).where(Unit.id.in_(ids)))) if ids else []
    ancestors.sort(key=lambda ancestor: len(ancestor.path))
    return UnitPage(unit=unit, ancestors=ancestors, menu=menu)


def dashboard(platform: Platform, session: Session, unit: Unit, actor: object | None) -> list[Figure]:
    """The figures of the plugins enabled at ``unit`` that ``actor`` may see."""
    hooks = platform.unit_hooks(session, unit)
    figures = flatten(hooks.dashboard_figures(unit=unit, actor=actor, session=session))
    return [figure for figure in figures if visible(figure, actor)]
