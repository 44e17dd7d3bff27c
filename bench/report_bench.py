"""Report benchmark: liability, roll-forward and journal against one full scan of the ledger.

    python bench/report_bench.py [--members N] [--db PATH] [--runs 3] [--postgres URL]
        (default: 100,000 members, about 10,000,000 entries, in bench/.cache/report-bench-100000.db)

The ledger (about 100 entries per member) is written directly in SQL, since
`txn import` would take many minutes to build it, and it is consistent the way
the Poster keeps it (only the hash chain is left out): two years, 2024-12-01
to 2026-11-20, of earns, bonuses, redemptions, adjustments and clawbacks in
time order, as an import writes them. Every credit has a lot expiring 12 months
later; every debit has the consumptions it took, soonest expiry first; a
monthly expiry run posts what expired before it, the last one on 2026-10-01,
so lots that expired after that are left unposted for the reports to count.
The database is built once (in bench/.cache/ unless --db names a path) and
reused while its counts and its schema match what this loyaltyctl creates.

Then, with the database as built (no ANALYZE) and again after ANALYZE, it times
each command as a fresh process, wall clock, in rounds that rotate who goes
first (--runs, default 3), printing min, median, peak RSS and the median's ratio to (0):
  (0) sqlite3 DB "SELECT sum(points) FROM entries"          the baseline: one full scan (plan printed)
  (1) report liability --as-of 2026-10-31                   target: at most 2x (0)
  (2) report rollforward for October 2026                   target: at most 1.5x (0)
  (2') the same for January 2025, near the ledger's start   as fast as (2): cost follows the month
  (3) report journal for October 2026 (CSV)                 target: at most 1.5x (0)
  (4) balance M000123 --as-of 2026-10-31
and, to show how much of (4) is start-up, `import loyaltyctl.cli` alone and
the same balance called in-process. With --postgres URL the ledger is then
copied into a scratch database on that server (kept for the next run's
inspection, replaced by the next) and the same commands timed there, (0) by psql.
"""

import argparse
import multiprocessing
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))
from import_bench import BIN, run  # noqa: E402

PROGRAM = """\
[program]
code = "bench"
name = "Bench Rewards"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"
breakage_rate = "0.2"
effective_from = 2024-11-01

[earn]
points_per_unit = "1"
rounding = "floor"

[expiry]
policy = "lot"
months = 12

[[rewards]]
code = "one"
name = "$1 off"
points = 100
value = "1.00"

[[rewards]]
code = "five"
name = "$5 off"
points = 500
value = "5.00"

[[rewards]]
code = "ten"
name = "$10 off"
points = 1000
value = "10.00"
"""
TZ = "America/New_York"
FIRST_DAY, LAST_DAY = date(2024, 12, 1), date(2026, 11, 20)
LAST_EXPIRY_RUN = date(2026, 10, 1)
EVENTS_PER_MEMBER = 91  # with the expiries they lead to, about 100 entries per member
REWARDS = ((100, "one"), (500, "five"), (1000, "ten"))  # points, code; 1 point = 1 cent
AS_OF, PERIOD = "2026-10-31", ("2026-10-01", "2026-10-31")
EARLY_PERIOD = ("2025-01-01", "2025-01-31")  # a month near the ledger's start: as costly as the last, if proportional
AS_OF_CUTOFF = int(datetime(2026, 11, 1, tzinfo=ZoneInfo(TZ)).timestamp())  # the first instant after AS_OF
MEMBER = "M000123"
CACHE = Path(__file__).parent / ".cache"
LOYALTYCTL = str(BIN / "loyaltyctl")

INSERT_ENTRY = """INSERT INTO entries (id, program_id, member, kind, points, effective_at, recorded_at, reason, reward,
                                       money, ref, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'00')"""
INSERT_LOT = """INSERT INTO lots (id, entry, member, points, earned_at, expires_at, available_at, remaining, expired,
                                  program_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
INSERT_CONSUMPTION = "INSERT INTO consumptions (debit, lot, points, at, program_id) VALUES (?, ?, ?, ?, ?)"


class LedgerBuilder:
    """Entries, lots and consumptions as the Poster would write them, for members who never owe points.

    Lots are indexed by id in arrays (index 0 unused) and written once, at the
    end, as they finally stand; each member keeps the ids of their lots that
    still hold points, oldest first, which with one expiry rule is also the
    order debits take them in.
    """

    def __init__(self, conn: sqlite3.Connection, program_id: int, members: int):
        self.conn, self.program_id = conn, program_id
        self.entries: list[tuple] = []
        self.consumptions: list[tuple] = []
        self.next_entry = 1
        self.lots = tuple(array("i", [0]) for _ in range(7))  # entry, member, points, earned_at, expires_at, ...
        self.lot_entry, self.lot_points, self.lot_expires, self.lot_remaining, self.lot_expired = (
            self.lots[i] for i in (0, 2, 4, 5, 6))
        self.holding = [array("i") for _ in range(members + 1)]
        self.last_earn = array("i", bytes(4 * (members + 1)))  # each member's latest earn lot, for clawbacks

    def entry(self, member: int, kind: str, points: int, at: int, recorded_at: int | None = None,
              reason: str | None = None, reward: str | None = None, money: int | None = None,
              ref: int | None = None) -> int:
        entry_id = self.next_entry
        self.next_entry += 1
        self.entries.append((entry_id, self.program_id, member, kind, points, at, recorded_at or at, reason, reward,
                             money, ref))
        return entry_id

    def credit(self, member: int, kind: str, points: int, at: int, expires_at: int, reason: str) -> int:
        """A positive entry and its lot; returns the lot id."""
        entry_id = self.entry(member, kind, points, at, reason=reason)
        for column, value in zip(self.lots, (entry_id, member, points, at, expires_at, points, 0)):
            column.append(value)
        lot = len(self.lot_points) - 1
        self.holding[member].append(lot)
        return lot

    def spendable(self, member: int, at: int) -> int:
        return sum(self.lot_remaining[lot] for lot in self.holding[member] if self.lot_expires[lot] > at)

    def debit(self, member: int, kind: str, points: int, at: int, first: int = 0, **details) -> None:
        """A negative entry taking its points from lots alive at `at`: lot `first`, then soonest expiry.

        The caller checks that they hold enough (`spendable`).
        """
        entry_id = self.entry(member, kind, -points, at, **details)
        holding = self.holding[member]
        left = points
        for lot in sorted(holding, key=lambda lot: lot != first):
            if self.lot_expires[lot] <= at:
                continue
            taken = min(self.lot_remaining[lot], left)
            self.lot_remaining[lot] -= taken
            self.consumptions.append((entry_id, lot, taken, at))
            left -= taken
            if not left:
                break
        self.holding[member] = array("i", (lot for lot in holding if self.lot_remaining[lot]))

    def post_expiries(self, run_at: int) -> None:
        """The `expire` run: each lot expired before `run_at` with points left, dated its expiry."""
        due = []
        for member, holding in enumerate(self.holding):
            count = 0
            while count < len(holding) and self.lot_expires[holding[count]] < run_at:
                count += 1
            due += ((self.lot_expires[lot], lot, member) for lot in holding[:count])
            del holding[:count]
        for expires_at, lot, member in sorted(due):
            points = self.lot_remaining[lot]
            entry_id = self.entry(member, "expire", -points, expires_at, recorded_at=run_at,
                                  reason="points expired", ref=lot)
            self.consumptions.append((entry_id, lot, points, expires_at))
            self.lot_remaining[lot], self.lot_expired[lot] = 0, points

    def flush(self) -> None:
        self.conn.executemany(INSERT_ENTRY, self.entries)
        self.conn.executemany(INSERT_CONSUMPTION, ((*row, self.program_id) for row in self.consumptions))
        self.entries.clear()
        self.consumptions.clear()

    def write_lots(self) -> None:
        rows = zip(range(1, len(self.lot_points)), *(column[1:] for column in self.lots))
        self.conn.executemany(INSERT_LOT, ((lot, entry, member, points, earned, expires, earned, remaining, expired,
                                            self.program_id)
                                           for lot, entry, member, points, earned, expires, remaining, expired in rows))


def member_event(ledger: LedgerBuilder, rng: random.Random, member: int, at: int, expires_at: int) -> None:
    """One thing a member does: mostly a purchase; a redemption, clawback or debit adjustment only when covered."""
    roll = rng.random()
    if roll < 0.14:
        points, code = rng.choices(REWARDS, weights=(6, 3, 1))[0]
        if ledger.spendable(member, at) >= points:
            ledger.debit(member, "redeem", points, at, reward=code, money=points)
            return
    elif roll < 0.18 and (lot := ledger.last_earn[member]):
        points = min(rng.randint(1, ledger.lot_points[lot]), ledger.spendable(member, at))
        if points:
            ledger.debit(member, "clawback", points, at, first=lot, reason="refund", ref=ledger.lot_entry[lot])
            return
    elif roll < 0.19:
        points = min(rng.randint(10, 100), ledger.spendable(member, at))
        if points:
            ledger.debit(member, "adjust", points, at, reason="correction")
            return
    elif roll < 0.20:
        ledger.credit(member, "adjust", rng.randint(10, 100), at, expires_at, "goodwill")
        return
    elif roll < 0.25:
        ledger.credit(member, "bonus", rng.choice((50, 100, 250)), at, expires_at, "campaign")
        return
    ledger.last_earn[member] = ledger.credit(member, "earn", rng.randint(5, 250), at, expires_at, "purchase")


def ledger_days(ledger: LedgerBuilder) -> Iterator[tuple[int, date, int, int]]:
    """Each day of the bench ledger, after the expiry run on a month's first: (its number from 0, the day,
    its first instant, when credits earned that day expire)."""
    from loyaltyctl.core.dates import add_months, start_of_day  # in the build's own process (see in_child)

    for n in range((LAST_DAY - FIRST_DAY).days + 1):
        day = FIRST_DAY + timedelta(n)
        opens = start_of_day(day, TZ)
        if day.day == 1 and day <= LAST_EXPIRY_RUN:
            ledger.post_expiries(opens)
        yield n, day, opens, start_of_day(add_months(day, 12), TZ)


def generate(conn: sqlite3.Connection, program_id: int, members: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    conn.executemany(
        """INSERT INTO members (id, program_id, member_id, name, email, joined, referral_code, created_at)
           VALUES (?, ?, ?, ?, ?, '2024-11-15', ?, 1731628800)""",
        ((n + 1, program_id, f"M{n:06d}", f"Member {n}", f"m{n}@example.com", f"R{n:07d}") for n in range(members)))
    ledger = LedgerBuilder(conn, program_id, members)
    days = (LAST_DAY - FIRST_DAY).days + 1
    per_day = round(members * EVENTS_PER_MEMBER / days)
    for _, _, opens, expires_at in ledger_days(ledger):
        events = sorted((opens + rng.randrange(8 * 3600, 21 * 3600), rng.randrange(1, members + 1))
                        for _ in range(per_day))
        for at, member in events:
            member_event(ledger, rng, member, at, expires_at)
        ledger.flush()
    ledger.write_lots()
    keep_figures(conn)


def keep_figures(conn: sqlite3.Connection) -> None:
    """The weekly entry totals, and each member's figures as the Poster keeps them after LAST_DAY."""
    # In the build's child process (see in_child).
    from loyaltyctl.core.dates import cutoff
    from loyaltyctl.storage.ledger import WEEK_OF_EFFECTIVE_AT, points_at_sql

    conn.execute(f"""INSERT INTO entry_totals (program_id, week, points, entries)
                     SELECT program_id, {WEEK_OF_EFFECTIVE_AT}, sum(points), count(*) FROM entries GROUP BY 1, 2""")
    # Each member's figures kept as the Poster keeps them after the ledger's last day: points at the end of
    # it, until the next expiry of a lot that still holds points (nobody owes; nothing is pending).
    conn.execute(f"""UPDATE members SET
                        latest_at = (SELECT max(effective_at) FROM entries WHERE member = members.id),
                        kept_at = :k, kept_points = {points_at_sql('members.id', ':k')},
                        kept_until = (SELECT min(expires_at) FROM lots
                                      WHERE member = members.id AND remaining > 0 AND expires_at >= :k)""",
                 {"k": cutoff(LAST_DAY, TZ)})


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("members", "entries", "lots", "consumptions")}


def build(db: Path, members: int, write=None, *more) -> None:
    """Create the database the normal way (init, program apply), then write the ledger into a copy and rename
    it: `write(conn, program_id, members, *more)`, by default this bench's `generate`."""
    partial = db.with_suffix(".building")
    partial.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    program = db.parent / f"{db.stem}.toml"
    program.write_text(PROGRAM)
    for args in (["init"], ["program", "apply", str(program)]):
        subprocess.run([LOYALTYCTL, "--db", str(partial), *args], check=True, stdout=subprocess.DEVNULL)
    conn = sqlite3.connect(partial)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -256000")
    program_id = conn.execute("SELECT id FROM programs WHERE code = 'bench'").fetchone()[0]
    (write or generate)(conn, program_id, members, *more)
    conn.commit()
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    partial.rename(db)


def schema(db: Path) -> set[tuple]:
    with sqlite3.connect(db) as conn:
        return set(conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite%'"))


def ready(db: Path, members: int) -> bool:
    """A database built earlier for this many members (100 entries each, give or take 10%), with the schema
    `init` creates today (a migration edited since would otherwise go unnoticed)."""
    if not db.exists():
        return False
    with tempfile.TemporaryDirectory() as work:
        fresh = Path(work) / "fresh.db"
        subprocess.run([LOYALTYCTL, "--db", str(fresh), "init"], check=True, stdout=subprocess.DEVNULL)
        if schema(fresh) != schema(db):
            return False
    found = counts(db)
    return found["members"] == members and abs(found["entries"] - 100 * members) <= 10 * members and placed(db)


def placed(db: Path) -> bool:
    """Every lot and take names its program (builds before m019's column left it empty: PostgreSQL refuses them)."""
    with sqlite3.connect(db) as conn:
        return not conn.execute("""SELECT (SELECT count(*) FROM lots WHERE program_id IS NULL)
                                        + (SELECT count(*) FROM consumptions WHERE program_id IS NULL)""").fetchone()[0]


def describe(db: Path) -> None:
    found = counts(db)
    with sqlite3.connect(db) as conn:
        outstanding, unposted = conn.execute(
            """SELECT (SELECT sum(points) FROM entries WHERE effective_at < :t)
                    - (SELECT coalesce(sum(remaining), 0) FROM lots WHERE remaining > 0 AND expires_at < :t),
                      (SELECT count(*) FROM lots WHERE remaining > 0 AND expires_at < :t)""",
            {"t": AS_OF_CUTOFF}).fetchone()
    print(f"  {db}: {db.stat().st_size / 2**20:,.0f} MiB; " + ", ".join(f"{n:,} {t}" for t, n in found.items()))
    print(f"  as of {AS_OF}: {outstanding:,} points outstanding, {unposted:,} lots expired with the expiry unposted")


def in_child(function, *args):
    """`function(*args)` in a fresh interpreter. The kernel counts a parent's peak RSS in every child it
    starts, so this process never builds or imports loyaltyctl: the peak RSS printed is the command's own."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def rounds(commands: dict[str, list[str]], times: int) -> dict[str, list[tuple[float, int]]]:
    """Each command `times` times, in rounds that rotate who goes first: (seconds, peak RSS MiB) per run."""
    names = list(commands)
    timed: dict[str, list[tuple[float, int]]] = {name: [] for name in names}
    for turn in range(times):
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            timed[name].append(run(commands[name]))
    return timed


def balance_in_process(db: Path, times: int = 3) -> float:
    """Open the database and compute the balance, without interpreter start-up or imports."""
    # Imported here, in a child process (see in_child).
    from loyaltyctl.operations.ledger import member_balance
    from loyaltyctl.storage.connect import open_db

    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        database = open_db(db)
        member_balance(database, "bench", MEMBER, date.fromisoformat(AS_OF))
        best = min(best, time.perf_counter() - started)
        database.close()
    return best


def set_statistics(db: Path, analyze: bool) -> float:
    """ANALYZE (returns its seconds), or drop what an earlier ANALYZE left."""
    with sqlite3.connect(db, isolation_level=None) as conn:
        started = time.perf_counter()
        if analyze:
            conn.execute("ANALYZE")
        elif conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            conn.execute("DELETE FROM sqlite_stat1")
        return time.perf_counter() - started


def time_reports(db: Path | str, heading: str, times: int) -> None:
    print(f"\n{heading}: {times} alternating runs each, wall seconds")
    scan = "SELECT sum(points) FROM entries"
    if str(db).startswith("postgresql://"):
        scan_command = ["psql", "-qAtX", str(db), "-c", scan]
        plan = subprocess.run(["psql", "-qAtX", str(db), "-c", f"EXPLAIN {scan}"], capture_output=True,
                              text=True, check=True).stdout.splitlines()[-1].strip()
    else:
        scan_command = ["sqlite3", str(db), scan]
        with sqlite3.connect(db) as conn:
            plan = " / ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {scan}"))
    cli = [LOYALTYCTL, "--db", str(db)]
    month = ["--from", PERIOD[0], "--to", PERIOD[1], "--program", "bench"]
    early = ["--from", EARLY_PERIOD[0], "--to", EARLY_PERIOD[1], "--program", "bench"]
    commands = {
        f"(0) {scan}": scan_command,
        f"(1) report liability --as-of {AS_OF}": [*cli, "report", "liability", "--as-of", AS_OF, "--program", "bench",
                                                   "--format", "json"],
        f"(2) report rollforward {PERIOD[0]}..{PERIOD[1]}": [*cli, "report", "rollforward", *month, "--format", "json"],
        f"(2') the same for {EARLY_PERIOD[0]}..{EARLY_PERIOD[1]}": [*cli, "report", "rollforward", *early,
                                                                    "--format", "json"],
        f"(3) report journal {PERIOD[0]}..{PERIOD[1]} (CSV)": [*cli, "report", "journal", *month, "--format", "csv"],
        f"(4) balance {MEMBER} --as-of {AS_OF}": [*cli, "balance", "--program", "bench", MEMBER, "--as-of", AS_OF,
                                                  "--format", "json"],
    }
    timed = rounds(commands, times)
    base = statistics.median(seconds for seconds, _ in timed[f"(0) {scan}"])
    targets = {"(1)": "target <= 2x", "(2)": "target <= 1.5x", "(2')": "target <= 1.5x", "(3)": "target <= 1.5x"}
    print(f"  {'':62} {'min':>7} {'median':>7}  peak RSS")
    for name, runs in timed.items():
        median = statistics.median(seconds for seconds, _ in runs)
        ratio = f"  {median / base:.2f}x (0) {targets.get(name.split()[0], '')}" if not name.startswith("(0)") else ""
        print(f"  {name:62} {min(s for s, _ in runs):7.2f} {median:7.2f}  {max(r for _, r in runs):4d} MiB{ratio}")
    print(f"  (0)'s plan: {plan}")
    startup = min(run([str(BIN / "python"), "-c", "import loyaltyctl.cli"])[0] for _ in range(times))
    print(f"  (4) is python + import loyaltyctl.cli {startup * 1000:.0f} ms, "
          f"open + balance in-process {in_child(balance_in_process, str(db)) * 1000:.1f} ms, and the command's own imports")


def to_postgres(db: Path, server: str) -> str:
    """The bench ledger in a scratch PostgreSQL database on `server`, table by table with COPY (not `db copy`:
    the bench ledger leaves the hash chain out, and a copy must verify); returns its URL."""
    # Imported here, in a child process (see in_child).
    import psycopg

    from loyaltyctl.storage.copy import TABLES

    name = f"report_bench_{db.stem.replace('-', '_')}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    url = server.rsplit("/", 1)[0] + "/" + name
    subprocess.run([LOYALTYCTL, "--db", url, "init"], check=True, stdout=subprocess.DEVNULL)
    source = sqlite3.connect(db)
    with psycopg.connect(url) as target:
        target.execute("SET session_replication_role = replica")  # no foreign-key or append-only triggers
        for table in TABLES:
            columns = ", ".join(table.columns)
            with target.cursor().copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                for row in source.execute(f"SELECT {columns} FROM {table.name}"):
                    copy.write_row(row)
        for table in TABLES:
            if table.generated:
                target.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{table.order}'), "
                               f"(SELECT max({table.order}) FROM {table.name}))")
        target.execute("ANALYZE")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="database to build or reuse (default: bench/.cache/…)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="also time the reports on a copy in a scratch database on this server")
    options = parser.parse_args()
    db = options.db or CACHE / f"report-bench-{options.members}.db"
    if ready(db, options.members):
        print(f"reusing {db}")
    elif options.db and options.db.exists():
        raise SystemExit(f"{db} is not a bench database of {options.members:,} members with today's schema; "
                         "remove it or name another path")
    else:
        print(f"building {db} ({options.members:,} members; a few minutes at 100,000)")
        started = time.perf_counter()
        in_child(build, db, options.members)
        print(f"  built in {time.perf_counter() - started:.0f} s")
    describe(db)
    set_statistics(db, analyze=False)
    time_reports(db, "as built, no ANALYZE (a user's database)", options.runs)
    print(f"\nANALYZE: {set_statistics(db, analyze=True):.1f} s")
    time_reports(db, "after ANALYZE", options.runs)
    if options.postgres:
        started = time.perf_counter()
        url = in_child(to_postgres, db, options.postgres)
        print(f"\ncopied to PostgreSQL in {time.perf_counter() - started:.0f} s (COPY, then ANALYZE)")
        time_reports(url, "PostgreSQL", options.runs)


if __name__ == "__main__":
    main()
