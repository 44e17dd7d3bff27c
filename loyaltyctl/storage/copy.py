"""A whole database from one store into another (SQLite to PostgreSQL or back), streamed.

The source is read in one snapshot, a table at a time in key order, a few
thousand rows in memory at once; the destination, new and empty, is
written in one transaction and verified inside it, as `db verify` would,
so a copy that fails or does not verify leaves the destination empty.
"""

from collections.abc import Callable

from msgspec import Struct

from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.storage.db import Store, write
from loyaltyctl.storage.integrity import first_broken_link, reconciliation_problems

BATCH_ROWS = 5000


class Table(Struct, frozen=True):
    name: str
    columns: tuple[str, ...]
    order: str
    generated: bool = True  # `order` is an id the database generates (not one another table's row gives)
    # A column that may name a later row of the same table: copied empty, then set once every row is in.
    self_reference: str | None = None


# In the order their foreign keys need.
TABLES = (
    Table("programs", ("id", "code", "currency", "timezone", "created_at", "epoch"), "id"),
    Table("program_versions", ("id", "program_id", "version", "effective_from", "applied_at", "digest", "definition",
                                  "compiled", "compiled_by"), "id"),
    Table("members", ("id", "program_id", "member_id", "name", "email", "birthday", "card", "joined", "referred_by",
                      "referral_code", "created_at", "accepts_marketing", "head_seq", "head_hash", "latest_at", "owed",
                      "kept_at", "kept_points", "kept_pending", "kept_until", "revision", "email_key"), "id",
          self_reference="referred_by"),
    Table("entries", ("id", "program_id", "member", "seq", "kind", "points", "effective_at", "recorded_at", "key",
                      "reason", "reward", "money", "charity", "ref", "hash"), "id"),
    Table("entry_totals", ("program_id", "week", "points", "entries"), "program_id, week", generated=False),
    Table("lots", ("id", "entry", "member", "points", "earned_at", "expires_at", "available_at", "remaining",
                   "expired", "issued_at", "program_id"), "id"),
    Table("consumptions", ("rowid", "debit", "lot", "points", "at", "program_id"), "rowid"),
    Table("debts", ("debit", "member", "points", "remaining", "at", "program_id"), "debit", generated=False),
    Table("seals", ("id", "program_id", "sealed_at", "members", "legacy_entry", "legacy_hash", "previous", "digest"),
          "id"),
    Table("seal_heads", ("seal", "member", "seq", "hash", "program_id"), "member, seq", generated=False),
    Table("transactions", ("id", "program_id", "txn_id", "member", "occurred_at", "amount", "category", "store",
                           "partner", "refund_of", "description", "points", "entry", "note", "qualifying"), "id",
          self_reference="refund_of"),
    Table("rejected_rows", ("program_id", "digest"), "program_id, digest", generated=False),
    Table("actions", ("program_id", "entry", "member", "code", "at", "score"), "program_id, entry", generated=False),
    Table("walk_in_sales", ("program_id", "txn_id", "occurred_at", "amount", "store", "source", "refund_of"),
          "program_id, txn_id", generated=False),
    Table("memberships", ("id", "program_id", "member", "paid_at", "fee", "term", "valid_from", "valid_until", "key",
                          "recorded_at"), "id"),
    Table("period_closes", ("id", "program_id", "through", "closed_before", "expiries_posted", "closing_points",
                            "closing_liability", "recorded_at"), "id"),
    Table("vouchers", ("id", "program_id", "code", "entry", "member", "reward", "points", "value", "issued_at",
                       "expires_at", "returns_points", "percent"), "id"),
    Table("voucher_codes", ("code", "program_id"), "code", generated=False),
    Table("voucher_uses", ("voucher", "used_at", "order_ref", "value_used", "recorded_at", "program_id"), "voucher",
          generated=False),
)


def refuse_unless_empty(target: Store) -> None:
    """A copy goes into a new database only: it would otherwise mix two ledgers."""
    if target.execute("SELECT count(*) FROM programs").fetchone()[0]:
        raise BadInput(f"{target.location}: already holds a loyaltyctl ledger; copy into a new, empty database")


def count_rows(db: Store) -> int:
    return sum(db.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0] for table in TABLES)


def copy_database(source: Store, target: Store, on_rows: Callable[[int], object] = lambda rows: None
                  ) -> dict[str, int]:
    """Every row of `source` into `target` (both opened, so both at this loyaltyctl's schema); returns rows
    per table."""
    counts: dict[str, int] = {}
    source.begin_snapshot()
    try:
        with write(target):
            refuse_unless_empty(target)
            for table in TABLES:
                counts[table.name] = _copy_table(source, target, table, on_rows)
            target.after_copy([(table.name, table.order) for table in TABLES if table.generated])
            target.refresh_statistics()
            broken = first_broken_link(target)
            problems = ([f"entry {broken[0]}: {broken[1]}"] if broken else []) + reconciliation_problems(target)
            if problems:
                raise Refused(f"{target.location}: the copy does not verify ({problems[0]}); nothing was written")
    finally:
        source.rollback()
    return counts


def _copy_table(source: Store, target: Store, table: Table, on_rows: Callable[[int], object]) -> int:
    columns = ", ".join(table.columns)
    later = table.columns.index(table.self_reference) if table.self_reference else None
    links: list[tuple[int, int]] = []
    copied = 0
    for rows in source.stream(f"SELECT {columns} FROM {table.name} ORDER BY {table.order}", BATCH_ROWS):
        if later is not None:
            links += [(row[later], row[0]) for row in rows if row[later] is not None]
            rows = [(*row[:later], None, *row[later + 1:]) for row in rows]
        target.insert(table.name, table.columns, rows)
        copied += len(rows)
        on_rows(len(rows))
    if links:
        target.executemany(f"UPDATE {table.name} SET {table.self_reference} = ? WHERE id = ?", links)
    return copied
