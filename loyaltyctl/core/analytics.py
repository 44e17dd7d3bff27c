"""Program analytics (SPEC.md "Program analytics"): the retention figures an owner acts on, from counts and sums.

`analytics` turns what the storage layer counted (`AnalyticsFacts`) into the
report (`Analytics`): every rate a ratio rounded half up to four decimals,
every average of money rounded half up to the minor unit, and None (null in
JSON, `–` in a table) wherever the ratio would divide by zero.
"""

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from msgspec import Struct
from msgspec.structs import astuple

from loyaltyctl.core.actions import Nps
from loyaltyctl.core.dates import add_months
from loyaltyctl.money import ratio

COHORT_MONTHS = 12  # cohorts: the months of joiners among the 12 ending with `to`'s, each followed for 12 months
ISSUED_KINDS = ("earn", "bonus", "action")
FLOW_KINDS = (*ISSUED_KINDS, "redeem", "expire")  # the entry kinds `points_flow` reads


class Purchases(Struct, frozen=True):
    """One group's purchases as counted in SQL: members with a redeem entry, the other members, or walk-ins
    (which fill only the first three)."""

    purchases: int = 0  # in the range
    purchased: int = 0  # their amount, minor units
    sales: int = 0  # purchases plus refunds (negative) in the range, minor units
    customers: int = 0  # members with a purchase in the range
    repeat_customers: int = 0  # of those, members with two or more
    active: int = 0  # members with a purchase in the active days ending on `to`
    earlier_active: int = 0  # members with a purchase in the active days ending the day before `from`
    churned: int = 0  # of those, members with no purchase in the range
    lifetime_sales: int = 0  # sales from the first transaction through `to`
    lifetime_customers: int = 0  # members with a purchase through `to`

    def __add__(self, other: "Purchases") -> "Purchases":
        return Purchases(*(a + b for a, b in zip(astuple(self), astuple(other))))


class PointsFlow(Struct, frozen=True):
    issued: int = 0  # earn, bonus and action entries
    redeemed: int = 0  # redeem entries, as a positive number
    expired: int = 0  # expiries due, posted or not, net of any given back (positive)

    def __add__(self, other: "PointsFlow") -> "PointsFlow":
        return PointsFlow(*(a + b for a, b in zip(astuple(self), astuple(other))))


def points_flow(by_kind: Mapping[str, int], unposted_expired: int) -> PointsFlow:
    """Points issued, redeemed and expired from entry sums per kind (as posted, signed) and the points of
    expiries due that `expire` has not posted."""
    return PointsFlow(sum(by_kind.get(kind, 0) for kind in ISSUED_KINDS), -by_kind.get("redeem", 0),
                      unposted_expired - by_kind.get("expire", 0))


class MonthFacts(Struct, frozen=True):
    """One calendar month of the range, clipped to it."""

    month: date  # its first day
    points: PointsFlow
    member_sales: int
    non_member_sales: int
    active_members: int  # members with a purchase in it

    @property
    def member_sales_share(self) -> Decimal | None:
        return ratio(self.member_sales, self.member_sales + self.non_member_sales)


class AnalyticsFacts(Struct, frozen=True):
    start: date
    end: date
    active_days: int
    members: int  # joined on or before `end`
    new_members: int  # joined in the range
    redeemers: Purchases
    non_redeemers: Purchases
    non_members: Purchases
    lifetime_points: PointsFlow  # from the first entry through `end`
    vouchers_issued: int  # in the range
    vouchers_used: int  # of those, used by the end of `end`
    months: tuple[MonthFacts, ...]
    joiners: Mapping[date, int]  # cohort month (first day) -> members joined in it, on or before `end`
    cohort_buyers: Mapping[tuple[date, date], int]  # (cohort month, month) -> its joiners with a purchase in it
    nps: Nps | None = None  # with survey actions: over each member's latest score in the range


class Segment(Struct, frozen=True):
    purchases: int
    sales: int
    average_order_value: int | None  # minor units
    customers: int | None = None  # the two member segments only
    purchase_frequency: Decimal | None = None


class Cohort(Struct, frozen=True):
    month: date
    members: int
    retention: tuple[Decimal | None, ...]  # r0 … r11; None for months after `to`'s


class Analytics(Struct, frozen=True):
    start: date
    end: date
    active_days: int
    members: int
    new_members: int
    member_purchases: int
    non_member_purchases: int
    member_sales: int
    non_member_sales: int
    membership_rate: Decimal | None
    member_sales_share: Decimal | None
    purchasing_members: int
    repeat_customer_rate: Decimal | None
    purchase_frequency: Decimal | None
    average_order_value: tuple[int | None, int | None]  # members, non-members (minor units)
    active_members: int
    active_rate: Decimal | None
    churn_rate: Decimal | None
    points_issued: int
    points_redeemed: int
    points_expired: int
    redemption_rate: Decimal | None
    breakage_rate: Decimal | None
    reward_usage_rate: Decimal | None
    average_lifetime_sales: int | None  # minor units
    segments: dict[str, Segment]  # redeemers, non_redeemers, non_members
    cohorts: tuple[Cohort, ...]
    monthly: tuple[MonthFacts, ...]
    nps: Nps | None = None


def money_average(total: int, count: int) -> int | None:
    """An average amount, rounded half up to the minor unit."""
    average = ratio(total, count, Decimal(1))
    return int(average) if average is not None else None


def _segment(p: Purchases, of_members: bool) -> Segment:
    average = money_average(p.purchased, p.purchases)
    if not of_members:
        return Segment(p.purchases, p.sales, average)
    return Segment(p.purchases, p.sales, average, p.customers, ratio(p.purchases, p.customers))


def months_in(start: date, end: date) -> list[tuple[date, date]]:
    """The calendar months overlapping [start, end], each clipped to it: (first day, last day)."""
    months = []
    first = start
    while first <= end:
        following = add_months(first.replace(day=1), 1)
        months.append((first, min(end, following - timedelta(days=1))))
        first = following
    return months


def cohort_months(end: date) -> list[date]:
    """The first days of the COHORT_MONTHS calendar months ending with `end`'s, oldest first."""
    last = end.replace(day=1)
    return [add_months(last, back - COHORT_MONTHS + 1) for back in range(COHORT_MONTHS)]


def cohort(month: date, joiners: int, buyers: Mapping[tuple[date, date], int], end: date) -> Cohort:
    """A join month's retention: r_k, the share of its joiners with a purchase in month + k."""
    last = end.replace(day=1)
    retention = []
    for k in range(COHORT_MONTHS):
        later = add_months(month, k)
        retention.append(ratio(buyers.get((month, later), 0), joiners) if later <= last else None)
    return Cohort(month, joiners, tuple(retention))


def analytics(facts: AnalyticsFacts) -> Analytics:
    members = facts.redeemers + facts.non_redeemers
    walk_ins = facts.non_members
    points = sum((m.points for m in facts.months), PointsFlow())
    lifetime = facts.lifetime_points
    return Analytics(
        facts.start, facts.end, facts.active_days, facts.members, facts.new_members,
        members.purchases, walk_ins.purchases, members.sales, walk_ins.sales,
        ratio(members.purchases, members.purchases + walk_ins.purchases),
        ratio(members.sales, members.sales + walk_ins.sales),
        members.customers, ratio(members.repeat_customers, members.customers),
        ratio(members.purchases, members.customers),
        (money_average(members.purchased, members.purchases), money_average(walk_ins.purchased, walk_ins.purchases)),
        members.active, ratio(members.active, facts.members), ratio(members.churned, members.earlier_active),
        points.issued, points.redeemed, points.expired,
        ratio(lifetime.redeemed, lifetime.issued), ratio(lifetime.expired, lifetime.issued),
        ratio(facts.vouchers_used, facts.vouchers_issued),
        money_average(members.lifetime_sales, members.lifetime_customers),
        {"redeemers": _segment(facts.redeemers, True), "non_redeemers": _segment(facts.non_redeemers, True),
         "non_members": _segment(walk_ins, False)},
        tuple(cohort(month, count, facts.cohort_buyers, facts.end)
              for month, count in sorted(facts.joiners.items()) if count),
        facts.months,
        facts.nps,
    )
