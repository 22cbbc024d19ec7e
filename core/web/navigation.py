"""The navigation and dashboard of a unit's pages, assembled from the per-unit hooks."""

from dataclasses import dataclass

from sqlmodel import Session, select

from core.accounts.principal import Principal
from core.contributions import Figure, MenuItem
from core.platform import Platform
from core.plugins import flatten
from core.units.models import Unit
from core.web.auth import AUTHENTICATED


def visible(item: MenuItem | Figure, actor: Principal | None, unit: Unit) -> bool:
    """Whether ``actor`` may see an entry at ``unit``; core decides, never the plugin."""
    if item.required_action is None:
        return True
    if actor is None:
        return False
    return item.required_action == AUTHENTICATED or actor.can(item.required_action, unit)


def _prune(items: list[MenuItem], actor: Principal | None, unit: Unit) -> list[MenuItem]:
    kept = []
    for item in sorted(items, key=lambda item: item.order):
        if visible(item, actor, unit):
            children = tuple(_prune(list(item.children), actor, unit))
            kept.append(MenuItem(**{**item.__dict__, "children": children}))
    return kept


@dataclass
class UnitPage:
    """What every page about a unit shows around its content."""

    unit: Unit
    ancestors: list[Unit]
    menu: list[MenuItem]
    actor: Principal | None


def unit_page(
    platform: Platform, session: Session, unit: Unit, actor: Principal | None
) -> UnitPage:
    """Breadcrumb and menu for ``unit``, from core and the plugins enabled there."""
    hooks = platform.unit_hooks(session, unit)
    menu = _prune(flatten(hooks.menu_items(unit=unit, actor=actor)), actor, unit)
    ids = unit.ancestor_ids[:-1]
    ancestors = list(session.exec(select(Unit).where(Unit.id.in_(ids)))) if ids else []
    ancestors.sort(key=lambda ancestor: len(ancestor.path))
    return UnitPage(unit=unit, ancestors=ancestors, menu=menu, actor=actor)


def home_unit(session: Session, principal: Principal) -> Unit | None:
    """Where a user starts: the highest unit they hold a role at, else their account's unit."""
    if principal.grants:
        top = min(principal.grants, key=lambda grant: (len(grant.unit_path), grant.unit_path))
        return session.get(Unit, top.unit_id)
    return session.get(Unit, principal.unit_id)


def home_page_of(platform: Platform, session: Session, principal: Principal) -> UnitPage | None:
    """The navigation shown on pages that belong to no unit (account, administration)."""
    unit = home_unit(session, principal)
    return unit_page(platform, session, unit, principal) if unit else None


def dashboard(
    platform: Platform, session: Session, unit: Unit, actor: Principal | None
) -> list[Figure]:
    """The figures of the plugins enabled at ``unit`` that ``actor`` may see."""
    hooks = platform.unit_hooks(session, unit)
    figures = flatten(hooks.dashboard_figures(unit=unit, actor=actor, session=session))
    return [figure for figure in figures if visible(figure, actor, unit)]
