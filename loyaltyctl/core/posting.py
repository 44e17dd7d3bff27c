"""The posting rules, in one place: what each entry does to a member's lots and debts.

Every positive entry creates lots; a debit takes points from the lots alive
at its instant in a named order (`CONSUMPTION_ORDERS`) and owes what they
cannot cover; a new lot pays the oldest debts first. A `Book` holds one
member's lots and debts and applies these rules; storage reads a book (as it
stands, or replayed from the whole history) and writes back what changed. It
decides nothing.

Order never matters: a posting dated before what a member already has is
not applied on top; the member's whole history is replayed in date order
(`replay`). What a refund takes back is worked out again where it falls in
the replay, and a clawback the replay no longer agrees with is revised by a
further `clawback` entry on the refund's instant; the expiries `expire`
already posted are reconciled with what the replay says expired
(`expiry_corrections`, `allocate_expiries`). So every balance, at every
date, is what posting everything in date order would have given.
"""

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal

from msgspec import Struct

from loyaltyctl.core.dates import add_months, local_date, start_of_day
from loyaltyctl.model import Expiry
from loyaltyctl.money import round_points

ACTIVITY_KINDS = ("earn", "redeem")  # what restarts the inactivity clock
REVERSIBLE = ("earn", "bonus", "action", "adjust", "redeem", "clawback", "transfer_out", "transfer_in")


class Lot(Struct):
    """Points one credit entry created (a carried credit, such as a transfer, creates one per source lot)."""

    id: int
    entry: int
    member: int
    points: int
    earned_at: int
    expires_at: int | None  # None: never
    available_at: int  # pending until then (pending_days)
    remaining: int  # not yet taken by a debit or a posted expiry
    expired: int = 0  # taken by posted expiries
    issued_at: int | None = None  # when carried-on points were first issued (aging); None: earned_at

    def alive_at(self, at: int) -> bool:
        """Earned by `at` and not yet expired: its points count at that instant (storage.lot_life says it
        in SQL)."""
        return self.earned_at <= at and not self.expired_at(at)

    def expired_at(self, at: int) -> bool:
        """Its points were gone by `at` (one that never expires, never)."""
        return self.expires_at is not None and self.expires_at <= at

    @property
    def origin(self) -> int:
        return self.earned_at if self.issued_at is None else self.issued_at


class Debt(Struct):
    """Points a debit could not take from any lot: owed by the member, paid by later credits."""

    debit: int
    member: int
    points: int
    remaining: int
    at: int


class Take(Struct, frozen=True):
    """One consumption: points a debit (or the debt it left) took from a lot, or a posted expiry."""

    debit: int
    lot: int
    points: int
    at: int


def _expiry_key(lot: Lot) -> tuple:
    return (lot.expires_at is None, lot.expires_at or 0, lot.earned_at, lot.id)


def _soonest_expiry(book: "Book", member: int, own: int | None, usable: Callable[[Lot], bool]) -> Iterator[Lot]:
    """Soonest-to-expire first, then oldest; never-expiring last."""
    return iter(sorted(filter(usable, book.member_lots(member)), key=_expiry_key))


def _own_lots_first(book: "Book", member: int, own: int | None, usable: Callable[[Lot], bool]) -> Iterator[Lot]:
    """The lots of the entry `own` (the very points a clawback or reversal undoes), then soonest-expiry."""
    yield from sorted((lot for lot in book.lots_of(own) if lot.member == member and usable(lot)), key=_expiry_key)
    yield from sorted((lot for lot in book.member_lots(member) if lot.entry != own and usable(lot)), key=_expiry_key)


def _given_back_first(book: "Book", member: int, own: int | None, usable: Callable[[Lot], bool]) -> Iterator[Lot]:
    """The lots the reversal `own` gave back, those that never expire first (where a give-back puts what it
    could not return into a lot), then the latest-expiring; then the member's others, soonest-expiry."""
    yield from sorted((lot for lot in book.lots_of(own) if lot.member == member and usable(lot)),
                      key=lambda lot: (lot.expires_at is not None, -(lot.expires_at or 0), -lot.id))
    yield from sorted((lot for lot in book.member_lots(member) if lot.entry != own and usable(lot)), key=_expiry_key)


# The consumption orders, by name (like beancount's booking methods): the order a debit takes lots in.
CONSUMPTION_ORDERS: dict[str, Callable[["Book", int, int | None, Callable[[Lot], bool]], Iterator[Lot]]] = {
    "soonest-expiry": _soonest_expiry,
    "own-lots-first": _own_lots_first,
    "given-back-first": _given_back_first,
}
# Which order each debit uses, and whether it may take points still pending.
DEBIT_RULES: dict[str, tuple[str, bool]] = {
    "redeem": ("soonest-expiry", False),
    "transfer_out": ("soonest-expiry", False),
    "adjust": ("soonest-expiry", True),
    "clawback": ("own-lots-first", True),
    "reverse": ("own-lots-first", True),
    "revised_give_back": ("given-back-first", True),  # a reversal of a debit that gave back too much
}


def lot_expiry(expiry: Expiry | None, earned_at: int, tz: str) -> int | None:
    """When points credited at `earned_at` expire: the start of that local day + months (or days), or None.

    `lot`: E + months (clamped to the month's end) or E + days; they count as
    of the day before and no longer on that day. `inactivity`: the same from
    the member's latest earn or redeem (see `Book.extend_expiry`).
    """
    if expiry is None or expiry.policy == "none":
        return None
    earned = local_date(earned_at, tz)
    return start_of_day(earned + timedelta(days=expiry.days) if expiry.days else add_months(earned, expiry.months), tz)


def fresh_lot(lot_id: int, entry: int, member: int, points: int, at: int, expires_at: int | None,
              available_at: int | None = None, issued_at: int | None = None) -> Lot:
    """A new lot for (part of) a credit at `at`; points that arrive past their expiry expire on arrival."""
    if expires_at is not None:
        expires_at = max(expires_at, at)
    return Lot(lot_id, entry, member, points, at, expires_at, at if available_at is None else available_at, points,
               0, issued_at)


class ExpiryRules:
    """A program's expiry over time: when a credit at an instant expires, and whether activity then extends.

    Both depend only on the local day, so they are worked out once per day.
    """

    def __init__(self, expiry_at: Callable[[int], Expiry | None], timezone: str):
        self.expiry_at = expiry_at  # the expiry section of the version in force at an instant
        self.timezone = timezone
        self._by_day: dict[date, tuple[int | None, int | None]] = {}

    def _rules(self, at: int) -> tuple[int | None, int | None]:
        day = local_date(at, self.timezone)
        found = self._by_day.get(day)
        if found is None:
            expiry = self.expiry_at(at)
            expires = lot_expiry(expiry, at, self.timezone)
            found = self._by_day[day] = (expires, expires if expiry and expiry.policy == "inactivity" else None)
        return found

    def lot_expires(self, at: int) -> int | None:
        return self._rules(at)[0]

    def extension(self, at: int) -> int | None:
        """Under `inactivity`, the expiry that activity at `at` gives every live lot; None otherwise."""
        return self._rules(at)[1]


class Book:
    """One member's lots and debts (or several members', for a replay), and what changed since they were read."""

    def __init__(self, lots: Iterable[Lot] = (), debts: Iterable[Debt] = (), lot_ids: Iterator[int] | None = None):
        self.lots: dict[int, Lot] = {}
        self._by_member: dict[int, list[Lot]] = {}
        self._by_entry: dict[int, list[Lot]] = {}
        for lot in lots:
            self._add(lot)
        self.debts: dict[int, Debt] = {}
        self._member_debts: dict[int, list[Debt]] = {}
        for debt in debts:
            self._owe(debt)
        self.lot_ids = lot_ids if lot_ids is not None else itertools.count(1)  # ids for the lots it creates
        self.new_lots: list[Lot] = []
        self.changed_lots: set[int] = set()
        self.takes: list[Take] = []
        self.changed_debts: set[int] = set()
        self.taken_by: dict[int, list[tuple[int, int]]] = {}  # debit -> [(lot, points)] this book recorded
        self.clawbacks: dict[int, list[int]] = {}  # credit -> the clawback debits against it, in posting order
        self.returned: dict[int, int] = {}  # debit -> points revisions gave back from it
        self.restored: dict[tuple[int, int], int] = {}  # (debit, lot) -> points put back into the lot
        self.given_back: dict[tuple[int, int], int] = {}  # (debit, its nth take) -> points reversals returned
        self.revisions: list["Revision"] = []  # clawbacks this replay found wrong (see `replay`)

    def _owe(self, debt: Debt) -> None:
        self.debts[debt.debit] = debt
        self._member_debts.setdefault(debt.member, []).append(debt)

    def _add(self, lot: Lot) -> None:
        if lot.id not in self.lots:
            self.lots[lot.id] = lot
            self._by_member.setdefault(lot.member, []).append(lot)
            self._by_entry.setdefault(lot.entry, []).append(lot)

    # -- what a member holds -------------------------------------------------

    def spendable(self, member: int, at: int) -> int:
        """Points a redemption or transfer dated `at` could take: alive, past pending, not yet taken."""
        return sum(lot.remaining for lot in self._by_member.get(member, ())
                   if lot.alive_at(at) and lot.available_at <= at)

    def owed_by(self, debit: int) -> int:
        debt = self.debts.get(debit)
        return debt.remaining if debt else 0

    def member_lots(self, member: int) -> list[Lot]:
        return self._by_member.get(member, [])

    def lots_of(self, entry: int) -> list[Lot]:
        return sorted(self._by_entry.get(entry, ()), key=lambda lot: lot.id)

    def expired_from(self, entry: int, at: int) -> int:
        """What the entry's lots lost to expiry before `at` (posted or not): all a lot held when it expired."""
        return sum(lot.remaining + lot.expired for lot in self._by_entry.get(entry, ()) if lot.expired_at(at))

    # -- the rules -----------------------------------------------------------

    def credit(self, entry: int, member: int, points: int, at: int, expires_at: int | None,
               available_at: int | None = None, issued_at: int | None = None) -> Lot:
        """A lot for (part of) a credit; it pays the member's debts first, oldest first.

        Points that arrive already past their expiry (given back into a lot
        that has since expired) expire the moment they arrive and pay nothing.
        """
        lot = fresh_lot(next(self.lot_ids), entry, member, points, at, expires_at, available_at, issued_at)
        self._add(lot)
        self.new_lots.append(lot)
        if lot.alive_at(at):
            for debt in sorted((d for d in self._member_debts.get(member, ()) if d.remaining > 0),
                               key=lambda d: (d.at, d.debit)):
                if lot.remaining == 0:
                    break
                paid = min(debt.remaining, lot.remaining)
                debt.remaining -= paid
                self.changed_debts.add(debt.debit)
                self._take(debt.debit, lot, paid, max(at, debt.at))
        return lot

    def debit(self, entry: int, member: int, kind: str, points: int, at: int, own: int | None = None) -> int:
        """Take `points` from the member's lots alive at `at`, in the order the kind uses; owe the rest.

        Returns the shortfall (points now owed).
        """
        order, include_pending = DEBIT_RULES[kind]

        def usable(lot: Lot) -> bool:
            return lot.remaining > 0 and lot.alive_at(at) and (include_pending or lot.available_at <= at)

        left = points
        for lot in CONSUMPTION_ORDERS[order](self, member, own, usable):
            taken = min(lot.remaining, left)
            self._take(entry, lot, taken, at)
            left -= taken
            if left == 0:
                break
        if left:
            self._owe(Debt(entry, member, left, left, at))
            self.changed_debts.add(entry)
        return left

    def extend_expiry(self, member: int, at: int, until: int) -> None:
        """Inactivity: activity at `at` pushes the expiry of every lot alive then out to `until`."""
        for lot in self._by_member.get(member, ()):
            if lot.alive_at(at) and lot.expired_at(until - 1):
                lot.expires_at = until
                self.changed_lots.add(lot.id)

    def carry(self, entry: int, member: int, source: int, points: int, at: int) -> None:
        """Lots for points moved from what the debit `source` took (a transfer): each keeps its lot's expiry
        and issue date; what the source could not cover arrives as points that never expire."""
        carried = 0
        for lot_id, taken in self.taken_by.get(source, []):
            origin = self.lots[lot_id]
            self.credit(entry, member, taken, at, origin.expires_at, issued_at=origin.origin)
            carried += taken
        if points > carried:
            self.credit(entry, member, points - carried, at, None)

    def give_back(self, entry: int, member: int, debit: int, points: int, at: int) -> None:
        """A reversed debit: what it still owes is cancelled, then what it took returns with each lot's
        expiry (nothing into a lot past expiry at `at`, nothing a reversal of it returned already)."""
        owed = min(self.owed_by(debit), points)
        left = points - owed
        returns = []
        for n, (lot_id, taken) in enumerate(self.taken_by.get(debit, [])):
            origin = self.lots[lot_id]
            back = min(taken - self.given_back.get((debit, n), 0), left)
            if back > 0 and (origin.expires_at is None or origin.expires_at > at):
                returns.append((back, origin))
                self.given_back[(debit, n)] = self.given_back.get((debit, n), 0) + back
                left -= back
        if owed + left:  # first, so that it pays the debt and the points given back keep their expiry
            self.credit(entry, member, owed + left, at, None)
        for amount, origin in returns:
            self.credit(entry, member, amount, at, origin.expires_at, issued_at=origin.origin)

    def return_clawed(self, entry: int, member: int, credit: int, points: int, at: int) -> None:
        """A clawback revised down: give back `points` from the credit's clawbacks (`undo_debits`)."""
        self.undo_debits(entry, member, self.clawbacks.get(credit, []), points, at)

    def undo_debits(self, entry: int, member: int, debits: Sequence[int], points: int, at: int) -> None:
        """Give back `points` of what these debits took, the last first, as if that much of each had never
        been taken (`_undo_debit`); what they did not take arrives as points that never expire."""
        left = points
        for debit in reversed(debits):
            debt = self.debts.get(debit)
            took = sum(taken for _, taken in self.taken_by.get(debit, [])) + (debt.points if debt else 0)
            amount = min(left, took - self.returned.get(debit, 0))
            if amount > 0:
                self._undo_debit(entry, member, debit, amount, at)
                self.returned[debit] = self.returned.get(debit, 0) + amount
                left -= amount
        if left:
            self.credit(entry, member, left, at, None)

    def _undo_debit(self, entry: int, member: int, debit: int, points: int, at: int) -> None:
        """Part of a debit undone: what it still owes is cancelled first (by a lot that pays the member's
        debts), then the points it took go back into the very lots they came from, newest take first, as
        if never taken: they stay the credit's points, with its expiry (into a lot past its expiry they
        come back expired: breakage is never revived)."""
        owed = min(self.owed_by(debit), points)
        if owed:
            self.credit(entry, member, owed, at, None)
        left = points - owed
        for lot_id, taken in reversed(self.taken_by.get(debit, [])):
            back = min(left, taken - self.restored.get((debit, lot_id), 0))
            if back > 0:
                self._take(entry, self.lots[lot_id], -back, at)
                self.restored[(debit, lot_id)] = self.restored.get((debit, lot_id), 0) + back
                left -= back
        if left:
            self.credit(entry, member, left, at, None)

    def expire(self, lot_id: int, entry: int) -> None:
        """Post a lot's expiry: an `expire` entry on its expiry instant takes what the lot still holds."""
        lot = self.lots[lot_id]
        lot.expired += lot.remaining
        self._take(entry, lot, lot.remaining, lot.expires_at)

    def _take(self, debit: int, lot: Lot, points: int, at: int) -> None:
        lot.remaining -= points
        self.changed_lots.add(lot.id)
        self.takes.append(Take(debit, lot.id, points, at))
        self.taken_by.setdefault(debit, []).append((lot.id, points))


# -- what a correction takes back ---------------------------------------------


def contribution(book: Book, entry: int, points: int, taken_back: int, at: int) -> int:
    """What a credit still contributes at `at`: its points less what was taken back from it (clawbacks)
    and less what of its lots expired before then. Expired points are breakage: never taken twice."""
    return max(points - taken_back - book.expired_from(entry, at), 0)


def debit_reversal(book: Book, debit: int, at: int) -> int:
    """What reversing a debit gives back at `at`: what it still owes, and what it took from lots not past expiry."""
    given = book.owed_by(debit)
    for lot_id, taken in book.taken_by.get(debit, []):
        lot = book.lots[lot_id]
        if lot.expires_at is None or lot.expires_at > at:
            given += taken
    return given


def reversal_points(book: Book, entry: int, points: int, taken_back: int, at: int) -> int:
    """What reversing an entry at `at` posts: a credit, less what it still contributes; a debit, what it
    gives back."""
    return -contribution(book, entry, points, taken_back, at) if points > 0 else debit_reversal(book, entry, at)


def clawback_points(earned: int, paid: int, refunded_before: int, refund: int, clawed_before: int,
                    still_contributes: int) -> int:
    """Points a refund takes back: round(earned x refunded so far / paid), half up, less what earlier
    refunds took, never more than the purchase still contributes. So refunds in parts add up to the whole."""
    due = round_points(Decimal(earned) * (refunded_before + refund) / Decimal(paid), "round") - clawed_before
    return max(min(due, still_contributes), 0)


# -- order never matters --------------------------------------------------------


class Posting(Struct, frozen=True):
    """An entry as the replay sees it (expiries are not postings: they are derived from time)."""

    id: int
    member: int
    kind: str
    points: int
    at: int
    ref: int | None = None
    available_at: int | None = None  # a fresh credit's pending window (None: at once)


class PostedExpiry(Struct, frozen=True):
    """An `expire` entry already in the ledger: `points` is negative (an expiry) or positive (given back)."""

    id: int
    credit: int  # the entry whose lot it expired
    at: int
    points: int


class Refund(Struct, frozen=True):
    """A refund of a purchase that earned points, as the replay sees it: what it takes back
    (`clawback_points`) is worked out again where it falls among the member's postings."""

    txn: int  # the refund's transaction row
    credit: int  # the purchase's earn entry
    member: int
    at: int
    amount: int  # refunded, positive minor units
    paid: int  # what the purchase paid, minor units
    earned: int  # the points the purchase earned


class Revision(Struct, frozen=True):
    """An entry a replay found missing: posted on the instant of what it revises, so that what was taken
    back or given back there is what posting everything in date order takes or gives. A `clawback` on a
    refund's instant (its purchase's clawbacks against what its refunds take back so far), or a `reverse`
    on a reversal's instant (the reversal and its revisions against what reversing its entry came to then).
    `points` negative takes more, positive gives back."""

    kind: str
    member: int
    ref: int  # clawback: the purchase's credit entry; reverse: the reversal, or its latest revision
    at: int
    points: int
    txn: int | None = None  # clawback: the (last) refund at that instant


class ReversalChains:
    """The reversals among a set of postings and the revisions of each (a `reverse` entry whose ref is the
    reversal or its previous revision: an entry is reversed once, and a revision revises once)."""

    def __init__(self, postings: Sequence[Posting]):
        self.target: dict[int, Posting] = {}  # reversal -> the entry it reversed
        self.root: dict[int, int] = {}  # revision -> the reversal it revises
        self.chain: dict[int, list[int]] = {}  # reversal -> it and its revisions, in posting order
        self.total: dict[int, int] = {}  # reversal -> its points and its revisions'
        by_id = {p.id: p for p in postings}
        for p in sorted((p for p in postings if p.kind == "reverse"), key=lambda p: p.id):
            revised = by_id.get(p.ref)
            if revised is None:
                continue
            if revised.kind != "reverse":
                self.target[p.id], self.chain[p.id], self.total[p.id] = revised, [p.id], p.points
            elif (root := self.root.get(revised.id, revised.id)) in self.target:
                self.root[p.id] = root
                self.chain[root].append(p.id)
                self.total[root] += p.points

    def revise(self, book: Book, reversal: Posting, taken_back: int) -> Revision | None:
        """Before the reversal is applied: the revision it needs, if what it and its revisions come to is not
        what reversing its entry at its instant comes to now."""
        target = self.target[reversal.id]
        due = reversal_points(book, target.id, target.points, taken_back, reversal.at)
        if due == self.total[reversal.id]:
            return None
        return Revision("reverse", reversal.member, self.chain[reversal.id][-1], reversal.at,
                        due - self.total[reversal.id])

    def apply_revision(self, book: Book, revision: Posting, root: int) -> None:
        """A revision of the reversal `root`: a credit's reversal takes more of the credit's own points or
        gives back what it took (the last take first); a debit's gives back more of what the debit took, or
        takes back what it gave (`given-back-first`)."""
        target, chain = self.target[root], self.chain[root]
        if target.points > 0 and revision.points < 0:
            book.debit(revision.id, revision.member, "reverse", -revision.points, revision.at, own=target.id)
        elif target.points > 0:
            book.undo_debits(revision.id, revision.member, [e for e in chain if e != revision.id], revision.points,
                             revision.at)
        elif revision.points > 0:
            book.give_back(revision.id, revision.member, target.id, revision.points, revision.at)
        else:
            book.debit(revision.id, revision.member, "revised_give_back", -revision.points, revision.at, own=root)


def is_fresh_credit(kind: str, points: int) -> bool:
    return points > 0 and kind in ("earn", "bonus", "action", "adjust")


def replay(postings: Sequence[Posting], rules: ExpiryRules, refunds: Sequence[Refund] = (),
           lot_ids: Iterator[int] | None = None) -> Book:
    """Post a set of members' entries again, in date order (ties in id order), from nothing.

    The result holds every lot, take and debt the entries make when posted
    in that order; lots hold what they held when they expired (posted
    expiries are applied by `allocate_expiries`). Amounts that depend on
    what came before are worked out afresh where they fall: after the
    postings of a refund's instant, what the refunds of that purchase take
    back so far; before a reversal, what reversing its entry comes to. Where
    the entries posted say something else, the difference is applied (with a
    provisional id, below zero) and listed in `book.revisions`, for the
    caller to post and replay.
    """
    book = Book(lot_ids=lot_ids)
    reversals = ReversalChains(postings)
    events: list[tuple[tuple[int, int, int], Posting | list[Refund]]] = [((p.at, 0, p.id), p) for p in postings]
    same_instant: dict[tuple[int, int], list[Refund]] = {}
    for refund in refunds:
        same_instant.setdefault((refund.credit, refund.at), []).append(refund)
    events += [((at, 1, max(r.txn for r in group)), group) for (_, at), group in same_instant.items()]
    posted: dict[int, int] = {}  # credit -> points its clawbacks took back so far
    taken_back: dict[int, int] = {}  # credit -> the same, less what reversals of those clawbacks gave back
    due: dict[int, tuple[int, int]] = {}  # credit -> (refunded so far, points those refunds take back)

    def revised(revision: Revision, root: int | None = None) -> None:
        book.revisions.append(revision)
        posting = Posting(-len(book.revisions), revision.member, revision.kind, revision.points, revision.at,
                          revision.ref)
        if root is None:
            apply(book, posting, rules)
        else:
            reversals.apply_revision(book, posting, root)
        track(posting, root)

    def track(p: Posting, root: int | None) -> None:
        if p.kind == "clawback":
            posted[p.ref] = posted.get(p.ref, 0) - p.points
            taken_back[p.ref] = taken_back.get(p.ref, 0) - p.points
        elif root is not None and reversals.target[root].kind == "clawback":
            credit = reversals.target[root].ref
            taken_back[credit] = taken_back.get(credit, 0) - p.points

    for _, event in sorted(events, key=lambda e: e[0]):
        if isinstance(event, Posting):
            root = reversals.root.get(event.id, event.id if event.id in reversals.target else None)
            revision = None
            if root == event.id:
                target = reversals.target[root]
                revision = reversals.revise(book, event, taken_back.get(target.id, 0))
            if root is not None and root != event.id:
                reversals.apply_revision(book, event, root)
            else:
                apply(book, event, rules)
            track(event, root)
            if revision is not None:
                revised(revision, root)
                reversals.chain[root].append(-len(book.revisions))
            continue
        first = event[0]
        refunded, clawed = due.get(first.credit, (0, 0))
        amount = sum(r.amount for r in event)
        still = contribution(book, first.credit, first.earned, clawed, first.at)
        clawed += clawback_points(first.earned, first.paid, refunded, amount, clawed, still)
        due[first.credit] = (refunded + amount, clawed)
        if clawed != posted.get(first.credit, 0):
            revised(Revision("clawback", first.member, first.credit, first.at, posted.get(first.credit, 0) - clawed,
                             txn=max(r.txn for r in event)))
    return book


def apply(book: Book, p: Posting, rules: ExpiryRules) -> None:
    """What one posting does to a book, whatever its kind."""
    if is_fresh_credit(p.kind, p.points):
        book.credit(p.id, p.member, p.points, p.at, rules.lot_expires(p.at), p.available_at)
    elif p.kind == "transfer_in":
        book.carry(p.id, p.member, p.ref, p.points, p.at)
    elif p.kind == "reverse" and p.points > 0:
        book.give_back(p.id, p.member, p.ref, p.points, p.at)
    elif p.kind == "clawback" and p.points > 0:
        book.return_clawed(p.id, p.member, p.ref, p.points, p.at)
    elif p.points < 0:
        book.debit(p.id, p.member, p.kind, -p.points, p.at, own=p.ref if p.kind in ("clawback", "reverse") else None)
        if p.kind == "clawback":
            book.clawbacks.setdefault(p.ref, []).append(p.id)
    if p.kind in ACTIVITY_KINDS and (until := rules.extension(p.at)) is not None:
        book.extend_expiry(p.member, p.at, until)


def expiry_corrections(book: Book, posted: Sequence[PostedExpiry]) -> list[tuple[int, int, int, int]]:
    """Posted expiries the replay no longer supports, to give back: [(member, credit entry, at, points)].

    A lot's posted expiry stands as far as the lot still held those points
    when it expired; the rest (used by a debit dated before the expiry, or
    kept alive by later activity under `inactivity`) is given back at the
    same instant by a positive `expire` entry.
    """
    corrections = []
    for (credit, at), net in _posted_by_group(posted).items():
        lots = [lot for lot in book.lots_of(credit) if lot.expires_at == at]
        excess = net - sum(lot.remaining for lot in lots)
        if excess > 0:
            corrections.append((book.lots_of(credit)[0].member, credit, at, excess))
    return corrections


def allocate_expiries(book: Book, posted: Sequence[PostedExpiry]) -> None:
    """Record every posted expiry (corrections included) as takes on the lots it expired.

    Each entry's takes add up to its points, and no lot ends above what it
    held when it expired: expiries fill a credit's lots in order; a give-back
    empties them from the last.
    """
    groups: dict[tuple[int, int], list[PostedExpiry]] = {}
    for p in sorted(posted, key=lambda p: p.id):
        groups.setdefault((p.credit, p.at), []).append(p)
    for (credit, at), entries in groups.items():
        lots = [lot for lot in book.lots_of(credit) if lot.expires_at == at] or book.lots_of(credit)[:1]
        capacity = [lot.remaining if lot.expires_at == at else 0 for lot in lots]
        taken = [0] * len(lots)
        for p in entries:
            if p.points < 0:
                left = -p.points
                for i in range(len(lots)):
                    amount = left if i == len(lots) - 1 else min(left, capacity[i] - taken[i])
                    if amount > 0:
                        taken[i] += amount
                        book.takes.append(Take(p.id, lots[i].id, amount, at))
                        left -= amount
            else:
                left = p.points
                for i in sorted(range(len(lots)), key=lambda i: (taken[i] <= capacity[i], -i)):
                    amount = min(left, taken[i])
                    if amount > 0:
                        taken[i] -= amount
                        book.takes.append(Take(p.id, lots[i].id, -amount, at))
                        left -= amount
        for lot, amount in zip(lots, taken):
            lot.remaining -= amount
            lot.expired += amount


def _posted_by_group(posted: Sequence[PostedExpiry]) -> dict[tuple[int, int], int]:
    """Net points expired per (credit entry, instant)."""
    net: dict[tuple[int, int], int] = {}
    for p in posted:
        net[(p.credit, p.at)] = net.get((p.credit, p.at), 0) - p.points
    return net


def new_shortfalls(before: Book, after: Book, postings: Sequence[Posting]) -> list[Posting]:
    """Redemptions and transfers that `after` leaves owing more than `before` did: a posting dated
    earlier would spend points that they spent later."""
    spends = {p.id: p for p in postings if p.kind in ("redeem", "transfer_out")}
    return [spends[d.debit] for d in after.debts.values()
            if d.debit in spends and d.points > (before.debts[d.debit].points if d.debit in before.debts else 0)]
