"""Posting bonuses: signup (on joining), birthday and anniversary (daily cron runs), referral and
first purchase (on a qualifying purchase, from the import) and campaign grants (a CSV, idempotent by key).

Bonuses are fixed amounts: no multiplier applies, and they do not count toward
a tier. Their lots expire like any other under the program's expiry policy.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

from msgspec import Struct

from loyaltyctl.values import DayBonusRun
from loyaltyctl.operations.definitions import version_in_force
from loyaltyctl.storage.db import Store

from loyaltyctl import clock
from loyaltyctl.core.bonuses import (
    anniversary_key,
    birthday_key,
    birthdays_on,
    first_purchase_key,
    grant_key,
    referral_keys,
    signup_key,
)
from loyaltyctl.core.dates import start_of_day
from loyaltyctl.core.versions import VersionTable
from loyaltyctl.formats.csv_input import RejectWriter, read_csv
from loyaltyctl.operations.csv_run import CsvSummary, run_csv
from loyaltyctl.model import Member, Program
from loyaltyctl.money import check_points, parse_whole
from loyaltyctl.operations.definitions import program_versions
from loyaltyctl.storage import ledger as ledger_store
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage import transactions as txn_store
from loyaltyctl.storage.db import write
from loyaltyctl.operations.posting import Poster, posting
from loyaltyctl.storage.ledger import NewEntry

GRANT_FIELDS = ("member_id", "points", "reason", "key")
GRANT_REQUIRED = ("member_id", "points", "key")
GRANT_CHUNK_ROWS = 500


def credit_bonus(poster: Poster, member: int, points: int, at: int, key: str, reason: str) -> int:
    """One bonus entry and its lot (expiring as the version in force then says)."""
    return poster.credit(NewEntry(member, "bonus", points, at, key=key, reason=reason))


def post_signup_bonuses(poster: Poster, versions: VersionTable, joined: Iterable[tuple[int, Member]]) -> int:
    """The signup bonus of the version in force on each new member's join day, effective that day.

    A member added after the period they joined in was closed gets it on the
    first day after the close instead: the closed books stay as they were.
    """
    total = 0
    for row, member in joined:
        program = versions.on(member.joined)
        points = program.bonuses.signup if program.bonuses else 0
        if points:
            at, reason = start_of_day(member.joined, program.timezone), "signup bonus"
            if poster.closed and poster.closed.covers(at):
                at, reason = poster.closed.before, f"signup bonus (joined {member.joined}, in a closed period)"
            credit_bonus(poster, row, points, at, signup_key(member.member_id), reason)
            total += points
    return total


def welcome_members(db: Store, ref: programs.ProgramRef, added: Iterable[Member]) -> int:
    """Signup bonuses for members just saved (inside the caller's write transaction)."""
    added = list(added)
    if not added:
        return 0
    index = member_store.fetch_member_index(db, ref.id)
    versions = program_versions(db, ref.code)
    with posting(db, ref, versions) as poster:
        return post_signup_bonuses(poster, versions, [(index.by_id[m.member_id], m) for m in added])


class Referrals:
    """Referred members whose bonuses are unpaid; paid on their first purchase reaching referral_min_spend."""

    def __init__(self, db: Store, program_id: int):
        referred = member_store.fetch_referred_members(db, program_id)
        keys = [key for _, _, member_id, _ in referred for key in referral_keys(member_id)]
        paid = ledger_store.fetch_key_owners(db, program_id, keys)
        self.unpaid = {row: (referrer, member_id, referrer_id) for row, referrer, member_id, referrer_id in referred
                       if not paid.keys() & set(referral_keys(member_id))}

    def on_purchase(self, poster: Poster, program: Program, member: int, amount: int, at: int) -> int:
        """Pay both bonuses if this purchase qualifies; the points posted (0 if it does not)."""
        bonuses = program.bonuses
        if member not in self.unpaid or bonuses is None or amount < bonuses.referral_min_spend:
            return 0
        if not (bonuses.referral_referee or bonuses.referral_referrer):
            return 0
        referrer, member_id, referrer_id = self.unpaid.pop(member)
        referee_key, referrer_key = referral_keys(member_id)
        if bonuses.referral_referee:
            credit_bonus(poster, member, bonuses.referral_referee, at, referee_key,
                         f"referral bonus: joined through {referrer_id}")
        if bonuses.referral_referrer:
            credit_bonus(poster, referrer, bonuses.referral_referrer, at, referrer_key,
                         f"referral bonus: referred {member_id}")
        return bonuses.referral_referee + bonuses.referral_referrer


class _DayBonus(Struct, frozen=True):
    """A bonus paid once a year on a member's day: which bonus, which day of the member, its key."""

    bonus: str  # the [bonuses] key
    column: str  # the member's day: birthday or joined
    key: Callable[[int, str], str]
    since: int  # days a member must have joined before the day (an anniversary is not the join day)


BIRTHDAY = _DayBonus("birthday", "birthday", birthday_key, 0)
ANNIVERSARY = _DayBonus("anniversary", "joined", anniversary_key, 1)


def run_birthdays(db: Store, program: str, day: date | None = None) -> DayBonusRun:
    """The birthday bonus for members whose birthday is `day` (default today), once per member per year."""
    return _run_day_bonus(db, program, day, BIRTHDAY)


def run_anniversaries(db: Store, program: str, day: date | None = None) -> DayBonusRun:
    """The anniversary bonus for members who joined on `day`'s month and day in an earlier year, once a year."""
    return _run_day_bonus(db, program, day, ANNIVERSARY)


def _run_day_bonus(db: Store, program: str, day: date | None, kind: _DayBonus) -> DayBonusRun:
    ref = programs.fetch_program_ref(db, program)
    day = day or clock.today_in(ref.timezone)
    with write(db, program):
        version = version_in_force(db, program, day)
        bonus = getattr(version.bonuses, kind.bonus) if version.bonuses else 0
        celebrating = member_store.fetch_members_by_day(db, ref.id, kind.column, birthdays_on(day),
                                                        day - timedelta(days=kind.since)) if bonus else []
        keys = {row: kind.key(day.year, member_id) for row, member_id in celebrating}
        paid = ledger_store.fetch_key_owners(db, ref.id, list(keys.values()))
        due = [(row, key) for row, key in keys.items() if key not in paid]
        at = start_of_day(day, ref.timezone)
        with posting(db, ref) as poster:
            for row, key in due:
                credit_bonus(poster, row, bonus, at, key, f"{kind.bonus} bonus {day.year}")
    return DayBonusRun(program, day, len(due), len(due) * bonus, len(celebrating) - len(due), bonus)


class FirstPurchases:
    """The first-purchase bonus, paid once on a member's first purchase that earns points: an import asks
    the ledger about each member once (has the bonus been paid, had they earned from a purchase before)."""

    def __init__(self, db: Store, program_id: int):
        self.db, self.program_id = db, program_id
        self.settled: set[int] = set()  # members this import has paid, or found paid or past their first

    def on_earning(self, poster: Poster, program: Program, member: int, at: int) -> int:
        """Pay the bonus if this earning purchase is the member's first; the points posted (0 if not)."""
        points = program.bonuses.first_purchase if program.bonuses else 0
        if not points or member in self.settled:
            return 0
        self.settled.add(member)
        key = first_purchase_key(member)
        if ledger_store.fetch_key_owners(self.db, self.program_id, [key]) or txn_store.has_earned(self.db, member):
            return 0
        credit_bonus(poster, member, points, at, key, "first purchase bonus")
        return points


class GrantSummary(CsvSummary):
    granted: int = 0
    duplicates: int = 0
    points_granted: int = 0


def _grant_points(text: str) -> int:
    return check_points(parse_whole(text, "points"))


def grant_bonuses(db: Store, program: str, path: Path, *, reject_file: Path | None = None,
                  mapping: Mapping[str, str] | None = None, dry_run: bool = False,
                  at: str | None = None) -> GrantSummary:
    """Campaign bonuses from a CSV (member_id, points, reason, key); a key already granted is a duplicate."""
    ref = programs.fetch_program_ref(db, program)
    when = clock.at_or_now(at, ref.timezone)
    header, rows = read_csv(path, GRANT_FIELDS, GRANT_REQUIRED, mapping)
    summary = GrantSummary(dry_run=dry_run)

    def work(rejects: RejectWriter) -> None:
        with posting(db, ref) as poster:
            index = member_store.fetch_member_index(db, ref.id)
            seen: dict[str, int] = {}  # key -> member, for keys earlier in the file
            while chunk := list(islice(rows, GRANT_CHUNK_ROWS)):
                used = ledger_store.fetch_key_owners(db, ref.id, [grant_key(r.fields["key"]) for r in chunk])
                for row in chunk:
                    summary.rows += 1
                    fields = row.fields
                    member = index.find(fields["member_id"])
                    key = grant_key(fields["key"])
                    try:
                        if row.problem:
                            raise ValueError(row.problem)
                        points = _grant_points(fields["points"])
                        if not fields["key"]:
                            raise ValueError("key is empty (it makes re-running the file safe)")
                        if member is None:
                            raise ValueError(f"unknown member {fields['member_id']!r}")
                    except ValueError as error:
                        rejects.add(row.line, str(error), row.raw)
                        continue
                    owner = used.get(key, seen.get(key))
                    if owner is not None and owner != member:
                        rejects.add(row.line, f"key {fields['key']!r} was already granted to another member", row.raw)
                        continue
                    if owner is not None:
                        summary.duplicates += 1
                        continue
                    seen[key] = member
                    credit_bonus(poster, member, points, when, key, fields.get("reason") or "campaign bonus")
                    summary.granted += 1
                    summary.points_granted += points

    run_csv(db, program, path, header, summary, work, reject_file=reject_file)
    return summary
