"""The hour rules: how minutes of presence become credited hours, and hours become stars.

Every number here is a per-unit setting with a valid-from date (:mod:`core.unitconfig`); the
defaults are 志愿山城's rounding (≤15 min → 0 h, 15–45 → 0.5 h, 45–60 → 1 h on the part of
an hour left after whole hours), the Yunnan platform's validity threshold (hours only for
attendance of at least 60 % of the slot) and the national star thresholds
(100/300/600/1000/1500 h). The rule applied is stored with each ledger entry, so an entry
stays explained by the rule of its day after the unit changes it.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from core.contributions import Label
from core.unitconfig.services import ConfigKey, settings_along
from core.units.models import Unit

LOCAL_TIME = ZoneInfo("Asia/Shanghai")


class Band(BaseModel):
    """Minutes past the last whole hour up to ``up_to`` (inclusive) count as ``hours``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    up_to: Annotated[int, Field(ge=0, le=60)]
    hours: Annotated[Decimal, Field(ge=0, le=1, decimal_places=1)]


def _bands_cover_the_hour(bands: list[Band]) -> list[Band]:
    limits = [band.up_to for band in bands]
    if not bands or limits != sorted(set(limits)) or limits[-1] != 60:
        raise ValueError("bands must rise strictly and the last must end at 60 minutes")
    return bands


class Rounding(BaseModel):
    """Bands for the minutes after whole hours, rising, the last ending at 60."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bands: Annotated[list[Band], Field(min_length=1, max_length=12)]

    @model_validator(mode="after")
    def _covers(self) -> "Rounding":
        _bands_cover_the_hour(list(self.bands))
        return self


class StarThresholds(BaseModel):
    """Total hours needed for 1★ … n★, rising."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hours: Annotated[list[Annotated[int, Field(ge=1, le=100_000)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _rising(self) -> "StarThresholds":
        if self.hours != sorted(set(self.hours)):
            raise ValueError("star thresholds must rise strictly")
        return self


ROUNDING = ConfigKey(
    name="hours.rounding",
    label=Label("时长取整规则", "Rounding of service time"),
    type=Rounding,
    default=Rounding(
        bands=[
            Band(up_to=15, hours=Decimal("0")),
            Band(up_to=45, hours=Decimal("0.5")),
            Band(up_to=60, hours=Decimal("1")),
        ]
    ),
    help=Label(
        "整小时之外的分钟数按区间折算：不超过 up_to 分钟记 hours 小时",
        "Minutes past whole hours, up to up_to (inclusive), count as hours",
    ),
)
VALIDITY_PERCENT = ConfigKey(
    name="hours.validity_percent",
    label=Label("有效时长比例（%）", "Validity threshold (% of the slot)"),
    type=Annotated[int, Field(ge=0, le=100)],
    default=60,
    help=Label(
        "在岗时间低于时段的该比例时不计时长",
        "Below this share of the slot, no hours are credited",
    ),
)
STAR_THRESHOLDS = ConfigKey(
    name="hours.star_thresholds",
    label=Label("星级时长门槛（小时）", "Star-level thresholds (hours)"),
    type=StarThresholds,
    default=StarThresholds(hours=[100, 300, 600, 1000, 1500]),
    help=Label("依次为一星至五星所需累计时长", "Total hours for one star, two stars, …"),
)
CHECKIN_EARLY_MINUTES = ConfigKey(
    name="hours.checkin_early_minutes",
    label=Label("提前签到（分钟）", "Check-in opens (minutes before start)"),
    type=Annotated[int, Field(ge=0, le=240)],
    default=30,
)
CHECKOUT_LATE_MINUTES = ConfigKey(
    name="hours.checkout_late_minutes",
    label=Label("本人签退截止（结束后分钟）", "Own check-out closes (minutes after end)"),
    type=Annotated[int, Field(ge=0, le=1440)],
    default=120,
    help=Label(
        "之后只能由带班或负责人代为签退", "After this only a leader can check the volunteer out"
    ),
)


def service_date(moment: datetime) -> date:
    """The local (Chongqing) calendar day of ``moment``."""
    return moment.astimezone(LOCAL_TIME).date()


@dataclass(frozen=True)
class HoursRule:
    """The rule in force at a unit on a day, and where each part came from."""

    rounding: Rounding
    validity_percent: int
    sources: dict[str, Any]  # key → {"unit_id", "valid_from"} of the setting, or "default"

    def as_json(self) -> dict[str, Any]:
        """The rule as stored with a ledger entry."""
        return {
            "rounding": ROUNDING.dump(self.rounding),
            "validity_percent": self.validity_percent,
            "sources": self.sources,
        }


def rule_at(session: Session, unit: Unit, on: date) -> HoursRule:
    """The hour rule in force at ``unit`` on ``on``."""
    sources: dict[str, Any] = {}
    values = {}
    for key in (ROUNDING, VALIDITY_PERCENT):
        value, row = settings_along(session, unit, key, on)
        values[key.name] = value
        sources[key.name] = (
            {"unit_id": row.unit_id, "valid_from": row.valid_from.isoformat()} if row else "default"
        )
    return HoursRule(values[ROUNDING.name], values[VALIDITY_PERCENT.name], sources)


def round_minutes(minutes: int, rounding: Rounding) -> Decimal:
    """Whole hours, plus the band of the minutes left over (志愿山城: 90 min → 1.5 h)."""
    whole, rest = divmod(max(minutes, 0), 60)
    for band in rounding.bands:
        if rest <= band.up_to:
            return Decimal(whole) + band.hours
    raise ValueError("the bands do not cover the hour")  # prevented by Rounding's validator


@dataclass(frozen=True)
class Credit:
    """Hours credited for a presence, or none and why."""

    minutes_present: int
    slot_minutes: int
    hours: Decimal
    valid: bool
    reason: str | None  # why no hours were credited


def credit(minutes_present: int, slot_minutes: int, rule: HoursRule) -> Credit:
    """Apply the validity threshold, then the rounding.

    Exactly the threshold counts: 36 minutes of a 60-minute slot at 60 % is valid.
    """
    minutes_present = max(minutes_present, 0)
    valid = minutes_present * 100 >= rule.validity_percent * slot_minutes
    if not valid:
        reason = (
            f"在岗 {minutes_present} 分钟，不足时段 {slot_minutes} 分钟的 "
            f"{rule.validity_percent}%，不计时长"
        )
        return Credit(minutes_present, slot_minutes, Decimal("0"), False, reason)
    return Credit(
        minutes_present, slot_minutes, round_minutes(minutes_present, rule.rounding), True, None
    )


def minutes_between(start: datetime, end: datetime) -> int:
    """Whole minutes from ``start`` to ``end`` (seconds dropped), never negative."""
    return max(int((end - start).total_seconds() // 60), 0)


def star_level(total_hours: Decimal | float, thresholds: StarThresholds) -> int:
    """How many thresholds ``total_hours`` reaches."""
    return sum(1 for needed in thresholds.hours if total_hours >= needed)
