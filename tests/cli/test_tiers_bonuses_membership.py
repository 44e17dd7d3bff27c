"""Tiers, signup/birthday/referral bonuses and paid membership, end to end with hand-worked points."""

import json

import pytest

from tests.conftest import query, run, snapshot, write

CLUB = """\
[program]
code = "club"
name = "Club"
currency = "USD"
timezone = "UTC"
point_value = "0.01"
effective_from = 2025-01-01

[earn]
points_per_unit = "1"
rounding = "floor"

[tiers]
basis = "spend"
window = "calendar-year"

[[tiers.levels]]
code = "member"
threshold = "0"

[[tiers.levels]]
code = "silver"
name = "Silver"
threshold = "500.00"
multiplier = "1.5"
perks = ["free shipping"]

[[tiers.levels]]
code = "luxe"
name = "Luxe"
threshold = "1500.00"
multiplier = "2"
perks = ["personal stylist"]

[bonuses]
signup = 50
birthday = 100
referral_referrer = 200
referral_referee = 100
referral_min_spend = "20.00"
"""
MEMBERS = "member_id,name,birthday,joined,referred_by\n"
TXNS = "txn_id,member_id,occurred_at,amount,refund_of\n"


def setup(tmp_path, members: str, program: str = CLUB) -> None:
    assert run("program", "apply", write(tmp_path / "p.toml", program)).exit_code == 0
    result = run("member", "import", "-p", "club", write(tmp_path / "m.csv", MEMBERS + members))
    assert result.exit_code == 0, result.stderr


def imported(tmp_path, rows: str, name: str = "t.csv") -> dict:
    result = run("txn", "import", "-p", "club", write(tmp_path / name, TXNS + rows), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def balance(member: str, as_of: str | None = None) -> dict:
    args = ["balance", "-p", "club", member, "--format", "json"] + (["--as-of", as_of] if as_of else [])
    return json.loads(run(*args).stdout)


def earned(member: str) -> list[int]:
    """Points of each earn entry, in order, read from the statement-free route: the database itself."""
    return [row[0] for row in query(
        "SELECT e.points FROM entries e JOIN members m ON m.program_id = e.program_id AND m.id = e.member"
        " WHERE m.member_id = ? AND e.kind = 'earn' ORDER BY e.effective_at", [member])]


@pytest.mark.citus
def test_one_member_upgrades_mid_import_and_lapses_when_the_window_ends(tmp_path, monkeypatch):
    monkeypatch.setenv("LOYALTYCTL_NOW", "2027-02-01T12:00:00+00:00")
    setup(tmp_path, "M1,Ann,,2025-01-01,\n")
    summary = imported(tmp_path, (
        "T1,M1,2025-03-01T10:00,300.00,\n"   # member x1: 300
        "T2,M1,2025-06-01T10:00,200.00,\n"   # still member (300 before it): 200; 500.00 reached exactly
        "T3,M1,2025-06-02T10:00,100.00,\n"   # silver x1.5: 150
        "T4,M1,2026-05-01T10:00,100.00,\n"   # silver held through 2026 (2025 total 600.00): 150
        "T5,M1,2027-01-10T10:00,100.00,\n"   # 2026 reached only 100.00, 2027 nothing yet: member x1: 100
    ))
    assert summary["points_earned"] == 300 + 200 + 150 + 150 + 100
    assert earned("M1") == [300, 200, 150, 150, 100]
    # signup 50 on 2025-01-01 + 900 earned
    assert balance("M1")["points"] == 950
    assert (balance("M1", "2025-06-01")["tier"], balance("M1", "2025-06-01")["next_tier"]["remaining"]) == (
        "silver", "1000.00")  # luxe at 1500.00, 500.00 spent in 2025
    end_2026 = balance("M1", "2026-12-31")
    assert (end_2026["tier"], end_2026["next_tier"]) == ("silver", {
        "code": "luxe", "name": "Luxe", "basis": "spend", "remaining": "1400.00", "perks": ["personal stylist"]})
    assert balance("M1", "2027-01-01")["tier"] == "member"
    shown = json.loads(run("member", "show", "-p", "club", "M1", "--format", "json").stdout)
    assert shown["tier_history"] == [
        {"on": "2025-06-01", "from": "member", "to": "silver"},
        {"on": "2027-01-01", "from": "silver", "to": "member"},
    ]
    # 2027 so far: 100.00 of silver's 500.00
    assert (shown["tier"], shown["next_tier"]["code"], shown["next_tier"]["remaining"]) == ("member", "silver", "400.00")


def test_a_refund_takes_back_tier_spend_too(tmp_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\n")
    imported(tmp_path, (
        "T1,M1,2026-01-05T10:00,600.00,\n"    # 600, then silver
        "T2,M1,2026-01-06T10:00,-200.00,T1\n"  # claws back 200; spend 400.00: member again
        "T3,M1,2026-01-07T10:00,100.00,\n"    # member x1: 100
    ))
    assert earned("M1") == [600, 100]
    assert balance("M1")["points"] == 50 + 600 - 200 + 100


def test_manual_earn_goes_through_the_tier_multiplier(tmp_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\n")
    imported(tmp_path, "T1,M1,2026-01-05T10:00,500.00,\n")
    result = run("earn", "-p", "club", "M1", "15", "--reason", "missed scan", "--at", "2026-02-01", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["entries"][0]["points"] == 22  # 15 x 1.5 = 22.5, floor
    assert "silver tier: 15 x 1.5 = 22 points" in result.stderr


def test_signup_bonus_is_posted_once_effective_on_the_join_day(tmp_path):
    setup(tmp_path, "M1,Ann,,2026-03-01,\nM2,Bob,,,\n")  # M2 joins today, 2026-06-15
    assert (balance("M1", "2026-02-28")["points"], balance("M1", "2026-03-01")["points"]) == (0, 50)
    assert balance("M2")["points"] == 50
    again = run("member", "import", "-p", "club", tmp_path / "m.csv", "--format", "json")
    assert json.loads(again.stdout)["signup_bonus_points"] == 0
    added = run("member", "add", "-p", "club", "M3", "--format", "json")
    assert json.loads(added.stdout)["signup_bonus_points"] == 50
    assert balance("M1")["points"] == 50


@pytest.mark.citus
def test_birthday_bonus_once_per_year_with_leap_day_birthdays_on_28_february(tmp_path):
    setup(tmp_path, (
        "B1,Leap,2000-02-29,2025-01-01,\n"
        "B2,Feb28,1990-02-28,2025-01-01,\n"
        "B3,March,1985-03-01,2025-01-01,\n"
        "B4,Late,1991-02-28,2027-03-01,\n"   # joins after the birthday: not paid in 2027
    ))
    first = json.loads(run("bonus", "birthday", "-p", "club", "--date", "2027-02-28", "--format", "json").stdout)
    assert first == {"program": "club", "date": "2027-02-28", "members": 2, "points": 200, "already_paid": 0}
    again = json.loads(run("bonus", "birthday", "-p", "club", "--date", "2027-02-28", "--format", "json").stdout)
    assert (again["members"], again["points"], again["already_paid"]) == (0, 0, 2)
    leap_year = json.loads(run("bonus", "birthday", "-p", "club", "--date", "2028-02-28", "--format", "json").stdout)
    assert leap_year["members"] == 2  # B2 and B4; B1 waits for the 29th
    leap_day = json.loads(run("bonus", "birthday", "-p", "club", "--date", "2028-02-29", "--format", "json").stdout)
    assert leap_day["members"] == 1
    # B1: signup 50 + 100 (2027) + 100 (2028); the 2027 bonus is effective from the start of 28 February
    assert balance("B1", "2027-02-27")["points"] == 50
    assert balance("B1", "2028-02-29")["points"] == 250


def test_birthday_without_a_birthday_bonus_posts_nothing_and_says_so(tmp_path):
    setup(tmp_path, "B1,Ann,1990-06-15,2025-01-01,\n", CLUB.replace("birthday = 100\n", ""))
    result = run("bonus", "birthday", "-p", "club")
    assert result.exit_code == 0
    assert "club has no birthday bonus on 2026-06-15" in result.stderr


@pytest.mark.citus
def test_referral_bonuses_on_the_first_qualifying_purchase_and_a_refund_keeps_them(tmp_path):
    setup(tmp_path, "R1,Referrer,,2025-01-01,\nR2,Friend,,2025-01-01,R1\n")
    rows = (
        "T1,R2,2026-01-05T10:00,15.00,\n"     # below referral_min_spend 20.00: 15, no bonus yet
        "T2,R2,2026-01-06T10:00,25.00,\n"     # qualifies: 25, R2 +100, R1 +200
        "T3,R2,2026-01-07T10:00,30.00,\n"     # 30, bonuses already paid
        "T4,R2,2026-01-08T10:00,-25.00,T2\n"  # claws back T2's own 25 only
    )
    summary = imported(tmp_path, rows)
    assert (summary["points_earned"], summary["points_clawed_back"], summary["bonus_points"]) == (70, 25, 300)
    assert balance("R2")["points"] == 50 + 15 + 25 + 100 + 30 - 25
    assert balance("R1")["points"] == 50 + 200
    rerun = imported(tmp_path, rows)
    assert (rerun["duplicates"], rerun["bonus_points"]) == (4, 0)
    more = imported(tmp_path, "T5,R2,2026-02-01T10:00,50.00,\n", "more.csv")
    assert more["bonus_points"] == 0
    assert balance("R1")["points"] == 250


COOP = CLUB.replace('code = "club"', 'code = "club"').split("[tiers]")[0] + """
[membership]
fee = "20.00"
term = "annual"
required_to_earn = true
"""


def test_annual_membership_that_lapses_mid_year_stops_earning(tmp_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\n", COOP)
    paid = run("member", "pay", "-p", "club", "M1", "--at", "2025-03-10T09:00", "--format", "json")
    assert paid.exit_code == 0, paid.stderr
    assert json.loads(paid.stdout) | {"paid_at": None} == {
        "program": "club", "member": "M1", "duplicate": False, "paid_at": None, "fee": "20.00", "term": "annual",
        "valid_from": "2025-03-10", "valid_through": "2026-03-09"}
    summary = imported(tmp_path, (
        "T1,M1,2025-03-09T10:00,50.00,\n"    # the day before paying: nothing
        "T2,M1,2025-03-10T08:00,50.00,\n"    # paid later that day, valid from its start: 50
        "T3,M1,2026-03-09T23:00,10.00,\n"    # last day of the term: 10
        "T4,M1,2026-03-10T10:00,40.00,\n"    # lapsed: nothing
    ))
    assert (summary["points_earned"], summary["earned_nothing"], summary["without_membership"]) == (60, 2, 2)
    refused = run("earn", "-p", "club", "M1", "5", "--reason", "goodwill", "--at", "2026-03-15")
    assert refused.exit_code == 1 and "no valid membership on 2026-03-15" in refused.stderr


@pytest.mark.citus
def test_renewals_extend_the_term_and_fees_add_up_in_member_show(tmp_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\n", COOP)
    for when in ("2025-03-10", "2026-03-20", "2026-06-01"):  # the last renews early: from 2027-03-20
        assert run("member", "pay", "-p", "club", "M1", "--at", when).exit_code == 0
    shown = json.loads(run("member", "show", "-p", "club", "M1", "--format", "json").stdout)["membership"]
    assert (shown["valid"], shown["valid_through"], shown["fees_paid"]) == (True, "2027-03-19", "60.00")
    assert [(p["valid_from"], p["valid_through"]) for p in shown["payments"]] == [
        ("2025-03-10", "2026-03-09"), ("2026-03-20", "2027-03-19"), ("2027-03-20", "2028-03-19")]


def test_membership_payment_is_idempotent_by_key_and_refused_where_not_sold(tmp_path, db_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\n", COOP)
    assert run("member", "pay", "-p", "club", "M1", "--key", "till-1").exit_code == 0
    again = run("member", "pay", "-p", "club", "M1", "--key", "till-1", "--format", "json")
    assert json.loads(again.stdout)["duplicate"] is True
    shown = json.loads(run("member", "show", "-p", "club", "M1", "--format", "json").stdout)
    assert shown["membership"]["fees_paid"] == "20.00"
    assert run("program", "apply", write(tmp_path / "p.toml", CLUB)).exit_code == 0  # a version without membership
    before = snapshot(db_path)
    refused = run("member", "pay", "-p", "club", "M1")
    assert refused.exit_code == 1 and "has no paid membership" in refused.stderr
    assert snapshot(db_path) == before


def test_a_lifetime_membership_is_paid_once(tmp_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\n", COOP.replace('term = "annual"', 'term = "lifetime"'))
    assert run("member", "pay", "-p", "club", "M1").exit_code == 0
    second = run("member", "pay", "-p", "club", "M1")
    assert (second.exit_code, second.stderr) == (1, "error: member 'M1' already holds a lifetime membership\n")


def test_a_referral_needs_a_purchase_that_could_earn(tmp_path):
    with_referrals = COOP.replace("[membership]", '[bonuses]\nreferral_referrer = 200\nreferral_referee = 100\n'
                                  'referral_min_spend = "20.00"\n\n[membership]')
    setup(tmp_path, "R1,Referrer,,2025-01-01,\nR2,Friend,,2025-01-01,R1\n", with_referrals)
    unpaid = imported(tmp_path, "T1,R2,2026-01-05T10:00,50.00,\n")  # R2 has no membership: earns nothing
    assert (unpaid["without_membership"], unpaid["bonus_points"]) == (1, 0)
    assert run("member", "pay", "-p", "club", "R2", "--at", "2026-01-06").exit_code == 0
    paid = imported(tmp_path, "T2,R2,2026-01-07T10:00,50.00,\n", "later.csv")
    assert (paid["points_earned"], paid["bonus_points"]) == (50, 300)


def test_membership_payments_are_recorded_in_date_order(tmp_path, db_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\n", COOP)
    assert run("member", "pay", "-p", "club", "M1", "--at", "2026-03-01").exit_code == 0
    before = snapshot(db_path)
    backdated = run("member", "pay", "-p", "club", "M1", "--at", "2025-06-01")
    assert backdated.exit_code == 1
    assert "has a payment recorded on 2026-03-01; record payments in date order" in backdated.stderr
    assert snapshot(db_path) == before


def test_absurdly_large_points_and_amounts_are_refused_not_crashed_on(tmp_path, db_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\n")
    before = snapshot(db_path)
    earn = run("earn", "-p", "club", "M1", "9999999999999", "--reason", "x")
    assert earn.exit_code == 2 and "one posting may carry" in earn.stderr
    assert snapshot(db_path) == before
    result = run("txn", "import", "-p", "club", write(tmp_path / "big.csv", TXNS + "T1,M1,2026-01-05,99999999999999999.99,\n"))
    assert result.exit_code == 3 and "too large for one amount" in result.stderr


BONUSES_LATER = CLUB.replace('referral_min_spend = "20.00"\n', 'referral_min_spend = "20.00"\nanniversary = 30\n'
                                                                 'first_purchase = 25\n')


def test_anniversary_bonus_on_the_join_day_of_later_years_once_a_year(tmp_path):
    setup(tmp_path, (
        "A1,Spring,,2025-03-15,\n"
        "A2,Leap,,2024-02-29,\n"
        "A3,Today,,2026-03-15,\n"    # joins on the day: their first anniversary is next year
        "A4,Other,,2025-03-16,\n"
    ), BONUSES_LATER)

    def anniversary(day: str) -> dict:
        result = run("bonus", "anniversary", "-p", "club", "--date", day, "--format", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    assert anniversary("2026-03-15") == {"program": "club", "date": "2026-03-15", "members": 1, "points": 30,
                                         "already_paid": 0}
    assert (anniversary("2026-03-15")["members"], anniversary("2026-03-15")["already_paid"]) == (0, 1)
    assert anniversary("2027-03-15")["members"] == 2  # A1's second and A3's first
    assert anniversary("2026-02-28")["members"] == 1  # A2 joined on 29 February: paid on the 28th in 2026
    assert anniversary("2028-02-28")["members"] == 0 and anniversary("2028-02-29")["members"] == 1
    # A1: signup 50 (2025-03-15) + 30 (2026) + 30 (2027), effective from the start of the day
    assert balance("A1", "2026-03-14")["points"] == 50
    assert balance("A1", "2027-03-15")["points"] == 110
    keys = {k for (k,) in query("SELECT key FROM entries WHERE reason LIKE 'anniversary bonus%'")}
    assert keys == {"anniversary:2026:A1", "anniversary:2027:A1", "anniversary:2027:A3", "anniversary:2026:A2",
                    "anniversary:2028:A2"}
    assert run("program", "apply", write(tmp_path / "p2.toml", CLUB.replace(
        "effective_from = 2025-01-01", "effective_from = 2029-01-01"))).exit_code == 0  # the bonus dropped
    without = run("bonus", "anniversary", "-p", "club", "--date", "2029-03-15")
    assert (without.exit_code, without.stderr) == (0, "club has no anniversary bonus on 2029-03-15 "
                                                      "([bonuses] anniversary); nothing posted\n")


def test_first_purchase_bonus_once_on_the_first_purchase_that_earns(tmp_path):
    setup(tmp_path, "F1,First,,2025-01-01,\nF2,Second,,2025-01-01,\n",
          BONUSES_LATER.replace("[earn]\n", '[earn]\nmin_spend = "5.00"\n'))
    # F1: T1 4.00 is below min_spend (earns nothing, no bonus); T2 10.00 earns 10 + the bonus 25; T3 earns 7.
    # F2: T4 30.00 earns 30 + 25.
    summary = imported(tmp_path, ("T1,F1,2026-01-05T10:00,4.00,\n" "T2,F1,2026-01-06T10:00,10.00,\n"
                                  "T3,F1,2026-01-07T10:00,7.00,\n" "T4,F2,2026-01-08T10:00,30.00,\n"))
    assert (summary["points_earned"], summary["bonus_points"]) == (10 + 7 + 30, 25 + 25)
    assert balance("F1", "2026-01-05")["points"] == 50  # the signup bonus only
    assert balance("F1", "2026-01-06")["points"] == 50 + 10 + 25
    assert balance("F1", "2026-01-07")["points"] == 50 + 10 + 25 + 7
    # a later file: F1 already had a first purchase; the bonus is paid once
    later = imported(tmp_path, "T5,F1,2026-02-01T10:00,12.00,\n", "t2.csv")
    assert (later["points_earned"], later["bonus_points"]) == (12, 0)
    assert query("SELECT count(*) FROM entries WHERE key LIKE 'first-purchase:%'") == [(2,)]


def test_a_first_purchase_bonus_added_later_goes_only_to_members_who_never_earned(tmp_path):
    setup(tmp_path, "F1,Old,,2025-01-01,\nF2,New,,2025-01-01,\n")
    imported(tmp_path, "T1,F1,2025-06-01T10:00,10.00,\n")
    assert run("program", "apply", write(tmp_path / "p2.toml", BONUSES_LATER.replace(
        "effective_from = 2025-01-01", "effective_from = 2026-01-01"))).exit_code == 0
    summary = imported(tmp_path, "T2,F1,2026-02-01T10:00,10.00,\nT3,F2,2026-02-01T11:00,10.00,\n", "t2.csv")
    assert summary["bonus_points"] == 25  # F2's first purchase; F1 earned from a purchase in 2025


LIMITED = CLUB.replace('[earn]\npoints_per_unit = "1"\n', '[earn]\npoints_per_unit = "1"\nmax_points_per_day = 50\n'
                                                          'max_points_per_month = 120\n').split("[tiers]")[0]


@pytest.mark.citus
def test_purchases_earn_up_to_the_members_daily_and_monthly_limits(tmp_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\nM2,Bo,,2025-01-01,\n", LIMITED)
    # M1 on 2 March: T1 30 (30 that day), T2 40 -> 20 (the day's 50), T3 10 -> 0; 3 March T4 45 (95 in March);
    # 4 March T5 40 -> 25 (March's 120); 1 April T6 40 (a new month). M2: T7 60 -> 50 (the day's).
    summary = imported(tmp_path, (
        "T1,M1,2026-03-02T10:00,30.00,\n" "T2,M1,2026-03-02T12:00,40.00,\n" "T3,M1,2026-03-02T15:00,10.00,\n"
        "T4,M1,2026-03-03T09:00,45.00,\n" "T5,M1,2026-03-04T09:00,40.00,\n" "T6,M1,2026-04-01T09:00,40.00,\n"
        "T7,M2,2026-03-02T10:00,60.00,\n"))
    assert (summary["points_earned"], summary["limited"], summary["earned_nothing"]) == (160 + 50, 4, 1)
    assert earned("M1") == [30, 20, 45, 25, 40] and earned("M2") == [50]
    # a later file: 1 April's 40 is read back from the ledger, so T8 earns what is left of that day, 10
    later = imported(tmp_path, "T8,M1,2026-04-01T18:00,20.00,\n", "t2.csv")
    assert (later["points_earned"], later["limited"]) == (10, 1)

    def quote(at: str, amount: str) -> dict:
        result = run("quote", "-p", "club", "M1", amount, "--at", at, "--format", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    month_full = quote("2026-03-04T12:00", "10.00")
    assert (month_full["points"], month_full["no_points_because"]) == (0, "max_points_per_month reached")
    assert month_full["breakdown"]["limits"] == {"per_day": 50, "per_month": 120, "earned_today": 25,
                                                 "earned_this_month": 120, "limited_by": "max_points_per_month"}
    assert quote("2026-04-02T12:00", "10.00")["points"] == 10  # April: 50 of 120 earned, nothing on the 2nd
    table = run("quote", "-p", "club", "M1", "10.00", "--at", "2026-04-01T20:00").stdout
    assert "daily limit" in table and "50 (50 already earned that day)" in table


def test_a_purchase_imported_after_later_ones_of_its_day_still_finds_them(tmp_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\n", LIMITED)
    # one file, out of order: 15:00 earns 40, then 10:00 finds the day's 40 and earns 10 (the day's 50)
    first = imported(tmp_path, "T1,M1,2026-03-02T15:00,40.00,\nT2,M1,2026-03-02T10:00,40.00,\n")
    assert (first["points_earned"], first["limited"]) == (50, 1)
    # another file, earlier still that day: nothing left of the day
    later = imported(tmp_path, "T3,M1,2026-03-02T08:00,30.00,\n", "t2.csv")
    assert (later["points_earned"], later["limited"]) == (0, 1)
    # three rows with one date and no time share an instant: 40, 10, 0
    same = imported(tmp_path, "T4,M1,2026-03-05,40.00,\nT5,M1,2026-03-05,40.00,\nT6,M1,2026-03-05,40.00,\n", "t3.csv")
    assert (same["points_earned"], same["limited"]) == (50, 2)


def test_points_earned_by_hand_count_toward_the_limits_and_are_refused_over_them(tmp_path):
    setup(tmp_path, "M1,Ann,,2025-01-01,\n", LIMITED)
    # limits 50 a day, 120 a month. By hand on 2 March: 30, then 25 would make 55 (refused, nothing written),
    # 20 makes the day's 50; a purchase of 10.00 that day then earns nothing (the day is full).
    def earn(points: int, at: str):
        return run("earn", "-p", "club", "M1", str(points), "--reason", "goodwill", "--at", at)

    assert earn(30, "2026-03-02T09:00").exit_code == 0
    over = earn(25, "2026-03-02T10:00")
    assert (over.exit_code, over.stderr) == (1, "error: max_points_per_day is 50 points: member 'M1' earned 30 on "
                                                "2026-03-02 already, and 25 more would go over it\n")
    assert earn(20, "2026-03-02T11:00").exit_code == 0
    summary = imported(tmp_path, "T1,M1,2026-03-02T12:00,10.00,\n")
    assert (summary["points_earned"], summary["limited"]) == (0, 1)
    # 3 and 4 March by hand: 50 and 20 (the month's 120); then 1 more in March is refused by the month's limit
    assert earn(50, "2026-03-03T09:00").exit_code == 0 and earn(20, "2026-03-04T09:00").exit_code == 0
    month = earn(1, "2026-03-05T09:00")
    assert (month.exit_code, month.stderr) == (1, "error: max_points_per_month is 120 points: member 'M1' earned "
                                                  "120 in 2026-03 already, and 1 more would go over it\n")
    assert earned("M1") == [30, 20, 50, 20]


@pytest.mark.parametrize("limits, message", [
    ("max_points_per_day = 0", "earn.max_points_per_day: must be greater than 0"),
    ("max_points_per_month = -5", "earn.max_points_per_month: must not be negative, got -5"),
    ("max_points_per_day = 200\nmax_points_per_month = 100", "earn.max_points_per_day: 200 is above "
                                                             "max_points_per_month 100"),
])
def test_limits_that_cannot_be_met_are_refused(tmp_path, limits, message):
    path = write(tmp_path / "p.toml", CLUB.replace('[earn]\npoints_per_unit = "1"\n',
                                                   f'[earn]\npoints_per_unit = "1"\n{limits}\n'))
    result = run("program", "validate", path)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
