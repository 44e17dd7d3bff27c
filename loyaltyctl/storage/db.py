"""The database a command works on: one interface over SQLite (the default) and PostgreSQL.

Every query in loyaltyctl is written once, with SQLite's `?` and `:name`
placeholders, in the SQL both dialects agree on; the few places where they
do not ask the store for a small piece (`Store.not_in`, `Store.indexed_by`).
`storage.connect.open_db` picks the backend from the location: a
`postgresql://` URL, or a file path.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from loyaltyctl.errors import Contended, LoyaltyError

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(POSTGRES_SCHEMES)


def in_chunks(values: Sequence, size: int = 500) -> Iterator[tuple[list, str]]:
    """`values` a few hundred at a time with their `?` marks, for `IN (...)`: one query per chunk stays
    well under SQLite's bound-parameter limit."""
    for start in range(0, len(values), size):
        chunk = list(values[start : start + size])
        yield chunk, ",".join("?" * len(chunk))


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """INSERT of one row into these columns, in placeholders every backend takes."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


class Ids(Protocol):
    """Ids for rows loyaltyctl numbers itself before writing them: an entry's id is part of its hash,
    and a lot's id is named by the takes written with it."""

    def peek(self) -> int: ...

    def __next__(self) -> int: ...


class CountingIds:
    """Consecutive ids from `start` (SQLite: one writer at a time, so max(id) + 1 is free)."""

    def __init__(self, start: int):
        self._next = start

    def peek(self) -> int:
        return self._next

    def __next__(self) -> int:
        self._next += 1
        return self._next - 1

    def __iter__(self) -> "CountingIds":
        return self


EXCLUSIVE, SHARED, OPTIMISTIC = "exclusive", "shared", "optimistic"  # the modes of `write`


class Store:
    """A loyaltyctl database connection. Subclasses: `storage.sqlite.SqliteStore`, `storage.postgres.PostgresStore`."""

    dialect: str
    location: str  # as shown to users (a URL without its password)
    migrations_table: str
    row_lock = ""  # what locks the rows a SELECT reads until the transaction ends (SQLite: the file is locked)
    share_lock = ""  # what locks them against a FOR UPDATE, not against other postings (the program one is in)
    # Whether a member's row is found with its program as well as its id: on Citus the program names the
    # shard (a locking read of all shards is refused); elsewhere the id alone is the cheaper probe.
    members_by_program = False
    ids_in_read = True  # whether a posting's read draws its ids (ledger.read_counter)
    # How a posting's write runs, as tried in turn (operations.ledger.counter_posting); SQLite's holds the file.
    posting_modes: tuple[str, ...] = (SHARED,)

    def execute(self, sql: str, params: Sequence | dict = ()) -> Any:
        """Run one statement; the result is a cursor (iterate it, or fetchone/fetchall)."""
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence | dict]) -> None:
        raise NotImplementedError

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence]) -> None:
        """Append many rows to a table, the fastest way the backend has (PostgreSQL: COPY)."""
        if rows:  # (an empty statement is still prepared: a migration's may name columns a later one adds)
            self.executemany(insert_sql(table, columns), rows)

    def executescript(self, sql: str) -> None:
        """Several statements without parameters (schema steps)."""
        raise NotImplementedError

    def stream(self, sql: str, size: int = 5000) -> Iterator[list[tuple]]:
        """A big result in batches of rows, memory flat in its size."""
        raise NotImplementedError

    def tables(self) -> set[str]:
        raise NotImplementedError

    _kept: dict | None = None  # what `remember` keeps for the transaction open now

    @property
    def between_transactions(self) -> dict:
        """What the code above keeps for this connection from one transaction to the next (a program's
        state a posting reads; each checks it is current under its locks)."""
        if "_between" not in self.__dict__:
            self._between: dict = {}
        return self._between

    def begin(self, programs: Sequence[str], mode: str = EXCLUSIVE) -> None:
        """Start a write holding what it needs up front (see `write`)."""
        self.reopen_if_lost()
        self._begin(programs, mode)
        self._kept = {}

    in_snapshot = False

    def begin_snapshot(self) -> None:
        """Start a read-only transaction that sees one consistent state (a report, a copy, a backup)."""
        self.reopen_if_lost()
        self._begin_snapshot()
        self._kept = {}
        self.in_snapshot = True

    commits = 0  # COMMITs sent on this connection (one cut short may or may not have been written)

    def commit(self) -> None:
        self._kept = None
        self.commits += 1
        self._commit()

    def rollback(self) -> None:
        self._kept, self.in_snapshot = None, False
        self._rollback()

    def remember(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """A lookup computed once per transaction (a program and its versions, read by every step of a
        posting): inside one, nothing another writer commits can change it; outside, it is read each time."""
        if self._kept is None:
            return compute()
        if key not in self._kept:
            self._kept[key] = compute()
        return self._kept[key]

    def forget(self) -> None:
        """Drop what `remember` kept: the transaction itself changed it (a program version applied)."""
        if self._kept is not None:
            self._kept.clear()

    def _begin(self, programs: Sequence[str], mode: str) -> None:
        raise NotImplementedError

    def guard(self, sql: str, params: Sequence) -> None:
        """An optimistic write's condition: a SELECT of one boolean, true while what the write read is as
        it was. Its rows are written only where it holds, and `commit` raises Conflict where it does not.
        (Backends that write optimistically only; a locked write needs none.)"""

    def _begin_snapshot(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def refusal(self, error: BaseException) -> LoyaltyError | None:
        """The driver refusing for a reason outside loyaltyctl (busy, read-only, disk full), as one line."""
        raise NotImplementedError

    def entry_ids(self) -> Ids:
        raise NotImplementedError

    def lot_ids(self) -> Ids:
        raise NotImplementedError

    def next_ids(self, table: str, count: int) -> str:
        """SQL for the next `count` ids of a table, as one value for `ids_from` (a column of a SELECT)."""
        raise NotImplementedError

    def ids_from(self, table: str, value: Any) -> Ids:
        """The ids `next_ids` read, then more as they are needed."""
        raise NotImplementedError

    def json_rows(self, columns: str, from_sql: str) -> str:
        """SQL for the rows of `SELECT columns from_sql` as one JSON array of arrays (for `json_value`): many
        small reads as one column of one statement."""
        raise NotImplementedError

    def hex(self, column: str) -> str:
        """SQL for a bytes column as hexadecimal text (NULL or empty where it is NULL)."""
        raise NotImplementedError

    def json_value(self, value: Any) -> Any:
        """A JSON value as Python's, whichever way the driver returned it."""
        return value

    def update_rows(self, table: str, key: str, columns: Sequence[str], rows: Sequence[Sequence],
                    program_id: int | None = None) -> None:
        """Set `columns` of the rows whose `key` is each row's last value (of the program, where one is given:
        on Citus the statement then goes to that program's shard alone)."""
        scoped, extra = (" AND program_id = ?", (program_id,)) if program_id is not None else ("", ())
        self.executemany(f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE {key} = ?{scoped}",
                         [(*row, *extra) for row in rows])

    def upsert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence], key: str,
               update: Sequence[str]) -> None:
        """Insert rows, or where `key` (the table's primary key) is taken set the `update` columns."""
        self.executemany(f"{insert_sql(table, columns)} {self.conflict(table, key)} DO UPDATE SET "
                         + ", ".join(f"{c} = excluded.{c}" for c in update), rows)

    def conflict(self, table: str, key: str) -> str:
        """An upsert's ON CONFLICT for the table's primary key `key`."""
        return f"ON CONFLICT ({key})"

    def ddl(self, sql: str) -> str:
        """SQLite DDL as this backend writes it."""
        return sql

    def not_in(self, column: str, param: str) -> str:
        """`column` is not among the ids the parameter `param` holds (pass them through `id_list`)."""
        raise NotImplementedError

    def id_list(self, ids: Sequence[int]) -> Any:
        """A list of ids as one parameter, for `not_in`."""
        raise NotImplementedError

    def indexed_by(self, index: str) -> str:
        """A hint to read through `index` where the planner would not (SQLite only)."""
        return ""

    def set_cache_size(self, kib: int) -> None:
        """Room for a bulk write's index pages, where the backend keeps a per-connection cache."""

    def refresh_statistics(self) -> None:
        """Tell the query planner how big the ledger has grown inside a long write (a first big import)."""

    def check_writable_for_migration(self) -> None:
        """Refuse, before trying, a database this loyaltyctl must migrate but cannot write."""

    def mark_ours(self) -> None:
        """Label a database loyaltyctl's as its schema is created."""

    def after_migrations(self) -> None:
        """What the backend does with the tables migrations made (Citus distributes them)."""

    def after_copy(self, generated: Sequence[tuple[str, str]]) -> None:
        """Bring the generators of these (table, column) ids past the ids a copy wrote."""

    def close(self) -> None:
        raise NotImplementedError

    def connection_lost(self) -> bool:
        """Whether the server or the network dropped the connection (a file's never is)."""
        return False

    def reopen_if_lost(self) -> None:
        """Open the connection again if it was lost."""


class Discard(Exception):
    """Raised inside `write()` to roll the transaction back quietly (a dry run, a strict run with bad rows)."""


class Conflict(Exception):
    """An optimistic write found that what it read had changed since (another till got there first), or
    needed to read after it had begun to write: nothing was written; run it again, holding locks."""


@contextmanager
def write(db: Store, *programs: str, mode: str = EXCLUSIVE) -> Iterator[Store]:
    """One write that holds, from its first statement, what its decisions need.

    SQLite locks the whole file, whatever the mode. On PostgreSQL:
    - EXCLUSIVE (program-wide work: applying a version, an import, expiry, a
      close) locks the programs' rows, so writers of a program's whole
      ledger take turns and postings wait for them;
    - SHARED (a posting) locks nothing here: its first statement locks the
      program shared and the rows of the members it touches
      (`ledger.read_counter`), so tills posting for different members never
      wait for each other;
    - OPTIMISTIC (a posting, first try) holds no lock while it decides: it
      reads in one statement and writes in one, which writes only if the
      program's rules and its members' ledgers are as it read them (`guard`),
      else raises Conflict (the poster runs it again SHARED).
    Anything that stops it rolls it back; the driver's own refusals (busy,
    read-only, disk full) leave as a one-line LoyaltyError.
    """
    try:
        db.begin(programs, mode)
    except Exception as error:  # a lock not granted in time: PostgreSQL's transaction has begun and failed
        db.rollback()
        _raise_refusal(db, error)
    committing = False  # once the rows or the COMMIT go out, whether they were written is unknown
    try:
        yield db
        committing = True
        db.commit()
    except Discard:
        db.rollback()
    except Conflict:
        db.rollback()
        raise
    except Exception as error:
        db.rollback()
        if not committing and db.connection_lost():  # before its COMMIT went out: rolled back by the server
            raise Contended(f"{db.location}: lost the database connection before anything was written; "
                            "run it again") from None
        _raise_refusal(db, error)
    except BaseException:  # Ctrl-C: rolled back; a driver stopped mid-statement that cannot roll back now
        try:               # drops the connection instead, which rolls it back on the server
            db.rollback()
        except Exception:
            db.close()
        raise


def _raise_refusal(db: Store, error: Exception):
    refusal = db.refusal(error)
    if refusal is None:
        raise error
    raise refusal from None
