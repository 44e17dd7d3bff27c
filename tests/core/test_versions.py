from datetime import date

from loyaltyctl.core.versions import in_force

VERSIONS = [(date(2026, 1, 1), 1, "v1"), (date(2026, 3, 1), 2, "v2"), (date(2026, 3, 1), 3, "v3"), (date(2026, 6, 1), 4, "v4")]


def test_latest_effective_version_on_or_before_the_day_wins_and_ties_go_to_the_later_apply():
    assert in_force(VERSIONS, date(2026, 2, 28)) == "v1"
    assert in_force(VERSIONS, date(2026, 3, 1)) == "v3"
    assert in_force(VERSIONS, date(2026, 5, 31)) == "v3"
    assert in_force(VERSIONS, date(2026, 6, 1)) == "v4"


def test_history_from_before_the_first_version_uses_the_first():
    assert in_force(VERSIONS, date(2025, 7, 4)) == "v1"
    assert in_force([(date(2026, 1, 1), 1, "a"), (date(2026, 1, 1), 2, "b")], date(2025, 1, 1)) == "b"
