"""`loyaltyctl db …`: integrity check and seals, online backup, and copies between SQLite and PostgreSQL."""

from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.api import copy as copy_database
from loyaltyctl.cli.common import FormatOption, command, ledger
from loyaltyctl.errors import EXIT_REFUSED
from loyaltyctl.formats.shapes import plain

db_app = typer.Typer(no_args_is_help=True, help="Check, seal, back up and copy the database.")


@command(db_app, "verify")
def verify(ctx: typer.Context, fmt: FormatOption = render.Format.table) -> None:
    """Check the hash chains and seals and reconcile every balance.

    Every member's chain of entries and every seal, every lot, kept balance, week total, voucher and
    closed period; writes nothing. Exit 1 naming the first bad entry or member. Prints each program's
    last seal digest: compare it with one kept elsewhere."""
    result = ledger(ctx).verify()
    lines = [f"{result.entries} entries: " + ("hash chain intact, balances reconcile" if result.ok else "PROBLEMS")]
    lines += [f"last seal of {code}: {digest}" for code, digest in result.seals.items()]
    render.emit(render.Report(plain(result), lines), fmt)
    for problem in result.problems:
        render.note(f"error: {problem}")
    if not result.ok:
        raise typer.Exit(EXIT_REFUSED)


@command(db_app, "seal")
def seal(ctx: typer.Context, program: Annotated[str | None, typer.Option(
             "--program", "-p", metavar="CODE", help="Program code (default: every program).")] = None,
         fmt: FormatOption = render.Format.table) -> None:
    """Seal the ledger: record every member's chain head.

    Each program's seal covers the heads of the members whose entries grew since its last one and that
    seal's digest; `expire` and `period close` seal too. Keep the digest printed somewhere else: `db
    verify` shows whether the seals still lead to it."""
    digests = ledger(ctx).seal(program)
    render.emit(render.Report({"seals": digests}, [f"last seal of {code}: {digest}"
                                                  for code, digest in digests.items()] or ["nothing to seal"]), fmt)


@command(db_app, "backup")
def backup(ctx: typer.Context, file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the copy (a new file).")]) -> None:
    """Write a consistent SQLite copy of the database.

    From SQLite or PostgreSQL, safe while others write."""
    books = ledger(ctx)
    books.backup(file, render.progress)
    render.note(f"backed up {books.location} to {file}")


@command(db_app, "copy")
def copy(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="The database to copy: a file or a postgresql:// URL.")],
    target: Annotated[str, typer.Argument(metavar="TARGET", help="A new file, or an empty PostgreSQL database.")],
    fmt: FormatOption = render.Format.table,
) -> None:
    """Copy a whole database between SQLite and PostgreSQL.

    Either way; the copy is verified before it is kept."""
    copied = copy_database(source, target, render.progress)
    render.emit(render.Report(plain(copied), [
        f"copied {sum(copied.rows.values())} rows ({copied.rows['entries']} entries) from {copied.source} to "
        f"{copied.target}; db verify: hash chain intact, balances reconcile"]), fmt)
