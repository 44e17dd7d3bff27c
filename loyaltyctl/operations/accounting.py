"""Accounting reports: liability as of a day, the roll-forward of a period and its journal."""

from collections import defaultdict
from datetime import date, timedelta

from msgspec import Struct

from loyaltyctl.storage.db import Store

from loyaltyctl import clock
from loyaltyctl.core import accounting as core
from loyaltyctl.core.dates import add_months, cutoff, local_date, start_of_day
from loyaltyctl.core.versions import VersionTable
from loyaltyctl.core.vouchers import gives_points_back, voucher_days as voucher_days_of, voucher_rollforward
from loyaltyctl.errors import BadInput
from loyaltyctl.model import Accounting
from loyaltyctl.operations.definitions import program_versions
from loyaltyctl.operations.posting import expiries_moved_since, lots_as_of
from loyaltyctl.values import Period
from loyaltyctl.storage import programs
from loyaltyctl.storage import reports as store
from loyaltyctl.storage import vouchers as voucher_store

BREAKAGE_MODES = ("program", "estimated")


def liability_report(db: Store, program: str, as_of: date | None = None, breakage: str = "program"
                     ) -> tuple[programs.ProgramRef, core.Liability]:
    """Points outstanding at the end of a day, valued, with breakage and aging.

    Computed from entries effective up to the end of the day; lots past their
    expiry count as expired whether or not `expire` has posted them.
    """
    if breakage not in BREAKAGE_MODES:
        raise BadInput(f"--breakage must be one of {', '.join(BREAKAGE_MODES)}, got {breakage!r}")
    ref = programs.fetch_program_ref(db, program)
    tz = ref.timezone
    as_of = as_of or clock.today_in(tz)
    versions = program_versions(db, program)
    version = versions.on(as_of)
    before = cutoff(as_of, tz)
    members_with_points, outstanding, owed = store.balance_totals(db, ref.id, before)
    by_age, by_expiry = _aging(db, ref, versions, before, as_of)
    if breakage == "estimated":
        since = cutoff(add_months(as_of, -12), tz)
        sums = store.kind_sums(db, ref.id, since, before, ("redeem", "expire"))
        unposted = store.unposted_expiries(db, ref.id, before, since)[1]
        rate = core.estimated_breakage(-sums.get("redeem", 0), unposted - sums.get("expire", 0),
                                       version.breakage_rate)
    else:
        rate = core.program_breakage(version.breakage_rate)
    lots, points = store.unposted_expiries(db, ref.id, before)
    value, currency = version.point_value, ref.currency
    issued = voucher_store.fetch_vouchers(db, ref.id, issued_before=before)
    vouchers = [v for v in issued if v.outstanding(before - 1)]
    returns_due = sum(v.awaits_return(before - 1) and voucher_store.returnable_points(db, v) > 0 for v in issued)
    return ref, core.Liability(
        as_of, currency, value, members_with_points, outstanding, owed, rate,
        core.aged(core.AGE_BUCKETS, by_age, outstanding, value, currency),
        core.aged(core.EXPIRY_BUCKETS, by_expiry, outstanding, value, currency),
        lots, points, len(vouchers), sum(v.value for v in vouchers), returns_due)


def _aging(db: Store, ref: programs.ProgramRef, versions: VersionTable, before: int, as_of: date
           ) -> tuple[list[int], list[int]]:
    """Points alive at the end of `as_of` by age and by time to expiry, as they stood then: in SQL from the
    lots as stored, except members whose expiries have moved since (replayed up to then)."""
    tz = ref.timezone
    earned_since = [start_of_day(as_of - timedelta(days=days), tz) for days in core.AGE_LIMITS]
    expiring_before = [cutoff(as_of + timedelta(days=days), tz) for days in core.EXPIRY_LIMITS]
    moved = expiries_moved_since(db, versions, ref.id, before)
    by_age, by_expiry = store.lot_aging(db, ref.id, before, earned_since, expiring_before, skip=moved)
    if moved:
        replayed = core.lot_buckets(((lot.remaining, lot.origin, lot.expires_at)
                                     for lot in lots_as_of(db, ref, versions, moved, before)),
                                    earned_since, expiring_before)
        by_age = [a + b for a, b in zip(by_age, replayed[0])]
        by_expiry = [a + b for a, b in zip(by_expiry, replayed[1])]
    return by_age, by_expiry


def _day_totals(db: Store, ref: programs.ProgramRef, start: int, end: int) -> dict[date, core.DayTotals]:
    """The ledger's figures for [start, end) per local day, from quarter-hour sums in SQL."""
    days: dict[int, date] = {}

    def day_of(bucket: int) -> date:
        if bucket not in days:
            days[bucket] = local_date(bucket * store.BUCKET_SECONDS, ref.timezone)
        return days[bucket]

    figures: dict[date, dict] = defaultdict(lambda: {"by_kind": defaultdict(int), "partner_earned": 0,
                                                      "partner_clawed": 0, "donated": [0, 0],
                                                      "reversed_redemptions": 0, "reversed_donations": [0, 0],
                                                      "unposted_expired": 0, "vouchers_issued": [0, 0],
                                                      "vouchers_cancelled": [0, 0], "vouchers_returned": 0})
    for bucket, kind, points in store.kind_totals(db, ref.id, start, end):
        figures[day_of(bucket)]["by_kind"][kind] += points
    for at, kind, points, money, expires_at in store.voucher_money_entries(db, ref.id, start, end):
        day = figures[day_of(at // store.BUCKET_SECONDS)]
        if kind == "reverse" and gives_points_back(at, expires_at):
            day["vouchers_returned"] += points
        else:
            moved = day["vouchers_issued" if kind == "redeem" else "vouchers_cancelled"]
            moved[0] += points
            moved[1] += money
    for bucket, kind, to_charity, points, money in store.money_totals(db, ref.id, start, end):
        day = figures[day_of(bucket)]
        if kind == "redeem" and to_charity:
            day["donated"][0] += points
            day["donated"][1] += money
        elif kind == "reverse" and to_charity:
            day["reversed_donations"][0] += points
            day["reversed_donations"][1] += money
        elif kind == "reverse":
            day["reversed_redemptions"] += points
    for bucket, earned, clawed in store.partner_point_totals(db, ref.id, start, end):
        day = figures[day_of(bucket)]
        day["partner_earned"] += earned
        day["partner_clawed"] += clawed
    for bucket, points in store.unposted_expiry_totals(db, ref.id, start, end):
        figures[day_of(bucket)]["unposted_expired"] -= points
    return {day: core.DayTotals(dict(f["by_kind"]), f["partner_earned"], f["partner_clawed"], tuple(f["donated"]),
                                f["reversed_redemptions"], tuple(f["reversed_donations"]), f["unposted_expired"],
                                tuple(f["vouchers_issued"]), tuple(f["vouchers_cancelled"]), f["vouchers_returned"])
            for day, f in sorted(figures.items())}


def rollforward_report(db: Store, program: str, period: Period) -> tuple[programs.ProgramRef, core.Rollforward]:
    """Opening points, the period's movements by kind and closing points, in points and money."""
    ref = programs.fetch_program_ref(db, program)
    versions = program_versions(db, program)
    start, end = start_of_day(period.start, ref.timezone), cutoff(period.end, ref.timezone)
    opening = store.points_before(db, ref.id, start)
    movements = [movement for day, totals in _day_totals(db, ref, start, end).items()
                 for movement in core.day_movements(day, totals)]
    unposted = store.unposted_expiries(db, ref.id, end, start)[0]
    vouchers = voucher_store.fetch_vouchers(db, ref.id, issued_before=end)
    voucher_days = voucher_days_of(vouchers, start, end, lambda at: local_date(at, ref.timezone))
    return ref, core.rollforward(
        period.start, period.end, ref.currency, opening,
        versions.on(period.start - timedelta(days=1)).point_value, versions.on(period.end).point_value,
        movements, lambda day: versions.on(day).point_value, unposted,
        voucher_rollforward(vouchers, start, end) if vouchers else None, voucher_days)


class Journal(Struct, frozen=True):
    ref: programs.ProgramRef
    rollforward: core.Rollforward
    accounts: Accounting
    unit: str
    entries: list[core.JournalEntry]


def journal_report(db: Store, program: str, period: Period, opening: bool = False) -> Journal:
    """The period's movements as balanced postings, with the accounts of the version in force at its end;
    with `opening`, preceded by the opening balance (a journal that opens a book)."""
    ref, result = rollforward_report(db, program, period)
    version = program_versions(db, program).on(period.end)
    accounts = version.accounting or Accounting()
    return Journal(ref, result, accounts, version.unit, core.journal(result, accounts, opening))
