"""Many tills at once on the public API (`loyaltyctl.connect`), against pgbench on the same server.

    python bench/tills_bench.py [--postgres URL] [--citus URL] [--tills 1,4,8] [--seconds 6] [--members 1000]

URL is a PostgreSQL server to create scratch databases on (default: $LOYALTYCTL_TEST_POSTGRES;
`.ci/with-postgres python bench/tills_bench.py` starts a throwaway one). Each till is a process that
connects once and posts one sale after another for the given seconds: an earn of 5-79 points for a
random member, and every fourth sale a redemption of 100 points (refused, and counted, when the member
is short). Printed per backend and number of tills: postings per second in all (refusals included:
each is a posting's whole read and decision), p50 and p99 of one call, and, on PostgreSQL,
`pgbench -s 10` (its default TPC-B-like script) with as many clients for as long, in the same run.
Then the ledger is checked: every member's balance is the sum of what the tills were told they posted,
and `db verify` passes. With --citus URL (default $LOYALTYCTL_TEST_CITUS: the coordinator of a Citus
cluster, `../shared/citus/with-citus` starts one), the same tills on a schema of their own there, the ledger
distributed by program (README "Beyond one server"), beside pgbench on PostgreSQL. Last, one process
posting in-process on SQLite (the embedded case).
"""

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROGRAM = """\
[program]
code = "tills"
name = "Tills"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"

[earn]
points_per_unit = "1"
"""


def prepare(location: str, members: int, work: Path) -> None:
    import loyaltyctl
    from loyaltyctl.formats.program_toml import parse_program

    with loyaltyctl.connect(location, create=True) as ledger:
        ledger.apply_programs([parse_program(PROGRAM)])
        path = work / "members.csv"
        path.write_text("member_id\n" + "".join(f"M{n}\n" for n in range(members)))
        ledger.import_members("tills", path, reject_file=work / "members.rejects.csv")


def till(job: tuple) -> tuple[list[float], int, dict[str, int]]:
    """One till: (latency of each call, refusals, points posted per member as the till was told)."""
    import loyaltyctl

    location, seconds, members, seed, start = job
    rng = random.Random(seed)
    latencies, refused, posted = [], 0, {}
    with loyaltyctl.connect(location) as ledger:
        ledger.balance("tills", "M0")  # connected and warm before the clock starts
        while time.time() < start:
            time.sleep(0.001)
        deadline, sale = start + seconds, 0
        while (now := time.perf_counter()) and time.time() < deadline:
            member = f"M{rng.randrange(members)}"
            try:
                if sale % 4 == 3:
                    result = ledger.redeem("tills", member, points=100)
                else:
                    result = ledger.earn("tills", member, rng.randrange(5, 80), reason="sale")
                posted[member] = posted.get(member, 0) + sum(e.points for e in result.entries)
            except loyaltyctl.Refused:
                refused += 1
            latencies.append(time.perf_counter() - now)
            sale += 1
    return latencies, refused, posted


def run_tills(location: str, tills: int, seconds: float, members: int) -> dict:
    start = time.time() + 1.0 + 0.1 * tills  # every till connected before any posts
    with get_context("fork").Pool(tills) as pool:
        found = pool.map(till, [(location, seconds, members, seed, start) for seed in range(tills)])
    latencies = sorted(latency for calls, _, _ in found for latency in calls)
    posted: dict[str, int] = {}
    for _, _, by_member in found:
        for member, points in by_member.items():
            posted[member] = posted.get(member, 0) + points
    return {"rate": len(latencies) / seconds, "p50": statistics.median(latencies),
            "p99": latencies[max(int(len(latencies) * 0.99) - 1, 0)], "refused": sum(r for _, r, _ in found),
            "calls": len(latencies), "posted": posted}


def check(location: str, posted: dict[str, int], members: int) -> str:
    """Balances equal what the tills were told they posted; no balance below zero; db verify passes."""
    import loyaltyctl

    with loyaltyctl.connect(location) as ledger:
        balances = {f"M{n}": ledger.balance("tills", f"M{n}").points for n in range(members)}
        verified = ledger.verify()
    wrong = [m for m, points in balances.items() if points != posted.get(m, 0) or points < 0]
    if wrong or not verified.ok:
        return f"FAILED ({len(wrong)} balances differ; verify: {verified.problems[:1]})"
    return "balances = what was posted, verify ok"


def pgbench_binary() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    return str(candidates[-1]) if candidates else None


def pgbench_tps(url: str, clients: int, seconds: float) -> float | None:
    binary = pgbench_binary()
    if binary is None:
        return None
    done = subprocess.run([binary, "-c", str(clients), "-j", str(clients), "-T", str(int(seconds)), "-n", url],
                          capture_output=True, text=True, check=True)
    return float(re.search(r"tps = ([\d.]+)", done.stdout).group(1))


def _scratch(admin_url: str, create: str, remove: str) -> callable:
    """Run `create` on the server, and return what runs `remove` there."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(create)

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(remove)

    return drop


def scratch_database(server: str, prefix: str) -> tuple[str, callable]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    drop = _scratch(server, f"CREATE DATABASE {name}", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return server.rsplit("/", 1)[0] + f"/{name}", drop


def scratch_schema(coordinator: str, prefix: str) -> tuple[str, callable]:
    """A new schema on a Citus coordinator, as a URL that works in it."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    drop = _scratch(coordinator, f"CREATE SCHEMA {name}", f"DROP SCHEMA IF EXISTS {name} CASCADE")
    return f"{coordinator}{'&' if '?' in coordinator else '?'}options=-csearch_path%3D{name}", drop


def report(backend: str, tills: int, found: dict, verdict: str, tps: float | None) -> None:
    ratio = f"{found['rate'] / tps:6.2f}" if tps else "     -"
    print(f"  {backend:10} {tills:5d} {found['rate']:11.0f} {found['p50'] * 1000:7.1f} {found['p99'] * 1000:7.1f} "
          f"{tps or 0:12.0f} {ratio}  {verdict} ({found['refused']} short-balance refusals)", flush=True)


def measure(location: str, drop: callable, tills: int, args: argparse.Namespace, work: Path) -> tuple[dict, str]:
    try:
        prepare(location, args.members, work)
        found = run_tills(location, tills, args.seconds, args.members)
        return found, check(location, found["posted"], args.members)
    finally:
        drop()


def in_process_sqlite(seconds: float, members: int, work: Path) -> tuple[float, float, float]:
    """One process posting on SQLite through the API: postings/s, p50, p99 (WAL, synchronous=NORMAL)."""
    import loyaltyctl

    location = str(work / "one.db")
    prepare(location, members, work)
    rng, latencies = random.Random(7), []
    with loyaltyctl.connect(location) as ledger:
        deadline, sale = time.time() + seconds, 0
        while time.time() < deadline:
            member, started = f"M{rng.randrange(members)}", time.perf_counter()
            try:
                if sale % 4 == 3:
                    ledger.redeem("tills", member, points=100)
                else:
                    ledger.earn("tills", member, rng.randrange(5, 80), reason="sale")
            except loyaltyctl.Refused:
                pass
            latencies.append(time.perf_counter() - started)
            sale += 1
    latencies.sort()
    return len(latencies) / seconds, statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("LOYALTYCTL_TEST_POSTGRES"))
    parser.add_argument("--citus", default=os.environ.get("LOYALTYCTL_TEST_CITUS"))
    parser.add_argument("--tills", default="1,4,8")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    counts = [int(n) for n in args.tills.split(",")]
    print(f"{args.seconds:g} s per run, {args.members} members, {os.cpu_count()} CPUs")
    print(f"  {'backend':10} {'tills':>5} {'postings/s':>11} {'p50 ms':>7} {'p99 ms':>7} {'pgbench tps':>12} "
          f"{'ratio':>6}  check")
    with tempfile.TemporaryDirectory(prefix="loyaltyctl-tills-") as folder:
        work = Path(folder)
        if args.postgres:
            pgbench_db, drop_pgbench = scratch_database(args.postgres, "tills_pgbench")
            binary = pgbench_binary()
            if binary:
                subprocess.run([binary, "-i", "-s", "10", "-q", pgbench_db], capture_output=True, check=True)
            try:
                for tills in counts:
                    found, verdict = measure(*scratch_database(args.postgres, "tills_bench"), tills, args, work)
                    tps = pgbench_tps(pgbench_db, tills, args.seconds) if binary else None
                    report("PostgreSQL", tills, found, verdict, tps)
                    if args.citus:
                        found, verdict = measure(*scratch_schema(args.citus, "tills_bench"), tills, args, work)
                        report("Citus", tills, found, verdict, tps)
            finally:
                drop_pgbench()
        else:
            print("  (no --postgres URL: PostgreSQL not measured)")
        for tills in counts:
            location = str(work / f"tills{tills}.db")
            prepare(location, args.members, work)
            found = run_tills(location, tills, args.seconds, args.members)
            print(f"  {'SQLite':10} {tills:5d} {found['rate']:11.0f} {found['p50'] * 1000:7.1f} "
                  f"{found['p99'] * 1000:7.1f} {'':>12} {'':>6}  {check(location, found['posted'], args.members)}",
                  flush=True)
        rate, p50, p99 = in_process_sqlite(args.seconds, args.members, work)
        print(f"  SQLite, one process in-process: {rate:.0f} postings/s, p50 {p50 * 1000:.2f} ms, "
              f"p99 {p99 * 1000:.2f} ms")


if __name__ == "__main__":
    main()
