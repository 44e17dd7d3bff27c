"""Member statements: where a member stands, what moved in a period, what they can get now."""

from datetime import date, timedelta


from loyaltyctl.values import Statement
from loyaltyctl.storage.db import Store

from loyaltyctl.core.dates import add_months, cutoff, local_date, start_of_day, supported_day
from loyaltyctl.core.statements import Movement, affordable, statement_lines
from loyaltyctl import clock
from loyaltyctl.errors import BadInput
from loyaltyctl.operations.reports import check_period
from loyaltyctl.model import Member
from loyaltyctl.operations.ledger import expiring_until
from loyaltyctl.operations.definitions import program_versions
from loyaltyctl.operations.member_state import MemberStates
from loyaltyctl.operations.posting import expiring_as_of
from loyaltyctl.storage import ledger as store
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs


def period_of_month(text: str) -> tuple[date, date]:
    """`2026-10` -> (2026-10-01, 2026-10-31)."""
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise BadInput(f"--period {text!r} is not a month (YYYY-MM)") from None
    try:
        supported_day(first)
    except ValueError as error:
        raise BadInput(f"--period {error}") from None
    return first, add_months(first, 1) - timedelta(days=1)


def statement_period(db: Store, program: str, period: str | None, start: date | None, end: date | None
                     ) -> tuple[date, date]:
    """--period YYYY-MM, or --from/--to, or the current month in the program's time zone."""
    if period and (start or end):
        raise BadInput("give either --period or --from/--to, not both")
    if period:
        return period_of_month(period)
    if start or end:
        if not (start and end):
            raise BadInput("--from and --to go together")
        found = check_period(start, end)
        return found.start, found.end
    today = clock.today_in(programs.fetch_program_ref(db, program).timezone)
    return period_of_month(today.strftime("%Y-%m"))


class StatementBuilder:
    """Statements for one program; the versions and tier history reader are shared across members."""

    def __init__(self, db: Store, program: str):
        self.db = db
        self.ref = programs.fetch_program_ref(db, program)
        self.versions = program_versions(db, program)
        self.states = MemberStates(db, self.ref, self.versions)

    def build(self, member_row: int, member: Member, start: date, end: date) -> Statement:
        tz = self.ref.timezone
        begin, finish = start_of_day(start, tz), cutoff(end, tz)
        version = self.versions.on(end)
        opening = store.balance_as_of(self.db, member_row, begin)
        closing = store.balance_as_of(self.db, member_row, finish)
        movements = [Movement(at, kind, points, reason or kind)
                     for at, kind, points, reason in store.fetch_movements(self.db, member_row, begin, finish)]
        movements += [Movement(at, "expire", -points, f"{version.unit} expired (not yet posted)")
                      for at, points in store.fetch_unposted_expiries(self.db, member_row, begin, finish)]
        pending = store.pending_as_of(self.db, member_row, finish)
        expiring = expiring_as_of(self.db, self.ref, self.versions, member_row, finish, expiring_until(end, tz))
        return Statement(
            ref=self.ref,
            version=version,
            member=member,
            start=start,
            end=end,
            opening=opening,
            closing=closing,
            pending=pending,
            lines=statement_lines(opening, movements),
            tier=self.states.tier_status(member_row, finish, version, end),
            expiring=[(local_date(at, tz), points) for at, points in expiring],
            rewards_available=affordable(version.rewards, closing - pending),
            saved=store.saved_as_of(self.db, member_row, finish),
        )


def member_statement(db: Store, program: str, ident: str, start: date, end: date) -> Statement:
    if end < start:
        raise BadInput(f"--to {end} is before --from {start}")
    builder = StatementBuilder(db, program)
    row, member = member_store.find_member(db, builder.ref.id, program, ident)
    return builder.build(row, member, start, end)
