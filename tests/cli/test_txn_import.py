"""txn import end to end, with points worked out by hand."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import loyaltyctl
from loyaltyctl.cli import txn as txn_cli
from tests.conftest import query, run, snapshot, write

SHOP = """\
[program]
code = "shop"
name = "Shop"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"
effective_from = 2026-01-01

[earn]
points_per_unit = "1"
rounding = "floor"
min_spend = "5.00"
max_points_per_txn = 500
exclude_categories = ["gift-cards"]
pending_days = {pending}

[[earn.multipliers]]
category = "skincare"
factor = "2"

[[earn.promotions]]
name = "May days"
starts = 2026-05-01
ends = 2026-05-03
factor = "3"

[expiry]
policy = "lot"
months = 12

[[partners]]
code = "fleet"
name = "Fleet Rides"
points_per_unit = "2"
"""
HEADER = "txn_id,member_id,occurred_at,amount,category,currency,store,partner,refund_of,description\n"
GOOD = (
    "T1,M1,2026-04-10T10:00,50.00,makeup,USD,Main,,,lipstick\n"        # 50
    "T2,M1,2026-04-11T10:00,20.10,skincare,,Main,,,serum\n"            # 20.10 x 2 = 40.2 -> 40
    "T3,C1,2026-05-02T10:00,10.00,skincare,USD,Main,,,\n"              # card C1 = M1; 10 x 2 x 3 = 60
    "T4,M2,2026-04-12T10:00,4.99,makeup,USD,Main,,,\n"                 # below min_spend: 0
    "T5,M2,2026-04-12T11:00,100.00,gift-cards,USD,Main,,,\n"           # excluded: 0
    "T6,M2,2026-04-13T09:00,25.75,,USD,Fleet,fleet,,ride\n"            # partner: 25.75 x 2 = 51.5 -> 51
    "T7,M1,2026-04-20T10:00,-25.00,makeup,USD,Main,,T1,return\n"       # claws back round(50 x 25 / 50) = 25
    "T8,M2,2026-04-14T10:00,2000.00,makeup,USD,Main,,,\n"              # 2000 capped at 500
)
BAD = (
    'T9,M1,2026-04-15T10:00,"12,50",makeup,USD,Main,,,\n'
    "T10,M9,2026-04-15T10:00,12.50,makeup,USD,Main,,,\n"
    "T11,M1,2026-04-15T10:00,-5.00,makeup,USD,Main,,T99,\n"
    "T12,M1,2026-04-15T10:00,12.50,makeup,EUR,Main,,,\n"
    "T1,M1,2026-04-10T10:00,50.00,makeup,USD,Main,,,lipstick\n"       # a repeat: duplicate
)


@pytest.fixture
def shop(tmp_path):
    run("program", "apply", write(tmp_path / "shop.toml", SHOP.format(pending=0)))
    run("member", "add", "-p", "shop", "M1", "--card", "C1")
    run("member", "add", "-p", "shop", "M2")
    return tmp_path


def imported(*args):
    result = run("txn", "import", "-p", "shop", *args, "--format", "json")
    return result, json.loads(result.stdout) if result.stdout else None


def points(member, as_of=None):
    args = ["balance", "-p", "shop", member, "--format", "json"] + (["--as-of", as_of] if as_of else [])
    return json.loads(run(*args).stdout)


@pytest.mark.citus
def test_every_rule_and_bad_row_with_exact_points(shop):
    path = write(shop / "day.csv", HEADER + GOOD + BAD)
    result, summary = imported(path)
    assert result.exit_code == 3
    assert summary == {
        "rows": 13, "imported": 8, "duplicates": 1, "rejected": 4, "rejected_before": 0, "skipped": 0,
        "skipped_reasons": {},
        "transactions": 8,
        "points_earned": 50 + 40 + 60 + 51 + 500, "points_clawed_back": 25, "earned_nothing": 2,
            "without_membership": 0, "limited": 0, "bonus_points": 0,
        "members_created": 0, "non_member_sales": 0, "reject_file": str(shop / "day.rejects.csv"), "dry_run": False,
    }
    assert points("M1")["points"] == 50 + 40 + 60 - 25
    assert points("M2")["points"] == 51 + 500
    with open(shop / "day.rejects.csv", newline="") as handle:
        rejects = sorted((r["line"], r["reason"], r["txn_id"]) for r in csv.DictReader(handle))  # refunds waiting for a purchase come last
    assert rejects == [
        ("10", "amount '12,50' is not a plain decimal like 12.50", "T9"),
        ("11", "unknown member 'M9' (add them first, or import with --create-members)", "T10"),
        ("12", "refund_of 'T99' is not an imported transaction", "T11"),
        ("13", "currency 'EUR' is not the program's USD", "T12"),
    ]
    assert f"{path}:10: amount '12,50' is not a plain decimal like 12.50" in result.stderr
    assert run("db", "verify").exit_code == 0


@pytest.mark.citus
def test_the_same_file_twice_posts_nothing_the_second_time(shop, db_path):
    path = write(shop / "day.csv", HEADER + GOOD)
    first, _ = imported(path)
    assert first.exit_code == 0
    before = snapshot(db_path)
    again, summary = imported(path)
    assert again.exit_code == 0
    assert (summary["imported"], summary["duplicates"], summary["points_earned"]) == (0, 8, 0)
    assert snapshot(db_path) == before


def test_a_refund_beyond_what_is_left_of_the_purchase_is_rejected(shop, tmp_path):
    write(shop / "a.csv", HEADER + "T1,M1,2026-04-10T10:00,75.00,makeup,,,,,\n"
          "R1,M1,2026-04-11T10:00,-45.00,,,,,T1,\n"    # round(75 x 45 / 75) = 45
          "R2,M1,2026-04-12T10:00,-45.00,,,,,T1,\n"    # 45 more would pass the 75.00 paid: 30.00 left
          "R3,M1,2026-04-12T11:00,-30.00,,,,,T1,\n")   # the rest: round(75 x 75 / 75) - 45 = 30
    result = run("txn", "import", "-p", "shop", shop / "a.csv", "--format", "json")
    assert result.exit_code == 3
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["rejected"], summary["points_clawed_back"]) == (3, 1, 75)
    assert "refund 45.00 exceeds what is left of T1: 30.00" in result.stderr
    assert points("M1")["points"] == 0


@pytest.mark.citus
def test_a_clawback_beyond_the_balance_leaves_points_owed(shop):
    write(shop / "a.csv", HEADER + "T1,M1,2026-04-10T10:00,80.00,makeup,,,,,\n")
    imported(shop / "a.csv")
    run("redeem", "-p", "shop", "M1", "--points", "70", "--at", "2026-04-11")
    write(shop / "b.csv", HEADER + "R1,M1,2026-04-12T10:00,-80.00,,,,,T1,\n"
          "T2,M1,2026-04-13T10:00,30.00,makeup,,,,,\n")  # pays the 70 owed first
    imported(shop / "b.csv")
    assert points("M1", "2026-04-12")["points"] == -70
    assert points("M1", "2026-04-13")["points"] == -40
    assert run("db", "verify").exit_code == 0


@pytest.mark.citus
def test_pending_points_wait_and_a_refund_in_the_window_cancels_them(tmp_path):
    run("program", "apply", write(tmp_path / "shop.toml", SHOP.format(pending=30)))
    run("member", "add", "-p", "shop", "M1")
    write(tmp_path / "a.csv", HEADER + "T1,M1,2026-06-10T10:00,100.00,makeup,,,,,\n")
    imported(tmp_path / "a.csv")
    now = points("M1")  # the clock says 2026-06-15
    assert (now["points"], now["pending"], now["available"]) == (100, 100, 0)
    refused = run("redeem", "-p", "shop", "M1", "--points", "10")
    assert (refused.exit_code, refused.stderr) == (1, "error: short balance: member 'M1' has 0 points available, needs 10\n")
    write(tmp_path / "b.csv", HEADER + "R1,M1,2026-06-12T10:00,-40.00,,,,,T1,\n")
    imported(tmp_path / "b.csv")
    assert (points("M1")["points"], points("M1")["pending"]) == (60, 60)
    later = points("M1", "2026-07-10")  # available from 10 July 10:00
    assert (later["points"], later["pending"], later["available"]) == (60, 0, 60)


def test_strict_refuses_the_whole_file_and_dry_run_writes_nothing(shop, db_path):
    path = write(shop / "day.csv", HEADER + GOOD + BAD)
    before = snapshot(db_path)
    strict = run("txn", "import", "-p", "shop", path, "--strict")
    assert strict.exit_code == 2
    assert strict.stderr == f"error: {path}:10: amount '12,50' is not a plain decimal like 12.50 (4 bad rows; --strict imported nothing)\n"
    assert snapshot(db_path) == before
    assert not (shop / "day.rejects.csv").exists()
    result, summary = imported(path, "--dry-run")
    assert (summary["imported"], summary["points_earned"], summary["dry_run"]) == (8, 701, True)
    assert snapshot(db_path) == before
    assert not (shop / "day.rejects.csv").exists()


def test_other_headers_delimiters_and_new_members(shop):
    path = write(shop / "pos.csv", "Receipt;Customer;When;Total\nP1;NEW1;2026-04-10T10:00;12.00\nP2;M2;2026-04-10;8.00\n")
    args = ["--map", "receipt=txn_id", "--map", "customer=member_id", "--map", "when=occurred_at", "--map", "total=amount",
            "--delimiter", ";"]
    result, summary = imported(path, *args)
    assert (result.exit_code, summary["rejected"]) == (3, 1)
    result, summary = imported(path, *args, "--create-members")
    assert (result.exit_code, summary["imported"], summary["members_created"], summary["duplicates"]) == (0, 1, 1, 1)
    assert points("NEW1")["points"] == 12


def test_unreadable_files_exit_2_and_write_nothing(shop, db_path):
    before = snapshot(db_path)
    missing = write(shop / "m.csv", "txn_id,member_id,amount\nT1,M1,5\n")
    result = run("txn", "import", "-p", "shop", missing)
    assert (result.exit_code, result.stderr) == (2, f"error: {missing}:1: missing required column occurred_at (found: txn_id, member_id, amount)\n")
    latin = shop / "l.csv"
    latin.write_bytes((HEADER + "T1,M1,2026-04-10T10:00,50.00,,,,,,caf\xe9\n").encode("latin-1"))
    result = run("txn", "import", "-p", "shop", latin)
    assert result.exit_code == 2 and "l.csv:2: not UTF-8 text" in result.stderr
    bad_delimiter = run("txn", "import", "-p", "shop", missing, "--delimiter", ";;")
    assert (bad_delimiter.exit_code, bad_delimiter.stderr) == (2, "error: --delimiter ';;': give one character (or 'tab')\n")
    assert snapshot(db_path) == before


def _big_file(path, rows):
    with path.open("w") as out:
        out.write(HEADER)
        for n in range(rows):
            out.write(f"B{n},M{n % 300},2026-04-{1 + n % 28:02d}T10:00,{5 + n % 90}.25,makeup,,,,,\n")
            if n % 50 == 49:
                out.write(f"BR{n},M{(n - 1) % 300},2026-04-28T12:00,-3.00,,,,,B{n - 1},\n")


def _state(db_path):
    balances = query("SELECT member, sum(points) FROM entries GROUP BY member ORDER BY member")
    counts = [query(f"SELECT count(*) FROM {table}")[0][0] for table in ("transactions", "entries", "lots")]
    return balances, counts


def test_killed_mid_import_leaves_all_or_nothing_and_a_rerun_completes_it(shop, db_path, tmp_path):
    data = tmp_path / "big.csv"
    _big_file(data, 15_000)  # dates out of order: several seconds to import on a 2-core machine; killed after 1
    members = write(tmp_path / "members.csv", "member_id\n" + "".join(f"M{n}\n" for n in range(300)))
    assert run("member", "import", "-p", "shop", members).exit_code == 0
    env = dict(os.environ, LOYALTYCTL_DB=str(db_path))
    victim = subprocess.Popen([sys.executable, "-m", "loyaltyctl", "txn", "import", "-p", "shop", str(data)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    _, counts = _state(db_path)
    assert counts[0] in (0, 15_300), "a killed import left part of the file"
    rerun = subprocess.run([sys.executable, "-m", "loyaltyctl", "txn", "import", "-p", "shop", str(data)], env=env,
                           capture_output=True)
    assert rerun.returncode == 0, rerun.stderr
    clean = tmp_path / "clean.db"
    for args in (["program", "apply", str(shop / "shop.toml")], ["member", "add", "-p", "shop", "M1", "--card", "C1"],
                 ["member", "add", "-p", "shop", "M2"], ["member", "import", "-p", "shop", str(members)],
                 ["txn", "import", "-p", "shop", str(data)]):
        assert run("--db", clean, *args).exit_code == 0
    assert _state(db_path) == _state(clean)
    assert run("db", "verify").exit_code == 0


def test_a_reject_file_in_a_missing_folder_is_bad_usage_and_writes_nothing(shop, db_path):
    path = write(shop / "day.csv", HEADER + GOOD)
    before = snapshot(db_path)
    target = shop / "nowhere" / "r.csv"
    result = run("txn", "import", "-p", "shop", path, "--reject-file", target)
    assert (result.exit_code, result.stderr) == (2, f"error: {target}: cannot write the reject file there: No such file or directory\n")
    assert snapshot(db_path) == before


@pytest.mark.citus
def test_a_generic_file_with_a_line_column_imports_baskets(shop):
    # T1 on 2026-04-10: skincare 10.15 x 2 = 20.30, makeup 5.45, gift cards 20.00 earn nothing: 25.75 -> 25,
    # rounded once (20 + 5 line by line). T2 (one line, 4.00 of makeup + its gift cards line): qualifying spend
    # 4.00 < min_spend 5.00, nothing. T3 comes twice without being consecutive: the second is a duplicate.
    path = write(shop / "baskets.csv", "txn_id,line,member_id,occurred_at,amount,category\n"
                 "T1,1,M1,2026-04-10T10:00,10.15,skincare\n"
                 "T1,2,M1,2026-04-10T10:00,5.45,makeup\n"
                 "T1,3,M1,2026-04-10T10:00,20.00,gift-cards\n"
                 "T2,1,M2,2026-04-11T10:00,4.00,makeup\n"
                 "T2,2,M2,2026-04-11T10:00,20.00,gift-cards\n"
                 "T3,1,M2,2026-04-12T10:00,10.00,makeup\n"
                 "T4,1,M2,2026-04-12T11:00,6.00,makeup\n"
                 "T3,1,M2,2026-04-12T10:00,10.00,makeup\n")
    result, summary = imported(path)
    assert result.exit_code == 0, result.stderr
    assert (summary["rows"], summary["imported"], summary["transactions"], summary["duplicates"]) == (8, 7, 4, 1)
    assert (summary["points_earned"], summary["earned_nothing"]) == (25 + 10 + 6, 1)
    assert points("M1")["points"] == 25
    # a refund of T1 claws back in proportion to the basket's total: round(25 x 17.80 / 35.60) = 13 (12.5 up)
    refund = write(shop / "refund.csv", "txn_id,member_id,occurred_at,amount,refund_of\nR1,M1,2026-04-20T10:00,-17.80,T1\n")
    assert imported(refund)[1]["points_clawed_back"] == 13
    assert points("M1")["points"] == 12


def test_basket_lines_must_agree_and_a_repeated_line_is_a_duplicate(shop):
    # B1 line 1 appears twice in a row: the repeat is a duplicate of B1 (10 points, not 20). B2's lines name
    # two members: the basket is rejected whole. An email as member_id, in any case, is one new member.
    path = write(shop / "lines.csv", "txn_id,line,member_id,occurred_at,amount,currency\n"
                 "B1,1,M1,2026-04-10T10:00,10.00,\n"
                 "B1,1,M1,2026-04-10T10:00,10.00,\n"
                 "B2,1,M1,2026-04-10T11:00,10.00,\n"
                 "B2,2,M2,2026-04-10T11:00,10.00,\n"
                 "B3,1,M1,2026-04-10T12:00,10.00,USD\n"
                 "B3,2,M1,2026-04-10T12:00,500.00,EUR\n"
                 "E1,,Ann@Example.com,2026-04-11T10:00,10.00,\n"
                 "E2,,ann@example.com,2026-04-12T10:00,10.00,\n")
    result, summary = imported(path, "--create-members")
    assert result.exit_code == 3
    assert (summary["rows"], summary["imported"], summary["duplicates"], summary["rejected"]) == (8, 3, 1, 4)
    assert points("M1")["points"] == 10
    rejects = (shop / "lines.rejects.csv").read_text()
    assert "basket 'B2': the row on line 5 has another member_id ('M2', not 'M1')" in rejects
    assert "basket 'B3': the row on line 7 has another currency ('EUR', not 'USD')" in rejects
    created = json.loads(run("member", "show", "-p", "shop", "ann@example.com", "--format", "json").stdout)
    assert (created["email"], created["joined"]) == ("ann@example.com", "2026-04-11")
    assert points("ann@example.com")["points"] == 20


def test_a_txn_id_repeated_chunks_later_in_one_file_is_a_duplicate(shop):
    # The first T0 is still buffered when the repeat comes 2,100 rows later (chunks are 2,000 rows).
    rows = ["T0,M1,2026-04-10T10:00,10.00"] + [f"X{n},M2,2026-04-10T11:00,5.00" for n in range(2100)]
    path = write(shop / "long.csv", "txn_id,member_id,occurred_at,amount\n" + "\n".join(rows + [rows[0]]) + "\n")
    result, summary = imported(path)
    assert result.exit_code == 0, result.stderr
    assert (summary["rows"], summary["imported"], summary["duplicates"]) == (2102, 2101, 1)
    assert points("M1")["points"] == 10


def test_an_amount_in_digits_other_than_ascii_is_a_rejected_row(shop):
    path = write(shop / "wide.csv", "txn_id,member_id,occurred_at,amount\n"
                                    "T1,M1,2026-04-10T10:00,１０.00\n"     # full-width digits: not 10.00
                                    "T2,M1,2026-04-10T11:00,10.00\n")
    result, summary = imported(path)
    assert (result.exit_code, summary["imported"], summary["rejected"]) == (3, 1, 1)
    assert f"{path}:2: amount '１０.00' is not a plain decimal like 12.50" in result.stderr
    assert points("M1")["points"] == 10


def test_create_members_refuses_an_id_member_add_would_refuse(shop):
    long_id = "X" * 70
    path = write(shop / "long-id.csv", f"txn_id,member_id,occurred_at,amount\nT1,{long_id},2026-04-10T10:00,10.00\n")
    result, summary = imported(path, "--create-members")
    assert (result.exit_code, summary["members_created"], summary["rejected"]) == (3, 0, 1)
    assert "cannot add the member: member_id 'XXXX" in result.stderr and "at most 64 printable characters" in result.stderr


def test_a_return_without_its_sale_claws_back_at_the_base_rate_when_the_profile_says_so(shop):
    # The generic CSV through a profile with unlinked_refunds = "claw-back". P1 earns 50. U1, a skincare return
    # on a May day naming no sale, takes back 20.10 at the base rate: 20 (not x2 for skincare, not x3 for May
    # days). U2 returns gift cards, which earn nothing: it takes back nothing. U3 is at a partner: rejected.
    profile = write(shop / "mine.toml", run("txn", "source", "show", "generic").stdout
                    + 'unlinked_refunds = "claw-back"\n')
    path = write(shop / "returns.csv", HEADER + "P1,M1,2026-04-10T10:00,50.00,makeup,,,,,\n"
                 "U1,M1,2026-05-02T10:00,-20.10,skincare,,,,,no receipt\n"
                 "U2,M1,2026-04-12T10:00,-100.00,gift-cards,,,,,\n"
                 "U3,M2,2026-04-13T10:00,-25.75,,,Fleet,fleet,,\n")
    result, summary = imported(path, "--source", profile)
    assert result.exit_code == 3
    assert (summary["imported"], summary["rejected"], summary["points_clawed_back"]) == (3, 1, 20)
    assert "a refund at a partner must name refund_of" in result.stderr
    assert points("M1")["points"] == 30
    assert query("SELECT txn_id, amount, points FROM transactions WHERE amount < 0 ORDER BY txn_id") == [
        ("U1", -2010, -20), ("U2", -10000, 0)]
    assert run("db", "verify").exit_code == 0


@pytest.mark.citus
def test_a_nightly_rerun_reports_each_bad_row_once_and_says_nothing_new_in_one_line(shop, db_path):
    path = write(shop / "day.csv", HEADER + GOOD + BAD)
    assert imported(path)[0].exit_code == 3  # T9 to T12 rejected (see the first test)
    first_rejects = (shop / "day.rejects.csv").read_text()
    # The same file again: the 8 sales and the repeated T1 are duplicates, the 4 bad rows were rejected
    # before: exit 0, and the reject file of the first run stays as it was.
    again, summary = imported(path)
    assert again.exit_code == 0, again.stderr
    assert (summary["rows"], summary["duplicates"], summary["rejected"], summary["rejected_before"]) == (13, 9, 0, 4)
    assert (shop / "day.rejects.csv").read_text() == first_rejects
    table = run("txn", "import", "-p", "shop", path)
    assert (table.exit_code, table.stdout, table.stderr) == (0, "nothing new: 9 duplicates, 4 rejected before\n", "")
    # The next night's export: M9 was added since, so T10 imports; T9, T11 and T12 come again on other lines
    # (rejected before); T13 is a new bad row: only it is reported, and the run exits 3 for it.
    run("member", "add", "-p", "shop", "M9")
    bad_again = "".join(line + "\n" for line in BAD.splitlines() if not line.startswith(("T10,", "T1,")))
    night = write(shop / "night.csv", HEADER + "T13,M1,2026-04-16T10:00,1e3,,,,,,\n" + bad_again
                  + "T10,M9,2026-04-15T10:00,12.50,makeup,USD,Main,,,\n")
    result, summary = imported(night)
    assert result.exit_code == 3
    assert (summary["imported"], summary["rejected"], summary["rejected_before"]) == (1, 1, 3)
    assert (shop / "night.rejects.csv").read_text().splitlines()[1:] == [
        "2,amount '1e3' is not a plain decimal like 12.50,T13,M1,2026-04-16T10:00,1e3,,,,,,"]
    # --strict refuses a file with any bad row, rejected before or not; nothing is written
    before = snapshot(db_path)
    strict = run("txn", "import", "-p", "shop", path, "--strict")
    assert (strict.exit_code, snapshot(db_path)) == (2, before)


def test_a_dry_run_remembers_no_rejected_row(shop):
    path = write(shop / "day.csv", HEADER + BAD)
    result, summary = imported(path, "--dry-run")
    assert (result.exit_code, summary["rejected"], summary["rejected_before"]) == (3, 4, 0)
    result, summary = imported(path)
    assert (result.exit_code, summary["rejected"], summary["rejected_before"]) == (3, 4, 0)
    result, summary = imported(path, "--dry-run")
    assert (result.exit_code, summary["rejected"], summary["rejected_before"]) == (0, 0, 4)


def test_the_progress_bar_moves_as_the_file_is_read(shop, monkeypatch):
    # A 4,000-row file of 280 KiB: the bar once moved only per MiB read, so on it never, and on a big file
    # not for the first MiB (15 s of a slow import). It moves every 64 KiB read now, from the first chunk.
    path = shop / "many.csv"
    path.write_text(HEADER + "".join(f"P{n:05d},M{1 + n % 2},2026-04-10T10:{n % 60:02d},{5 + n % 90}.25,makeup,USD,"
                                     f"Main Street,,,purchase {n}\n" for n in range(4000)))
    size = path.stat().st_size
    moves: list[int] = []

    class Bar:  # stands in for rich's Progress: what the terminal would be shown
        def __init__(self, *columns, **options):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *error):
            return False

        def add_task(self, description, total):
            assert total == size
            return 0

        def advance(self, task, step):
            moves.append(step)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(txn_cli, "Progress", Bar)
    monkeypatch.setattr(sys, "stderr", Terminal())
    with txn_cli._progress(path) as advance, loyaltyctl.connect(os.environ["LOYALTYCTL_DB"]) as ledger:
        assert ledger.import_transactions("shop", path, on_bytes=advance).imported == 4000
    assert size // txn_cli.PROGRESS_STEP == len(moves) == 4  # four moves of 64 KiB and a line or so
    assert all(txn_cli.PROGRESS_STEP <= step < txn_cli.PROGRESS_STEP + 100 for step in moves)  # a line is < 100 bytes
