"""Reading and setting per-unit configuration.

Areas declare their keys as :class:`ConfigKey` objects (a name, a label, a pydantic type and
a default); the default is the platform's recommendation, which any unit may override from a
date on for itself and everything below it. :func:`setting` answers "which value applies at
this unit on this day": the latest value valid on that day at the nearest unit on the path
from the unit up to the city, else the default.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Generic, TypeVar

import pydantic
from sqlmodel import Session, col, select

from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.unitconfig.models import UnitSetting
from core.units.models import Unit

T = TypeVar("T")

#: Settings take effect by calendar day in China (one time zone, no daylight saving).
CHINA = timezone(timedelta(hours=8))


def local_today(at: datetime | None = None) -> date:
    """The calendar day in China of ``at`` (now if absent): the day settings are read for."""
    return (at or datetime.now(CHINA)).astimezone(CHINA).date()


@dataclass(frozen=True)
class ConfigKey(Generic[T]):
    """A configurable rule.

    Attributes:
        name: ``<area>.<rule>``, for example ``hours.rounding``.
        label: What it is, for the settings page.
        type: The pydantic-validatable type of its value.
        default: The value where no unit on the path has set one.
        help: How the value is read (units, bounds), for the settings page.
    """

    name: str
    label: Label
    type: Any
    default: T
    help: Label | None = None

    def parse(self, value: Any) -> T:
        """Validate ``value``; raise DomainError naming field ``value`` and the broken rule."""
        try:
            return pydantic.TypeAdapter(self.type).validate_python(value)
        except pydantic.ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            message = f"{self.name}{'.' + where if where else ''}: {first['msg']}"
            raise DomainError(
                text("配置值无效", "The setting's value is not valid"),
                code="validation_failed",
                status=422,
                errors=[FieldError("value", first["type"], message)],
            ) from None

    def dump(self, value: T) -> Any:
        """The JSON form stored in ``unit_setting.value``."""
        return pydantic.TypeAdapter(self.type).dump_python(value, mode="json")


def setting(session: Session, unit: Unit, key: ConfigKey[T], on: date) -> T:
    """The value of ``key`` in force at ``unit`` on ``on``."""
    return settings_along(session, unit, key, on)[0]


def settings_along(
    session: Session, unit: Unit, key: ConfigKey[T], on: date
) -> tuple[T, UnitSetting | None]:
    """The value in force and the row it comes from (None: the declared default)."""
    ancestors = unit.ancestor_ids
    rows = session.exec(
        select(UnitSetting)
        .where(col(UnitSetting.key) == key.name)
        .where(col(UnitSetting.unit_id).in_(ancestors))
        .where(col(UnitSetting.valid_from) <= on)
    ).all()
    if not rows:
        return key.default, None
    depth = {unit_id: index for index, unit_id in enumerate(ancestors)}
    row = max(rows, key=lambda r: (depth[r.unit_id], r.valid_from, r.id or 0))
    return key.parse(row.value), row


@dataclass(frozen=True)
class InForce:
    """The value of a key in force at a unit on a day, and the row it comes from.

    ``row`` is None when no unit on the path has set the key: the declared default applies.
    """

    key: ConfigKey
    value: Any
    row: UnitSetting | None


def settings_in_force(
    session: Session, unit: Unit, keys: list[ConfigKey], on: date
) -> dict[str, InForce]:
    """:func:`settings_along` for several keys at once, in one query (a settings page)."""
    ancestors = unit.ancestor_ids
    rows = session.exec(
        select(UnitSetting)
        .where(col(UnitSetting.key).in_([key.name for key in keys]))
        .where(col(UnitSetting.unit_id).in_(ancestors))
        .where(col(UnitSetting.valid_from) <= on)
    ).all()
    depth = {unit_id: index for index, unit_id in enumerate(ancestors)}
    best: dict[str, UnitSetting] = {}
    for row in rows:
        rank = (depth[row.unit_id], row.valid_from, row.id or 0)
        current = best.get(row.key)
        if current is None or rank > (depth[current.unit_id], current.valid_from, current.id or 0):
            best[row.key] = row
    found = {}
    for key in keys:
        row = best.get(key.name)
        found[key.name] = InForce(key, key.parse(row.value) if row else key.default, row)
    return found


def set_setting(
    session: Session,
    unit: Unit,
    key: ConfigKey[T],
    value: Any,
    valid_from: date,
    *,
    user_id: int | None,
    reason: str | None = None,
) -> UnitSetting:
    """Record a new value of ``key`` for ``unit`` and its subtree from ``valid_from`` on.

    A second value for the same unit, key and day replaces nothing: it is refused, so what
    was in force on a day stays knowable; set a later date instead.
    """
    parsed = key.parse(value)
    clash = session.exec(
        select(UnitSetting.id)
        .where(UnitSetting.unit_id == unit.id)
        .where(UnitSetting.key == key.name)
        .where(UnitSetting.valid_from == valid_from)
    ).first()
    if clash is not None:
        raise DomainError(
            text(
                "该日期已有设置，请选择更晚的生效日期",
                "A value already starts that day; pick a later date",
            ),
            code="conflict",
            status=409,
            errors=[FieldError("valid_from", "unique", f"{key.name} @ {valid_from.isoformat()}")],
        )
    row = UnitSetting(
        unit_id=unit.id,
        unit_path=unit.path,
        key=key.name,
        value=key.dump(parsed),
        valid_from=valid_from,
        reason=reason,
        set_by_user_id=user_id,
    )
    session.add(row)
    session.flush()
    return row
