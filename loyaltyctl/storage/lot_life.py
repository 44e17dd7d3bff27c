"""Whether a lot counts at an instant, in SQL: `core.posting.Lot.alive_at` and `Lot.expired_at`, stated
once for every query (tests/property/test_lot_life.py checks them against the Python).

Queries ask what stood just before an instant `before` (exclusive), so each condition here is the core's
at `before - 1`. `lot` is the lots table's name or alias in the query, `before` an SQL expression.
"""


def expired_before(lot: str, before: str) -> str:
    """Lot.expired_at(before - 1): its points were gone by then (a lot that never expires, never)."""
    return f"{lot}.expires_at < {before}"


def unexpired_before(lot: str, before: str) -> str:
    """not Lot.expired_at(before - 1)."""
    return f"({lot}.expires_at IS NULL OR {lot}.expires_at >= {before})"


def alive_before(lot: str, before: str) -> str:
    """Lot.alive_at(before - 1): earned by then and not yet expired."""
    return f"{lot}.earned_at < {before} AND {unexpired_before(lot, before)}"


def expiring_between(lot: str, start: str, end: str) -> str:
    """expired_before(end) and not expired_before(start): it expires in [start, end). Written as a range,
    not with NOT, so an index on expires_at serves it."""
    return f"{lot}.expires_at >= {start} AND {lot}.expires_at < {end}"
