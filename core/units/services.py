"""Creating units, scoping queries to a subtree, and switching plugins per unit."""

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, select

from core.errors import DomainError, FieldError
from core.units.models import Unit, UnitLevel, UnitPlugin, utcnow

PARENT_LEVEL = {
    UnitLevel.district: UnitLevel.city,
    UnitLevel.township: UnitLevel.district,
    UnitLevel.village: UnitLevel.township,
}


class UnitError(DomainError):
    """A unit cannot be created or changed as asked; its one field error names the culprit."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message, "invalid_unit", 400, [FieldError(field, rule, message)])


def create_unit(
    session: Session,
    *,
    name: str,
    level: UnitLevel,
    parent: Unit | None = None,
    code: str | None = None,
    default_plugins: Iterable[str] = (),
) -> Unit:
    """Add a unit under ``parent`` and give it its materialised path.

    ``default_plugins`` (the deployment's ``default_enabled`` plugins) are switched on at the
    new unit unless its parent already has them on.
    """
    expected_parent = PARENT_LEVEL.get(level)
    if expected_parent is None and parent is not None:
        raise UnitError("parent_id", "root_has_no_parent", "the city unit has no parent")
    if expected_parent is not None and (parent is None or parent.level != expected_parent):
        raise UnitError(
            "parent_id", "parent_level", f"a {level} unit belongs under a {expected_parent} unit"
        )
    unit = Unit(name=name, level=level, parent_id=parent.id if parent else None, code=code)
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else ''}{unit.id}."
    on_above = enabled_plugins(session, parent) if parent else set()
    for plugin in default_plugins:
        if plugin not in on_above:
            session.add(UnitPlugin(unit_id=unit.id, plugin=plugin, enabled=True))
    session.flush()
    return unit


def in_subtree(column: sa.ColumnElement[str], unit: Unit) -> sa.ColumnElement[bool]:
    """A predicate: the path ``column`` lies in ``unit``'s subtree (the unit included)."""
    low, high = unit.subtree_bounds()
    return sa.and_(column >= low, column < high)


def effective_plugins(session: Session, unit: Unit) -> dict[str, bool]:
    """Each plugin with a switch at or above ``unit``, and whether it is on there.

    The switch nearest to the unit wins.
    """
    ancestors = unit.ancestor_ids
    depth = {unit_id: position for position, unit_id in enumerate(ancestors)}
    rows = session.exec(select(UnitPlugin).where(UnitPlugin.unit_id.in_(ancestors))).all()
    nearest: dict[str, UnitPlugin] = {}
    for row in rows:
        current = nearest.get(row.plugin)
        if current is None or depth[row.unit_id] > depth[current.unit_id]:
            nearest[row.plugin] = row
    return {name: row.enabled for name, row in nearest.items()}


def enabled_plugins(session: Session, unit: Unit) -> set[str]:
    """Names of the plugins on at ``unit``."""
    return {name for name, on in effective_plugins(session, unit).items() if on}


def set_plugin_enabled(
    session: Session, unit: Unit, plugin: str, enabled: bool, *, changed_by: str | None
) -> bool:
    """Switch ``plugin`` on or off for ``unit``'s subtree; return whether anything changed.

    Switches further down the subtree stay as they are: a village that turned a plugin off
    keeps it off when its district turns it on.
    """
    if effective_plugins(session, unit).get(plugin, False) == enabled:
        return False
    row = session.exec(
        select(UnitPlugin).where(UnitPlugin.unit_id == unit.id, UnitPlugin.plugin == plugin)
    ).first()
    if row is None:
        row = UnitPlugin(unit_id=unit.id, plugin=plugin, enabled=enabled)
    row.enabled = enabled
    row.changed_by = changed_by
    row.changed_at = utcnow()
    session.add(row)
    session.flush()
    return True
