"""The accounting arithmetic without a database: rounding that adds up, breakage, movements, journals."""

from datetime import date
from decimal import Decimal

from loyaltyctl.core.accounting import (
    AGE_BUCKETS,
    NETTED_BUCKET,
    Breakage,
    DayTotals,
    Movement,
    aged,
    day_movements,
    estimated_breakage,
    journal,
    lot_buckets,
    opening_entry,
    program_breakage,
    rollforward,
    split_value,
)
from loyaltyctl.core.kpis import Kpis, Month, bar, months_ending, rate
from loyaltyctl.model import Accounting

JAN = date(2026, 1, 31)


def test_split_value_adds_up_to_the_value_of_the_total():
    # 3 parts of 1 point at 0.005 USD: the total 3 x 0.005 = 0.015 -> 0.02 (half up).
    # Cumulative: 0.005 -> 0.01, 0.010 -> 0.01, 0.015 -> 0.02: parts 1, 0, 1 cent; rounding each alone gives 3.
    assert split_value([1, 1, 1], Decimal("0.005"), "USD") == [1, 0, 1]
    assert split_value([250, 0, 1000], Decimal("0.01"), "USD") == [250, 0, 1000]


def test_aging_shows_points_netted_against_debts_as_their_own_line():
    # Lots hold 700 + 300 = 1000, but one member holding 100 of them owes 150: outstanding is 900.
    buckets = aged(AGE_BUCKETS, [700, 300, 0, 0], 900, Decimal("0.10"), "USD")
    assert [(b.label, b.points, b.value) for b in buckets] == [
        ("0-90 days", 700, 7000), ("91-180 days", 300, 3000), ("181-365 days", 0, 0), ("over 365 days", 0, 0),
        (NETTED_BUCKET, -100, -1000)]
    assert [b.label for b in aged(AGE_BUCKETS, [900, 0, 0, 0], 900, Decimal("0.10"), "USD")] == list(AGE_BUCKETS)


def test_estimated_breakage_is_expired_over_redeemed_plus_expired():
    # 300 expired, 900 redeemed: 300 / 1200 = 0.25.
    assert estimated_breakage(900, 300, None).rate == Decimal("0.2500")
    # 1 / 3 = 0.33333... -> 0.3333 (four places, half up); 2 / 3 -> 0.6667.
    assert estimated_breakage(2, 1, None).rate == Decimal("0.3333")
    assert estimated_breakage(1, 2, None).rate == Decimal("0.6667")
    assert estimated_breakage(5, 0, None) == Breakage(Decimal("0.0000"), "estimated", 5, 0)


def test_an_estimate_from_no_redemption_falls_back_to_the_programs_rate_and_says_so():
    # one expiry and no redemption would be 100% breakage, nothing at all 0 / 0: neither is an estimate
    fallback = estimated_breakage(0, 40, Decimal("0.15"))
    assert (fallback.rate, fallback.basis) == (Decimal("0.15"), "program")
    assert fallback.description == ("the program's breakage_rate (too little data to estimate: "
                                    "0 redeemed and 40 expired over the trailing 12 months)")
    nothing = estimated_breakage(0, 0, None)
    assert (nothing.rate, nothing.basis) == (0, "none")
    assert nothing.description == ("none: the program sets no breakage_rate (too little data to estimate: "
                                   "0 redeemed and 0 expired over the trailing 12 months)")
    assert program_breakage(None).basis == "none" and program_breakage(Decimal("0.15")).rate == Decimal("0.15")


def test_day_movements_split_partner_donation_and_unposted_expiry():
    totals = DayTotals(
        by_kind={"earn": 500, "bonus": 50, "redeem": -300, "expire": -20, "clawback": -30, "adjust": -5,
                 "transfer_in": 40, "transfer_out": -40, "reverse": 120},
        partner_earned=200, partner_clawed=-10, donated=(-100, 1000), reversed_redemptions=100,
        reversed_donations=(0, 0), unposted_expired=-7)
    moved = {m.kind: (m.points, m.money) for m in day_movements(JAN, totals)}
    assert moved == {
        "earn": (300, 0),  # 500 earned, 200 of them at partners
        "partner_earn": (200, 0),
        "bonus": (50, 0),
        "redeem": (-200, 0),  # 300 redeemed, 100 of them donated
        "donate": (-100, 1000),
        "expire": (-27, 0),  # 20 posted + 7 not yet posted
        "clawback": (-20, 0),
        "partner_clawback": (-10, 0),
        "adjust": (-5, 0),
        "reverse": (20, 0),  # 120 reversed, 100 of it a redemption given back
        "reverse_redeem": (100, 0),
    }  # transfers net to zero and are left out


def _rolled(movements, opening=1000, opening_value="0.01", closing_value="0.01"):
    return rollforward(date(2026, 1, 1), JAN, "USD", opening, Decimal(opening_value), Decimal(closing_value),
                       movements, lambda day: Decimal("0.01") if day < date(2026, 1, 20) else Decimal(closing_value))


def test_rollforward_identity_in_points_and_money():
    result = _rolled([Movement(date(2026, 1, 5), "earn", 400), Movement(date(2026, 1, 9), "redeem", -150),
                      Movement(date(2026, 1, 9), "expire", -50), Movement(date(2026, 1, 12), "clawback", -20),
                      Movement(date(2026, 1, 15), "adjust", 10)])
    # 1000 + 400 - 150 - 50 - 20 + 10 = 1190 points; at 0.01: 10.00 + 4.00 - 1.50 - 0.50 - 0.20 + 0.10 = 11.90.
    assert result.points == {"issued": 400, "redeemed": 150, "expired": 50, "clawed_back": 20, "adjusted": 10}
    assert result.closing_points == 1190
    assert (result.opening_liability, result.closing_liability, result.revaluation) == (1000, 1190, 0)
    assert result.balances


def test_a_point_value_change_shows_as_revaluation():
    # Opening 1000 points at 0.01 = 10.00; 400 earned on 5 Jan at 0.01 = 4.00; from 20 Jan a point is worth 0.02,
    # so closing 1400 x 0.02 = 28.00; revaluation = 28.00 - 10.00 - 4.00 = 14.00.
    result = _rolled([Movement(date(2026, 1, 5), "earn", 400)], closing_value="0.02")
    assert (result.opening_liability, result.values["issued"], result.closing_liability) == (1000, 400, 2800)
    assert result.revaluation == 1400
    assert result.balances


def test_journal_postings_balance_and_use_the_program_accounts():
    accounts = Accounting(liability="Liabilities:Points", donations="Liabilities:Charity")
    result = _rolled([Movement(date(2026, 1, 5), "earn", 400), Movement(date(2026, 1, 6), "donate", -500, 600),
                      Movement(date(2026, 1, 7), "expire", -30)], closing_value="0.02")
    entries = journal(result, accounts)
    assert [(e.day, e.postings) for e in entries] == [
        (date(2026, 1, 5), (("Expenses:Loyalty:Points", 400), ("Liabilities:Points", -400))),
        # 500 points at 0.01 = 5.00 leave the liability; the charity is owed the reward's 6.00; 1.00 more is redemption cost.
        (date(2026, 1, 6), (("Liabilities:Points", 500), ("Expenses:Loyalty:Redemptions", 100),
                            ("Liabilities:Charity", -600))),
        (date(2026, 1, 7), (("Liabilities:Points", 30), ("Income:Loyalty:Breakage", -30))),
        # closing 1000 + 400 - 500 - 30 = 870 points at 0.02 = 17.40; 17.40 - 10.00 - (4.00 - 5.00 - 0.30) = 8.70.
        (JAN, (("Expenses:Loyalty:Points", 870), ("Liabilities:Points", -870))),
    ]
    assert all(sum(amount for _, amount in e.postings) == 0 for e in entries)


def test_a_journal_that_opens_a_book_starts_with_the_opening_liability_from_equity():
    accounts = Accounting(liability="Liabilities:Points", opening="Equity:Opening")
    result = _rolled([Movement(date(2026, 1, 5), "earn", 400)], closing_value="0.02")
    # Opening 1000 points at 0.01 = 10.00: equity debited, the liability credited, on the first day.
    opening = (date(2026, 1, 1), "opening balance of the liability", 1000,
               (("Equity:Opening", 1000), ("Liabilities:Points", -1000)))
    entries = journal(result, accounts, opening=True)
    assert (entries[0].day, entries[0].narration, entries[0].points, entries[0].postings) == opening
    assert entries[1:] == journal(result, accounts)
    # The liability account then holds the closing liability: 1400 points at 0.02 = 28.00 (a credit).
    assert sum(amount for e in entries for account, amount in e.postings if account == "Liabilities:Points") == -2800


def test_an_opening_of_points_owed_debits_the_liability_and_a_zero_opening_is_left_out():
    # Members owe 250 points net: -2.50 opening, so the liability is debited and equity credited.
    assert opening_entry(_rolled([], opening=-250), Accounting()).postings == (
        ("Liabilities:Loyalty:Points", 250), ("Equity:Opening-Balances", -250))
    assert opening_entry(_rolled([], opening=0), Accounting()) is None
    first = journal(_rolled([Movement(date(2026, 1, 5), "earn", 400)], opening=0), Accounting(), opening=True)[0]
    assert first.narration == "points earned on purchases"


def test_kpi_rates_and_months():
    assert rate(1, 3) == Decimal("0.3333") and rate(5, 0) is None
    assert months_ending(date(2026, 3, 15), 3) == [
        (date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 3, 1), date(2026, 3, 31))]
    assert (bar(0, 100, 40), bar(1, 1000, 40), bar(50, 100, 40), bar(100, 100, 40)) == (0, 1, 20, 40)
    k = Kpis(JAN, JAN, members=10, new_members=2, active_members=4, issued=1000, redeemed=300, expired=100,
             members_with_points=3, outstanding=1000, buyers=8, repeat_buyers=6, membership_payments=0,
             membership_revenue=0, tiers=(), months=(Month(JAN, 1000, 300),))
    # 300 / 1000; 100 / 400; 1000 / 3 = 333.33; 6 / 8.
    assert (k.redemption_rate, k.breakage_rate, k.average_balance, k.repeat_purchase_rate, k.active_rate) == (
        Decimal("0.3"), Decimal("0.25"), Decimal("333.33"), Decimal("0.75"), Decimal("0.4"))


def test_lot_buckets_sort_held_points_by_age_and_by_time_to_expiry():
    # Age limits newest first (issued at or after 300, at or after 200), expiry limits soonest first
    # (before 400, before 500). Lots: (held, issued at, expires at).
    lots = [(10, 350, 450), (20, 250, 390), (30, 100, None), (40, 300, 600), (5, 199, 500)]
    by_age, by_expiry = lot_buckets(lots, [300, 200], [400, 500])
    assert by_age == [10 + 40, 20, 30 + 5]
    assert by_expiry == [20, 10, 40 + 5, 30]  # before 400, before 500, later, never
