"""The time the plugin's rules are measured by, in one place so tests can set it.

Deadlines, windows and reminders count calendar days in China (UTC+8, no daylight saving);
timestamps are stored aware in UTC. Tests replace :func:`now` (``monkeypatch.setattr``) to
stand on either side of a boundary.
"""

from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in China."""
    return local_day(now())


def local_day(at: datetime) -> date:
    """The calendar day in China of an instant."""
    return at.astimezone(CHINA).date()


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, the last day of a shorter month if needed (1-31 → 2-28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")  # pragma: no cover


def start_of(day: date) -> datetime:
    """The instant a day begins in China."""
    return datetime.combine(day, datetime.min.time(), CHINA)
