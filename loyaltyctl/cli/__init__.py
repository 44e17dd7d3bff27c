"""The command-line interface: one Typer app, a group per concern, one error boundary."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import __version__, render
from loyaltyctl.cli.bonus import bonus_app
from loyaltyctl.cli.common import Settings, command, debug_enabled, settings
from loyaltyctl.cli.db import db_app
from loyaltyctl.cli.demo import demo
from loyaltyctl.cli.ledger import ledger_app
from loyaltyctl.cli.member import member_app
from loyaltyctl.cli.period import period_app
from loyaltyctl.cli.program import program_app
from loyaltyctl.cli.report import report_app
from loyaltyctl.cli.statement import statement
from loyaltyctl.cli.txn import txn_app
from loyaltyctl.storage.db import open_db, schema_version

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Run a customer loyalty program from a terminal.",
)
app.add_typer(program_app, name="program")
app.add_typer(member_app, name="member")
app.add_typer(txn_app, name="txn")
app.add_typer(ledger_app)
app.add_typer(bonus_app, name="bonus")
app.add_typer(report_app, name="report")
app.add_typer(period_app, name="period")
app.add_typer(db_app, name="db")
command(app, "demo")(demo)
command(app, "statement")(statement)


def _version(value: bool) -> None:
    if value:
        print(f"loyaltyctl {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="LOYALTYCTL_DB", show_default=False,
                     help="Database: a file (default ./loyalty.db) or a postgresql:// URL."),
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Run a customer loyalty program from a terminal: programs in TOML, an
    append-only points ledger in SQLite or PostgreSQL, statements and accounting reports."""
    ctx.obj = Settings(db=db)


@command(app, "init")
def init(ctx: typer.Context) -> None:
    """Create the database, or migrate it to this version's schema."""
    db = open_db(settings(ctx).db_location(), create=True)
    print(f"{db.location}: loyaltyctl database, schema version {schema_version(db)}")


def main() -> None:
    """Console entry point: no traceback reaches a user unless LOYALTYCTL_DEBUG is set."""
    try:
        app()
    except Exception as error:  # noqa: BLE001 - the last line of defence
        if debug_enabled():
            raise
        render.note(f"internal error: {type(error).__name__}: {error} (set LOYALTYCTL_DEBUG=1 for details)")
        sys.exit(70)
