"""`report kpis`: members, activity, points flows, rates, tiers and fees for a period."""

from collections import Counter
from datetime import date, timedelta

from loyaltyctl.core.kpis import ACTIVE_DAYS
from loyaltyctl.storage.db import Store

from loyaltyctl import clock
from loyaltyctl.core.dates import DAY, add_months, cutoff, start_of_day
from loyaltyctl.core.kpis import Kpis, Month, months_ending
from loyaltyctl.operations.definitions import program_versions
from loyaltyctl.operations.member_state import MemberStates
from loyaltyctl.operations.reports import check_period
from loyaltyctl.values import Period
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage import reports as store

CHART_MONTHS = 12
KPI_KINDS = ("earn", "bonus", "action", "redeem", "expire")


def kpi_period(first: date | None, last: date | None, today: date) -> Period:
    """The days asked for; by default the twelve months ending on `last`, or today."""
    last = last or today
    return check_period(first or add_months(last, -12) + timedelta(days=1), last)


def _issued_redeemed(sums: dict[str, int]) -> tuple[int, int]:
    return sums.get("earn", 0) + sums.get("bonus", 0) + sums.get("action", 0), -sums.get("redeem", 0)


def kpi_report(db: Store, program: str, first: date | None = None, last: date | None = None
               ) -> tuple[programs.ProgramRef, Kpis]:
    ref = programs.fetch_program_ref(db, program)
    tz = ref.timezone
    period = kpi_period(first, last, clock.today_in(tz))
    start, end = start_of_day(period.start, tz), cutoff(period.end, tz)
    members, new_members = store.member_counts(db, ref.id, period.start.isoformat(), period.end.isoformat())
    sums = store.kind_sums(db, ref.id, start, end, KPI_KINDS)
    issued, redeemed = _issued_redeemed(sums)
    expired = store.unposted_expiries(db, ref.id, end, start)[1] - sums.get("expire", 0)
    with_points, outstanding, _ = store.balance_totals(db, ref.id, end)
    buyers, repeat = store.purchase_counts(db, ref.id, start, end)
    payments, revenue = store.membership_fees(db, ref.id, start, end)
    months = []
    for first, last in months_ending(period.end, CHART_MONTHS):
        month_issued, month_redeemed = _issued_redeemed(
            store.kind_sums(db, ref.id, start_of_day(first, tz), cutoff(last, tz), KPI_KINDS))
        months.append(Month(first, month_issued, month_redeemed))
    return ref, Kpis(period.start, period.end, members, new_members,
                     store.active_members(db, ref.id, end - ACTIVE_DAYS * DAY, end), issued, redeemed, expired,
                     with_points, outstanding, buyers, repeat, payments, revenue, _tier_counts(db, ref, period.end),
                     tuple(months))


def _tier_counts(db: Store, ref: programs.ProgramRef, day: date) -> tuple[tuple[str, str, int], ...]:
    """Members per tier at the end of `day` under the version in force then (empty without tiers)."""
    versions = program_versions(db, ref.code)
    version = versions.on(day)
    if version.tiers is None:
        return ()
    states = MemberStates(db, ref, versions)
    rows = [row for row, _ in member_store.fetch_member_rows(db, ref.id, ref.code)]
    states.load(rows)
    before = cutoff(day, ref.timezone)
    counts = Counter(states.tier_status(row, before, version, day).level.code for row in rows)
    return tuple((level.code, level.name, counts.get(level.code, 0)) for level in version.tiers.levels)
