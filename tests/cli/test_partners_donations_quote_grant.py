"""report partners, report donations, quote and bonus grant end to end, with figures worked out by hand.

The clock is fixed at 2026-06-15T16:00:00+00:00 = 2026-06-15 12:00 in New York (EDT, -04:00).
"""

import csv
import io
import json
from decimal import Decimal

import pytest

from tests.conftest import run, snapshot, write

# --------------------------------------------------------------------------- report partners

COALITION = """\
[program]
code = "coal"
name = "Coalition"
currency = "USD"
timezone = "America/New_York"
point_value = "{point_value}"
effective_from = {effective_from}

[earn]
points_per_unit = "1"
rounding = "floor"

[[partners]]
code = "fleet"
name = "Fleet Rides"
points_per_unit = "2"

[[partners]]
code = "cafe"
name = "=Cafe Corner"
points_per_unit = "3"
"""
TXN_HEADER = "txn_id,member_id,occurred_at,amount,category,currency,store,partner,refund_of,description\n"

# March 2026 in New York: EST (-05:00) until 8 March, EDT (-04:00) from then on.
# Version 1 (point_value 0.01) from 2026-01-01; version 2 (point_value 0.02) from 2026-03-15.
PARTNER_ROWS = (
    "F0,M1,2026-02-28T23:59:59,10.00,,,,fleet,,\n"              # one second before --from: excluded
    "F1,M1,2026-03-01T00:00:00,25.75,,,,fleet,,\n"              # first instant of --from: 25.75 x 2 = 51.5 -> 51 (v1)
    "F2,M2,2026-03-20T10:00:00,40.00,,,,fleet,,\n"              # 40.00 x 2 = 80 (v2)
    "F3,M2,2026-03-25T10:00:00,-10.00,,,,fleet,F2,\n"           # claws back round(80 x 10 / 40) = 20 (v2)
    "F4,M1,2026-04-01T00:00:00,30.00,,,,fleet,,\n"              # first instant after --to: excluded
    "C0,M2,2026-03-01T04:59:59+00:00,5.00,,,,cafe,,\n"          # = 2026-02-28T23:59:59-05:00: excluded
    "C1,M1,2026-04-01T03:30:00+00:00,12.34,,,,cafe,,\n"         # = 2026-03-31T23:30-04:00: 12.34 x 3 = 37.02 -> 37 (v2)
    "C2,M2,2026-03-10T12:00:00,7.10,,,,cafe,,\n"                # 7.10 x 3 = 21.3 -> 21 (v1)
    "N1,M1,2026-03-12T10:00:00,100.00,,,,,,\n"                  # not at a partner: 100 points, never in the report
)
# fleet: purchases F1, F2 = 2; refunds F3 = 1; spend 25.75 + 40.00 - 10.00 = 55.75;
#        issued 51 + 80 = 131; clawed back 20; net 131 - 20 = 111;
#        value 51 x 0.01 + (80 - 20) x 0.02 = 0.51 + 1.20 = 1.71
# cafe:  purchases C1, C2 = 2; refunds 0; spend 12.34 + 7.10 = 19.44;
#        issued 37 + 21 = 58; clawed back 0; net 58;
#        value 37 x 0.02 + 21 x 0.01 = 0.74 + 0.21 = 0.95
# total value 1.71 + 0.95 = 2.66
FLEET = {"partner": "fleet", "name": "Fleet Rides", "purchases": 2, "refunds": 1, "spend": "55.75",
         "points_issued": 131, "points_clawed_back": 20, "net_points": 111, "value": "1.71"}
CAFE = {"partner": "cafe", "name": "=Cafe Corner", "purchases": 2, "refunds": 0, "spend": "19.44",
        "points_issued": 58, "points_clawed_back": 0, "net_points": 58, "value": "0.95"}


@pytest.fixture
def coalition(tmp_path):
    """Two versions of the coalition program (applied before any import) and members M1, M2."""
    v1 = write(tmp_path / "coal-v1.toml", COALITION.format(point_value="0.01", effective_from="2026-01-01"))
    v2 = write(tmp_path / "coal-v2.toml", COALITION.format(point_value="0.02", effective_from="2026-03-15"))
    for path in (v1, v2):
        result = run("program", "apply", path)
        assert result.exit_code == 0, result.stderr
    for member in ("M1", "M2"):
        assert run("member", "add", "-p", "coal", member).exit_code == 0
    return tmp_path


def import_txns(tmp_path, name, rows):
    path = write(tmp_path / name, TXN_HEADER + rows)
    result = run("txn", "import", "-p", "coal", path, "--format", "json")
    return result, path


def partners_json(start, end, *extra):
    result = run("report", "partners", "-p", "coal", "--from", start, "--to", end, "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def by_partner(report):
    lines = {line["partner"]: line for line in report["partners"]}
    assert len(lines) == len(report["partners"])
    return lines


@pytest.mark.citus
def test_partner_report_counts_each_partner_in_the_range_at_each_versions_point_value(coalition):
    result, _ = import_txns(coalition, "march.csv", PARTNER_ROWS)
    assert result.exit_code == 0, result.stderr
    report = partners_json("2026-03-01", "2026-03-31")
    assert by_partner(report) == {"fleet": FLEET, "cafe": CAFE}  # N1 (no partner) has no line
    assert report["total_value"] == "2.66"  # 1.71 + 0.95


def test_partner_report_json_shape(coalition):
    import_txns(coalition, "march.csv", PARTNER_ROWS)
    report = partners_json("2026-03-01", "2026-03-31")
    assert set(report) == {"program", "from", "to", "currency", "partners", "total_value"}
    assert (report["program"], report["from"], report["to"], report["currency"]) == (
        "coal", "2026-03-01", "2026-03-31", "USD")
    for line in report["partners"]:
        assert set(line) == set(FLEET)
        assert all(isinstance(line[k], int) for k in
                   ("purchases", "refunds", "points_issued", "points_clawed_back", "net_points"))
        assert all(isinstance(line[k], str) for k in ("spend", "value"))


def test_partner_report_range_boundaries_are_whole_local_days(coalition):
    import_txns(coalition, "march.csv", PARTNER_ROWS)
    # Only 2026-02-28 (local): F0 (10.00 x 2 = 20, v1: 20 x 0.01 = 0.20) and C0 (5.00 x 3 = 15, v1: 0.15).
    february = by_partner(partners_json("2026-02-28", "2026-02-28"))
    assert february["fleet"] == {"partner": "fleet", "name": "Fleet Rides", "purchases": 1, "refunds": 0,
                                      "spend": "10.00", "points_issued": 20, "points_clawed_back": 0,
                                      "net_points": 20, "value": "0.20"}
    assert february["cafe"]["purchases"] == 1 and february["cafe"]["points_issued"] == 15
    assert february["cafe"]["value"] == "0.15"
    # Only 2026-03-31 (local): C1 at 23:30 EDT (37 points x 0.02 = 0.74); F4 at 00:00 on 1 April is out.
    last_day = by_partner(partners_json("2026-03-31", "2026-03-31"))
    assert set(last_day) == {"cafe"}
    assert (last_day["cafe"]["purchases"], last_day["cafe"]["spend"], last_day["cafe"]["net_points"],
            last_day["cafe"]["value"]) == (1, "12.34", 37, "0.74")
    # Only 2026-04-01 (local): F4 30.00 x 2 = 60 points, v2: 60 x 0.02 = 1.20.
    april = partners_json("2026-04-01", "2026-04-01")
    assert by_partner(april) == {"fleet": {"partner": "fleet", "name": "Fleet Rides", "purchases": 1,
                                           "refunds": 0, "spend": "30.00", "points_issued": 60,
                                           "points_clawed_back": 0, "net_points": 60, "value": "1.20"}}
    assert april["total_value"] == "1.20"


def test_partner_report_with_nothing_in_range_is_empty(coalition):
    import_txns(coalition, "march.csv", PARTNER_ROWS)
    report = partners_json("2026-05-01", "2026-05-31")
    assert report["partners"] == []
    assert report["total_value"] == "0.00"


def test_partner_report_as_csv_has_plain_numbers_and_formula_safe_text(coalition):
    import_txns(coalition, "march.csv", PARTNER_ROWS)
    result = run("report", "partners", "-p", "coal", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["partner", "name", "purchases", "refunds", "spend", "points_issued", "points_clawed_back",
                       "net_points", "value"]  # snake_case, as every report's CSV and the JSON name them
    body = sorted(rows[1:])
    assert body == [
        ["cafe", "'=Cafe Corner", "2", "0", "19.44", "58", "0", "58", "0.95"],   # name starts with "=": apostrophe
        ["fleet", "Fleet Rides", "2", "1", "55.75", "131", "20", "111", "1.71"],
    ]


def test_partner_report_written_to_a_file_with_o(coalition):
    import_txns(coalition, "march.csv", PARTNER_ROWS)
    out = coalition / "partners.csv"
    result = run("report", "partners", "-p", "coal", "--from", "2026-03-01", "--to", "2026-03-31",
                 "--format", "csv", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    rows = sorted(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert ["fleet", "Fleet Rides", "2", "1", "55.75", "131", "20", "111", "1.71"] in rows
    assert ["cafe", "'=Cafe Corner", "2", "0", "19.44", "58", "0", "58", "0.95"] in rows
    out_json = coalition / "partners.json"
    result = run("report", "partners", "-p", "coal", "--from", "2026-03-01", "--to", "2026-03-31",
                 "--format", "json", "-o", out_json)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out_json.read_text(encoding="utf-8"))["total_value"] == "2.66"


def test_partner_report_table_is_the_default(coalition):
    import_txns(coalition, "march.csv", PARTNER_ROWS)
    result = run("report", "partners", "-p", "coal", "--from", "2026-03-01", "--to", "2026-03-31")
    assert result.exit_code == 0, result.stderr
    assert "fleet" in result.stdout and "cafe" in result.stdout
    assert "N1" not in result.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


def test_an_unknown_partner_code_is_a_rejected_row(coalition):
    rows = ("P1,M1,2026-03-05T10:00,20.00,,,,fleet,,\n"     # 20.00 x 2 = 40
            "P2,M1,2026-03-05T11:00,20.00,,,,nope,,\n")     # unknown partner: rejected
    result, _ = import_txns(coalition, "bad.csv", rows)
    assert result.exit_code == 3
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["imported"], summary["rejected"], summary["points_earned"]) == (2, 1, 1, 40)
    with open(coalition / "bad.rejects.csv", newline="") as handle:
        rejects = [(r["line"], r["txn_id"], r["reason"]) for r in csv.DictReader(handle)]
    assert len(rejects) == 1
    assert rejects[0][:2] == ("3", "P2")
    assert "nope" in rejects[0][2] and "partner" in rejects[0][2]
    report = by_partner(partners_json("2026-03-01", "2026-03-31"))
    assert set(report) == {"fleet"}  # the rejected row never reached the report
    assert (report["fleet"]["purchases"], report["fleet"]["points_issued"], report["fleet"]["value"]) == (
        1, 40, "0.40")  # 40 x 0.01 (v1, 5 March)


def test_partner_report_to_before_from_is_bad_usage(coalition, db_path):
    before = snapshot(db_path)
    result = run("report", "partners", "-p", "coal", "--from", "2026-03-31", "--to", "2026-03-01")
    assert result.exit_code == 2
    assert "before" in result.stderr
    assert result.stdout == ""
    assert snapshot(db_path) == before


def test_a_clawback_is_valued_at_the_point_value_the_points_were_earned_at(coalition):
    rows = ("X1,M1,2026-03-10T10:00,50.00,,,,fleet,,\n"       # v1: 50.00 x 2 = 100 points at 0.01
            "X2,M1,2026-03-20T10:00,-25.00,,,,fleet,X1,\n")   # v2 day; claws back round(100 x 25 / 50) = 50 v1 points
    result, _ = import_txns(coalition, "cross.csv", rows)
    assert result.exit_code == 0, result.stderr
    fleet = by_partner(partners_json("2026-03-01", "2026-03-31"))["fleet"]
    assert (fleet["purchases"], fleet["refunds"], fleet["spend"]) == (1, 1, "25.00")  # 50.00 - 25.00
    assert (fleet["points_issued"], fleet["points_clawed_back"], fleet["net_points"]) == (100, 50, 50)
    assert fleet["value"] == "0.50"  # the 50 points left were earned under v1: 50 x 0.01


def test_a_refund_of_a_partner_purchase_counts_for_that_partner_without_repeating_the_partner_code(coalition):
    rows = ("Y1,M2,2026-03-20T10:00,40.00,,,,fleet,,\n"       # 40.00 x 2 = 80 (v2)
            "Y2,M2,2026-03-25T10:00,-10.00,,,,,Y1,\n")        # claws back round(80 x 10 / 40) = 20
    result, _ = import_txns(coalition, "refund.csv", rows)
    assert result.exit_code == 0, result.stderr
    fleet = by_partner(partners_json("2026-03-01", "2026-03-31"))["fleet"]
    assert (fleet["purchases"], fleet["refunds"], fleet["spend"]) == (1, 1, "30.00")  # 40.00 - 10.00
    assert (fleet["points_issued"], fleet["points_clawed_back"], fleet["net_points"]) == (80, 20, 60)
    assert fleet["value"] == "1.20"  # 60 x 0.02


# --------------------------------------------------------------------------- report donations

CHARITY = """\
[program]
code = "club"
name = "Club"
currency = "USD"
timezone = "America/New_York"
point_value = "0.10"
effective_from = 2026-01-01

[earn]
points_per_unit = "1"

[[rewards]]
code = "donate-ten"
name = "Donate $10"
points = 100
value = "10.00"
kind = "donation"
charity = "Community Trust"

[[rewards]]
code = "donate-five"
name = "Donate $5"
points = 60
value = "5.00"
kind = "donation"
charity = "Animal Shelter"

[[rewards]]
code = "ten-off"
name = "$10 off"
points = 100
value = "10.00"
kind = "discount"
"""


@pytest.fixture
def club(tmp_path):
    """Member M1 with 1000 points from 1 May, and these redemptions (New York is EDT, -04:00):

    D0 donate-ten  at 2026-06-01T03:59:59+00:00 = 2026-05-31 23:59:59 local (May)
    D1 donate-ten  at 2026-06-01T00:00:00 local (first instant of June)
    D2 donate-five at 2026-06-05T10:00
    X  ten-off     at 2026-06-06T10:00 (a discount, not a donation)
    D3 donate-ten  at 2026-06-14T23:59:59 local
    """
    assert run("program", "apply", write(tmp_path / "club.toml", CHARITY)).exit_code == 0
    assert run("member", "add", "-p", "club", "M1").exit_code == 0
    assert run("earn", "-p", "club", "M1", "1000", "--reason", "seed", "--at", "2026-05-01").exit_code == 0
    ids = {}
    for name, reward, at in (("D0", "donate-ten", "2026-06-01T03:59:59+00:00"),
                             ("D1", "donate-ten", "2026-06-01T00:00:00"),
                             ("D2", "donate-five", "2026-06-05T10:00"),
                             ("X", "ten-off", "2026-06-06T10:00"),
                             ("D3", "donate-ten", "2026-06-14T23:59:59")):
        result = run("redeem", "-p", "club", "M1", "--reward", reward, "--at", at, "--format", "json")
        assert result.exit_code == 0, result.stderr
        ids[name] = json.loads(result.stdout)["entries"][0]["id"]
    return ids


def donations_json(start, end):
    result = run("report", "donations", "-p", "club", "--from", start, "--to", end, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def by_charity(report):
    return {line["charity"]: line for line in report["charities"]}


@pytest.mark.citus
def test_donations_are_totalled_per_charity(club):
    report = donations_json("2026-06-01", "2026-06-30")
    assert set(report) == {"program", "from", "to", "currency", "charities", "total_value"}
    assert (report["program"], report["from"], report["to"], report["currency"]) == (
        "club", "2026-06-01", "2026-06-30", "USD")
    assert by_charity(report) == {
        "Community Trust": {"charity": "Community Trust", "donations": 2, "points": 200, "value": "20.00"},  # D1, D3: 2 x 100, 2 x 10.00
        "Animal Shelter": {"charity": "Animal Shelter", "donations": 1, "points": 60, "value": "5.00"},     # D2
    }
    assert report["total_value"] == "25.00"  # 20.00 + 5.00; the ten-off discount is no donation


def test_donations_report_range_is_whole_local_days(club):
    may = donations_json("2026-05-01", "2026-05-31")  # only D0, 23:59:59 local on 31 May
    assert by_charity(may) == {"Community Trust": {"charity": "Community Trust", "donations": 1, "points": 100,
                                                   "value": "10.00"}}
    assert may["total_value"] == "10.00"
    first = donations_json("2026-06-01", "2026-06-01")  # only D1, at 00:00 local on 1 June
    assert by_charity(first) == {"Community Trust": {"charity": "Community Trust", "donations": 1, "points": 100,
                                                     "value": "10.00"}}
    last = donations_json("2026-06-14", "2026-06-14")  # only D3, 23:59:59 local on 14 June
    assert by_charity(last) == {"Community Trust": {"charity": "Community Trust", "donations": 1, "points": 100,
                                                    "value": "10.00"}}
    gap = donations_json("2026-06-06", "2026-06-13")  # only the discount X: no donations
    assert gap["charities"] == [] and gap["total_value"] == "0.00"


def test_a_reversed_donation_nets_out_of_the_donations_report(club):
    result = run("reverse", "-p", "club", club["D3"], "--reason", "member changed their mind")
    assert result.exit_code == 0, result.stderr  # effective now: 2026-06-15 12:00 local
    report = donations_json("2026-06-01", "2026-06-30")
    assert by_charity(report) == {
        "Community Trust": {"charity": "Community Trust", "donations": 1, "points": 100, "value": "10.00"},  # 2 - 1; 200 - 100; 20.00 - 10.00
        "Animal Shelter": {"charity": "Animal Shelter", "donations": 1, "points": 60, "value": "5.00"},
    }
    assert report["total_value"] == "15.00"  # 10.00 + 5.00
    # 1000 - 100 (D0) - 100 (D1) - 60 (D2) - 100 (X) - 100 (D3) + 100 (D3 reversed) = 640
    balance = json.loads(run("balance", "-p", "club", "M1", "--format", "json").stdout)
    assert balance["points"] == 640


def test_a_reversal_dated_later_does_not_rewrite_an_earlier_donations_report(club):
    assert run("reverse", "-p", "club", club["D3"], "--reason", "oops").exit_code == 0  # dated 2026-06-15
    report = donations_json("2026-06-01", "2026-06-14")
    assert by_charity(report)["Community Trust"] == {"charity": "Community Trust", "donations": 2, "points": 200,
                                                     "value": "20.00"}  # D1 + D3, as before the reversal
    assert report["total_value"] == "25.00"  # 20.00 + 5.00


def test_donations_to_before_from_is_bad_usage(club):
    result = run("report", "donations", "-p", "club", "--from", "2026-06-30", "--to", "2026-06-01")
    assert result.exit_code == 2
    assert result.stdout == ""


# --------------------------------------------------------------------------- quote

QUOTE_SHOP = """\
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
max_points_per_txn = 200
exclude_categories = ["gift-cards"]

[[earn.multipliers]]
category = "skincare"
factor = "2"

[[earn.promotions]]
name = "Solstice"
starts = 2026-06-21
ends = 2026-06-21
factor = "1.5"

[[partners]]
code = "fleet"
name = "Fleet Rides"
points_per_unit = "2.5"
"""


@pytest.fixture
def quote_shop(tmp_path):
    assert run("program", "apply", write(tmp_path / "shop.toml", QUOTE_SHOP)).exit_code == 0
    assert run("member", "add", "-p", "shop", "M1").exit_code == 0
    return tmp_path


def quoted(*args):
    result = run("quote", "-p", "shop", "M1", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def decimals(breakdown, *keys):
    return tuple(Decimal(breakdown[k]) for k in keys)


def test_quote_plain_rate_rounds_down(quote_shop):
    q = quoted("12.99")
    assert q["points"] == 12  # 12.99 x 1 = 12.99 -> floor 12
    assert (q["program"], q["member"], q["amount"], q["category"], q["partner"]) == ("shop", "M1", "12.99", None, None)
    assert q["at"] == "2026-06-15T12:00:00-04:00"  # now, in New York
    assert q["no_points_because"] is None
    b = q["breakdown"]
    assert decimals(b, "points_per_unit", "base", "category_factor", "promotion_factor", "tier_factor", "unrounded") == (
        Decimal(1), Decimal("12.99"), Decimal(1), Decimal(1), Decimal(1), Decimal("12.99"))
    assert (b["promotion"], b["rounding"], b["cap"], b["capped"]) == (None, "floor", 200, False)


@pytest.mark.citus
def test_quote_category_multiplier_and_promotion_on_its_day(quote_shop):
    q = quoted("20.15", "--category", "skincare", "--at", "2026-06-21T10:00")
    assert q["points"] == 60  # 20.15 x 1 x 2 x 1.5 = 60.45 -> floor 60
    b = q["breakdown"]
    assert decimals(b, "base", "category_factor", "promotion_factor", "unrounded") == (
        Decimal("20.15"), Decimal(2), Decimal("1.5"), Decimal("60.45"))
    assert b["promotion"] == "Solstice"


@pytest.mark.parametrize("at", ["2026-06-20T23:59:59", "2026-06-22T00:00:00", "2026-06-22T04:00:00+00:00"])
def test_quote_promotion_is_off_outside_its_day(quote_shop, at):
    q = quoted("20.15", "--category", "skincare", "--at", at)
    assert q["points"] == 40  # 20.15 x 2 = 40.30 -> floor 40, no promotion
    assert q["breakdown"]["promotion"] is None
    assert Decimal(q["breakdown"]["promotion_factor"]) == 1


def test_quote_promotion_day_is_the_local_day(quote_shop):
    q = quoted("20.15", "--category", "skincare", "--at", "2026-06-22T03:59:59+00:00")  # 23:59:59 on the 21st, EDT
    assert q["points"] == 60  # 20.15 x 2 x 1.5 = 60.45 -> floor 60
    assert q["breakdown"]["promotion"] == "Solstice"


def test_quote_partner_rate(quote_shop):
    q = quoted("10.10", "--partner", "fleet")
    assert q["points"] == 25  # 10.10 x 2.5 = 25.25 -> floor 25
    assert q["partner"] == "fleet"
    b = q["breakdown"]
    assert decimals(b, "points_per_unit", "base", "unrounded") == (Decimal("2.5"), Decimal("25.25"), Decimal("25.25"))


def test_quote_below_min_spend_earns_nothing(quote_shop):
    q = quoted("4.99")  # 4.99 < min_spend 5.00
    assert q["points"] == 0
    assert "min_spend" in q["no_points_because"]
    assert quoted("5.00")["points"] == 5  # exactly min_spend earns: 5.00 x 1 = 5


def test_quote_excluded_category_earns_nothing(quote_shop):
    q = quoted("50.00", "--category", "gift-cards")
    assert q["points"] == 0
    assert "gift-cards" in q["no_points_because"]


def test_quote_cap(quote_shop):
    q = quoted("250.00")
    assert q["points"] == 200  # 250.00 x 1 = 250 > cap 200
    assert q["breakdown"]["capped"] is True
    assert q["breakdown"]["cap"] == 200
    assert Decimal(q["breakdown"]["unrounded"]) == Decimal(250)
    at_cap = quoted("200.99")
    assert (at_cap["points"], at_cap["breakdown"]["capped"]) == (200, False)  # 200.99 -> floor 200, not over the cap


def test_quote_writes_nothing(quote_shop, db_path):
    before = snapshot(db_path)
    quoted("20.15", "--category", "skincare", "--at", "2026-06-21T10:00")
    quoted("10.10", "--partner", "fleet")
    assert run("quote", "-p", "shop", "M1", "12.99").exit_code == 0
    assert snapshot(db_path) == before


def test_quote_unknown_partner_is_refused(quote_shop, db_path):
    before = snapshot(db_path)
    result = run("quote", "-p", "shop", "M1", "10.00", "--partner", "nope", "--format", "json")
    assert result.exit_code == 1
    assert "nope" in result.stderr
    assert result.stdout == ""
    assert snapshot(db_path) == before


@pytest.mark.parametrize("amount", ["12,50", "€12", "1e3", "12.345", "１２.50"])
def test_quote_bad_amount_is_bad_usage(quote_shop, amount):
    result = run("quote", "-p", "shop", "M1", amount, "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""


# --------------------------------------------------------------------------- bonus grant

GRANTS = (
    "member_id,points,reason,key\n"
    "M1,50,instagram post,ig-M1\n"          # M1 +50
    "M2,25,survey,survey-M2\n"              # M2 +25
    "C2,10,survey by card,card-C2\n"        # card C2 is M2: +10
    "M1,70,the same key again,ig-M1\n"      # key seen earlier in the file: duplicate
)


@pytest.fixture
def grant_shop(tmp_path):
    from tests.conftest import MINIMAL_PROGRAM

    assert run("program", "apply", write(tmp_path / "shop.toml", MINIMAL_PROGRAM)).exit_code == 0
    assert run("member", "add", "-p", "shop", "M1").exit_code == 0
    assert run("member", "add", "-p", "shop", "M2", "--card", "C2").exit_code == 0
    return tmp_path


def granted(path, *extra):
    result = run("bonus", "grant", "-p", "shop", path, "--format", "json", *extra)
    return result, json.loads(result.stdout)


def points(member):
    return json.loads(run("balance", "-p", "shop", member, "--format", "json").stdout)["points"]


@pytest.mark.citus
def test_bonus_grant_posts_each_key_once(grant_shop):
    path = write(grant_shop / "grants.csv", GRANTS)
    result, summary = granted(path)
    assert result.exit_code == 0, result.stderr
    assert summary == {"rows": 4, "granted": 3, "duplicates": 1, "rejected": 0,
                       "points_granted": 50 + 25 + 10, "reject_file": None, "dry_run": False}
    assert points("M1") == 50
    assert points("M2") == 25 + 10


@pytest.mark.citus
def test_bonus_grant_rerun_of_the_same_file_grants_nothing(grant_shop, db_path):
    path = write(grant_shop / "grants.csv", GRANTS)
    assert granted(path)[0].exit_code == 0
    before = snapshot(db_path)
    result, summary = granted(path)
    assert result.exit_code == 0
    assert summary == {"rows": 4, "granted": 0, "duplicates": 4, "rejected": 0, "points_granted": 0,
                       "reject_file": None, "dry_run": False}
    assert snapshot(db_path) == before
    assert (points("M1"), points("M2")) == (50, 35)  # unchanged: 50; 25 + 10


def test_bonus_grant_bad_rows_go_to_the_reject_file_with_line_numbers(grant_shop):
    path = write(grant_shop / "bad.csv",
                 "member_id,points,reason,key\n"
                 "M1,40,ok,k1\n"           # line 2: +40
                 "M9,10,who,k2\n"          # line 3: unknown member
                 "M1,abc,letters,k3\n"     # line 4: not a number
                 "M1,0,zero,k4\n"          # line 5: zero
                 "M1,-5,negative,k5\n"     # line 6: negative
                 "M1,5,no key,\n"          # line 7: empty key
                 "M1,１０,wide,k7\n"        # line 8: full-width digits, not 10
                 "M2,15,ok,k6\n")          # line 9: +15
    result, summary = granted(path)
    assert result.exit_code == 3
    reject_file = grant_shop / "bad.rejects.csv"
    assert summary == {"rows": 8, "granted": 2, "duplicates": 0, "rejected": 6, "points_granted": 40 + 15,
                       "reject_file": str(reject_file), "dry_run": False}
    with open(reject_file, newline="") as handle:
        header, *body = list(csv.reader(handle))
    # the file has its own `reason` column, so the rejection reason is `reject_reason`
    assert header == ["line", "reject_reason", "member_id", "points", "reason", "key"]
    assert [(r[0], r[2], r[3], r[5]) for r in body] == [
        ("3", "M9", "10", "k2"), ("4", "M1", "abc", "k3"), ("5", "M1", "0", "k4"), ("6", "M1", "-5", "k5"),
        ("7", "M1", "5", ""), ("8", "M1", "１０", "k7")]
    reasons = [r[1] for r in body]
    assert "M9" in reasons[0]
    assert all("points" in reason for reason in reasons[1:4])
    assert "key" in reasons[4]
    assert reasons[5] == "points '１０' is not a whole number"
    assert f"{path}:3:" in result.stderr
    assert (points("M1"), points("M2")) == (40, 15)


def test_bonus_grant_reject_file_columns_can_be_read_by_name(grant_shop):
    path = write(grant_shop / "bad.csv", "member_id,points,reason,key\n"
                                         "M9,10,survey,k2\n")  # line 2: unknown member
    result, summary = granted(path)
    assert (result.exit_code, summary["rejected"]) == (3, 1)
    with open(grant_shop / "bad.rejects.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert len(header) == len(set(header)), header
    with open(grant_shop / "bad.rejects.csv", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["line"], row["reject_reason"], row["reason"]) == ("2", "unknown member 'M9'", "survey")


def test_bonus_grant_dry_run_writes_nothing(grant_shop, db_path):
    path = write(grant_shop / "grants.csv", GRANTS)
    before = snapshot(db_path)
    result, summary = granted(path, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert summary == {"rows": 4, "granted": 3, "duplicates": 1, "rejected": 0,
                       "points_granted": 50 + 25 + 10, "reject_file": None, "dry_run": True}
    assert snapshot(db_path) == before
    assert (points("M1"), points("M2")) == (0, 0)
    # and the real run afterwards still grants everything
    result, summary = granted(path)
    assert (summary["granted"], summary["points_granted"]) == (3, 85)  # 50 + 25 + 10


def test_a_grant_key_already_used_for_another_member_is_a_rejected_row(grant_shop):
    granted(write(grant_shop / "first.csv", "member_id,points,reason,key\nM1,50,post,camp-1\n"))
    result, summary = granted(write(grant_shop / "second.csv", "member_id,points,reason,key\n"
                                                               "M2,50,post,camp-1\n"      # line 2: M1's key
                                                               "M2,20,post,camp-2\n"      # line 3: granted
                                                               "M1,20,post,camp-2\n"))    # line 4: M2's key now
    assert result.exit_code == 3
    assert (summary["granted"], summary["duplicates"], summary["rejected"]) == (1, 0, 2)
    assert "second.csv:2: key 'camp-1' was already granted to another member" in result.stderr
    assert (points("M1"), points("M2")) == (50, 20)


def test_bonus_grant_of_an_absurd_number_of_points_is_a_rejected_row(grant_shop, db_path):
    result, summary = granted(write(grant_shop / "huge.csv", "member_id,points,reason,key\n"
                                                             "M1,99999999999999999999,oops,k1\n"))
    assert (result.exit_code, summary["granted"], summary["rejected"]) == (3, 0, 1)
    assert "one posting may carry" in result.stderr


def test_a_table_report_cannot_be_written_to_a_file(coalition):
    result = run("report", "partners", "-p", "coal", "--from", "2026-03-01", "--to", "2026-03-31", "-o", "p.txt")
    assert result.exit_code == 2 and result.stderr == "error: -o p.txt: a file takes --format json or csv\n"


def test_quote_a_basket_of_lines(quote_shop):
    # On Solstice (x1.5): skincare 10.15 x 2 x 1.5 = 30.45; makeup 5.45 x 1.5 = 8.175; gift cards earn nothing.
    # 38.625 -> floor 38, rounded once (line by line: 30 + 8 = 38 too; qualifying spend 15.60 >= min_spend).
    q = quoted("--line", "10.15:skincare", "--line", "5.45:makeup", "--line", "20.00:gift-cards",
               "--at", "2026-06-21T10:00")
    assert (q["points"], q["amount"], q["category"]) == (38, "35.60", None)
    assert [(x["category"], x["earns"], Decimal(x["unrounded"])) for x in q["breakdown"]["lines"]] == [
        ("skincare", True, Decimal("30.45")), ("makeup", True, Decimal("8.175")), ("gift-cards", False, Decimal(0))]
    # 4.00 of makeup with 20.00 of gift cards: 4.00 qualifies, below min_spend 5.00
    assert quoted("--line", "4.00:makeup", "--line", "20.00:gift-cards")["no_points_because"] == "below min_spend"
    table = run("quote", "-p", "shop", "M1", "--line", "10.15:skincare", "--line", "5.45:makeup")
    assert "line skincare" in table.stdout and "line makeup" in table.stdout
    both = run("quote", "-p", "shop", "M1", "12.00", "--line", "5.00:makeup")
    assert (both.exit_code, both.stderr) == (2, "error: give an AMOUNT or --line options, not both\n")
    assert run("quote", "-p", "shop", "M1", "--line", "5.00:makeup", "--category", "skincare").exit_code == 2
    odd = run("quote", "-p", "shop", "M1", "--line", "10:a:b")  # and `:a:` stays text, not an emoji
    assert (odd.exit_code, odd.stderr) == (2, "error: --line '10:a:b': expected AMOUNT[:CATEGORY]\n")
    assert quoted("$1,149.00")["points"] == 200  # written as an export writes it; 1149 capped at 200


def test_partner_report_at_80_columns_gives_every_figure_whole(coalition, monkeypatch):
    """Nine columns do not fit 80 with their words whole: one block per partner, figures as in FLEET and CAFE."""
    import_txns(coalition, "march.csv", PARTNER_ROWS)
    monkeypatch.setenv("COLUMNS", "80")
    result = run("report", "partners", "-p", "coal", "--from", "2026-03-01", "--to", "2026-03-31")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Partners of coal, 2026-03-01 to 2026-03-31 (USD)\n"
        "\n"
        "partner            cafe\n" "name               =Cafe Corner\n" "purchases          2\n"
        "refunds            0\n" "spend              19.44\n" "points issued      58\n" "points clawed back 0\n"
        "net points         58\n" "value              0.95\n"
        "\n"
        "partner            fleet\n" "name               Fleet Rides\n" "purchases          2\n"
        "refunds            1\n" "spend              55.75\n" "points issued      131\n" "points clawed back 20\n"
        "net points         111\n" "value              1.71\n")
    monkeypatch.setenv("COLUMNS", "120")  # wide enough: a table, each figure right-aligned in its cell
    wide = run("report", "partners", "-p", "coal", "--from", "2026-03-01", "--to", "2026-03-31").stdout
    assert "│ fleet   │ Fleet Rides  │         2 │       1 │ 55.75 │" in wide
    assert max(len(line) for line in wide.splitlines()) <= 120
