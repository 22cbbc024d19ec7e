"""Creating and editing units, scoping queries to a subtree, and switching plugins per unit.

Codes follow the official division codes: a district has the 6 digits of GB/T 2260, a
township (街道/镇/乡) the 9-digit and a village or community the 12-digit statistical code,
each starting with its parent's code. A 中队 formed by an agency, school, factory, mall or venue
(``kind=enterprise``) stands at township level directly under the district 大队 that guides
it; its code is free (letters and digits) but unique like every code.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.errors import DomainError, FieldError
from core.i18n import text
from core.units.models import Unit, UnitEvent, UnitKind, UnitLevel, UnitPlugin, utcnow

PARENT_LEVEL = {
    UnitLevel.district: UnitLevel.city,
    UnitLevel.township: UnitLevel.district,
    UnitLevel.village: UnitLevel.township,
}
CHILD_LEVEL = {parent: child for child, parent in PARENT_LEVEL.items()}
#: Digits of the official code at each level (the city's is the province's 6-digit code).
CODE_DIGITS = {
    UnitLevel.city: 6,
    UnitLevel.district: 6,
    UnitLevel.township: 9,
    UnitLevel.village: 12,
}
ENTERPRISE_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,11}$")
LEVEL_NAMES = {
    UnitLevel.city: ("市（总队）", "city (总队)"),
    UnitLevel.district: ("区县（大队）", "district (大队)"),
    UnitLevel.township: ("乡镇街道（中队）", "township (中队)"),
    UnitLevel.village: ("村社区（分队）", "village (分队)"),
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
    kind: UnitKind = UnitKind.territorial,
    team_name: str | None = None,
    organisation: str | None = None,
    population: int | None = None,
    population_year: int | None = None,
) -> Unit:
    """Add a unit under ``parent`` and give it its materialised path.

    Only the level rules are checked here (callers that take input from people use
    :func:`add_unit`, which checks every field and records the creation).
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
    if kind == UnitKind.enterprise and level != UnitLevel.township:
        raise UnitError(
            "kind", "enterprise_level", "an enterprise team is a 中队 directly under a district"
        )
    if level == UnitLevel.village and parent is not None and parent.kind != UnitKind.territorial:
        raise UnitError(
            "parent_id", "parent_kind", "a village belongs under a territorial township"
        )
    unit = Unit(
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        code=code,
        kind=kind,
        team_name=team_name,
        organisation=organisation,
        population=population,
        population_year=population_year,
    )
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


# -- checking and recording changes --------------------------------------------------------


def _error(field: str, rule: str, zh: str, en: str) -> FieldError:
    return FieldError(field, rule, text(zh, en))


def unit_by_code(session: Session, principal: Any, code: str, field_name: str, action: str) -> Unit:
    """The unit with ``code``, which ``principal`` may ``action`` at; else why not (400).

    A unit outside the principal's reach is reported exactly like a code that does not exist,
    so a form tells nothing about other areas.
    """
    found = session.exec(select(Unit).where(Unit.code == code.strip())).first()
    if found is None or not principal.sees(found):
        refuse(
            [
                _error(
                    field_name,
                    "unknown",
                    f"在您的范围内没有代码为 {code} 的单位",
                    f"no unit with code {code} in your area",
                )
            ]
        )
    if not principal.can(action, found):
        refuse(
            [_error(field_name, "not_allowed", "您不能管理该单位", "you may not manage that unit")]
        )
    return found


def level_name(level: UnitLevel) -> str:
    """The level's name in the current language."""
    zh, en = LEVEL_NAMES[UnitLevel(level)]
    return text(zh, en)


def code_errors(
    session: Session,
    *,
    level: UnitLevel,
    kind: UnitKind,
    parent: Unit | None,
    code: str | None,
    unit_id: int | None = None,
    taken: set[str] | None = None,
) -> list[FieldError]:
    """Every rule ``code`` breaks for a unit of ``level`` and ``kind`` under ``parent``.

    ``unit_id`` is the unit being changed (its own code is not a clash); ``taken`` holds
    codes already claimed in the same operation but not yet stored.
    """
    if code is None or code == "":
        if level == UnitLevel.city or kind == UnitKind.enterprise:
            return []
        return [_error("code", "missing", "须填写区划代码", "the division code is required")]
    errors: list[FieldError] = []
    if kind == UnitKind.enterprise:
        if not ENTERPRISE_CODE.match(code):
            errors.append(
                _error(
                    "code",
                    "format",
                    "企事业中队代码为 1–12 位字母或数字",
                    "an enterprise team's code has 1–12 letters or digits",
                )
            )
    else:
        digits = CODE_DIGITS[UnitLevel(level)]
        if not (code.isascii() and code.isdigit() and len(code) == digits):
            errors.append(
                _error(
                    "code",
                    "digits",
                    f"{level_name(level)}代码须为 {digits} 位数字",
                    f"a {level} code has {digits} digits",
                )
            )
        elif parent is not None and parent.code and level == UnitLevel.district:
            if code[:2] != parent.code[:2]:
                errors.append(
                    _error(
                        "code",
                        "prefix",
                        f"区县代码须以 {parent.code[:2]} 开头",
                        f"a district code starts with {parent.code[:2]}",
                    )
                )
        elif parent is not None and parent.code and level != UnitLevel.city:
            if not code.startswith(parent.code) or code == parent.code + "000":
                errors.append(
                    _error(
                        "code",
                        "prefix",
                        f"代码须以上级代码 {parent.code} 开头，且后三位不为 000",
                        f"the code starts with the parent's code {parent.code} and does not "
                        "end in 000",
                    )
                )
    if not errors:
        clash = session.exec(select(Unit.id).where(Unit.code == code)).first()
        if (clash is not None and clash != unit_id) or (taken is not None and code in taken):
            errors.append(_error("code", "unique", "代码已被使用", "the code is already in use"))
    return errors


@dataclass
class UnitFields:
    """What a person says about a unit when creating or editing it (all checked)."""

    name: str
    level: UnitLevel
    kind: UnitKind = UnitKind.territorial
    code: str | None = None
    team_name: str | None = None
    organisation: str | None = None
    population: int | None = None
    population_year: int | None = None


def field_errors(
    session: Session,
    fields: UnitFields,
    parent: Unit | None,
    *,
    unit_id: int | None = None,
    taken: set[str] | None = None,
) -> list[FieldError]:
    """Every rule the fields of a unit under ``parent`` break (level, kind, code, figures)."""
    errors: list[FieldError] = []
    name = (fields.name or "").strip()
    if not name or len(name) > 100:
        errors.append(_error("name", "length", "名称须为 1–100 个字", "1–100 characters"))
    expected = PARENT_LEVEL.get(fields.level)
    if expected is None:
        if parent is not None:
            errors.append(
                _error(
                    "parent_id",
                    "root_has_no_parent",
                    "市级单位没有上级",
                    "the city unit has no parent",
                )
            )
    elif parent is None or parent.level != expected:
        errors.append(
            _error(
                "parent_id",
                "parent_level",
                f"{level_name(fields.level)}的上级须为{level_name(expected)}",
                f"a {fields.level} unit belongs under a {expected} unit",
            )
        )
    elif not parent.active:
        errors.append(
            _error("parent_id", "inactive", "上级单位已撤并", "the parent unit is merged away")
        )
    if fields.kind == UnitKind.enterprise:
        if fields.level != UnitLevel.township:
            errors.append(
                _error(
                    "kind",
                    "enterprise_level",
                    "企事业单位只能组建中队，直属区县大队",
                    "an enterprise forms a 中队 directly under its district",
                )
            )
        if not (fields.organisation or "").strip():
            errors.append(
                _error(
                    "organisation",
                    "missing",
                    "须填写组建中队的单位名称",
                    "name the organisation that forms the team",
                )
            )
    elif (
        fields.level == UnitLevel.village
        and parent is not None
        and parent.kind == UnitKind.enterprise
    ):
        errors.append(
            _error(
                "parent_id",
                "parent_kind",
                "村（社区）分队的上级须为乡镇街道中队",
                "a village belongs under a territorial township",
            )
        )
    for attribute in ("team_name", "organisation"):
        value = getattr(fields, attribute)
        if value is not None and len(value) > 100:
            errors.append(_error(attribute, "length", "最多 100 个字", "at most 100 characters"))
    if fields.population is not None and fields.population < 0:
        errors.append(_error("population", "range", "人口不能为负数", "must not be negative"))
    if fields.population_year is not None and not 1950 <= fields.population_year <= 2100:
        errors.append(
            _error("population_year", "range", "年份须在 1950–2100 之间", "a year 1950–2100")
        )
    if fields.population is not None and fields.population_year is None:
        errors.append(
            _error(
                "population_year",
                "missing",
                "填写人口时须注明年份",
                "give the year the population figure is for",
            )
        )
    errors += code_errors(
        session,
        level=fields.level,
        kind=fields.kind,
        parent=parent,
        code=fields.code or None,
        unit_id=unit_id,
        taken=taken,
    )
    return errors


def refuse(errors: list[FieldError]) -> None:
    """Raise the usual 400 when ``errors`` is not empty."""
    if errors:
        raise DomainError(
            text("单位信息有误", "The unit's details are invalid"), "validation_failed", 400, errors
        )


def record_event(
    session: Session, unit: Unit, event: str, detail: dict[str, Any], by_user_id: int | None
) -> UnitEvent:
    """Add a line to the unit's history."""
    row = UnitEvent(unit_id=unit.id, event=event, detail=detail, by_user_id=by_user_id)
    session.add(row)
    return row


def add_unit(
    session: Session,
    fields: UnitFields,
    parent: Unit | None,
    *,
    by_user_id: int | None,
    default_plugins: Iterable[str] = (),
    event: str = "created",
    detail: dict[str, Any] | None = None,
) -> Unit:
    """Check ``fields`` and create the unit under ``parent``, recording it in the history.

    Raises:
        DomainError: some rule is broken (400, every field named).
    """
    refuse(field_errors(session, fields, parent))
    unit = create_unit(
        session,
        name=fields.name.strip(),
        level=fields.level,
        parent=parent,
        code=fields.code or None,
        default_plugins=default_plugins,
        kind=fields.kind,
        team_name=(fields.team_name or "").strip() or None,
        organisation=(fields.organisation or "").strip() or None,
        population=fields.population,
        population_year=fields.population_year,
    )
    record_event(
        session,
        unit,
        event,
        {"parent_id": parent.id if parent else None, "code": unit.code, **(detail or {})},
        by_user_id,
    )
    session.flush()
    return unit


EDITABLE = ("name", "code", "team_name", "organisation", "population", "population_year")


def update_unit(
    session: Session,
    unit: Unit,
    changes: dict[str, Any],
    *,
    by_user_id: int | None,
    event: str = "updated",
    detail: dict[str, Any] | None = None,
) -> dict[str, list[Any]]:
    """Change a unit's name, code, team name, organisation or population; return the changes.

    A new code of a territorial unit is carried down: its descendants' codes, which start
    with the old one, start with the new one instead. Level, kind and parent never change
    here (moving is :func:`core.units.moves.move_unit`).

    Raises:
        DomainError: some rule is broken (400, every field named).
    """
    if not unit.active:
        raise DomainError(
            text("该单位已撤并，不能修改", "This unit has been merged away"), "inactive", 409
        )
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        refuse(
            [_error(name, "not_editable", "不能修改此项", "cannot be changed") for name in unknown]
        )
    current = {name: getattr(unit, name) for name in EDITABLE}
    wanted = {**current, **changes}
    if isinstance(wanted["name"], str):
        wanted["name"] = wanted["name"].strip()
    for name in ("team_name", "organisation", "code"):
        if isinstance(wanted[name], str):
            wanted[name] = wanted[name].strip() or None
    parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
    fields = UnitFields(level=unit.level, kind=unit.kind, **wanted)
    errors = field_errors(session, fields, parent, unit_id=unit.id)
    if parent is not None and unit.parent_id is not None and not parent.active:
        errors = [e for e in errors if e.rule != "inactive"]
    recode: list[tuple[int, str, str]] = []
    if not errors and wanted["code"] != unit.code and unit.code and wanted["code"]:
        recode, clashes = descendant_recoding(session, unit, unit.code, wanted["code"])
        errors += clashes
    refuse(errors)
    changed = {
        name: [current[name], wanted[name]] for name in EDITABLE if current[name] != wanted[name]
    }
    if not changed:
        return {}
    for name, (_, new) in changed.items():
        setattr(unit, name, new)
    session.add(unit)
    apply_recoding(session, recode)
    details = {"changes": changed, **(detail or {})}
    if recode:
        details["recoded"] = [[unit_id, old, new] for unit_id, old, new in recode]
    record_event(session, unit, event, details, by_user_id)
    session.flush()
    return changed


def descendant_recoding(
    session: Session, unit: Unit, old_code: str, new_code: str
) -> tuple[list[tuple[int, str, str]], list[FieldError]]:
    """The codes below ``unit`` that start with ``old_code``, rewritten to ``new_code``.

    Returns ``(unit id, old code, new code)`` triples and the clashes with codes in use.
    """
    low, high = unit.subtree_bounds()
    rows = session.exec(
        select(Unit.id, Unit.code).where(
            Unit.path > low,
            Unit.path < high,
            col(Unit.code).startswith(old_code),
            Unit.kind == UnitKind.territorial,
        )
    ).all()
    recode = [(uid, code, new_code + code[len(old_code) :]) for uid, code in rows]
    moving = {uid for uid, _, _ in recode}
    clashes: list[FieldError] = []
    new_codes = [new for _, _, new in recode]
    for start in range(0, len(new_codes), 500):
        for uid, code in session.exec(
            select(Unit.id, Unit.code).where(col(Unit.code).in_(new_codes[start : start + 500]))
        ):
            if uid not in moving:
                clashes.append(
                    _error(
                        "code",
                        "unique",
                        f"下级单位的新代码 {code} 已被使用",
                        f"the new code {code} of a unit below is already in use",
                    )
                )
    return recode, clashes


def apply_recoding(session: Session, recode: list[tuple[int, str, str]]) -> None:
    """Give units their new codes (two steps, so codes swapping places never clash)."""
    if not recode:
        return
    session.flush()
    table = Unit.__table__
    for unit_id, _, _ in recode:
        session.execute(table.update().where(table.c.id == unit_id).values(code=None))
    for unit_id, _, new in recode:
        session.execute(table.update().where(table.c.id == unit_id).values(code=new))
    for unit_id, _, _ in recode:
        loaded = session.identity_map.get(session.identity_key(Unit, unit_id))
        if loaded is not None:
            session.expire(loaded, ["code"])


def next_free_code(session: Session, parent: Unit, *, taken: Iterable[str] = ()) -> str | None:
    """The next unused code under ``parent``: its code and the next 3-digit number."""
    if not parent.code or parent.level not in (UnitLevel.district, UnitLevel.township):
        return None
    digits = CODE_DIGITS[CHILD_LEVEL[parent.level]]
    used = set(taken)
    used.update(
        code
        for code in session.exec(
            select(Unit.code).where(col(Unit.code).startswith(parent.code))
        ).all()
        if code
    )
    numbers = [
        int(code[len(parent.code) :])
        for code in used
        if len(code) == digits
        and code.startswith(parent.code)
        and code[len(parent.code) :].isdigit()
    ]
    following = max(numbers, default=0) + 1
    if following > 999:
        return None
    return f"{parent.code}{following:03d}"


# -- reading -------------------------------------------------------------------------------


def default_plugins_of(plugins: Any) -> list[str]:
    """The loaded plugins switched on at every new unit (``META.default_enabled``)."""
    return [name for name in plugins.names if plugins.meta(name).default_enabled]


def children_of(session: Session, unit: Unit, *, include_inactive: bool = False) -> list[Unit]:
    """The units directly below ``unit``: territorial ones by code, then enterprise teams."""
    query = select(Unit).where(Unit.parent_id == unit.id)
    if not include_inactive:
        query = query.where(Unit.active == sa.true())
    rows = session.exec(query).all()
    return sorted(rows, key=lambda u: (u.kind != UnitKind.territorial, u.code or "", u.id))


def leaders_of(session: Session, unit: Unit) -> list[tuple[str, str, int]]:
    """The team's current captain and vice captains: ``(role, name, volunteer id)``.

    Memberships and their roles are kept by core's volunteers; this only reads them.
    """
    from core.people.models import Person
    from core.volunteers.models import TeamMembership, TeamRole, Volunteer

    rows = session.exec(
        select(TeamMembership.role, Person.name, Volunteer.id)
        .join(Volunteer, Volunteer.id == TeamMembership.volunteer_id)
        .join(Person, Person.id == Volunteer.person_id)
        .where(
            TeamMembership.unit_id == unit.id,
            col(TeamMembership.until).is_(None),
            col(TeamMembership.role).in_([TeamRole.captain.value, TeamRole.vice_captain.value]),
        )
    ).all()
    order = {TeamRole.captain.value: 0, TeamRole.vice_captain.value: 1}
    return sorted(
        ((str(role), name, volunteer_id) for role, name, volunteer_id in rows),
        key=lambda row: (order.get(row[0], 2), row[2]),
    )


def history_of(session: Session, unit: Unit, limit: int = 100) -> list[UnitEvent]:
    """The unit's history, newest first."""
    return list(
        session.exec(
            select(UnitEvent)
            .where(UnitEvent.unit_id == unit.id)
            .order_by(col(UnitEvent.at).desc(), col(UnitEvent.id).desc())
            .limit(limit)
        )
    )
