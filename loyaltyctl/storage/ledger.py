"""The points ledger: append-only entries, lots, consumptions, debts, and balances in SQL.

`LedgerWriter` is the only way entries are written. It must run inside a
`write()` transaction, so the balance it checks is the balance it changes.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlite_utils import Database

from loyaltyctl.core.chain import GENESIS, entry_digest
from loyaltyctl.core.lots import Debt, Lot, Take, consume, pay_debts
from loyaltyctl.errors import Refused
from loyaltyctl.storage.periods import fetch_closed_through

CREDIT_KINDS = ("earn", "bonus", "adjust", "transfer_in", "reverse")
DEBIT_KINDS = ("redeem", "clawback", "adjust", "expire", "transfer_out", "reverse")


@dataclass(frozen=True)
class NewEntry:
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


@dataclass(frozen=True)
class Entry:
    """An entry as stored."""

    id: int
    member: int
    member_id: str
    kind: str
    points: int
    effective_at: int
    recorded_at: int
    key: str | None
    reason: str | None
    reward: str | None
    money: int | None
    charity: str | None
    ref: int | None


_ENTRY_COLUMNS = """e.id, e.member, m.member_id, e.kind, e.points, e.effective_at, e.recorded_at,
                    e.key, e.reason, e.reward, e.money, e.charity, e.ref"""
HASHED_COLUMNS = "program_id, id, member, kind, points, effective_at, recorded_at, key, reason, reward, money, charity, ref"


_INSERT_ENTRY = f"INSERT INTO entries ({HASHED_COLUMNS}, hash) VALUES ({', '.join('?' * 14)})"
_INSERT_LOT = ("INSERT INTO lots (id, entry, member, points, earned_at, expires_at, available_at, remaining, issued_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def hashed_fields(program_id: int, entry_id: int, entry: NewEntry, recorded_at: int) -> tuple:
    """The fields the chain covers, in HASHED_COLUMNS order."""
    return (program_id, entry_id, entry.member, entry.kind, entry.points, entry.effective_at, recorded_at,
            entry.key, entry.reason, entry.reward, entry.money, entry.charity, entry.ref)


class LedgerWriter:
    """Appends entries for one program, keeping lots, debts and the hash chain right.

    It refuses (Refused) any entry effective in a closed period, whichever
    command posts it, so a closed period's reports cannot change.
    """

    def __init__(self, db: Database, program_id: int):
        self.db = db
        self.program_id = program_id
        self.recorded_at = int(time.time())
        row = db.execute("SELECT entry, hash FROM chain_heads WHERE program_id = ?", [program_id]).fetchone()
        self.head_id, self.head_hash = row if row else (None, GENESIS)
        self.next_id = (db.execute("SELECT max(id) FROM entries").fetchone()[0] or 0) + 1
        self.next_lot_id = (db.execute("SELECT max(id) FROM lots").fetchone()[0] or 0) + 1
        self.closed = fetch_closed_through(db, program_id)
        self.indebted = {row[0] for row in db.execute("SELECT DISTINCT member FROM debts WHERE remaining > 0")}
        self._entry_rows: list[tuple] = []
        self._lot_rows: list[tuple] = []
        self._buffered_members: set[int] = set()

    def _entry_row(self, entry: NewEntry) -> tuple:
        """The next entry's row, chained to the one before it."""
        if self.closed and self.closed.covers(entry.effective_at):
            raise Refused(self.closed.refusal(entry.effective_at, f"the {entry.kind} entry"))
        fields = hashed_fields(self.program_id, self.next_id, entry, self.recorded_at)
        digest = entry_digest(self.head_hash, fields)
        self.head_id, self.head_hash = self.next_id, digest
        self.next_id += 1
        return (*fields, digest)

    def _flush_for(self, member: int, ref: int | None = None) -> None:
        """Write the buffer only if what comes next reads it: this member's lots, or a buffered entry."""
        if member in self._buffered_members or (ref is not None and self._entry_rows and ref >= self._entry_rows[0][1]):
            self.flush()

    def append(self, entry: NewEntry) -> int:
        """Append one entry now; lots and takes are the caller's (see credit and debit)."""
        self._flush_for(entry.member, entry.ref)
        self.db.execute(_INSERT_ENTRY, self._entry_row(entry))
        return self.head_id

    def queue_credit(self, entry: NewEntry, expires_at: int | None, available_at: int | None = None) -> int:
        """`credit` for a member who owes nothing, buffered so that an import writes with executemany.

        Entry and lot ids are assigned here, so they are known before `flush`.
        """
        self._entry_rows.append(self._entry_row(entry))
        self._lot_rows.append((self.next_lot_id, self.head_id, entry.member, entry.points, entry.effective_at,
                               expires_at, available_at or entry.effective_at, entry.points, None))
        self._buffered_members.add(entry.member)
        self.next_lot_id += 1
        return self.head_id

    def credit_batched(self, entry: NewEntry, expires_at: int | None, available_at: int | None = None) -> int:
        """`queue_credit` for a member who owes nothing, `credit` (which pays debts first) otherwise."""
        if entry.member in self.indebted:
            return self.credit(entry, expires_at, available_at)
        return self.queue_credit(entry, expires_at, available_at)

    def flush(self) -> None:
        """Write buffered credits: entries before the lots that reference them."""
        if self._entry_rows:
            self.db.conn.executemany(_INSERT_ENTRY, self._entry_rows)
            self.db.conn.executemany(_INSERT_LOT, self._lot_rows)
            self._entry_rows.clear()
            self._lot_rows.clear()
            self._buffered_members.clear()

    def save_head(self) -> None:
        self.flush()
        if self.head_id is not None:
            self.db.execute(
                "INSERT INTO chain_heads (program_id, entry, hash) VALUES (?, ?, ?)"
                " ON CONFLICT (program_id) DO UPDATE SET entry = excluded.entry, hash = excluded.hash",
                [self.program_id, self.head_id, self.head_hash],
            )

    def credit(self, entry: NewEntry, expires_at: int | None, available_at: int | None = None) -> int:
        """Append a positive entry and the lot it creates; the lot pays debts first."""
        entry_id = self.append(entry)
        self.add_lot(entry_id, entry.member, entry.points, entry.effective_at, expires_at, available_at)
        return entry_id

    def add_lot(self, entry_id: int, member: int, points: int, earned_at: int, expires_at: int | None,
                available_at: int | None = None, issued_at: int | None = None) -> None:
        """A lot for (part of) a credit entry; it pays the member's debts first.

        `issued_at`: when points carried on from another lot (a transfer, a
        reversed debit) were first issued, for aging the liability.

        Points that arrive already past their expiry (a reversal of a redemption
        whose points have since expired) expire the moment they arrive.
        """
        if expires_at is not None:
            expires_at = max(expires_at, earned_at)
        debts = [Debt(*row) for row in self.db.execute(
            "SELECT debit, remaining, at FROM debts WHERE member = ? AND remaining > 0", [member])]
        payments = pay_debts(debts, points, earned_at, expires_at)
        paid = sum(points for _, points in payments)
        lot_id = self.next_lot_id
        self.next_lot_id += 1
        self.db.execute(_INSERT_LOT, [lot_id, entry_id, member, points, earned_at, expires_at,
                                      available_at or earned_at, points - paid, issued_at])
        at_by_debit = {debt.debit: debt.at for debt in debts}
        for debit, amount in payments:
            self.db.execute("INSERT INTO consumptions (debit, lot, points, at) VALUES (?, ?, ?, ?)",
                            [debit, lot_id, amount, max(earned_at, at_by_debit[debit])])
            self.db.execute("UPDATE debts SET remaining = remaining - ? WHERE debit = ?", [amount, debit])

    def debit(self, entry: NewEntry, *, include_pending: bool = True, first: int | None = None) -> tuple[int, list[Take]]:
        """Append a negative entry; take its points from lots, and owe what they cannot cover."""
        self._flush_for(entry.member)
        lots = fetch_open_lots(self.db, entry.member, entry.effective_at, include_pending=include_pending,
                               enough=-entry.points, first=first)
        takes, shortfall = consume(lots, -entry.points, entry.effective_at, include_pending=include_pending, first=first)
        entry_id = self.append(entry)
        self.record_takes(entry_id, entry.effective_at, takes)
        if shortfall:
            self.indebted.add(entry.member)
            self.db.execute("INSERT INTO debts (debit, member, points, remaining, at) VALUES (?, ?, ?, ?, ?)",
                            [entry_id, entry.member, shortfall, shortfall, entry.effective_at])
        return entry_id, takes

    def record_takes(self, entry_id: int, at: int, takes: list[Take]) -> None:
        for take in takes:
            if take.from_expired:
                self._reopen_expired(take, entry_id)
            else:
                self.db.execute("UPDATE lots SET remaining = remaining - ? WHERE id = ?", [take.points, take.lot])
            self.db.execute("INSERT INTO consumptions (debit, lot, points, at) VALUES (?, ?, ?, ?)",
                            [entry_id, take.lot, take.points, at])

    def _reopen_expired(self, take: Take, by_entry: int) -> None:
        """A debit dated before a posted expiry uses points that expiry took: give them back to it.

        A positive `expire` entry on the expiry day undoes that much of the
        expiry, so every balance equals what it would be had expiry not run.
        """
        member, expires_at = self.db.execute("SELECT member, expires_at FROM lots WHERE id = ?", [take.lot]).fetchone()
        correction = self.append(NewEntry(member, "expire", take.points, expires_at,
                                           reason=f"expiry reduced: used by entry {by_entry} dated before it",
                                           ref=take.lot))
        self.db.execute("INSERT INTO consumptions (debit, lot, points, at) VALUES (?, ?, ?, ?)",
                        [correction, take.lot, -take.points, expires_at])
        self.db.execute("UPDATE lots SET expired = expired - ? WHERE id = ?", [take.points, take.lot])

    def expire_lot(self, lot: int, member: int, points: int, expires_at: int) -> int:
        """Post a lot's expiry: an `expire` entry on the expiry day that takes what is left."""
        entry_id = self.append(NewEntry(member, "expire", -points, expires_at, reason="points expired", ref=lot))
        self.db.execute("INSERT INTO consumptions (debit, lot, points, at) VALUES (?, ?, ?, ?)",
                        [entry_id, lot, points, expires_at])
        self.db.execute("UPDATE lots SET remaining = remaining - ?, expired = expired + ? WHERE id = ?",
                        [points, points, lot])
        return entry_id

    def extend_expiry(self, member: int, at: int, expires_at: int) -> None:
        """Inactivity policy: activity at `at` pushes every open lot's expiry out to `expires_at`."""
        self._flush_for(member)
        self.db.execute(
            """UPDATE lots SET expires_at = ? WHERE member = ? AND remaining > 0 AND expired = 0
               AND expires_at > ? AND expires_at < ?""",
            [expires_at, member, at, expires_at],
        )


def fetch_open_lots(db: Database, member: int, at: int | None = None, *, include_pending: bool = True,
                    enough: int | None = None, first: int | None = None) -> list[Lot]:
    """A member's lots with points left (or with posted expiries a backdated debit may re-open).

    With `at`, only lots alive then, in consumption order, and only as many as
    it takes to hold `enough` points (plus the `first` lot): a debit reads a
    few rows, however many lots the member has.
    """
    if at is None:
        return [Lot(*row) for row in db.execute(
            f"SELECT {_LOT_COLUMNS} FROM lots WHERE member = ? AND (remaining > 0 OR expired > 0)", [member])]
    pending = "" if include_pending else "AND available_at <= :at"
    rows = db.execute(
        f"""SELECT {_LOT_COLUMNS} FROM lots
            WHERE member = :m AND (remaining > 0 OR expired > 0) AND earned_at <= :at
              AND (expires_at IS NULL OR expires_at > :at) {pending}
            ORDER BY id != :first, expires_at IS NULL, expires_at, earned_at, id""",
        {"m": member, "at": at, "first": first},
    )
    lots, held = [], 0
    for row in rows:
        lots.append(Lot(*row))
        held += row[1] + row[5]
        if enough is not None and held >= enough:
            break
    return lots


_LOT_COLUMNS = "id, remaining, earned_at, expires_at, available_at, expired"


@contextmanager
def ledger_writer(db: Database, program_id: int) -> Iterator[LedgerWriter]:
    """A writer whose chain head is saved when the block ends without error."""
    writer = LedgerWriter(db, program_id)
    yield writer
    writer.save_head()


def _fetch_entries(db: Database, where: str, params: list) -> list[Entry]:
    rows = db.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries e JOIN members m ON m.id = e.member WHERE {where}", params)
    return [Entry(*row) for row in rows]


def fetch_entry(db: Database, program_id: int, entry_id: int) -> Entry | None:
    found = _fetch_entries(db, "e.program_id = ? AND e.id = ?", [program_id, entry_id])
    return found[0] if found else None


def fetch_entry_by_key(db: Database, program_id: int, key: str) -> Entry | None:
    found = _fetch_entries(db, "e.program_id = ? AND e.key = ?", [program_id, key])
    return found[0] if found else None


def fetch_entries_referring(db: Database, entry_id: int, kind: str) -> list[Entry]:
    return _fetch_entries(db, "e.ref = ? AND e.kind = ?", [entry_id, kind])


def fetch_key_owners(db: Database, program_id: int, keys: list[str]) -> dict[str, int]:
    """Which of these idempotency keys entries already carry, and the member (row id) of each."""
    owners: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        owners.update(db.execute(
            f"SELECT key, member FROM entries WHERE program_id = ? AND key IN ({','.join('?' * len(chunk))})",
            [program_id, *chunk]).fetchall())
    return owners


def fetch_lot_of(db: Database, entry_id: int) -> int | None:
    row = db.execute("SELECT id FROM lots WHERE entry = ? ORDER BY id LIMIT 1", [entry_id]).fetchone()
    return row[0] if row else None


def fetch_reversal(db: Database, entry_id: int) -> int | None:
    row = db.execute("SELECT id FROM entries WHERE ref = ? AND kind = 'reverse'", [entry_id]).fetchone()
    return row[0] if row else None


def fetch_takes(db: Database, entry_id: int) -> list[tuple[int, int, int | None, int]]:
    """What a debit took: (lot, points, that lot's expiry, when its points were first issued)."""
    return db.execute(
        """SELECT c.lot, c.points, l.expires_at, coalesce(l.issued_at, l.earned_at) FROM consumptions c JOIN lots l ON l.id = c.lot
           WHERE c.debit = ? AND c.points > 0 ORDER BY c.rowid""",
        [entry_id],
    ).fetchall()


def fetch_debt(db: Database, entry_id: int) -> int:
    row = db.execute("SELECT remaining FROM debts WHERE debit = ?", [entry_id]).fetchone()
    return row[0] if row else 0


def balance_as_of(db: Database, member: int, before: int) -> int:
    """Points as of an instant: entries effective before it, less lots expired by then but not yet posted.

    Every take from an expired lot happened before its expiry, so a lot's
    current `remaining` is exactly what its unposted expiry would remove.
    """
    return db.execute(
        """SELECT (SELECT coalesce(sum(points), 0) FROM entries WHERE member = :m AND effective_at < :t)
                - (SELECT coalesce(sum(remaining), 0) FROM lots
                   WHERE member = :m AND remaining > 0 AND expires_at < :t)""",
        {"m": member, "t": before},
    ).fetchone()[0]


def _lots_as_of(where: str) -> str:
    """Lots alive at :t with the points they held then (takes dated before :t deducted)."""
    return f"""SELECT l.id, l.expires_at, l.available_at,
                      l.points - coalesce((SELECT sum(c.points) FROM consumptions c
                                           WHERE c.lot = l.id AND c.at < :t), 0) AS held
               FROM lots l
               WHERE l.member = :m AND l.earned_at < :t AND (l.expires_at IS NULL OR l.expires_at >= :t) AND {where}"""


def pending_as_of(db: Database, member: int, before: int) -> int:
    """Points issued but not yet spendable (inside the pending window) at an instant."""
    return db.execute(f"SELECT coalesce(sum(held), 0) FROM ({_lots_as_of('l.available_at >= :t')})",
                      {"m": member, "t": before}).fetchone()[0]


def expiring_as_of(db: Database, member: int, before: int, until: int) -> list[tuple[int, int]]:
    """(expiry instant, points) for lots alive at `before` that expire before `until`."""
    return db.execute(
        f"""SELECT expires_at, sum(held) FROM ({_lots_as_of('l.expires_at < :u')})
            WHERE held > 0 GROUP BY expires_at ORDER BY expires_at""",
        {"m": member, "t": before, "u": until},
    ).fetchall()


def spendable_at(db: Database, member: int, at: int) -> int:
    """Points a redemption or transfer dated `at` could take: alive, past pending, not yet taken."""
    return db.execute(
        """SELECT coalesce(sum(remaining + expired), 0) FROM lots
           WHERE member = :m AND (remaining > 0 OR expired > 0) AND earned_at <= :at
             AND (expires_at IS NULL OR expires_at > :at) AND available_at <= :at""",
        {"m": member, "at": at},
    ).fetchone()[0]


def fetch_due_expiries(db: Database, program_id: int, before: int) -> list[tuple[int, int, int, int]]:
    """Lots of a program expired before an instant with points left: (lot, member, points, expires_at)."""
    return db.execute(
        """SELECT l.id, l.member, l.remaining, l.expires_at FROM lots l JOIN members m ON m.id = l.member
           WHERE m.program_id = ? AND l.remaining > 0 AND l.expires_at < ? ORDER BY l.expires_at, l.entry""",
        [program_id, before],
    ).fetchall()


def fetch_movements(db: Database, member: int, start: int, end: int) -> list[tuple[int, str, int, str | None]]:
    """A member's entries effective in [start, end): (effective_at, kind, points, reason), in order."""
    return db.execute(
        """SELECT effective_at, kind, points, reason FROM entries
           WHERE member = ? AND effective_at >= ? AND effective_at < ? ORDER BY effective_at, id""",
        [member, start, end],
    ).fetchall()


def fetch_unposted_expiries(db: Database, member: int, start: int, end: int) -> list[tuple[int, int]]:
    """Lots that expired in [start, end) with points `expire` has not posted yet: (expires_at, points)."""
    return db.execute(
        """SELECT expires_at, sum(remaining) FROM lots
           WHERE member = ? AND remaining > 0 AND expires_at >= ? AND expires_at < ?
           GROUP BY expires_at ORDER BY expires_at""",
        [member, start, end],
    ).fetchall()


def saved_as_of(db: Database, member: int, before: int) -> int:
    """Money value of the rewards a member redeemed before an instant (net of reversals; donations excluded)."""
    return db.execute(
        """SELECT coalesce(sum(money), 0) FROM entries
           WHERE member = ? AND kind IN ('redeem', 'reverse') AND charity IS NULL AND money IS NOT NULL
             AND effective_at < ?""",
        [member, before],
    ).fetchone()[0]


def expiring_by_member(db: Database, program_id: int, before: int, until: int) -> list[tuple[int, int, int]]:
    """Members with points alive at `before` that expire before `until`: (member row, points, first expiry)."""
    return db.execute(
        """SELECT member, sum(held), min(expires_at) FROM (
               SELECT l.member, l.expires_at,
                      l.points - coalesce((SELECT sum(c.points) FROM consumptions c
                                           WHERE c.lot = l.id AND c.at < :t), 0) AS held
               FROM lots l JOIN members m ON m.id = l.member
               WHERE m.program_id = :p AND l.expires_at >= :t AND l.expires_at < :u
                 AND l.earned_at < :t)
           WHERE held > 0 GROUP BY member ORDER BY min(expires_at), member""",
        {"p": program_id, "t": before, "u": until},
    ).fetchall()
