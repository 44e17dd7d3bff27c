"""The analytics figures from plain counts: rounding, nulls, months and cohorts (SPEC.md "Program analytics")."""

from datetime import date
from decimal import Decimal

from loyaltyctl.core.analytics import (AnalyticsFacts, MonthFacts, PointsFlow, Purchases, analytics, cohort,
                                       cohort_months, money_average, months_in, points_flow)


def test_an_average_of_money_rounds_half_away_from_zero_to_the_minor_unit():
    assert money_average(1001, 2) == 501  # 5.005 -> 5.01
    assert money_average(-1001, 2) == -501
    assert money_average(1000, 3) == 333
    assert money_average(5, 0) is None


def test_the_months_of_a_range_are_clipped_to_it():
    assert months_in(date(2026, 1, 15), date(2026, 3, 10)) == [
        (date(2026, 1, 15), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 10))]
    assert months_in(date(2026, 12, 31), date(2026, 12, 31)) == [(date(2026, 12, 31), date(2026, 12, 31))]


def test_cohorts_are_the_twelve_months_ending_with_the_last_days_month():
    months = cohort_months(date(2026, 3, 5))
    assert (months[0], months[-1], len(months)) == (date(2025, 4, 1), date(2026, 3, 1), 12)


def test_retention_is_a_share_of_the_joiners_per_month_and_null_after_the_last_month():
    march = date(2026, 3, 1)
    buyers = {(march, date(2026, 3, 1)): 3, (march, date(2026, 5, 1)): 1, (march, date(2026, 2, 1)): 2}
    found = cohort(march, 3, buyers, date(2026, 5, 20))
    assert found.retention == (Decimal("1.0000"), Decimal("0.0000"), Decimal("0.3333")) + (None,) * 9


def test_points_issued_are_earn_bonus_and_action_and_expiries_given_back_net_out():
    flow = points_flow({"earn": 100, "bonus": 20, "action": 5, "adjust": 50, "redeem": -40, "expire": -30 + 4}, 10)
    assert flow == PointsFlow(issued=125, redeemed=40, expired=36)


def test_a_report_without_data_has_zeros_and_nulls_never_a_division_by_zero():
    day = date(2026, 1, 1)
    empty = analytics(AnalyticsFacts(day, day, 90, 0, 0, Purchases(), Purchases(), Purchases(), PointsFlow(), 0, 0,
                                     (MonthFacts(day, PointsFlow(), 0, 0, 0),), {}, {}))
    assert (empty.membership_rate, empty.member_sales_share, empty.repeat_customer_rate, empty.purchase_frequency,
            empty.active_rate, empty.churn_rate, empty.redemption_rate, empty.breakage_rate, empty.reward_usage_rate,
            empty.average_lifetime_sales) == (None,) * 10
    assert empty.average_order_value == (None, None) and empty.cohorts == ()
    assert empty.segments["non_members"].customers is None and empty.segments["redeemers"].customers == 0


def test_member_figures_add_both_member_segments():
    day = date(2026, 1, 1)
    redeemers = Purchases(purchases=3, purchased=9000, sales=8000, customers=2, repeat_customers=1, active=1,
                          earlier_active=2, churned=1, lifetime_sales=20000, lifetime_customers=2)
    others = Purchases(purchases=1, purchased=1001, sales=1001, customers=1, lifetime_sales=1001, lifetime_customers=1)
    walk_ins = Purchases(purchases=2, purchased=3000, sales=2500)
    report = analytics(AnalyticsFacts(day, day, 90, 5, 1, redeemers, others, walk_ins,
                                      PointsFlow(issued=300, redeemed=100, expired=30), 4, 1, (), {}, {}))
    assert (report.member_purchases, report.member_sales, report.purchasing_members) == (4, 9001, 3)
    assert report.membership_rate == Decimal("0.6667")  # 4 / 6
    assert report.member_sales_share == Decimal("0.7826")  # 9001 / 11501 = 0.782627
    assert report.average_order_value == (2500, 1500)  # 10001 / 4 = 2500.25
    assert (report.repeat_customer_rate, report.purchase_frequency) == (Decimal("0.3333"), Decimal("1.3333"))
    assert (report.active_rate, report.churn_rate) == (Decimal("0.2000"), Decimal("0.5000"))
    assert (report.redemption_rate, report.breakage_rate, report.reward_usage_rate) == (
        Decimal("0.3333"), Decimal("0.1000"), Decimal("0.2500"))
    assert report.average_lifetime_sales == 7000  # 21001 / 3 = 7000.33
    assert report.segments["redeemers"].purchase_frequency == Decimal("1.5000")
