"""Tier status as a function of time: which level a member holds at an instant.

Status at T counts qualifying activity strictly before T (spend net of
refunds, or points earned from purchases net of clawbacks):

- `calendar-year`: a level reached during year Y holds through the end of
  Y+1, so status is the higher of the level earned by last year's total and
  the level earned by this year's total so far;
- `rolling-12-months`: the level earned by activity in the 12 months before
  T; activity on day d counts through d + 12 months - 1 day, like a lot.

Pure: activity is a list of (instant, amount) kept with prefix sums, and the
history of changes is derived, never stored, so a backdated import or a new
program version can never leave a stale record behind.
"""

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from datetime import date, timedelta

from msgspec import Struct

from loyaltyctl.core.dates import add_months, local_date, start_of_day
from loyaltyctl.model import TierLevel, Tiers
from loyaltyctl.money import MINOR_DIGITS


class Activity:
    """One member's qualifying activity: (instant, amount) events, summed over ranges fast.

    Kept in two typed arrays, the instants and the running totals (8 bytes a
    number, not a Python int's 36; an amount is the difference of two totals),
    in a slotted object, since an import holds the activity of every member it touches.
    """

    __slots__ = ("times", "prefix")

    def __init__(self, events: Iterable[tuple[int, int]] = ()):
        self.times = array("q")
        self.prefix = array("q", [0])
        for at, amount in sorted(events):
            self.times.append(at)
            self.prefix.append(self.prefix[-1] + amount)

    def add(self, at: int, amount: int) -> None:
        """Record an event; appending in time order (the usual import) costs O(1)."""
        if not self.times or at >= self.times[-1]:
            self.times.append(at)
            self.prefix.append(self.prefix[-1] + amount)
            return
        index = bisect_right(self.times, at)
        self.times.insert(index, at)
        self.prefix.insert(index + 1, self.prefix[index] + amount)
        for later in range(index + 2, len(self.prefix)):
            self.prefix[later] += amount

    def total(self, start: int | None, end: int) -> int:
        """Sum of amounts at instants in [start, end); start None = from the beginning."""
        low = 0 if start is None else bisect_left(self.times, start)
        high = bisect_left(self.times, end)
        return self.prefix[high] - self.prefix[low] if high > low else 0


class TierStatus(Struct, frozen=True):
    level: TierLevel
    next_level: TierLevel | None
    progress: int  # qualifying amount in the current window (minor units or points)
    remaining: int | None  # how much more activity reaches next_level; None at the top
    held_until: date | None = None  # calendar-year: the last day a level kept from last year holds


class TierRules:
    """One program version's tiers with thresholds in the units activity is counted in."""

    def __init__(self, tiers: Tiers, currency: str):
        self.tiers = tiers
        scale = 10 ** MINOR_DIGITS[currency] if tiers.basis == "spend" else 1
        self.levels = sorted(tiers.levels, key=lambda level: level.threshold)
        self.thresholds = [int(level.threshold * scale) for level in self.levels]

    def level_for(self, amount: int) -> int:
        """Index of the highest level whose threshold the amount reaches (a threshold met exactly counts)."""
        return max(bisect_right(self.thresholds, amount) - 1, 0)

    def status(self, activity: Activity, at: int, tz: str, day: date | None = None) -> TierStatus:
        """Status at `at`; `day` (default: at's local day) names the window, so that the end of a
        day (at = the next day's first instant) still counts as that day."""
        day = day or local_date(at, tz)
        held_until = None
        if self.tiers.window == "calendar-year":
            this_year = start_of_day(date(day.year, 1, 1), tz)
            progress = activity.total(this_year, at)
            earned = self.level_for(progress)
            kept = self.level_for(activity.total(start_of_day(date(day.year - 1, 1, 1), tz), this_year))
            if kept > earned:
                held_until = date(day.year, 12, 31)
            index = max(earned, kept)
        else:
            progress = activity.total(start_of_day(window_start(day), tz), at)
            index = self.level_for(progress)
        following = index + 1 if index + 1 < len(self.levels) else None
        return TierStatus(
            level=self.levels[index],
            next_level=self.levels[following] if following is not None else None,
            progress=progress,
            remaining=self.thresholds[following] - progress if following is not None else None,
            held_until=held_until,
        )


def window_start(day: date) -> date:
    """First day of the rolling 12 months that end with `day`."""
    return add_months(day, -12) + timedelta(days=1)


class TierChange(Struct, frozen=True):
    on: date
    from_level: str
    to_level: str


def tier_history(rules_on: Callable[[date], TierRules | None], activity: Activity, tz: str,
                 until: int) -> list[TierChange]:
    """Every change of level up to an instant, each dated the local day it took effect.

    Levels can only change just after an event (an upgrade, or a refund's
    downgrade), at a new calendar year, or when an event leaves the rolling
    window, so those are the only instants looked at. `rules_on(day)` gives
    the tiers of the program version in force that day.
    """
    candidates: dict[int, date] = {}
    for at in activity.times:
        day = local_date(at, tz)
        candidates[at + 1] = day
        for later in (date(day.year + 1, 1, 1), date(day.year + 2, 1, 1),
                      add_months(day, 12), add_months(day, 12) + timedelta(days=1)):
            candidates.setdefault(start_of_day(later, tz), later)
    changes: list[TierChange] = []
    current: str | None = None
    for instant in sorted(c for c in candidates if c <= until):
        rules = rules_on(candidates[instant])
        if rules is None:
            continue
        current = current or rules.levels[0].code
        level = rules.status(activity, instant, tz).level.code
        if level != current:
            changes.append(TierChange(candidates[instant], current, level))
            current = level
    return changes
