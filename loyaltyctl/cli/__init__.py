"""The command-line interface: one Typer app, a group per concern, one error boundary.

A command's module is imported when that command runs, not before: `balance` loads what a
balance needs, not the importer, the reports and the demo (`--help` loads them all to list them).
"""

import importlib
import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from loyaltyctl import __version__, render
from loyaltyctl.cli.common import Settings, command, debug_enabled, settings
from loyaltyctl.storage.connect import open_db, schema_version

# name -> "module:Typer app"; a group is the app itself, a command is found by name in its app
GROUPS = {
    "program": "loyaltyctl.cli.program:program_app",
    "member": "loyaltyctl.cli.member:member_app",
    "txn": "loyaltyctl.cli.txn:txn_app",
    "bonus": "loyaltyctl.cli.bonus:bonus_app",
    "voucher": "loyaltyctl.cli.voucher:voucher_app",
    "report": "loyaltyctl.cli.report:report_app",
    "period": "loyaltyctl.cli.period:period_app",
    "db": "loyaltyctl.cli.db:db_app",
}
COMMANDS = {
    "demo": "loyaltyctl.cli.demo:demo_app",
    **{name: "loyaltyctl.cli.ledger:ledger_app"
       for name in ("earn", "redeem", "adjust", "reverse", "transfer", "balance", "expire", "quote")},
    "statement": "loyaltyctl.cli.statement:statement_app",
}
ORDER = ("init", "demo", "program", "member", "txn", "earn", "redeem", "adjust", "reverse", "transfer",
         "balance", "expire", "quote", "voucher", "statement", "bonus", "report", "period", "db")


class LazyCommands(TyperGroup):
    """The root group: commands defined here, and the others loaded from their module on first use."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(ORDER)

    def get_command(self, ctx: typer.Context, name: str):
        if name not in self.commands and (name in GROUPS or name in COMMANDS):
            module_name, attribute = (GROUPS.get(name) or COMMANDS[name]).split(":")
            found: typer.Typer = getattr(importlib.import_module(module_name), attribute)
            if name in GROUPS:
                self.commands[name] = typer.main.get_group(found)
                self.commands[name].name = name
            else:  # only this command's parameters are built, not its neighbours'
                info = next(info for info in found.registered_commands if info.name == name)
                self.commands[name] = typer.main.get_command_from_info(
                    info, pretty_exceptions_short=True, rich_markup_mode=self.rich_markup_mode)
        return self.commands.get(name)

    def resolve_command(self, ctx: typer.Context, args: list[str]):
        if args and args[0] not in ORDER:  # a typo: load every command so "Did you mean" can name them
            for name in ORDER:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=LazyCommands,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Run a customer loyalty program from a terminal.",
)


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
