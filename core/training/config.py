"""Per-unit training settings with a valid-from date (the rate-by-date pattern).

Core had no general mechanism for local configuration that changes over time, so training
keeps its own small one: a ``training_setting`` row says "from ``valid_from``, in this unit's
subtree, ``key`` is ``value``". At a unit on a day, each unit on the path from the root holds
at most one version in force (its latest ``valid_from`` not after the day). How those combine
is the key's rule:

* :func:`nearest` — the version of the unit nearest below wins (a number such as the days of
  notice before a qualification expires);
* :func:`in_force` — every level's version counts (requirements: the city's minimum, plus
  what the district adds; a lower unit cannot relax what a higher one asks).

Keys used here: ``requirements:<role>`` (``{"modules": [codes]}``) and
``reminders:expiry_days`` (``{"days": n}``).
"""

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from core.training.models import TrainingSetting
from core.units.models import Unit, utcnow

REQUIREMENTS = "requirements:"
EXPIRY_DAYS = "reminders:expiry_days"


def requirement_key(role: str) -> str:
    """The setting key of the modules ``role`` requires."""
    return REQUIREMENTS + role


def in_force(session: Session, unit: Unit, key: str, on: date) -> list[TrainingSetting]:
    """The version of ``key`` in force on ``on`` at each unit from the root down to ``unit``.

    Units without a version are left out; the list runs from the root downwards.
    """
    rows = session.exec(
        select(TrainingSetting)
        .where(
            col(TrainingSetting.unit_id).in_(unit.ancestor_ids),
            TrainingSetting.key == key,
            TrainingSetting.valid_from <= on,
        )
        .order_by(TrainingSetting.valid_from)
    ).all()
    latest: dict[int, TrainingSetting] = {}
    for row in rows:
        latest[row.unit_id] = row  # ordered by valid_from: the last one wins
    return sorted(latest.values(), key=lambda row: len(row.unit_path))


def nearest(session: Session, unit: Unit, key: str, on: date) -> dict[str, Any] | None:
    """The value in force at ``unit`` on ``on``, from the nearest unit that sets ``key``."""
    versions = in_force(session, unit, key, on)
    return versions[-1].value if versions else None


def history(session: Session, unit: Unit, key_prefix: str) -> list[TrainingSetting]:
    """Every version set at ``unit`` itself whose key starts with ``key_prefix``, newest first."""
    return list(
        session.exec(
            select(TrainingSetting)
            .where(
                TrainingSetting.unit_id == unit.id,
                col(TrainingSetting.key).startswith(key_prefix),
            )
            .order_by(col(TrainingSetting.valid_from).desc(), col(TrainingSetting.key))
        ).all()
    )


def set_value(
    session: Session,
    unit: Unit,
    key: str,
    value: dict[str, Any],
    valid_from: date,
    by_user_id: int | None,
) -> TrainingSetting:
    """From ``valid_from``, ``key`` is ``value`` at ``unit`` (replacing a same-day version)."""
    row = session.exec(
        select(TrainingSetting).where(
            TrainingSetting.unit_id == unit.id,
            TrainingSetting.key == key,
            TrainingSetting.valid_from == valid_from,
        )
    ).first() or TrainingSetting(
        unit_id=unit.id, unit_path=unit.path, key=key, valid_from=valid_from
    )
    row.value = value
    row.set_by_id = by_user_id
    row.set_at = utcnow()
    session.add(row)
    session.flush()
    return row
