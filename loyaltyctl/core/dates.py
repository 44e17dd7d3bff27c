"""Business time: local dates in a program's time zone, stored as UTC epoch seconds.

An instant is an int of UTC epoch seconds. "As of D" means the end of day D in
the program's time zone, so a query as of D counts what happened before the
*cutoff*: the start of D + 1 day, local time.
"""

import calendar
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DAY = 86400


def add_months(day: date, months: int) -> date:
    """Same day of month `months` later, clamped to the month's end (31 Aug + 6 = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def start_of_day(day: date, tz: str) -> int:
    """The instant a local day begins."""
    return int(datetime.combine(day, time(0), ZoneInfo(tz)).timestamp())


def cutoff(as_of: date, tz: str) -> int:
    """The first instant after the end of day `as_of`: count what is strictly before it."""
    return start_of_day(as_of + timedelta(days=1), tz)


def local_date(instant: int, tz: str) -> date:
    return datetime.fromtimestamp(instant, ZoneInfo(tz)).date()


def format_instant(instant: int, tz: str) -> str:
    """ISO 8601 with the local offset, to the second."""
    return datetime.fromtimestamp(instant, ZoneInfo(tz)).isoformat(timespec="seconds")


def parse_instant(text: str, tz: str) -> int:
    """An ISO 8601 date or timestamp; without an offset it is local to `tz`.

    A bare date means the start of that day. ValueError for anything else.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            return start_of_day(date.fromisoformat(text), tz)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or time (2026-06-15 or 2026-06-15T14:30)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return int(moment.timestamp())


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def utc_now_instant(now: datetime) -> int:
    return int(now.astimezone(timezone.utc).timestamp())
