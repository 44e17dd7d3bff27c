"""Import benchmark: loyaltyctl txn import against the tools a user would load the same CSV with.

    python bench/import_bench.py [--runs 3] [--baskets] [--postgres URL] [ROWS ...]   (default: 100000 1000000)

With --baskets the file has a `line` column: baskets of 1 to 5 lines (3 on average) that earn
once each, ROWS lines in all.

For each size it generates a realistic file (100,000 members, purchases over
two years, about 3% refunds of earlier purchases, several categories), then
times on that same file:
  (a) loyaltyctl txn import  (every earn rule, ledger entries, lots, hash chain),
      and again into a program with calendar-year spend tiers (tier status per row)
  (b) sqlite-utils insert --csv  (raw rows, its defaults)
  (c) sqlite3 .import --csv  (raw rows, the C floor)
in rounds that alternate who goes first (--runs, default 3), and prints the min and median wall
time, rows/s, peak RSS of each, and the ratios of the medians a/b and a/c.
With --postgres URL (a server to create a scratch database on) it also times (a) into PostgreSQL.
"""

import argparse
import csv
import os
import random
import shutil
import statistics
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


def environment(db: Path | str) -> dict:
    return dict(os.environ, LOYALTYCTL_DB=str(db), LOYALTYCTL_NOW="2026-11-01T12:00:00+00:00")


def prepare_loyaltyctl(work: Path, program: str = PROGRAM, name: str = "loyalty", location: str | None = None
                       ) -> tuple[Path | str, dict]:
    db = location or work / f"{name}.db"
    env = environment(db)
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


def postgres_template(work: Path, server: str, program: str) -> tuple[str, str]:
    """A scratch PostgreSQL database with the program and members in, to copy for each run: (name, URL)."""
    name = f"import_bench_{os.getpid()}_template"
    admin(server, f"CREATE DATABASE {name}")
    url = server.rsplit("/", 1)[0] + f"/{name}"
    prepare_loyaltyctl(work, program, "pg-template", location=url)
    return name, url


POSTGRES_VERIFIED: list[str] = []  # what `db verify` said of the last PostgreSQL import


def postgres_import(data: Path, server: str, template: str) -> tuple[float, int]:
    """(a) into a copy of the template database on `server` (verified after the import, untimed)."""
    name = f"import_bench_{os.getpid()}"
    admin(server, f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        env = environment(server.rsplit("/", 1)[0] + f"/{name}")
        timed = run([str(BIN / "loyaltyctl"), "txn", "import", "-p", "bench", str(data), "--format", "json"], env)
        verify = subprocess.run([str(BIN / "loyaltyctl"), "db", "verify"], env=env, capture_output=True, text=True)
        POSTGRES_VERIFIED[:] = [verify.stdout.strip() or verify.stderr.strip()]
        return timed
    finally:
        admin(server, f"DROP DATABASE {name} WITH (FORCE)")


def server_fsync(server: str) -> str:
    """The server's fsync setting: a throwaway test server (.ci/with-postgres) runs with it off."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as connection:
        return connection.execute("SHOW fsync").fetchone()[0]


def admin(server: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(statement)


def loyaltyctl_import(data: Path, template: Path, target: Path) -> tuple[float, int]:
    """(a) into a fresh copy of a prepared database (program applied, members imported)."""
    shutil.copyfile(template, target)
    env = environment(target)
    return run([str(BIN / "loyaltyctl"), "txn", "import", "-p", "bench", str(data), "--format", "json"], env)


def fresh(path: Path) -> Path:
    path.unlink(missing_ok=True)
    return path


def bench(rows: int, runs: int, baskets: bool = False, postgres: str | None = None) -> None:
    work = Path(tempfile.mkdtemp(prefix="loyaltyctl-bench-"))
    template_name = None
    try:
        data = work / "txns.csv"
        generate(data, rows, baskets=baskets)
        size = data.stat().st_size / 2**20
        plain, _ = prepare_loyaltyctl(work)
        tiers, _ = prepare_loyaltyctl(work, PROGRAM + TIERS, "tiers")
        contenders = {
            "(a) loyaltyctl txn import": lambda: loyaltyctl_import(data, plain, work / "a.db"),
            "(a) same, program with spend tiers": lambda: loyaltyctl_import(data, tiers, work / "a-tiers.db"),
            "(b) sqlite-utils insert --csv": lambda: run([str(BIN / "sqlite-utils"), "insert",
                                                          str(fresh(work / "raw-b.db")), "txns", str(data), "--csv"]),
            "(c) sqlite3 .import --csv": lambda: run(["sqlite3", str(fresh(work / "raw-c.db")),
                                                      f".import --csv {data} txns"]),
        }
        if postgres:
            template_name, _ = postgres_template(work, postgres, PROGRAM)
            contenders["(a) loyaltyctl into PostgreSQL"] = lambda: postgres_import(data, postgres, template_name)
        names = list(contenders)
        timed: dict[str, list[tuple[float, int]]] = {name: [] for name in names}
        for round_number in range(runs):  # alternating: each round starts one contender later
            for name in names[round_number % len(names):] + names[:round_number % len(names)]:
                timed[name].append(contenders[name]())
        print(f"\n{rows:,} rows{' (baskets of 1-5 lines)' if baskets else ''} ({size:.0f} MiB CSV, "
              f"{MEMBERS:,} members), {runs} alternating runs each")
        print(f"  {'':36} {'min s':>8} {'median s':>9} {'rows/s':>10}  peak RSS")
        median = {name: statistics.median(s for s, _ in timed[name]) for name in names}
        for name in names:
            print(f"  {name:36} {min(s for s, _ in timed[name]):8.2f} {median[name]:9.2f} "
                  f"{rows / median[name]:10,.0f}  {max(r for _, r in timed[name]):4d} MiB")
        a, b, c = (median[name] for name in names[0:1] + names[2:4])
        print(f"  medians: a/b {a / b:.2f} (target <= 0.5), a/c {a / c:.1f} (target <= 15)"
              + (f", PostgreSQL/a {median[names[4]] / a:.2f} (target <= 1.5)" if postgres else ""))
        verify = subprocess.run([str(BIN / "loyaltyctl"), "db", "verify"], env=environment(work / "a.db"), capture_output=True, text=True)
        print(f"  db verify after the last import: {verify.stdout.strip() or verify.stderr.strip()}")
        if postgres:
            print(f"  db verify after the last PostgreSQL import: {POSTGRES_VERIFIED[0]}"
                  f" (server fsync {server_fsync(postgres)})")
    finally:
        if template_name:
            admin(postgres, f"DROP DATABASE {template_name} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baskets", action="store_true")
    parser.add_argument("--postgres")
    args = parser.parse_args()
    for size in args.rows:
        bench(size, args.runs, args.baskets, args.postgres)
