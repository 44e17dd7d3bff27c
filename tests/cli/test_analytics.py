"""report analytics end to end: one small shop whose every figure is worked out by hand below.

Program: 1 point per dollar (floor), lots expire after 2 months, a 50-point voucher reward.
Members (joined): A 2026-01-15, B 2026-02-10, C 2026-04-05, D 2026-05-20, E 2026-06-15 (after --to).
Range 2026-04-01 to 2026-06-14, --active-days 30 (active: 05-16..06-14; the window before: 03-02..03-31).

  T1  A 01-20  100.00   before the range            lot 100, expires 03-20 (before the range)
  T2  A 03-20   40.00   the window before           lot  40, expires 05-20: 40 expire in May
  T3  B 03-25   60.00   the window before           lot  60; B redeems 50 (a voucher) 04-20, used 04-25;
                                                    10 expire 05-25 (May)
  T4  A 04-10   50.00                               lot  50, expires 06-10: 50 expire in June
  T7  C 04-06   20.00                               lot  20
  T6  C 04-08   -5.00   refund of T7                claws back 5; 15 expire 06-06 (June)
  T5  A 05-15   30.00   (first seen as a walk-in)   lot  30, expires 07-15 (after)
  T8  D 06-01   80.00                               lot  80; D redeems 50 (a voucher) 06-05, never used
  T9  E 06-10   25.00   E joined after --to: no member count, no member sale; its 25 points are issued all the same
Walk-ins: W1 04-12 15.00, W2 05-01 25.00, W3 05-02 -5.00 (refund of W2), W4 03-30 10.00 (before the range),
T5 05-15 30.00 (the basket exported once without its customer: A's, counted once, as A's), W9 (a date that does
not read: skipped, not recorded).

members 4 (A-D), new 2 (C, D). Member purchases T4 T5 T7 T8 = 4; sales 50 + 30 + 20 - 5 + 80 = 175.00.
Non-member purchases W1 W2 = 2; sales 15 + 25 - 5 = 35.00. membership 4/6 = 0.6667; share 175/210 = 0.8333.
Purchasing members A C D = 3; repeat (A: T4, T5) 1/3 = 0.3333; frequency 4/3 = 1.3333.
Average order: members (50 + 30 + 20 + 80)/4 = 45.00; non-members (15 + 25)/2 = 20.00.
Active (05-16..06-14): D = 1, 1/4 = 0.2500. Churn: A and B bought 03-02..03-31, B not since: 1/2 = 0.5000.
Points in the range: issued 50 + 20 + 30 + 80 + 25 = 205, redeemed 100, expired 40 + 10 + 50 + 15 = 115.
To date: issued 405 (with T1-T3), redeemed 100, expired 115 + 100 (T1) = 215:
redemption 100/405 = 0.2469, breakage 215/405 = 0.5309. Vouchers: 1 of 2 used = 0.5000.
Lifetime sales A 220 + B 60 + C 15 + D 80 = 375.00 over 4 members with a purchase = 93.75.
Segments: redeemers B, D: D's T8 only: 1 purchase, 80.00, 80.00, 1 customer, 1.0000;
non-redeemers A, C: 3 purchases, 95.00, (50 + 30 + 20)/3 = 33.33, 2 customers, 1.5000.
Months: April issued 70, redeemed 50, sales 65.00 / 15.00, active A C; May 30, 0, expired 50, 30.00 / 20.00, A;
June (to the 14th) 105, 50, expired 65, 80.00 / 0.00, D.
Cohorts (2025-07 to 2026-06): 2026-01 A: Jan, Mar, Apr, May -> [1, 0, 1, 1, 1, 0, then null];
2026-02 B: Mar -> [0, 1, 0, 0, 0, null...]; 2026-04 C: [1, 0, 0, null...]; 2026-05 D: [0, 1, null...].
"""

import csv
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import ok, run, write

SHOP = """\
[program]
code = "shop"
name = "Shop"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"
effective_from = 2025-01-01

[earn]
points_per_unit = "1"
rounding = "floor"

[expiry]
policy = "lot"
months = 2

[[rewards]]
code = "fifty"
name = "50c voucher"
points = 50
value = "0.50"
voucher = true
voucher_days = 30
"""
HEADER = "txn_id,member_id,occurred_at,amount,refund_of\n"
WALK_INS = HEADER + (
    "W1,,2026-04-12T10:00,15.00,\n"
    "W2,,2026-05-01T10:00,25.00,\n"
    "W3,,2026-05-02T10:00,-5.00,W2\n"
    "W4,,2026-03-30T10:00,10.00,\n"
    "T5,,2026-05-15T10:00,30.00,\n"
    "W9,,not a date,5.00,\n"
)
SALES = HEADER + (
    "T1,A,2026-01-20T10:00,100.00,\n"
    "T2,A,2026-03-20T10:00,40.00,\n"
    "T3,B,2026-03-25T10:00,60.00,\n"
    "T4,A,2026-04-10T10:00,50.00,\n"
    "T7,C,2026-04-06T10:00,20.00,\n"
    "T6,C,2026-04-08T10:00,-5.00,T7\n"
    "T5,A,2026-05-15T10:00,30.00,\n"
    "T8,D,2026-06-01T10:00,80.00,\n"
    "T9,E,2026-06-10T10:00,25.00,\n"
)
EXPORTS = Path(__file__).parent.parent / "data" / "exports"
RANGE = ("--from", "2026-04-01", "--to", "2026-06-14", "--active-days", "30")


@pytest.fixture
def shop(tmp_path):
    ok("program", "apply", write(tmp_path / "shop.toml", SHOP))
    for member, joined in (("A", "2026-01-15"), ("B", "2026-02-10"), ("C", "2026-04-05"), ("D", "2026-05-20"),
                           ("E", "2026-06-15")):
        ok("member", "add", "-p", "shop", member, "--joined", joined)
    walk_ins = json.loads(ok("txn", "import", "-p", "shop", write(tmp_path / "walk-ins.csv", WALK_INS),
                             "--format", "json").stdout)
    assert (walk_ins["skipped"], walk_ins["non_member_sales"], walk_ins["rejected"]) == (6, 5, 0)
    ok("txn", "import", "-p", "shop", write(tmp_path / "sales.csv", SALES))
    used = json.loads(ok("redeem", "-p", "shop", "B", "--reward", "fifty", "--at", "2026-04-20T12:00",
                         "--format", "json").stdout)["voucher"]["code"]
    ok("voucher", "use", used, "--at", "2026-04-25T12:00")
    ok("redeem", "-p", "shop", "D", "--reward", "fifty", "--at", "2026-06-05T12:00")
    return tmp_path


def analytics(*args):
    return json.loads(ok("report", "analytics", "-p", "shop", *RANGE, "--format", "json", *args).stdout)


@pytest.mark.citus
def test_every_figure_as_worked_out_by_hand(shop):
    assert analytics() == {
        "program": "shop", "from": "2026-04-01", "to": "2026-06-14", "active_days": 30, "currency": "USD",
        "members": 4, "new_members": 2,
        "member_purchases": 4, "non_member_purchases": 2, "member_sales": "175.00", "non_member_sales": "35.00",
        "membership_rate": "0.6667", "member_sales_share": "0.8333",
        "purchasing_members": 3, "repeat_customer_rate": "0.3333", "purchase_frequency": "1.3333",
        "average_order_value": {"members": "45.00", "non_members": "20.00"},
        "active_members": 1, "active_rate": "0.2500", "churn_rate": "0.5000",
        "points_issued": 205, "points_redeemed": 100, "points_expired": 115,
        "redemption_rate": "0.2469", "breakage_rate": "0.5309", "reward_usage_rate": "0.5000",
        "average_lifetime_sales": "93.75",
        "segments": {
            "redeemers": {"purchases": 1, "sales": "80.00", "average_order_value": "80.00", "customers": 1,
                          "purchase_frequency": "1.0000"},
            "non_redeemers": {"purchases": 3, "sales": "95.00", "average_order_value": "33.33", "customers": 2,
                              "purchase_frequency": "1.5000"},
            "non_members": {"purchases": 2, "sales": "35.00", "average_order_value": "20.00"},
        },
        "cohorts": [
            {"month": "2026-01", "members": 1,
             "retention": ["1.0000", "0.0000", "1.0000", "1.0000", "1.0000", "0.0000"] + [None] * 6},
            {"month": "2026-02", "members": 1, "retention": ["0.0000", "1.0000", "0.0000", "0.0000", "0.0000"] + [None] * 7},
            {"month": "2026-04", "members": 1, "retention": ["1.0000", "0.0000", "0.0000"] + [None] * 9},
            {"month": "2026-05", "members": 1, "retention": ["0.0000", "1.0000"] + [None] * 10},
        ],
        "monthly": [
            {"month": "2026-04", "points_issued": 70, "points_redeemed": 50, "points_expired": 0,
             "member_sales": "65.00", "non_member_sales": "15.00", "active_members": 2},
            {"month": "2026-05", "points_issued": 30, "points_redeemed": 0, "points_expired": 50,
             "member_sales": "30.00", "non_member_sales": "20.00", "active_members": 1},
            {"month": "2026-06", "points_issued": 105, "points_redeemed": 50, "points_expired": 65,
             "member_sales": "80.00", "non_member_sales": "0.00", "active_members": 1},
        ],
        "nps": None,
    }


def test_points_are_the_roll_forwards_lines(shop):
    rollforward = json.loads(ok("report", "rollforward", "-p", "shop", *RANGE[:4], "--format", "json").stdout)
    report = analytics()
    assert (report["points_issued"], report["points_redeemed"], report["points_expired"]) == (
        rollforward["issued"], rollforward["redeemed"], rollforward["expired"]) == (205, 100, 115)


def test_importing_the_files_again_doubles_nothing(shop):
    before = analytics()
    again = json.loads(ok("txn", "import", "-p", "shop", shop / "walk-ins.csv", "--format", "json").stdout)
    assert (again["skipped"], again["non_member_sales"]) == (6, 0)
    ok("txn", "import", "-p", "shop", shop / "sales.csv")
    assert analytics() == before


def test_a_walk_ins_growing_refunded_amount_refunds_what_it_grew_by(shop):
    # A guest's Stripe charge (no email) of 100.00 on 05-01, refunded 10.00 by 05-03, then 25.00 by 05-04:
    # non-member sales 35.00 + 100.00 - 25.00 = 110.00, still 3 purchases; May 20.00 + 75.00.
    header = (EXPORTS / "stripe_payments.csv").read_text().splitlines()[0]

    def guest(refunded, refunded_on):
        row = (f"ch_w,2026-05-01 15:00:00,100.00,{refunded},usd,true,100.00,{refunded},usd,,Web,1.46,{refunded_on},"
               "B,Paid,ok,0.00,pm_1,cus_1,,,,")
        return write(shop / "stripe.csv", f"{header}\n{row}\n")

    for refunded, on, sales in (("0.00", "", "135.00"), ("10.00", "2026-05-03 15:00:00", "125.00"),
                                ("25.00", "2026-05-04 15:00:00", "110.00"), ("25.00", "2026-05-04 15:00:00", "110.00")):
        summary = json.loads(ok("txn", "import", "-p", "shop", guest(refunded, on), "--source", "stripe",
                                "--format", "json").stdout)
        assert summary["skipped_reasons"] == {"no customer": 1}
        report = analytics()
        assert (report["non_member_purchases"], report["non_member_sales"]) == (3, sales)
    assert report["monthly"][1]["non_member_sales"] == "95.00"


def test_the_csv_is_a_titled_table_per_section(shop):
    text = ok("report", "analytics", "-p", "shop", *RANGE, "--format", "csv").stdout
    sections = {block.split("\n", 1)[0]: list(csv.reader(io.StringIO(block.split("\n", 1)[1])))
                for block in text.strip("\n").split("\n\n")}
    assert list(sections) == ["summary", "segments", "cohorts", "monthly"]
    summary = dict(sections["summary"][1:])
    assert (summary["member_sales_share"], summary["average_order_value.members"], summary["churn_rate"]) == (
        "0.8333", "45.00", "0.5")
    assert sections["segments"][0] == ["segment", "customers", "purchases", "sales", "average_order_value",
                                       "purchase_frequency"]
    assert sections["segments"][3] == ["non_members", "", "2", "35.00", "20.00", ""]
    # one row per join month and month after it, up to --to's month: 6 + 5 + 3 + 2
    assert len(sections["cohorts"]) == 1 + 16
    assert sections["cohorts"][1:3] == [["2026-01", "1", "2026-01", "0", "1"], ["2026-01", "1", "2026-02", "1", "0"]]
    assert sections["monthly"][3] == ["2026-06", "105", "50", "65", "80.00", "0.00", "1"]


def test_the_table_shows_rates_as_percentages_and_no_data_as_a_dash(shop):
    out = ok("report", "analytics", "-p", "shop", *RANGE).stdout
    assert "83.3%" in out  # member share of sales
    assert "│ non-redeemers" in out and "│ non-members" in out
    empty = ok("report", "analytics", "-p", "shop", "--from", "2025-01-01", "--to", "2025-01-31").stdout
    assert "–" in empty and "Traceback" not in empty


def test_a_range_without_data_is_zeros_and_nulls(shop):
    report = json.loads(ok("report", "analytics", "-p", "shop", "--from", "2025-01-01", "--to", "2025-01-31",
                           "--format", "json").stdout)
    assert (report["members"], report["member_purchases"], report["member_sales"]) == (0, 0, "0.00")
    assert (report["membership_rate"], report["churn_rate"], report["redemption_rate"]) == (None, None, None)
    assert report["average_order_value"] == {"members": None, "non_members": None}
    assert report["cohorts"] == [] and [m["month"] for m in report["monthly"]] == ["2025-01"]


@pytest.mark.parametrize("args, code, message", [
    (("-p", "shop", "--from", "2026-06-14", "--to", "2026-04-01"), 2, "--to 2026-04-01 is before --from 2026-06-14"),
    (("-p", "shop", *RANGE[:4], "--active-days", "0"), 2, "--active-days must be 1 or more"),
    (("-p", "nope", *RANGE[:4]), 1, "unknown program 'nope'"),
])
def test_bad_input_is_one_line_and_the_right_exit(shop, args, code, message):
    result = run("report", "analytics", *args)
    assert result.exit_code == code
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As the machine's probe starts it: no sandbox (root), and none of the background connections a closed
# network refuses.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


@pytest.mark.sqlite_only
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Chromium is not installed (.ci/run installs it; under CI this test runs regardless)")
def test_the_html_page_is_self_contained_and_loads_in_chromium(shop):
    ok("report", "analytics", "-p", "shop", *RANGE, "--format", "html", "-o", "page.html")
    page = (shop / "page.html").read_text(encoding="utf-8")
    # nothing fetched, nothing run: no script, no link, no image or font from anywhere
    assert not re.search(r"<script|<link|<img|<iframe|url\(|@import|https?://", page)
    charts = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(charts) == 4  # points, active members, member share of sales, segments
    for chart in charts:
        svg = ElementTree.fromstring(chart)  # well-formed: what a browser draws is what was written
        assert svg.get("role") == "img" and svg.find("title").text and svg.find("desc").text
    assert page.count("<details>") == 2 and "<table class=\"heat\">" in page  # the figures behind the charts
    result = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={shop / 'chromium'}",
                             f"--screenshot={shop / 'page.png'}", "--window-size=390,2400",
                             (shop / "page.html").as_uri()], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (shop / "page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dom = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={shop / 'chromium'}", "--dump-dom",
                          (shop / "page.html").as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<svg") == 4 and "<title>shop analytics, 2026-04-01 to 2026-06-14</title>" in dom
    assert ">83.3%<" in dom and ">0.2500<" not in dom  # figures as people read them
