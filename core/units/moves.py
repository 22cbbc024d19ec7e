"""Moving a unit to another parent and merging one unit into another, re-scoping everything.

Every record that belongs to a unit carries the unit's materialised path in ``unit_path`` so
that scoping is one index range. When a unit moves, the paths of the unit, of every unit
below it and of every record held anywhere in that subtree change; when a unit is merged, its
records and children pass to the unit it is merged into. Both happen in one transaction, for
every table of core and of every loaded plugin, found from the models themselves:

* a table with a ``unit_path`` column is re-pathed (prefix rewrite, one UPDATE per table),
  and so is every other path column it keeps (``home_unit_path``, ``origin_unit_path``: the
  path of a second unit the record belongs to, which moved just the same);
* a table with a ``unit_id`` column referencing ``unit.id`` is re-held on a merge;
* a table that also copies the district (``district_id``, the volunteer list's key) gets the
  district of the new path.

Left alone on purpose: ``audit_entry`` (append-only and hash-chained: an entry keeps the path
its event happened under), ``unit_event`` (a unit's history stays the unit's) and
``unit_plugin`` (switches stay with the unit that set them; the merged-into unit's own
switches decide for what it receives). Records of a plugin table that has ``unit_id`` but no
``unit_path`` are scoped through their unit, so a move needs nothing for them; a merge re-holds
them.

The rows are rewritten with set-based UPDATEs, which the session's per-row audit does not
see: the move or merge itself is written to the audit trail with the number of rows per
table, and the unit's history gets an event with the old and new place and who did it.
"""

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.access import path_in
from core.accounts.models import RoleGrant
from core.audit.recorder import record
from core.errors import DomainError, FieldError
from core.i18n import text
from core.units.models import Unit, UnitKind, UnitLevel
from core.units.services import (
    PARENT_LEVEL,
    apply_recoding,
    code_errors,
    descendant_recoding,
    level_name,
    next_free_code,
    record_event,
    refuse,
)
from core.volunteers.listing import district_of_path
from core.volunteers.models import TeamMembership, TeamRole

#: Tables whose ``unit_path`` is history and must not be rewritten.
HISTORY_TABLES = frozenset({"audit_entry"})
#: Tables whose ``unit_id`` stays with the merged unit.
KEEP_HOLDER_TABLES = frozenset({"unit", "unit_event", "unit_plugin"})


@dataclass(frozen=True)
class ScopedTable:
    """A table that belongs to units: by path, by holder id, or both."""

    owner: str
    table: sa.Table
    path: sa.Column | None
    holder: sa.Column | None
    other_paths: tuple[sa.Column, ...] = ()

    @property
    def name(self) -> str:
        """The table's name."""
        return self.table.name


def scoped_tables(models: dict[str, list[type]]) -> list[ScopedTable]:
    """Every table of the loaded owners that a move or merge must rewrite.

    Args:
        models: Owner → SQLModel table classes (``platform.plugins.models``).
    """
    found = []
    for owner, classes in models.items():
        for model in classes:
            table: sa.Table = model.__table__
            if table.name == "unit":
                continue
            path = table.c.get("unit_path")
            if table.name in HISTORY_TABLES:
                path = None
            other_paths = tuple(
                column
                for column in table.c
                if column.name.endswith("_unit_path") and table.name not in HISTORY_TABLES
            )
            holder = table.c.get("unit_id")
            if holder is not None and (
                table.name in KEEP_HOLDER_TABLES
                or not any(fk.target_fullname == "unit.id" for fk in holder.foreign_keys)
            ):
                holder = None
            if path is not None or holder is not None or other_paths:
                found.append(ScopedTable(owner, table, path, holder, other_paths))
    return sorted(found, key=lambda scoped: scoped.name)


@dataclass
class Rescoped:
    """What a move or merge changed: rows per table and codes given anew."""

    unit_id: int
    old_path: str
    new_path: str
    rows: dict[str, int] = field(default_factory=dict)
    recoded: list[tuple[int, str, str]] = field(default_factory=list)


def _refused(message_zh: str, message_en: str, field_name: str, rule: str) -> DomainError:
    message = text(message_zh, message_en)
    return DomainError(message, "invalid_move", 400, [FieldError(field_name, rule, message)])


def _lock(session: Session, unit_id: int) -> Unit:
    """Reload a unit under a row lock (PostgreSQL), so two moves never interleave."""
    return session.exec(
        select(Unit)
        .where(Unit.id == unit_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _rewrite_prefix(
    session: Session, column: sa.Column, old: str, new: str, *, strictly_below: bool = False
) -> int:
    """Replace the path prefix ``old`` by ``new`` in every row of ``column`` under ``old``."""
    low, high = old, old[:-1] + "/"
    below = column > low if strictly_below else column >= low
    replacement = sa.literal(new, type_=sa.String()).concat(
        sa.func.substr(column, len(old) + 1, type_=sa.String())
    )
    result = session.execute(
        column.table.update().where(below, column < high).values({column.key: replacement})
    )
    return result.rowcount or 0


def _rewrite_paths(
    session: Session, tables: list[ScopedTable], old: str, new: str, *, keep_unit: int | None
) -> dict[str, int]:
    """Re-path the units under ``old`` and every scoped record under it."""
    unit_path = Unit.__table__.c.path
    counts = {
        "unit": _rewrite_prefix(session, unit_path, old, new, strictly_below=keep_unit is not None)
    }
    for scoped in tables:
        if scoped.path is not None:
            counts[scoped.name] = _rewrite_prefix(session, scoped.path, old, new)
            if "district_id" in scoped.table.c:
                _set_district(session, scoped.table, new)
        for column in scoped.other_paths:
            rewritten = _rewrite_prefix(session, column, old, new)
            counts[f"{scoped.name}.{column.name}"] = rewritten
    return counts


def _set_district(session: Session, table: sa.Table, path: str) -> None:
    """Give the rows under ``path`` the district it lies in, where they name another."""
    district = table.c.district_id
    wanted = district_of_path(path)
    session.execute(
        table.update()
        .where(path_in(table.c.unit_path, path))
        .where(sa.or_(district.is_(None), district != wanted))
        .values(district_id=wanted)
    )


def _check_active(unit: Unit, field_name: str) -> None:
    if not unit.active:
        raise _refused("该单位已撤并", "That unit has been merged away", field_name, "inactive")


def move_unit(
    session: Session,
    unit: Unit,
    new_parent: Unit,
    *,
    models: dict[str, list[type]],
    by_user_id: int | None,
    code: str | None = None,
) -> Rescoped:
    """Put ``unit`` (and its whole subtree) under ``new_parent``.

    The level still has to fit: a township (or enterprise 中队) goes under another district, a
    village under another territorial township. A territorial unit whose code does not start
    with the new parent's code takes ``code``, or else the next free one under the new
    parent; the codes below it follow.

    Raises:
        DomainError: the move breaks a rule (400, the field named).
    """
    unit = _lock(session, unit.id)
    new_parent = _lock(session, new_parent.id)
    expected = PARENT_LEVEL.get(UnitLevel(unit.level))
    if expected is None:
        raise _refused("市级单位不能移动", "The city unit cannot move", "unit_id", "root")
    _check_active(unit, "unit_id")
    _check_active(new_parent, "parent_id")
    if new_parent.level != expected:
        raise _refused(
            f"{level_name(unit.level)}只能移到{level_name(expected)}之下",
            f"a {unit.level} unit moves under a {expected} unit",
            "parent_id",
            "parent_level",
        )
    if unit.level == UnitLevel.village and new_parent.kind != UnitKind.territorial:
        raise _refused(
            "村（社区）分队只能移到乡镇街道中队之下",
            "a village moves under a territorial township",
            "parent_id",
            "parent_kind",
        )
    if new_parent.id == unit.parent_id:
        raise _refused("已在该上级之下", "Already under that parent", "parent_id", "unchanged")
    if new_parent.path.startswith(unit.path):
        raise _refused("不能移到自己之下", "A unit cannot move under itself", "parent_id", "cycle")

    new_code = unit.code
    if code:
        refuse(
            code_errors(
                session,
                level=unit.level,
                kind=unit.kind,
                parent=new_parent,
                code=code,
                unit_id=unit.id,
            )
        )
        new_code = code
    elif (
        unit.kind == UnitKind.territorial
        and new_parent.code
        and not (unit.code or "").startswith(new_parent.code)
    ):
        new_code = next_free_code(session, new_parent)
        if new_code is None:
            raise _refused(
                "新上级下已无可用代码，请指定代码",
                "No free code left under the new parent; give one",
                "code",
                "exhausted",
            )
    recode: list[tuple[int, str, str]] = []
    if unit.code and new_code and new_code != unit.code:
        recode, clashes = descendant_recoding(session, unit, unit.code, new_code)
        refuse(clashes)
        recode.insert(0, (unit.id, unit.code, new_code))

    old_parent_id, old_path, old_code = unit.parent_id, unit.path, unit.code
    new_path = f"{new_parent.path}{unit.id}."
    unit.parent_id = new_parent.id
    session.add(unit)
    session.flush()
    apply_recoding(session, recode)
    tables = scoped_tables(models)
    counts = _rewrite_paths(session, tables, old_path, new_path, keep_unit=None)
    result = Rescoped(unit.id, old_path, new_path, counts, recode)
    session.expire_all()
    unit = session.get(Unit, result.unit_id)
    detail = {
        "from_parent_id": old_parent_id,
        "to_parent_id": new_parent.id,
        "from_path": old_path,
        "to_path": new_path,
        "from_code": old_code,
        "to_code": new_code,
        "rows": counts,
    }
    if recode:
        detail["recoded"] = [list(item) for item in recode]
    record_event(session, unit, "moved", detail, by_user_id)
    record(
        session,
        "move",
        object_type="unit",
        object_id=unit.id,
        unit_path=new_path,
        before={"parent_id": old_parent_id, "path": old_path, "code": old_code},
        after={"parent_id": new_parent.id, "path": new_path, "code": new_code, "rows": counts},
    )
    session.flush()
    return result


def merge_unit(
    session: Session,
    unit: Unit,
    into: Unit,
    *,
    models: dict[str, list[type]],
    by_user_id: int | None,
) -> Rescoped:
    """Merge ``unit`` into ``into``: its children and records pass over, it stays as history.

    Both must be active, of the same level and kind. The merged unit is never deleted: it
    becomes inactive with ``merged_into_id``. Its coded children get the next free codes under
    ``into`` (their own descendants follow); a role held at both units by the same person is
    kept once; the merged team's captain and vice captains stay on as members (the team they
    join keeps its own leaders).

    Raises:
        DomainError: the merge breaks a rule (400, the field named).
    """
    unit = _lock(session, unit.id)
    into = _lock(session, into.id)
    if unit.level == UnitLevel.city:
        raise _refused("市级单位不能合并", "The city unit cannot be merged", "unit_id", "root")
    if unit.id == into.id:
        raise _refused("不能并入自己", "A unit cannot merge into itself", "into_id", "same")
    _check_active(unit, "unit_id")
    _check_active(into, "into_id")
    if into.level != unit.level or into.kind != unit.kind:
        raise _refused(
            "只能并入同级同类的单位",
            "A unit merges only into a unit of the same level and kind",
            "into_id",
            "level",
        )
    if into.path.startswith(unit.path):
        raise _refused(
            "不能并入自己的下级", "A unit cannot merge into its own subtree", "into_id", "cycle"
        )

    children = list(
        session.exec(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code, Unit.id))
    )
    recode: list[tuple[int, str, str]] = []
    taken: list[str] = []
    for child in children:
        if not (child.code and unit.code and into.code and child.kind == UnitKind.territorial):
            continue
        if not child.code.startswith(unit.code):
            continue
        new_code = next_free_code(session, into, taken=taken)
        if new_code is None:
            raise _refused(
                "合并后的单位下已无可用代码",
                "No free codes left under the unit merged into",
                "into_id",
                "exhausted",
            )
        taken.append(new_code)
        below, clashes = descendant_recoding(session, child, child.code, new_code)
        refuse(clashes)
        recode += [(child.id, child.code, new_code), *below]

    # A role held at both units by the same person is kept once, at ``into``.
    at_into = {
        (user_id, role)
        for user_id, role in session.exec(
            select(RoleGrant.user_id, RoleGrant.role).where(RoleGrant.unit_id == into.id)
        )
    }
    for grant in session.exec(select(RoleGrant).where(RoleGrant.unit_id == unit.id)).all():
        if (grant.user_id, grant.role) in at_into:
            session.delete(grant)

    # The merged team's captain and vice captains join the other team as members: that
    # team keeps its own leaders (one captain per team).
    released = []
    for membership in session.exec(
        select(TeamMembership).where(
            TeamMembership.unit_id == unit.id,
            col(TeamMembership.until).is_(None),
            col(TeamMembership.role).in_([TeamRole.captain.value, TeamRole.vice_captain.value]),
        )
    ).all():
        released.append([membership.volunteer_id, str(membership.role)])
        membership.role = TeamRole.member
        session.add(membership)

    old_path = unit.path
    moved_children = [(child.id, child.parent_id) for child in children]
    for child in children:
        child.parent_id = into.id
        session.add(child)
    unit.active = False
    unit.merged_into_id = into.id
    session.add(unit)
    session.flush()
    apply_recoding(session, recode)

    tables = scoped_tables(models)
    counts: dict[str, int] = {}
    for scoped in tables:
        if scoped.holder is not None:
            try:
                result = session.execute(
                    scoped.table.update()
                    .where(scoped.holder == unit.id)
                    .values({scoped.holder.key: into.id})
                )
            except sa.exc.IntegrityError as error:
                # a table keeping one row per unit (a plugin's, say): the merge cannot decide
                # which row wins; nothing is changed and the caller is told which table
                message = text(
                    f"两个单位在 {scoped.name} 中都有记录且不能并存，请先处理后再合并",
                    f"both units have rows in {scoped.name} that cannot coexist; "
                    "resolve them before merging",
                )
                raise DomainError(
                    message, "merge_conflict", 409, [FieldError("into_id", "conflict", message)]
                ) from error
            counts[f"{scoped.name}.unit_id"] = result.rowcount or 0
    counts.update(_rewrite_paths(session, tables, old_path, into.path, keep_unit=unit.id))
    counts = {name: count for name, count in counts.items() if count}
    outcome = Rescoped(unit.id, old_path, into.path, counts, recode)
    session.expire_all()
    unit = session.get(Unit, outcome.unit_id)
    into = session.get(Unit, into.id)
    codes = {unit_id: (old, new) for unit_id, old, new in recode}
    record_event(
        session,
        unit,
        "merged",
        {
            "into_id": into.id,
            "from_path": old_path,
            "to_path": into.path,
            "children": [child_id for child_id, _ in moved_children],
            "rows": counts,
            "recoded": [list(item) for item in recode],
            "leaders_released": released,
        },
        by_user_id,
    )
    record_event(
        session,
        into,
        "absorbed",
        {"from_id": unit.id, "from_path": old_path, "rows": counts},
        by_user_id,
    )
    for child_id, _ in moved_children:
        child = session.get(Unit, child_id)
        old, new = codes.get(child_id, (child.code, child.code))
        record_event(
            session,
            child,
            "moved",
            {
                "from_parent_id": unit.id,
                "to_parent_id": into.id,
                "reason": "merge",
                "from_code": old,
                "to_code": new,
            },
            by_user_id,
        )
    record(
        session,
        "merge",
        object_type="unit",
        object_id=unit.id,
        unit_path=into.path,
        before={"path": old_path, "active": True},
        after={"merged_into_id": into.id, "path": into.path, "rows": counts},
    )
    session.flush()
    return outcome


def affected_rows(session: Session, unit: Unit, models: dict[str, list[type]]) -> dict[str, int]:
    """How many rows a move of ``unit`` would rewrite, per table (shown before confirming)."""
    low, high = unit.subtree_bounds()
    counts: dict[str, int] = {}
    path = Unit.__table__.c.path
    counts["unit"] = session.execute(
        sa.select(sa.func.count()).where(path >= low, path < high)
    ).scalar_one()
    for scoped in scoped_tables(models):
        if scoped.path is not None:
            counts[scoped.name] = session.execute(
                sa.select(sa.func.count())
                .select_from(scoped.table)
                .where(scoped.path >= low, scoped.path < high)
            ).scalar_one()
    return {name: count for name, count in counts.items() if count}


def where_merged(session: Session, unit: Unit) -> Unit | None:
    """The active unit that ``unit``'s records now belong to, following merges."""
    seen: set[int] = set()
    current: Any = unit
    while current is not None and not current.active and current.merged_into_id:
        if current.id in seen:
            return None
        seen.add(current.id)
        current = session.get(Unit, current.merged_into_id)
    return current


__all__ = [
    "HISTORY_TABLES",
    "KEEP_HOLDER_TABLES",
    "Rescoped",
    "ScopedTable",
    "affected_rows",
    "merge_unit",
    "move_unit",
    "scoped_tables",
    "where_merged",
]
