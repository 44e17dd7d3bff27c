"""`loyaltyctl db …`: integrity check, online backup, and copies between SQLite and PostgreSQL."""

from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import FormatOption, command, database, snapshot
from loyaltyctl.errors import EXIT_REFUSED
from loyaltyctl.storage.copy import copy_database, count_rows
from loyaltyctl.storage.connect import new_sqlite_file, open_db
from loyaltyctl.storage.db import Store, is_postgres
from loyaltyctl.storage.sqlite import SqliteStore, backup_file, companions
from loyaltyctl.storage.integrity import count_entries, first_broken_link, reconciliation_problems

db_app = typer.Typer(no_args_is_help=True, help="Check, back up and copy the database.")


@command(db_app, "verify")
def verify(ctx: typer.Context, fmt: FormatOption = render.Format.table) -> None:
    """Check the hash chain and reconcile every balance.

    Every lot, week total, voucher and closed period too; exit 1 naming the first bad entry."""
    db = snapshot(ctx)
    broken = first_broken_link(db)
    problems = reconciliation_problems(db)
    entries = count_entries(db)
    data = {
        "ok": broken is None and not problems,
        "entries": entries,
        "first_bad_entry": broken[0] if broken else None,
        "problems": ([f"entry {broken[0]}: {broken[1]}"] if broken else []) + problems,
    }
    render.emit(render.Report(data, [f"{entries} entries: "
                                     + ("hash chain intact, balances reconcile" if data["ok"] else "PROBLEMS")]), fmt)
    for problem in data["problems"]:
        render.note(f"error: {problem}")
    if not data["ok"]:
        raise typer.Exit(EXIT_REFUSED)


@command(db_app, "backup")
def backup(ctx: typer.Context, file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the copy (a new file).")]) -> None:
    """Write a consistent SQLite copy of the database.

    From SQLite or PostgreSQL, safe while others write."""
    db = database(ctx)
    if isinstance(db, SqliteStore):
        backup_file(db, file)
    else:
        _copy_into_new(db, new_sqlite_file(file), remove_on_failure=file)
    render.note(f"backed up {db.location} to {file}")


@command(db_app, "copy")
def copy(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="The database to copy: a file or a postgresql:// URL.")],
    target: Annotated[str, typer.Argument(metavar="TARGET", help="A new file, or an empty PostgreSQL database.")],
    fmt: FormatOption = render.Format.table,
) -> None:
    """Copy a whole database between SQLite and PostgreSQL.

    Either way; the copy is verified before it is kept."""
    from_db = open_db(source)
    if is_postgres(target):
        to_db, created = open_db(target, create=True), None
    else:
        to_db, created = new_sqlite_file(Path(target)), Path(target)
    counts = _copy_into_new(from_db, to_db, remove_on_failure=created)
    data = {"source": from_db.location, "target": to_db.location, "rows": counts, "verified": True}
    render.emit(render.Report(data, [f"copied {sum(counts.values())} rows ({counts['entries']} entries) from "
                                     f"{from_db.location} to {to_db.location}; db verify: hash chain intact, "
                                     "balances reconcile"]), fmt)


def _copy_into_new(source: Store, target: Store, remove_on_failure: Path | None) -> dict[str, int]:
    """Copy (verified inside the copy's transaction, see `copy_database`); a new file a failed copy leaves is removed."""
    try:
        with render.progress(count_rows(source), f"copying to {target.location}") as advance:
            return copy_database(source, target, lambda rows: advance and advance(rows))
    except BaseException:
        if remove_on_failure is not None:
            target.close()
            for leftover in (remove_on_failure, *companions(remove_on_failure)):
                leftover.unlink(missing_ok=True)
        raise
