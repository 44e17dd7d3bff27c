"""Imported transactions: duplicate checks, originals of refunds, and batched inserts."""

from collections.abc import Sequence

from msgspec import Struct

from loyaltyctl.storage.db import Store, in_chunks, insert_sql



class Original(Struct, frozen=True):
    """A purchase a refund names."""

    id: int
    member: int
    amount: int
    points: int
    entry: int | None
    is_refund: bool
    refunded: int  # what refunds of it returned so far (positive minor units)
    qualifying: int  # spend it still counts toward a tier, after earlier refunds
    partner: str | None
    occurred_at: int


def _already_in(db: Store, table: str, column: str, program_id: int, values: Sequence[str]) -> set[str]:
    """Which of these values the program's `table` holds in `column` (one query per 500 values)."""
    found: set[str] = set()
    for chunk, marks in in_chunks(values):
        found.update(row[0] for row in db.execute(
            f"SELECT {column} FROM {table} WHERE program_id = ? AND {column} IN ({marks})", [program_id, *chunk]))
    return found


def fetch_known_txn_ids(db: Store, program_id: int, txn_ids: Sequence[str]) -> set[str]:
    """Which of these txn ids are already imported."""
    return _already_in(db, "transactions", "txn_id", program_id, txn_ids)


def fetch_known_walk_ins(db: Store, program_id: int, txn_ids: Sequence[str]) -> set[str]:
    """Which of these txn ids are recorded already as non-member sales."""
    return _already_in(db, "walk_in_sales", "txn_id", program_id, txn_ids)


def fetch_rejected_rows(db: Store, program_id: int, digests: Sequence[str]) -> set[str]:
    """Which of these row digests an import into the program rejected already."""
    return _already_in(db, "rejected_rows", "digest", program_id, digests)


def insert_rejected_rows(db: Store, program_id: int, digests: Sequence[str]) -> None:
    db.insert("rejected_rows", ("program_id", "digest"), [(program_id, digest) for digest in digests])


def fetch_original(db: Store, program_id: int, txn_id: str) -> Original | None:
    row = db.execute(
        """SELECT t.id, t.member, t.amount, t.points, t.entry, t.refund_of IS NOT NULL,
                  (SELECT coalesce(sum(-r.amount), 0) FROM transactions r
                   WHERE r.program_id = t.program_id AND r.refund_of = t.id),
                  t.qualifying + (SELECT coalesce(sum(r.qualifying), 0) FROM transactions r
                                  WHERE r.program_id = t.program_id AND r.refund_of = t.id),
                  t.partner, t.occurred_at
           FROM transactions t WHERE t.program_id = ? AND t.txn_id = ?""",
        [program_id, txn_id],
    ).fetchone()
    return Original(*row) if row else None


TXN_COLUMNS = ("program_id", "txn_id", "member", "occurred_at", "amount", "category", "store", "partner",
               "refund_of", "description", "points", "entry", "note", "qualifying")


def has_earned(db: Store, member: int) -> bool:
    """Whether a purchase of the member's ever earned points."""
    return db.execute("SELECT 1 FROM transactions WHERE member = ? AND points > 0 AND refund_of IS NULL LIMIT 1",
                      [member]).fetchone() is not None


def insert_transactions(db: Store, rows: list[tuple]) -> None:
    """Rows in TXN_COLUMNS order."""
    db.insert("transactions", TXN_COLUMNS, rows)


def insert_transaction(db: Store, row: tuple) -> int:
    """One row in TXN_COLUMNS order, written at once; returns its id."""
    return db.execute(f"{insert_sql('transactions', TXN_COLUMNS)} RETURNING id", row).fetchone()[0]


WALK_IN_COLUMNS = ("program_id", "txn_id", "occurred_at", "amount", "store", "source", "refund_of")


def insert_walk_ins(db: Store, rows: Sequence[tuple]) -> None:
    """Non-member sales in WALK_IN_COLUMNS order; one recorded before (a re-import) is left as it is."""
    if rows:
        db.executemany(f"{insert_sql('walk_in_sales', WALK_IN_COLUMNS)} "
                       f"{db.conflict('walk_in_sales', 'program_id, txn_id')} DO NOTHING", rows)


def fetch_walk_in_refunded(db: Store, program_id: int, txn_id: str) -> int:
    """What refunds of a walk-in sale returned so far (positive minor units)."""
    return db.execute("SELECT coalesce(sum(-amount), 0) FROM walk_in_sales WHERE program_id = ? AND refund_of = ?",
                      [program_id, txn_id]).fetchone()[0]


def add_clawed_back(db: Store, clawbacks: Sequence[tuple[int, int, int | None]]) -> None:
    """Clawbacks posted for refunds: (refund row, points, negative to take back, entry); a refund's
    points are what all its clawbacks took back (a revision adds to them), its entry the first."""
    db.executemany("UPDATE transactions SET points = points + ?, entry = coalesce(entry, ?) WHERE id = ?",
                        [(points, entry, txn) for txn, points, entry in clawbacks])


def fetch_activity(db: Store, members: Sequence[int], basis: str) -> dict[int, list[tuple[int, int]]]:
    """Each member's tier activity, (occurred_at, amount) in time order: spend or points, refunds negative."""
    column = "qualifying" if basis == "spend" else "points"
    found: dict[int, list[tuple[int, int]]] = {member: [] for member in members}
    for chunk, marks in in_chunks(members):
        rows = db.execute(
            f"""SELECT member, occurred_at, {column} FROM transactions {db.indexed_by("transactions_member_time")}
                WHERE member IN ({marks}) AND {column} != 0 ORDER BY member, occurred_at""",
            chunk,
        )
        for member, at, amount in rows:
            found[member].append((at, amount))
    return found
