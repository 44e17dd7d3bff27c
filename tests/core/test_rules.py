"""Earn rules with hand-worked figures."""

from datetime import date
from decimal import Decimal

from loyaltyctl.core.rules import EarnRules, Line, MemberState, Purchase
from loyaltyctl.formats.program_toml import parse_program

BASE = """\
[program]
code = "shop"
name = "Shop"
currency = "USD"
timezone = "UTC"
point_value = "0.01"
[earn]
"""
DAY = date(2026, 5, 5)


def rules(earn: str, extra: str = "") -> EarnRules:
    return EarnRules(parse_program(BASE + earn + extra))


def one(amount: int, day: date = DAY, category: str = "", partner: str = "") -> Purchase:
    """A purchase of one line."""
    return Purchase((Line(amount, category),), day, partner)


def points(r: EarnRules, amount: int, **kw) -> int:
    return r.earn_points(one(amount, kw.pop("day", DAY), **kw)).points


def test_points_per_unit_with_each_rounding():
    # 12.50 x 1.5 = 18.75
    assert points(rules('points_per_unit = "1.5"\nrounding = "floor"\n'), 1250) == 18
    assert points(rules('points_per_unit = "1.5"\nrounding = "round"\n'), 1250) == 19
    assert points(rules('points_per_unit = "1.5"\nrounding = "ceil"\n'), 1250) == 19
    # 12.30 x 1.5 = 18.45: round half-up gives 18, ceil 19
    assert points(rules('points_per_unit = "1.5"\nrounding = "round"\n'), 1230) == 18
    assert points(rules('points_per_unit = "1.5"\nrounding = "ceil"\n'), 1230) == 19
    # exactly half rounds up: 12.30 x 2.5 = 30.75 -> 31; 0.50 x 1 = 0.5 -> 1
    assert points(rules('points_per_unit = "1"\nrounding = "round"\n'), 50) == 1


def test_cashback_ten_percent_as_ten_points_per_unit():
    assert points(rules('points_per_unit = "10"\n'), 4999) == 499  # 49.99 x 10 = 499.9, floor


def test_min_spend_and_excluded_categories_earn_nothing():
    r = rules('points_per_unit = "1"\nmin_spend = "5.00"\nexclude_categories = ["gift-cards"]\n')
    assert points(r, 499) == 0
    assert r.earn_points(one(499, DAY)).no_points_because == "below min_spend"
    assert points(r, 500) == 5
    assert r.earn_points(one(9000, DAY, "gift-cards")).no_points_because == "category 'gift-cards' earns no points"


def test_points_per_visit_is_added_before_multipliers():
    r = rules('points_per_unit = "0"\npoints_per_visit = "1"\nmin_spend = "3.00"\n',
              '[[earn.multipliers]]\ncategory = "beans"\nfactor = "2"\n')
    assert points(r, 450, category="coffee") == 1
    assert points(r, 1800, category="beans") == 2
    assert points(r, 299, category="coffee") == 0


def test_category_multiplier_promotion_and_tier_stack_with_one_rounding():
    r = rules(
        'points_per_unit = "1"\nrounding = "floor"\n',
        '[[earn.multipliers]]\ncategory = "skincare"\nfactor = "2"\n'
        '[[earn.promotions]]\nname = "weekend"\nstarts = 2026-05-01\nends = 2026-05-10\nfactor = "1.5"\n'
        '[[earn.promotions]]\nname = "skin week"\nstarts = 2026-05-05\nends = 2026-05-05\nfactor = "3"\ncategories = ["skincare"]\n',
    )
    # 10.10 x 2 (skincare) x 3 (largest active promotion for skincare) x 1.25 (tier) = 75.75 -> 75
    earning = r.earn_points(one(1010, DAY, "skincare"), MemberState(tier="silver", tier_multiplier=Decimal("1.25")))
    assert (earning.points, earning.promotion, earning.unrounded) == (75, "skin week", Decimal("75.7500"))
    # makeup on the same day: only "weekend" applies: 10.10 x 1.5 = 15.15 -> 15
    assert points(r, 1010, category="makeup") == 15
    # outside both windows: 10.10 -> 10
    assert points(r, 1010, category="makeup", day=date(2026, 5, 11)) == 10
    # rounding once: 0.30 x 2 x 1.5 = 0.9 -> 0 (rounding each step would not give the same)
    assert points(r, 30, category="skincare", day=date(2026, 5, 1)) == 0


def test_partner_rate_replaces_the_program_rate_and_multipliers_still_apply():
    r = rules('points_per_unit = "10"\n', '[[partners]]\ncode = "fleet"\nname = "Fleet"\npoints_per_unit = "2"\n'
              '[[earn.promotions]]\nname = "p"\nstarts = 2026-05-01\nends = 2026-05-31\nfactor = "2"\n')
    assert points(r, 2575, partner="fleet") == 103  # 25.75 x 2 x 2 = 103
    assert r.knows_partner("fleet") and not r.knows_partner("moon")


def test_cap_applies_after_rounding():
    r = rules('points_per_unit = "1"\nmax_points_per_txn = 500\n')
    assert points(r, 49999) == 499
    earning = r.earn_points(one(80000, DAY))
    assert (earning.points, earning.capped) == (500, True)


def test_a_member_who_may_not_earn_gets_nothing():
    r = rules('points_per_unit = "1"\n')
    earning = r.earn_points(one(5000, DAY), MemberState(may_earn=False, why_not="membership lapsed"))
    assert (earning.points, earning.no_points_because) == (0, "membership lapsed")


def basket(*lines: tuple[int, str]) -> Purchase:
    return Purchase(tuple(Line(amount, category) for amount, category in lines), DAY)


def test_a_basket_earns_once_each_line_with_its_own_category_factor_and_promotion():
    r = rules('points_per_unit = "1"\nrounding = "floor"\nmin_spend = "15.00"\nexclude_categories = ["gift-cards"]\n'
              'max_points_per_txn = 100\n',
              '[[earn.multipliers]]\ncategory = "skincare"\nfactor = "2"\n'
              '[[earn.promotions]]\nname = "skin week"\nstarts = 2026-05-05\nends = 2026-05-05\nfactor = "3"\n'
              'categories = ["skincare"]\n')
    # 10.15 skincare x 2 x 3 = 60.90; 5.45 makeup = 5.45; 20.00 of gift cards earn nothing: 66.35 -> 66
    # (rounding each line would give 60 + 5 = 65)
    earning = r.earn_points(basket((1015, "skincare"), (545, "makeup"), (2000, "gift-cards")))
    assert (earning.points, earning.unrounded) == (66, Decimal("66.35"))
    assert [(e.line.category, e.promotion, e.excluded) for e in earning.lines] == [
        ("skincare", "skin week", False), ("makeup", None, False), ("gift-cards", None, True)]
    assert r.qualifying_spend(basket((1015, "skincare"), (545, "makeup"), (2000, "gift-cards"))) == 1560
    # min_spend is on the qualifying spend: 10.15 + 20.00 of gift cards is 30.15 paid but 10.15 qualifying
    assert r.earn_points(basket((1015, "skincare"), (2000, "gift-cards"))).no_points_because == "below min_spend"
    assert r.earn_points(basket((2000, "gift-cards"), (500, "gift-cards"))).no_points_because == (
        "category 'gift-cards' earns no points")
    # capped once, on the basket: 20.00 skincare x 6 = 120 -> 100
    assert r.earn_points(basket((1000, "skincare"), (1000, "skincare"))).points == 100


def test_visit_points_come_once_per_basket_with_the_largest_line_factor():
    r = rules('points_per_unit = "0"\npoints_per_visit = "1"\nmin_spend = "3.00"\n',
              '[[earn.multipliers]]\ncategory = "beans"\nfactor = "2"\n')
    assert r.earn_points(basket((450, "coffee"), (1800, "beans"), (300, "coffee"))).points == 2
    assert r.earn_points(basket((450, "coffee"), (300, "cake"))).points == 1


def test_base_points_are_the_qualifying_spend_at_the_base_rate_alone():
    # What a return without its sale takes back: skincare's x2, the x3 promotion and the visit points do not
    # apply (nor a tier: it takes no member state); the gift cards line counts nothing. 20.10 x 1 -> 20 (floor).
    r = rules('points_per_unit = "1"\npoints_per_visit = "5"\nexclude_categories = ["gift-cards"]\n',
              '[[earn.multipliers]]\ncategory = "skincare"\nfactor = "2"\n'
              '[[earn.promotions]]\nname = "May"\nstarts = 2026-05-01\nends = 2026-05-31\nfactor = "3"\n')
    refund = Purchase((Line(-2010, "skincare"), Line(-1000, "gift-cards")), DAY)
    assert r.base_points(refund) == 20
    # rounded as earning rounds: 12.50 x 1.5 = 18.75 -> 19 with "round"
    assert rules('points_per_unit = "1.5"\nrounding = "round"\n').base_points(one(-1250)) == 19
