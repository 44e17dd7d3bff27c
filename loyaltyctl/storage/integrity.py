"""`db verify`: recompute the hash chain and reconcile entries, lots, takes and debts."""

from loyaltyctl.storage.db import Store

from loyaltyctl.core.chain import GENESIS, entry_digest
from loyaltyctl.storage.ledger import HASHED_COLUMNS, WEEK_OF_EFFECTIVE_AT
from loyaltyctl.storage.periods import fetch_all_closes
from loyaltyctl.storage.reports import points_before


def count_entries(db: Store) -> int:
    return db.execute("SELECT count(*) FROM entries").fetchone()[0]


def _rows(db: Store, sql: str):
    """A whole-ledger scan row by row, memory flat on either backend."""
    for rows in db.stream(sql):
        yield from rows


def first_broken_link(db: Store) -> tuple[int, str] | None:
    """The first entry (per program, in order) whose stored hash does not match its content."""
    previous: dict[int, bytes] = {}
    for row in _rows(db, f"SELECT {HASHED_COLUMNS}, hash FROM entries ORDER BY id"):
        *fields, stored = row
        program_id = fields[0]
        expected = entry_digest(previous.get(program_id, GENESIS), tuple(fields))
        if stored != expected:
            return fields[1], "its content or position does not match the hash chain"
        previous[program_id] = stored
    for program_id, entry, head in db.execute("SELECT program_id, entry, hash FROM chain_heads"):
        if previous.get(program_id) != head:
            return entry, "the chain ends at a different entry than recorded (entries removed?)"
    return None


def reconciliation_problems(db: Store) -> list[str]:
    """Each lot, debt and member balance against the entries and takes behind it; each week's totals,
    each voucher against the redemption that issued it, and each closed period's closing points against
    the ledger now."""
    problems = []
    summed = {(program_id, week): (points, entries) for program_id, week, points, entries in _rows(db,
              f"SELECT program_id, {WEEK_OF_EFFECTIVE_AT}, sum(points), count(*) FROM entries GROUP BY 1, 2")}
    kept = {(program_id, week): (points, entries) for program_id, week, points, entries in _rows(db,
            "SELECT program_id, week, points, entries FROM entry_totals")}
    for program_id, week in sorted(summed.keys() | kept.keys()):
        points, entries = summed.get((program_id, week), (0, 0))
        if kept.get((program_id, week), (0, 0)) != (points, entries):
            problems.append(f"program {program_id}, week {week}: totals of {kept.get((program_id, week), (0, 0))} "
                            f"(points, entries), but its {entries} entries sum to {points}")
    for lot, points, remaining, expired, taken, by_expiry in _rows(db,
        """SELECT l.id, l.points, l.remaining, l.expired,
                  coalesce(sum(c.points), 0),
                  coalesce(sum(CASE WHEN e.kind = 'expire' THEN c.points END), 0)
           FROM lots l LEFT JOIN consumptions c ON c.lot = l.id LEFT JOIN entries e ON e.id = c.debit
           GROUP BY l.id"""
    ):
        if remaining != points - taken or remaining < 0 or expired != by_expiry:
            problems.append(f"lot {lot}: {remaining} left and {expired} expired, but its takes leave {points - taken}")
    for entry, points, lots, takes, owed in _rows(db,
        """SELECT e.id, e.points,
                  (SELECT coalesce(sum(points), 0) FROM lots WHERE entry = e.id),
                  (SELECT coalesce(sum(points), 0) FROM consumptions WHERE debit = e.id),
                  (SELECT coalesce(sum(remaining), 0) FROM debts WHERE debit = e.id)
           FROM entries e"""
    ):
        if points != lots - takes - owed:
            problems.append(f"entry {entry}: {points} points, but its lots, takes and debt make {lots - takes - owed}")
    for debit, lot in _rows(db,
        """SELECT c.debit, c.lot FROM consumptions c JOIN lots l ON l.id = c.lot JOIN entries e ON e.id = c.debit
           WHERE e.kind != 'expire' AND c.points > 0
             AND (c.at < l.earned_at OR (l.expires_at IS NOT NULL AND c.at >= l.expires_at))"""
    ):
        problems.append(f"entry {debit}: took points from lot {lot} outside its life")
    for member, total, held, owed in _rows(db,
        """SELECT m.member_id,
                  (SELECT coalesce(sum(points), 0) FROM entries WHERE member = m.id),
                  (SELECT coalesce(sum(remaining), 0) FROM lots WHERE member = m.id),
                  (SELECT coalesce(sum(remaining), 0) FROM debts WHERE member = m.id)
           FROM members m"""
    ):
        if total != held - owed:
            problems.append(f"member {member}: entries sum to {total}, lots hold {held} and {owed} is owed")
    for code, entry in _rows(db,
        """SELECT v.code, v.entry FROM vouchers v LEFT JOIN entries e ON e.id = v.entry
           LEFT JOIN voucher_uses u ON u.voucher = v.id
           WHERE e.id IS NULL OR e.kind != 'redeem' OR e.member != v.member OR e.program_id != v.program_id
              OR e.points != -v.points OR e.effective_at != v.issued_at OR u.used_at < v.issued_at
              OR u.used_at >= v.expires_at"""
    ):
        problems.append(f"voucher {code}: does not match the redemption (entry {entry}) that issued it, or was "
                        "used outside its life")
    for program_id, code, close in fetch_all_closes(db):
        now = points_before(db, program_id, close.closed_before)
        if now != close.closing_points:
            problems.append(f"{code} closed through {close.through} at {close.closing_points} points; "
                            f"its ledger now gives {now}")
    return problems
