"""What the settings API and pages show: the keys at a unit, one key with its history."""

from datetime import date

from sqlmodel import Session

from core.errors import DomainError, FieldError
from core.i18n import text
from core.platform import Platform
from core.plugins import CORE
from core.unitconfig.changes import history_along, overrides_below
from core.unitconfig.schemas import SettingDetail, SettingRead, present, rows, unit_names
from core.unitconfig.services import ConfigKey, InForce, settings_along, settings_in_force
from core.units.models import Unit


def ordered_keys(platform: Platform) -> list[ConfigKey]:
    """Every registered key: core's first, then each plugin's, by name."""
    names = set(platform.plugins.names)
    keys = platform.plugins.config_keys.values()
    return sorted(keys, key=lambda k: (k.name.split(".", 1)[0] in names, k.name))


def owner_of(platform: Platform, key: ConfigKey) -> str:
    """``core`` or the plugin that declared the key."""
    area = key.name.split(".", 1)[0]
    return area if area in platform.plugins.names else CORE


def key_named(platform: Platform, name: str) -> ConfigKey:
    """The registered key ``name``.

    Raises:
        DomainError: no such key (404, field ``key``).
    """
    key = platform.plugins.config_keys.get(name)
    if key is None:
        raise DomainError(
            text("没有这项设置", "No such setting"),
            "not_found",
            404,
            [FieldError("key", "unknown", name[:80])],
        )
    return key


def settings_at(platform: Platform, session: Session, unit: Unit, on: date) -> list[SettingRead]:
    """Every key at ``unit`` on ``on``: the value in force and where it comes from."""
    keys = ordered_keys(platform)
    found = settings_in_force(session, unit, keys, on)
    names = unit_names(session, {f.row.unit_id for f in found.values() if f.row})
    return [present(key, unit, found[key.name], on, names) for key in keys]


def setting_detail(session: Session, unit: Unit, key: ConfigKey, on: date) -> SettingDetail:
    """One key at ``unit``: the value in force on ``on``, its history, the overrides below."""
    value, row = settings_along(session, unit, key, on)
    history = history_along(session, unit, key)
    below = overrides_below(session, unit, key)
    names = unit_names(session, {r.unit_id for r in history})
    names.update({r.unit_id: name for r, name in below})
    in_force_id = row.id if row else None
    summary = present(key, unit, InForce(key, value, row), on, names)
    return SettingDetail(
        **summary.model_dump(),
        history=rows(session, history, in_force_id, names),
        below=rows(session, [r for r, _ in below], None, names),
    )
