"""Posting to the ledger and asking it for balances: earn, redeem, adjust, reverse, transfer, expire.

A posting reads everything it decides on at once (`storage.ledger.read_counter`:
the members' rows, lots and debts, the key's entry), the rules decide, and it
writes what they decided at once; on SQLite under the file's write lock, on
PostgreSQL first without a lock (the write writes only if nothing it read
has changed) and then holding its members' rows (`_counter`). So two
processes can never overspend a balance or post one key twice, and tills of
different members never wait for each other.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta

from loyaltyctl import clock
from loyaltyctl.core.dates import cutoff, local_date
from loyaltyctl.core.posting import REVERSIBLE, Book, reversal_points
from loyaltyctl.core.rules import EarnRules
from loyaltyctl.core.vouchers import Voucher
from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.formats.ledger import balance_result, posted_result
from loyaltyctl.model import Entry, Member, Program, Reward
from loyaltyctl.money import (
    LARGEST_INTEGER,
    amount_option,
    format_money,
    order_share,
    percent_of,
    plain_decimal,
    points_for,
    points_option,
    points_value,
)
from loyaltyctl.operations.definitions import (
    ProgramState,
    latest_version,
    load_program,
    program_summaries,
    program_versions,
)
from loyaltyctl.operations.member_state import MemberStates
from loyaltyctl.operations.posting import (
    NeedsReplay,
    Poster,
    Preloaded,
    expiring_as_of,
    posting,
)
from loyaltyctl.operations.seals import seal
from loyaltyctl.operations.vouchers import issue_voucher, post_returns, refuse_reversal
from loyaltyctl.results import Balance, Expired, Posted
from loyaltyctl.storage import ledger as store
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage import vouchers as voucher_store
from loyaltyctl.storage.db import EXCLUSIVE, OPTIMISTIC, Conflict, Store, write
from loyaltyctl.storage.ledger import NewEntry

EXPIRING_WINDOW_DAYS = 90


def expiring_until(as_of: date, tz: str, days: int = EXPIRING_WINDOW_DAYS) -> int:
    """The end of the "expiring soon" window: the end of the local day `days` after `as_of` (whole local
    days, so a daylight-saving change inside the window neither adds nor drops a day)."""
    return cutoff(as_of + timedelta(days=days), tz)


def _sane(points: int) -> None:
    points_option(points, signed=True)


def _positive(points: int, what: str = "points") -> None:
    points_option(points, what)


class Counter:
    """One posting at the counter: the program as kept by the connection, and what the posting read under
    the locks of its members (`storage.ledger.read_counter`)."""

    def __init__(self, db: Store, state: ProgramState, at: str | None, reads: store.CounterReads, mode: str):
        self.db, self.state, self.ref, self.reads = db, state, state.ref, reads
        self.at = clock.at_or_now(at, self.ref.timezone)
        self.version: Program = state.versions.on(local_date(self.at, self.ref.timezone))
        self.mode = mode
        self._poster: Poster | None = None

    def member(self, ident: str) -> tuple[int, Member]:
        found = self.reads.members.get(ident)
        if found is None:
            raise Refused(f"unknown member {ident!r} in program {self.ref.code!r}")
        return found[0], found[1]

    @contextmanager
    def posting(self) -> Iterator[Poster]:
        """The poster, with what was read; only the members' rows are locked in a shared write, so a
        posting that would replay their history asks to run again holding the program (`NeedsReplay`)."""
        reads = self.reads
        preloaded = Preloaded({row: ledger for row, _, ledger in reads.members.values()}, reads.book, reads.about)
        with posting(self.db, self.ref, self.state.versions, closed=self.state.closed, preloaded=preloaded,
                     entry_ids=reads.entry_ids, lot_ids=reads.lot_ids,
                     may_replay=self.mode == EXCLUSIVE or self.db.dialect == "sqlite") as poster:
            self._poster = poster
            yield poster

    def duplicate(self) -> Posted | None:
        """The original posting of a key used before, if any."""
        original = self.reads.key_entry
        if original is None:
            return None
        entries = (original, *store.fetch_entries_referring(self.db, original.id, "transfer_in"))
        row, member = member_store.find_member(self.db, self.ref.id, self.ref.code, original.member_id)
        return posted_result(self.ref, member, entries, *self._balance(row), unit=self.version.unit, duplicate=True,
                             voucher=voucher_store.fetch_voucher_of_entry(self.db, original.id))

    def posted(self, member_row: int, member: Member, entry_ids: list[int], note: str | None = None,
               voucher: Voucher | None = None) -> Posted:
        """What the posting wrote, with the member's balance after it, from what the poster kept."""
        poster = self._poster
        names = {row: found.member_id for row, found, _ in self.reads.members.values()}
        written = dict(poster.appended)
        entries = tuple(Entry(i, written[i].member, names[written[i].member], written[i].kind, written[i].points,
                              written[i].effective_at, poster.chain.recorded_at, written[i].key, written[i].reason,
                              written[i].reward, written[i].money, written[i].charity, written[i].ref)
                        for i in entry_ids)
        kept = poster.rows[member_row].kept
        figures = (kept.points, kept.pending) if kept.holds_at(poster.kept_at) else self._balance(member_row)
        return posted_result(self.ref, member, entries, *figures, unit=self.version.unit, note=note, voucher=voucher)

    def _balance(self, member_row: int) -> tuple[int, int]:
        """Points and pending points at the end of today, asked of the ledger."""
        before = cutoff(clock.today_in(self.ref.timezone), self.ref.timezone)
        return store.balance_as_of(self.db, member_row, before), store.pending_as_of(self.db, member_row, before)


class StaleProgram(Exception):
    """A program-wide write (a version applied, a close, an import) has run since the connection read the
    program: an optimistic posting reads it again and starts over."""


def counter_posting(db: Store, program: str, idents: Sequence[str], key: str | None, at: str | None,
             work: Callable[[Counter], Posted], *, about: Sequence[int] = (), entry_ids: int = 1,
             lot_ids: int = 1) -> Posted:
    """Run one posting for the members `idents` name, with the program's state as the connection keeps
    it (read again when a program-wide write moved its epoch), in the store's `posting_modes`. On
    PostgreSQL: first OPTIMISTIC (no lock while it decides; its write checks nothing changed), then, if
    another till got there first, SHARED (holding its members' rows; Citus starts there), and if it turns
    out to be dated before what they have, EXCLUSIVE (holding the program: a replay may change members
    linked to them by transfers)."""
    modes = list(db.posting_modes)
    while True:
        mode = modes[0]
        state = program_state(db, program)
        try:
            with write(db, program, mode=mode):
                reads = store.read_counter(db, state.ref.id, program, idents, key, about, entry_ids, lot_ids,
                                           lock=mode != OPTIMISTIC)
                if reads.epoch != state.epoch:
                    if mode == OPTIMISTIC:
                        raise StaleProgram
                    state = program_state(db, program, fresh=True)  # under the lock: as it now is
                return work(Counter(db, state, at, reads, mode))
        except StaleProgram:  # read the program again, and try once more before holding locks
            program_state(db, program, fresh=True)
            modes.pop(0)
        except Conflict:  # another till got there first: hold the members' rows this time
            modes = [m for m in modes if m != OPTIMISTIC]
        except NeedsReplay:
            modes = [EXCLUSIVE]


def program_state(db: Store, program: str, fresh: bool = False) -> ProgramState:
    """The program as this connection keeps it between postings (each posting checks it is current)."""
    kept = db.between_transactions
    if fresh or program not in kept:
        kept[program] = load_program(db, program)
    return kept[program]


def post_earn(db: Store, program: str, ident: str, points: int, reason: str, key: str | None = None,
              at: str | None = None) -> Posted:
    """Credit points by hand (a goodwill gesture, a purchase the till missed).

    Earning, like a purchase, goes through the member's tier multiplier
    (`EarnRules.by_hand`), needs a valid membership where the program
    requires one, and counts toward the daily and monthly earning limits:
    one that would go over them is refused.
    """
    _positive(points)

    def earn(counter: Counter) -> Posted:
        if replayed := counter.duplicate():
            return replayed
        member_row, member = counter.member(ident)
        ref, version = counter.ref, counter.version
        state = MemberStates(db, ref, counter.state.versions).state(member_row, counter.at, version)
        earning = EarnRules(version).by_hand(points, state)
        day = local_date(counter.at, ref.timezone)
        if not state.may_earn:
            raise Refused(f"member {member.member_id!r} has no valid membership on {day}, which {program!r} requires "
                          "to earn (record the fee with `member pay`)")
        if earning.limited_by:
            per_day = earning.limited_by == "max_points_per_day"
            limit = version.earn.max_points_per_day if per_day else version.earn.max_points_per_month
            earned = state.earned_today if per_day else state.earned_this_month
            when = f"on {day}" if per_day else f"in {day:%Y-%m}"
            raise Refused(f"{earning.limited_by} is {limit} {version.unit}: member {member.member_id!r} earned "
                          f"{earned} {when} already, and {earning.points} more would go over it")
        note = None
        if state.tier_multiplier != 1:
            note = f"{state.tier} tier: {points} x {state.tier_multiplier} = {earning.points} {version.unit}"
        with counter.posting() as poster:
            entry = poster.credit(NewEntry(member_row, "earn", earning.points, counter.at, key=key, reason=reason))
        return counter.posted(member_row, member, [entry], note=note)

    return counter_posting(db, program, [ident], key, at, earn)


def _find_reward(db: Store, program: str, version: Program, code: str) -> Reward:
    for reward in version.rewards:
        if reward.code == code:
            return reward
    for summary in program_summaries(db):
        other = latest_version(db, summary["code"]).program
        if summary["code"] != program and any(r.code == code for r in other.rewards):
            raise Refused(f"reward {code!r} belongs to program {summary['code']!r}, not {program!r}")
    codes = ", ".join(r.code for r in version.rewards) or "none defined"
    raise Refused(f"unknown reward {code!r} in {program!r} (rewards: {codes})")


def _check_spendable(book: Book, member_row: int, member: Member, points: int, at: int, unit: str) -> None:
    spendable = book.spendable(member_row, at)
    if spendable < points:
        raise Refused(f"short balance: member {member.member_id!r} has {spendable} {unit} available, needs {points}")


def post_redeem(db: Store, program: str, ident: str, reward_code: str | None = None, points: int | None = None,
                key: str | None = None, at: str | None = None, amount: str | None = None,
                order_amount: str | None = None) -> Posted:
    """Spend points on a reward (its points and value; a percent reward's share of the order), on a plain
    number of points, or on an amount of money (as many points as it takes at point_value, rounded up)."""
    if [reward_code, points, amount].count(None) != 2:
        raise BadInput("give one of --reward CODE, --points N or --amount MONEY")
    if order_amount is not None and reward_code is None:
        raise BadInput("--order-amount is for a percent-off reward (--reward CODE)")
    if points is not None:
        _positive(points)

    def redeem(counter: Counter) -> Posted:
        if replayed := counter.duplicate():
            return replayed
        member_row, member = counter.member(ident)
        version, reward = counter.version, None
        if reward_code is not None:
            reward = _find_reward(db, program, version, reward_code)
            spent, value = reward.points, _reward_value(reward, order_amount, version.currency)
            details = dict(reward=reward.code, charity=reward.charity, reason=reward.name)
        elif amount is not None:
            value = amount_option("--amount", amount, version.currency)
            if not version.point_value:
                raise BadInput(f"--amount: {program} values points at 0 (point_value), so no points pay for money")
            spent = points_for(value, version.point_value, version.currency)
            details = dict(reason=f"{format_money(value, version.currency)} {version.currency}")
        else:
            spent, value = points, points_value(points, version.point_value, version.currency)
            details = dict(reason=f"{points} {version.unit}")

        def redemption(book: Book) -> list[NewEntry]:
            _check_spendable(book, member_row, member, spent, counter.at, version.unit)
            return [NewEntry(member_row, "redeem", -spent, counter.at, key=key, money=value, **details)]

        with counter.posting() as poster:
            entries = poster.post([member_row], counter.at, redemption, spends=True)
        voucher = (issue_voucher(db, counter.ref, reward, (member_row, member.member_id), entries[0], counter.at)
                   if reward is not None and reward.voucher else None)
        return counter.posted(member_row, member, entries, voucher=voucher)

    return counter_posting(db, program, [ident], key, at, redeem, lot_ids=0)


def _reward_value(reward: Reward, order_amount: str | None, currency: str) -> int:
    """A reward's value; a percent-off reward's is its share of the order, at most max_value (a percent
    voucher's, its max_value until the till knows the order)."""
    if reward.kind != "percent" or reward.voucher:
        if order_amount is not None and reward.voucher:
            raise BadInput(f"--order-amount: {reward.code!r} issues a voucher, whose order comes at the till "
                           "(voucher use --order-amount)")
        if order_amount is not None:
            raise BadInput(f"--order-amount is for a percent-off reward; {reward.code!r} is worth "
                           f"{format_money(reward.value, currency)}")
        return reward.value
    if order_amount is None:
        raise BadInput(f"reward {reward.code!r} takes {plain_decimal(reward.percent)}% off the order: "
                       "give --order-amount")
    share = percent_of(amount_option("--order-amount", order_amount, currency), reward.percent, reward.max_value)
    return order_share("--order-amount", order_amount, share, reward.percent)


def post_adjust(db: Store, program: str, ident: str, points: int, reason: str, key: str | None = None,
                at: str | None = None) -> Posted:
    """A signed manual correction. A negative one beyond the balance leaves points owed."""
    _sane(points)

    def adjust(counter: Counter) -> Posted:
        if replayed := counter.duplicate():
            return replayed
        member_row, member = counter.member(ident)
        entry = NewEntry(member_row, "adjust", points, counter.at, key=key, reason=reason)
        with counter.posting() as poster:
            entries = [poster.credit(entry)] if points > 0 else poster.post([member_row], counter.at, lambda book: [entry])
        return counter.posted(member_row, member, entries)

    return counter_posting(db, program, [ident], key, at, adjust, lot_ids=int(points > 0))


def post_reverse(db: Store, program: str, entry_id: int, reason: str, key: str | None = None,
                 at: str | None = None) -> Posted:
    """Undo one entry, once, by what it still comes to at `at` (default now).

    A credit is reversed by what it still contributes: its points less what
    refunds took back and what of them expired (breakage is never taken
    twice). A debit gives back what it took, with the expiry each lot had;
    nothing comes back into a lot past its expiry. Reversing one side of a
    transfer reverses both.
    """
    state = program_state(db, program)
    found = store.fetch_reversal_targets(db, state.ref.id, entry_id) if 0 < entry_id <= LARGEST_INTEGER else None
    if not found:
        raise Refused(f"unknown entry {entry_id} in {program!r}")
    target = found[0]
    if target.kind not in REVERSIBLE:
        raise Refused(f"entry {entry_id} is {target.kind!r}; only {', '.join(REVERSIBLE)} entries can be reversed")

    def reverse(counter: Counter) -> Posted:
        if replayed := counter.duplicate():
            return replayed
        for side in found:
            if (earlier := counter.reads.reversals.get(side.id)) is not None:
                raise Refused(f"entry {side.id} was already reversed by entry {earlier}")
        if counter.at < target.effective_at:
            raise Refused(f"--at {local_date(counter.at, counter.ref.timezone)} is before entry {entry_id} "
                          f"({local_date(target.effective_at, counter.ref.timezone)}); a reversal comes after it")
        member_row, member = counter.member(target.member_id)
        if voucher := counter.reads.vouchers.get(target.id):
            refuse_reversal(voucher, counter.at, counter.ref.timezone)
        taken_back = counter.reads.clawed_back
        keyed_side = [target]

        def reversal(book: Book) -> list[NewEntry]:
            sides = [(side, points) for side in found
                     if (points := reversal_points(book, side.id, side.points, taken_back[side.id], counter.at))]
            if not sides:
                raise Refused(f"nothing to reverse: entry {entry_id}'s points have expired or were taken back already")
            # The key rides on an entry written: the target's reversal, or the other side's when the target's
            # comes to nothing; the result is that member's, as a replay of the key finds it.
            keyed_side[0] = keyed = next((side for side, _ in sides if side is target), sides[0][0])
            return [NewEntry(side.member, "reverse", points, counter.at, key=key if side is keyed else None,
                             reason=reason, reward=side.reward, charity=side.charity, ref=side.id,
                             money=-side.money if side.money is not None else None) for side, points in sides]

        with counter.posting() as poster:
            entries = poster.post([side.member for side in found], counter.at, reversal,
                                  about=[side.id for side in found])
        if keyed_side[0] is not target:
            member_row, member = counter.member(keyed_side[0].member_id)
        return counter.posted(member_row, member, entries)

    return counter_posting(db, program, [side.member_id for side in found], key, at, reverse,
                    about=[side.id for side in found], entry_ids=len(found), lot_ids=8)


def post_transfer(db: Store, program: str, source: str, target: str, points: int, key: str | None = None,
                  at: str | None = None) -> Posted:
    """Move points between two members; they keep the expiry dates of the lots they came from."""
    _positive(points)

    def transfer(counter: Counter) -> Posted:
        if replayed := counter.duplicate():
            return replayed
        source_row, source_member = counter.member(source)
        target_row, target_member = counter.member(target)
        if source_row == target_row:
            raise Refused(f"cannot transfer from member {source_member.member_id!r} to themselves")

        with counter.posting() as poster:
            def moved(book: Book) -> list[NewEntry]:
                _check_spendable(book, source_row, source_member, points, counter.at, counter.version.unit)
                return [NewEntry(source_row, "transfer_out", -points, counter.at, key=key,
                                 reason=f"to {target_member.member_id}"),
                        NewEntry(target_row, "transfer_in", points, counter.at, ref=poster.next_entry_id,
                                 reason=f"from {source_member.member_id}")]

            entries = poster.post([source_row, target_row], counter.at, moved, spends=True)
        return counter.posted(source_row, source_member, entries)

    return counter_posting(db, program, [source, target], key, at, transfer, entry_ids=2, lot_ids=8)


def run_expire(db: Store, program: str, as_of: date | None = None) -> Expired:
    """Post every expiry due on or before a date, each on the day its lot expired, once.

    Only expiries that have happened: a date after today is bad usage.
    """
    ref = programs.fetch_program_ref(db, program)
    today = clock.today_in(ref.timezone)
    as_of = as_of or today
    if as_of > today:
        raise BadInput(f"--as-of {as_of} is after today ({today} in {ref.timezone}); "
                       "only expiries that have happened are posted")
    with write(db, program):
        with posting(db, ref) as poster:
            due = poster.expire_due(cutoff(as_of, ref.timezone))
            returned = post_returns(db, ref, poster, cutoff(as_of, ref.timezone))
        seal(db, ref)
    return Expired(program, as_of, len(due), sum(points for _, points in due), len({member for member, _ in due}),
                   len(returned))


def member_balance(db: Store, program: str, ident: str, as_of: date | None = None) -> Balance:
    """Points, pending and soon-expiring points at the end of a day (default today)."""
    ref = programs.fetch_program_ref(db, program)
    as_of = as_of or clock.today_in(ref.timezone)
    member_row, member = member_store.find_member(db, ref.id, program, ident)
    before = cutoff(as_of, ref.timezone)
    versions = program_versions(db, program)
    version = versions.on(as_of)
    expiring = expiring_as_of(db, ref, versions, member_row, before, expiring_until(as_of, ref.timezone))
    kept = store.fetch_member_ledgers(db, [member_row])[member_row].kept
    points = kept.points if kept.holds_at(before) else store.balance_as_of(db, member_row, before)
    pending = kept.pending if kept.holds_at(before) else store.pending_as_of(db, member_row, before)
    tier = MemberStates(db, ref, versions).tier_status(member_row, before, version, as_of)
    return balance_result(ref, member, as_of, points, pending, expiring, version.unit, tier, version.tiers)
