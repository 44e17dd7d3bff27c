"""`report analytics`: what the storage layer counts for a range, through `core.analytics`."""

from collections import defaultdict
from datetime import date, timedelta

from loyaltyctl.core import analytics as core
from loyaltyctl.core.actions import nps
from loyaltyctl.core.kpis import ACTIVE_DAYS
from loyaltyctl.core.dates import cutoff, local_date, start_of_day
from loyaltyctl.errors import BadInput
from loyaltyctl.operations.reports import check_period
from loyaltyctl.operations.definitions import program_versions
from loyaltyctl.storage import actions as action_store
from loyaltyctl.storage import analytics as store
from loyaltyctl.storage import programs
from loyaltyctl.storage import reports as report_store
from loyaltyctl.storage.db import Store

EVER = -(2**62)  # an instant before any entry


def analytics_report(db: Store, program: str, start: date, end: date, active_days: int | None = None
                     ) -> tuple[programs.ProgramRef, core.Analytics]:
    """The range's retention figures, segments, cohorts and months (SPEC.md "Program analytics"); a member
    is active with a purchase in the `active_days` (default 90) ending on `end`."""
    period = check_period(start, end)
    active_days = ACTIVE_DAYS if active_days is None else active_days
    if active_days < 1:
        raise BadInput(f"--active-days must be 1 or more, got {active_days}")
    ref = programs.fetch_program_ref(db, program)
    tz = ref.timezone
    opens, closes = start_of_day(period.start, tz), cutoff(period.end, tz)
    joined_by = period.end.isoformat()
    members, new_members = report_store.member_counts(db, ref.id, period.start.isoformat(), joined_by)
    later = store.members_joined_after(db, ref.id, joined_by)
    segments = store.member_purchases(db, ref.id, later, opens, closes,
                                      start_of_day(period.end - timedelta(days=active_days - 1), tz),
                                      start_of_day(period.start - timedelta(days=active_days), tz))
    vouchers_issued, vouchers_used = store.voucher_usage(db, ref.id, opens, closes)
    joiners, buyers = _cohorts(db, ref, period.end, closes)
    months, walk_ins = _months(db, ref, period.start, period.end, closes, later)
    surveys = any(action.kind == "survey" for action in program_versions(db, program).on(period.end).actions)
    return ref, core.analytics(core.AnalyticsFacts(
        period.start, period.end, active_days, members, new_members,
        core.Purchases(*segments.get(True, ())), core.Purchases(*segments.get(False, ())),
        walk_ins,
        _lifetime_points(db, ref, opens, months), vouchers_issued, vouchers_used, months, joiners, buyers,
        nps(action_store.latest_scores(db, ref.id, opens, closes)) if surveys else None))


def _months(db: Store, ref: programs.ProgramRef, first: date, last: date, closes: int, later: list[int]
            ) -> tuple[tuple[core.MonthFacts, ...], core.Purchases]:
    """The range's months, and the non-members' purchases in them."""
    tz = ref.timezone
    months = core.months_in(first, last)
    starts = [start_of_day(month_start, tz) for month_start, _ in months]
    ends = [*starts[1:], closes]
    unposted: dict[int, int] = defaultdict(int)
    for bucket, points in report_store.unposted_expiry_totals(db, ref.id, starts[0], closes):
        day = local_date(bucket * report_store.BUCKET_SECONDS, tz)
        unposted[next(i for i in range(len(months) - 1, -1, -1) if months[i][0] <= day)] += points
    sales = store.monthly_sales(db, ref.id, later, starts, closes)
    facts = tuple(core.MonthFacts(month_start, core.points_flow(
                      report_store.kind_sums(db, ref.id, starts[i], ends[i], core.FLOW_KINDS), unposted[i]),
                      sales[i][0], sales[i][4], sales[i][1])
                  for i, (month_start, _) in enumerate(months))
    return facts, core.Purchases(*(sum(month[n] for month in sales.values()) for n in (2, 3, 4)))


def _lifetime_points(db: Store, ref: programs.ProgramRef, opens: int, months: tuple[core.MonthFacts, ...]
                     ) -> core.PointsFlow:
    """Points issued, redeemed and expired from the first entry through the range's end: those before the
    range, and the range's months."""
    before = core.points_flow(report_store.kind_sums(db, ref.id, EVER, opens, core.FLOW_KINDS),
                              report_store.unposted_expiries(db, ref.id, opens)[1])
    return sum((m.points for m in months), before)


def _cohorts(db: Store, ref: programs.ProgramRef, last: date, closes: int
             ) -> tuple[dict[date, int], dict[tuple[date, date], int]]:
    """Joiners per cohort month, and per (cohort month, month) those with a purchase in it."""
    months = core.cohort_months(last)
    joined_from, joined_by = months[0].isoformat(), last.isoformat()
    joiners = {date.fromisoformat(f"{month}-01"): count
               for month, count in store.joiners_by_month(db, ref.id, joined_from, joined_by).items()}
    starts = [start_of_day(month, ref.timezone) for month in months]
    buyers = {(date.fromisoformat(f"{month}-01"), months[index]): count
              for month, index, count in store.cohort_purchases(db, ref.id, joined_from, joined_by, starts, closes)}
    return joiners, buyers
