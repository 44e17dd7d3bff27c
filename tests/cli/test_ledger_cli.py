import json

import pytest

from tests.conftest import query, run, snapshot, write

CLUB = """\
[program]
code = "club"
name = "Club"
currency = "USD"
timezone = "America/New_York"
point_value = "0.10"
effective_from = 2025-01-01

[earn]
points_per_unit = "1"

[expiry]
policy = "lot"
months = 12

[[rewards]]
code = "ten-off"
name = "$10 reward"
points = 100
value = "10.00"

[[rewards]]
code = "give"
name = "Donate $10"
points = 100
value = "10.00"
kind = "donation"
charity = "Community Trust"
"""


@pytest.fixture
def club(tmp_path):
    assert run("program", "apply", write(tmp_path / "club.toml", CLUB)).exit_code == 0
    assert run("member", "add", "-p", "club", "M1", "--card", "C1").exit_code == 0
    assert run("member", "add", "-p", "club", "M2").exit_code == 0


def post(*args):
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def balance(member="M1", as_of=None):
    return post("balance", "-p", "club", member, *(["--as-of", as_of] if as_of else []))


def refused(*args):
    result = run(*args)
    assert result.exit_code == 1, result.stdout
    assert result.stderr.count("\n") == 1
    return result.stderr.strip()


def test_earn_then_redeem_a_reward_records_its_value(club):
    earned = post("earn", "-p", "club", "M1", "150", "-r", "welcome", "--at", "2026-01-10T09:30")
    assert earned["entries"][0] | {"recorded_at": None} == {
        "id": 1, "member": "M1", "kind": "earn", "points": 150, "effective_at": "2026-01-10T09:30:00-05:00",
        "recorded_at": None, "key": None, "reason": "welcome", "reward": None, "value": None, "charity": None, "ref": None,
    }
    assert (earned["balance"], earned["available"]) == (150, 150)
    redeemed = post("redeem", "-p", "club", "M1", "--reward", "ten-off")
    entry = redeemed["entries"][0]
    assert (entry["kind"], entry["points"], entry["reward"], entry["value"], entry["reason"]) == ("redeem", -100, "ten-off", "10.00", "$10 reward")
    assert redeemed["balance"] == 50


def test_redeem_points_are_valued_at_point_value_and_donations_name_the_charity(club):
    post("earn", "-p", "club", "M1", "200", "-r", "x")
    assert post("redeem", "-p", "club", "M1", "--points", "35")["entries"][0]["value"] == "3.50"
    donation = post("redeem", "-p", "club", "M1", "--reward", "give")["entries"][0]
    assert (donation["charity"], donation["value"]) == ("Community Trust", "10.00")
    assert balance()["points"] == 65


def test_a_card_number_names_the_member(club):
    assert post("earn", "-p", "club", "C1", "10", "-r", "scan")["member"] == "M1"


def test_a_repeated_key_changes_nothing_and_reports_the_original(club, db_path):
    first = post("earn", "-p", "club", "M1", "100", "-r", "x", "--key", "till-7")
    before = snapshot(db_path)
    again = post("earn", "-p", "club", "M1", "100", "-r", "x", "--key", "till-7")
    assert again["duplicate"] is True
    assert again["entries"] == first["entries"]
    assert again["balance"] == 100
    assert snapshot(db_path) == before


def test_refusals_exit_1_with_one_line_and_write_nothing(club, tmp_path, db_path):
    other = CLUB.replace('code = "club"', 'code = "other"').replace('"ten-off"', '"gift"')
    run("program", "apply", write(tmp_path / "other.toml", other))
    post("earn", "-p", "club", "M1", "50", "-r", "x")
    before = snapshot(db_path)
    assert refused("redeem", "-p", "club", "M1", "--reward", "ten-off") == "error: short balance: member 'M1' has 50 points available, needs 100"
    assert refused("redeem", "-p", "club", "M9", "--points", "5") == "error: unknown member 'M9' in program 'club'"
    assert refused("redeem", "-p", "club", "M1", "--reward", "nope") == "error: unknown reward 'nope' in 'club' (rewards: ten-off, give)"
    assert refused("redeem", "-p", "club", "M1", "--reward", "gift") == "error: reward 'gift' belongs to program 'other', not 'club'"
    assert refused("transfer", "-p", "club", "M1", "C1", "5") == "error: cannot transfer from member 'M1' to themselves"
    assert refused("transfer", "-p", "club", "M1", "M2", "60") == "error: short balance: member 'M1' has 50 points available, needs 60"
    bad_time = run("earn", "-p", "club", "M1", "5", "-r", "x", "--at", "yesterday")
    assert (bad_time.exit_code, bad_time.stderr) == (
        2, "error: --at 'yesterday' is not an ISO 8601 date or time (2026-06-15 or 2026-06-15T14:30)\n")
    assert snapshot(db_path) == before


def bad_usage(*args) -> str:
    result = run(*args)
    assert result.exit_code == 2, result.stdout
    return result.stderr


def test_a_number_of_points_that_is_not_a_count_is_bad_usage_and_writes_nothing(club, db_path):
    post("earn", "-p", "club", "M1", "50", "-r", "x")
    before = snapshot(db_path)
    assert bad_usage("transfer", "-p", "club", "M1", "M2", "0") == "error: points must be a positive whole number, got 0\n"
    assert bad_usage("earn", "-p", "club", "M1", "0", "-r", "x") == "error: points must be a positive whole number, got 0\n"
    assert bad_usage("redeem", "-p", "club", "M1", "--points", "0") == "error: points must be a positive whole number, got 0\n"
    assert bad_usage("redeem", "-p", "club", "M1", "--points", "-5") == (
        "error: points must be a positive whole number, got -5\n")
    assert bad_usage("adjust", "-p", "club", "M1", "0", "-r", "x") == "error: points must be a non-zero whole number, got 0\n"
    assert bad_usage("adjust", "-p", "club", "M1", "-1000000000001", "-r", "x") == (
        "error: points -1000000000001 is more than the 1,000,000,000,000 one posting may carry\n")
    # beyond what a database holds, or not in ASCII digits: Typer's usage error, naming the argument
    assert f"Invalid value for 'POINTS': {10**30} is out of range" in usage_error(
        "earn", "-p", "club", "M1", str(10**30), "-r", "x")
    assert "Invalid value for 'POINTS': '１０' is not a whole number" in usage_error(
        "earn", "-p", "club", "M1", "１０", "-r", "x")
    assert "Invalid value for '--points': '1_000' is not a whole number" in usage_error(
        "redeem", "-p", "club", "M1", "--points", "1_000")
    assert f"Invalid value for 'ENTRY_ID': {10**30} is out of range" in usage_error(  # not an OverflowError
        "reverse", "-p", "club", str(10**30), "-r", "x")
    assert snapshot(db_path) == before


def usage_error(*args) -> str:
    """Typer's boxed usage error as one line of words."""
    return " ".join(bad_usage(*args).replace("│", " ").split())


def test_reverse_a_redemption_once_and_its_points_come_back(club, db_path):
    post("earn", "-p", "club", "M1", "120", "-r", "x", "--at", "2026-02-01")
    redeemed = post("redeem", "-p", "club", "M1", "--reward", "ten-off")["entries"][0]
    reversed_ = post("reverse", "-p", "club", str(redeemed["id"]), "-r", "customer returned the voucher")
    entry = reversed_["entries"][0]
    assert (entry["kind"], entry["points"], entry["ref"], entry["value"]) == ("reverse", 100, redeemed["id"], "-10.00")
    assert reversed_["balance"] == 120
    # the points keep their expiry: earned 1 Feb 2026, expiring 1 Feb 2027
    assert balance(as_of="2027-01-31")["points"] == 120
    assert balance(as_of="2027-02-01")["points"] == 0
    before = snapshot(db_path)
    assert refused("reverse", "-p", "club", str(redeemed["id"]), "-r", "again") == (
        f"error: entry {redeemed['id']} was already reversed by entry {entry['id']}"
    )
    assert refused("reverse", "-p", "club", "99", "-r", "x") == "error: unknown entry 99 in 'club'"
    assert snapshot(db_path) == before


def test_reversing_a_spent_bonus_leaves_points_owed_that_later_earnings_pay(club):
    bonus = post("earn", "-p", "club", "M1", "100", "-r", "bonus")["entries"][0]
    post("redeem", "-p", "club", "M1", "--points", "70")
    assert post("reverse", "-p", "club", str(bonus["id"]), "-r", "sent in error")["balance"] == -70
    assert post("earn", "-p", "club", "M1", "100", "-r", "x")["balance"] == 30
    assert run("db", "verify").exit_code == 0


def test_negative_adjustment_beyond_the_balance_is_owed(club):
    post("earn", "-p", "club", "M1", "20", "-r", "x")
    owed = post("adjust", "-p", "club", "M1", "-50", "-r", "double-counted visit")
    assert (owed["balance"], owed["available"]) == (-30, 0)  # owes 30, has nothing to spend
    shown = json.loads(run("balance", "-p", "club", "M1", "--format", "json").stdout)
    assert (shown["points"], shown["available"], shown["pending"]) == (-30, 0, 0)
    short = run("redeem", "-p", "club", "M1", "--points", "1")
    assert (short.exit_code, short.stderr) == (1, "error: short balance: member 'M1' has 0 points available, needs 1\n")
    assert post("adjust", "-p", "club", "M1", "45", "-r", "goodwill")["balance"] == 15


def test_lot_expiry_is_a_function_of_time_and_posting_it_changes_no_balance(club, db_path):
    post("earn", "-p", "club", "M1", "100", "-r", "x", "--at", "2025-03-10T15:00")
    post("earn", "-p", "club", "M1", "40", "-r", "y", "--at", "2025-07-01T10:00")
    before = [balance(as_of=d)["points"] for d in ("2026-03-09", "2026-03-10", "2026-06-15")]
    assert before == [140, 40, 40]
    assert balance(as_of="2026-06-15")["expiring"] == [{"on": "2026-07-01", "points": 40}]
    expired = post("expire", "-p", "club", "--as-of", "2026-06-15")
    assert (expired["lots"], expired["points"], expired["members"]) == (1, 100, 1)
    assert [balance(as_of=d)["points"] for d in ("2026-03-09", "2026-03-10", "2026-06-15")] == before
    statement = snapshot(db_path)
    expiries = query("SELECT kind, points, effective_at FROM entries WHERE kind = 'expire'")
    assert expiries == [("expire", -100, 1773115200)]  # dated 2026-03-10 00:00 EDT = 04:00 UTC
    assert post("expire", "-p", "club", "--as-of", "2026-06-15")["lots"] == 0
    assert snapshot(db_path) == statement


def test_a_debit_dated_before_a_posted_expiry_can_still_use_those_points(club, tmp_path):
    post("earn", "-p", "club", "M1", "100", "-r", "x", "--at", "2025-03-10")
    post("expire", "-p", "club")
    post("redeem", "-p", "club", "M1", "--points", "40", "--at", "2026-03-01")
    assert [balance(as_of=d)["points"] for d in ("2026-02-28", "2026-03-01", "2026-03-10")] == [100, 60, 0]
    assert run("db", "verify").exit_code == 0


def test_transfer_keeps_the_expiry_dates_of_the_lots(club):
    post("earn", "-p", "club", "M1", "100", "-r", "x", "--at", "2025-09-01")
    moved = post("transfer", "-p", "club", "M1", "M2", "30", "--key", "t1")
    assert [(e["member"], e["kind"], e["points"]) for e in moved["entries"]] == [("M1", "transfer_out", -30), ("M2", "transfer_in", 30)]
    assert balance("M2")["expiring"] == [{"on": "2026-09-01", "points": 30}]
    assert balance("M1")["expiring"] == [{"on": "2026-09-01", "points": 70}]
    again = post("transfer", "-p", "club", "M1", "M2", "30", "--key", "t1")
    assert again["duplicate"] and [e["id"] for e in again["entries"]] == [e["id"] for e in moved["entries"]]


def test_expiry_in_days_counts_calendar_days_from_the_day_earned(tmp_path):
    # 2025-01-10 + 90 days = 2025-04-10 (21 days left in January, 28 in February, 31 in March, then 10):
    # the points count through 9 April and no longer on the 10th. Inactivity: 30 days after the latest activity.
    run("program", "apply", write(tmp_path / "club.toml", CLUB.replace("months = 12", "days = 90")))
    run("member", "add", "-p", "club", "M1")
    post("earn", "-p", "club", "M1", "100", "-r", "x", "--at", "2025-01-10T15:00")
    assert (balance(as_of="2025-04-09")["points"], balance(as_of="2025-04-10")["points"]) == (100, 0)
    assert balance(as_of="2025-03-31")["expiring"] == [{"on": "2025-04-10", "points": 100}]
    shown = run("program", "show", "club").stdout
    assert "lot, 90 days" in shown


def test_inactivity_in_days_restarts_with_each_earn(tmp_path):
    run("program", "apply", write(tmp_path / "club.toml", CLUB.replace('policy = "lot"\nmonths = 12',
                                                                       'policy = "inactivity"\ndays = 30')))
    run("member", "add", "-p", "club", "M1")
    post("earn", "-p", "club", "M1", "100", "-r", "x", "--at", "2025-01-01")
    post("earn", "-p", "club", "M1", "10", "-r", "y", "--at", "2025-01-20")  # all 110 now expire on 2025-02-19
    assert (balance(as_of="2025-02-18")["points"], balance(as_of="2025-02-19")["points"]) == (110, 0)


def test_inactivity_expiry_restarts_with_each_earn_or_redeem(tmp_path):
    text = CLUB.replace('policy = "lot"\nmonths = 12', 'policy = "inactivity"\nmonths = 6')
    run("program", "apply", write(tmp_path / "club.toml", text))
    run("member", "add", "-p", "club", "M1")
    post("earn", "-p", "club", "M1", "100", "-r", "x", "--at", "2025-01-01")
    post("earn", "-p", "club", "M1", "10", "-r", "y", "--at", "2025-05-01")
    assert balance(as_of="2025-07-01")["points"] == 110
    assert balance(as_of="2025-10-31")["points"] == 110
    assert balance(as_of="2025-11-01")["points"] == 0


def test_balance_table_and_bad_as_of(club):
    post("earn", "-p", "club", "M1", "75", "-r", "x")
    table = run("balance", "-p", "club", "M1").stdout
    assert "available" in table and "75" in table
    result = run("balance", "-p", "club", "M1", "--as-of", "15/06/2026")
    assert (result.exit_code, result.stderr) == (2, "error: --as-of '15/06/2026' is not a date (YYYY-MM-DD)\n")


RANGE = "(1900-01-01 to 9000-12-31)"


@pytest.mark.parametrize("args, message", [
    (["earn", "-p", "club", "M1", "5", "--reason", "x", "--at", "9999-12-31"],
     f"--at 9999-12-31 is outside the dates loyaltyctl handles {RANGE}"),
    (["report", "liability", "-p", "club", "--as-of", "9999-12-31"],
     f"--as-of 9999-12-31 is outside the dates loyaltyctl handles {RANGE}"),
    (["report", "rollforward", "-p", "club", "--from", "0001-01-01", "--to", "2026-01-31"],
     f"--from 0001-01-01 is outside the dates loyaltyctl handles {RANGE}"),
    (["expire", "-p", "club", "--as-of", "9001-01-01"],
     f"--as-of 9001-01-01 is outside the dates loyaltyctl handles {RANGE}"),
    (["statement", "-p", "club", "M1", "--period", "9999-12"],
     f"--period 9999-12-01 is outside the dates loyaltyctl handles {RANGE}"),
    (["member", "add", "-p", "club", "M3", "--joined", "9999-01-01"],
     f"joined 9999-01-01 is outside the dates loyaltyctl handles {RANGE}"),
])
def test_a_date_a_script_uses_for_ever_is_bad_usage_not_a_crash(club, db_path, args, message):
    """Year 9999 or 0001 once overflowed a year-ahead date inside a report or an expiry (exit 70)."""
    before = snapshot(db_path)
    result = run(*args)
    assert (result.exit_code, result.stderr) == (2, f"error: {message}\n")
    assert snapshot(db_path) == before


def test_the_last_supported_day_works_end_to_end(club):
    earned = post("earn", "-p", "club", "M1", "5", "--reason", "x", "--at", "9000-12-31T10:00")
    assert earned["entries"][0]["points"] == 5
    assert post("report", "liability", "-p", "club", "--as-of", "9000-12-31")["outstanding_points"] == 5
