"""Posting to the ledger and asking it for balances: earn, redeem, adjust, reverse, transfer, expire.

Each posting runs in one write transaction: the idempotency key, the balance
check and the new entries are read and written under the same lock, so two
processes can never overspend a balance or post one key twice.
"""

from datetime import date, timedelta
from decimal import Decimal

from msgspec import Struct
from msgspec.structs import replace

from loyaltyctl.storage.db import Store

from loyaltyctl import clock
from loyaltyctl.core.dates import cutoff, local_date
from loyaltyctl.core.posting import REVERSIBLE, Book, contribution, debit_reversal
from loyaltyctl.core.statements import available_points
from loyaltyctl.core.tiers import TierStatus
from loyaltyctl.core.vouchers import Voucher
from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.model import Member, Program, Reward, Tiers
from loyaltyctl.money import (
    amount_option,
    check_points,
    format_money,
    percent_of,
    plain_decimal,
    points_for,
    points_value,
    round_points,
)
from loyaltyctl.operations.member_state import MemberStates, program_versions
from loyaltyctl.storage import ledger as store
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage.db import write
from loyaltyctl.operations.posting import expiring_as_of, posting
from loyaltyctl.operations.seals import seal
from loyaltyctl.operations.vouchers import issue_voucher, post_returns, refuse_reversal
from loyaltyctl.storage import vouchers as voucher_store
from loyaltyctl.storage.ledger import Entry, NewEntry

EXPIRING_WINDOW_DAYS = 90


def expiring_until(as_of: date, tz: str, days: int = EXPIRING_WINDOW_DAYS) -> int:
    """The end of the "expiring soon" window: the end of the local day `days` after `as_of` (whole local
    days, so a daylight-saving change inside the window neither adds nor drops a day)."""
    return cutoff(as_of + timedelta(days=days), tz)


class Posted(Struct, frozen=True):
    """What a posting command did (or, for a repeated key, had already done)."""

    program: programs.ProgramRef
    member: Member
    entries: tuple[Entry, ...]
    duplicate: bool = False
    note: str | None = None  # how the points were worked out, when not as typed
    voucher: Voucher | None = None  # the voucher a redemption issued


class Balance(Struct, frozen=True):
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
        return available_points(self.points, self.pending)


class Expired(Struct, frozen=True):
    program: str
    as_of: date
    lots: int
    points: int
    members: int
    vouchers_returned: int = 0  # expired unused vouchers whose points came back


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

    def __init__(self, db: Store, program: str, at: str | None):
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
        return Posted(self.ref, member, tuple(entries), duplicate=True,
                      voucher=voucher_store.fetch_voucher_of_entry(self.db, original.id))

    def posted(self, member: Member, entry_ids: list[int]) -> Posted:
        return Posted(self.ref, member, tuple(store.fetch_entry(self.db, self.ref.id, i) for i in entry_ids))


def post_earn(db: Store, program: str, ident: str, points: int, reason: str, key: str | None = None,
              at: str | None = None) -> Posted:
    """Credit points by hand (a goodwill gesture, a purchase the till missed).

    Earning, like a purchase, goes through the member's tier multiplier and
    needs a valid membership where the program requires one.
    """
    _positive(points)
    with write(db, program):
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
        with posting(db, session.ref) as poster:
            entry = poster.credit(NewEntry(member_row, "earn", points, session.at, key=key, reason=reason))
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
    with write(db, program):
        session = _Session(db, program, at)
        if replayed := session.replay(key):
            return replayed
        member_row, member = session.member(ident)
        version = session.version
        if reward_code is not None:
            reward = _find_reward(session, reward_code)
            points, value = reward.points, _reward_value(reward, order_amount, version.currency)
            details = dict(reward=reward.code, charity=reward.charity, reason=reward.name)
        elif amount is not None:
            value = amount_option("--amount", amount, version.currency)
            if not version.point_value:
                raise BadInput(f"--amount: {program} values points at 0 (point_value), so no points pay for money")
            points = points_for(value, version.point_value, version.currency)
            details = dict(reason=f"{format_money(value, version.currency)} {version.currency}")
        else:
            _positive(points)
            value = points_value(points, version.point_value, version.currency)
            details = dict(reason=f"{points} {version.unit}")

        def redemption(book: Book) -> list[NewEntry]:
            _check_spendable(book, member_row, member, points, session.at, session.version.unit)
            return [NewEntry(member_row, "redeem", -points, session.at, key=key, money=value, **details)]

        with posting(db, session.ref) as poster:
            entries = poster.post([member_row], session.at, redemption, spends=True)
        voucher = (issue_voucher(db, session.ref, reward, (member_row, member.member_id), entries[0], session.at)
                   if reward_code is not None and reward.voucher else None)
        return replace(session.posted(member, entries), voucher=voucher)


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
    value = percent_of(amount_option("--order-amount", order_amount, currency), reward.percent, reward.max_value)
    if not value:
        raise BadInput(f"--order-amount {order_amount}: {plain_decimal(reward.percent)}% of it is less than the "
                       "smallest coin; nothing to take off")
    return value


def post_adjust(db: Store, program: str, ident: str, points: int, reason: str, key: str | None = None,
                at: str | None = None) -> Posted:
    """A signed manual correction. A negative one beyond the balance leaves points owed."""
    if points == 0:
        raise Refused("an adjustment must be a non-zero number of points")
    _sane(points)
    with write(db, program):
        session = _Session(db, program, at)
        if replayed := session.replay(key):
            return replayed
        member_row, member = session.member(ident)
        entry = NewEntry(member_row, "adjust", points, session.at, key=key, reason=reason)
        with posting(db, session.ref) as poster:
            if points > 0:
                entries = [poster.credit(entry)]
            else:
                entries = poster.post([member_row], session.at, lambda book: [entry])
        return session.posted(member, entries)


def post_reverse(db: Store, program: str, entry_id: int, reason: str, key: str | None = None,
                 at: str | None = None) -> Posted:
    """Undo one entry, once, by what it still comes to at `at` (default now).

    A credit is reversed by what it still contributes: its points less what
    refunds took back and what of them expired (breakage is never taken
    twice). A debit gives back what it took, with the expiry each lot had;
    nothing comes back into a lot past its expiry. Reversing one side of a
    transfer reverses both.
    """
    with write(db, program):
        session = _Session(db, program, at)
        if replayed := session.replay(key):
            return replayed
        target = store.fetch_entry(db, session.ref.id, entry_id)
        if target is None:
            raise Refused(f"unknown entry {entry_id} in {session.ref.code!r}")
        if target.kind not in REVERSIBLE:
            raise Refused(f"entry {entry_id} is {target.kind!r}; only {', '.join(REVERSIBLE)} entries can be reversed")
        targets = [target, *store.fetch_transfer_side(db, target)]
        for side in targets:
            if (earlier := store.fetch_reversal(db, side.id)) is not None:
                raise Refused(f"entry {side.id} was already reversed by entry {earlier}")
        if session.at < target.effective_at:
            raise Refused(f"--at {local_date(session.at, session.ref.timezone)} is before entry {entry_id} "
                          f"({local_date(target.effective_at, session.ref.timezone)}); a reversal comes after it")
        _, member = session.member(target.member_id)
        if target.kind == "redeem" and (voucher := voucher_store.fetch_voucher_of_entry(db, target.id)):
            refuse_reversal(voucher, session.at, session.ref.timezone)
        taken_back = {side.id: store.fetch_clawed_back(db, side.id) for side in targets if side.points > 0}

        def reversal(book: Book) -> list[NewEntry]:
            entries = []
            for side in targets:
                points = (-contribution(book, side.id, side.points, taken_back[side.id], session.at)
                          if side.points > 0 else debit_reversal(book, side.id, session.at))
                if points:
                    entries.append(NewEntry(side.member, "reverse", points, session.at, key=key if side is target else None,
                                            reason=reason, reward=side.reward, charity=side.charity, ref=side.id,
                                            money=-side.money if side.money is not None else None))
            if not entries:
                raise Refused(f"nothing to reverse: entry {entry_id}'s points have expired or were taken back already")
            return entries

        with posting(db, session.ref) as poster:
            entries = poster.post([side.member for side in targets], session.at, reversal,
                                  about=[side.id for side in targets])
        return session.posted(member, entries)


def post_transfer(db: Store, program: str, source: str, target: str, points: int, key: str | None = None,
                  at: str | None = None) -> Posted:
    """Move points between two members; they keep the expiry dates of the lots they came from."""
    _positive(points)
    with write(db, program):
        session = _Session(db, program, at)
        if replayed := session.replay(key):
            return replayed
        source_row, source_member = session.member(source)
        target_row, target_member = session.member(target)
        if source_row == target_row:
            raise Refused(f"cannot transfer from member {source_member.member_id!r} to themselves")

        with posting(db, session.ref) as poster:
            def transfer(book: Book) -> list[NewEntry]:
                _check_spendable(book, source_row, source_member, points, session.at, session.version.unit)
                return [NewEntry(source_row, "transfer_out", -points, session.at, key=key,
                                 reason=f"to {target_member.member_id}"),
                        NewEntry(target_row, "transfer_in", points, session.at, ref=poster.next_entry_id,
                                 reason=f"from {source_member.member_id}")]

            entries = poster.post([source_row, target_row], session.at, transfer, spends=True)
        return session.posted(source_member, entries)


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
    return Balance(
        program=ref,
        member=member,
        as_of=as_of,
        points=kept.points if kept.holds_at(before) else store.balance_as_of(db, member_row, before),
        pending=kept.pending if kept.holds_at(before) else store.pending_as_of(db, member_row, before),
        expiring=tuple((local_date(at, ref.timezone), points) for at, points in expiring),
        unit=version.unit,
        tier=MemberStates(db, ref, versions).tier_status(member_row, before, version, as_of),
        tiers=version.tiers,
    )

