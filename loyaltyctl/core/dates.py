"""Business time: local dates in a program's time zone, stored as UTC epoch seconds.

An instant is an int of UTC epoch seconds. "As of D" means the end of day D in
the program's time zone, so a query as of D counts what happened before the
*cutoff*: the start of D + 1 day, local time.
"""

import calendar
import re
from collections.abc import Sequence
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


# Zone abbreviations as North American tills write them (`%Z` in a time format), with their UTC offsets.
ZONE_ABBREVIATIONS = {
    "UTC": 0, "GMT": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10,
}
_ABBREVIATION = re.compile(rf"\b({'|'.join(ZONE_ABBREVIATIONS)})\b", re.IGNORECASE)


def parse_instant(text: str, tz: str, patterns: Sequence[str] = ("iso",)) -> int:
    """An ISO 8601 date or timestamp, or one written as a strptime pattern says (several: tried in order,
    the first that reads the text wins). A zone in the text (an ISO or `%z` offset, a `%Z` name from
    ZONE_ABBREVIATIONS) places it; without one it is local to `tz`.

    A bare ISO date means the start of that day. ValueError for anything else.
    """
    text = text.strip()
    for pattern in patterns:
        try:
            moment = _read_moment(text, pattern)
        except ValueError:
            continue
        supported_day(moment.date())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(tz))
        return int(moment.timestamp())
    if tuple(patterns) == ("iso",):
        raise ValueError(f"{text!r} is not an ISO 8601 date or time (2026-06-15 or 2026-06-15T14:30)")
    zones = f" (%Z reads {', '.join(ZONE_ABBREVIATIONS)})" if any("%Z" in p for p in patterns) else ""
    raise ValueError(f"{text!r} does not match {' or '.join(map(repr, patterns))}{zones}")


def _read_moment(text: str, pattern: str) -> datetime:
    if pattern == "iso":
        return datetime.combine(date.fromisoformat(text), time(0)) if len(text) == 10 else datetime.fromisoformat(text)
    if "%Z" in pattern:  # strptime reads only UTC, GMT and the machine's own zone names, and no offset for them
        text, pattern = _abbreviation_as_offset(text), pattern.replace("%Z", "%z")
    return datetime.strptime(text, pattern)


def _abbreviation_as_offset(text: str) -> str:
    """The text with its (last) zone abbreviation written as the offset it stands for, e.g. EDT as -0400."""
    found = list(_ABBREVIATION.finditer(text))
    if not found:
        return text
    last = found[-1]
    hours = ZONE_ABBREVIATIONS[last.group(1).upper()]
    return f"{text[:last.start()]}{'-' if hours < 0 else '+'}{abs(hours):02d}00{text[last.end():]}"


def parse_day(text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return supported_day(day)


def utc_now_instant(now: datetime) -> int:
    return int(now.astimezone(timezone.utc).timestamp())
