"""Analytics benchmark: `report analytics` for a year against `report rollforward` for the same year.

    python bench/analytics_bench.py [--members N] [--sales N] [--runs 3] [--db PATH] [--postgres URL]
        (default: 100,000 members, 1,000,000 member sales and a quarter as many walk-ins,
         in bench/.cache/analytics-bench-100000.db)

The ledger is written directly in SQL as bench/report_bench.py writes its own
(its LedgerBuilder: entries, lots and consumptions as the Poster keeps them),
from sales this time: members join over the two years (2024-12-01 to
2026-11-20); each sale is a transaction row and its earn entry (a dollar a
point, a lot expiring 12 months later), 3% of them refunded a week later (a
refund row and the clawback it took), and one member event in ten is a
redemption when covered; walk-in sales (no member) are recorded beside them,
3% of those refunded too; monthly expiry runs post what expired. Built once,
reused while its counts and schema match.

Then, as fresh processes in alternating rounds, wall clock:
  (1) report rollforward --from 2025-12-01 --to 2026-11-30
  (2) report analytics   --from 2025-12-01 --to 2026-11-30     target: at most 3x (1)
as built, after ANALYZE, and with --postgres URL on a copy in a scratch database on that server (as
bench/report_bench.py makes its own).
"""

import argparse
import bisect
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from report_bench import (CACHE, FIRST_DAY, LAST_DAY, LOYALTYCTL, REWARDS, LedgerBuilder, build,  # noqa: E402
                          in_child, keep_figures, ledger_days, placed, rounds, schema, set_statistics,
                          to_postgres)

YEAR = ("2025-12-01", "2026-11-30")
WALK_IN_SHARE = 0.25  # walk-in sales per member sale
REFUND_SHARE = 0.03
INSERT_TXN = """INSERT INTO transactions (id, program_id, txn_id, member, occurred_at, amount, store, refund_of, points,
                                          entry, qualifying) VALUES (?, ?, ?, ?, ?, ?, 'Main', ?, ?, ?, ?)"""
INSERT_WALK_IN = """INSERT INTO walk_in_sales (program_id, txn_id, occurred_at, amount, store, source, refund_of)
                    VALUES (?, ?, ?, ?, 'Main', 'generic', ?)"""


def generate(conn: sqlite3.Connection, program_id: int, members: int, sales: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    days = (LAST_DAY - FIRST_DAY).days + 1
    joined = sorted(rng.randrange(days) for _ in range(members))  # member n joins on day joined[n - 1]
    conn.executemany(
        """INSERT INTO members (id, program_id, member_id, name, email, joined, referral_code, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 1731628800)""",
        ((n + 1, program_id, f"M{n:06d}", f"Member {n}", f"m{n}@example.com",
          (FIRST_DAY + timedelta(joined[n])).isoformat(), f"R{n:07d}") for n in range(members)))
    ledger = LedgerBuilder(conn, program_id, members)
    txns: list[tuple] = []
    walk_ins: list[tuple] = []
    refunds: dict[int, list[tuple]] = {}  # day -> (txn row, member, lot, amount) refunded that day
    per_day = sales / days
    next_txn = 1
    for n, _, opens, expires_at in ledger_days(ledger):
        joined_by = bisect.bisect_right(joined, n)  # members 1 … joined_by have joined
        if joined_by:
            for at, member in sorted((opens + rng.randrange(8 * 3600, 21 * 3600), rng.randrange(1, joined_by + 1))
                                     for _ in range(round(per_day * rng.uniform(0.8, 1.2)))):
                if rng.random() < 0.1:
                    points, code = rng.choices(REWARDS, weights=(6, 3, 1))[0]
                    if ledger.spendable(member, at) >= points:
                        ledger.debit(member, "redeem", points, at, reward=code, money=points)
                        continue
                amount = rng.randrange(500, 15000)
                lot = ledger.credit(member, "earn", amount // 100, at, expires_at, "purchase")
                txns.append((next_txn, program_id, f"T{next_txn}", member, at, amount, None, amount // 100,
                             ledger.lot_entry[lot], amount))
                if rng.random() < REFUND_SHARE:
                    refunds.setdefault(n + 7, []).append((next_txn, member, lot, amount))
                next_txn += 1
        for original, member, lot, amount in refunds.pop(n, []):
            at = opens + 12 * 3600
            points = min(amount // 100, ledger.spendable(member, at), ledger.lot_remaining[lot])
            entry = None
            if points:
                ledger.debit(member, "clawback", points, at, first=lot, reason="refund", ref=ledger.lot_entry[lot])
                entry = ledger.next_entry - 1
            txns.append((next_txn, program_id, f"T{next_txn}", member, at, -amount, original, -points, entry, -amount))
            next_txn += 1
        for k in range(round(per_day * WALK_IN_SHARE)):
            at = opens + rng.randrange(8 * 3600, 21 * 3600)
            amount = rng.randrange(300, 8000)
            walk_ins.append((program_id, f"W{n}-{k}", at, amount, None))
            if rng.random() < REFUND_SHARE:
                walk_ins.append((program_id, f"W{n}-{k}/refund", at + 3600, -amount, f"W{n}-{k}"))
        ledger.flush()
        conn.executemany(INSERT_TXN, txns)
        conn.executemany(INSERT_WALK_IN, walk_ins)
        txns.clear()
        walk_ins.clear()
    ledger.write_lots()
    keep_figures(conn)


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("members", "transactions", "walk_in_sales", "entries")}


def ready(db: Path, members: int, sales: int) -> bool:
    if not db.exists():
        return False
    fresh = db.with_suffix(".schema.db")
    fresh.unlink(missing_ok=True)
    subprocess.run([LOYALTYCTL, "--db", str(fresh), "init"], check=True, stdout=subprocess.DEVNULL)
    same = schema(fresh) == schema(db)
    fresh.unlink()
    found = counts(db)
    return (same and found["members"] == members and abs(found["transactions"] - sales * 0.93) <= sales * 0.1
            and placed(db))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="also time both on a copy in a scratch database on this server")
    options = parser.parse_args()
    db = options.db or CACHE / f"analytics-bench-{options.members}.db"
    if ready(db, options.members, options.sales):
        print(f"reusing {db}")
    else:
        print(f"building {db} ({options.members:,} members, about {options.sales:,} sales)")
        started = time.perf_counter()
        in_child(build, db, options.members, generate, options.sales)
        print(f"  built in {time.perf_counter() - started:.0f} s")
    print(f"  {db.stat().st_size / 2**20:,.0f} MiB; " + ", ".join(f"{n:,} {t}" for t, n in counts(db).items()))
    for heading, analyze in (("as built, no ANALYZE", False), ("after ANALYZE", True)):
        set_statistics(db, analyze)
        time_year(db, heading, options.runs)
    if options.postgres:
        started = time.perf_counter()
        url = in_child(to_postgres, db, options.postgres)
        print(f"\ncopied to PostgreSQL in {time.perf_counter() - started:.0f} s (COPY, then ANALYZE)")
        time_year(url, "PostgreSQL", options.runs)


def time_year(db: Path | str, heading: str, runs: int) -> None:
    cli = [LOYALTYCTL, "--db", str(db), "report"]
    year = ["--program", "bench", "--from", YEAR[0], "--to", YEAR[1], "--format", "json"]
    commands = {f"(1) report rollforward {YEAR[0]}..{YEAR[1]}": [*cli, "rollforward", *year],
                f"(2) report analytics {YEAR[0]}..{YEAR[1]}": [*cli, "analytics", *year]}
    timed = rounds(commands, runs)
    print(f"\n{heading}: {runs} alternating runs each, wall seconds")
    medians = {name: statistics.median(s for s, _ in found) for name, found in timed.items()}
    base = next(iter(medians.values()))
    for name, found in timed.items():
        ratio = f"  {medians[name] / base:.2f}x (1), target <= 3x" if name.startswith("(2)") else ""
        print(f"  {name:50} min {min(s for s, _ in found):6.2f}  median {medians[name]:6.2f}  "
              f"peak RSS {max(r for _, r in found):4d} MiB{ratio}")


if __name__ == "__main__":
    main()
