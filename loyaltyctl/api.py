"""The library: `connect(location)` gives a `Ledger`, whose methods are loyaltyctl's commands.

    import loyaltyctl
    with loyaltyctl.connect("loyalty.db") as ledger:        # or a postgresql:// URL
        posted = ledger.earn("cafe", "M001", 120, reason="sale", key="till3-0042")
        posted.entries[0].id, posted.duplicate, posted.balance
        ledger.balance("cafe", "M001").available

The command-line interface is a thin layer over this module and calls
nothing else. The ledger's calls return `loyaltyctl.results` values (the
fields of the command's JSON); the other commands' values are in
`loyaltyctl.values`. Errors are `loyaltyctl.Error` and its subclasses
(`Refused`: exit 1, `BadInput`: exit 2). A Ledger is one connection, for
one thread at a time; threads and processes open their own. On PostgreSQL
a posting that crosses another writer (a serialization failure, a
deadlock, two first uses of one key) is run again inside the call, with the
same idempotency key, so a caller never sees it.
"""

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from loyaltyctl import results
from loyaltyctl.errors import BadInput, Contended
from loyaltyctl.errors import LoyaltyError as Error
from loyaltyctl.storage.connect import open_db, schema_version
from loyaltyctl.storage.db import Store

if TYPE_CHECKING:
    from loyaltyctl import values

T = TypeVar("T")
Progress = Callable[[int, str], Any]  # (total, label) -> a context giving a function to call with each step
ATTEMPTS = 5  # a contended posting is run this many times in all before the refusal reaches the caller

Moment = str | date | datetime | None  # an --at: ISO text (local to the program without an offset), a day, an instant


def connect(location: str | PathLike, *, create: bool = False) -> "Ledger":
    """A Ledger on a database file or a postgresql:// URL; `create` makes a missing one (as `init` does)."""
    return Ledger(open_db(str(location), create=create, after_migrating=_compile_programs))


def _compile_programs(db: Store) -> None:
    from loyaltyctl.operations.definitions import compile_stale_versions

    compile_stale_versions(db)


def _text(moment: Moment) -> str | None:
    """An --at as the commands take it."""
    if moment is None or isinstance(moment, str):
        return moment
    if isinstance(moment, datetime) and moment.tzinfo is None:
        raise BadInput(f"at={moment!r}: give an aware datetime, a date or ISO text")
    return moment.isoformat()


def _day(day: str | date | None, option: str = "as_of") -> date | None:
    if day is None or isinstance(day, date):
        return day
    from loyaltyctl.core.dates import parse_day

    try:
        return parse_day(day)
    except ValueError as error:
        raise BadInput(f"{option} {error}") from None


class Ledger:
    """One connection to a loyaltyctl database, with a method for each command."""

    def __init__(self, store: Store):
        self.store = store

    @property
    def location(self) -> str:
        """Where it is, as messages show it (a URL without its password)."""
        return self.store.location

    def schema_version(self) -> int:
        return schema_version(self.store)

    @property
    def has_written(self) -> bool:
        """Whether this connection has committed a write (or sent the COMMIT of one) since it was opened,
        migrating the database included: what a command stopped part way can say about what it left."""
        return self.store.commits > 0

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- how calls run --------------------------------------------------------

    def _posting(self, call: Callable[[], T]) -> T:
        """A write, run again (bounded) when it crossed another writer: nothing it did was kept."""
        for attempt in range(ATTEMPTS):
            try:
                return call()
            except Contended:
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(0.001 * 2 ** attempt)
        raise AssertionError("not reached")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read one consistent state: a report that runs while tills post reads every figure from the same
        moment. The read methods use one each; nest calls in one to read several from the same state."""
        if self.store.in_snapshot:
            yield
            return
        self.store.begin_snapshot()
        try:
            yield
        finally:
            self.store.rollback()

    def _read(self, call: Callable[[], T]) -> T:
        with self.snapshot():
            return call()

    # -- the ledger -----------------------------------------------------------

    def earn(self, program: str, member: str, points: int, *, reason: str, key: str | None = None,
             at: Moment = None) -> results.Posted:
        """Credit points by hand (through the member's tier multiplier)."""
        from loyaltyctl.operations.ledger import post_earn

        return self._posting(lambda: post_earn(self.store, program, member, points, reason, key, _text(at)))

    def redeem(self, program: str, member: str, *, reward: str | None = None, points: int | None = None,
               amount: str | None = None, order_amount: str | None = None, key: str | None = None,
               at: Moment = None) -> results.Posted:
        """Spend points on a reward, a number of points, or an amount of money; refused when short."""
        from loyaltyctl.operations.ledger import post_redeem

        return self._posting(lambda: post_redeem(self.store, program, member, reward, points, key, _text(at),
                                                 None if amount is None else str(amount),
                                                 None if order_amount is None else str(order_amount)))

    def adjust(self, program: str, member: str, points: int, *, reason: str, key: str | None = None,
               at: Moment = None) -> results.Posted:
        """A signed correction; a negative one beyond the balance leaves points owed."""
        from loyaltyctl.operations.ledger import post_adjust

        return self._posting(lambda: post_adjust(self.store, program, member, points, reason, key, _text(at)))

    def reverse(self, program: str, entry: int, *, reason: str, key: str | None = None,
                at: Moment = None) -> results.Posted:
        """Undo one entry, once, by what it still comes to."""
        from loyaltyctl.operations.ledger import post_reverse

        return self._posting(lambda: post_reverse(self.store, program, entry, reason, key, _text(at)))

    def transfer(self, program: str, source: str, target: str, points: int, *, key: str | None = None,
                 at: Moment = None) -> results.Posted:
        """Move points between members; they keep their expiry dates."""
        from loyaltyctl.operations.ledger import post_transfer

        return self._posting(lambda: post_transfer(self.store, program, source, target, points, key, _text(at)))

    def balance(self, program: str, member: str, as_of: str | date | None = None) -> results.Balance:
        """A member's points at the end of a day (default today), and what expires in the 90 days after."""
        from loyaltyctl.operations.ledger import member_balance

        return self._read(lambda: member_balance(self.store, program, member, _day(as_of)))

    def expire(self, program: str, as_of: str | date | None = None) -> results.Expired:
        """Post every expiry due by the end of a day that is over (default today), each on its own day."""
        from loyaltyctl.operations.ledger import run_expire

        return run_expire(self.store, program, _day(as_of))

    def quote(self, program: str, member: str, amount: str | None = None, *, category: str = "",
              lines: Sequence[str] = (), partner: str = "", at: Moment = None) -> "values.Quote":
        """What a purchase (or a basket of AMOUNT[:CATEGORY] lines) would earn now, and why; writes nothing."""
        from loyaltyctl.operations.quote import quote

        return quote(self.store, program, member, amount, category, partner, _text(at), list(lines))

    # -- programs and members ---------------------------------------------------

    def apply_programs(self, definitions: Sequence[Any]) -> list:
        """Store a new version of each program whose rules changed, in one transaction: TOML files (paths)
        or programs already read (`formats.program_toml.load_program`). A bad file is InvalidProgram."""
        from loyaltyctl.formats.program_toml import load_program
        from loyaltyctl.operations.setup import apply_programs

        return apply_programs(self.store, [load_program(Path(d)) if isinstance(d, (str, PathLike)) else d
                                           for d in definitions])

    def programs(self) -> list[dict]:
        from loyaltyctl.operations.definitions import program_summaries

        return self._read(lambda: program_summaries(self.store))

    def program_versions(self, program: str) -> list:
        from loyaltyctl.operations.definitions import fetch_versions

        return self._read(lambda: fetch_versions(self.store, program))

    def add_member(self, program: str, fields: Mapping[str, str]) -> tuple:
        """A new member (member_id, name, email, birthday, card, joined, referred_by...) and their signup bonus."""
        from loyaltyctl.operations.setup import add_member

        return add_member(self.store, program, fields)

    def update_member(self, program: str, member: str, fields: Mapping[str, str]) -> tuple:
        from loyaltyctl.operations.setup import update_member

        return update_member(self.store, program, member, fields)

    def anonymise_member(self, program: str, member: str) -> tuple:
        from loyaltyctl.operations.setup import anonymise_member

        return anonymise_member(self.store, program, member)

    def import_members(self, program: str, path: str | PathLike, *, reject_file: str | PathLike | None = None,
                       mapping: Mapping[str, str] | None = None, dry_run: bool = False):
        from loyaltyctl.operations.setup import import_members

        return import_members(self.store, program, Path(path), _path(reject_file), mapping, dry_run)

    def members(self, program: str, criteria: Any = None, as_of: str | date | None = None) -> list:
        """Every member's standing (points, latest activity, tier) at the end of a day, filtered."""
        from loyaltyctl.core.members import MemberFilter
        from loyaltyctl.operations.reports import member_standings

        return self._read(lambda: member_standings(self.store, program, criteria or MemberFilter(), _day(as_of)))

    def member(self, program: str, member: str) -> "tuple[values.MemberDetails, results.Balance]":
        """A member's record, tier history and membership, and their balance today."""
        from loyaltyctl.operations.ledger import member_balance
        from loyaltyctl.operations.member_state import member_details

        def read() -> "tuple[values.MemberDetails, results.Balance]":
            details = member_details(self.store, program, member)
            return details, member_balance(self.store, program, details.member.member_id)

        return self._read(read)

    def pay_membership(self, program: str, member: str, *, at: Moment = None, key: str | None = None):
        from loyaltyctl.operations.member_state import pay_membership

        return pay_membership(self.store, program, member, _text(at), key)

    # -- imports and bonuses ----------------------------------------------------

    def import_transactions(self, program: str, path: str | PathLike, *, source: Any = None,
                            reject_file: str | PathLike | None = None, mapping: Mapping[str, str] | None = None,
                            delimiter: str = ",", dry_run: bool = False, strict: bool = False,
                            create_members: bool = False, on_bytes: Callable[[int], None] | None = None):
        """A sales export into the ledger (`source`: a built-in name, a profile file, or a loaded profile)."""
        from loyaltyctl.formats.sources import load_source
        from loyaltyctl.operations.imports import import_transactions

        profile = load_source(str(source or "generic")) if source is None or isinstance(source, (str, PathLike)) \
            else source
        return import_transactions(self.store, program, Path(path), source=profile, reject_file=_path(reject_file),
                                   mapping=mapping, delimiter=delimiter, dry_run=dry_run, strict=strict,
                                   create_members=create_members, on_bytes=on_bytes)

    def birthdays(self, program: str, day: str | date | None = None):
        from loyaltyctl.operations.bonuses import run_birthdays

        return run_birthdays(self.store, program, _day(day, "date"))

    def anniversaries(self, program: str, day: str | date | None = None):
        from loyaltyctl.operations.bonuses import run_anniversaries

        return run_anniversaries(self.store, program, _day(day, "date"))

    def grant_bonuses(self, program: str, path: str | PathLike, *, reject_file: str | PathLike | None = None,
                      mapping: Mapping[str, str] | None = None, dry_run: bool = False, at: Moment = None):
        from loyaltyctl.operations.bonuses import grant_bonuses

        return grant_bonuses(self.store, program, Path(path), reject_file=_path(reject_file), mapping=mapping,
                             dry_run=dry_run, at=_text(at))

    def action(self, program: str, member: str, code: str, *, key: str | None = None, score: int | None = None,
               at: Moment = None) -> results.Posted:
        """Points for one action (a review, a share, a survey answer), within its limit."""
        from loyaltyctl.operations.actions import post_action

        return self._posting(lambda: post_action(self.store, program, member, code, key, score, _text(at)))

    def import_actions(self, program: str, path: str | PathLike, *, reject_file: str | PathLike | None = None,
                       mapping: Mapping[str, str] | None = None, dry_run: bool = False, strict: bool = False):
        """Actions from a CSV (member_id, action, occurred_at, key, score), idempotent like `txn import`."""
        from loyaltyctl.operations.actions import import_actions

        return import_actions(self.store, program, Path(path), reject_file=_path(reject_file), mapping=mapping,
                              dry_run=dry_run, strict=strict)

    # -- vouchers --------------------------------------------------------------

    def use_voucher(self, program: str | None, code: str, *, order: str | None = None, at: Moment = None,
                    order_amount: str | None = None):
        """Take a voucher at the till, once; `program` None: the one the code belongs to (codes are unique)."""
        from loyaltyctl.operations.vouchers import use_voucher

        return use_voucher(self.store, program, code, order, _text(at),
                           None if order_amount is None else str(order_amount))

    def voucher(self, program: str | None, code: str):
        """(program, voucher, the instant it is looked at) for a code; `program` None: whichever holds it."""
        from loyaltyctl.operations.vouchers import find_voucher

        return self._read(lambda: find_voucher(self.store, program, code))

    def vouchers(self, program: str, status: str | None = None, as_of: str | date | None = None
                 ) -> "values.VoucherList":
        from loyaltyctl.operations.vouchers import list_vouchers

        return self._read(lambda: list_vouchers(self.store, program, status, _day(as_of)))

    # -- statements and reports --------------------------------------------------

    def statement_period(self, program: str, period: str | None = None, start: date | None = None,
                         end: date | None = None) -> tuple[date, date]:
        """A month (YYYY-MM), or the days from `start` to `end`, or the current month in the program's zone."""
        from loyaltyctl.operations.statements import statement_period

        return self._read(lambda: statement_period(self.store, program, period, start, end))

    def statement(self, program: str, member: str, start: date, end: date) -> "values.Statement":
        from loyaltyctl.operations.statements import member_statement

        return self._read(lambda: member_statement(self.store, program, member, start, end))

    def write_statements(self, program: str, start: date, end: date, out_dir: str | PathLike, extension: str,
                         render: Callable, *, include_inactive: bool = False,
                         on_member: Callable[[], None] | None = None):
        """Every member's statement for the period, one file each; `render` writes one (None: skip)."""
        from loyaltyctl.operations.statement_batch import write_statements

        return self._read(lambda: write_statements(self.store, program, start, end, Path(out_dir), extension, render,
                                                   include_inactive, on_member))

    def count_members(self, program: str) -> int:
        from loyaltyctl.storage.programs import count_members

        return self._read(lambda: count_members(self.store, program))

    def liability(self, program: str, as_of: str | date | None = None, breakage: str = "program"
                  ) -> results.Liability:
        """Points outstanding at the end of a day (default today), valued, with breakage and aging."""
        from loyaltyctl.formats.accounting import liability_result
        from loyaltyctl.operations.accounting import liability_report

        def read() -> results.Liability:
            ref, report = liability_report(self.store, program, _day(as_of), breakage)
            return liability_result(ref.code, report)

        return self._read(read)

    def rollforward(self, program: str, start: date, end: date):
        """(program, roll-forward) of the days from `start` to `end`: opening + movements = closing."""
        from loyaltyctl.operations.accounting import rollforward_report
        from loyaltyctl.operations.reports import check_period

        return self._read(lambda: rollforward_report(self.store, program, check_period(start, end)))

    def journal(self, program: str, start: date, end: date, *, opening: bool = False):
        from loyaltyctl.operations.reports import check_period
        from loyaltyctl.operations.accounting import journal_report

        return self._read(lambda: journal_report(self.store, program, check_period(start, end), opening=opening))

    def kpis(self, program: str, start: date | None = None, end: date | None = None):
        from loyaltyctl.operations.kpis import kpi_report

        return self._read(lambda: kpi_report(self.store, program, start, end))

    def analytics(self, program: str, start: date, end: date, active_days: int | None = None):
        """(program, analytics) of the days from `start` to `end`: members against walk-ins, segments,
        cohort retention and the monthly series (SPEC.md "Program analytics")."""
        from loyaltyctl.operations.analytics import analytics_report

        return self._read(lambda: analytics_report(self.store, program, start, end, active_days))

    def partners(self, program: str, start: date, end: date):
        """(program, period, one line per partner): what each issued and owes the program."""
        from loyaltyctl.operations.reports import check_period, partner_report

        period = check_period(start, end)
        return self._read(lambda: _with_period(partner_report(self.store, program, period), period))

    def donations(self, program: str, start: date, end: date):
        """(program, period, one line per charity): what was donated and is owed to each."""
        from loyaltyctl.operations.reports import check_period, donation_report

        period = check_period(start, end)
        return self._read(lambda: _with_period(donation_report(self.store, program, period), period))

    def expiring(self, program: str, within: int, as_of: str | date | None = None):
        from loyaltyctl.operations.reports import expiring_report

        return self._read(lambda: expiring_report(self.store, program, within, _day(as_of)))

    def close_period(self, program: str, through: str | date):
        from loyaltyctl.operations.periods import close_period

        return close_period(self.store, program, _day(through, "through"))

    def periods(self, program: str):
        from loyaltyctl.operations.periods import list_periods

        return self._read(lambda: list_periods(self.store, program))

    # -- the database ----------------------------------------------------------

    def verify(self) -> results.Verification:
        """Recompute every hash chain and seal and reconcile every figure kept beside the entries; writes nothing."""
        from loyaltyctl.operations.integrity import verify

        return self._read(lambda: verify(self.store))

    def seal(self, program: str | None = None) -> dict[str, str]:
        """Seal each program (or one): its last seal's digest by program code, to keep elsewhere."""
        from loyaltyctl.operations.integrity import seal_programs

        return seal_programs(self.store, program)

    def backup(self, path: str | PathLike, progress: Progress | None = None) -> None:
        """A consistent SQLite copy of the database in a new file, while others write (`progress(total,
        label)`: a context giving a function to call with each batch of rows copied, on PostgreSQL)."""
        from loyaltyctl.operations.integrity import backup

        backup(self.store, Path(path), progress)

    def email_sender(self, program: str, given: str | None, on: date) -> str:
        """The From address of emailed statements (--sender, else the program's email), checked."""
        from loyaltyctl.operations.statement_batch import email_sender

        return self._read(lambda: email_sender(self.store, program, given, on))


def copy(source: str | PathLike, target: str | PathLike, progress: Progress | None = None) -> results.Copied:
    """A whole database into a new one (a file, or an empty PostgreSQL database), verified before it is kept."""
    from loyaltyctl.operations.integrity import copy_database

    return copy_database(str(source), str(target), progress)


def driver_refusal(error: BaseException) -> "Error | None":
    """A database driver's error that escaped a call (busy, read-only, disk full, no server) as one line;
    None for any other error."""
    from loyaltyctl.storage.connect import storage_refusal

    return storage_refusal(error)


def _with_period(found: tuple, period: Any) -> tuple:
    return found[0], period, found[1]


def _path(value: str | PathLike | None) -> Path | None:
    return None if value is None else Path(value)
