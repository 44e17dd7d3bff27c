"""`loyaltyctl db …`: integrity check and online backup."""

from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import FormatOption, command, database
from loyaltyctl.errors import EXIT_REFUSED, BadInput
from loyaltyctl.storage.db import backup_to
from loyaltyctl.storage.integrity import count_entries, first_broken_link, reconciliation_problems

db_app = typer.Typer(no_args_is_help=True, help="Check and back up the database.")


@command(db_app, "verify")
def verify(ctx: typer.Context, fmt: FormatOption = render.Format.table) -> None:
    """Recompute the hash chain and reconcile every balance; exit 1 naming the first bad entry."""
    db = database(ctx)
    broken = first_broken_link(db)
    problems = reconciliation_problems(db)
    entries = count_entries(db)
    data = {
        "ok": broken is None and not problems,
        "entries": entries,
        "first_bad_entry": broken[0] if broken else None,
        "problems": ([f"entry {broken[0]}: {broken[1]}"] if broken else []) + problems,
    }
    render.emit(data, fmt, lambda d: f"{d['entries']} entries: " + ("hash chain intact, balances reconcile" if d["ok"] else "PROBLEMS"))
    for problem in data["problems"]:
        render.note(f"error: {problem}")
    if not data["ok"]:
        raise typer.Exit(EXIT_REFUSED)


@command(db_app, "backup")
def backup(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="Where to write the copy.")]) -> None:
    """Copy the database with SQLite's online backup API (safe while others write)."""
    if file.exists():
        raise BadInput(f"{file}: already exists; choose a new file name")
    pages = backup_to(database(ctx), file)
    render.note(f"backed up {pages} pages to {file}")
