"""The SQL that decides whether a lot counts (storage.lot_life) says what core.posting.Lot says, for any
lot and instant: at the edges (earned or expiring exactly then), for lots that never expire, on SQLite and
on PostgreSQL (NULL comparisons are where SQL and Python part ways)."""

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyaltyctl.core.posting import Lot
from loyaltyctl.storage.lot_life import alive_before, expired_before, expiring_between, unexpired_before

instants = st.integers(0, 20)  # a small range, so that edges (equal instants) come up often
lots = st.builds(lambda earned, life: Lot(1, 1, 1, 10, earned, None if life is None else earned + life, earned, 10),
                 instants, st.none() | st.integers(0, 10))


@pytest.fixture
def sql_says(backend, db_path):
    """Whether the test's backend finds a lot (its earned_at and expires_at alone) under a condition."""
    if backend == "postgresql":
        import psycopg

        conn = psycopg.connect(str(db_path), autocommit=True)
    else:
        conn = sqlite3.connect(":memory:")

    def says(condition: str, lot: Lot) -> bool:
        expires = "NULL" if lot.expires_at is None else lot.expires_at
        return conn.execute(f"""WITH l (earned_at, expires_at) AS
                                    (SELECT CAST({lot.earned_at} AS BIGINT), CAST({expires} AS BIGINT))
                                SELECT count(*) FROM l WHERE {condition}""").fetchone()[0] == 1

    yield says
    conn.close()


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lots, instants, instants)
def test_each_condition_is_the_lots_own_rule_just_before_the_instant(sql_says, lot, before, later):
    start, end = sorted((before, later))
    assert sql_says(alive_before("l", str(before)), lot) == lot.alive_at(before - 1)
    assert sql_says(expired_before("l", str(before)), lot) == lot.expired_at(before - 1)
    assert sql_says(unexpired_before("l", str(before)), lot) == (not lot.expired_at(before - 1))
    assert sql_says(expiring_between("l", str(start), str(end)), lot) == (
        lot.expired_at(end - 1) and not lot.expired_at(start - 1))


@pytest.mark.parametrize("earned, expires, before, alive", [
    (5, 10, 5, False),  # earned at 5: not yet counted in a figure as of 5 (it stands just before 5)
    (5, 10, 6, True),
    (5, 10, 10, True),  # alive at 9, the last instant before 10
    (5, 10, 11, False),  # expired at 10
    (5, None, 1000, True),
])
def test_the_edges_worked_by_hand(sql_says, earned, expires, before, alive):
    lot = Lot(1, 1, 1, 10, earned, expires, earned, 10)
    assert lot.alive_at(before - 1) is alive
    assert sql_says(alive_before("l", str(before)), lot) is alive
