"""Reports on partners (what each owes for the points its customers earned) and donations."""

from datetime import date


from loyaltyctl.values import Period, PartnerLine, DonationLine, ExpiringLine
from loyaltyctl.storage.db import Store

from loyaltyctl import clock
from loyaltyctl.core.dates import cutoff, local_date, start_of_day
from loyaltyctl.core.statements import affordable, available_points
from loyaltyctl.core.versions import VersionTable
from loyaltyctl.errors import BadInput
from loyaltyctl.money import points_value
from loyaltyctl.operations.ledger import expiring_until
from loyaltyctl.core.members import MemberFilter, Standing, selected
from loyaltyctl.core.posting import ACTIVITY_KINDS
from loyaltyctl.operations.definitions import program_versions
from loyaltyctl.operations.member_state import MemberStates
from loyaltyctl.operations.posting import expiries_moved_since, lots_as_of
from loyaltyctl.storage import ledger as ledger_store
from loyaltyctl.storage import actions as action_store
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage import reports as store


def check_period(start: date, end: date) -> Period:
    if end < start:
        raise BadInput(f"--to {end} is before --from {start}")
    return Period(start, end)


def partner_report(db: Store, program: str, period: Period) -> tuple[programs.ProgramRef, list[PartnerLine]]:
    """Per partner: purchases, refunds, spend, points issued and clawed back, and what they are worth.

    Points are valued at the `point_value` of the program version in force on
    the day they were earned, so a later change of value does not reprice a
    bill already sent.
    """
    ref = programs.fetch_program_ref(db, program)
    versions = program_versions(db, program)
    days = sorted({effective for effective, _, _ in versions.versions})
    segments = [versions.on(day) for day in days]
    rows = store.partner_totals(db, ref.id, start_of_day(period.start, ref.timezone), cutoff(period.end, ref.timezone),
                                [start_of_day(day, ref.timezone) for day in days])
    names = {p.code: p.name for version in versions.all() for p in version.partners}
    totals: dict[str, list[int]] = {}
    for partner, segment, purchases, refunds, spend, issued, clawed in rows:
        line = totals.setdefault(partner, [0] * 6)
        value = points_value(issued - clawed, segments[segment].point_value, ref.currency)
        for i, amount in enumerate((purchases, refunds, spend, issued, clawed, value)):
            line[i] += amount
    return ref, [PartnerLine(code, names.get(code, code), *figures) for code, figures in totals.items()]


def donation_report(db: Store, program: str, period: Period) -> tuple[programs.ProgramRef, list[DonationLine]]:
    """Per charity: rewards donated in the period, their points and the money owed to the charity."""
    ref = programs.fetch_program_ref(db, program)
    rows = store.donation_totals(db, ref.id, start_of_day(period.start, ref.timezone), cutoff(period.end, ref.timezone))
    return ref, [DonationLine(*row) for row in rows]


def _expiring_as_they_stood(db: Store, ref: programs.ProgramRef, versions: VersionTable, members: list[int],
                            before: int, until: int) -> list[tuple[int, int, int]]:
    """(member, points, first expiry) of the members' points alive at `before` expiring before `until`,
    replayed (their expiries have moved since)."""
    found: dict[int, tuple[int, int]] = {}
    for lot in lots_as_of(db, ref, versions, members, before):
        if lot.expired_at(until - 1):
            points, first = found.get(lot.member, (0, lot.expires_at))
            found[lot.member] = (points + lot.remaining, min(first, lot.expires_at))
    return [(member, points, first) for member, (points, first) in found.items()]


MAX_WITHIN_DAYS = 36_500  # a hundred years: beyond it no point expires, and dates would overflow


def _within_days(option: str, within: int) -> int:
    if within <= 0:
        raise BadInput(f"{option} must be a positive number of days, got {within}")
    if within > MAX_WITHIN_DAYS:
        raise BadInput(f"{option} {within} is more than {MAX_WITHIN_DAYS:,} days")
    return within


def expiring_points(db: Store, ref: programs.ProgramRef, versions: VersionTable, as_of: date, within: int
                    ) -> list[tuple[int, int, int]]:
    """(member row, points, first expiry instant) of the points alive at the end of `as_of` that expire in
    the `within` days after, soonest first; members whose expiries moved since are replayed."""
    before = cutoff(as_of, ref.timezone)
    until = expiring_until(as_of, ref.timezone, within)
    moved = expiries_moved_since(db, versions, ref.id, before)
    expiring = ledger_store.expiring_by_member(db, ref.id, before, until, skip=moved)
    if moved:
        expiring = sorted(expiring + _expiring_as_they_stood(db, ref, versions, moved, before, until),
                          key=lambda line: (line[2], line[0]))
    return expiring


def expiring_report(db: Store, program: str, within: int, as_of: date | None = None
                    ) -> tuple[programs.ProgramRef, date, list[ExpiringLine]]:
    """Members with points expiring in the `within` days after the end of `as_of` (default today)."""
    _within_days("--within", within)
    ref = programs.fetch_program_ref(db, program)
    as_of = as_of or clock.today_in(ref.timezone)
    before = cutoff(as_of, ref.timezone)
    versions = program_versions(db, program)
    version = versions.on(as_of)
    members = dict(member_store.fetch_member_rows(db, ref.id, program))
    lines = []
    for row, points, first in expiring_points(db, ref, versions, as_of, within):
        available = available_points(ledger_store.balance_as_of(db, row, before), ledger_store.pending_as_of(db, row, before))
        lines.append(ExpiringLine(members[row], points, local_date(first, ref.timezone), available,
                                  affordable(version.rewards, available)))
    return ref, as_of, lines


def member_standings(db: Store, program: str, criteria: MemberFilter, as_of: date | None = None) -> list[Standing]:
    """The members the criteria pick, with their balance, latest activity and tier at the end of a day
    (default today), in member id order: two scans of the ledger, not a query per member (three with
    `expiring_within`). A tier the program does not have, or a points range that holds nothing, is bad usage."""
    ref = programs.fetch_program_ref(db, program)
    as_of = as_of or clock.today_in(ref.timezone)
    versions = program_versions(db, program)
    version = versions.on(as_of)
    levels = [level.code for level in version.tiers.levels] if version.tiers else []
    if criteria.tier is not None and criteria.tier not in levels:
        raise BadInput(f"--tier {criteria.tier!r}: {program} has " + (f"the tiers {', '.join(levels)}" if levels
                                                                       else "no tiers"))
    if None not in (criteria.min_points, criteria.max_points) and criteria.min_points > criteria.max_points:
        raise BadInput(f"--min-points {criteria.min_points} is above --max-points {criteria.max_points}")
    before = cutoff(as_of, ref.timezone)
    expiring = None
    if criteria.expiring_within is not None:
        expiring = {row: points for row, points, _ in
                    expiring_points(db, ref, versions, as_of, _within_days("--expiring-within", criteria.expiring_within))}
    scores = action_store.latest_score_by_member(db, ref.id, before) if criteria.detractors else None
    rows = member_store.fetch_member_rows(db, ref.id, program)
    balances = store.member_balances(db, ref.id, before)
    latest = store.last_activity(db, ref.id, before, ACTIVITY_KINDS)
    states = MemberStates(db, ref, versions)
    if version.tiers:
        states.load([row for row, _ in rows])

    def tier(row: int) -> str | None:
        status = states.tier_status(row, before, version, as_of) if version.tiers else None
        return status.level.code if status else None

    return selected((Standing(member, balances.get(row, 0),
                              local_date(latest[row], ref.timezone) if row in latest else None, tier(row),
                              None if expiring is None else expiring.get(row, 0),
                              None if scores is None else scores.get(row))
                     for row, member in rows), criteria)
