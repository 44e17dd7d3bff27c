"""Opening the database: checks, pragmas, migrations and write transactions."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.storage.migrations import MIGRATION_SET, known_migrations, migrations

# "LOY1" in the SQLite header marks a file as a loyaltyctl database.
APPLICATION_ID = 0x4C4F5931
BUSY_TIMEOUT_SECONDS = 30.0


def _check_is_ours(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse, without writing anything, a file that is not (or not yet) ours."""
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError:
        raise BadInput(f"{path}: not a loyaltyctl database (not an SQLite file)") from None
    if application_id != APPLICATION_ID and tables:
        raise BadInput(f"{path}: not a loyaltyctl database (it holds other tables)")
    if application_id == APPLICATION_ID:
        applied = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [MIGRATION_SET]
            )
        }
        unknown = applied - set(known_migrations())
        if unknown:
            raise BadInput(
                f"{path}: database schema is newer than this loyaltyctl "
                f"(migration {sorted(unknown)[0]}); upgrade loyaltyctl to use it"
            )


def open_db(path: Path | str) -> Database:
    """Open (creating and migrating when needed) a loyaltyctl database.

    The connection is in autocommit mode; writes go through `write()`, which
    takes SQLite's write lock up front so that two processes serialise.
    """
    path = Path(path)
    if path.is_dir():
        raise BadInput(f"{path}: is a directory, not a database file")
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    except sqlite3.OperationalError as err:
        raise BadInput(f"{path}: cannot open database: {err}") from None
    try:
        _check_is_ours(conn, path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
    except BadInput:
        conn.close()
        raise
    except sqlite3.OperationalError as err:
        conn.close()
        raise BadInput(f"{path}: cannot open database: {err}") from None
    db = Database(conn)
    if migrations.pending(db):
        with write(db):
            # Re-checked under the write lock: another process may have migrated.
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            migrations.apply(db)
    return db


def schema_version(db: Database) -> int:
    """How many migrations the database has applied."""
    return len(migrations.applied(db))


class Discard(Exception):
    """Raised inside `write()` to roll the transaction back quietly (a dry run, a strict run with bad rows)."""


@contextmanager
def write(db: Database) -> Iterator[Database]:
    """One write transaction, holding the write lock from its first statement."""
    try:
        db.conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        raise Refused(f"database is busy ({err}); try again") from None
    try:
        yield db
    except Discard:
        db.conn.execute("ROLLBACK")
        return
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def backup_to(db: Database, target: Path) -> int:
    """An online backup: a consistent copy even while other processes write. Returns pages copied."""
    try:
        destination = sqlite3.connect(target)
    except sqlite3.OperationalError as error:
        raise BadInput(f"{target}: cannot create the backup: {error}") from None
    try:
        db.conn.backup(destination)
        return destination.execute("PRAGMA page_count").fetchone()[0]
    finally:
        destination.close()


def set_cache_size(db: Database, kib: int) -> None:
    """SQLite's page cache for this connection (bulk writes into big indexes want more than the 2 MiB default)."""
    db.execute(f"PRAGMA cache_size = -{int(kib)}")
