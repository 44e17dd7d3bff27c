"""Lots and debits: which points a debit takes, when points expire, and debt.

Every positive entry creates a lot. A debit takes points from the lots alive
at its time, soonest-to-expire first, then oldest; what it cannot cover is
owed (debt), and later credits pay debt first.
"""

from dataclasses import dataclass

from loyaltyctl.core.dates import add_months, local_date, start_of_day
from loyaltyctl.model import Expiry


@dataclass(frozen=True)
class Lot:
    """Points a credit created, as they stand now."""

    id: int
    remaining: int  # not yet taken by any debit
    earned_at: int
    expires_at: int | None  # None: never
    available_at: int  # pending until then (pending_days)
    expired: int = 0  # taken by a posted expiry; still usable by a debit dated before it

    def alive_at(self, at: int) -> bool:
        return self.earned_at <= at and (self.expires_at is None or at < self.expires_at)


@dataclass(frozen=True)
class Take:
    """Points a debit takes from one lot; `from_expired` re-opens part of a posted expiry."""

    lot: int
    points: int
    from_expired: bool = False


@dataclass(frozen=True)
class Debt:
    debit: int
    remaining: int
    at: int


def consumption_order(lot: Lot) -> tuple:
    """Soonest-to-expire first (never-expiring last), then oldest."""
    return (lot.expires_at is None, lot.expires_at or 0, lot.earned_at, lot.id)


def consume(
    lots: list[Lot],
    points: int,
    at: int,
    *,
    include_pending: bool = True,
    first: int | None = None,
) -> tuple[list[Take], int]:
    """Which lots a debit of `points` at instant `at` takes from, and the shortfall.

    Never an expired lot (one whose expiry is at or before `at`). Pending lots
    only when `include_pending` (a clawback may take them; a redemption may not).
    `first` names a lot to take from before the usual order (a reversal takes
    back the very points it undoes).

    A lot whose expiry was already posted, but which was alive at `at`, can
    still be taken from: a debit dated before an expiry sees the points the
    expiry later removed, so posting expiries early or late changes nothing.
    """
    usable = [
        lot
        for lot in lots
        if lot.alive_at(at) and (include_pending or lot.available_at <= at) and lot.remaining + lot.expired > 0
    ]
    usable.sort(key=lambda lot: (lot.id != first, *consumption_order(lot)))
    takes: list[Take] = []
    left = points
    for lot in usable:
        if left == 0:
            break
        for amount, from_expired in ((lot.remaining, False), (lot.expired, True)):
            taken = min(amount, left)
            if taken:
                takes.append(Take(lot.id, taken, from_expired))
                left -= taken
    return takes, left


def pay_debts(debts: list[Debt], lot_points: int, lot_at: int, lot_expires_at: int | None) -> list[tuple[int, int]]:
    """How a new lot pays outstanding debts, oldest first: [(debit id, points)]."""
    payments = []
    left = lot_points
    for debt in sorted(debts, key=lambda d: (d.at, d.debit)):
        if left == 0:
            break
        if lot_expires_at is not None and lot_expires_at <= max(debt.at, lot_at):
            continue
        paid = min(debt.remaining, left)
        if paid:
            payments.append((debt.debit, paid))
            left -= paid
    return payments


def lot_expiry(expiry: Expiry | None, earned_at: int, tz: str) -> int | None:
    """When points earned at `earned_at` expire: the start of that local day, or None.

    `lot`: E + months (clamped to the month's end); they count as of
    E + months - 1 day and no longer as of E + months. `inactivity`: the same
    from the member's latest earn or redeem; the ledger pushes every open lot's
    expiry out to this date on each such activity.
    """
    if expiry is None or expiry.policy == "none":
        return None
    return start_of_day(add_months(local_date(earned_at, tz), expiry.months), tz)
