"""Opening the database: checks, pragmas, migrations and write transactions."""

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlencode

from sqlite_utils import Database

from loyaltyctl.errors import BadInput, LoyaltyError, Refused
from loyaltyctl.storage.migrations import MIGRATION_SET, known_migrations, migrations

# "LOY1" in the SQLite header marks a file as a loyaltyctl database.
APPLICATION_ID = 0x4C4F5931
BUSY_TIMEOUT_SECONDS = 30.0


def _check_is_ours(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse, without writing anything, a file that is not (or not yet) ours."""
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.OperationalError as err:  # SQLite could not read it (locks, -shm): says nothing of the file
        raise storage_refusal(err, str(path)) or BadInput(f"{path}: cannot open database: {err}") from None
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


def _companions(path: Path) -> tuple[Path, Path]:
    """The -wal and -shm files SQLite keeps beside a WAL database while it is open."""
    return path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")


def _read_only_reason(path: Path) -> str | None:
    """Why SQLite could not write this database, or None when it can.

    The kernel is asked (os.access), so a read-only mount or an immutable file
    counts for root too, while mere permission bits do not (root can write
    through them, and so can SQLite). Writing a WAL database also writes its
    -wal and -shm files, created in the file's folder when missing.
    """
    if not os.access(path, os.W_OK):
        read_only_mount = hasattr(os, "statvfs") and os.statvfs(path).f_flag & os.ST_RDONLY
        return "it is on a read-only file system" if read_only_mount else "the file is not writable"
    folder = path.absolute().parent
    for companion in _companions(path):
        if companion.exists() and not os.access(companion, os.W_OK):
            return f"{companion.name} is not writable"
        if not companion.exists() and not os.access(folder, os.W_OK):
            return f"its folder {folder} is not writable"
    return None


def _uri(path: Path, **parameters: str) -> str:
    return f"{path.absolute().as_uri()}?{urlencode(parameters)}"


def _connect(path: Path, *, create: bool, read_only: bool) -> sqlite3.Connection:
    """SQLite's connection: never creating a file unless asked, read-only when it could not write.

    Reading a WAL database needs its -shm file. In a folder where we cannot
    create one (and none exists) the file is opened immutable, which needs
    none: no -wal means no commit we would miss, and a writer would have to
    create the -wal in that folder first (only one allowed to could, and a
    read that overlapped its first checkpoint might fail). An existing -wal
    may hold commits immutable would not see, so then it is plain read-only,
    reading the -wal through the existing -shm.
    """
    if not read_only:
        parameters = {"mode": "rwc" if create else "rw"}
    elif any(companion.exists() for companion in _companions(path)) or os.access(path.absolute().parent, os.W_OK):
        parameters = {"mode": "ro"}
    else:
        parameters = {"mode": "ro", "immutable": "1"}
    try:
        return sqlite3.connect(_uri(path, **parameters), uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    except sqlite3.OperationalError as err:
        raise BadInput(f"{path}: cannot open database: {err}") from None


def open_db(path: Path | str, *, create: bool = False) -> Database:
    """Open a loyaltyctl database, migrating it when needed; `create` makes a missing one.

    Only `init`, `demo` and `program apply` create: a mistyped path anywhere
    else is an error, not a new empty ledger (SPEC "Missing database"). A
    database SQLite cannot write is opened read-only, so that reading still
    works; `write()` refuses the first write. The connection is in autocommit
    mode; writes go through `write()`, which takes SQLite's write lock up front
    so that two processes serialise.
    """
    path = Path(path)
    if path.is_dir():
        raise BadInput(f"{path}: is a directory, not a database file")
    if not create and not path.exists():
        raise BadInput(f"no loyaltyctl database at {path}; `loyaltyctl init` creates one")
    read_only = _read_only_reason(path) if path.exists() else None
    conn = _connect(path, create=create, read_only=read_only is not None)
    try:
        _check_is_ours(conn, path)
        if read_only is None:  # a read-only database keeps the journal mode it has
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
    except BadInput:
        conn.close()
        raise
    except sqlite3.OperationalError as err:
        conn.close()
        raise storage_refusal(err, str(path)) or BadInput(f"{path}: cannot open database: {err}") from None
    db = Database(conn)
    if migrations.pending(db):
        if read_only is not None:
            conn.close()
            raise BadInput(f"{path}: the database is read-only ({read_only}) and needs this loyaltyctl's "
                           "schema; make it writable and run `loyaltyctl init`")
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
    """One write transaction, holding the write lock from its first statement.

    Anything that stops it rolls it back. SQLite's own refusals (busy, a
    read-only database, a full disk) leave as a one-line LoyaltyError.
    """
    try:
        db.conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        _raise_refusal(db, error)
    try:
        yield db
        db.conn.execute("COMMIT")
    except Discard:
        _rollback(db)
    except sqlite3.OperationalError as error:
        _rollback(db)
        _raise_refusal(db, error)
    except BaseException:
        _rollback(db)
        raise


def _rollback(db: Database) -> None:
    """Roll back unless SQLite already has: it may after an error such as SQLITE_FULL."""
    if db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def _raise_refusal(db: Database, error: sqlite3.OperationalError) -> NoReturn:
    refusal = storage_refusal(error, db.conn.execute("PRAGMA database_list").fetchone()[2] or None)
    if refusal is None:
        raise error
    raise refusal from None


def storage_refusal(error: sqlite3.OperationalError, path: str | None = None) -> LoyaltyError | None:
    """SQLite refusing for a reason outside loyaltyctl, as one line for the user; None for other errors.

    Busy and a full disk are refusals (exit 1): nothing was written and the same
    command can work later. (A disk too full to even open a WAL database shows
    as SQLite failing to grow the -shm file.) A read-only database is bad usage
    (exit 2), like a wrong path: the command cannot work until the setup changes.
    """
    extended = getattr(error, "sqlite_errorcode", None) or 0
    code = extended & 0xFF
    where = f"{path}: " if path else ""
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return Refused(f"database is busy ({error}); try again")
    if code == sqlite3.SQLITE_FULL or extended == sqlite3.SQLITE_IOERR_SHMSIZE:
        return Refused(f"{where}the disk is full ({error}); nothing was written, free some space and run it again")
    if code == sqlite3.SQLITE_READONLY:
        reason = (path and _read_only_reason(Path(path))) or str(error)
        return BadInput(f"{where}the database is read-only ({reason}); nothing was written "
                        "(commands that only read it still work)")
    return None


def backup_to(db: Database, target: Path) -> int:
    """An online backup: a consistent copy even while other processes write. Returns pages copied.

    One that fails (a full disk) removes what it wrote: a half copy must not pass for a backup.
    """
    try:
        destination = sqlite3.connect(target)
    except sqlite3.OperationalError as error:
        raise BadInput(f"{target}: cannot create the backup: {error}") from None
    try:
        db.conn.backup(destination)
        return destination.execute("PRAGMA page_count").fetchone()[0]
    except BaseException as error:
        destination.close()
        target.unlink(missing_ok=True)
        refusal = isinstance(error, sqlite3.OperationalError) and storage_refusal(error, str(target))
        if refusal:
            raise refusal from None
        raise
    finally:
        destination.close()


def set_cache_size(db: Database, kib: int) -> None:
    """SQLite's page cache for this connection (bulk writes into big indexes want more than the 2 MiB default)."""
    db.execute(f"PRAGMA cache_size = -{int(kib)}")
