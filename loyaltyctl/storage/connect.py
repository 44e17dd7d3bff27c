"""Opening a loyaltyctl database: the backend a location names, migrated to this release's schema."""

import sys
from collections.abc import Callable
from pathlib import Path

from loyaltyctl.errors import LoyaltyError
from loyaltyctl.storage import migrations
from loyaltyctl.storage.db import Store, is_postgres, write
from loyaltyctl.storage.sqlite import SqliteStore, open_sqlite, refuse_as_new_file, sqlite_refusal


def open_db(location: str | Path, *, create: bool = False,
            after_migrating: Callable[[Store], None] | None = None) -> Store:
    """Open a loyaltyctl database, migrating it when needed (and then calling `after_migrating` in the same
    transaction); `create` makes a missing one.

    Only `init`, `demo` and `program apply` create: a mistyped location
    anywhere else is an error, not a new empty ledger (SPEC "Missing
    database"). On PostgreSQL the database must exist; creating means
    creating loyaltyctl's tables in it.
    """
    if is_postgres(location):
        from loyaltyctl.storage.postgres import open_postgres

        store: Store = open_postgres(str(location), create=create)
    else:
        store = open_sqlite(Path(location), create=create)
    if migrations.pending(store):
        store.check_writable_for_migration()
        try:
            with write(store):
                if migrations.pending(store):  # again under the write lock: another process may have migrated
                    migrations.apply(store)
                    if after_migrating:
                        after_migrating(store)
        except LoyaltyError:
            if migrations.pending(store):  # not a race another process won: a real refusal
                raise
    return store


def schema_version(db: Store) -> int:
    """How many migrations the database has applied."""
    return len(migrations.applied(db))


def storage_refusal(error: BaseException) -> LoyaltyError | None:
    """A driver error that escaped `write()` (a read outside one), as one line; None for any other error."""
    found = sqlite_refusal(error)
    if found is None and "psycopg" in sys.modules:
        from loyaltyctl.storage.postgres import postgres_refusal

        found = postgres_refusal(error)
    return found


def new_sqlite_file(target: Path) -> SqliteStore:
    """A new, empty loyaltyctl SQLite file for a copy or a backup; an existing file is refused."""
    refuse_as_new_file(target)
    store = open_db(target, create=True)
    assert isinstance(store, SqliteStore)
    return store
