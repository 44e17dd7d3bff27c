"""Tier status as a function of time, with hand-worked thresholds (all in UTC)."""

from datetime import date
from decimal import Decimal

from loyaltyctl.core.dates import start_of_day
from loyaltyctl.core.tiers import Activity, TierRules, tier_history
from loyaltyctl.model import TierLevel, Tiers

UTC = "UTC"
LEVELS = (
    TierLevel("member", "Member", Decimal("0")),
    TierLevel("silver", "Silver", Decimal("500.00"), Decimal("1.5")),
    TierLevel("luxe", "Luxe", Decimal("1500.00"), Decimal("2")),
)


def at(text: str) -> int:
    from datetime import datetime, timezone

    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def calendar_rules() -> TierRules:
    return TierRules(Tiers("spend", "calendar-year", LEVELS), "USD")


def test_activity_sums_ranges_whatever_order_events_arrive_in():
    activity = Activity([(30, 5)])
    activity.add(10, 1)
    activity.add(20, 2)
    activity.add(40, 7)
    assert (activity.total(None, 100), activity.total(10, 30), activity.total(11, 41), activity.total(50, 60)) == (
        15, 3, 14, 0)


def test_a_threshold_reached_exactly_upgrades_from_the_next_instant_not_the_same_one():
    # 300.00 + 200.00 = 500.00, exactly silver's threshold
    activity = Activity([(at("2025-03-01T10:00"), 30000), (at("2025-06-01T10:00"), 20000)])
    rules = calendar_rules()
    assert rules.status(activity, at("2025-06-01T10:00"), UTC).level.code == "member"  # strictly before T
    upgraded = rules.status(activity, at("2025-06-01T10:00:01"), UTC)
    assert (upgraded.level.code, upgraded.next_level.code, upgraded.remaining) == ("silver", "luxe", 100000)


def test_calendar_year_status_holds_through_the_next_year_then_lapses():
    activity = Activity([(at("2025-06-01T10:00"), 60000), (at("2026-05-01T10:00"), 10000)])
    rules = calendar_rules()
    held = rules.status(activity, at("2026-12-31T23:59"), UTC)
    # silver kept from 2025 (600.00); 2026 so far 100.00, so luxe is 1500.00 - 100.00 away
    assert (held.level.code, held.held_until, held.progress, held.remaining) == ("silver", date(2026, 12, 31), 10000, 140000)
    lapsed = rules.status(activity, at("2027-01-01T00:00"), UTC)
    # 2026 reached only 100.00: member; 2027 has nothing yet: silver 500.00 away
    assert (lapsed.level.code, lapsed.remaining) == ("member", 50000)


def test_rolling_window_drops_a_purchase_twelve_months_after_its_day():
    rules = TierRules(Tiers("spend", "rolling-12-months", LEVELS), "USD")
    activity = Activity([(at("2025-01-15T10:00"), 60000)])
    assert rules.status(activity, at("2026-01-14T23:59"), UTC).level.code == "silver"
    assert rules.status(activity, at("2026-01-15T00:00"), UTC).level.code == "member"


def test_points_basis_counts_whole_points():
    rules = TierRules(Tiers("points", "rolling-12-months", (
        TierLevel("base", "Base", Decimal(0)), TierLevel("gold", "Gold", Decimal(1000), Decimal(2)))), "USD")
    activity = Activity([(at("2026-01-01T10:00"), 999)])
    assert rules.status(activity, at("2026-02-01T00:00"), UTC).remaining == 1
    activity.add(at("2026-01-02T10:00"), 1)
    assert rules.status(activity, at("2026-02-01T00:00"), UTC).level.code == "gold"


def test_history_lists_an_upgrade_the_day_it_happened_and_the_lapse_on_new_year():
    activity = Activity([(at("2025-03-01T10:00"), 30000), (at("2025-06-01T10:00"), 20000),
                         (at("2026-05-01T10:00"), 10000)])
    rules = calendar_rules()
    changes = tier_history(lambda day: rules, activity, UTC, start_of_day(date(2027, 6, 1), UTC))
    assert [(c.on, c.from_level, c.to_level) for c in changes] == [
        (date(2025, 6, 1), "member", "silver"), (date(2027, 1, 1), "silver", "member")]


def test_a_refund_below_the_threshold_is_a_downgrade_in_the_history():
    activity = Activity([(at("2025-03-01T10:00"), 60000), (at("2025-03-05T10:00"), -20000)])
    rules = calendar_rules()
    changes = tier_history(lambda day: rules, activity, UTC, start_of_day(date(2025, 4, 1), UTC))
    assert [(c.on, c.to_level) for c in changes] == [(date(2025, 3, 1), "silver"), (date(2025, 3, 5), "member")]


def test_activity_added_out_of_order_sums_as_if_in_order():
    activity = Activity([(10, 5), (30, 7)])
    activity.add(20, 100)  # between the two
    activity.add(5, -2)  # before both: a refund dated earlier
    activity.add(30, 1)  # at the same instant as one
    assert activity.total(None, 31) == 111  # -2 + 5 + 100 + 7 + 1
    assert activity.total(6, 30) == 105  # 5 + 100: [6, 30) leaves both events at 30 out
    assert activity.total(20, 21) == 100
    assert activity.total(None, 10) == -2
