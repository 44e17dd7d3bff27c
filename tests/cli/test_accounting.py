"""Accounting reports end to end: liability, roll-forward, journal and period close, every figure worked by hand.

The scenario (program "acct", America/New_York, USD, point_value 0.015, breakage_rate 0.20)
===========================================================================================

Version 1, effective 2024-01-01: no [expiry] section, so its lots never expire.
Version 2, effective 2025-12-01: `[expiry] policy = "lot", months = 2` (a lot earned on E expires at the
start of E + 2 months, local time). Earning is 1 point per 1.00, floor; the partner "fleet" earns 2 per 1.00.
Rewards: five-off (300 points, $5.00, discount), give (100 points, $1.00 to "Food Bank", donation).
Birthday bonus 60. Members A, B, C (birthday 02-14), D, all joined 2024-01-01.

Lots (id: member, points, earned, expires) and what happens to them:

  O0: C   30  2024-11-15 (v1)  never
  O1: A  120  2025-07-15 (v1)  never
  O2: B   50  2025-10-01 (v1)  never
  T0: D   40  2025-12-10       2026-02-10   expires whole: 40 expire on 2026-02-10
  T00:A  100  2025-12-20       2026-02-20   all 100 taken by A's redemption on 02-05
  --- opening of the quarter (end of 2025-12-31): 30 + 120 + 50 + 40 + 100 = 340 points, 340 x 0.015 = 5.10
  T1: A  200  2026-01-05       2026-03-05   all 200 taken by A's redemption on 02-05
  T2: B  150  2026-01-10       2026-03-10   (150.50 floors to 150) -50 refund R1 01-15, -40 transfer 02-20,
                                            the last 60 expire on 2026-03-10
  R1: B refunds 50.25 of T2 on 01-15: clawback round(150 x 50.25 / 150.50) = round(50.08) = 50 (from T2)
  T3: C  160  2026-01-20       2026-03-20   (fleet: 80.00 x 2) -100 donated 02-16, -40 partner refund R2
                                            03-06, -20 redeemed 03-15: nothing left to expire
  E1: D   50  2026-01-25       2026-03-25   (manual `earn`) all taken by D's -120 adjustment on 02-27
  T4: A   60  2026-01-28       2026-03-28   expires whole on 2026-03-28
  02-05 A redeems five-off (300): soonest expiry first: T00 100 (02-20) + T1 200 (03-05)
  BD: C   60  2026-02-14       2026-04-14   (birthday bonus, effective at the start of 02-14)
  02-16 C donates `give` (100 points, $1.00): from T3 (03-20) -> T3 has 60
  X:  D   40  2026-02-20       2026-03-10   (transfer B -> D keeps T2's expiry) taken by the adjustment
  T5: B   30  2026-02-25       2026-04-25
  02-27 adjust D -120: X 40 (03-10) + E1 50 (03-25) = 90; 30 short: D owes 30
  T6: D  100  2026-03-03       2026-05-03   pays D's 30 owed first: the lot holds 70
  R2: C refunds 20.00 of T3 at fleet on 03-06: clawback round(160 x 20 / 80) = 40, from T3 -> T3 has 20
  03-12 (LOYALTYCTL_NOW) reverse the donation: +100 to C, money -1.00, with T3's expiry:
  R:  C  100  2026-03-12       2026-03-20   30 redeemed 03-15, the last 70 expire on 2026-03-20
  03-15 C redeems 50 points ($0.75): T3 20 (earned 01-20) then R 30 (earned 03-12), both expire 03-20
  T7: A   45  2026-03-30       2026-05-30   (45.99 floors to 45)
  T8: B   11  2026-03-31       2026-05-31   (23:30 EDT = 2026-04-01T03:30Z: still 31 March locally)

Balances at the end of each month
  01-31: A O1 120 + T00 100 + T1 200 + T4 60 = 480; B O2 50 + T2 100 = 150; C O0 30 + T3 160 = 190;
         D T0 40 + E1 50 = 90; total 910, 4 members with points, none owing
  02-28: A T4 60 + O1 120 = 180; B T2 60 + O2 50 + T5 30 = 140; C T3 60 + BD 60 + O0 30 = 150;
         D -30 (owes); 3 members hold 470, 30 owed, net 440
  03-31: A O1 120 + T7 45 = 165; B O2 50 + T5 30 + T8 11 = 91; C BD 60 + O0 30 = 90; D T6 70;
         4 members hold 416, none owing

Nothing here runs `expire` unless a test says so: the expiries are unposted until then, and every report
counts them as expired all the same.
"""

import csv
import io
import json
import re
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import clone_database, new_database, run, snapshot, write

PROGRAM = """\
[program]
code = "acct"
name = "Books & Co"
currency = "USD"
timezone = "America/New_York"
point_value = "0.015"
breakage_rate = "0.20"
effective_from = {effective_from}

[earn]
points_per_unit = "1"
rounding = "floor"
{expiry}
[bonuses]
birthday = 60

[[rewards]]
code = "five-off"
name = "$5 off"
points = 300
value = "5.00"
kind = "discount"

[[rewards]]
code = "give"
name = "Give $1 to the food bank"
points = 100
value = "1.00"
kind = "donation"
charity = "Food Bank"

[[partners]]
code = "fleet"
name = "Fleet Rides"
points_per_unit = "2"

[accounting]
breakage = "Income:Loyalty:ExpiredPoints"
"""
EXPIRY = '\n[expiry]\npolicy = "lot"\nmonths = 2\n'
HEADER = "txn_id,member_id,occurred_at,amount,partner,refund_of,description\n"
HISTORY = HEADER + (
    "O0,C,2024-11-15T10:00,30.00,,,\n"
    "O1,A,2025-07-15T10:00,120.00,,,\n"
    "O2,B,2025-10-01T10:00,50.00,,,\n"
    "T0,D,2025-12-10T14:00,40.00,,,\n"
    "T00,A,2025-12-20T10:00,100.00,,,\n"
)
JANUARY = HEADER + (
    "T1,A,2026-01-05T10:00,200.00,,,\n"
    "T2,B,2026-01-10T11:00,150.50,,,\n"
    "R1,B,2026-01-15T10:00,-50.25,,T2,part returned\n"
    "T3,C,2026-01-20T12:00,80.00,fleet,,ride\n"
    "T4,A,2026-01-28T15:00,60.00,,,\n"
)
FEBRUARY = HEADER + "T5,B,2026-02-25T10:00,30.00,,,\n"
EARLY_MARCH = HEADER + (
    "T6,D,2026-03-03T10:00,100.00,,,\n"
    "R2,C,2026-03-06T10:00,-20.00,fleet,T3,ride refunded\n"
)
LATE_MARCH = HEADER + (
    "T7,A,2026-03-30T10:00,45.99,,,\n"
    "T8,B,2026-04-01T03:30:00+00:00,11.00,,,\n"
)

LIABILITY = "Liabilities:Loyalty:Points"
EXPENSE = "Expenses:Loyalty:Points"
BREAKAGE = "Income:Loyalty:ExpiredPoints"  # from the program's [accounting] section
REDEMPTIONS = "Expenses:Loyalty:Redemptions"
DONATIONS = "Liabilities:Loyalty:DonationsPayable"
PARTNERS = "Assets:Loyalty:PartnerReceivable"
OPENING = "Equity:Opening-Balances"


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def built_scenarios():
    """The scenario built once per backend in a module (see `scenario`); PostgreSQL's dropped at the end."""
    built: dict[str, dict] = {}
    yield built
    for scenario in built.values():
        if scenario.get("drop"):
            scenario["drop"]()


@pytest.fixture
def scenario(backend, built_scenarios, tmp_path_factory) -> dict:
    """The whole scenario, built once per backend; tests work on a copy (see `books`). Returns the database and
    entry ids."""
    if backend not in built_scenarios:
        built_scenarios[backend] = _build_scenario(backend, tmp_path_factory)
    return built_scenarios[backend]


def _build_scenario(backend: str, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("books")
    db, drop = new_database(backend, folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOYALTYCTL_DB", str(db))
        mp.setenv("LOYALTYCTL_NOW", "2026-06-15T16:00:00+00:00")
        mp.delenv("LOYALTYCTL_DEBUG", raising=False)
        mp.chdir(folder)
        ok("program", "apply", write(folder / "v1.toml", PROGRAM.format(effective_from="2024-01-01", expiry="")))
        ok("program", "apply", write(folder / "v2.toml", PROGRAM.format(effective_from="2025-12-01", expiry=EXPIRY)))
        for member in "ABCD":
            extra = ["--birthday", "1990-02-14"] if member == "C" else []
            ok("member", "add", "-p", "acct", member, "--joined", "2024-01-01", *extra)

        def load(name, text):
            ok("txn", "import", "-p", "acct", write(folder / name, text))

        load("history.csv", HISTORY)
        load("january.csv", JANUARY)
        ok("earn", "-p", "acct", "D", "50", "--reason", "goodwill", "--at", "2026-01-25T09:00")
        redeemed = ok("redeem", "-p", "acct", "A", "--reward", "five-off", "--at", "2026-02-05T12:00",
                      "--format", "json")
        ok("bonus", "birthday", "-p", "acct", "--date", "2026-02-14")
        donated = ok("redeem", "-p", "acct", "C", "--reward", "give", "--at", "2026-02-16T12:00", "--format", "json")
        donation = json.loads(donated.stdout)["entries"][0]
        assert (donation["kind"], donation["points"], donation["value"]) == ("redeem", -100, "1.00")
        ok("transfer", "-p", "acct", "B", "D", "40", "--at", "2026-02-20T12:00")
        load("february.csv", FEBRUARY)
        ok("adjust", "-p", "acct", "D", "-120", "--reason", "goodwill given twice", "--at", "2026-02-27T12:00")
        load("early-march.csv", EARLY_MARCH)
        mp.setenv("LOYALTYCTL_NOW", "2026-03-12T16:00:00+00:00")  # 12:00 EDT
        ok("reverse", "-p", "acct", str(donation["id"]), "--reason", "charity declined")
        mp.setenv("LOYALTYCTL_NOW", "2026-06-15T16:00:00+00:00")
        ok("redeem", "-p", "acct", "C", "--points", "50", "--at", "2026-03-15T12:00")
        load("late-march.csv", LATE_MARCH)
    return {"db": db, "drop": drop, "five_off": json.loads(redeemed.stdout)["entries"][0]["id"],
            "donation": donation["id"]}


@pytest.fixture
def books(scenario, db_path, tmp_path) -> Path:
    """A copy of the scenario database at this test's LOYALTYCTL_DB."""
    clone_database(scenario["db"], db_path)
    return tmp_path


def report(*args: str) -> dict:
    return json.loads(ok("report", *args, "-p", "acct", "--format", "json").stdout)


def liability(as_of: str, *extra: str) -> dict:
    return report("liability", "--as-of", as_of, *extra)


def rollforward(start: str, end: str) -> dict:
    return report("rollforward", "--from", start, "--to", end)


def balance(member: str, as_of: str) -> int:
    result = ok("balance", "-p", "acct", member, "--as-of", as_of, "--format", "json")
    return json.loads(result.stdout)["points"]


def buckets(*rows):
    return [{"bucket": label, "points": points, "value": value} for label, points, value in rows]


AGE = ("0-90 days", "91-180 days", "181-365 days", "over 365 days")
TO_EXPIRY = ("within 30 days", "31-60 days", "61-90 days", "later", "never")

# --------------------------------------------------------------------------- liability, hand-worked

# End of 2026-01-31 (age = 01-31 minus the earned day; days to expiry = the expiry day minus 01-31):
#   ages: T00 42, T0 52, T1 26, T2 21, T3 11, E1 6, T4 3 -> 0-90: 100+40+200+100+160+50+60 = 710
#         O2 (2025-10-01) 122 -> 91-180: 50;  O1 (2025-07-15) 200 -> 181-365: 120;  O0 442 -> over 365: 30
#   to expiry: T0 02-10 (10), T00 02-20 (20) -> within 30: 140
#              T1 03-05 (33), T2 03-10 (38), T3 03-20 (48), E1 03-25 (53), T4 03-28 (56) -> 31-60: 570
#              O0 + O1 + O2 -> never: 200
#   gross 910 x 0.015 = 13.65; expected 1365 x 0.80 = 1092 -> 10.92
#   values by one cumulative rounding: 710 -> 10.65 | 760 -> 11.40 (0.75) | 880 -> 13.20 (1.80) | 910 -> 13.65 (0.45)
#   by expiry: 140 -> 2.10 | 710 -> 10.65 (8.55) | 0.00 | 0.00 | 910 -> 13.65 (3.00)
JANUARY_LIABILITY = {
    "program": "acct", "as_of": "2026-01-31", "currency": "USD",
    "members_with_points": 4, "outstanding_points": 910, "points_owed_by_members": 0, "net_points": 910,
    "point_value": "0.015", "gross_liability": "13.65", "net_liability": "13.65",
    "breakage_basis": "program", "expected_liability": "10.92",
    "aging": buckets((AGE[0], 710, "10.65"), (AGE[1], 50, "0.75"), (AGE[2], 120, "1.80"), (AGE[3], 30, "0.45")),
    "aging_by_expiry": buckets((TO_EXPIRY[0], 140, "2.10"), (TO_EXPIRY[1], 570, "8.55"), (TO_EXPIRY[2], 0, "0.00"),
                               (TO_EXPIRY[3], 0, "0.00"), (TO_EXPIRY[4], 200, "3.00")),
    "unposted_expiries": {"lots": 0, "points": 0},
    "vouchers_outstanding": {"count": 0, "value": "0.00"}, "total_liability": "13.65",  # no vouchers: the net
    "unposted_voucher_returns": 0,
}
# End of 2026-02-28 (cut-offs: 90 days back = 2025-11-30, 180 = 2025-09-01, 365 = 2025-02-28):
#   held: T4 60, T2 60, T3 60, BD 60, T5 30 (all earned since 11-30) -> 0-90: 270
#         O2 age 150 -> 91-180: 50;  O1 age 228 -> 181-365: 120;  O0 -> over 365: 30;  sum 470
#   to expiry: T2 03-10 (10), T3 03-20 (20), T4 03-28 (28) -> within 30: 180
#              BD 04-14 (45), T5 04-25 (56) -> 31-60: 90;  never: 200
#   D owes 30: members with points 3, outstanding 470, owed 30, net 440
#   gross 470 x 0.015 = 7.05; net 440 x 0.015 = 6.60; expected 705 x 0.80 = 564 -> 5.64
#   values: 270 -> 4.05 | 320 -> 4.80 (0.75) | 440 -> 6.60 (1.80) | 470 -> 7.05 (0.45)
#   by expiry: 180 -> 2.70 | 270 -> 4.05 (1.35) | 0.00 | 0.00 | 470 -> 7.05 (3.00)
#   unposted: T0's 40 expired on 02-10 (T00 expired on 02-20 with nothing left: not an expiry)
FEBRUARY_LIABILITY = {
    "program": "acct", "as_of": "2026-02-28", "currency": "USD",
    "members_with_points": 3, "outstanding_points": 470, "points_owed_by_members": 30, "net_points": 440,
    "point_value": "0.015", "gross_liability": "7.05", "net_liability": "6.60",
    "breakage_basis": "program", "expected_liability": "5.64",
    "aging": buckets((AGE[0], 270, "4.05"), (AGE[1], 50, "0.75"), (AGE[2], 120, "1.80"), (AGE[3], 30, "0.45")),
    "aging_by_expiry": buckets((TO_EXPIRY[0], 180, "2.70"), (TO_EXPIRY[1], 90, "1.35"), (TO_EXPIRY[2], 0, "0.00"),
                               (TO_EXPIRY[3], 0, "0.00"), (TO_EXPIRY[4], 200, "3.00")),
    "unposted_expiries": {"lots": 1, "points": 40},
    "vouchers_outstanding": {"count": 0, "value": "0.00"}, "total_liability": "6.60",
    "unposted_voucher_returns": 0,
}
# End of 2026-03-31 (cut-offs: 90 days back = 2025-12-31, 180 = 2025-10-02, 365 = 2025-03-31):
#   held: T7 45 (03-30), T5 30 (02-25), T8 11 (03-31), BD 60 (02-14), T6 70 (03-03) -> 0-90: 216
#         91-180: nothing;  O2 age 181 (earned 2025-10-01, one day before the cut-off) + O1 age 259 -> 181-365: 170
#         O0 -> over 365: 30;  sum 416
#   to expiry: BD 04-14 (14), T5 04-25 (25) -> within 30: 90
#              T6 05-03 (33), T7 05-30 (60, the last day of the bucket) -> 31-60: 115
#              T8 05-31 (61) -> 61-90: 11;  later: 0;  never: 200
#   gross 416 x 0.015 = 6.24; expected 624 x 0.80 = 499.2 -> 4.99
#   values: 216 -> 3.24 | 216 -> 3.24 (0.00) | 386 -> 5.79 (2.55) | 416 -> 6.24 (0.45)
#   by expiry, one cumulative rounding: 90 -> 1.35 | 205 -> 3.075 -> 3.08 (1.73) | 216 -> 3.24 (0.16)
#              | 216 (0.00) | 416 -> 6.24 (3.00); rounding each alone would give 0.17 for T8 and 6.25 in all
#   unposted: T0 40 (02-10), T2 60 (03-10), R 70 (03-20), T4 60 (03-28): 4 lots, 230 points
MARCH_LIABILITY = {
    "program": "acct", "as_of": "2026-03-31", "currency": "USD",
    "members_with_points": 4, "outstanding_points": 416, "points_owed_by_members": 0, "net_points": 416,
    "point_value": "0.015", "gross_liability": "6.24", "net_liability": "6.24",
    "breakage_basis": "program", "expected_liability": "4.99",
    "aging": buckets((AGE[0], 216, "3.24"), (AGE[1], 0, "0.00"), (AGE[2], 170, "2.55"), (AGE[3], 30, "0.45")),
    "aging_by_expiry": buckets((TO_EXPIRY[0], 90, "1.35"), (TO_EXPIRY[1], 115, "1.73"), (TO_EXPIRY[2], 11, "0.16"),
                               (TO_EXPIRY[3], 0, "0.00"), (TO_EXPIRY[4], 200, "3.00")),
    "unposted_expiries": {"lots": 4, "points": 230},
    "vouchers_outstanding": {"count": 0, "value": "0.00"}, "total_liability": "6.24",
    "unposted_voucher_returns": 0,
}
MONTH_ENDS = {"2026-01-31": JANUARY_LIABILITY, "2026-02-28": FEBRUARY_LIABILITY, "2026-03-31": MARCH_LIABILITY}


def figures(report_json: dict) -> dict:
    """The report less the fields checked apart (breakage rate and its note)."""
    return {k: v for k, v in report_json.items() if k not in ("breakage_rate", "breakage_note")}


def test_member_balances_match_the_hand_worked_scenario(books):
    # The scenario's own sanity check, member by member, before any report.
    expected = {"2026-01-31": {"A": 480, "B": 150, "C": 190, "D": 90},
                "2026-02-28": {"A": 180, "B": 140, "C": 150, "D": -30},
                "2026-03-31": {"A": 165, "B": 91, "C": 90, "D": 70}}
    for day, members in expected.items():
        assert {member: balance(member, day) for member in members} == members, day


def test_liability_at_the_end_of_january(books):
    report_json = liability("2026-01-31")
    assert figures(report_json) == JANUARY_LIABILITY
    assert Decimal(report_json["breakage_rate"]) == Decimal("0.20")


def test_liability_at_the_end_of_february_nets_the_points_a_member_owes(books):
    assert figures(liability("2026-02-28")) == FEBRUARY_LIABILITY


def test_liability_at_the_end_of_march_values_buckets_by_one_cumulative_rounding(books):
    assert figures(liability("2026-03-31")) == MARCH_LIABILITY


def test_liability_buckets_add_up_to_points_and_value_outstanding(books):
    for day in MONTH_ENDS:
        report_json = liability(day)
        for key in ("aging", "aging_by_expiry"):
            assert sum(b["points"] for b in report_json[key]) == report_json["outstanding_points"], (day, key)
            assert sum(Decimal(b["value"]) for b in report_json[key]) == Decimal(report_json["gross_liability"])


def test_liability_at_the_opening_of_the_quarter(books):
    # End of 2025-12-31: O0 30 + O1 120 + O2 50 + T0 40 + T00 100 = 340; 340 x 0.015 = 5.10; x 0.80 = 4.08.
    report_json = liability("2025-12-31")
    assert (report_json["outstanding_points"], report_json["points_owed_by_members"],
            report_json["members_with_points"]) == (340, 0, 4)
    assert (report_json["gross_liability"], report_json["expected_liability"]) == ("5.10", "4.08")


def test_running_expire_changes_no_liability_figure(books):
    before = {day: liability(day) for day in MONTH_ENDS}
    posted = json.loads(ok("expire", "-p", "acct", "--as-of", "2026-03-31", "--format", "json").stdout)
    # T0 40 (D), T2 60 (B), R 70 (C), T4 60 (A): 4 lots, 230 points, 4 members
    assert (posted["lots"], posted["points"], posted["members"]) == (4, 230, 4)
    for day, report_json in before.items():
        after = liability(day)
        assert after["unposted_expiries"] == {"lots": 0, "points": 0}
        assert {**after, "unposted_expiries": None} == {**report_json, "unposted_expiries": None}, day


def test_an_estimate_with_no_redemption_to_go_on_uses_the_programs_rate_and_says_so(books):
    # to the end of January nothing was redeemed (the first redemption is in February) and nothing expired
    # (T0 expires 02-10): the program's 0.20 stands in, so the figures are January's with the program's rate
    report_json = liability("2026-01-31", "--breakage", "estimated")
    assert figures(report_json) == JANUARY_LIABILITY
    assert (Decimal(report_json["breakage_rate"]), report_json["breakage_basis"]) == (Decimal("0.20"), "program")
    assert report_json["breakage_note"] == ("the program's breakage_rate (too little data to estimate: "
                                            "0 redeemed and 0 expired over the trailing 12 months)")


def test_estimated_breakage_at_the_end_of_february_is_the_same_before_and_after_expire(books):
    # Trailing 12 months to 2026-02-28: redeemed 300 (A) + 100 (C's donation) = 400; expired 40 (T0).
    # rate 40 / 440 = 0.090909... -> 0.0909; expected 705 x (1 - 0.0909) = 705 x 0.9091 = 640.9155 -> 641 = 6.41
    before = liability("2026-02-28", "--breakage", "estimated")
    assert (before["breakage_basis"], Decimal(before["breakage_rate"]), before["expected_liability"]) == (
        "estimated", Decimal("0.0909"), "6.41")
    assert before["breakage_note"].endswith("40 / 440")
    ok("expire", "-p", "acct", "--as-of", "2026-02-28")
    after = liability("2026-02-28", "--breakage", "estimated")
    assert {**after, "unposted_expiries": None} == {**before, "unposted_expiries": None}


# --------------------------------------------------------------------------- roll-forward, hand-worked

# Each day's movement is valued alone at 0.015, half up:
#   Jan: 01-05 earn 200 = 3.00; 01-10 earn 150 = 2.25; 01-15 clawback -50 = -0.75; 01-20 partner earn 160 = 2.40;
#        01-25 earn 50 = 0.75; 01-28 earn 60 = 0.90
#   Feb: 02-05 redeem -300 = -4.50; 02-10 expire -40 = -0.60; 02-14 bonus 60 = 0.90; 02-16 donate -100 = -1.50;
#        02-20 transfer -40 + 40 = 0 (no movement); 02-25 earn 30 = 0.45; 02-27 adjust -120 = -1.80
#   Mar: 03-03 earn 100 = 1.50; 03-06 partner clawback -40 = -0.60; 03-10 expire -60 = -0.90;
#        03-12 reversed donation +100 = 1.50; 03-15 redeem -50 = -0.75; 03-20 expire -70 = -1.05;
#        03-28 expire -60 = -0.90; 03-30 earn 45 = 0.675 -> 0.68; 03-31 earn 11 = 0.165 -> 0.17
#
# January: 340 + 620 (200+150+160+50+60) - 50 = 910
#   money 5.10 + 9.30 (3.00+2.25+2.40+0.75+0.90) - 0.75 = 13.65 = 910 x 0.015: revaluation 0.00
JANUARY_ROLLFORWARD = {
    "program": "acct", "from": "2026-01-01", "to": "2026-01-31", "currency": "USD",
    "opening_points": 340, "issued": 620, "actions": 0, "redeemed": 0, "expired": 0, "clawed_back": 50, "adjusted": 0,
    "closing_points": 910, "opening_liability": "5.10", "closing_liability": "13.65",
    "values": {"issued": "9.30", "redeemed": "0.00", "expired": "0.00", "clawed_back": "0.75", "adjusted": "0.00"},
    "revaluation": "0.00", "unposted_expiries": 0, "vouchers": None,
}
# February: 910 + 90 (bonus 60 + earn 30) - 400 (300 + 100 donated) - 40 - 0 + (-120 adjust, transfer nets 0) = 440
#   money 13.65 + 1.35 - 6.00 - 0.60 - 0.00 - 1.80 = 6.60 = 440 x 0.015: revaluation 0.00
#   unposted: T0 (expired 02-10)
FEBRUARY_ROLLFORWARD = {
    "program": "acct", "from": "2026-02-01", "to": "2026-02-28", "currency": "USD",
    "opening_points": 910, "issued": 90, "actions": 0, "redeemed": 400, "expired": 40, "clawed_back": 0, "adjusted": -120,
    "closing_points": 440, "opening_liability": "13.65", "closing_liability": "6.60",
    "values": {"issued": "1.35", "redeemed": "6.00", "expired": "0.60", "clawed_back": "0.00", "adjusted": "-1.80"},
    "revaluation": "0.00", "unposted_expiries": 1, "vouchers": None,
}
# March: 440 + 156 (100+45+11) - 50 - 190 (60+70+60) - 40 + 100 (reversal) = 416
#   money 6.60 + 2.35 (1.50+0.68+0.17) - 0.75 - 2.85 (0.90+1.05+0.90) - 0.60 + 1.50 = 6.25,
#   but 416 x 0.015 = 6.24: revaluation -0.01 (the per-day rounding of 45 and 11 points)
#   unposted: T2 (03-10), R (03-20), T4 (03-28)
MARCH_ROLLFORWARD = {
    "program": "acct", "from": "2026-03-01", "to": "2026-03-31", "currency": "USD",
    "opening_points": 440, "issued": 156, "actions": 0, "redeemed": 50, "expired": 190, "clawed_back": 40, "adjusted": 100,
    "closing_points": 416, "opening_liability": "6.60", "closing_liability": "6.24",
    "values": {"issued": "2.35", "redeemed": "0.75", "expired": "2.85", "clawed_back": "0.60", "adjusted": "1.50"},
    "revaluation": "-0.01", "unposted_expiries": 3, "vouchers": None,
}
# Quarter: 340 + 866 (620+90+156) - 450 (400+50) - 230 (40+190) - 90 (50+40) - 20 (-120+100) = 416
#   money 5.10 + 13.00 (9.30+1.35+2.35) - 6.75 - 3.45 - 1.35 - 0.30 = 6.25; closing 6.24: revaluation -0.01
QUARTER_ROLLFORWARD = {
    "program": "acct", "from": "2026-01-01", "to": "2026-03-31", "currency": "USD",
    "opening_points": 340, "issued": 866, "actions": 0, "redeemed": 450, "expired": 230, "clawed_back": 90, "adjusted": -20,
    "closing_points": 416, "opening_liability": "5.10", "closing_liability": "6.24",
    "values": {"issued": "13.00", "redeemed": "6.75", "expired": "3.45", "clawed_back": "1.35",
               "adjusted": "-0.30"},
    "revaluation": "-0.01", "unposted_expiries": 4, "vouchers": None,
}
PERIODS = {("2026-01-01", "2026-01-31"): JANUARY_ROLLFORWARD, ("2026-02-01", "2026-02-28"): FEBRUARY_ROLLFORWARD,
           ("2026-03-01", "2026-03-31"): MARCH_ROLLFORWARD, ("2026-01-01", "2026-03-31"): QUARTER_ROLLFORWARD}


@pytest.mark.parametrize("period", list(PERIODS), ids=["january", "february", "march", "quarter"])
def test_rollforward_of_each_month_and_the_quarter(books, period):
    assert rollforward(*period) == PERIODS[period]


@pytest.mark.parametrize("period", list(PERIODS), ids=["january", "february", "march", "quarter"])
def test_rollforward_identity_holds_in_points_and_money(books, period):
    r = rollforward(*period)
    assert (r["opening_points"] + r["issued"] - r["redeemed"] - r["expired"] - r["clawed_back"] + r["adjusted"]
            == r["closing_points"])
    v = {line: Decimal(value) for line, value in r["values"].items()}
    assert (Decimal(r["opening_liability"]) + v["issued"] - v["redeemed"] - v["expired"] - v["clawed_back"]
            + v["adjusted"] + Decimal(r["revaluation"]) == Decimal(r["closing_liability"]))


@pytest.mark.parametrize("period,day_before", [(("2026-01-01", "2026-01-31"), "2025-12-31"),
                                               (("2026-02-01", "2026-02-28"), "2026-01-31"),
                                               (("2026-03-01", "2026-03-31"), "2026-02-28")],
                         ids=["january", "february", "march"])
def test_rollforward_opens_and_closes_at_the_liability_net_of_points_owed(books, period, day_before):
    r = rollforward(*period)
    opening, closing = liability(day_before), liability(period[1])
    assert r["opening_points"] == opening["outstanding_points"] - opening["points_owed_by_members"]
    assert r["closing_points"] == closing["outstanding_points"] - closing["points_owed_by_members"]
    assert (r["opening_liability"], r["closing_liability"]) == (opening["net_liability"], closing["net_liability"])


def test_a_backdated_posting_moves_every_later_opening_by_its_points(books):
    # +25 to B dated 2025-11-20, under version 1 (no expiry): every period from January opens and closes
    # 25 higher, and the opening's week total and the days after it are both read (2026-03-01 is a Sunday)
    before = {period: rollforward(*period) for period in PERIODS}
    ok("adjust", "-p", "acct", "B", "25", "-r", "a receipt found", "--at", "2025-11-20")
    for period, was in before.items():
        now = rollforward(*period)
        assert (now["opening_points"], now["closing_points"]) == (was["opening_points"] + 25,
                                                                  was["closing_points"] + 25), period
        assert now["adjusted"] == was["adjusted"]
    assert ok("db", "verify").exit_code == 0


def test_running_expire_changes_no_rollforward_figure(books):
    before = {period: rollforward(*period) for period in PERIODS}
    ok("expire", "-p", "acct", "--as-of", "2026-03-31")
    for period, report_json in before.items():
        after = rollforward(*period)
        assert after["unposted_expiries"] == 0
        assert {**after, "unposted_expiries": None} == {**report_json, "unposted_expiries": None}, period


# --------------------------------------------------------------------------- journal

def journal(*extra: str) -> str:
    return ok("report", "journal", "-p", "acct", "--from", "2026-01-01", "--to", "2026-03-31", *extra).stdout


def journal_rows() -> list[dict]:
    return list(csv.DictReader(io.StringIO(journal("--format", "csv"))))


def postings_on(rows: list[dict], day: str) -> list[tuple]:
    return [(r["account"], r["debit"], r["credit"], r["points"]) for r in rows if r["date"] == day]


def test_journal_csv_postings_of_selected_days(books):
    rows = journal_rows()
    # 01-15 clawback of 50 points: the liability falls by 0.75 against the cost of points issued
    assert postings_on(rows, "2026-01-15") == [(LIABILITY, "0.75", "", "-50"), (EXPENSE, "", "0.75", "-50")]
    # 01-20 partner earn of 160 points: 2.40 receivable from the partner
    assert postings_on(rows, "2026-01-20") == [(PARTNERS, "2.40", "", "160"), (LIABILITY, "", "2.40", "160")]
    # 02-10 unposted expiry of T0's 40 points: 0.60 of breakage, to the [accounting] breakage account
    assert postings_on(rows, "2026-02-10") == [(LIABILITY, "0.60", "", "-40"), (BREAKAGE, "", "0.60", "-40")]
    # 02-16 donation of 100 points (1.50) for $1.00: the charity is owed 1.00, the other 0.50 to redemptions
    assert postings_on(rows, "2026-02-16") == [(LIABILITY, "1.50", "", "-100"), (REDEMPTIONS, "", "0.50", "-100"),
                                               (DONATIONS, "", "1.00", "-100")]
    # 02-20 transfer B -> D: nets to nothing, no entry
    assert postings_on(rows, "2026-02-20") == []
    # 03-06 partner refund: 40 points clawed back, 0.60 less receivable from the partner
    assert postings_on(rows, "2026-03-06") == [(LIABILITY, "0.60", "", "-40"), (PARTNERS, "", "0.60", "-40")]
    # 03-12 the donation reversed: the charity is owed 1.00 less, redemptions 0.50 back, liability 1.50 back
    assert postings_on(rows, "2026-03-12") == [(DONATIONS, "1.00", "", "100"), (REDEMPTIONS, "0.50", "", "100"),
                                               (LIABILITY, "", "1.50", "100")]
    # 03-31 T8's 11 points (0.165 -> 0.17), then the quarter's revaluation of -0.01 (6.25 moved, 6.24 closing)
    on_last_day = postings_on(rows, "2026-03-31")
    assert on_last_day[:2] == [(EXPENSE, "0.17", "", "11"), (LIABILITY, "", "0.17", "11")]
    assert [p[:3] for p in on_last_day[2:]] == [(LIABILITY, "0.01", ""), (EXPENSE, "", "0.01")]


def test_journal_csv_entries_balance_and_leave_the_liability_at_the_closing_balance(books):
    rows = journal_rows()
    entries = defaultdict(lambda: Decimal(0))
    by_account = defaultdict(lambda: Decimal(0))
    for r in rows:
        amount = Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0)
        entries[r["entry"]] += amount
        by_account[r["account"]] += amount
        assert r["currency"] == "USD"
    # the opening balance, then one entry per day and kind: 6 in January, 6 in February (no transfer entry),
    # 9 in March + the revaluation
    assert len(entries) == 23
    assert entries["1"] == 0 and {r["narration"] for r in rows if r["entry"] == "1"} == {
        "acct: opening balance of the liability (340 points)"}
    assert all(total == 0 for total in entries.values()), entries
    # The opening 5.10 comes from equity; the liability then moves by -(6.24 - 5.10) = -1.14 to -6.24 (a credit)
    assert by_account[OPENING] == Decimal("5.10")
    assert by_account[LIABILITY] == Decimal("-6.24")
    # Breakage: expired 0.60 + 0.90 + 1.05 + 0.90 = 3.45 (the roll-forward's expired value), a credit
    assert by_account[BREAKAGE] == Decimal("-3.45")
    # Partner: 2.40 earned - 0.60 clawed back = 1.80 receivable
    assert by_account[PARTNERS] == Decimal("1.80")
    # The donation was reversed: nothing owed to the charity at the end
    assert by_account[DONATIONS] == Decimal("0.00")
    # Redemptions: -4.50 (A) - 0.50 (donation) + 0.50 (reversed) - 0.75 (C) = -5.25
    assert by_account[REDEMPTIONS] == Decimal("-5.25")
    # Cost of points: issued 3.00+2.25+0.75+0.90+0.90+0.45+1.50+0.68+0.17 = 10.60 (partner earn excluded),
    # less clawback 0.75, less adjustment 1.80, less revaluation 0.01 = 8.04
    assert by_account[EXPENSE] == Decimal("8.04")


def test_journal_csv_is_the_same_before_and_after_expire(books):
    before = journal("--format", "csv")
    ok("expire", "-p", "acct", "--as-of", "2026-03-31")
    assert journal("--format", "csv") == before


def test_journal_beancount_loads_without_errors(books):
    from beancount import loader

    path = books / "quarter.beancount"
    ok("report", "journal", "-p", "acct", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "beancount",
       "-o", path)
    entries, errors, _ = loader.load_file(str(path))
    assert errors == [], [e.message for e in errors]
    transactions = [e for e in entries if type(e).__name__ == "Transaction"]
    assert len(transactions) == 23  # the opening balance and the 22 of the quarter's movements
    liability_total = sum(p.units.number for t in transactions for p in t.postings if p.account == LIABILITY)
    assert liability_total == Decimal("-6.24")  # opening 5.10 + the quarter's 1.14: the closing liability
    bean_check = Path(sys.executable).with_name("bean-check")
    assert bean_check.exists(), "beancount is a test dependency: bean-check belongs next to the interpreter"
    checked = subprocess.run([str(bean_check), str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.skipif(shutil.which("hledger") is None and not os.environ.get("CI"),
                    reason="hledger is not installed (.ci/run installs it; under CI this test runs regardless)")
def test_journal_ledger_passes_hledger_check(books):
    path = books / "quarter.journal"
    ok("report", "journal", "-p", "acct", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "ledger",
       "-o", path)
    checked = subprocess.run(["hledger", "-f", str(path), "check", "accounts", "commodities", "ordereddates"],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    total = subprocess.run(["hledger", "-f", str(path), "balance", LIABILITY, "-N", "--flat"],
                           capture_output=True, text=True)
    assert total.returncode == 0, total.stderr
    assert "-6.24 USD" in total.stdout  # the opening 5.10 and the quarter's 1.14: the closing liability


def _monthly_book(books: Path, fmt: str) -> Path:
    """January's journal with its declarations, then February's and March's appended with --no-declarations."""
    parts = []
    for first, last in (("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-28"), ("2026-03-01", "2026-03-31")):
        parts.append(ok("report", "journal", "-p", "acct", "--from", first, "--to", last, "--format", fmt,
                        *(["--no-declarations"] if parts else [])).stdout)
    path = books / f"monthly.{fmt}"
    path.write_text("\n".join(parts))
    return path


def test_monthly_beancount_journals_append_into_one_book(books):
    """Declarations open every account the program names, so a later month posting to an account January did
    not use (a donation, a transfer) still finds it open."""
    from beancount import loader

    entries, errors, _ = loader.load_file(str(_monthly_book(books, "beancount")))
    assert errors == [], [e.message for e in errors]
    liability_total = sum(p.units.number for t in entries if type(t).__name__ == "Transaction"
                          for p in t.postings if p.account == LIABILITY)
    assert liability_total == Decimal("-6.24")  # January's opening and the quarter's movement, as in one file


@pytest.mark.skipif(shutil.which("hledger") is None and not os.environ.get("CI"),
                    reason="hledger is not installed (.ci/run installs it; under CI this test runs regardless)")
def test_monthly_ledger_journals_append_into_one_book(books):
    path = _monthly_book(books, "ledger")
    checked = subprocess.run(["hledger", "-f", str(path), "check", "accounts", "commodities", "ordereddates"],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --------------------------------------------------------------------------- CSV and XLSX

def test_liability_csv_has_every_section_with_plain_numbers(books):
    text = ok("report", "liability", "-p", "acct", "--as-of", "2026-02-28", "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "line", "points", "value"]
    # From the February figures: owed 30 are -0.45 (6.60 net - 7.05 gross); breakage 5.64 - 7.05 = -1.41
    assert rows[1:6] == [
        ["Liability", "gross liability (members with a positive balance)", "470", "7.05"],
        ["Liability", "points owed by members", "-30", "-0.45"],
        ["Liability", "net liability", "440", "6.60"],
        ["Liability", "expected breakage (0.2, program)", "", "-1.41"],
        ["Liability", "expected liability (gross less breakage)", "", "5.64"],
    ]
    assert rows[6:10] == [["Aging by lot age", b["bucket"], str(b["points"]), b["value"]]
                          for b in FEBRUARY_LIABILITY["aging"]]
    assert rows[10:15] == [["Aging by time to expiry", b["bucket"], str(b["points"]), b["value"]]
                           for b in FEBRUARY_LIABILITY["aging_by_expiry"]]
    parameters = {row[1]: row[3] for row in rows[15:]}
    assert parameters["as of (end of day)"] == "2026-02-28"
    assert parameters["point value"] == "0.015"
    assert parameters["members with points"] == "3"
    assert parameters["unposted expiries counted as expired (lots)"] == "1"
    assert parameters["unposted expiries counted as expired (points)"] == "40"
    # Negative numbers are numbers: no quotes, no formula-guard apostrophe
    assert "Liability,points owed by members,-30,-0.45\n" in text
    assert "Aging by time to expiry,never,200,3.00\n" in text
    assert not re.search(r'"[-+]?[0-9]', text)  # no number is quoted (only labels with a comma are)
    assert not [cell for row in rows for cell in row if cell.startswith("'")]


def test_rollforward_csv_lines_add_down_to_the_closing_balance(books):
    text = ok("report", "rollforward", "-p", "acct", "--from", "2026-01-01", "--to", "2026-03-31",
              "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[:10] == [
        ["section", "line", "points", "value"],
        ["Roll-forward", "opening balance", "340", "5.10"],
        ["Roll-forward", "issued (earn and bonus)", "866", "13.00"],
        ["Roll-forward", "redeemed", "-450", "-6.75"],
        ["Roll-forward", "expired", "-230", "-3.45"],
        ["Roll-forward", "clawed back", "-90", "-1.35"],
        ["Roll-forward", "adjusted (adjustments, transfers, reversals)", "-20", "-0.30"],
        ["Roll-forward", "revaluation (point value and rounding)", "", "-0.01"],
        ["Roll-forward", "closing balance", "416", "6.24"],
        ["Parameters", "from (start of day)", "", "2026-01-01"],
    ]
    assert sum(int(row[2]) for row in rows[1:8] if row[2]) == 416
    assert sum(Decimal(row[3]) for row in rows[1:8]) == Decimal("6.24")
    assert "Roll-forward,redeemed,-450,-6.75\n" in text
    assert not re.search(r'"[-+]?[0-9]', text)  # no number is quoted (only labels with a comma are)
    assert not [cell for row in rows for cell in row if cell.startswith("'")]


def load_workbook(path: Path):
    from openpyxl import load_workbook as load

    return load(path)


def check_sheet_layout(sheet) -> None:
    assert [c.value for c in sheet[1]] == ["line", "points", "value"]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"


def money_cells(sheet) -> dict[str, object]:
    """line -> the value cell of every row formatted as money (USD)."""
    return {row[0].value: row[2] for row in sheet.iter_rows(min_row=2) if "USD" in row[2].number_format}


def test_liability_xlsx_has_a_sheet_per_section_with_money_as_numbers(books):
    path = books / "liability.xlsx"
    ok("report", "liability", "-p", "acct", "--as-of", "2026-03-31", "--format", "xlsx", "-o", path)
    book = load_workbook(path)
    assert book.sheetnames == ["Liability", "Aging by lot age", "Aging by time to expiry", "Parameters"]
    for sheet in book.worksheets:
        check_sheet_layout(sheet)
    summary = money_cells(book["Liability"])
    # 6.24 gross, nothing owed (0.00), 6.24 net, breakage 4.99 - 6.24 = -1.25, expected 4.99
    assert {line: cell.value for line, cell in summary.items()} == {
        "gross liability (members with a positive balance)": pytest.approx(6.24),
        "points owed by members": 0, "net liability": pytest.approx(6.24),
        "expected breakage (0.2, program)": pytest.approx(-1.25),
        "expected liability (gross less breakage)": pytest.approx(4.99)}
    for title, key in (("Aging by lot age", "aging"), ("Aging by time to expiry", "aging_by_expiry")):
        sheet = book[title]
        cells = money_cells(sheet)
        assert list(cells) == [b["bucket"] for b in MARCH_LIABILITY[key]]
        for bucket in MARCH_LIABILITY[key]:
            cell = cells[bucket["bucket"]]
            assert isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool)
            assert Decimal(str(cell.value)) == Decimal(bucket["value"])
        points = [row[1].value for row in sheet.iter_rows(min_row=2)]
        assert points == [b["points"] for b in MARCH_LIABILITY[key]]
    for cell in summary.values():
        assert isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool)
    assert money_cells(book["Parameters"]) == {}


def test_rollforward_xlsx_has_a_sheet_per_section_with_money_as_numbers(books):
    path = books / "rollforward.xlsx"
    ok("report", "rollforward", "-p", "acct", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "xlsx",
       "-o", path)
    book = load_workbook(path)
    assert book.sheetnames == ["Roll-forward", "Parameters"]
    for sheet in book.worksheets:
        check_sheet_layout(sheet)
    sheet = book["Roll-forward"]
    cells = money_cells(sheet)
    expected = {"opening balance": "5.10", "issued (earn and bonus)": "13.00", "redeemed": "-6.75",
                "expired": "-3.45", "clawed back": "-1.35", "adjusted (adjustments, transfers, reversals)": "-0.30",
                "revaluation (point value and rounding)": "-0.01", "closing balance": "6.24"}
    assert list(cells) == list(expected)
    for line, value in expected.items():
        assert isinstance(cells[line].value, (int, float)) and not isinstance(cells[line].value, bool)
        assert Decimal(str(cells[line].value)) == Decimal(value), line
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == [340, 866, -450, -230, -90, -20, None, 416]


@pytest.mark.parametrize("fmt, output, message", [
    ("xlsx", None, "--format xlsx writes a workbook: give -o FILE.xlsx"),
    ("table", "t.txt", "-o t.txt: a file takes --format json, csv or xlsx"),
])
def test_a_format_and_output_that_do_not_go_together_are_refused_before_any_work(books, fmt, output, message):
    """March has unposted expiries: had the report run first, their note would be on stderr too."""
    result = run("report", "liability", "-p", "acct", "--as-of", "2026-03-31", "--format", fmt,
                 *(["-o", output] if output else []))
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"error: {message}\n")


# --------------------------------------------------------------------------- KPIs

# The quarter 2026-01-01..03-31: 4 members, none new.
#   issued: earn T1 200 + T2 150 + T3 160 + E1 50 + T4 60 + T5 30 + T6 100 + T7 45 + T8 11 = 806, bonus BD 60 -> 866
#   redeemed: five-off 300 + donation 100 + 50 points = 450 (the donation's reversal is an adjustment, not netted)
#   expired (all unposted): T0 40 + T2 60 + R 70 + T4 60 = 230
#   redemption rate 450 / 866 = 0.51963 -> 0.5196; breakage 230 / (450 + 230) = 0.33824 -> 0.3382
#   at the end: 4 members hold 416 -> average 104; buyers A (T1 T4 T7), B (T2 T5 T8), C (T3), D (T6): 4, 2 repeat
#   monthly issued / redeemed: 2025-07 O1 120, 2025-10 O2 50, 2025-12 T0 40 + T00 100 = 140,
#   2026-01 200 + 150 + 160 + 50 + 60 = 620, 2026-02 60 + 30 = 90 / 400, 2026-03 100 + 45 + 11 = 156 / 50
QUARTER_MONTHS = {"2025-07": (120, 0), "2025-10": (50, 0), "2025-12": (140, 0), "2026-01": (620, 0),
                  "2026-02": (90, 400), "2026-03": (156, 50)}


def test_kpis_of_the_quarter(books):
    k = json.loads(ok("report", "kpis", "-p", "acct", "--from", "2026-01-01", "--to", "2026-03-31",
                      "--format", "json").stdout)
    assert (k["from"], k["to"], k["members"], k["new_members"], k["active_members"]) == (
        "2026-01-01", "2026-03-31", 4, 0, 4)
    assert (k["points_issued"], k["points_redeemed"], k["points_expired"]) == (866, 450, 230)
    assert Decimal(k["redemption_rate"]) == Decimal("0.5196")
    assert Decimal(k["breakage_rate"]) == Decimal("0.3382")
    assert (k["members_with_points"], Decimal(k["average_balance"])) == (4, Decimal("104"))
    assert (k["buyers"], k["repeat_buyers"], Decimal(k["repeat_purchase_rate"])) == (4, 2, Decimal("0.5"))
    assert (k["membership_payments"], k["membership_fee_revenue"], k["tiers"]) == (0, "0.00", [])
    months = [m["month"] for m in k["monthly"]]
    assert months == [f"2025-{n:02d}" for n in range(4, 13)] + ["2026-01", "2026-02", "2026-03"]
    assert {m["month"]: (m["issued"], m["redeemed"]) for m in k["monthly"] if m["issued"] or m["redeemed"]} \
        == QUARTER_MONTHS


def test_kpis_as_csv_are_section_line_value_rows_for_a_spreadsheet(books, tmp_path):
    path = tmp_path / "kpis.csv"
    ok("report", "kpis", "-p", "acct", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "csv", "-o", path)
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[:17] == [
        ["section", "line", "value"],
        ["summary", "members", "4"], ["summary", "new_members", "0"], ["summary", "active_members", "4"],
        ["summary", "active_days", "90"], ["summary", "points_issued", "866"], ["summary", "points_redeemed", "450"],
        ["summary", "points_expired", "230"], ["summary", "redemption_rate", "0.5196"],
        ["summary", "breakage_rate", "0.3382"], ["summary", "members_with_points", "4"],
        ["summary", "average_balance", "104"], ["summary", "repeat_purchase_rate", "0.5"],
        ["summary", "buyers", "4"], ["summary", "repeat_buyers", "2"], ["summary", "membership_payments", "0"],
        ["summary", "membership_fee_revenue", "0.00"]]
    months = [f"2025-{n:02d}" for n in range(4, 13)] + ["2026-01", "2026-02", "2026-03"]  # no tiers: no tier rows
    assert rows[17:] == [[line, month, str(QUARTER_MONTHS.get(month, (0, 0))[i])]
                         for i, line in enumerate(("issued", "redeemed")) for month in months]


def test_kpis_default_to_the_twelve_months_ending_on_to(books):
    """2025-04-01..2026-03-31 adds the history since April: O1 120 + O2 50 + T0 40 + T00 100 = 310 issued."""
    k = json.loads(ok("report", "kpis", "-p", "acct", "--to", "2026-03-31", "--format", "json").stdout)
    assert (k["from"], k["points_issued"], k["points_redeemed"]) == ("2025-04-01", 866 + 310, 450)
    table = ok("report", "kpis", "-p", "acct", "--to", "2026-03-31").stdout
    assert re.search(r"2026-01\s+│\s+620\s+│\s+0\s+│\s+█", table), table
    # without colour (CliRunner is no terminal) the bars still say which is which: the largest month,
    # January's 620, fills 40 cells; February's 90 issued and 400 redeemed take 6 and 26 (90 x 40 / 620 = 5.8)
    assert "Points issued (█, green) and redeemed (░, magenta) by month" in table
    assert re.search(r"2026-02\s+│\s+90\s+│\s+400\s+│\s+█{6}\s+│\n\s*│\s+│\s+│\s+│\s+░{26}\s+│", table), table


# --------------------------------------------------------------------------- period close

def close(through: str) -> dict:
    return json.loads(ok("period", "close", "-p", "acct", "--through", through, "--format", "json").stdout)


def closed_period_reports() -> dict[str, str]:
    """Every report of the closed months, as the bytes a user would get."""
    outputs = {}
    for day in ("2026-01-31", "2026-02-28"):
        for fmt in ("json", "csv"):
            outputs[f"liability {day} {fmt}"] = ok("report", "liability", "-p", "acct", "--as-of", day,
                                                   "--format", fmt).stdout
    for start, end in (("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-28"), ("2026-01-01", "2026-02-28")):
        for fmt in ("json", "csv"):
            outputs[f"rollforward {start} {end} {fmt}"] = ok("report", "rollforward", "-p", "acct", "--from", start,
                                                             "--to", end, "--format", fmt).stdout
        outputs[f"journal {start} {end}"] = ok("report", "journal", "-p", "acct", "--from", start, "--to", end,
                                               "--format", "csv").stdout
    return outputs


def test_period_close_refuses_a_day_that_is_not_over(books, monkeypatch, db_path):
    before = snapshot(db_path)
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-03-01T04:59:59+00:00")  # 2026-02-28 23:59:59 EST
    result = run("period", "close", "-p", "acct", "--through", "2026-02-28")
    assert result.exit_code == 1
    assert "2026-02-28" in result.stderr
    assert snapshot(db_path) == before
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-03-01T05:00:00+00:00")  # midnight EST: 28 February is over
    assert close("2026-02-28")["through"] == "2026-02-28"


def test_period_close_posts_due_expiries_and_records_the_closing_figures(books, monkeypatch):
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-04-02T16:00:00+00:00")
    closed = close("2026-02-28")
    # Due by the end of 02-28: T0's 40 points (02-10); closing 440 net points, 440 x 0.015 = 6.60
    assert (closed["through"], closed["expiries_posted"], closed["closing_points"], closed["closing_liability"],
            closed["already_closed"]) == ("2026-02-28", 1, 440, "6.60", False)
    assert liability("2026-02-28")["unposted_expiries"] == {"lots": 0, "points": 0}
    assert rollforward("2026-02-01", "2026-02-28")["unposted_expiries"] == 0
    # The March expiries are still unposted: T2, R, T4 (190 points)
    assert liability("2026-03-31")["unposted_expiries"] == {"lots": 3, "points": 190}
    listed = json.loads(ok("period", "list", "-p", "acct", "--format", "json").stdout)
    assert [(p["through"], p["expiries_posted"], p["closing_points"], p["closing_liability"])
            for p in listed["periods"]] == [("2026-02-28", 1, 440, "6.60")]
    again = close("2026-02-28")
    assert again["already_closed"] is True and again["expiries_posted"] == 1
    verified = json.loads(ok("db", "verify", "--format", "json").stdout)
    assert verified["ok"] is True and verified["problems"] == []


def test_postings_dated_in_a_closed_period_are_refused_and_change_nothing(books, monkeypatch, db_path):
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-04-02T16:00:00+00:00")
    close("2026-02-28")
    before = snapshot(db_path)
    refused = [
        ("earn", "-p", "acct", "A", "10", "--reason", "late", "--at", "2026-02-28T23:59:59"),
        ("redeem", "-p", "acct", "B", "--points", "10", "--at", "2026-02-15T12:00"),
        ("redeem", "-p", "acct", "A", "--reward", "give", "--at", "2026-02-28"),
        ("adjust", "-p", "acct", "C", "-5", "--reason", "late", "--at", "2026-01-10"),
        ("transfer", "-p", "acct", "A", "B", "10", "--at", "2026-02-27T12:00"),
    ]
    for args in refused:
        result = run(*args)
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert "closed period" in result.stderr, args
    assert snapshot(db_path) == before


def test_import_rejects_rows_dated_in_a_closed_period_and_imports_the_rest(books, monkeypatch, tmp_path):
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-04-02T16:00:00+00:00")
    close("2026-02-28")
    path = write(tmp_path / "late.csv", HEADER + (
        "X1,D,2026-02-28T23:59:59,10.00,,,\n"           # the last second of the closed day (EST): rejected
        "X2,D,2026-03-01T00:00:00,20.00,,,\n"           # the first second after it: 20 points
        "X3,B,2026-02-27T10:00,-30.00,,T5,\n"           # a refund dated in the closed period: rejected
    ))
    result = run("txn", "import", "-p", "acct", path, "--format", "json")
    assert result.exit_code == 3, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["imported"], summary["duplicates"], summary["rejected"],
            summary["points_earned"], summary["points_clawed_back"]) == (3, 1, 0, 2, 20, 0)
    with open(summary["reject_file"], newline="", encoding="utf-8") as handle:
        rejects = [(r["line"], r["txn_id"], r["reason"]) for r in csv.DictReader(handle)]
    assert [(line, txn) for line, txn, _ in rejects] == [("2", "X1"), ("4", "X3")]
    assert all("closed period" in reason and "2026-02-28" in reason for _, _, reason in rejects)
    # D: 70 at the end of March in the scenario, + 20 from X2 = 90
    assert balance("D", "2026-03-31") == 90


def test_a_program_version_cannot_take_effect_in_a_closed_period(books, monkeypatch, tmp_path, db_path):
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-04-02T16:00:00+00:00")
    close("2026-02-28")
    before = snapshot(db_path)
    inside = write(tmp_path / "v3.toml", PROGRAM.format(effective_from="2026-02-15", expiry=EXPIRY)
                   .replace('point_value = "0.015"', 'point_value = "0.02"'))
    result = run("program", "apply", inside)
    assert result.exit_code == 1, result.stdout
    assert "closed period" in result.stderr
    assert snapshot(db_path) == before


def test_reports_of_a_closed_period_never_change(books, monkeypatch, tmp_path, scenario):
    pre_close = {day: liability(day) for day in ("2026-01-31", "2026-02-28")}
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-04-02T16:00:00+00:00")
    close("2026-02-28")
    # Closing posted T0's expiry: the figures are as before it, only no expiry is left unposted
    for day, report_json in pre_close.items():
        assert {**liability(day), "unposted_expiries": None} == {**report_json, "unposted_expiries": None}
    closed = closed_period_reports()
    # Later activity, dated after the close, some of it taking points from lots held at the end of February
    ok("earn", "-p", "acct", "A", "5", "--reason", "first thing in March", "--at", "2026-03-01T00:00")
    ok("redeem", "-p", "acct", "B", "--points", "20", "--at", "2026-03-01T09:00")
    ok("transfer", "-p", "acct", "A", "B", "10", "--at", "2026-03-01T12:00")
    ok("adjust", "-p", "acct", "C", "-200", "--reason", "fraud", "--at", "2026-03-02T12:00")
    ok("txn", "import", "-p", "acct", write(tmp_path / "march-more.csv", HEADER + "X2,D,2026-03-01T00:00,20.00,,,\n"))
    # A's five-off (02-05) took T1 200 (expires 03-05): dated 03-01, the reversal gives them back
    ok("reverse", "-p", "acct", str(scenario["five_off"]), "--reason", "late correction", "--at", "2026-03-01T13:00")
    ok("expire", "-p", "acct")
    # a new point value from the day after the close
    ok("program", "apply", write(tmp_path / "v3.toml", PROGRAM.format(effective_from="2026-03-01", expiry=EXPIRY)
                                 .replace('point_value = "0.015"', 'point_value = "0.02"')))
    after = closed_period_reports()
    for name, output in closed.items():
        assert after[name] == output, name
    verified = json.loads(ok("db", "verify", "--format", "json").stdout)
    assert verified["ok"] is True, verified["problems"]


# --------------------------------------------------------------------------- edge cases on top of the scenario

def test_reversing_a_redemption_gives_back_only_the_points_not_yet_expired(books, db_path, monkeypatch, scenario):
    # A's five-off (02-05) took T00 100 (expired 02-20) and T1 200 (expires 03-05).
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-04-02T16:00:00+00:00")
    # On 04-02 both lots are past expiry: those points are breakage, nothing comes back, nothing is written
    unchanged = snapshot(db_path)
    result = run("reverse", "-p", "acct", scenario["five_off"], "--reason", "wrong reward")
    assert result.exit_code == 1 and "nothing to reverse" in result.stderr
    assert snapshot(db_path) == unchanged
    before = {day: balance("A", day) for day in ("2026-03-01", "2026-03-04", "2026-03-05", "2026-04-02")}
    march = rollforward("2026-03-01", "2026-03-31")
    february = liability("2026-02-28")
    # Dated 03-01 13:00, T1's 200 come back with their expiry, 03-05; T00's 100 stay expired
    posted = json.loads(ok("reverse", "-p", "acct", str(scenario["five_off"]), "--reason", "wrong reward",
                           "--at", "2026-03-01T13:00", "--format", "json").stdout)
    assert [(e["kind"], e["points"], e["value"]) for e in posted["entries"]] == [("reverse", 200, "-5.00")]
    assert balance("A", "2026-03-01") == before["2026-03-01"] + 200
    assert balance("A", "2026-03-04") == before["2026-03-04"] + 200
    assert balance("A", "2026-03-05") == before["2026-03-05"]  # they expired again on 03-05
    assert balance("A", "2026-04-02") == before["2026-04-02"] == 165
    assert liability("2026-02-28") == february
    after = rollforward("2026-03-01", "2026-03-31")
    assert (after["adjusted"], after["expired"], after["closing_points"]) == (
        march["adjusted"] + 200, march["expired"] + 200, march["closing_points"])
    assert json.loads(ok("db", "verify", "--format", "json").stdout)["ok"] is True


def test_a_debit_dated_before_a_credit_posted_earlier_is_paid_by_that_credit(books, tmp_path):
    # E earns 100 on 2026-03-01 (lot expires 05-01), posted first; then an adjustment of -150 dated 2026-02-01,
    # before that lot existed: it takes nothing and E owes 150 from 02-01; on 03-01 the 100 pay 100 of it,
    # exactly as if posted in date order. E holds no lot and owes 50.
    ok("member", "add", "-p", "acct", "E", "--joined", "2024-01-01")
    ok("txn", "import", "-p", "acct", write(tmp_path / "e.csv", HEADER + "E1,E,2026-03-01T10:00,100.00,,,\n"))
    ok("adjust", "-p", "acct", "E", "-150", "--reason", "backdated correction", "--at", "2026-02-01T12:00")
    assert (balance("E", "2026-02-28"), balance("E", "2026-03-31")) == (-150, -50)
    # End of March: the four scenario members hold 416; E owes 50; net 366 (366 x 0.015 = 5.49). The lots
    # held are the scenario's 416, so the aging is the scenario's, with nothing to net.
    report_json = liability("2026-03-31")
    assert (report_json["members_with_points"], report_json["outstanding_points"],
            report_json["points_owed_by_members"], report_json["net_points"], report_json["gross_liability"],
            report_json["net_liability"], report_json["expected_liability"]) == (4, 416, 50, 366, "6.24", "5.49",
                                                                                "4.99")
    assert report_json["aging"] == MARCH_LIABILITY["aging"]
    assert report_json["aging_by_expiry"] == MARCH_LIABILITY["aging_by_expiry"]
    # February: 440 - 150 = 290 (adjusted -120 - 150 = -270); March: 290 + 256 - 50 - 190 - 40 + 100 = 366
    february, march = rollforward("2026-02-01", "2026-02-28"), rollforward("2026-03-01", "2026-03-31")
    assert (february["adjusted"], february["closing_points"], february["closing_liability"]) == (-270, 290, "4.35")
    assert (march["opening_points"], march["issued"], march["closing_points"], march["closing_liability"]) == (
        290, 256, 366, "5.49")


def test_a_transfer_between_members_does_not_change_the_liability_aging(books):
    # On 2026-03-29 A holds only O1 (120, earned 2025-07-15, never expires): T4 expired on 03-28, T7 comes 03-30.
    # Moving 50 of O1 to B changes nobody's total but the two members': outstanding stays 416 and the 50 points
    # are still 259 days old at the end of March, so every bucket stays as in MARCH_LIABILITY
    # (0-90: 216, 181-365: 170): the receiver's lot is aged from when its points were first issued.
    ok("transfer", "-p", "acct", "A", "B", "50", "--at", "2026-03-29T12:00")
    report_json = liability("2026-03-31")
    assert report_json["outstanding_points"] == 416
    assert report_json["aging_by_expiry"] == MARCH_LIABILITY["aging_by_expiry"]  # the lot kept its expiry: holds
    assert report_json["aging"] == MARCH_LIABILITY["aging"]
