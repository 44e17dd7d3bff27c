"""`db verify`: recompute the hash chains and seals, and reconcile entries, lots, takes, debts and kept figures.

Reads only: it runs on a database it cannot write.
"""

from collections.abc import Iterator

from loyaltyctl.core.chain import GENESIS, entry_digest, seal_digest
from loyaltyctl.storage.db import Store
from loyaltyctl.storage.lot_life import alive_before
from loyaltyctl.storage.ledger import (HASHED_COLUMNS, LEGACY_HASHED_COLUMNS, WEEK_OF_EFFECTIVE_AT, pending_at_sql,
                                       points_at_sql)
from loyaltyctl.storage.periods import fetch_all_closes
from loyaltyctl.storage.reports import points_before
from loyaltyctl.storage.seals import stream_seals
from loyaltyctl.storage.vouchers import fetch_vouchers


def count_entries(db: Store) -> int:
    return db.execute("SELECT count(*) FROM entries").fetchone()[0]


def _rows(db: Store, sql: str) -> Iterator[tuple]:
    """A whole-ledger scan row by row, memory flat on either backend."""
    for rows in db.stream(sql):
        yield from rows


def legacy_chains(db: Store, member_chains: bool = True
                  ) -> tuple[dict[int, tuple[int, bytes]], tuple[int, str] | None]:
    """Where each program's chain of an older ledger (its entries without a member `seq`) ends, as (entry,
    digest) by program, and the first entry whose digest does not follow its content and the one before.
    `member_chains`: the ledger has them (otherwise every entry is on a program's chain)."""
    where = "WHERE seq IS NULL" if member_chains else ""
    ends: dict[int, tuple[int, bytes]] = {}
    for row in _rows(db, f"SELECT {LEGACY_HASHED_COLUMNS}, hash FROM entries {where} ORDER BY id"):
        *fields, stored = row
        program_id, entry = fields[0], fields[1]
        expected = entry_digest(ends.get(program_id, (0, GENESIS))[1], tuple(fields))
        if bytes(stored) != expected:
            return ends, (entry, "its content or position does not match the hash chain")
        ends[program_id] = (entry, expected)
    return ends, None


def _broken_legacy_chain(db: Store, recorded: dict[int, tuple[int, bytes]]) -> tuple[int | None, str] | None:
    ends, broken = legacy_chains(db)
    if broken:
        return broken
    for program_id in ends.keys() | recorded.keys():
        if ends.get(program_id) != recorded.get(program_id):
            entry = (recorded.get(program_id) or ends[program_id])[0]
            return entry, "the program's older chain ends at a different entry than sealed (entries removed?)"
    return None


def first_broken_link(db: Store) -> tuple[int | None, str] | None:
    """The first entry (or seal) whose stored digest does not match what it covers: (entry id or None, why)."""
    seals = list(stream_seals(db))
    heads = {member: (code, seq, bytes(digest) if digest else None) for member, code, seq, digest in
             db.execute("SELECT id, member_id, head_seq, head_hash FROM members")}
    return (_broken_legacy_chain(db, {seal.program_id: seal.legacy for seal, _ in seals if seal.legacy})
            or _broken_member_chain(db, heads) or _broken_seal(db, seals, heads))


def _broken_member_chain(db: Store, heads: dict[int, tuple[str, int, bytes | None]]) -> tuple[int | None, str] | None:
    member, seq, previous = None, 0, GENESIS
    ended: set[int] = set()

    def check_end() -> tuple[int | None, str] | None:
        code, head_seq, head_hash = heads.get(member, ("?", 0, None))
        ended.add(member)
        if (head_seq, head_hash) != (seq, previous if seq else None):
            return None, (f"member {code}: the chain ends at entry number {seq}, but the member's head says "
                          f"{head_seq} (entries removed or added?)")
        return None

    for row in _rows(db, f"SELECT {HASHED_COLUMNS}, hash FROM entries WHERE seq IS NOT NULL ORDER BY member, seq"):
        *fields, stored = row
        if fields[2] != member:
            if member is not None and (problem := check_end()):
                return problem
            member, seq, previous = fields[2], 0, GENESIS
        code = heads.get(member, ("?",))[0]
        if fields[3] != seq + 1:
            return fields[1], (f"member {code}'s entry number {fields[3]} follows number {seq} "
                               "(an entry was removed, inserted or moved)")
        previous = entry_digest(previous, tuple(fields))
        if bytes(stored) != previous:
            return fields[1], f"member {code}: its content or position does not match the hash chain"
        seq += 1
    if member is not None and (problem := check_end()):
        return problem
    for member, (code, head_seq, _) in heads.items():
        if head_seq and member not in ended:
            return None, f"member {code}: the head says {head_seq} entries, but none are there (history removed?)"
    return None


def _broken_seal(db: Store, seals: list, heads: dict[int, tuple[str, int, bytes | None]]) -> tuple[int | None, str] | None:
    previous: dict[int, bytes] = {}
    for seal, sealed in seals:
        expected = seal_digest(previous.get(seal.program_id, GENESIS), seal.program_id, seal.sealed_at, seal.legacy,
                               sealed)
        if seal.previous != previous.get(seal.program_id, GENESIS) or seal.digest != expected:
            return None, f"seal {seal.id} does not match what it records (seals changed or removed?)"
        previous[seal.program_id] = seal.digest
    gone = db.execute("""SELECT s.seal, s.member, s.seq FROM seal_heads s
                         LEFT JOIN entries e ON e.program_id = s.program_id AND e.member = s.member AND e.seq = s.seq
                         WHERE e.id IS NULL OR e.hash != s.hash ORDER BY s.seal, s.member LIMIT 1""").fetchone()
    if gone:
        seal, member, seq = gone
        return None, (f"member {heads.get(member, (f'row {member}',))[0]}: entry number {seq}, sealed by seal {seal}, "
                      "is gone or changed (history removed?)")
    return None


def last_seals(db: Store) -> dict[str, str]:
    """Each program's last seal digest (hex), by program code: what an owner keeps elsewhere."""
    return {code: bytes(digest).hex() for code, digest in db.execute(
        """SELECT p.code, s.digest FROM seals s JOIN programs p ON p.id = s.program_id
           JOIN (SELECT program_id, max(id) AS id FROM seals GROUP BY program_id) AS last
             ON last.program_id = s.program_id AND last.id = s.id
           ORDER BY p.code""")}


def reconciliation_problems(db: Store) -> list[str]:
    """Each lot, debt and member balance against the entries and takes behind it; each week's totals,
    each voucher against the redemption that issued it, and each closed period's closing points against
    the ledger now."""
    problems = []
    summed = {(program_id, week): (points, entries) for program_id, week, points, entries in _rows(db,
              f"SELECT program_id, {WEEK_OF_EFFECTIVE_AT}, sum(points), count(*) FROM entries GROUP BY 1, 2")}
    kept = {(program_id, week): (points, entries) for program_id, week, points, entries in _rows(db,
            "SELECT program_id, week, sum(points), sum(entries) FROM entry_totals GROUP BY 1, 2")}
    for program_id, week in sorted(summed.keys() | kept.keys()):
        points, entries = summed.get((program_id, week), (0, 0))
        if kept.get((program_id, week), (0, 0)) != (points, entries):
            problems.append(f"program {program_id}, week {week}: totals of {kept.get((program_id, week), (0, 0))} "
                            f"(points, entries), but its {entries} entries sum to {points}")
    for lot, points, remaining, expired, taken, by_expiry in _rows(db,
        """SELECT l.id, l.points, l.remaining, l.expired,
                  coalesce(sum(c.points), 0),
                  coalesce(sum(CASE WHEN e.kind = 'expire' THEN c.points END), 0)
           FROM lots l LEFT JOIN consumptions c ON c.program_id = l.program_id AND c.lot = l.id
           LEFT JOIN entries e ON e.program_id = c.program_id AND e.id = c.debit
           GROUP BY l.program_id, l.id"""
    ):
        if remaining != points - taken or remaining < 0 or expired != by_expiry:
            problems.append(f"lot {lot}: {remaining} left and {expired} expired, but its takes leave {points - taken}")
    for entry, points, lots, takes, owed in _rows(db,
        """SELECT e.id, e.points,
                  (SELECT coalesce(sum(points), 0) FROM lots WHERE program_id = e.program_id AND entry = e.id),
                  (SELECT coalesce(sum(points), 0) FROM consumptions WHERE program_id = e.program_id AND debit = e.id),
                  (SELECT coalesce(sum(remaining), 0) FROM debts WHERE program_id = e.program_id AND debit = e.id)
           FROM entries e"""
    ):
        if points != lots - takes - owed:
            problems.append(f"entry {entry}: {points} points, but its lots, takes and debt make {lots - takes - owed}")
    for debit, lot in _rows(db,
        f"""SELECT c.debit, c.lot FROM consumptions c JOIN lots l ON l.program_id = c.program_id AND l.id = c.lot
           JOIN entries e ON e.program_id = c.program_id AND e.id = c.debit
           WHERE e.kind != 'expire' AND c.points > 0 AND NOT ({alive_before('l', 'c.at + 1')})"""
    ):
        problems.append(f"entry {debit}: took points from lot {lot} outside its life")
    for member, total, held, owed, kept_owed, latest, kept_latest in _rows(db,
        """SELECT m.member_id,
                  (SELECT coalesce(sum(points), 0) FROM entries WHERE program_id = m.program_id AND member = m.id),
                  (SELECT coalesce(sum(remaining), 0) FROM lots WHERE program_id = m.program_id AND member = m.id),
                  (SELECT coalesce(sum(remaining), 0) FROM debts WHERE program_id = m.program_id AND member = m.id),
                  m.owed,
                  (SELECT max(at) FROM (SELECT max(effective_at) AS at FROM entries
                                        WHERE program_id = m.program_id AND member = m.id
                                        UNION ALL
                                        SELECT max(occurred_at) FROM transactions
                                        WHERE program_id = m.program_id AND member = m.id AND refund_of IS NOT NULL)
                                  AS latest), m.latest_at
           FROM members m"""
    ):
        if total != held - owed:
            problems.append(f"member {member}: entries sum to {total}, lots hold {held} and {owed} is owed")
        if (kept_owed, kept_latest) != (owed, latest):
            problems.append(f"member {member}: keeps {kept_owed} owed and latest activity at {kept_latest}, but "
                            f"the ledger says {owed} and {latest}")
    problems += _kept_problems(db)
    for code, entry in _rows(db,
        """SELECT v.code, v.entry FROM vouchers v LEFT JOIN entries e ON e.program_id = v.program_id AND e.id = v.entry
           WHERE e.id IS NULL OR e.kind != 'redeem' OR e.member != v.member OR e.program_id != v.program_id
              OR e.points != -v.points OR e.effective_at != v.issued_at"""
    ):
        problems.append(f"voucher {code}: does not match the redemption (entry {entry}) that issued it")
    for code, issued_in, claimed_by in _rows(db,
        """SELECT v.code, v.program_id, c.program_id FROM vouchers v LEFT JOIN voucher_codes c ON c.code = v.code
           WHERE c.program_id IS NULL OR c.program_id != v.program_id"""
    ):
        problems.append(f"voucher {code}: issued in program {issued_in}, but its code is claimed by "
                        f"{'none' if claimed_by is None else f'program {claimed_by}'}")
    for (code,) in _rows(db, "SELECT code FROM voucher_codes EXCEPT SELECT code FROM vouchers ORDER BY 1"):
        problems.append(f"voucher code {code}: claimed, but no voucher has it")
    for (program_id,) in list(_rows(db, "SELECT id FROM programs ORDER BY id")):
        problems += [f"voucher {v.code}: used outside its life" for v in fetch_vouchers(db, program_id)
                     if not v.used_within_life()]
    for program_id, code, close in fetch_all_closes(db):
        now = points_before(db, program_id, close.closed_before)
        if now != close.closing_points:
            problems.append(f"{code} closed through {close.through} at {close.closing_points} points; "
                            f"its ledger now gives {now}")
    return problems


def _kept_problems(db: Store) -> list[str]:
    """Each member's kept balance against the ledger at the instant it was kept for and at the last instant
    it claims to hold for."""
    problems, last = [], "coalesce(m.kept_until, m.kept_at)"
    for member, at, points, pending, until, *figures in _rows(db,
        f"""SELECT m.member_id, m.kept_at, m.kept_points, m.kept_pending, m.kept_until,
                   {points_at_sql("m.id", "m.kept_at", "m.program_id")},
                   {pending_at_sql("m.id", "m.kept_at", "m.program_id")},
                   {points_at_sql("m.id", last, "m.program_id")}, {pending_at_sql("m.id", last, "m.program_id")}
            FROM members m WHERE m.kept_at IS NOT NULL"""
    ):
        for instant, ledger in ((at, figures[:2]), (until, figures[2:])):
            if instant is not None and tuple(ledger) != (points, pending):
                problems.append(f"member {member}: keeps {points} points ({pending} pending) from {at} to {until}, "
                                f"but the ledger gives {ledger[0]} ({ledger[1]} pending) at {instant}")
                break
    return problems
