"""Ledger invariants under random sequences of postings (hypothesis)."""

import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loyaltyctl.core.dates import cutoff, local_date
from loyaltyctl.errors import Refused
from loyaltyctl.formats.program_toml import parse_program
from loyaltyctl.operations import ledger as ops
from loyaltyctl.operations.setup import apply_programs
from loyaltyctl.storage import ledger as store
from loyaltyctl.storage.connect import open_db
from loyaltyctl.storage.integrity import first_broken_link, reconciliation_problems
from loyaltyctl.storage.members import find_member, save_members
from loyaltyctl.model import Member
from tests.conftest import snapshot

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
[expiry]
policy = "{policy}"
months = 6
"""
MEMBERS = ("A", "B", "C")
START = date(2025, 1, 1)
LATER = "2035-01-01T00:00:00+00:00"  # after any day the steps reach

member = st.sampled_from(MEMBERS)
points = st.integers(min_value=1, max_value=300)
operation = st.one_of(
    st.tuples(st.just("earn"), member, points),
    st.tuples(st.just("redeem"), member, points),
    st.tuples(st.just("adjust"), member, st.integers(-200, 200).filter(bool)),
    st.tuples(st.just("transfer"), member, member, points),
    st.tuples(st.just("reverse"), st.integers(1, 40)),
    st.tuples(st.just("expire"), st.integers(0, 30)),
)
step = st.tuples(st.integers(0, 45), operation)  # days after the previous step, then what to do


def _setup(policy: str, program: str = PROGRAM):
    path = Path(tempfile.mkdtemp()) / "p.db"
    db = open_db(path, create=True)
    apply_programs(db, [parse_program(program.format(policy=policy))])
    from loyaltyctl.storage.db import write

    with write(db):
        save_members(db, 1, tuple(Member("p", m, joined=START, referral_code=m) for m in MEMBERS), ())
    return db, path


def _balances(db, days):
    rows = {m: find_member(db, 1, "p", m)[0] for m in MEMBERS}
    return {(m, d): store.balance_as_of(db, row, cutoff(d, "America/New_York")) for m, row in rows.items() for d in days}


def _lots_less_owed(db, member_row: int, before: int) -> int:
    """An independent route to a balance: points the lots alive at `before` still held then,
    less what debits dated before it had not covered by then."""
    return db.execute(
        """SELECT
             (SELECT coalesce(sum(l.points - (SELECT coalesce(sum(c.points), 0) FROM consumptions c
                                               WHERE c.lot = l.id AND c.at < :t)), 0)
              FROM lots l WHERE l.member = :m AND l.earned_at < :t AND (l.expires_at IS NULL OR l.expires_at >= :t))
           - (SELECT coalesce(sum(-e.points - (SELECT coalesce(sum(c.points), 0) FROM consumptions c
                                                WHERE c.debit = e.id AND c.at < :t)), 0)
              FROM entries e WHERE e.member = :m AND e.points < 0 AND e.effective_at < :t)""",
        {"m": member_row, "t": before},
    ).fetchone()[0]


def _post(db, op, at: str, key: str):
    kind = op[0]
    if kind == "earn":
        return ops.post_earn(db, "p", op[1], op[2], "e", key, at)
    if kind == "redeem":
        return ops.post_redeem(db, "p", op[1], points=op[2], key=key, at=at)
    if kind == "adjust":
        return ops.post_adjust(db, "p", op[1], op[2], "a", key, at)
    if kind == "transfer":
        return ops.post_transfer(db, "p", op[1], op[2], op[3], key, at)
    return ops.post_reverse(db, "p", op[1], "r", key, at)


@settings(max_examples=int(os.environ.get("LEDGER_EXAMPLES", 60)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=st.sampled_from(["lot", "inactivity", "none"]), steps=st.lists(step, min_size=1, max_size=25))
@example(policy="lot", steps=[(0, ("adjust", "A", -2)), (0, ("earn", "A", 1)), (0, ("reverse", 1))])  # a part-paid debt reversed
def test_ledger_invariants(policy, steps):
    os.environ["LOYALTYCTL_NOW"] = LATER  # every expiry these steps ask for has happened
    db, path = _setup(policy)
    day = START
    done = []
    for number, (gap, op) in enumerate(steps):
        day += timedelta(days=gap)
        at = f"{day.isoformat()}T12:00"
        earlier = [day - timedelta(days=n) for n in (1, 30, 200) if day - timedelta(days=n) >= START]
        history = _balances(db, earlier)
        if op[0] == "expire":
            as_of = day - timedelta(days=op[1])
            horizon = [as_of + timedelta(days=n) for n in (-200, -40, 0, 40, 200)]
            before = _balances(db, horizon)
            ops.run_expire(db, "p", as_of)
            assert _balances(db, horizon) == before, "posting expiries changed a balance"
            continue
        if op[0] in ("redeem", "transfer"):
            row = find_member(db, 1, "p", op[1])[0]
            spendable = store.fetch_book(db, [row], [], 1).spendable(row, cutoff(day, "America/New_York") - 1)
        key = f"k{number}"
        try:
            _post(db, op, at, key)
        except Refused:
            if op[0] in ("redeem", "transfer") and op[1] != (op[2] if op[0] == "transfer" else None):
                assert op[-1] > spendable, "refused although the balance covered it"
            continue
        if op[0] in ("redeem", "transfer"):
            assert op[-1] <= spendable, "spent beyond the available balance"
        done.append((op, at, key))
        assert _balances(db, earlier) == history, "a later-dated posting changed an earlier balance"
    assert first_broken_link(db) is None
    assert reconciliation_problems(db) == []
    boundaries = {START, day}
    for (expires_at,) in db.execute("SELECT expires_at FROM lots WHERE expires_at IS NOT NULL"):
        expiry_day = local_date(expires_at, "America/New_York")
        boundaries |= {expiry_day, expiry_day - timedelta(days=1)}
    for (m, d), value in _balances(db, sorted(boundaries)).items():
        row = find_member(db, 1, "p", m)[0]
        assert value == _lots_less_owed(db, row, cutoff(d, "America/New_York")), f"{m} as of {d}"
    before = snapshot(path)
    for op, at, key in done:
        assert _post(db, op, at, key).duplicate
    assert snapshot(path) == before, "replaying the same keys changed the ledger"
