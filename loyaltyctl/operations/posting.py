"""The one path every command takes to the ledger: `Poster`.

Inside a write transaction, for each request a poster refuses what falls in
a closed period, reads the members' book (as it stands when the posting
comes after everything they have; replayed from their whole history when it
is dated earlier), asks the posting rules (`core.posting`) what the request
comes to, and writes it. A posting dated earlier thus gives every balance
at every date that posting in date order would have given, and posted
expiries that no longer hold are given back.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlite_utils import Database

from loyaltyctl.core.dates import local_date
from loyaltyctl.core.posting import (
    Book,
    ExpiryRules,
    Lot,
    PostedExpiry,
    Posting,
    allocate_expiries,
    apply,
    expiry_corrections,
    new_shortfalls,
    replay,
)
from loyaltyctl.core.versions import VersionTable
from loyaltyctl.errors import Refused
from loyaltyctl.operations.member_state import program_versions
from loyaltyctl.storage import ledger as store
from loyaltyctl.storage import programs
from loyaltyctl.storage.ledger import NewEntry
from loyaltyctl.storage.periods import fetch_closed_through

Decide = Callable[[Book], list[NewEntry]]
SETTLE_MEMBERS = 500  # members replayed together (well under SQLite's bound-parameter limit)


def expiry_rules(versions: VersionTable, tz: str) -> ExpiryRules:
    """Expiry as the version in force at each instant says."""
    return ExpiryRules(lambda at: versions.on(local_date(at, tz)).expiry, tz)


def _posting(entry_id: int, entry: NewEntry) -> Posting:
    return Posting(entry_id, entry.member, entry.kind, entry.points, entry.effective_at, entry.ref,
                   entry.available_at)


class Poster:
    """Posts one program's entries through the posting rules; call `save` when done (see `posting`)."""

    def __init__(self, db: Database, ref: programs.ProgramRef, versions: VersionTable | None = None):
        self.db, self.ref = db, ref
        self.versions = versions or program_versions(db, ref.code)
        self.rules = expiry_rules(self.versions, ref.timezone)
        self.chain = store.ChainWriter(db, ref.id)
        self.closed = fetch_closed_through(db, ref.id)
        self.indebted = store.fetch_indebted(db)
        self.latest: dict[int, int | None] = {}  # member -> latest entry instant, as far as known
        self.unsettled: set[int] = set()  # members with a credit posted out of date order, not yet replayed
        self.next_lot = store.next_lot_id(db)

    @property
    def next_entry_id(self) -> int:
        return self.chain.next_id

    def preload(self, members: Iterable[int]) -> None:
        """Learn the latest entry instant of many members in a few queries (an import's chunk)."""
        unknown = sorted({m for m in members if m not in self.latest})
        found = store.fetch_latest(self.db, unknown)
        for member in unknown:
            self.latest[member] = found.get(member)

    def check_open(self, at: int, what: str) -> None:
        if self.closed and self.closed.covers(at):
            raise Refused(self.closed.refusal(at, what))

    def _in_order(self, members: Sequence[int], at: int) -> bool:
        self.preload(members)
        return all(self.latest[m] is None or self.latest[m] <= at for m in members)

    def _seen(self, member: int, at: int) -> None:
        if member in self.latest:
            latest = self.latest[member]
            self.latest[member] = at if latest is None else max(latest, at)

    def credit(self, entry: NewEntry) -> int:
        """A fresh credit (earn, bonus, positive adjustment).

        Its points do not depend on the member's lots, so it is buffered for
        executemany with a lot of its own. When it needs more (the member owes
        points, or it restarts an inactivity clock) it is posted at once; when
        it is dated before what the member has, the member is replayed once
        before anything reads their lots (`settle`), however many such
        credits an import brings.
        """
        member, at = entry.member, entry.effective_at
        in_order = self._in_order([member], at)
        if member not in self.unsettled and in_order and (member in self.indebted or self.rules.extension(at)):
            return self.post([member], at, lambda book: [entry])[0]
        self.check_open(at, f"the {entry.kind} entry")

        def lots(entry_id: int) -> list[Lot]:
            book = Book(next_lot_id=self.next_lot)
            book.credit(entry_id, member, entry.points, at, self.rules.lot_expires(at), entry.available_at)
            self.next_lot = book.next_lot_id
            return book.new_lots

        if not in_order:
            self.unsettled.add(member)
        entry_id = self.chain.queue(entry, lots)
        self._seen(member, at)
        return entry_id

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
        if self._in_order(members, at):
            book = store.fetch_book(self.db, members, about, self.next_lot)
            entries = decide(book)
            ids = self._append(entries)
            for entry_id, entry in zip(ids, entries):
                apply(book, _posting(entry_id, entry), self.rules)
            store.write_book(self.db, book)
            self._wrote(book, members)
            return ids
        group = store.linked_members(self.db, members)
        history = store.fetch_history(self.db, group)
        entries = decide(replay([p for p in history.postings if p.at <= at], self.rules, 1))
        if not entries:
            return []
        ids = self._append(entries)
        new = [_posting(entry_id, entry) for entry_id, entry in zip(ids, entries)]
        book = self._rebuild(group, history, new)
        if spends and (short := new_shortfalls(replay(history.postings, self.rules, 1), book, history.postings + new)):
            day = local_date(short[0].at, self.ref.timezone)
            raise Refused(f"short balance: dated {local_date(at, self.ref.timezone)}, this would spend points "
                          f"that entry {short[0].id} spent on {day}")
        return ids

    def settle(self, members: Sequence[int] | None = None) -> None:
        """Replay the members (default: all) that credits dated earlier left unsettled, a few hundred at a time."""
        self.chain.flush()
        pending = sorted(m for m in (self.unsettled if members is None else members) if m in self.unsettled)
        for start in range(0, len(pending), SETTLE_MEMBERS):
            chunk = [m for m in pending[start : start + SETTLE_MEMBERS] if m in self.unsettled]
            if chunk:
                group = store.linked_members(self.db, chunk)
                self._rebuild(group, store.fetch_history(self.db, group), [])

    def joined(self, member: int) -> None:
        """A member just added has no entries: nothing to look up before their first posting."""
        self.latest[member] = None

    def _rebuild(self, group: list[int], history: store.History, new: list[Posting]) -> Book:
        """Replay the group's whole history (and the new postings), give back posted expiries that no
        longer hold, and replace the group's lots, takes and debts with the replay's."""
        book = replay([*history.postings, *new], self.rules, store.next_lot_id(self.db))
        posted = list(history.expiries)
        for member, credit, expired_at, points in expiry_corrections(book, posted):
            correction = NewEntry(member, "expire", points, expired_at, ref=credit,
                                  reason="expiry given back: activity or a posting dated before it changed what expired")
            posted.append(PostedExpiry(self._append([correction])[0], credit, expired_at, points))
        allocate_expiries(book, posted)
        store.replace_books(self.db, group, book)
        self._wrote(book, group)
        for member in group:
            self.unsettled.discard(member)
        return book

    def expire_due(self, before: int) -> list[tuple[int, int]]:
        """Post the expiry of every lot expired before an instant with points left, each dated its expiry.

        Returns (member, points) per lot expired.
        """
        self.settle()
        due = store.fetch_due_expiries(self.db, self.ref.id, before)
        book, expired = Book(due, next_lot_id=self.next_lot), []
        for lot in due:
            expired.append((lot.member, lot.remaining))
            entry_id = self._append([NewEntry(lot.member, "expire", -lot.remaining, lot.expires_at,
                                              reason="points expired", ref=lot.entry)])[0]
            book.expire(lot.id, entry_id)
        store.write_book(self.db, book)
        return expired

    def _append(self, entries: list[NewEntry]) -> list[int]:
        ids = []
        for entry in entries:
            self.check_open(entry.effective_at, f"the {entry.kind} entry")
            ids.append(self.chain.append(entry))
            self._seen(entry.member, entry.effective_at)
        return ids

    def _wrote(self, book: Book, members: Iterable[int]) -> None:
        self.next_lot = max(self.next_lot, book.next_lot_id)
        owing = {d.member for d in book.debts.values() if d.remaining > 0}
        for member in members:
            if member in owing:
                self.indebted.add(member)
            else:
                self.indebted.discard(member)

    def save(self) -> None:
        self.settle()
        self.chain.save_head()


@contextmanager
def posting(db: Database, ref: programs.ProgramRef, versions: VersionTable | None = None) -> Iterator[Poster]:
    """A Poster whose chain head is saved when the block ends without error."""
    poster = Poster(db, ref, versions)
    yield poster
    poster.save()


def expiring_as_of(db: Database, ref: programs.ProgramRef, versions: VersionTable, member: int, before: int,
                   until: int) -> list[tuple[int, int]]:
    """(expiry instant, points) of a member's points alive at `before` that expire before `until`, as they
    stood then. Under `inactivity` later activity has since moved lots' expiry, so the member's history up
    to `before` is replayed; otherwise the lots as stored say it."""
    if not any(p.expiry and p.expiry.policy == "inactivity" for p in versions.all()):
        return store.expiring_as_of(db, member, before, until)
    group = store.linked_members(db, [member])  # transfers in carry the expiry of the giver's lots
    book = replay([p for p in store.fetch_history(db, group).postings if p.at < before],
                  expiry_rules(versions, ref.timezone), 1)
    expiring: dict[int, int] = {}
    for lot in book.member_lots(member):
        if lot.remaining and lot.expires_at is not None and before <= lot.expires_at < until:
            expiring[lot.expires_at] = expiring.get(lot.expires_at, 0) + lot.remaining
    return sorted(expiring.items())
