"""The points ledger in SQL: append-only entries chained by hash, and the lots, takes and debts behind them.

This module reads what the posting rules (`core.posting`) need and writes
what they decided; it decides nothing. Writes run inside a `write()`
transaction, so what a posting reads is what it changes.
"""

import time
from collections.abc import Callable, Iterable, Iterator, Sequence

from msgspec import Struct

from loyaltyctl.core.balances import UNKNOWN, Kept, MemberLedger
from loyaltyctl.core.chain import GENESIS, entry_digest
from loyaltyctl.core.members import MemberIndex
from loyaltyctl.core.posting import Book, Debt, Lot, PostedExpiry, Posting, Refund, Take
from loyaltyctl.core.vouchers import Voucher
from loyaltyctl.model import Entry, Member
from loyaltyctl.storage.db import Ids, Store, in_chunks
from loyaltyctl.storage.lot_life import alive_before, expired_before, expiring_between
from loyaltyctl.storage.members import MEMBER_FIELDS, lookup_params, member_columns, member_from_row, member_lookup
from loyaltyctl.storage.vouchers import VOUCHERS_FROM, voucher_columns, voucher_from_row


class NewEntry(Struct, frozen=True):
    """An entry to append; `points` is signed."""

    member: int
    kind: str
    points: int
    effective_at: int
    key: str | None = None
    reason: str | None = None
    reward: str | None = None
    money: int | None = None
    charity: str | None = None
    ref: int | None = None
    available_at: int | None = None  # not stored with the entry: when a fresh credit's points stop pending


_ENTRY_COLUMNS = """e.id, e.member, m.member_id, e.kind, e.points, e.effective_at, e.recorded_at,
                    e.key, e.reason, e.reward, e.money, e.charity, e.ref"""
# What an entry's digest covers, chained to the member's entry before it (`seq` counts the member's entries).
HASHED_COLUMNS = ("program_id, id, member, seq, kind, points, effective_at, recorded_at, key, reason, reward, "
                  "money, charity, ref")
# Entries written before per-member chains (seq NULL) were chained per program, over these.
LEGACY_HASHED_COLUMNS = HASHED_COLUMNS.replace(" seq,", "")


WEEK_SECONDS = 7 * 86400  # entry_totals' weeks: effective_at // WEEK_SECONDS (Unix weeks, from a Thursday)
WEEK_OF_EFFECTIVE_AT = (f"(effective_at - ((effective_at % {WEEK_SECONDS}) + {WEEK_SECONDS}) % {WEEK_SECONDS})"
                        f" / {WEEK_SECONDS}")  # floored, as Python's // (SQL's / and % truncate toward zero)
_TOTALS_FIELDS = ("program_id", "week", "points", "entries")
_ENTRY_FIELDS = (*HASHED_COLUMNS.split(", "), "hash")
_LOT_FIELDS = ("id", "entry", "member", "points", "earned_at", "expires_at", "available_at", "remaining", "expired",
               "issued_at")
_TAKE_FIELDS = ("debit", "lot", "points", "at")
_DEBT_FIELDS = ("debit", "member", "points", "remaining", "at")
# Written with each row of lots, takes and debts: its program, the column a distributed database (Citus)
# places every ledger row by (README "Beyond one server").
_LOT_ROW, _TAKE_ROW, _DEBT_ROW = ((*fields, "program_id") for fields in (_LOT_FIELDS, _TAKE_FIELDS, _DEBT_FIELDS))


def hashed_fields(program_id: int, entry_id: int, entry: NewEntry, seq: int, recorded_at: int) -> tuple:
    """The fields the chain covers, in HASHED_COLUMNS order."""
    return (program_id, entry_id, entry.member, seq, entry.kind, entry.points, entry.effective_at, recorded_at,
            entry.key, entry.reason, entry.reward, entry.money, entry.charity, entry.ref)


class ChainWriter:
    """Appends entries for one program, each chained to the member's entry before it.

    `heads(member)` gives the member's `MemberLedger`, whose head this moves
    on. Fresh credits and their lots can be buffered (`queue`) and written
    with executemany; anything that reads the ledger flushes first (`flush`).
    Every entry written adds its points to its week in `entry_totals`, as a
    row of its own: rows only ever arrive, so tills never wait on a week.
    """

    def __init__(self, db: Store, program_id: int, heads: Callable[[int], MemberLedger], ids: Ids,
                 recorded_at: int | None = None):
        self.db = db
        self.program_id = program_id
        self.recorded_at = int(time.time()) if recorded_at is None else recorded_at
        self.heads = heads
        self.ids = ids
        self.last_id: int | None = None
        self._entry_rows: list[tuple] = []
        self._lot_rows: list[tuple] = []
        self._weeks: dict[int, list[int]] = {}  # week -> [points, entries] written since the last add

    def _entry_row(self, entry: NewEntry) -> tuple:
        """The next entry's row, chained to the member's entry before it."""
        entry_id = next(self.ids)
        head = self.heads(entry.member)
        fields = hashed_fields(self.program_id, entry_id, entry, head.head_seq + 1, self.recorded_at)
        digest = entry_digest(head.head_hash or GENESIS, fields)
        head.head_seq, head.head_hash, self.last_id = head.head_seq + 1, digest, entry_id
        week = self._weeks.setdefault(entry.effective_at // WEEK_SECONDS, [0, 0])
        week[0] += entry.points
        week[1] += 1
        return (*fields, digest)

    def append(self, entry: NewEntry) -> int:
        """Append one entry now (after anything buffered)."""
        self.flush()
        self.db.insert("entries", _ENTRY_FIELDS, [self._entry_row(entry)])
        self._add_totals()
        return self.last_id

    def queue(self, entry: NewEntry, lots: Callable[[int], Iterable[Lot]]) -> int:
        """Buffer an entry and the lots `lots(entry_id)` gives it; written at the next `flush`."""
        self._entry_rows.append(self._entry_row(entry))
        self._lot_rows.extend(_lot_row(self.program_id, lot) for lot in lots(self.last_id))
        return self.last_id

    def flush(self) -> None:
        """Write buffered entries before the lots that reference them."""
        if self._entry_rows:
            self.db.insert("entries", _ENTRY_FIELDS, self._entry_rows)
            self.db.insert("lots", _LOT_ROW, self._lot_rows)
            self._entry_rows.clear()
            self._lot_rows.clear()
            self._add_totals()

    def _add_totals(self) -> None:
        self.db.insert("entry_totals", _TOTALS_FIELDS, [(self.program_id, week, points, entries)
                                                        for week, (points, entries) in self._weeks.items()])
        self._weeks.clear()


def compact_totals(db: Store, program_id: int) -> None:
    """One row per week again for a program (inside a write that excludes its postings): reports that sum
    the weeks read as many rows as there are weeks, however many postings added to them."""
    split = db.execute("SELECT week, sum(points), sum(entries) FROM entry_totals WHERE program_id = ?"
                       " GROUP BY week HAVING count(*) > 1", [program_id]).fetchall()
    for chunk, marks in in_chunks([week for week, _, _ in split]):
        db.execute(f"DELETE FROM entry_totals WHERE program_id = ? AND week IN ({marks})", [program_id, *chunk])
    db.insert("entry_totals", _TOTALS_FIELDS, [(program_id, week, points, entries) for week, points, entries in split])


def _lot_row(program_id: int, lot: Lot) -> tuple:
    return (lot.id, lot.entry, lot.member, lot.points, lot.earned_at, lot.expires_at, lot.available_at,
            lot.remaining, lot.expired, lot.issued_at, program_id)


def _take_row(program_id: int, take: Take) -> tuple:
    return take.debit, take.lot, take.points, take.at, program_id


def _debt_row(program_id: int, debt: Debt) -> tuple:
    return debt.debit, debt.member, debt.points, debt.remaining, debt.at, program_id


MEMBER_LEDGER_COLUMNS = ("id, head_seq, head_hash, latest_at, owed, kept_at, kept_points, kept_pending, "
                         "kept_until, revision")


def member_ledger(row: Sequence) -> MemberLedger:
    """A `MemberLedger` from a row of MEMBER_LEDGER_COLUMNS."""
    member, seq, head, latest, owed, at, points, pending, until, revision = row
    return MemberLedger(member, seq, bytes(head) if head is not None else None, latest, owed,
                        Kept(at, points, pending, until) if at is not None else UNKNOWN, revision)


def fetch_member_ledgers(db: Store, members: Sequence[int]) -> dict[int, MemberLedger]:
    """The members' ledger rows (a few hundred per query)."""
    found: dict[int, MemberLedger] = {}
    for chunk, marks in in_chunks(members):
        for row in db.execute(f"SELECT {MEMBER_LEDGER_COLUMNS} FROM members WHERE id IN ({marks})", chunk):
            found[row[0]] = member_ledger(row)
    return found


def write_member_ledgers(db: Store, program_id: int, rows: Iterable[MemberLedger]) -> None:
    """The rows of these members of a program as they are now, each a revision on from the one read."""
    db.update_rows("members", "id", MEMBER_LEDGER_COLUMNS.split(", ")[1:],
                   [(r.head_seq, r.head_hash, r.latest_at, r.owed, r.kept.at, r.kept.points, r.kept.pending,
                     r.kept.until, r.revision + 1, r.id) for r in rows], program_id)


def fetch_book(db: Store, members: Sequence[int], about: Sequence[int], lot_ids: Iterator[int]) -> Book:
    """The members' lots holding points and their open debts, as they stand; and for each entry in
    `about` (a reversal's or a clawback's target), its own lots and what it took from which lots."""
    marks = ",".join("?" * len(members))
    lots = db.execute(f"SELECT {_LOT_COLUMNS} FROM lots WHERE member IN ({marks}) AND remaining > 0",
                      list(members)).fetchall()
    taken: dict[int, list[tuple[int, int]]] = {}
    for entry in about:
        lots += db.execute(f"SELECT {_LOT_COLUMNS} FROM lots WHERE entry = ?", [entry]).fetchall()
        lots += db.execute(f"SELECT {_LOT_COLUMNS} FROM lots WHERE id IN (SELECT lot FROM consumptions WHERE debit = ?)",
                           [entry]).fetchall()
        taken[entry] = db.execute("SELECT lot, points FROM consumptions WHERE debit = ? AND points > 0"
                                  " ORDER BY rowid", [entry]).fetchall()
    debts = db.execute(f"SELECT debit, member, points, remaining, at FROM debts WHERE member IN ({marks})"
                       " AND remaining > 0", list(members)).fetchall()
    book = Book((Lot(*row) for row in lots), (Debt(*row) for row in debts), lot_ids)
    book.taken_by.update(taken)
    return book


def write_book(db: Store, program_id: int, book: Book) -> None:
    """Write what a book of a program's members changed: new lots, lots' remaining points and expiry, takes,
    debts."""
    new = {lot.id for lot in book.new_lots}
    db.insert("lots", _LOT_ROW, [_lot_row(program_id, lot) for lot in book.new_lots])
    db.update_rows("lots", "id", ("remaining", "expired", "expires_at"),
                   [(lot.remaining, lot.expired, lot.expires_at, lot.id)
                    for lot_id in sorted(book.changed_lots - new) if (lot := book.lots[lot_id])], program_id)
    db.insert("consumptions", _TAKE_ROW, [_take_row(program_id, take) for take in book.takes])
    db.upsert("debts", _DEBT_ROW, [_debt_row(program_id, debt)
                                   for debit in sorted(book.changed_debts) if (debt := book.debts[debit])],
              "debit", ("remaining",))


class History(Struct, frozen=True):
    """Everything a replay of some members needs: their entries and the expiries already posted."""

    postings: list[Posting]
    expiries: list[PostedExpiry]
    refunds: list[Refund]


def linked_members(db: Store, members: Iterable[int]) -> list[int]:
    """The members, and every member a transfer links them to (transitively): a replay from nothing of one
    side of a transfer needs the lots the other side gave or received."""
    found, todo = set(members), list(members)
    while todo:
        member = todo.pop()
        for (other,) in db.execute(
            """SELECT o.member FROM entries e JOIN entries o ON o.program_id = e.program_id AND o.id = e.ref
               WHERE e.member = :m AND e.kind = 'transfer_in'
               UNION
               SELECT o.member FROM entries e
                    JOIN entries o ON o.program_id = e.program_id AND o.ref = e.id AND o.kind = 'transfer_in'
               WHERE e.member = :m AND e.kind = 'transfer_out'""", {"m": member}):
            if other not in found:
                found.add(other)
                todo.append(other)
    return sorted(found)


def fetch_history(db: Store, members: Sequence[int]) -> History:
    marks = ",".join("?" * len(members))
    postings = [Posting(*row) for row in db.execute(
        f"""SELECT e.id, e.member, e.kind, e.points, e.effective_at, e.ref,
                   (SELECT min(l.available_at) FROM lots l WHERE l.program_id = e.program_id AND l.entry = e.id)
            FROM entries e WHERE e.member IN ({marks}) AND e.kind != 'expire'""", list(members))]
    expiries = [PostedExpiry(*row) for row in db.execute(
        f"""SELECT e.id, (SELECT l.entry FROM consumptions c JOIN lots l ON l.program_id = c.program_id AND l.id = c.lot
                          WHERE c.program_id = e.program_id AND c.debit = e.id LIMIT 1), e.effective_at, e.points
            FROM entries e WHERE e.member IN ({marks}) AND e.kind = 'expire'""", list(members))]
    return History(postings, expiries, _fetch_refunds(db, members))


def _fetch_refunds(db: Store, members: Sequence[int]) -> list[Refund]:
    """Refunds of purchases that earned, left out where an operator reversed the earn before (or as) the
    refund, or reversed one of its clawbacks: what was taken back there is the operator's figure, not a
    refund's."""
    marks = ",".join("?" * len(members))
    # The members' refunds first (MATERIALIZED): a planner that thinks the table empty (PostgreSQL inside a
    # first import) would otherwise walk every purchase and look for its refunds.
    return [Refund(*row) for row in db.execute(
        f"""WITH r AS MATERIALIZED (SELECT program_id, id, member, occurred_at, amount, refund_of FROM transactions
                                    WHERE member IN ({marks}) AND refund_of IS NOT NULL)
            SELECT r.id, o.entry, r.member, r.occurred_at, -r.amount, o.amount, o.points
            FROM r JOIN transactions o ON o.program_id = r.program_id AND o.id = r.refund_of
            WHERE o.entry IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM entries v WHERE v.program_id = o.program_id AND v.kind = 'reverse'
                                                                AND v.ref = o.entry
                                                                AND v.effective_at <= r.occurred_at)
              AND NOT EXISTS (SELECT 1 FROM entries c
                              JOIN entries v ON v.program_id = c.program_id AND v.ref = c.id AND v.kind = 'reverse'
                              WHERE c.program_id = o.program_id AND c.ref = o.entry AND c.kind = 'clawback')""", list(members))]


def replace_books(db: Store, program_id: int, members: Sequence[int], book: Book) -> None:
    """Replace the lots, takes and debts of these members of a program with a replayed book's (entries are
    untouched)."""
    marks = ",".join("?" * len(members))
    db.execute(f"DELETE FROM consumptions WHERE lot IN (SELECT id FROM lots WHERE member IN ({marks}))",
               list(members))
    db.execute(f"DELETE FROM debts WHERE member IN ({marks})", list(members))
    db.execute(f"DELETE FROM lots WHERE member IN ({marks})", list(members))
    db.insert("lots", _LOT_ROW, [_lot_row(program_id, lot) for lot in book.lots.values()])
    db.insert("consumptions", _TAKE_ROW, [_take_row(program_id, take) for take in book.takes])
    db.insert("debts", _DEBT_ROW, [_debt_row(program_id, debt) for debt in book.debts.values()])


_LOT_COLUMNS = ", ".join(_LOT_FIELDS)


def _fetch_entries(db: Store, where: str, params: list | dict) -> list[Entry]:
    rows = db.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries e JOIN members m ON m.program_id = e.program_id AND m.id = e.member"
                      f" WHERE {where}", params)
    return [Entry(*row) for row in rows]


def fetch_entries_referring(db: Store, entry_id: int, kind: str) -> list[Entry]:
    return _fetch_entries(db, "e.ref = ? AND e.kind = ?", [entry_id, kind])


def fetch_key_owners(db: Store, program_id: int, keys: list[str]) -> dict[str, int]:
    """Which of these idempotency keys entries already carry, and the member (row id) of each."""
    owners: dict[str, int] = {}
    for chunk, marks in in_chunks(keys):
        owners.update(db.execute(f"SELECT key, member FROM entries WHERE program_id = ? AND key IN ({marks})",
                                 [program_id, *chunk]).fetchall())
    return owners


def fetch_refunds_standing(db: Store, entry_id: int) -> tuple[int | None, int]:
    """Of a purchase's credit entry, in one read: when it was reversed (None: it was not), and the points
    refunds took back from it (net of reversed clawbacks)."""
    return tuple(db.execute(
        """SELECT (SELECT effective_at FROM entries WHERE ref = :e AND kind = 'reverse'),
                  (SELECT coalesce(sum(-c.points), 0) - coalesce(sum(r.points), 0) FROM entries c
                   LEFT JOIN entries r ON r.program_id = c.program_id AND r.ref = c.id AND r.kind = 'reverse'
                   WHERE c.ref = :e AND c.kind = 'clawback')""", {"e": entry_id}).fetchone())


def fetch_earned(db: Store, member: int, start: int, end: int) -> list[tuple[int, int]]:
    """(effective_at, points) of the member's `earn` entries in [start, end): purchases and points by hand."""
    return [tuple(row) for row in db.execute(
        "SELECT effective_at, points FROM entries WHERE member = ? AND effective_at >= ? AND effective_at < ?"
        " AND kind = 'earn' AND points > 0", [member, start, end])]


def _of_member(member: str, program: str | None, table: str = "") -> str:
    """The condition for a member's rows of a table (`program`, the member's program where a query names it,
    lets Citus find them on one shard)."""
    column = f"{table}." if table else ""
    return f"{column}program_id = {program} AND {column}member = {member}" if program else f"{column}member = {member}"


def points_at_sql(member: str, instant: str, program: str | None = None) -> str:
    """SQL for a member's points at an instant: entries effective before it, less lots expired by then but
    not yet posted. Every take from an expired lot happened before its expiry, so a lot's current
    `remaining` is exactly what its unposted expiry would remove. (`member`, `instant`, `program`: SQL
    expressions.)"""
    return f"""((SELECT coalesce(sum(points), 0) FROM entries
                 WHERE {_of_member(member, program)} AND effective_at < {instant})
                - (SELECT coalesce(sum(remaining), 0) FROM lots
                   WHERE {_of_member(member, program)} AND remaining > 0 AND {expired_before('lots', instant)}))"""


def _lots_as_of(where: str, member: str = ":m", instant: str = ":t", program: str | None = None) -> str:
    """Lots alive at an instant with the points they held then (takes dated before it deducted)."""
    return f"""SELECT l.id, l.expires_at, l.available_at,
                      l.points - coalesce((SELECT sum(c.points) FROM consumptions c
                                           WHERE c.program_id = l.program_id AND c.lot = l.id
                                             AND c.at < {instant}), 0) AS held
               FROM lots l
               WHERE {_of_member(member, program, 'l')} AND {alive_before('l', instant)} AND {where}"""


def pending_at_sql(member: str, instant: str, program: str | None = None) -> str:
    """SQL for a member's points issued but not yet spendable (inside the pending window) at an instant."""
    pending = _lots_as_of(f"l.available_at >= {instant}", member, instant, program)
    return f"(SELECT coalesce(sum(held), 0) FROM ({pending}) AS alive)"


def balance_as_of(db: Store, member: int, before: int) -> int:
    return db.execute(f"SELECT {points_at_sql(':m', ':t')}", {"m": member, "t": before}).fetchone()[0]


def pending_as_of(db: Store, member: int, before: int) -> int:
    return db.execute(f"SELECT {pending_at_sql(':m', ':t')}", {"m": member, "t": before}).fetchone()[0]


def expiring_as_of(db: Store, member: int, before: int, until: int) -> list[tuple[int, int]]:
    """(expiry instant, points) for lots alive at `before` that expire before `until`."""
    return db.execute(
        f"""SELECT expires_at, sum(held) FROM ({_lots_as_of(expired_before('l', ':u'))}) AS alive
            WHERE held > 0 GROUP BY expires_at ORDER BY expires_at""",
        {"m": member, "t": before, "u": until},
    ).fetchall()


def fetch_due_expiries(db: Store, program_id: int, before: int) -> list[Lot]:
    """Lots of a program expired before an instant with points left, by expiry."""
    return [Lot(*row) for row in db.execute(
        f"""SELECT {', '.join('l.' + c for c in _LOT_COLUMNS.split(', '))} FROM lots l JOIN members m ON m.program_id = l.program_id AND m.id = l.member
            WHERE m.program_id = ? AND l.remaining > 0 AND {expired_before('l', '?')} ORDER BY l.expires_at, l.entry, l.id""",
        [program_id, before])]

def fetch_movements(db: Store, member: int, start: int, end: int) -> list[tuple[int, str, int, str | None]]:
    """A member's entries effective in [start, end): (effective_at, kind, points, reason), in order."""
    return db.execute(
        """SELECT effective_at, kind, points, reason FROM entries
           WHERE member = ? AND effective_at >= ? AND effective_at < ? ORDER BY effective_at, id""",
        [member, start, end],
    ).fetchall()


def fetch_unposted_expiries(db: Store, member: int, start: int, end: int) -> list[tuple[int, int]]:
    """Lots that expired in [start, end) with points `expire` has not posted yet: (expires_at, points)."""
    return db.execute(
        f"""SELECT expires_at, sum(remaining) FROM lots
           WHERE member = ? AND remaining > 0 AND {expiring_between('lots', '?', '?')}
           GROUP BY expires_at ORDER BY expires_at""",
        [member, start, end],
    ).fetchall()


def saved_as_of(db: Store, member: int, before: int) -> int:
    """Money value of the rewards a member redeemed before an instant (net of reversals; donations excluded)."""
    return db.execute(
        """SELECT coalesce(sum(money), 0) FROM entries
           WHERE member = ? AND kind IN ('redeem', 'reverse') AND charity IS NULL AND money IS NOT NULL
             AND effective_at < ?""",
        [member, before],
    ).fetchone()[0]


def members_active_since(db: Store, program_id: int, since: int, kinds: Sequence[str],
                         member: int | None = None) -> list[int]:
    """Members (or just `member`) with entries of these kinds effective at or after `since`."""
    one = "AND member = ?" if member is not None else ""
    return [row[0] for row in db.execute(
        f"""SELECT DISTINCT member FROM entries WHERE program_id = ? AND effective_at >= ? {one}
            AND kind IN ({','.join('?' * len(kinds))}) ORDER BY member""",
        [program_id, since, *([member] if member is not None else []), *kinds])]


def expiring_by_member(db: Store, program_id: int, before: int, until: int,
                       skip: Sequence[int] = ()) -> list[tuple[int, int, int]]:
    """Members (but those in `skip`) with points alive at `before` that expire before `until`:
    (member row, points, first expiry)."""
    return db.execute(
        f"""SELECT member, sum(held), min(expires_at) FROM (
               SELECT l.member, l.expires_at,
                      l.points - coalesce((SELECT sum(c.points) FROM consumptions c
                                           WHERE c.program_id = l.program_id AND c.lot = l.id
                                             AND c.at < :t), 0) AS held
               FROM lots l JOIN members m ON m.program_id = l.program_id AND m.id = l.member
               WHERE m.program_id = :p AND l.earned_at < :t AND {expiring_between('l', ':t', ':u')}
                 AND {db.not_in("l.member", "skip")}) AS alive
           WHERE held > 0 GROUP BY member ORDER BY min(expires_at), member""",
        {"p": program_id, "t": before, "u": until, "skip": db.id_list(skip)},
    ).fetchall()


class CounterReads(Struct):
    """What a counter posting reads before it decides, in one round trip (see `read_counter`)."""

    epoch: int  # the program's, to check a kept program state against
    members: dict[str, tuple[int, Member, MemberLedger]]  # by the name (id, card or email) they were asked by
    key_entry: Entry | None  # the entry already posted with the posting's key
    book: Book
    about: tuple[int, ...]
    reversals: dict[int, int]  # of the entries in `about`, those reversed already: the reversal's id
    clawed_back: dict[int, int]  # of the credits in `about`, what refunds took back (net of reversed clawbacks)
    vouchers: dict[int, Voucher]  # of the redemptions in `about`, the voucher each issued
    entry_ids: Ids
    lot_ids: Ids


_COUNTER_SQL: dict[tuple, tuple[str, str, str | None]] = {}


def _counter_sql(db: Store, idents: int, about: int, keyed: bool, entry_ids: int, lot_ids: int
                 ) -> tuple[str, str, str | None]:
    """`read_counter`'s statements (lock, read, and the ids where the store draws them apart) for so many
    members and entries, written once; what a posting without entries to look into or without a key does
    not need is an empty list, not a query."""
    shape = (type(db), idents, about, keyed, entry_ids, lot_ids)
    if shape in _COUNTER_SQL:
        return _COUNTER_SQL[shape]
    each = " UNION ALL ".join(f"SELECT {member_lookup(f'i{n}')} AS id" for n in range(idents))
    found = "SELECT id FROM found"
    about_marks = ",".join(f":a{n}" for n in range(about))
    in_program = "m.program_id = :p AND " if db.members_by_program else ""
    locking = f"""SELECT m.id FROM members m
                  WHERE {in_program}m.id IN ({each}) AND EXISTS (SELECT 1 FROM programs WHERE id = :p {db.share_lock})
                  ORDER BY m.id {db.row_lock}"""
    ledger_columns = [f"m.{c}" for c in MEMBER_LEDGER_COLUMNS.split(", ")[1:]]
    ledger_columns[1] = db.hex("m.head_hash")
    # Lots, debts and the entries asked about are named with the program (on Citus, a shard of it), by
    # value in correlated subqueries too: Citus then sends the whole read to that shard as one statement.
    # The members by id alone unless the store needs the program: SQLite, told it, read every member of it.
    lots = f"SELECT {_LOT_COLUMNS} FROM lots WHERE program_id = :p AND member IN ({found}) AND remaining > 0"
    none = "'[]'"
    ids = f"""{db.next_ids("entries", entry_ids)}, {db.next_ids("lots", lot_ids)}"""

    def about_rows(columns: str, from_sql: str) -> str:
        return db.json_rows(columns, from_sql) if about else none

    if about:
        lots += f""" UNION SELECT {_LOT_COLUMNS} FROM lots WHERE program_id = :p AND entry IN ({about_marks})
                    UNION SELECT {_LOT_COLUMNS} FROM lots
                          WHERE program_id = :p AND id IN (SELECT lot FROM consumptions
                                                          WHERE program_id = :p AND debit IN ({about_marks}))"""
    clawbacks = f"""FROM entries c
                    LEFT JOIN entries r ON r.program_id = c.program_id AND r.ref = c.id AND r.kind = 'reverse'
                    WHERE c.program_id = :p AND c.ref IN ({about_marks}) AND c.kind = 'clawback'"""
    key_entry = db.json_rows(_ENTRY_COLUMNS, "FROM entries e JOIN members m ON m.program_id = e.program_id AND m.id = e.member"
                                             " WHERE e.program_id = :p AND e.key = :key") if keyed else none
    reading = f"""WITH found AS MATERIALIZED ({each})
                  SELECT (SELECT epoch FROM programs WHERE id = :p),
                  {db.json_rows(f"m.id, {member_columns(':p')}, {', '.join(ledger_columns)}",
                                f"FROM members m WHERE {in_program}m.id IN ({found})")},
                  {db.json_rows(_LOT_COLUMNS, f"FROM ({lots}) AS held")},
                  {db.json_rows(", ".join(_DEBT_FIELDS),
                                f"FROM debts WHERE program_id = :p AND member IN ({found}) AND remaining > 0")},
                  {about_rows("debit, lot, points, rowid",
                              f"FROM consumptions WHERE program_id = :p AND debit IN ({about_marks}) AND points > 0")},
                  {key_entry},
                  {about_rows("ref, id",
                              f"FROM entries WHERE program_id = :p AND kind = 'reverse' AND ref IN ({about_marks})")},
                  {about_rows("c.ref, -c.points, coalesce(r.points, 0)", clawbacks)},
                  {about_rows(voucher_columns(":p"), f"{VOUCHERS_FROM} WHERE v.program_id = :p AND v.entry IN ({about_marks})")}
                  {f", {ids}" if db.ids_in_read else ""}"""
    _COUNTER_SQL[shape] = (locking, reading, None if db.ids_in_read else f"SELECT {ids}")
    return _COUNTER_SQL[shape]


def read_counter(db: Store, program_id: int, program: str, idents: Sequence[str], key: str | None,
                 about: Sequence[int] = (), entry_ids: int = 1, lot_ids: int = 1, lock: bool = False
                 ) -> CounterReads:
    """Read what a posting for these members (by member id, card or email) decides on, in one statement:
    the program's epoch, their rows, every lot of theirs holding points and every debt, the lots, takes
    and reversals of the entries in `about`, the entry a key was used for, and the first ids to write.

    `lock`: first lock the program shared and the members' rows (in id order), so the read sees every
    posting that held them before (a SHARED write; both statements go out together). Otherwise (an
    OPTIMISTIC write) lock nothing, and guard the write: it writes only if the program's epoch and the
    members' revisions are still as read.
    """
    params = {"p": program_id, "key": key, **{f"a{n}": entry for n, entry in enumerate(about)}}
    for n, ident in enumerate(idents):
        params |= lookup_params(f"i{n}", ident)
    locking, reading, drawing = _counter_sql(db, len(idents), len(about), key is not None, entry_ids, lot_ids)
    if lock and db.row_lock:  # (SQLite's write holds the whole file already)
        db.execute(locking, params)
    drawn = drawing and db.execute(drawing)  # after the locks, as in the read
    read = db.execute(reading, params)
    epoch, rows, held, debts, takes, keyed, reversed_, clawed, vouchers, *ids = read.fetchone()
    first_entry, first_lot = drawn.fetchone() if drawn else ids
    read_members: dict[int, tuple[int, Member, MemberLedger]] = {}
    index = MemberIndex()  # which of them each ident named, as the lookup found them
    revisions = []
    for row in sorted(db.json_value(rows), key=lambda row: row[0]):
        member = member_from_row(program, row[1:MEMBER_FIELDS + 1])
        seq, head, *rest = row[MEMBER_FIELDS + 1:]
        ledger = member_ledger((row[0], seq, bytes.fromhex(head) if head else None, *rest))
        revisions.append((row[0], ledger.revision))
        read_members[row[0]] = (row[0], member, ledger)
        index.add(row[0], member.member_id, member.card, member.email)
    members = {ident: read_members[found] for ident in idents if (found := index.find(ident)) is not None}
    if not lock:
        _guard_counter(db, program_id, epoch, revisions)
    first_entries, first_lots = db.ids_from("entries", first_entry), db.ids_from("lots", first_lot)
    book = Book((Lot(*row) for row in db.json_value(held)), (Debt(*row) for row in db.json_value(debts)),
                first_lots)
    for debit, lot, points, _ in sorted(db.json_value(takes), key=lambda take: (take[0], take[3])):
        book.taken_by.setdefault(debit, []).append((lot, points))
    key_rows, clawed_back = db.json_value(keyed), dict.fromkeys(about, 0)
    for credit, taken, given_back in db.json_value(clawed):
        clawed_back[credit] += taken - given_back
    return CounterReads(epoch, members, Entry(*key_rows[0]) if key_rows else None, book, tuple(about),
                        dict(db.json_value(reversed_)), clawed_back,
                        {row[4]: voucher_from_row(row) for row in db.json_value(vouchers)}, first_entries, first_lots)


def _guard_counter(db: Store, program_id: int, epoch: int, revisions: Sequence[tuple[int, int]]) -> None:
    """An optimistic posting writes only while its program has no new version or close (the epoch; its row
    locked shared, so after any program-wide write under way) and its members' ledgers were not written
    since it read them (their revisions; their rows locked in id order)."""
    members = " OR ".join("(id = ? AND revision = ?)" for _ in revisions) or "false"
    in_program, program = ("program_id = ? AND ", [program_id]) if db.members_by_program else ("", [])
    db.guard(f"""SELECT (SELECT count(*) FROM (SELECT 1 FROM programs WHERE id = ? AND epoch = ? {db.share_lock})
                         AS program) = 1
                    AND (SELECT count(*) FROM (SELECT 1 FROM members WHERE {in_program}({members})
                                               ORDER BY id {db.row_lock}) AS member) = ? AS ok""",
             [program_id, epoch, *program, *(value for pair in revisions for value in pair), len(revisions)])


def fetch_reversal_targets(db: Store, program_id: int, entry_id: int) -> list[Entry]:
    """An entry and, for a side of a transfer, the other side: what reversing it reverses (none: no such
    entry in the program)."""
    return _fetch_entries(db, """e.program_id = :p AND (e.id = :e
                                   OR (e.ref = :e AND e.kind = 'transfer_in'
                                       AND (SELECT kind FROM entries WHERE id = :e) = 'transfer_out')
                                   OR (e.kind = 'transfer_out'
                                       AND e.id = (SELECT ref FROM entries WHERE id = :e AND kind = 'transfer_in')))
                                   ORDER BY e.id != :e, e.id""", {"p": program_id, "e": entry_id})
