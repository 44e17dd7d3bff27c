from datetime import date

from loyaltyctl.core.dates import add_months, cutoff, parse_instant, start_of_day
from loyaltyctl.core.lots import Debt, Lot, Take, consume, lot_expiry, pay_debts
from loyaltyctl.model import Expiry

DAY = 86400


def lot(id, remaining, earned=0, expires=None, available=None, expired=0):
    return Lot(id, remaining, earned, expires, earned if available is None else available, expired)


def test_soonest_to_expire_first_then_oldest_and_never_expiring_last():
    lots = [lot(1, 50, earned=0), lot(2, 50, earned=10, expires=100), lot(3, 50, earned=5, expires=100), lot(4, 50, earned=20, expires=90)]
    takes, short = consume(lots, 120, at=30)
    assert takes == [Take(4, 50), Take(3, 50), Take(2, 20)]
    assert short == 0


def test_an_expired_lot_is_never_taken_and_the_rest_is_owed():
    lots = [lot(1, 40, earned=0, expires=50), lot(2, 30, earned=10)]
    takes, short = consume(lots, 100, at=50)  # lot 1 expires exactly at 50
    assert takes == [Take(2, 30)]
    assert short == 70


def test_a_lot_earned_after_the_debit_is_not_taken():
    takes, short = consume([lot(1, 40, earned=100)], 10, at=50)
    assert (takes, short) == ([], 10)


def test_pending_lots_are_skipped_unless_included():
    lots = [lot(1, 40, earned=0, available=100), lot(2, 10, earned=0)]
    assert consume(lots, 30, at=50, include_pending=False) == ([Take(2, 10)], 20)
    assert consume(lots, 30, at=50) == ([Take(1, 30)], 0)


def test_a_named_lot_is_taken_first():
    lots = [lot(1, 40, expires=60), lot(2, 10)]
    assert consume(lots, 30, at=50, first=2) == ([Take(2, 10), Take(1, 20)], 0)


def test_points_a_posted_expiry_took_are_usable_by_a_debit_dated_before_it():
    lots = [lot(1, 0, earned=0, expires=100, expired=40)]
    assert consume(lots, 25, at=80) == ([Take(1, 25, from_expired=True)], 0)
    assert consume(lots, 25, at=100) == ([], 25)


def test_new_lots_pay_the_oldest_debts_first():
    debts = [Debt(debit=9, remaining=30, at=20), Debt(debit=7, remaining=50, at=10)]
    assert pay_debts(debts, 60, lot_at=30, lot_expires_at=None) == [(7, 50), (9, 10)]


def test_a_lot_expired_before_the_debt_does_not_pay_it():
    assert pay_debts([Debt(1, 30, at=200)], 60, lot_at=0, lot_expires_at=150) == []


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_lot_expiry_is_the_start_of_the_local_day_months_later():
    earned = parse_instant("2025-08-31T18:30", "America/New_York")
    expires = lot_expiry(Expiry("lot", 6), earned, "America/New_York")
    assert expires == start_of_day(date(2026, 2, 28), "America/New_York")
    # counted as of 27 Feb (cutoff is the start of 28 Feb), gone as of 28 Feb
    assert expires >= cutoff(date(2026, 2, 27), "America/New_York")
    assert expires < cutoff(date(2026, 2, 28), "America/New_York")


def test_no_expiry_policy():
    assert lot_expiry(None, 0, "UTC") is None
    assert lot_expiry(Expiry("none"), 0, "UTC") is None


def test_times_without_offset_are_local_to_the_program():
    assert parse_instant("2026-01-01T00:00", "America/New_York") == parse_instant("2026-01-01T05:00:00+00:00", "UTC")
    assert parse_instant("2026-01-01", "Europe/London") == start_of_day(date(2026, 1, 1), "Europe/London")
