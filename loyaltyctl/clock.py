"""The current time, in one place so that tests and demos can fix it.

`LOYALTYCTL_NOW` (an ISO 8601 timestamp with offset, e.g. 2026-06-30T12:00:00+00:00)
replaces the wall clock for business time ("today", the default `--at`).
"""

import os
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from loyaltyctl.core.dates import parse_instant, utc_now_instant
from loyaltyctl.errors import BadInput


def now() -> datetime:
    fixed = os.environ.get("LOYALTYCTL_NOW")
    if not fixed:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(fixed)
    except ValueError:
        raise BadInput(f"LOYALTYCTL_NOW={fixed!r} is not an ISO 8601 timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def today_in(tz: str) -> date:
    """Today's date in a program's time zone."""
    return now().astimezone(ZoneInfo(tz)).date()


def at_or_now(text: str | None, tz: str) -> int:
    """An `--at` value (ISO date or time, local to `tz` without an offset) as an instant; now when absent.

    A value that is not a date or time is bad usage (exit 2).
    """
    if text is None:
        return utc_now_instant(now())
    try:
        return parse_instant(text, tz)
    except ValueError as error:
        raise BadInput(f"--at {error}") from None
