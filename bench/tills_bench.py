"""Many tills at once: N processes posting earn and redeem against one ledger, SQLite and PostgreSQL.

    python bench/tills_bench.py [--postgres URL] [--tills 1,4,8] [--postings 200]

URL is a PostgreSQL server to create a scratch database on (default: $LOYALTYCTL_TEST_POSTGRES;
`.ci/with-postgres python bench/tills_bench.py` starts a throwaway one). Each till is a process that
opens the database once and posts one sale after another, as a till's loyaltyctl session would: an
earn for a random member of 1,000, and every fourth sale a redemption of 100 points (refused, and
counted, when the member is short). Printed per backend and number of tills: postings per second
in all, and the p50/p99 latency of one posting (its whole write transaction), then `db verify`.
Process start-up (about 0.14 s of CPU per command on SQLite, 0.3 s with psycopg; bench/counter_bench.py)
is left out.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MEMBERS = 1000
PROGRAM = """\
[program]
code = "tills"
name = "Tills"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"

[earn]
points_per_unit = "1"

[[rewards]]
code = "coffee"
name = "Free coffee"
points = 100
value = "3.00"
"""


def prepare(location: str, work: Path) -> None:
    from loyaltyctl.formats.program_toml import parse_program
    from loyaltyctl.operations import setup
    from loyaltyctl.storage.connect import open_db

    db = open_db(location, create=True)
    setup.apply_programs(db, [parse_program(PROGRAM)])
    members = work / "members.csv"
    members.write_text("member_id\n" + "".join(f"M{n}\n" for n in range(MEMBERS)))
    setup.import_members(db, "tills", members, reject_file=work / "members.rejects.csv")
    db.close()


def till(job: tuple[str, int, int]) -> tuple[list[float], int]:
    """One till's session: (latency of each posting, refusals)."""
    from loyaltyctl.errors import Refused
    from loyaltyctl.operations.ledger import post_earn, post_redeem
    from loyaltyctl.storage.connect import open_db

    location, postings, seed = job
    rng = random.Random(seed)
    db = open_db(location)
    latencies, refused = [], 0
    for sale in range(postings):
        member = f"M{rng.randrange(MEMBERS)}"
        started = time.perf_counter()
        try:
            if sale % 4 == 3:
                post_redeem(db, "tills", member, reward_code="coffee")
            else:
                post_earn(db, "tills", member, rng.randrange(5, 80), "sale")
        except Refused:
            refused += 1
        latencies.append(time.perf_counter() - started)
    db.close()
    return latencies, refused


def bench(label: str, location: str, tills: int, postings: int, work: Path) -> None:
    prepare(location, work)
    started = time.perf_counter()
    with Pool(tills) as pool:
        results = pool.map(till, [(location, postings, seed) for seed in range(tills)])
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for found, _ in results for latency in found)
    refused = sum(count for _, count in results)
    p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]
    from loyaltyctl.storage.connect import open_db
    from loyaltyctl.storage.integrity import first_broken_link, reconciliation_problems

    db = open_db(location)
    verified = first_broken_link(db) is None and not reconciliation_problems(db)
    db.close()
    print(f"  {label:10} {tills:2d} tills  {len(latencies) / elapsed:8.0f} postings/s  p50 {p50 * 1000:6.1f} ms"
          f"  p99 {p99 * 1000:6.1f} ms  ({refused} short-balance refusals)  verify: {'ok' if verified else 'FAILED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("LOYALTYCTL_TEST_POSTGRES"))
    parser.add_argument("--tills", default="1,4,8")
    parser.add_argument("--postings", type=int, default=200, help="postings per till")
    args = parser.parse_args()
    print(f"{args.postings} postings per till, {MEMBERS} members, {os.cpu_count()} CPUs")
    for tills in (int(n) for n in args.tills.split(",")):
        with tempfile.TemporaryDirectory(prefix="loyaltyctl-tills-") as folder:
            bench("SQLite", str(Path(folder) / "tills.db"), tills, args.postings, Path(folder))
            if args.postgres:
                import psycopg

                name = f"tills_bench_{uuid.uuid4().hex[:8]}"
                with psycopg.connect(args.postgres, autocommit=True) as admin:
                    admin.execute(f"CREATE DATABASE {name}")
                try:
                    bench("PostgreSQL", args.postgres.rsplit("/", 1)[0] + f"/{name}", tills, args.postings,
                          Path(folder))
                finally:
                    with psycopg.connect(args.postgres, autocommit=True) as admin:
                        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    if not args.postgres:
        print("(no --postgres URL: PostgreSQL not measured)")


if __name__ == "__main__":
    main()
