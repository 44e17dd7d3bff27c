"""Citus (distributed PostgreSQL): the same schema, its ledger tables distributed by program.

Every ledger table is hash-distributed on `program_id` and co-located with
the others, so all the rows of one program (its members, entries, lots,
takes, debts, transactions, vouchers, seals) live in one shard group and a
posting is a single-shard transaction; the small tables every posting
reads (programs, their versions, period closes, the migrations) are
reference tables, copied to every node. Citus wants each key of a
distributed table to hold its distribution column and each foreign key
between distributed tables to hold it on both sides: `distribute` rewrites
the tables' keys that way (the same names, `program_id` first) before it
distributes them, and the foreign keys after. README "Beyond one server"
argues the choice of column.
"""

import re

from loyaltyctl.errors import BadInput
from loyaltyctl.storage.db import Store

DISTRIBUTION_COLUMN = "program_id"
# Read by every posting, or keeping a key across programs (voucher codes); and the migrations' record.
SHARED_TABLES = ("programs", "program_versions", "period_closes", "voucher_codes")


def distribute(db: Store) -> None:
    """Make each table of the schema that is not yet a Citus table a reference table or a distributed one
    (inside the migrating transaction: the tables are new and empty, or it all rolls back)."""
    reference = (*SHARED_TABLES, db.migrations_table)
    # Placed: distributed ('h') or reference ('n', replicated 't'). A table a later migration creates with
    # a foreign key to a reference table is made a Citus local table on the spot ('n', 's'): placed below.
    done = {row[0] for row in db.execute(
        """SELECT c.relname FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
           WHERE c.relnamespace = CAST(current_schema() AS regnamespace)
             AND (p.partmethod = 'h' OR p.repmodel = 't')""").fetchall()}
    tables = sorted(db.tables() - done)
    if not tables:
        return
    db.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")  # DDL and data in one transaction
    # The append-only triggers refuse every change, so they are safe on shards: Citus asks to be told so.
    db.execute("SET LOCAL citus.enable_unsafe_triggers TO on")
    distributed = [t for t in tables if t not in reference]
    missing = [t for t in distributed if DISTRIBUTION_COLUMN not in _columns(db, t)]
    if missing:
        raise BadInput(f"{db.location}: table {missing[0]} has no {DISTRIBUTION_COLUMN} to distribute it by")
    # Foreign keys out while the keys change and the tables move (a local table referring to a reference
    # table would become Citus's own, which takes no DDL); back in once every table is in place.
    foreign = [key for table in tables for key in _foreign_keys(db, table)]
    for table, name, _, _ in foreign:
        db.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for table in distributed:
        _keys_with_distribution_column(db, table)
    for table in (t for t in reference if t in tables):
        db.execute("SELECT create_reference_table(?)", [table]).fetchall()
    anchor = next(iter(sorted(done - set(reference))), None)
    for table in distributed:
        db.execute("SELECT create_distributed_table(?, ?, colocate_with => ?)",
                   [table, DISTRIBUTION_COLUMN, anchor or "none"]).fetchall()
        anchor = anchor or table
    for table, name, target, definition in foreign:
        if table not in reference and target not in reference:
            definition = _with_distribution_column(definition)
        db.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def _columns(db: Store, table: str) -> set[str]:
    return {row[0] for row in db.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(? AS regclass) AND attnum > 0 AND NOT attisdropped",
        [table]).fetchall()}


def _foreign_keys(db: Store, table: str) -> list[tuple[str, str, str, str]]:
    """(table, constraint, referenced table, definition) of the table's foreign keys."""
    return [(table, name, target, definition) for name, target, definition in db.execute(
        """SELECT conname, confrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE conrelid = CAST(? AS regclass) AND contype = 'f' ORDER BY conname""", [table]).fetchall()]


def _with_distribution_column(definition: str) -> str:
    """FOREIGN KEY (member) REFERENCES members(id) -> FOREIGN KEY (program_id, member) REFERENCES members(program_id, id)."""
    return re.sub(r"\(([^()]*)\)", lambda m: f"({DISTRIBUTION_COLUMN}, {m.group(1)})", definition, count=2)


def _keys_with_distribution_column(db: Store, table: str) -> None:
    """Each primary key, unique constraint and unique index of the table without the distribution column,
    made again with it first (same name, same condition)."""
    for name, kind, definition, columns in db.execute(
        """SELECT i.indexrelid::regclass::text, coalesce(c.contype, 'i'), pg_get_indexdef(i.indexrelid),
                  array(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid
                                                                AND a.attnum = ANY(i.indkey))
           FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
           WHERE i.indrelid = CAST(? AS regclass) AND i.indisunique ORDER BY 1""", [table]).fetchall():
        if DISTRIBUTION_COLUMN in columns:
            continue
        keys = ", ".join([DISTRIBUTION_COLUMN, *_index_columns(definition)])
        if kind in ("p", "u"):
            db.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            db.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {'PRIMARY KEY' if kind == 'p' else 'UNIQUE'} ({keys})")
        else:
            db.execute(f"DROP INDEX {name}")
            db.execute(re.sub(r"USING (\w+) \(", rf"USING \1 ({DISTRIBUTION_COLUMN}, ", definition, count=1))


def _index_columns(definition: str) -> list[str]:
    """The key columns of a CREATE INDEX definition as pg_get_indexdef writes it, in order."""
    return [column.strip() for column in re.search(r"USING \w+ \(([^)]*)\)", definition).group(1).split(",")]
