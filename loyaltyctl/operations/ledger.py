"""Posting to the ledger and asking it for balances: earn, redeem, adjust, reverse, transfer, expire.

Each posting runs in one write transaction: the idempotency key, the balance
check and the new entries are read and written under the same lock, so two
processes can never overspend a balance or post one key twice.
"""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sqlite_utils import Database

from loyaltyctl import clock
from loyaltyctl.core.dates import DAY, cutoff, local_date
from loyaltyctl.core.lots import lot_expiry
from loyaltyctl.core.tiers import TierStatus
from loyaltyctl.errors import Refused
from loyaltyctl.model import Member, Program, Reward, Tiers
from loyaltyctl.money import check_points, points_value, round_points
from loyaltyctl.operations.member_state import MemberStates, program_versions
from loyaltyctl.storage import ledger as store
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage.db import write
from loyaltyctl.storage.ledger import Entry, LedgerWriter, NewEntry, ledger_writer

EXPIRING_WINDOW_DAYS = 90
REVERSIBLE = ("earn", "bonus", "adjust", "redeem")


@dataclass(frozen=True)
class Posted:
    """What a posting command did (or, for a repeated key, had already done)."""

    program: programs.ProgramRef
    member: Member
    entries: tuple[Entry, ...]
    duplicate: bool = False
    note: str | None = None  # how the points were worked out, when not as typed


@dataclass(frozen=True)
class Balance:
    program: programs.ProgramRef
    member: Member
    as_of: date
    points: int
    pending: int
    expiring: tuple[tuple[date, int], ...]
    unit: str = "points"
    tier: TierStatus | None = None
    tiers: Tiers | None = None  # the definition `tier` was worked out under

    @property
    def available(self) -> int:
        return self.points - self.pending


@dataclass(frozen=True)
class Expired:
    program: str
    as_of: date
    lots: int
    points: int
    members: int


def _sane(points: int) -> None:
    try:
        check_points(points)
    except ValueError as error:
        raise Refused(str(error)) from None


def _positive(points: int, what: str = "points") -> None:
    if points <= 0:
        raise Refused(f"{what} must be a positive whole number, got {points}")
    _sane(points)


class _Session:
    """One posting: program, member, time and the writer, resolved under the write lock."""

    def __init__(self, db: Database, program: str, at: str | None):
        self.db = db
        self.ref = programs.fetch_program_ref(db, program)
        self.at = clock.at_or_now(at, self.ref.timezone)
        self.version: Program = programs.fetch_version_in_force(db, program, local_date(self.at, self.ref.timezone)).program

    def member(self, ident: str) -> tuple[int, Member]:
        return member_store.find_member(self.db, self.ref.id, self.ref.code, ident)

    def replay(self, key: str | None) -> Posted | None:
        """The original posting for a key already used, if any."""
        if key is None:
            return None
        original = store.fetch_entry_by_key(self.db, self.ref.id, key)
        if original is None:
            return None
        entries = [original, *store.fetch_entries_referring(self.db, original.id, "transfer_in")]
        _, member = self.member(original.member_id)
        return Posted(self.ref, member, tuple(entries), duplicate=True)

    def expiry_for(self, at: int) -> int | None:
        return lot_expiry(self.version.expiry, at, self.ref.timezone)

    def record_activity(self, writer: LedgerWriter, member: int) -> None:
        """Earning or redeeming restarts the inactivity clock on every open lot."""
        if self.version.expiry and self.version.expiry.policy == "inactivity":
            writer.extend_expiry(member, self.at, self.expiry_for(self.at))

    def posted(self, member: Member, entry_ids: list[int]) -> Posted:
        return Posted(self.ref, member, tuple(store.fetch_entry(self.db, self.ref.id, i) for i in entry_ids))


def post_earn(db: Database, program: str, ident: str, points: int, reason: str, key: str | None = None,
              at: str | None = None) -> Posted:
    """Credit points by hand (a goodwill gesture, a purchase the till missed).

    Earning, like a purchase, goes through the member's tier multiplier and
    needs a valid membership where the program requires one.
    """
    _positive(points)
    with write(db):
        session = _Session(db, program, at)
        if replayed := session.replay(key):
            return replayed
        member_row, member = session.member(ident)
        state = MemberStates(db, session.ref, program_versions(db, program)).state(member_row, session.at, session.version)
        if not state.may_earn:
            day = local_date(session.at, session.ref.timezone)
            raise Refused(f"member {member.member_id!r} has no valid membership on {day}, which {program!r} requires "
                          "to earn (record the fee with `member pay`)")
        note = None
        if state.tier_multiplier != 1:
            typed = points
            points = round_points(Decimal(points) * state.tier_multiplier, session.version.earn.rounding)
            note = f"{state.tier} tier: {typed} x {state.tier_multiplier} = {points} {session.version.unit}"
        with ledger_writer(db, session.ref.id) as writer:
            entry = writer.credit(NewEntry(member_row, "earn", points, session.at, key=key, reason=reason),
                                  session.expiry_for(session.at))
            session.record_activity(writer, member_row)
        return replace(session.posted(member, [entry]), note=note)


def _find_reward(session: _Session, code: str) -> Reward:
    for reward in session.version.rewards:
        if reward.code == code:
            return reward
    for summary in programs.fetch_program_summaries(session.db):
        other = programs.fetch_latest_version(session.db, summary["code"]).program
        if summary["code"] != session.ref.code and any(r.code == code for r in other.rewards):
            raise Refused(f"reward {code!r} belongs to program {summary['code']!r}, not {session.ref.code!r}")
    codes = ", ".join(r.code for r in session.version.rewards) or "none defined"
    raise Refused(f"unknown reward {code!r} in {session.ref.code!r} (rewards: {codes})")


def _check_spendable(db: Database, member_row: int, member: Member, points: int, at: int, unit: str) -> None:
    spendable = store.spendable_at(db, member_row, at)
    if spendable < points:
        raise Refused(f"short balance: member {member.member_id!r} has {spendable} {unit} available, needs {points}")


def post_redeem(db: Database, program: str, ident: str, reward_code: str | None = None, points: int | None = None,
                key: str | None = None, at: str | None = None) -> Posted:
    """Spend points on a reward (its points and value) or on a plain amount of points."""
    if (reward_code is None) == (points is None):
        raise Refused("give either --reward CODE or --points N")
    with write(db):
        session = _Session(db, program, at)
        if replayed := session.replay(key):
            return replayed
        member_row, member = session.member(ident)
        if reward_code is not None:
            reward = _find_reward(session, reward_code)
            points, value = reward.points, reward.value
            details = dict(reward=reward.code, charity=reward.charity, reason=reward.name)
        else:
            _positive(points)
            value = points_value(points, session.version.point_value, session.version.currency)
            details = dict(reason=f"{points} {session.version.unit}")
        _check_spendable(db, member_row, member, points, session.at, session.version.unit)
        with ledger_writer(db, session.ref.id) as writer:
            entry, _ = writer.debit(NewEntry(member_row, "redeem", -points, session.at, key=key, money=value, **details),
                                    include_pending=False)
            session.record_activity(writer, member_row)
        return session.posted(member, [entry])


def post_adjust(db: Database, program: str, ident: str, points: int, reason: str, key: str | None = None,
                at: str | None = None) -> Posted:
    """A signed manual correction. A negative one beyond the balance leaves points owed."""
    if points == 0:
        raise Refused("an adjustment must be a non-zero number of points")
    _sane(points)
    with write(db):
        session = _Session(db, program, at)
        if replayed := session.replay(key):
            return replayed
        member_row, member = session.member(ident)
        entry = NewEntry(member_row, "adjust", points, session.at, key=key, reason=reason)
        with ledger_writer(db, session.ref.id) as writer:
            if points > 0:
                entry_id = writer.credit(entry, session.expiry_for(session.at))
            else:
                entry_id, _ = writer.debit(entry)
        return session.posted(member, [entry_id])


def post_reverse(db: Database, program: str, entry_id: int, reason: str, key: str | None = None,
                 at: str | None = None) -> Posted:
    """Undo one earn, bonus, adjustment or redemption, once.

    Reversing a credit takes back that credit's own points first; reversing a
    debit gives back the points it took with the expiry dates they had.
    """
    with write(db):
        session = _Session(db, program, at)
        if replayed := session.replay(key):
            return replayed
        target = store.fetch_entry(db, session.ref.id, entry_id)
        if target is None:
            raise Refused(f"unknown entry {entry_id} in {session.ref.code!r}")
        if target.kind not in REVERSIBLE:
            raise Refused(f"entry {entry_id} is {target.kind!r}; only {', '.join(REVERSIBLE)} entries can be reversed")
        if (earlier := store.fetch_reversal(db, entry_id)) is not None:
            raise Refused(f"entry {entry_id} was already reversed by entry {earlier}")
        _, member = session.member(target.member_id)
        entry = NewEntry(target.member, "reverse", -target.points, session.at, key=key, reason=reason,
                         reward=target.reward, money=-target.money if target.money is not None else None,
                         charity=target.charity, ref=target.id)
        with ledger_writer(db, session.ref.id) as writer:
            if target.points > 0:
                new_id, _ = writer.debit(entry, first=store.fetch_lot_of(db, target.id))
            else:
                takes, owed = store.fetch_takes(db, target.id), store.fetch_debt(db, target.id)
                new_id = writer.append(entry)
                if owed:  # first, so that it cancels the debt and the points given back keep their expiry
                    writer.add_lot(new_id, target.member, owed, session.at, None)
                for _lot, taken, expires_at, issued_at in takes:
                    writer.add_lot(new_id, target.member, taken, session.at, expires_at, issued_at=issued_at)
        return session.posted(member, [new_id])


def post_transfer(db: Database, program: str, source: str, target: str, points: int, key: str | None = None,
                  at: str | None = None) -> Posted:
    """Move points between two members; they keep the expiry dates of the lots they came from."""
    _positive(points)
    with write(db):
        session = _Session(db, program, at)
        if replayed := session.replay(key):
            return replayed
        source_row, source_member = session.member(source)
        target_row, target_member = session.member(target)
        if source_row == target_row:
            raise Refused(f"cannot transfer from member {source_member.member_id!r} to themselves")
        _check_spendable(db, source_row, source_member, points, session.at, session.version.unit)
        with ledger_writer(db, session.ref.id) as writer:
            out_id, takes = writer.debit(
                NewEntry(source_row, "transfer_out", -points, session.at, key=key,
                         reason=f"to {target_member.member_id}"),
                include_pending=False,
            )
            in_id = writer.append(NewEntry(target_row, "transfer_in", points, session.at,
                                            reason=f"from {source_member.member_id}", ref=out_id))
            origins = {lot: (expires_at, issued_at) for lot, _, expires_at, issued_at in store.fetch_takes(db, out_id)}
            for take in takes:
                expires_at, issued_at = origins[take.lot]
                writer.add_lot(in_id, target_row, take.points, session.at, expires_at, issued_at=issued_at)
        return session.posted(source_member, [out_id, in_id])


def post_due_expiries(db: Database, program_id: int, before: int) -> list[tuple[int, int, int, int]]:
    """Inside a write transaction: post the expiry of every lot expired before an instant with points left."""
    due = store.fetch_due_expiries(db, program_id, before)
    with ledger_writer(db, program_id) as writer:
        for lot, member, points, expires_at in due:
            writer.expire_lot(lot, member, points, expires_at)
    return due


def run_expire(db: Database, program: str, as_of: date | None = None) -> Expired:
    """Post every expiry due on or before a date, each on the day its lot expired, once."""
    ref = programs.fetch_program_ref(db, program)
    as_of = as_of or clock.today_in(ref.timezone)
    with write(db):
        due = post_due_expiries(db, ref.id, cutoff(as_of, ref.timezone))
    return Expired(program, as_of, len(due), sum(row[2] for row in due), len({row[1] for row in due}))


def member_balance(db: Database, program: str, ident: str, as_of: date | None = None) -> Balance:
    """Points, pending and soon-expiring points at the end of a day (default today)."""
    ref = programs.fetch_program_ref(db, program)
    as_of = as_of or clock.today_in(ref.timezone)
    member_row, member = member_store.find_member(db, ref.id, program, ident)
    before = cutoff(as_of, ref.timezone)
    versions = program_versions(db, program)
    version = versions.on(as_of)
    expiring = store.expiring_as_of(db, member_row, before, before + EXPIRING_WINDOW_DAYS * DAY)
    return Balance(
        program=ref,
        member=member,
        as_of=as_of,
        points=store.balance_as_of(db, member_row, before),
        pending=store.pending_as_of(db, member_row, before),
        expiring=tuple((local_date(at, ref.timezone), points) for at, points in expiring),
        unit=version.unit,
        tier=MemberStates(db, ref, versions).tier_status(member_row, before, version, as_of),
        tiers=version.tiers,
    )

