"""Action limits under random posting orders (hypothesis): whatever the order actions are posted in, each
calendar week holds at most `max` of a member's shares, the first posted win, and every point paid is in
the member's balance."""

import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest

import loyaltyctl
from loyaltyctl.errors import Refused

# A fresh SQLite file per example (a server database per example would take a second each); the limit's
# query runs on PostgreSQL and Citus in tests/cli/test_actions.py.
pytestmark = pytest.mark.sqlite_only

PROGRAM = """\
[program]
code = "p"
name = "P"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"
effective_from = 2024-01-01
[earn]
points_per_unit = "1"
[[actions]]
code = "share"
name = "A share"
points = 10
limit = "per-week"
max = 2
"""
MONDAY = date(2025, 3, 3)
LATER = "2025-06-01T12:00"  # after every day the steps reach

posting = st.tuples(st.sampled_from(("A", "B")), st.integers(0, 27), st.booleans())  # member, day, reverse it after


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(posting, min_size=1, max_size=14))
def test_each_week_keeps_the_first_posted_within_its_limit(steps, monkeypatch):
    monkeypatch.setenv("LOYALTYCTL_NOW", "2025-06-01T16:00:00+00:00")
    folder = Path(tempfile.mkdtemp())
    (folder / "p.toml").write_text(PROGRAM)
    ledger = loyaltyctl.connect(folder / "p.db", create=True)
    ledger.apply_programs([folder / "p.toml"])
    for member in ("A", "B"):
        ledger.add_member("p", {"member_id": member, "joined": "2025-01-01"})
    standing: dict[tuple[str, int], int] = {}  # (member, week) -> actions standing: the model
    for member, day, undo in steps:
        week = day // 7
        at = f"{MONDAY + timedelta(days=day)}T12:00"
        try:
            entry = ledger.action("p", member, "share", at=at).entries[0].id
        except Refused:
            assert standing.get((member, week), 0) == 2, (member, at)
            continue
        assert standing.get((member, week), 0) < 2, (member, at)
        standing[(member, week)] = standing.get((member, week), 0) + 1
        if undo:  # a reversed action frees its place
            ledger.reverse("p", entry, reason="not ours", at=LATER)
            standing[(member, week)] -= 1
    for member in ("A", "B"):
        paid = sum(count for (who, _), count in standing.items() if who == member)
        assert ledger.balance("p", member).points == 10 * paid
