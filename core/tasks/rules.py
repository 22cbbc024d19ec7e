"""The per-unit settings of scheduling, and the calendar they are counted in.

Ages, daily hours and rest are local rules (domain notes: "keep such numbers in per-unit
configuration with a valid-from date"); each is a :class:`~core.unitconfig.services.ConfigKey`
read at the shift's unit on the shift's day. The defaults are the platform's recommendation:
60 as the oldest age for risky work (the usual limit of emergency-rescue volunteer teams and of
the accident cover they buy), 10 hours of duty in one day, and an hour's rest between two
shifts that do not follow on from each other.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field

from core.contributions import Label
from core.unitconfig.services import ConfigKey

LOCAL_TIME = ZoneInfo("Asia/Shanghai")  # China keeps one time zone and no daylight saving

#: The statutory minimum age of a volunteer on duty (SPEC §3: 18 or older); not a local rule.
MINIMUM_AGE = 18
#: The longest shift accepted: the overlap and rest checks look this far around a shift.
LONGEST_SHIFT = timedelta(hours=24)

MAX_AGE_RISKY = ConfigKey(
    name="tasks.max_age_risky",
    label=Label("危险任务的最高年龄", "Oldest age for risky tasks"),
    type=Annotated[int, Field(ge=18, le=100)],
    default=60,
    help=Label(
        "在班次当天已满此年龄（周岁）者不能派往危险任务",
        "Volunteers older than this (completed years) on the shift's day are not put on "
        "risky tasks",
    ),
)
DAILY_MAX_HOURS = ConfigKey(
    name="tasks.daily_max_hours",
    label=Label("每日最长值勤时数", "Most hours of duty in one day"),
    type=Annotated[float, Field(gt=0, le=24)],
    default=10.0,
    help=Label(
        "一名志愿者在同一天（北京时间）所有班次的合计小时数上限",
        "The hours of all of a volunteer's shifts on one calendar day (China time), at most",
    ),
)
MIN_REST_MINUTES = ConfigKey(
    name="tasks.min_rest_minutes",
    label=Label("两个班次之间的最短休息（分钟）", "Shortest rest between two shifts (minutes)"),
    type=Annotated[int, Field(ge=0, le=24 * 60)],
    default=60,
    help=Label(
        "两个不相连的班次之间至少间隔的分钟数；首尾相接的班次视为连续值勤，受每日上限约束",
        "Minutes at least between two shifts that do not follow on from each other; shifts "
        "that do are one continuous duty, bounded by the daily maximum",
    ),
)


def local_date(moment: datetime) -> date:
    """The calendar day in China of an aware ``moment``."""
    return moment.astimezone(LOCAL_TIME).date()


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in China, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TIME).astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC time; a naive one (a form's ``datetime-local``) is read as China time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TIME)
    return moment.astimezone(UTC)


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def age_on(born: date, day: date) -> int:
    """Completed years on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
