"""Report figures computed in SQL, where they scan many rows."""

from collections.abc import Sequence

from sqlite_utils import Database


def _segment(column: str, starts: Sequence[int]) -> tuple[str, list[int]]:
    """A CASE giving the index of the last start at or before `column` (0 before the second start)."""
    if len(starts) <= 1:
        return "0", []
    cases = " ".join(f"WHEN {column} >= ? THEN {i}" for i in range(len(starts) - 1, 0, -1))
    return f"CASE {cases} ELSE 0 END", list(reversed(starts[1:]))


def partner_totals(db: Database, program_id: int, start: int, end: int,
                   segment_starts: Sequence[int]) -> list[tuple[str, int, int, int, int, int, int]]:
    """Per partner and program-version segment, transactions in [start, end):
    (partner, segment, purchases, refunds, net spend, points issued, points clawed back).

    A refund falls in the segment of the purchase it refunds: the points it
    takes back were earned (and are valued) under that purchase's version.
    """
    segment, params = _segment("coalesce(o.occurred_at, t.occurred_at)", segment_starts)
    return db.execute(
        f"""SELECT t.partner, {segment} AS segment, sum(t.amount > 0), sum(t.amount < 0), sum(t.amount),
                   sum(max(t.points, 0)), sum(max(-t.points, 0))
            FROM transactions t LEFT JOIN transactions o ON o.id = t.refund_of
            WHERE t.program_id = ? AND t.partner IS NOT NULL AND t.partner != ''
              AND t.occurred_at >= ? AND t.occurred_at < ?
            GROUP BY t.partner, segment ORDER BY t.partner, segment""",
        [*params, program_id, start, end],
    ).fetchall()


def donation_totals(db: Database, program_id: int, start: int, end: int) -> list[tuple[str, int, int, int]]:
    """Per charity, donations effective in [start, end): (charity, donations, points, money).

    A reversed donation counts minus one, its points and money back out.
    """
    return db.execute(
        """SELECT charity, sum(CASE kind WHEN 'redeem' THEN 1 WHEN 'reverse' THEN -1 ELSE 0 END),
                  -sum(points), sum(coalesce(money, 0))
           FROM entries
           WHERE program_id = ? AND charity IS NOT NULL AND effective_at >= ? AND effective_at < ?
           GROUP BY charity ORDER BY charity""",
        [program_id, start, end],
    ).fetchall()
