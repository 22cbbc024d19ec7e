"""API input and output for unit settings."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlmodel import Session, col, select

from core.accounts.models import User
from core.i18n import current_locale
from core.unitconfig.models import UnitSetting
from core.unitconfig.services import ConfigKey, InForce
from core.units.models import Unit

Source = Literal["unit", "ancestor", "default"]


class SettingChange(BaseModel):
    """A new value from a day on; a back-dated one (city office only) needs a reason."""

    model_config = ConfigDict(strict=True, extra="forbid")

    value: JsonValue = Field(description="A value of the key's type (see its help).")
    valid_from: date = Field(strict=False, description="The first day it applies (China time).")
    reason: str | None = Field(default=None, max_length=300)


class SettingRow(BaseModel):
    """A value set at a unit from a day on."""

    id: int
    unit_id: int
    unit_name: str
    value: Any
    valid_from: date
    reason: str | None
    set_by: str | None
    set_at: datetime
    in_force: bool = Field(description="Whether it is the value in force at the unit asked about.")


class SettingRead(BaseModel):
    """A key and the value in force at a unit on a day, and where that value comes from."""

    key: str
    label: str
    help: str | None
    default: Any
    on: date
    value: Any
    source: Source = Field(description="Set at this unit, at a unit above it, or the default.")
    source_unit_id: int | None
    source_unit_name: str | None
    valid_from: date | None


class SettingDetail(SettingRead):
    """A key at a unit, with every value set at the unit or above, and overrides below."""

    history: list[SettingRow]
    below: list[SettingRow]


def _label(value) -> str | None:
    return value(current_locale.get()) if value is not None else None


def source_of(unit: Unit, row: UnitSetting | None) -> Source:
    """Where the value in force at ``unit`` comes from."""
    if row is None:
        return "default"
    return "unit" if row.unit_id == unit.id else "ancestor"


def present(
    key: ConfigKey, unit: Unit, in_force: InForce, on: date, unit_names: dict[int, str]
) -> SettingRead:
    """A key as the settings list shows it."""
    row = in_force.row
    return SettingRead(
        key=key.name,
        label=_label(key.label),
        help=_label(key.help),
        default=key.dump(key.default),
        on=on,
        value=key.dump(in_force.value),
        source=source_of(unit, row),
        source_unit_id=row.unit_id if row else None,
        source_unit_name=unit_names.get(row.unit_id) if row else None,
        valid_from=row.valid_from if row else None,
    )


def rows(
    session: Session, found: list[UnitSetting], in_force_id: int | None, names: dict[int, str]
) -> list[SettingRow]:
    """Setting rows with the names of their units and of who set them."""
    user_ids = {row.set_by_user_id for row in found if row.set_by_user_id}
    users = (
        dict(
            session.exec(select(User.id, User.display_name).where(col(User.id).in_(user_ids))).all()
        )
        if user_ids
        else {}
    )
    return [
        SettingRow(
            id=row.id,
            unit_id=row.unit_id,
            unit_name=names.get(row.unit_id, str(row.unit_id)),
            value=row.value,
            valid_from=row.valid_from,
            reason=row.reason,
            set_by=users.get(row.set_by_user_id),
            set_at=row.set_at,
            in_force=row.id == in_force_id,
        )
        for row in found
    ]


def unit_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Unit id → name."""
    if not ids:
        return {}
    return dict(session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(ids))).all())
