"""Paid membership terms: what a payment buys and whether a member holds a valid one.

A term starts at the beginning of the day it is paid (a customer who pays at
the till and buys a minute later earns). An annual term runs for a year, to
the same day next year exclusive; paying again while a term still runs
extends it from its end. A lifetime term never ends and is paid once.
"""

from collections.abc import Sequence

from msgspec import Struct

from loyaltyctl.core.dates import add_months, local_date, start_of_day
from loyaltyctl.model import Membership


class Term(Struct, frozen=True):
    paid_at: int
    fee: int  # minor units
    term: str  # lifetime | annual
    valid_from: int
    valid_until: int | None  # first instant it no longer holds; None for lifetime


class TermRefused(ValueError):
    """The payment cannot buy a term: a lifetime one is held, or it predates a recorded payment."""


def new_term(terms: Sequence[Term], paid_at: int, membership: Membership, tz: str) -> Term:
    """The term a payment at `paid_at` buys, given the terms already paid."""
    if any(t.valid_until is None for t in terms):
        raise TermRefused("already holds a lifetime membership")
    latest = max((t.paid_at for t in terms), default=None)
    if latest is not None and paid_at < latest:
        raise TermRefused(f"has a payment recorded on {local_date(latest, tz)}; record payments in date order "
                          "(terms chain one after another)")
    start = start_of_day(local_date(paid_at, tz), tz)
    running = [t.valid_until for t in terms if t.valid_from <= start < t.valid_until]
    if running:
        start = max(running)
    if membership.term == "lifetime":
        return Term(paid_at, membership.fee, "lifetime", start, None)
    until = start_of_day(add_months(local_date(start, tz), 12), tz)
    return Term(paid_at, membership.fee, "annual", start, until)


def term_at(terms: Sequence[Term], at: int) -> Term | None:
    """The term valid at an instant, if any (the one ending last, when terms overlap)."""
    valid = [t for t in terms if t.valid_from <= at and (t.valid_until is None or at < t.valid_until)]
    return max(valid, key=lambda t: float("inf") if t.valid_until is None else t.valid_until, default=None)
