"""Changing a unit's settings, and the history a settings page shows.

A new value starts today or later. Starting it on a past day would change the rule under
which hours were already confirmed and deadlines already passed, so only the city office may
back-date a value, and it must say why: what was recorded on those days stays explained by
the trail of settings and their reasons.
"""

import json
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from core.access import path_in
from core.accounts.principal import Principal
from core.errors import DomainError, FieldError
from core.i18n import text
from core.unitconfig.models import UnitSetting
from core.unitconfig.permissions import MANAGE
from core.unitconfig.services import ConfigKey, local_today, set_setting
from core.units.models import Unit

EARLIEST = date(2000, 1, 1)


def is_city_office(principal: Principal) -> bool:
    """Whether the caller may manage settings through a grant held at the top unit."""
    return any(MANAGE in g.actions and g.unit_path.count(".") == 1 for g in principal.grants)


def _refused(field: str, rule: str, zh: str, en: str) -> DomainError:
    message = text(zh, en)
    return DomainError(message, "validation_failed", 422, [FieldError(field, rule, message)])


def change_setting(
    session: Session,
    principal: Principal,
    unit: Unit,
    key: ConfigKey,
    value: Any,
    valid_from: date,
    reason: str | None,
    *,
    today: date | None = None,
) -> UnitSetting:
    """Record a new value of ``key`` at ``unit`` from ``valid_from`` on, by ``principal``.

    Raises:
        DomainError: the value breaks the key's type (422, field ``value`` and the rule), the
            date is before 2000 or in the past without the city office (422, field
            ``valid_from``), a back-dated value has no reason (422, field ``reason``), or a
            value already starts that day (409).
    """
    today = today or local_today()
    key.parse(value)  # the value's own errors first: they are the likeliest
    if valid_from < EARLIEST:
        raise _refused(
            "valid_from",
            "too_early",
            f"生效日期不能早于 {EARLIEST.isoformat()}",
            f"The start date cannot be before {EARLIEST.isoformat()}",
        )
    cleaned = (reason or "").strip() or None
    if valid_from < today:
        if not is_city_office(principal):
            raise _refused(
                "valid_from",
                "not_in_past",
                f"生效日期不能早于今天（{today.isoformat()}）：已按原设置办理的事项须保持可解释；"
                "确需追溯的，请市领导小组办公室办理",
                f"The start date cannot be before today ({today.isoformat()}): what was done "
                "under the earlier value must stay explained; only the city office may "
                "back-date a value",
            )
        if cleaned is None:
            raise _refused(
                "reason",
                "required_when_backdated",
                "追溯生效须说明理由",
                "A back-dated value needs a reason",
            )
    return set_setting(
        session, unit, key, value, valid_from, user_id=principal.user_id, reason=cleaned
    )


def form_value(key: ConfigKey, raw: str) -> Any:
    """A value typed into a form: as text if the key's type takes it, else read as JSON.

    ``24`` and ``township`` are read as typed; lists and objects (``[100, 300]``) as JSON.
    """
    raw = raw.strip()
    try:
        key.parse(raw)
        return raw
    except DomainError:
        try:
            return json.loads(raw)
        except ValueError:
            return raw  # the parse error of the text itself is then reported


def display_value(key: ConfigKey, value: Any) -> str:
    """A value as the settings page shows it and its form takes it back."""
    dumped = key.dump(value)
    return dumped if isinstance(dumped, str) else json.dumps(dumped, ensure_ascii=False)


def history_along(session: Session, unit: Unit, key: ConfigKey) -> list[UnitSetting]:
    """Every value of ``key`` set at ``unit`` or above it, the nearest unit first, latest first."""
    ancestors = unit.ancestor_ids
    rows = session.exec(
        select(UnitSetting)
        .where(UnitSetting.key == key.name)
        .where(col(UnitSetting.unit_id).in_(ancestors))
    ).all()
    depth = {unit_id: index for index, unit_id in enumerate(ancestors)}
    return sorted(rows, key=lambda r: (-depth[r.unit_id], -r.valid_from.toordinal(), -r.id))


def overrides_below(
    session: Session, unit: Unit, key: ConfigKey, *, limit: int = 100
) -> list[tuple[UnitSetting, str]]:
    """Values of ``key`` set by units below ``unit`` (they win there), with the units' names."""
    return list(
        session.exec(
            select(UnitSetting, Unit.name)
            .join(Unit, Unit.id == UnitSetting.unit_id)
            .where(UnitSetting.key == key.name)
            .where(path_in(UnitSetting.unit_path, unit.path))
            .where(UnitSetting.unit_id != unit.id)
            .order_by(UnitSetting.unit_path, col(UnitSetting.valid_from).desc())
            .limit(limit)
        ).all()
    )
