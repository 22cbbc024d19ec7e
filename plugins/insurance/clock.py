"""Days and deadlines in China time, with an injectable "now" so clocks can be tested.

China keeps one time zone and no daylight saving. Services take ``now`` (aware, UTC) from
their caller; jobs take it as an ISO text argument, so a run can be replayed at a chosen time.
"""

from datetime import date, datetime, timedelta, timezone

from core.units.models import utcnow

CHINA = timezone(timedelta(hours=8))


def now_or(value: datetime | str | None) -> datetime:
    """``value`` as an aware datetime, or the current time."""
    if value is None:
        return utcnow()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=CHINA)


def china_day(at: datetime) -> date:
    """The calendar day in China of an instant."""
    return at.astimezone(CHINA).date()


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in China: a policy ending on a day covers all of it."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), CHINA) - timedelta(
        microseconds=1
    )


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
