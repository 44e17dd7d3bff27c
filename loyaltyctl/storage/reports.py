"""Report figures computed in SQL, where they scan many rows."""

from collections.abc import Sequence

from loyaltyctl.storage.db import Store
from loyaltyctl.storage.ledger import WEEK_SECONDS
from loyaltyctl.storage.lot_life import alive_before, expired_before, expiring_between


def _segment(column: str, starts: Sequence[int]) -> tuple[str, list[int]]:
    """A CASE giving the index of the last start at or before `column` (0 before the second start)."""
    if len(starts) <= 1:
        return "0", []
    cases = " ".join(f"WHEN {column} >= ? THEN {i}" for i in range(len(starts) - 1, 0, -1))
    return f"CASE {cases} ELSE 0 END", list(reversed(starts[1:]))


def partner_totals(db: Store, program_id: int, start: int, end: int,
                   segment_starts: Sequence[int]) -> list[tuple[str, int, int, int, int, int, int]]:
    """Per partner and program-version segment, transactions in [start, end):
    (partner, segment, purchases, refunds, net spend, points issued, points clawed back).

    A refund falls in the segment of the purchase it refunds: the points it
    takes back were earned (and are valued) under that purchase's version.
    """
    segment, params = _segment("coalesce(o.occurred_at, t.occurred_at)", segment_starts)
    return db.execute(
        f"""SELECT t.partner, {segment} AS segment, count(*) FILTER (WHERE t.amount > 0),
                   count(*) FILTER (WHERE t.amount < 0), sum(t.amount),
                   coalesce(sum(t.points) FILTER (WHERE t.points > 0), 0),
                   coalesce(-sum(t.points) FILTER (WHERE t.points < 0), 0)
            FROM transactions t LEFT JOIN transactions o ON o.program_id = t.program_id AND o.id = t.refund_of
            WHERE t.program_id = ? AND t.partner IS NOT NULL AND t.partner != ''
              AND t.occurred_at >= ? AND t.occurred_at < ?
            GROUP BY t.partner, segment ORDER BY t.partner, segment""",
        [*params, program_id, start, end],
    ).fetchall()


def donation_totals(db: Store, program_id: int, start: int, end: int) -> list[tuple[str, int, int, int]]:
    """Per charity, donations effective in [start, end): (charity, donations, points, money).

    A reversed donation counts minus one, its points and money back out.
    """
    return db.execute(
        """SELECT charity, sum(CASE kind WHEN 'redeem' THEN 1 WHEN 'reverse' THEN -1 ELSE 0 END),
                  -sum(points), sum(coalesce(money, 0))
           FROM entries
           WHERE program_id = ? AND money IS NOT NULL AND charity IS NOT NULL
             AND effective_at >= ? AND effective_at < ?
           GROUP BY charity ORDER BY charity""",
        [program_id, start, end],
    ).fetchall()


_PROGRAM_MEMBERS = "SELECT id FROM members WHERE program_id = :p"


def _unposted(members: str) -> str:
    """Each of these members' lots expired by :t that `expire` has not posted: (member, points)."""
    # `+member` keeps SQLite on `lots_due` (unposted lots are few) rather than walking every lot by member.
    return f"""SELECT +member AS member, sum(remaining) AS points FROM lots
               WHERE program_id = :p AND remaining > 0 AND {expired_before('lots', ':t')} AND +member IN ({members})
               GROUP BY 1"""


def _from_history(members: str) -> str:
    """Parts of each of these members' balance at :t from their whole history: entries less their lots
    expired by then that `expire` has not posted (met in one GROUP BY over both: a LEFT JOIN of the two was
    planned, on a database without ANALYZE, as a nested scan: 280 s at 10M entries instead of 1.7 s)."""
    return f"""SELECT member, sum(points) AS points FROM entries
               WHERE program_id = :p AND member IN ({members}) AND effective_at < :t GROUP BY member
               UNION ALL
               SELECT member, -points FROM ({_unposted(members)}) AS unposted"""


# Each member's balance at :t (members with no entries before it are left out).
_BALANCES = f"""WITH parts AS ({_from_history(_PROGRAM_MEMBERS)}),
                balances AS (SELECT member, sum(points) AS points FROM parts GROUP BY member)"""

# The same from the balances kept on member rows (`kept_points` at `kept_at`, see core.balances): a kept
# balance moved from kept_at to :t by what happened between them, entries effective and unposted expiries
# falling in [kept_at, :t) added, or in [:t, kept_at) taken back out, read on `entries_member_time` and
# `lots_held` (a month of them, not years); members without kept figures from their history. Members
# with no entries before :t count with 0 points.
_EARLIER = "CASE WHEN :t < m.kept_at THEN :t ELSE m.kept_at END"
_LATER = "CASE WHEN :t < m.kept_at THEN m.kept_at ELSE :t END"
_KEPT = "FROM members m WHERE m.program_id = :p AND m.kept_at IS NOT NULL"
_KEPT_BALANCES = f"""WITH parts AS (
                    {_from_history("SELECT id FROM members WHERE program_id = :p AND kept_at IS NULL")}
                    UNION ALL
                    SELECT m.id, m.kept_points {_KEPT}
                    UNION ALL
                    SELECT e.member, CASE WHEN e.effective_at < m.kept_at THEN -e.points ELSE e.points END
                    FROM members m JOIN entries e ON e.program_id = m.program_id AND e.member = m.id
                    WHERE m.program_id = :p AND m.kept_at IS NOT NULL
                      AND e.effective_at >= {_EARLIER} AND e.effective_at < {_LATER}
                    UNION ALL
                    SELECT l.member, CASE WHEN l.expires_at < m.kept_at THEN l.remaining ELSE -l.remaining END
                    FROM members m JOIN lots l ON l.program_id = m.program_id AND l.member = m.id
                    WHERE m.program_id = :p AND m.kept_at IS NOT NULL AND l.remaining > 0
                      AND {expiring_between('l', _EARLIER, _LATER)}),
                balances AS (SELECT member, sum(points) AS points FROM parts GROUP BY member)"""


def balance_totals(db: Store, program_id: int, before: int) -> tuple[int, int, int]:
    """Members' balances at an instant, summed: (members with points, points they hold, points owed).

    A balance is as `balance_as_of` gives it, worked out from the balance kept on the member's row where
    there is one (`_KEPT_BALANCES`): a report as of the end of last month reads a month of entries, not
    the ledger.
    """
    return db.execute(
        f"""{_KEPT_BALANCES}
            SELECT count(*) FILTER (WHERE points > 0), coalesce(sum(points) FILTER (WHERE points > 0), 0),
                   coalesce(-sum(points) FILTER (WHERE points < 0), 0)
            FROM balances""",
        {"p": program_id, "t": before},
    ).fetchone()


def member_balances(db: Store, program_id: int, before: int) -> dict[int, int]:
    """Each member's balance at an instant, as `balance_totals` sums them (members with no entries
    before it are left out)."""
    return dict(db.execute(f"{_BALANCES} SELECT member, points FROM balances",
                           {"p": program_id, "t": before}).fetchall())


def last_activity(db: Store, program_id: int, before: int, kinds: Sequence[str]) -> dict[int, int]:
    """Each member's latest entry of these kinds before an instant (members with none are left out)."""
    wanted = {f"k{i}": kind for i, kind in enumerate(kinds)}
    return dict(db.execute(
        f"""SELECT member, max(effective_at) FROM entries
            WHERE program_id = :p AND member IN ({_PROGRAM_MEMBERS}) AND effective_at < :t AND kind IN ({", ".join(f":{k}" for k in wanted)})
            GROUP BY member""", {"p": program_id, "t": before, **wanted}).fetchall())


def unposted_expiries(db: Store, program_id: int, before: int, since: int | None = None) -> tuple[int, int]:
    """Lots expired in [since, before) whose expiry `expire` has not posted: (lots, points)."""
    return db.execute(
        f"""SELECT count(*), coalesce(sum(remaining), 0) FROM lots
            WHERE program_id = :p AND remaining > 0 AND {expiring_between('lots', ':s', ':t')} AND +member IN ({_PROGRAM_MEMBERS})""",
        {"p": program_id, "t": before, "s": since if since is not None else -(2**62)},
    ).fetchone()


def lot_aging(db: Store, program_id: int, before: int, earned_since: Sequence[int],
              expiring_before: Sequence[int], skip: Sequence[int] = ()) -> tuple[list[int], list[int]]:
    """Points the lots alive at an instant held then, summed by age bucket and by time-to-expiry bucket.

    A lot alive at the instant held what it holds now plus what it gave up
    since (takes, posted expiries and debts paid dated at or after it). Both
    parts are summed straight off an index (`lots_held`, `consumptions_at`)
    as running totals: points issued on or after each of `earned_since`
    (newest first), expiring before each of `expiring_before`, never
    expiring, and all; the buckets are their differences. (Labelling each
    row with a CASE in a subquery and summing per label was 60% slower.)
    Age buckets: since earned_since[0], since [1] … and before them all;
    expiry buckets: before expiring_before[0], before [1] …, later, never.
    Members in `skip` are left out.
    """
    params = {"p": program_id, "t": before, "skip": db.id_list(skip),
              **{f"a{i}": v for i, v in enumerate(earned_since)}, **{f"e{i}": v for i, v in enumerate(expiring_before)}}
    alive = alive_before("l", ":t")
    if skip:
        alive += f" AND {db.not_in('l.member', 'skip')}"

    def totals(points: str) -> str:
        return ", ".join(
            [f"sum({points}) FILTER (WHERE coalesce(l.issued_at, l.earned_at) >= :a{i})" for i in range(len(earned_since))]
            + [f"sum({points}) FILTER (WHERE {expired_before('l', f':e{i}')})" for i in range(len(expiring_before))]
            + [f"sum({points}) FILTER (WHERE l.expires_at IS NULL)", f"sum({points})"])

    held = db.execute(f"""SELECT {totals("l.remaining")} FROM lots l
                          WHERE l.program_id = :p AND l.remaining > 0 AND {alive}
                            AND l.member IN ({_PROGRAM_MEMBERS})""", params).fetchone()
    given_up = db.execute(f"""SELECT {totals("c.points")} FROM consumptions c
                              JOIN lots l ON l.program_id = c.program_id AND l.id = c.lot
                              WHERE c.program_id = :p AND c.at >= :t AND {alive} AND +l.member IN ({_PROGRAM_MEMBERS})""",
                          params).fetchone()
    running = [(a or 0) + (b or 0) for a, b in zip(held, given_up)]
    issued_since, expiring, never, total = (running[:len(earned_since)], running[len(earned_since):-2],
                                            running[-2], running[-1])
    by_age = _differences([*issued_since, total])
    by_expiry = _differences([*expiring, total - never]) + [never]
    return by_age, by_expiry


def _differences(running: list[int]) -> list[int]:
    """Running totals to the amounts between them: [3, 5, 9] -> [3, 2, 4]."""
    return [now - earlier for now, earlier in zip(running, [0, *running])]


def points_before(db: Store, program_id: int, before: int) -> int:
    """Net points outstanding at an instant: entries before it less unposted expiries.

    The entries are summed from `entry_totals` for the weeks before the
    instant's week and from `entries_program_time` for the days of that week,
    so the cost is that of one week of entries, however long the ledger.
    """
    week = before // WEEK_SECONDS
    weeks = db.execute("SELECT coalesce(sum(points), 0) FROM entry_totals WHERE program_id = ? AND week < ?",
                       [program_id, week]).fetchone()[0]
    days = db.execute(
        "SELECT coalesce(sum(points), 0) FROM entries WHERE program_id = ? AND effective_at >= ? AND effective_at < ?",
        [program_id, week * WEEK_SECONDS, before]).fetchone()[0]
    return weeks + days - unposted_expiries(db, program_id, before)[1]


BUCKET_SECONDS = 900  # every time zone's day starts on a quarter hour, so a bucket lies in one local day


def kind_totals(db: Store, program_id: int, start: int, end: int) -> list[tuple[int, str, int]]:
    """Entries effective in [start, end) summed per quarter-hour bucket and kind: (bucket, kind, points)."""
    return db.execute(
        f"""SELECT effective_at / {BUCKET_SECONDS}, kind, sum(points) FROM entries
            WHERE program_id = ? AND effective_at >= ? AND effective_at < ? GROUP BY 1, 2""",
        [program_id, start, end],
    ).fetchall()


_VOUCHER_OF_ENTRY = "v.program_id = e.program_id AND v.entry = CASE WHEN e.kind = 'reverse' THEN e.ref ELSE e.id END"


def money_totals(db: Store, program_id: int, start: int, end: int) -> list[tuple[int, str, bool, int, int]]:
    """Redemptions and their reversals (the entries that carry money) per bucket, leaving out those of
    vouchers (`voucher_money_entries`): (bucket, kind, to a charity, points, money)."""
    return db.execute(
        f"""SELECT e.effective_at / {BUCKET_SECONDS}, e.kind, e.charity IS NOT NULL, sum(e.points), sum(e.money)
            FROM entries e LEFT JOIN vouchers v ON {_VOUCHER_OF_ENTRY}
            WHERE e.program_id = ? AND e.money IS NOT NULL AND e.effective_at >= ? AND e.effective_at < ?
              AND v.id IS NULL
            GROUP BY 1, 2, 3""",
        [program_id, start, end],
    ).fetchall()


def voucher_money_entries(db: Store, program_id: int, start: int, end: int
                          ) -> list[tuple[int, str, int, int, int | None]]:
    """The redemptions that issued a voucher and their reversals in [start, end), one by one (vouchers are
    few): (effective_at, kind, points, money, the voucher's expires_at)."""
    return db.execute(
        f"""SELECT e.effective_at, e.kind, e.points, e.money, v.expires_at
            FROM entries e JOIN vouchers v ON {_VOUCHER_OF_ENTRY}
            WHERE e.program_id = ? AND e.money IS NOT NULL AND e.effective_at >= ? AND e.effective_at < ?""",
        [program_id, start, end],
    ).fetchall()


def partner_point_totals(db: Store, program_id: int, start: int, end: int) -> list[tuple[int, int, int]]:
    """Points partner purchases earned and partner refunds clawed back, per bucket: (bucket, earned, clawed)."""
    return db.execute(
        f"""SELECT occurred_at / {BUCKET_SECONDS}, coalesce(sum(points) FILTER (WHERE points > 0), 0),
                   coalesce(sum(points) FILTER (WHERE points < 0), 0) FROM transactions
            WHERE program_id = ? AND partner IS NOT NULL AND partner != '' AND occurred_at >= ? AND occurred_at < ?
            GROUP BY 1""",
        [program_id, start, end],
    ).fetchall()


def unposted_expiry_totals(db: Store, program_id: int, start: int, end: int) -> list[tuple[int, int]]:
    """Unposted expiries falling in [start, end) per bucket of the expiry instant: (bucket, points)."""
    return db.execute(
        f"""SELECT expires_at / {BUCKET_SECONDS}, sum(remaining) FROM lots
            WHERE program_id = :p AND remaining > 0 AND {expiring_between('lots', ':s', ':e')} AND +member IN ({_PROGRAM_MEMBERS})
            GROUP BY 1""",
        {"p": program_id, "s": start, "e": end},
    ).fetchall()


def kind_sums(db: Store, program_id: int, start: int, end: int, kinds: Sequence[str]) -> dict[str, int]:
    """Entries of these kinds effective in [start, end), summed per kind: one pass, no grouping (a GROUP BY
    kind sorts every row)."""
    sums = ", ".join(f"coalesce(sum(points) FILTER (WHERE kind = :k{i}), 0)" for i in range(len(kinds)))
    row = db.execute(f"SELECT {sums} FROM entries WHERE program_id = :p AND effective_at >= :s AND effective_at < :e",
                     {"p": program_id, "s": start, "e": end, **{f"k{i}": kind for i, kind in enumerate(kinds)}}
                     ).fetchone()
    return dict(zip(kinds, row))


def member_counts(db: Store, program_id: int, first: str, last: str) -> tuple[int, int]:
    """Members joined on or before `last`, and of them those joined on or after `first` (ISO dates)."""
    return db.execute("SELECT count(*), count(*) FILTER (WHERE joined >= ?) FROM members"
                      " WHERE program_id = ? AND joined <= ?", [first, program_id, last]).fetchone()


def active_members(db: Store, program_id: int, start: int, end: int) -> int:
    """Members with a purchase or a redemption in [start, end)."""
    return db.execute(
        """SELECT count(*) FROM (
                SELECT member FROM transactions
                WHERE program_id = :p AND amount > 0 AND occurred_at >= :s AND occurred_at < :e
                UNION
                SELECT member FROM entries
                WHERE program_id = :p AND kind = 'redeem' AND effective_at >= :s AND effective_at < :e) AS active""",
        {"p": program_id, "s": start, "e": end},
    ).fetchone()[0]


def purchase_counts(db: Store, program_id: int, start: int, end: int) -> tuple[int, int]:
    """Members with a purchase in [start, end), and those with two or more."""
    return db.execute(
        """SELECT count(*), count(*) FILTER (WHERE purchases > 1) FROM (
               SELECT member, count(*) AS purchases FROM transactions
               WHERE program_id = ? AND amount > 0 AND occurred_at >= ? AND occurred_at < ? GROUP BY member) AS buyers""",
        [program_id, start, end],
    ).fetchone()


def membership_fees(db: Store, program_id: int, start: int, end: int) -> tuple[int, int]:
    """Membership fees paid in [start, end): (payments, total in minor units)."""
    return db.execute("""SELECT count(*), coalesce(sum(fee), 0) FROM memberships
                         WHERE program_id = ? AND paid_at >= ? AND paid_at < ?""",
                      [program_id, start, end]).fetchone()
