"""Actions posted (SPEC.md "Actions"): their records beside the ledger's entries, counted for limits and
read for feedback scores."""

from loyaltyctl.storage.db import Store, insert_sql

ACTION_COLUMNS = ("program_id", "entry", "member", "code", "at", "score")
# an action whose entry was reversed counts for nothing
_STANDING = """NOT EXISTS (SELECT 1 FROM entries r
                           WHERE r.program_id = a.program_id AND r.ref = a.entry AND r.kind = 'reverse')"""


def insert_action(db: Store, program_id: int, entry: int, member: int, code: str, at: int, score: int | None) -> None:
    db.execute(insert_sql("actions", ACTION_COLUMNS), [program_id, entry, member, code, at, score])


def count_actions(db: Store, program_id: int, member: int, code: str, start: int, end: int) -> int:
    """The member's standing actions of `code` effective in [start, end)."""
    return db.execute(
        f"""SELECT count(*) FROM actions a
            WHERE a.program_id = ? AND a.member = ? AND a.code = ? AND a.at >= ? AND a.at < ? AND {_STANDING}""",
        [program_id, member, code, start, end]).fetchone()[0]


def latest_scores(db: Store, program_id: int, start: int, end: int) -> dict[int, int]:
    """Of the members who answered a survey in [start, end), how many gave each score as their latest."""
    return dict(db.execute(
        f"""SELECT score, count(*) FROM (
                SELECT score, row_number() OVER (PARTITION BY member ORDER BY at DESC, entry DESC) AS n
                FROM actions a
                WHERE a.program_id = :p AND a.score IS NOT NULL AND a.at >= :s AND a.at < :e AND {_STANDING}
            ) AS answers WHERE n = 1 GROUP BY score""",
        {"p": program_id, "s": start, "e": end}).fetchall())


def latest_score_by_member(db: Store, program_id: int, before: int) -> dict[int, int]:
    """Each member's latest standing survey score before `before` (member row -> score)."""
    return dict(db.execute(
        f"""SELECT member, score FROM (
                SELECT member, score, row_number() OVER (PARTITION BY member ORDER BY at DESC, entry DESC) AS n
                FROM actions a
                WHERE a.program_id = :p AND a.score IS NOT NULL AND a.at < :e AND {_STANDING}
            ) AS answers WHERE n = 1""",
        {"p": program_id, "e": before}).fetchall())
