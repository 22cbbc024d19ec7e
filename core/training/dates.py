"""Training's calendar: sessions, expiry and reminders go by the date in China, not UTC.

A session at 07:30 in Chongqing starts at 23:30 UTC the day before; its day, the day a
qualification is granted and the day it expires are all local dates.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """The local date of an aware moment."""
    return moment.astimezone(LOCAL_TIME).date()


def local_today() -> date:
    """Today's local date."""
    return datetime.now(UTC).astimezone(LOCAL_TIME).date()


def day_start(day: date) -> datetime:
    """The aware UTC moment the local ``day`` begins."""
    return datetime.combine(day, time(0), LOCAL_TIME).astimezone(UTC)


def days_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The half-open UTC range covering the local days ``first`` to ``last`` inclusive."""
    return day_start(first), day_start(last + timedelta(days=1))


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The half-open UTC range of a local calendar year."""
    return days_bounds(date(year, 1, 1), date(year, 12, 31))
