"""Real processes racing for one balance: the write lock lets exactly as many win as it covers."""

import json
import subprocess
import sys

from tests.cli.test_ledger_cli import CLUB, post
from tests.conftest import run, write


def test_concurrent_redemptions_never_overspend(tmp_path, db_path):
    run("program", "apply", write(tmp_path / "club.toml", CLUB))
    run("member", "add", "-p", "club", "M1")
    post("earn", "-p", "club", "M1", "500", "-r", "stock")
    racers = [
        subprocess.Popen(
            [sys.executable, "-m", "loyaltyctl", "--db", str(db_path), "redeem", "-p", "club", "M1", "--reward", "ten-off"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outcomes = [(racer.wait(timeout=120), racer.stderr.read()) for racer in racers]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 0, 0, 0, 0, 1, 1, 1], outcomes
    refusals = [err for code, err in outcomes if code == 1]
    assert all(err.startswith("error: short balance: member 'M1' has 0 points available") for err in refusals)
    result = json.loads(run("balance", "-p", "club", "M1", "--format", "json").stdout)
    assert (result["points"], result["available"]) == (0, 0)
    assert run("db", "verify").exit_code == 0


def test_overlapping_imports_at_once_post_each_transaction_once(tmp_path, db_path):
    # Two processes import files that share 300 of their 600 rows each: 900 transactions in all, each once.
    # Every row is 12.00 for M<n % 30> at 1 point per unit: 900 x 12 = 10,800 points, 360 per member.
    run("program", "apply", write(tmp_path / "club.toml", CLUB))
    run("member", "import", "-p", "club", write(tmp_path / "m.csv", "member_id\n" + "".join(f"M{n}\n" for n in range(30))))
    header = "txn_id,member_id,occurred_at,amount\n"
    rows = [f"T{n},M{n % 30},2026-05-{1 + n % 28:02d}T12:00,12.00\n" for n in range(900)]
    files = [write(tmp_path / "a.csv", header + "".join(rows[:600])), write(tmp_path / "b.csv", header + "".join(rows[300:]))]
    racers = [subprocess.Popen([sys.executable, "-m", "loyaltyctl", "--db", str(db_path), "txn", "import", "-p", "club",
                                str(path), "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for path in files]
    summaries = [json.loads(racer.communicate(timeout=300)[0]) for racer in racers]
    assert sorted((s["imported"], s["duplicates"]) for s in summaries) == [(300, 300), (600, 0)]
    assert sum(s["points_earned"] for s in summaries) == 10_800
    balances = {json.loads(run("balance", "-p", "club", f"M{n}", "--format", "json").stdout)["points"] for n in range(30)}
    assert balances == {360}
    assert run("db", "verify").exit_code == 0


def test_a_snapshot_reads_one_state_while_another_till_posts(shop, db_path):
    # What reports and statements read through (cli.common.snapshot): a posting that commits meanwhile
    # shows in the next command, never halfway through this one.
    from loyaltyctl.operations.ledger import member_balance
    from loyaltyctl.storage.connect import open_db

    assert run("member", "add", "-p", "shop", "M1").exit_code == 0
    assert run("earn", "-p", "shop", "M1", "10", "-r", "first").exit_code == 0
    reader = open_db(db_path)
    reader.begin_snapshot()
    assert member_balance(reader, "shop", "M1").points == 10
    assert run("earn", "-p", "shop", "M1", "5", "-r", "meanwhile").exit_code == 0
    assert member_balance(reader, "shop", "M1").points == 10
    reader.rollback()
    assert member_balance(reader, "shop", "M1").points == 15
    reader.close()
