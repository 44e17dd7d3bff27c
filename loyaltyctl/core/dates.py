"""Business time: local dates in a program's time zone, stored as UTC epoch seconds.

An instant is an int of UTC epoch seconds. "As of D" means the end of day D in
the program's time zone, so a query as of D counts what happened before the
*cutoff*: the start of D + 1 day, local time.
"""

import calendar
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DAY = 86400
# Dates a command accepts: reports look a year either side of a date and a lot may expire up to 100
# years after it, so the ends of Python's date range (years 1 and 9999) stay out of reach.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9000, 12, 31)


def supported_day(day: date) -> date:
    """The day itself, or ValueError when it is outside FIRST_DAY..LAST_DAY."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day} is outside the dates loyaltyctl handles ({FIRST_DAY} to {LAST_DAY})")
    return day


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
    """The local day of an instant. Worked out once per quarter hour (an import asks for it on every
    row): nearly always a quarter hour is all one local day; where a day starts inside one (old local
    mean times, Newfoundland's 00:01 changes of the clocks) the instant is worked out on its own."""
    day = _quarter_hour_day(instant // 900, tz)
    return day if day is not None else datetime.fromtimestamp(instant, ZoneInfo(tz)).date()


@lru_cache(maxsize=1 << 16)
def _quarter_hour_day(quarter_hour: int, tz: str) -> date | None:
    """The local day of a whole quarter hour, or None when it spans two."""
    zone = ZoneInfo(tz)
    first = datetime.fromtimestamp(quarter_hour * 900, zone).date()
    return first if datetime.fromtimestamp(quarter_hour * 900 + 899, zone).date() == first else None


def format_instant(instant: int, tz: str) -> str:
    """ISO 8601 with the local offset, to the second."""
    return datetime.fromtimestamp(instant, ZoneInfo(tz)).isoformat(timespec="seconds")


def parse_instant(text: str, tz: str, pattern: str = "iso") -> int:
    """An ISO 8601 date or timestamp (or one written as the strptime `pattern` says); without an offset
    it is local to `tz`.

    A bare ISO date means the start of that day. ValueError for anything else.
    """
    text = text.strip()
    try:
        if pattern != "iso":
            moment = datetime.strptime(text, pattern)
        elif len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(0))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        if pattern != "iso":
            raise ValueError(f"{text!r} does not match {pattern!r}") from None
        raise ValueError(f"{text!r} is not an ISO 8601 date or time (2026-06-15 or 2026-06-15T14:30)") from None
    supported_day(moment.date())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return int(moment.timestamp())


def parse_day(text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return supported_day(day)


def utc_now_instant(now: datetime) -> int:
    return int(now.astimezone(timezone.utc).timestamp())
