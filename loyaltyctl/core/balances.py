"""A member's balance as the ledger's writer keeps it, so that reading it is one row.

A balance at an instant T counts the entries effective before T less the
points of lots expired by T (posted or not); pending points are those of
lots alive at T that are not spendable yet. Both change with time alone
only at a lot's expiry or at the end of its pending period. So the writer,
which holds every lot of the member that still has points, works them out
for an instant `at` (the end of the day it posts on) together with the
first instant they could change (`until`), and they hold for every T in
[at, until]. A member with an entry dated at or after `at` has no kept
figures (`at` is None): a read then asks the ledger itself.
"""

from collections.abc import Iterable

from msgspec import Struct

from loyaltyctl.core.posting import Lot


class Kept(Struct, frozen=True):
    """Points and pending points at every instant of [at, until] (until None: for ever)."""

    at: int | None = None  # None: not known, read the ledger
    points: int = 0
    pending: int = 0
    until: int | None = None

    def holds_at(self, instant: int) -> bool:
        return self.at is not None and self.at <= instant and (self.until is None or instant <= self.until)


UNKNOWN = Kept()


class MemberLedger(Struct):
    """The ledger's figures kept on a member's row: the head of the member's hash chain, the latest
    instant anything happened to them (an entry or a refund), what they owe, their kept balance, and how
    many times their ledger was written (what an optimistic posting checks is unchanged)."""

    id: int
    head_seq: int = 0  # entries in the member's chain
    head_hash: bytes | None = None
    latest_at: int | None = None
    owed: int = 0
    kept: Kept = UNKNOWN
    revision: int = 0


def _changes(lot: Lot, at: int) -> list[int]:
    """The instants from `at` on at which the lot changes a balance or the pending points."""
    return [t for t in (lot.expires_at, lot.available_at) if t is not None and t >= at]


def kept_from(lots: Iterable[Lot], owed: int, at: int, latest_at: int | None) -> Kept:
    """A member's figures at `at` from every lot of theirs that still holds points and what they owe."""
    if latest_at is not None and latest_at >= at:
        return UNKNOWN
    points, pending, until = -owed, 0, None
    for lot in lots:
        if lot.remaining <= 0:
            continue
        if not lot.expired_at(at - 1):
            points += lot.remaining
            if lot.available_at >= at:
                pending += lot.remaining
        for instant in _changes(lot, at):
            until = instant if until is None else min(until, instant)
    return Kept(at, points, pending, until)


def kept_after_credit(kept: Kept, lot: Lot, at: int) -> Kept:
    """The figures at `at` once a fresh lot (a credit that paid no debt) is added: moved on from an earlier
    `kept.at` when they still hold at `at`, unknown when they do not (a read will ask the ledger)."""
    if not kept.holds_at(at) or lot.earned_at >= at:
        return UNKNOWN
    alive = not lot.expired_at(at - 1)
    until = kept.until
    for instant in _changes(lot, at):
        until = instant if until is None else min(until, instant)
    return Kept(at, kept.points + (lot.remaining if alive else 0),
                kept.pending + (lot.remaining if alive and lot.available_at >= at else 0), until)
