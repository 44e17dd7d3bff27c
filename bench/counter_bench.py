"""Counter commands as a till runs them: one process per command, CPU time against the floors.

    python bench/counter_bench.py [--rounds 7] [--postgres URL]

Each round runs, in an order that rotates from round to round, fresh processes of:
  python -c pass                 the interpreter's start-up
  argparse + sqlite3 script      a balance with nothing but the standard library
  minimal Typer app              the framework's floor: a Typer command that opens the same
                                 database and prints the member's points as JSON
  loyaltyctl balance / earn / redeem --format json   on the demo database
and prints, per command, the min and median CPU time (user + system of the child) and median
wall time, and the median's ratio to the minimal Typer app (issue 17's target: <= 1.25x).
With --postgres URL (default $LOYALTYCTL_TEST_POSTGRES) the demo is copied into a scratch
database on that server and the Typer floor and loyaltyctl run against it too.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROGRAM, MEMBER = "corner-cafe", "M001"
LOYALTYCTL = str(Path(sys.executable).with_name("loyaltyctl"))

POINTS_SQL = ("SELECT coalesce(sum(e.points), 0) FROM entries e JOIN members m ON m.id = e.member "
              "JOIN programs p ON p.id = m.program_id WHERE p.code = {0} AND m.member_id = {0}")

ARGPARSE_APP = f'''
import argparse, json, sqlite3
parser = argparse.ArgumentParser()
parser.add_argument("member"); parser.add_argument("--program", "-p"); parser.add_argument("--db")
parser.add_argument("--format", "-f", default="table")
args = parser.parse_args()
(points,) = sqlite3.connect(args.db).execute({POINTS_SQL.format("?")!r}, (args.program, args.member)).fetchone()
print(json.dumps({{"program": args.program, "member": args.member, "points": points}}, indent=2))
'''

TYPER_APP = f'''
import json
from typing import Annotated
import typer

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

@app.command()
def balance(member: str, program: Annotated[str, typer.Option("--program", "-p")],
            db: Annotated[str, typer.Option("--db")], format: Annotated[str, typer.Option("--format", "-f")] = "table"):
    if db.startswith("postgresql://"):
        import psycopg
        connection, sql = psycopg.connect(db), {POINTS_SQL.format("%s")!r}
    else:
        import sqlite3
        connection, sql = sqlite3.connect(db), {POINTS_SQL.format("?")!r}
    (points,) = connection.execute(sql, (program, member)).fetchone()
    print(json.dumps({{"program": program, "member": member, "points": int(points)}}, indent=2))

app()
'''


def cpu_seconds(argv: list[str]) -> tuple[float, float]:
    """(CPU, wall) seconds of one child process; a failing command stops the bench."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def commands(location: str, work: Path) -> dict[str, list[str]]:
    (work / "argparse_app.py").write_text(ARGPARSE_APP)
    (work / "typer_app.py").write_text(TYPER_APP)
    ours = [LOYALTYCTL, "--db", location]
    found = {"python -c pass": [sys.executable, "-c", "pass"]}
    if not location.startswith("postgresql://"):
        found["argparse + sqlite3"] = [sys.executable, str(work / "argparse_app.py"), MEMBER, "-p", PROGRAM,
                                       "--db", location, "-f", "json"]
    found |= {
        "minimal Typer app": [sys.executable, str(work / "typer_app.py"), MEMBER, "-p", PROGRAM,
                              "--db", location, "-f", "json"],
        "loyaltyctl balance": [*ours, "balance", "-p", PROGRAM, MEMBER, "-f", "json"],
        "loyaltyctl earn": [*ours, "earn", "-p", PROGRAM, MEMBER, "6", "-r", "bench", "-f", "json"],
        "loyaltyctl redeem": [*ours, "redeem", "-p", PROGRAM, MEMBER, "--reward", "pastry", "-f", "json"],
    }
    return found


def measure(title: str, location: str, work: Path, rounds: int) -> None:
    runs = commands(location, work)
    names = list(runs)
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds + 1):
        turn = round_number % len(names)
        for name in names[turn:] + names[:turn]:
            used, took = cpu_seconds(runs[name])
            if round_number:  # round 0 warms the file cache and the bytecode
                cpu[name].append(used)
                wall[name].append(took)
    floor = statistics.median(cpu["minimal Typer app"])
    print(f"\n{title}: CPU seconds per process, {rounds} rounds")
    print(f"  {'command':<22} {'min':>7} {'median':>7} {'wall':>7}  vs minimal Typer app")
    for name in names:
        median = statistics.median(cpu[name])
        print(f"  {name:<22} {min(cpu[name]):7.3f} {median:7.3f} {statistics.median(wall[name]):7.3f}  "
              f"{median / floor:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--postgres", default=os.environ.get("LOYALTYCTL_TEST_POSTGRES"))
    args = parser.parse_args()
    import loyaltyctl  # bytecode compiled as a pip install does (not if PYTHONDONTWRITEBYTECODE is set)

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(loyaltyctl.__file__).parent)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        demo = str(work / "demo.db")
        subprocess.run([LOYALTYCTL, "demo", "--db", demo], check=True, capture_output=True)
        subprocess.run([LOYALTYCTL, "--db", demo, "earn", "-p", PROGRAM, MEMBER, "1000", "-r", "redeem stock"],
                       check=True, capture_output=True)  # rounds rotate: a redeem may run before its earn
        measure("SQLite (the demo database)", demo, work, args.rounds)
        if args.postgres:
            import psycopg

            name = f"counter_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {name}")
            target = args.postgres.rsplit("/", 1)[0] + "/" + name
            try:
                subprocess.run([LOYALTYCTL, "db", "copy", demo, target], check=True, capture_output=True)
                measure("PostgreSQL (the demo, copied)", target, work, args.rounds)
            finally:
                with psycopg.connect(args.postgres, autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
