"""Import benchmark: loyaltyctl txn import against the tools a user would load the same CSV with.

    python bench/import_bench.py [--baskets] [--postgres URL] [ROWS ...]      (default: 100000 1000000)

With --baskets the file has a `line` column: baskets of 1 to 5 lines (3 on average) that earn
once each, ROWS lines in all.

For each size it generates a realistic file (100,000 members, purchases over
two years, about 3% refunds of earlier purchases, several categories), then
times on that same file:
  (a) loyaltyctl txn import  (every earn rule, ledger entries, lots, hash chain),
      and again into a program with calendar-year spend tiers (tier status per row)
  (b) sqlite-utils insert --csv  (raw rows, its defaults)
  (c) sqlite3 .import --csv  (raw rows, the C floor)
and prints wall time, rows/s, peak RSS of each, and the ratios a/b and a/c.
With --postgres URL (a server to create a scratch database on) it also times (a) into PostgreSQL.
"""

import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

MEMBERS = 100_000
CATEGORIES = ["skincare", "makeup", "haircare", "fragrance", "gift-cards", "accessories"]
PROGRAM = """\
[program]
code = "bench"
name = "Bench Club"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"
effective_from = 2024-01-01

[earn]
points_per_unit = "1"
rounding = "floor"
min_spend = "5.00"
exclude_categories = ["gift-cards"]

[[earn.multipliers]]
category = "skincare"
factor = "2"

[[earn.promotions]]
name = "Double days"
starts = 2025-11-27
ends = 2025-11-30
factor = "2"

[expiry]
policy = "lot"
months = 12
"""
TIERS = """
[tiers]
basis = "spend"
window = "calendar-year"

[[tiers.levels]]
code = "member"
threshold = "0"

[[tiers.levels]]
code = "silver"
threshold = "500.00"
multiplier = "1.25"

[[tiers.levels]]
code = "gold"
threshold = "1500.00"
multiplier = "1.5"
"""
BIN = Path(sys.executable).parent


def generate(path: Path, rows: int, seed: int = 7, baskets: bool = False) -> None:
    rng = random.Random(seed)
    start = datetime(2024, 11, 1, 8, 0)
    span = 730 * 24 * 3600
    times = sorted(rng.randrange(span) for _ in range(rows))
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["txn_id", "line", "member_id", "occurred_at", "amount", "category", "currency", "store",
                         "refund_of"])
        purchases: list[tuple[str, str, str]] = []
        n = 0
        while n < rows:
            moment = (start + timedelta(seconds=times[n])).isoformat(timespec="seconds")
            if purchases and rng.random() < 0.03:
                txn, member, amount = purchases[rng.randrange(len(purchases))]
                writer.writerow([f"T{n:08d}", "", member, moment, f"-{amount}", "", "USD", "S1", txn])
                n += 1
                continue
            member, store = f"M{rng.randrange(MEMBERS):06d}", f"S{rng.randrange(40)}"
            lines = min(rng.randint(1, 5) if baskets else 1, rows - n)
            amounts = [f"{rng.uniform(3, 250 / lines):.2f}" for _ in range(lines)]
            for line, amount in enumerate(amounts, start=1):
                writer.writerow([f"T{n:08d}", line if baskets else "", member, moment, amount,
                                 rng.choice(CATEGORIES), "USD", store, ""])
            purchases.append((f"T{n:08d}", member, amounts[0]))
            n += lines
            if len(purchases) > 50_000:
                purchases = purchases[-25_000:]


def run(args: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 3):
        raise SystemExit(f"{args[0]} failed: {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss // 1024


def prepare_loyaltyctl(work: Path, program: str = PROGRAM, name: str = "loyalty", location: str | None = None
                       ) -> tuple[Path | str, dict]:
    db = location or work / f"{name}.db"
    env = dict(os.environ, LOYALTYCTL_DB=str(db), LOYALTYCTL_NOW="2026-11-01T12:00:00+00:00")
    (work / "bench.toml").write_text(program)
    members = work / "members.csv"
    with members.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["member_id", "name", "joined"])
        writer.writerows([f"M{n:06d}", f"Member {n}", "2024-10-01"] for n in range(MEMBERS))
    loyaltyctl = str(BIN / "loyaltyctl")
    subprocess.run([loyaltyctl, "program", "apply", str(work / "bench.toml")], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([loyaltyctl, "member", "import", "-p", "bench", str(members)], env=env, check=True, stdout=subprocess.DEVNULL)
    return db, env


def postgres_import(data: Path, work: Path, server: str) -> tuple[float, int]:
    """(a) into a scratch PostgreSQL database on `server`."""
    import psycopg

    name = f"import_bench_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        _, env = prepare_loyaltyctl(work, location=server.rsplit("/", 1)[0] + f"/{name}")
        return run([str(BIN / "loyaltyctl"), "txn", "import", "-p", "bench", str(data), "--format", "json"], env)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def bench(rows: int, baskets: bool = False, postgres: str | None = None) -> None:
    work = Path(tempfile.mkdtemp(prefix="loyaltyctl-bench-"))
    try:
        data = work / "txns.csv"
        generate(data, rows, baskets=baskets)
        size = data.stat().st_size / 2**20
        db, env = prepare_loyaltyctl(work)
        a = run([str(BIN / "loyaltyctl"), "txn", "import", "-p", "bench", str(data), "--format", "json"], env)
        _, tiers_env = prepare_loyaltyctl(work, PROGRAM + TIERS, "tiers")
        a_tiers = run([str(BIN / "loyaltyctl"), "txn", "import", "-p", "bench", str(data), "--format", "json"], tiers_env)
        b = run([str(BIN / "sqlite-utils"), "insert", str(work / "raw-b.db"), "txns", str(data), "--csv"])
        c = run(["sqlite3", str(work / "raw-c.db"), ".import --csv " + str(data) + " txns"])
        timed = [("(a) loyaltyctl txn import", a), ("(a) same, program with spend tiers", a_tiers),
                 ("(b) sqlite-utils insert --csv", b), ("(c) sqlite3 .import --csv", c)]
        if postgres:
            timed.insert(2, ("(a) loyaltyctl into PostgreSQL", postgres_import(data, work, postgres)))
        print(f"\n{rows:,} rows{' (baskets of 1-5 lines)' if baskets else ''} ({size:.0f} MiB CSV, {MEMBERS:,} members)")
        for label, (seconds, rss) in timed:
            print(f"  {label:36} {seconds:7.2f} s  {rows / seconds:10,.0f} rows/s  peak RSS {rss:4d} MiB")
        print(f"  ratio a/b {a[0] / b[0]:.2f} (target <= 0.5)   ratio a/c {a[0] / c[0]:.1f} (target <= 10)")
        verify = subprocess.run([str(BIN / "loyaltyctl"), "db", "verify"], env=env, capture_output=True, text=True)
        print(f"  db verify after import: {verify.stdout.strip() or verify.stderr.strip()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    with_baskets = "--baskets" in arguments
    server = None
    if "--postgres" in arguments:
        at = arguments.index("--postgres")
        server = arguments[at + 1]
        del arguments[at : at + 2]
    for size in [int(arg) for arg in arguments if arg != "--baskets"] or [100_000, 1_000_000]:
        bench(size, with_baskets, server)
