"""Statement batch benchmark: a monthly `statement --all` over 100,000 members and ~1,000,000 entries.

    python bench/statements_bench.py [ROWS]      (default: 1,250,000 transactions, about 1,030,000 entries)

Builds the database with `txn import` (bench/import_bench.py's generator: 100,000
members, two years of purchases, ~3% refunds), then times, in the same run:
  (a) statement --all --period 2026-09 --format html --out-dir DIR   (every member with activity or points)
  (b) the single-member command `statement M --period 2026-09 --format html`, run as a
      process for a sample of members, extrapolated to one run per member written by (a)
and prints wall time, statements per second and peak RSS.
"""

import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from import_bench import BIN, MEMBERS, generate, prepare_loyaltyctl, run  # noqa: E402

PERIOD = "2026-09"
SAMPLE = 100


def main(rows: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="loyaltyctl-statements-"))
    loyaltyctl = str(BIN / "loyaltyctl")
    try:
        data = work / "txns.csv"
        generate(data, rows)
        db, env = prepare_loyaltyctl(work)
        started = time.perf_counter()
        subprocess.run([loyaltyctl, "txn", "import", "-p", "bench", str(data)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        built = time.perf_counter() - started
        entries = subprocess.run(["sqlite3", str(db), "SELECT count(*) FROM entries"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        print(f"\n{MEMBERS:,} members, {int(entries):,} entries (built by txn import in {built:.1f} s)")
        out = work / "statements"
        seconds, rss = run([loyaltyctl, "statement", "-p", "bench", "--all", "--period", PERIOD, "--format", "html",
                            "--out-dir", str(out)], env)
        written = len(list(out.glob("*.html")))
        print(f"  (a) statement --all --format html    {seconds:7.2f} s  {written / seconds:8,.0f} statements/s  "
              f"peak RSS {rss} MiB  ({written:,} files)")
        members = [f"M{n:06d}" for n in random.Random(3).sample(range(MEMBERS), SAMPLE)]
        started = time.perf_counter()
        for member in members:
            subprocess.run([loyaltyctl, "statement", "-p", "bench", member, "--period", PERIOD, "--format", "html"],
                           env=env, check=True, stdout=subprocess.DEVNULL)
        each = (time.perf_counter() - started) / SAMPLE
        print(f"  (b) one process per member            {each * 1000:7.1f} ms each, x {written:,} = "
              f"{each * written:,.0f} s  (sample of {SAMPLE})")
        print(f"  ratio a/b {seconds / (each * written):.3f}   target: (a) under 60 s on 2 cores")
        index = (out / "index.csv").read_text().splitlines()
        print(f"  index.csv: {len(index) - 1:,} rows; first: {json.dumps(index[1])}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_250_000)
