"""Membership terms and birthday dates, worked by hand (UTC)."""

from datetime import date

import pytest

from loyaltyctl.core.bonuses import birthdays_on
from loyaltyctl.core.dates import start_of_day
from loyaltyctl.core.membership import TermRefused, new_term, term_at
from loyaltyctl.model import Membership

UTC = "UTC"
ANNUAL = Membership(fee=2000, term="annual", required_to_earn=True)


def day(text: str) -> int:
    return start_of_day(date.fromisoformat(text), UTC)


def test_an_annual_term_runs_from_the_start_of_the_day_paid_to_the_same_day_next_year():
    term = new_term([], day("2025-03-10") + 9 * 3600, ANNUAL, UTC)
    assert (term.valid_from, term.valid_until, term.fee) == (day("2025-03-10"), day("2026-03-10"), 2000)
    assert term_at([term], day("2026-03-10") - 1) == term
    assert term_at([term], day("2026-03-10")) is None


def test_paying_again_before_a_term_ends_extends_it_from_its_end():
    first = new_term([], day("2025-03-10"), ANNUAL, UTC)
    early = new_term([first], day("2026-02-01"), ANNUAL, UTC)
    assert (early.valid_from, early.valid_until) == (day("2026-03-10"), day("2027-03-10"))
    late = new_term([first], day("2026-04-01"), ANNUAL, UTC)
    assert (late.valid_from, late.valid_until) == (day("2026-04-01"), day("2027-04-01"))


def test_a_lifetime_term_never_ends_and_is_bought_once():
    lifetime = Membership(fee=2000, term="lifetime")
    term = new_term([], day("2025-01-01"), lifetime, UTC)
    assert term.valid_until is None and term_at([term], day("2099-01-01")) == term
    with pytest.raises(TermRefused):
        new_term([term], day("2025-02-01"), lifetime, UTC)


@pytest.mark.parametrize("on, celebrated", [
    ("2027-02-28", ("02-28", "02-29")),  # no 29 February in 2027
    ("2028-02-28", ("02-28",)),
    ("2028-02-29", ("02-29",)),
    ("2027-03-01", ("03-01",)),
])
def test_leap_day_birthdays_are_celebrated_on_28_february_in_other_years(on, celebrated):
    assert birthdays_on(date.fromisoformat(on)) == celebrated


def test_a_payment_dated_before_one_already_recorded_is_refused_so_terms_always_chain():
    later = new_term([], day("2026-03-01"), ANNUAL, UTC)
    with pytest.raises(TermRefused, match="record payments in date order"):
        new_term([later], day("2025-06-01"), ANNUAL, UTC)
