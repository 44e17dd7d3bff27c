"""Program health figures (KPIs) from plain counts and sums: the rates and the monthly series."""

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from msgspec import Struct

from loyaltyctl.core.dates import add_months
from loyaltyctl.money import ratio

ACTIVE_DAYS = 90  # a member is active with an entry in this many days up to the end of the period

def rate(part: int, whole: int) -> Decimal | None:
    """part / whole to four decimal places; None when there is no whole to divide by."""
    return ratio(part, whole)


def months_ending(last: date, count: int) -> list[tuple[date, date]]:
    """The `count` calendar months up to and including `last`'s: (first day, last day) each, oldest first."""
    first = last.replace(day=1)
    months = []
    for back in range(count - 1, -1, -1):
        start = add_months(first, -back)
        months.append((start, add_months(start, 1) - timedelta(days=1)))
    return months


class Month(Struct, frozen=True):
    start: date
    issued: int
    redeemed: int


class Kpis(Struct, frozen=True):
    start: date
    end: date
    members: int  # joined on or before `end`
    new_members: int  # joined in the period
    active_members: int  # with a purchase or a redemption in the 90 days to `end`
    issued: int
    redeemed: int
    expired: int
    members_with_points: int
    outstanding: int  # points held by members with a positive balance at `end`
    buyers: int  # members with a purchase in the period
    repeat_buyers: int  # of those, members with two or more
    membership_payments: int
    membership_revenue: int  # minor units
    tiers: tuple[tuple[str, str, int], ...]  # (code, name, members) at `end`; empty without tiers
    months: tuple[Month, ...]

    @property
    def redemption_rate(self) -> Decimal | None:
        """Points redeemed per point issued in the period."""
        return rate(self.redeemed, self.issued)

    @property
    def breakage_rate(self) -> Decimal | None:
        """Of the points that left members in the period, the share that expired unused."""
        return rate(self.expired, self.redeemed + self.expired)

    @property
    def average_balance(self) -> Decimal | None:
        """Points outstanding per member holding points, to two decimal places."""
        return ratio(self.outstanding, self.members_with_points, Decimal("0.01"))

    @property
    def repeat_purchase_rate(self) -> Decimal | None:
        return rate(self.repeat_buyers, self.buyers)

    @property
    def active_rate(self) -> Decimal | None:
        return rate(self.active_members, self.members)


def bar(value: int, largest: int, width: int) -> int:
    """Cells of a bar for `value` when `largest` fills `width` (at least one cell for anything above zero)."""
    if largest <= 0 or value <= 0:
        return 0
    return max(1, round(value * width / largest))


def scale(months: Sequence[Month]) -> int:
    return max([m.issued for m in months] + [m.redeemed for m in months] + [0])
