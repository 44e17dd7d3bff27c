"""Period closes: the record of each `period close`, and the latest one a posting must respect."""

from datetime import date

from loyaltyctl.storage.db import Store

from loyaltyctl.core.periods import ClosedThrough
from loyaltyctl.values import Close


_COLUMNS = "through, closed_before, expiries_posted, closing_points, closing_liability, recorded_at"


def _close(row: tuple) -> Close:
    return Close(date.fromisoformat(row[0]), *row[1:])


def fetch_closes(db: Store, program_id: int) -> list[Close]:
    return [_close(row) for row in db.execute(
        f"SELECT {_COLUMNS} FROM period_closes WHERE program_id = ? ORDER BY through", [program_id])]


def fetch_all_closes(db: Store) -> list[tuple[int, str, Close]]:
    """Every close of every program: (program id, program code, close)."""
    return [(row[0], row[1], _close(row[2:])) for row in db.execute(
        f"""SELECT c.program_id, p.code, {', '.join('c.' + c for c in _COLUMNS.split(', '))}
            FROM period_closes c JOIN programs p ON p.id = c.program_id ORDER BY p.code, c.through""")]


def fetch_closed_through(db: Store, program_id: int) -> ClosedThrough | None:
    row = db.execute(
        """SELECT p.code, c.through, c.closed_before, p.timezone FROM period_closes c JOIN programs p ON p.id = c.program_id
           WHERE c.program_id = ? ORDER BY c.through DESC LIMIT 1""",
        [program_id],
    ).fetchone()
    return ClosedThrough(row[0], date.fromisoformat(row[1]), row[2], row[3]) if row else None


def insert_close(db: Store, program_id: int, close: Close) -> None:
    """A close, and the program's epoch moved on (postings that read the program before see it)."""
    db.execute("UPDATE programs SET epoch = epoch + 1 WHERE id = ?", [program_id])
    db.execute(
        f"INSERT INTO period_closes (program_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [program_id, close.through.isoformat(), close.closed_before, close.expiries_posted, close.closing_points,
         close.closing_liability, close.recorded_at],
    )
