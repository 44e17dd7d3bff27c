"""The one path every command takes to the ledger: `Poster`.

Inside a write transaction, for each request a poster refuses what falls in
a closed period, reads the members' book (as it stands when the posting
comes after everything they have; replayed from their whole history when it
is dated earlier), asks the posting rules (`core.posting`) what the request
comes to, and writes it. A posting dated earlier thus gives every balance
at every date that posting in date order would have given: clawbacks the
replay no longer agrees with are revised, and posted expiries that no
longer hold are given back.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from msgspec import Struct

from loyaltyctl import clock
from loyaltyctl.core.balances import UNKNOWN, MemberLedger, kept_after_credit, kept_from
from loyaltyctl.core.dates import cutoff, local_date
from loyaltyctl.core.periods import ClosedThrough
from loyaltyctl.core.posting import (
    ACTIVITY_KINDS,
    Book,
    ExpiryRules,
    Lot,
    PostedExpiry,
    Posting,
    Revision,
    allocate_expiries,
    apply,
    expiry_corrections,
    fresh_lot,
    new_shortfalls,
    replay,
)
from loyaltyctl.core.versions import VersionTable
from loyaltyctl.errors import Refused
from loyaltyctl.operations.definitions import program_versions
from loyaltyctl.storage import ledger as store
from loyaltyctl.storage import programs
from loyaltyctl.storage import transactions as txn_store
from loyaltyctl.storage.db import Ids, Store
from loyaltyctl.storage.ledger import NewEntry
from loyaltyctl.storage.periods import fetch_closed_through

Decide = Callable[[Book], list[NewEntry]]
SETTLE_MEMBERS = 500  # members replayed together (well under SQLite's bound-parameter limit)
REVISION_ROUNDS = 4  # replays after posting revisions, each of which may change what another comes to
REVISED = {
    "clawback": "refund's clawback revised: a posting dated before it changed what the purchase still contributed",
    "reverse": "reversal revised: a posting dated before it changed what the reversed entry came to",
}


def expiry_rules(versions: VersionTable, tz: str) -> ExpiryRules:
    """Expiry as the version in force at each instant says."""
    return ExpiryRules(lambda at: versions.on(local_date(at, tz)).expiry, tz)


def _posting(entry_id: int, entry: NewEntry) -> Posting:
    return Posting(entry_id, entry.member, entry.kind, entry.points, entry.effective_at, entry.ref,
                   entry.available_at)


class Preloaded(Struct):
    """What a posting read before it decides (a counter posting, in one round trip): the members' ledger
    rows and a book of every lot of theirs that holds points and every debt they owe, with the lots and
    takes of the entries in `about` (a reversal's targets)."""

    rows: dict[int, MemberLedger]
    book: Book
    about: tuple[int, ...] = ()


class Poster:
    """Posts one program's entries through the posting rules; call `save` when done (see `posting`).

    It keeps each member's ledger row it touches (chain head, latest instant,
    what they owe, kept balance) and writes them at `save`.
    """

    def __init__(self, db: Store, ref: programs.ProgramRef, versions: VersionTable | None = None, *,
                 closed: ClosedThrough | None | Literal[False] = False, preloaded: Preloaded | None = None,
                 entry_ids: Ids | None = None, lot_ids: Ids | None = None, may_replay: bool = True):
        self.db, self.ref = db, ref
        self.versions = versions or program_versions(db, ref.code)
        self.rules = expiry_rules(self.versions, ref.timezone)
        self.rows: dict[int, MemberLedger] = dict(preloaded.rows) if preloaded else {}
        self.touched: set[int] = set()  # members whose rows changed
        self.chain = store.ChainWriter(db, ref.id, self.row, entry_ids or db.entry_ids())
        self.closed = fetch_closed_through(db, ref.id) if closed is False else closed
        self.unsettled: set[int] = set()  # members with a credit posted out of date order, not yet replayed
        self.lot_ids = lot_ids or db.lot_ids()
        self.kept_at = cutoff(clock.today_in(ref.timezone), ref.timezone)  # balances are kept as of today's end
        self.appended: list[tuple[int, NewEntry]] | None = [] if preloaded else None  # a posting's entries
        self._preloaded = preloaded
        self.may_replay = may_replay  # False where only the members' own rows are locked (see `NeedsReplay`)

    @property
    def next_entry_id(self) -> int:
        return self.chain.ids.peek()

    def preload(self, members: Iterable[int]) -> None:
        """Read the ledger rows of members not seen yet, in a few queries (an import's chunk)."""
        self.rows.update(store.fetch_member_ledgers(self.db, sorted({m for m in members if m not in self.rows})))

    def row(self, member: int) -> MemberLedger:
        if member not in self.rows:
            self.preload([member])
        return self.rows[member]

    def check_open(self, at: int, what: str) -> None:
        if self.closed and self.closed.covers(at):
            raise Refused(self.closed.refusal(at, what))

    def _in_order(self, members: Sequence[int], at: int) -> bool:
        self.preload(members)
        return all(self.rows[m].latest_at is None or self.rows[m].latest_at <= at for m in members)

    def saw(self, member: int, at: int) -> None:
        """Something happened to the member at `at` (an entry, or a refund that took nothing back):
        a posting dated before it replays the member."""
        row = self.row(member)
        row.latest_at = at if row.latest_at is None else max(row.latest_at, at)
        if at >= self.kept_at:
            row.kept = UNKNOWN
        self.touched.add(member)

    def credit(self, entry: NewEntry) -> int:
        """A fresh credit (earn, bonus, positive adjustment).

        Its points do not depend on the member's lots, so it is buffered for
        executemany with a lot of its own. When it needs more (the member owes
        points, or it restarts an inactivity clock, or their lots are read
        already) it is posted at once; when it is dated before what the member
        has, the member is replayed once before anything reads their lots
        (`settle`), however many such credits an import brings.
        """
        member, at = entry.member, entry.effective_at
        in_order = self._in_order([member], at)
        if member not in self.unsettled and in_order and (
                self.rows[member].owed or self.rules.extension(at) or self._preloaded_for([member], ())):
            return self.post([member], at, lambda book: [entry])[0]
        self.check_open(at, f"the {entry.kind} entry")
        made: list[Lot] = []

        def lots(entry_id: int) -> list[Lot]:  # the member owes nothing: the lot pays no debt
            made.append(fresh_lot(next(self.lot_ids), entry_id, member, entry.points, at, self.rules.lot_expires(at),
                                  entry.available_at))
            return made

        if not in_order:
            self.unsettled.add(member)
        entry_id = self.chain.queue(entry, lots)
        self._appended(entry_id, entry)
        row = self.rows[member]
        row.kept = kept_after_credit(row.kept, made[0], self.kept_at) if in_order else UNKNOWN
        self.saw(member, at)
        return entry_id

    def _preloaded_for(self, members: Sequence[int], about: Sequence[int]) -> Book | None:
        """The book read before this posting, if it covers these members and entries."""
        found = self._preloaded
        if found and set(members) <= found.rows.keys() and set(about) <= set(found.about):
            return found.book
        return None

    def post(self, members: Sequence[int], at: int, decide: Decide, about: Sequence[int] = (),
             spends: bool = False) -> list[int]:
        """Post what `decide` makes of the members' book at `at`; returns the new entry ids.

        `about`: entries whose own lots and takes `decide` reads (a reversal, a
        clawback). `spends`: a redemption or transfer, refused if, dated
        earlier than what the members have, it would spend points that later
        redemptions spent.
        """
        members = sorted(set(members))
        self.settle(members)
        self.chain.flush()  # the book is read from the database
        if self._in_order(members, at):
            book = self._preloaded_for(members, about)
            self._preloaded = None  # what it read is written below: read afresh next time
            if book is None:
                book = store.fetch_book(self.db, members, about, self.lot_ids)
            entries = decide(book)
            ids = self._append(entries)
            for entry_id, entry in zip(ids, entries):
                apply(book, _posting(entry_id, entry), self.rules)
            store.write_book(self.db, self.ref.id, book)
            self._keep(book, members)
            return ids
        if not self.may_replay:
            raise NeedsReplay
        group = store.linked_members(self.db, members)
        history = store.fetch_history(self.db, group)
        entries = decide(replay([p for p in history.postings if p.at <= at], self.rules,
                                [r for r in history.refunds if r.at <= at]))
        if not entries:
            return []
        ids = self._append(entries)
        new = [_posting(entry_id, entry) for entry_id, entry in zip(ids, entries)]
        book = self._rebuild(group, history, new)
        if spends and (short := new_shortfalls(replay(history.postings, self.rules, history.refunds), book,
                                               history.postings + new)):
            day = local_date(short[0].at, self.ref.timezone)
            raise Refused(f"short balance: dated {local_date(at, self.ref.timezone)}, this would spend points "
                          f"that entry {short[0].id} spent on {day}")
        return ids

    def settle(self, members: Sequence[int] | None = None) -> None:
        """Replay the members (default: all) that credits dated earlier left unsettled, a few hundred at a time."""
        pending = sorted(m for m in (self.unsettled if members is None else members) if m in self.unsettled)
        if pending or members is None:
            self.chain.flush()
        for start in range(0, len(pending), SETTLE_MEMBERS):
            chunk = [m for m in pending[start : start + SETTLE_MEMBERS] if m in self.unsettled]
            if chunk:
                group = store.linked_members(self.db, chunk)
                self._rebuild(group, store.fetch_history(self.db, group), [])

    def joined(self, member: int) -> None:
        """A member just added has no entries: nothing to look up before their first posting."""
        self.rows[member] = MemberLedger(member, kept=kept_from((), 0, self.kept_at, None))
        self.touched.add(member)

    def _rebuild(self, group: list[int], history: store.History, new: list[Posting]) -> Book:
        """Replay the group's whole history (and the new postings), revise clawbacks and give back posted
        expiries that no longer hold, and replace the group's lots, takes and debts with the replay's."""
        book = replay([*history.postings, *new], self.rules, history.refunds, self.lot_ids)
        for _ in range(REVISION_ROUNDS):  # a revision posted may change what another comes to
            if not book.revisions:
                break
            new = new + self._revise(book.revisions)
            book = replay([*history.postings, *new], self.rules, history.refunds, self.lot_ids)
        else:
            raise AssertionError(f"revisions of members {group} did not settle in {REVISION_ROUNDS} replays")
        posted = list(history.expiries)
        for member, credit, expired_at, points in expiry_corrections(book, posted):
            correction = NewEntry(member, "expire", points, expired_at, ref=credit,
                                  reason="expiry given back: activity or a posting dated before it changed what expired")
            posted.append(PostedExpiry(self._append([correction])[0], credit, expired_at, points))
        allocate_expiries(book, posted)
        store.replace_books(self.db, self.ref.id, group, book)
        self._keep(book, group)
        for member in group:
            self.unsettled.discard(member)
        return book

    def _revise(self, revisions: list[Revision]) -> list[Posting]:
        """Post the clawbacks and reversals a replay found wrong; the refunds' recorded points follow."""
        entries = [NewEntry(r.member, r.kind, r.points, r.at, ref=r.ref, reason=REVISED[r.kind]) for r in revisions]
        ids = self._append(entries)
        txn_store.add_clawed_back(self.db, [(r.txn, r.points, entry_id) for r, entry_id in zip(revisions, ids)
                                            if r.kind == "clawback"])
        return [_posting(entry_id, entry) for entry_id, entry in zip(ids, entries)]

    def expire_due(self, before: int) -> list[tuple[int, int]]:
        """Post the expiry of every lot expired before an instant with points left, each dated its expiry.

        Returns (member, points) per lot expired. Balances at every instant
        stay as they were (expiry is a function of time), so kept ones do too.
        """
        self.settle()
        due = store.fetch_due_expiries(self.db, self.ref.id, before)
        self.preload(lot.member for lot in due)
        book, expired = Book(due, lot_ids=self.lot_ids), []
        for lot in due:
            expired.append((lot.member, lot.remaining))
            entry_id = self._append([NewEntry(lot.member, "expire", -lot.remaining, lot.expires_at,
                                              reason="points expired", ref=lot.entry)])[0]
            book.expire(lot.id, entry_id)
        store.write_book(self.db, self.ref.id, book)
        return expired

    def _append(self, entries: list[NewEntry]) -> list[int]:
        ids = []
        for entry in entries:
            self.check_open(entry.effective_at, f"the {entry.kind} entry")
            ids.append(self.chain.append(entry))
            self._appended(ids[-1], entry)
            self.saw(entry.member, entry.effective_at)
        return ids

    def _appended(self, entry_id: int, entry: NewEntry) -> None:
        """Keep what a counter posting wrote, to return it (an import's entries are not kept: memory flat)."""
        if self.appended is not None:
            self.appended.append((entry_id, entry))

    def write_rows(self, forget: bool = False) -> None:
        """Write the members' rows changed so far; `forget` them (an import, after each chunk: memory flat in
        the members it touches; they are read again when needed)."""
        self.chain.flush()
        store.write_member_ledgers(self.db, self.ref.id, [self.rows[m] for m in sorted(self.touched)])
        if forget:
            for member in self.touched - self.unsettled:
                del self.rows[member]
        self.touched.clear()

    def _keep(self, book: Book, members: Iterable[int]) -> None:
        """The members' debts and kept balances from a book that holds every lot of theirs with points."""
        for member in members:
            row = self.row(member)
            row.owed = sum(d.remaining for d in book.debts.values() if d.member == member)
            row.kept = kept_from(book.member_lots(member), row.owed, self.kept_at, row.latest_at)
            self.touched.add(member)

    def save(self) -> None:
        self.settle()
        self.write_rows()


class NeedsReplay(Exception):
    """A posting dated before what its members have needs their whole history replayed, which may change
    the lots of members linked to them by transfers: it must run again holding the program's lock."""


@contextmanager
def posting(db: Store, ref: programs.ProgramRef, versions: VersionTable | None = None, **settings: Any
            ) -> Iterator[Poster]:
    """A Poster whose members' rows are saved when the block ends without error."""
    poster = Poster(db, ref, versions, **settings)
    yield poster
    poster.save()


def expiries_moved_since(db: Store, versions: VersionTable, program_id: int, before: int,
                         member: int | None = None) -> list[int]:
    """Members (or just `member`, if so) whose lots' stored expiry may be later than it stood at `before`:
    under `inactivity`, those with activity since (it pushed their lots out). Everyone else's lots say how
    they stood."""
    if not any(v.expiry and v.expiry.policy == "inactivity" for v in versions.all()):
        return []
    return store.members_active_since(db, program_id, before, ACTIVITY_KINDS, member)


def lots_as_of(db: Store, ref: programs.ProgramRef, versions: VersionTable, members: Sequence[int],
               before: int) -> list[Lot]:
    """The members' lots alive at `before` as they stood then (what they held, when they were to expire),
    from a replay of their history up to then, a few hundred members at a time."""
    rules, wanted, alive = expiry_rules(versions, ref.timezone), set(members), []
    for start in range(0, len(members), SETTLE_MEMBERS):
        group = store.linked_members(db, members[start : start + SETTLE_MEMBERS])  # transfers carry expiries
        history = store.fetch_history(db, group)
        book = replay([p for p in history.postings if p.at < before], rules,
                      [r for r in history.refunds if r.at < before])
        alive += [lot for lot in book.lots.values() if lot.member in wanted and lot.remaining
                  and lot.alive_at(before - 1)]
    return alive


def expiring_as_of(db: Store, ref: programs.ProgramRef, versions: VersionTable, member: int, before: int,
                   until: int) -> list[tuple[int, int]]:
    """(expiry instant, points) of a member's points alive at `before` that expire before `until`, as they
    stood then (see `expiries_moved_since`)."""
    if not expiries_moved_since(db, versions, ref.id, before, member):
        return store.expiring_as_of(db, member, before, until)
    expiring: dict[int, int] = {}
    for lot in lots_as_of(db, ref, versions, [member], before):
        if lot.expired_at(until - 1):
            expiring[lot.expires_at] = expiring.get(lot.expires_at, 0) + lot.remaining
    return sorted(expiring.items())
