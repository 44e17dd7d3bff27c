"""The embedded backend: one SQLite file, in WAL mode, one writer at a time."""

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlencode

import msgspec

from loyaltyctl.errors import BadInput, Contended, LoyaltyError, Refused
from loyaltyctl.private_files import create_file
from loyaltyctl.storage.db import CountingIds, Store
from loyaltyctl.storage.migrations import refuse_unknown

# "LOY1" in the SQLite header marks a file as a loyaltyctl database.
APPLICATION_ID = 0x4C4F5931
BUSY_TIMEOUT_SECONDS = 30.0
MIGRATIONS_TABLE = "_sqlite_migrations"  # the table sqlite-utils' Migrations kept, so older files migrate on


class SqliteStore(Store):
    dialect = "sqlite"
    migrations_table = MIGRATIONS_TABLE

    def __init__(self, conn: sqlite3.Connection, path: Path, read_only: str | None):
        self.conn, self.path, self.read_only = conn, path, read_only
        self.location = str(path)

    def execute(self, sql: str, params: Sequence | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence | dict]) -> None:
        self.conn.executemany(sql, rows)

    def executescript(self, sql: str) -> None:
        """Statement by statement (sqlite3's own executescript would commit the open transaction first)."""
        statement = ""
        for line in sql.splitlines(keepends=True):
            statement += line
            if sqlite3.complete_statement(statement):
                self.conn.execute(statement)
                statement = ""
        if statement.strip():
            self.conn.execute(statement)

    def stream(self, sql: str, size: int = 5000) -> Iterator[list[tuple]]:
        cursor = self.conn.execute(sql)
        while rows := cursor.fetchmany(size):
            yield rows

    def tables(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _begin(self, programs: Sequence[str], mode: str) -> None:
        self.conn.execute("BEGIN IMMEDIATE")  # the file's write lock, taken before anything is read

    def guard(self, sql: str, params: Sequence) -> None:
        """Nothing to guard: one writer at a time."""

    def _begin_snapshot(self) -> None:
        self.conn.execute("BEGIN")
        self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a read fixes the snapshot

    def _commit(self) -> None:
        self.conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self.conn.in_transaction:  # SQLite may have rolled back already (after SQLITE_FULL)
            self.conn.execute("ROLLBACK")

    def refusal(self, error: BaseException) -> LoyaltyError | None:
        return sqlite_refusal(error, self.location)

    def entry_ids(self) -> CountingIds:
        return CountingIds((self.conn.execute("SELECT max(id) FROM entries").fetchone()[0] or 0) + 1)

    def lot_ids(self) -> CountingIds:
        return CountingIds((self.conn.execute("SELECT max(id) FROM lots").fetchone()[0] or 0) + 1)

    def next_ids(self, table: str, count: int) -> str:
        return f"(SELECT coalesce(max(id), 0) + 1 FROM {table})"  # one writer at a time: every id after it is free

    def ids_from(self, table: str, value: int) -> CountingIds:
        return CountingIds(value)

    def json_rows(self, columns: str, from_sql: str) -> str:
        return f"(SELECT json_group_array(json(j)) FROM (SELECT json_array({columns}) AS j {from_sql}) AS found)"

    def hex(self, column: str) -> str:
        return f"hex({column})"

    def json_value(self, value: str) -> list:
        return msgspec.json.decode(value)

    def not_in(self, column: str, param: str) -> str:
        return f"{column} NOT IN (SELECT value FROM json_each(:{param}))"

    def id_list(self, ids: Sequence[int]) -> str:
        return json.dumps(list(ids))

    def indexed_by(self, index: str) -> str:
        return f"INDEXED BY {index}"

    def check_writable_for_migration(self) -> None:
        if self.read_only is not None:
            self.conn.close()
            raise BadInput(f"{self.path}: the database is read-only ({self.read_only}) and needs this loyaltyctl's "
                           "schema; make it writable and run `loyaltyctl init`")

    def mark_ours(self) -> None:
        self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def set_cache_size(self, kib: int) -> None:
        """SQLite's page cache for this connection (bulk writes into big indexes want more than the 2 MiB default)."""
        self.conn.execute(f"PRAGMA cache_size = -{int(kib)}")

    def close(self) -> None:
        self.conn.close()


def _check_is_ours(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse, without writing anything, a file that is not (or not yet) ours."""
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.OperationalError as err:  # SQLite could not read it (locks, -shm): says nothing of the file
        raise sqlite_refusal(err, str(path)) or BadInput(f"{path}: cannot open database: {err}") from None
    except sqlite3.DatabaseError:
        raise BadInput(f"{path}: not a loyaltyctl database (not an SQLite file)") from None
    if application_id != APPLICATION_ID and tables:
        raise BadInput(f"{path}: not a loyaltyctl database (it holds other tables)")
    if application_id == APPLICATION_ID:
        refuse_unknown(str(path), conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?",
                                               ["loyaltyctl"]))


def companions(path: Path) -> tuple[Path, Path]:
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
    for companion in companions(path):
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
    elif any(companion.exists() for companion in companions(path)) or os.access(path.absolute().parent, os.W_OK):
        parameters = {"mode": "ro"}
    else:
        parameters = {"mode": "ro", "immutable": "1"}
    try:
        return sqlite3.connect(_uri(path, **parameters), uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    except sqlite3.OperationalError as err:
        raise BadInput(f"{path}: cannot open database: {err}") from None


def _create_private(path: Path) -> None:
    """The new database file, made private before SQLite opens it: the -wal, -shm and -journal files SQLite
    makes beside it take its mode (members' names, emails and birthdays are in them all)."""
    try:
        create_file(path)
    except FileExistsError:
        pass  # another process created it a moment ago: open theirs
    except OSError as error:
        raise BadInput(f"{path}: cannot create the database: {error.strerror}") from None


def open_sqlite(path: Path, *, create: bool) -> SqliteStore:
    """A database file SQLite cannot write is opened read-only, so that reading still works; `write()`
    refuses the first write. The connection is in autocommit mode; writes go through `write()`."""
    if path.is_dir():
        raise BadInput(f"{path}: is a directory, not a database file")
    if not create and not path.exists():
        raise BadInput(f"no loyaltyctl database at {path}; `loyaltyctl init` creates one")
    if create and not path.exists():
        _create_private(path)
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
        raise sqlite_refusal(err, str(path)) or BadInput(f"{path}: cannot open database: {err}") from None
    return SqliteStore(conn, path, read_only)


def sqlite_refusal(error: BaseException, path: str | None = None) -> LoyaltyError | None:
    """SQLite refusing for a reason outside loyaltyctl, as one line for the user; None for other errors.

    Busy and a full disk are refusals (exit 1): nothing was written and the same
    command can work later. (A disk too full to even open a WAL database shows
    as SQLite failing to grow the -shm file.) A read-only database is bad usage
    (exit 2), like a wrong path: the command cannot work until the setup changes.
    """
    if isinstance(error, sqlite3.IntegrityError) and str(error) == "UNIQUE constraint failed: voucher_codes.code":
        return Contended(f"a new voucher code is already taken ({error}); try again")  # a draw of 55 random bits
    if not isinstance(error, sqlite3.OperationalError):
        return None
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


def refuse_as_new_file(target: Path) -> None:
    if target.exists():
        raise BadInput(f"{target}: already exists; choose a new file name")
    if not target.parent.is_dir():
        raise BadInput(f"{target}: cannot create the file: there is no folder {target.parent}")


def backup_file(db: SqliteStore, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while other processes write.

    One that fails (a full disk) removes what it wrote: a half copy must not pass for a backup.
    """
    refuse_as_new_file(target)
    try:
        create_file(target)
    except OSError as error:
        raise BadInput(f"{target}: cannot create the backup: {error.strerror}") from None
    try:
        destination = sqlite3.connect(target)
    except sqlite3.OperationalError as error:
        target.unlink(missing_ok=True)
        raise BadInput(f"{target}: cannot create the backup: {error}") from None
    try:
        db.conn.backup(destination)
    except BaseException as error:
        destination.close()
        target.unlink(missing_ok=True)
        refusal = sqlite_refusal(error, str(target))
        if refusal:
            raise refusal from None
        raise
    finally:
        destination.close()
