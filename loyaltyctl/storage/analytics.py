"""`report analytics` figures computed in SQL: purchases per segment, non-member sales, months and cohorts.

Every query names its program on each table it reads (on Citus the whole
query then runs on that program's shard). A purchase is a transaction with a
positive amount, a refund one with a negative amount. Members count only
when joined on or before the report's last day: those who joined later (`members_joined_after`) are left
out. A walk-in sale whose txn id,
or the txn id it refunds, is also a member's transaction counts as the
member's alone (a basket imported once without its customer, then with one).
"""

from collections.abc import Sequence

from loyaltyctl.storage.db import Store

# (two probes of the (program_id, txn_id) key; one with an OR between them scans every transaction)
_WALK_INS_ALONE = """NOT EXISTS (SELECT 1 FROM transactions t WHERE t.program_id = :p AND t.txn_id = w.txn_id)
                     AND (w.refund_of IS NULL OR NOT EXISTS (SELECT 1 FROM transactions t
                                                             WHERE t.program_id = :p AND t.txn_id = w.refund_of))"""


def members_joined_after(db: Store, program_id: int, joined_by: str) -> list[int]:
    """The members (row ids) who joined after `joined_by` (an ISO date): few or none. The queries below leave
    their transactions out by this list, where a join with every member's row cost a third of the report."""
    return [row[0] for row in db.execute("SELECT id FROM members WHERE program_id = ? AND joined > ?",
                                         [program_id, joined_by])]


def _not_of(db: Store, later: Sequence[int], params: dict) -> str:
    """The condition that a transaction `t` is not of the members in `later`."""
    if not later:
        return "1 = 1"
    params["later"] = db.id_list(later)
    return db.not_in("t.member", "later")


def _period_index(column: str, starts: Sequence[int], params: dict) -> str:
    """A CASE giving the index of the last of `starts` at or before `column` (0 before the second)."""
    cases = []
    for index in range(len(starts) - 1, 0, -1):
        params[f"m{index}"] = starts[index]
        cases.append(f"WHEN {column} >= :m{index} THEN {index}")
    return f"CASE {' '.join(cases)} ELSE 0 END" if cases else "0"


def member_purchases(db: Store, program_id: int, later: Sequence[int], start: int, end: int, active_from: int,
                     earlier_from: int) -> dict[bool, tuple[int, ...]]:
    """Per segment (True: members with a redeem entry before `end`), over the members with a transaction
    before `end`, in `core.analytics.Purchases` order: (purchases in [start, end), their amount, sales
    (purchases plus refunds), members with a purchase in it, of them with 2 or more, members with a
    purchase in [active_from, end), members with one in [earlier_from, start), of those without one in
    [start, end), sales before `end`, members with a purchase before `end`)."""
    params = {"p": program_id, "s": start, "e": end, "a": active_from, "b": earlier_from}
    rows = db.execute(
        f"""SELECT member IN (SELECT e.member FROM entries e {db.indexed_by("entries_redeemers")}
                                 WHERE e.program_id = :p AND e.kind = 'redeem' AND e.effective_at < :e),
                   coalesce(sum(purchases), 0), coalesce(sum(purchased), 0),
                   coalesce(sum(sales), 0), count(*) FILTER (WHERE purchases > 0),
                   count(*) FILTER (WHERE purchases > 1),
                   count(*) FILTER (WHERE active > 0), count(*) FILTER (WHERE earlier > 0),
                   count(*) FILTER (WHERE earlier > 0 AND purchases = 0),
                   coalesce(sum(lifetime_sales), 0), count(*) FILTER (WHERE lifetime_purchases > 0)
            FROM (SELECT t.member,
                         count(*) FILTER (WHERE t.amount > 0 AND t.occurred_at >= :s) AS purchases,
                         sum(t.amount) FILTER (WHERE t.amount > 0 AND t.occurred_at >= :s) AS purchased,
                         sum(t.amount) FILTER (WHERE t.occurred_at >= :s) AS sales,
                         count(*) FILTER (WHERE t.amount > 0 AND t.occurred_at >= :a) AS active,
                         count(*) FILTER (WHERE t.amount > 0 AND t.occurred_at >= :b AND t.occurred_at < :s)
                             AS earlier,
                         sum(t.amount) AS lifetime_sales,
                         count(*) FILTER (WHERE t.amount > 0) AS lifetime_purchases
                  FROM transactions t
                  WHERE t.program_id = :p AND t.occurred_at < :e AND {_not_of(db, later, params)}
                  GROUP BY t.member) AS per_member
            GROUP BY 1""", params)
    return {bool(row[0]): tuple(row[1:]) for row in rows}


def monthly_sales(db: Store, program_id: int, later: Sequence[int], starts: Sequence[int], end: int
                  ) -> dict[int, tuple[int, int, int, int, int]]:
    """Per period of `starts` (index; the last ends at `end`): (member sales, members with a purchase in
    it, non-member purchases, their amount, non-member sales). Sales are purchases plus refunds."""
    params: dict = {"p": program_id, "s": starts[0], "e": end}
    members = _period_index("t.occurred_at", starts, params)
    walk_ins = _period_index("w.occurred_at", starts, params)
    joined = _not_of(db, later, params)
    found = {index: [0, 0, 0, 0, 0] for index in range(len(starts))}
    for index, sales, buyers in db.execute(
            f"""SELECT {members}, sum(t.amount), count(DISTINCT CASE WHEN t.amount > 0 THEN t.member END)
                FROM transactions t
                WHERE t.program_id = :p AND t.occurred_at >= :s AND t.occurred_at < :e AND {joined}
                GROUP BY 1""", params):
        found[index][:2] = sales, buyers
    for index, *walk_in in db.execute(
            f"""SELECT {walk_ins}, count(*) FILTER (WHERE w.amount > 0),
                       coalesce(sum(w.amount) FILTER (WHERE w.amount > 0), 0), sum(w.amount)
                FROM walk_in_sales w
                WHERE w.program_id = :p AND w.occurred_at >= :s AND w.occurred_at < :e AND {_WALK_INS_ALONE}
                GROUP BY 1""", params):
        found[index][2:] = walk_in
    return {index: tuple(figures) for index, figures in found.items()}


def cohort_purchases(db: Store, program_id: int, joined_from: str, joined_by: str, starts: Sequence[int],
                     end: int) -> list[tuple[str, int, int]]:
    """Members joined from `joined_from` through `joined_by` with a purchase in each period of `starts`:
    (join month `YYYY-MM`, period index, members)."""
    params: dict = {"p": program_id, "f": joined_from, "j": joined_by, "s": starts[0], "e": end}
    index = _period_index("t.occurred_at", starts, params)
    return db.execute(
        f"""SELECT substr(mb.joined, 1, 7), {index}, count(DISTINCT t.member)
            FROM transactions t JOIN members mb ON mb.program_id = :p AND mb.id = t.member
                                               AND mb.joined >= :f AND mb.joined <= :j
            WHERE t.program_id = :p AND t.amount > 0 AND t.occurred_at >= :s AND t.occurred_at < :e
            GROUP BY 1, 2""", params).fetchall()


def joiners_by_month(db: Store, program_id: int, joined_from: str, joined_by: str) -> dict[str, int]:
    """Members joined from `joined_from` through `joined_by` (ISO dates), per join month `YYYY-MM`."""
    return dict(db.execute(
        """SELECT substr(joined, 1, 7), count(*) FROM members
           WHERE program_id = ? AND joined >= ? AND joined <= ? GROUP BY 1""",
        [program_id, joined_from, joined_by]).fetchall())


def voucher_usage(db: Store, program_id: int, start: int, end: int) -> tuple[int, int]:
    """Vouchers issued in [start, end), and of them those used before `end`."""
    return db.execute(
        """SELECT count(*), count(u.voucher) FROM vouchers v
           LEFT JOIN voucher_uses u ON u.program_id = :p AND u.voucher = v.id AND u.used_at < :e
           WHERE v.program_id = :p AND v.issued_at >= :s AND v.issued_at < :e""",
        {"p": program_id, "s": start, "e": end}).fetchone()
