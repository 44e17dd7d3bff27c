"""The command-line interface: one Typer app, a group per concern, one error boundary.

A command's module is imported when that command runs, not before: `main` builds the root app with
only the command its arguments name, so `balance` loads what a balance needs, not the importer, the
reports and the demo. `--help`, no command, or one it does not know (for "Did you mean") get them all,
as does `app`, the whole app for tests and embedding.
"""

import sys

from loyaltyctl.errors import EXIT_INTERRUPTED, NOTHING_WRITTEN

try:  # a tenth of a second of start-up: Ctrl-C here is one line too, not a traceback through Typer's imports
    import importlib
    import os
    from collections.abc import Sequence
    from typing import Annotated

    import typer

    from loyaltyctl import __version__, render
    from loyaltyctl.cli import common
    from loyaltyctl.cli.common import Settings, add_command, command, debug_enabled
except KeyboardInterrupt:
    print(f"interrupted: {NOTHING_WRITTEN}", file=sys.stderr)
    sys.exit(EXIT_INTERRUPTED)

# name -> "module:Typer app"; a group is the app itself, a command is found by name in its app
GROUPS = {
    "program": "loyaltyctl.cli.program:program_app",
    "member": "loyaltyctl.cli.member:member_app",
    "txn": "loyaltyctl.cli.txn:txn_app",
    "bonus": "loyaltyctl.cli.bonus:bonus_app",
    "action": "loyaltyctl.cli.action:action_app",
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
# `action MEMBER CODE` is a command of its own; `action import`, `action --help` and `action` the group
ACTION_POSTING = "loyaltyctl.cli.action:posting_app"
# Set, with no arguments, by the scripts `--install-completion` installs when the shell asks what may come
# next: the answer needs every command.
COMPLETION_REQUEST = "_LOYALTYCTL_COMPLETE"
COMPLETION_OPTIONS = ("--show-completion", "--install-completion")
SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
NO_SHELL_DETECTION = "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"
ORDER = ("init", "demo", "program", "member", "txn", "earn", "redeem", "adjust", "reverse", "transfer",
         "balance", "expire", "quote", "voucher", "statement", "bonus", "action", "report", "period", "db")


def _version(value: bool) -> None:
    if value:
        print(f"loyaltyctl {__version__}")
        raise typer.Exit()


def global_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="LOYALTYCTL_DB", show_default=False, metavar="PATH",
                     help="Database: a file (default ./loyalty.db) or a postgresql:// URL."),
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Run a customer loyalty program from a terminal: programs in TOML, an
    append-only points ledger in SQLite or PostgreSQL, statements and accounting reports."""
    ctx.obj = Settings(db=db)


_root_commands = typer.Typer()  # what the root defines itself, for `make_app` to register


@command(_root_commands, "init")
def init(ctx: typer.Context) -> None:
    """Create the database, or migrate it to this version's schema."""
    books = common.ledger(ctx, create=True)  # (`ledger` here is the package's cli.ledger module once loaded)
    print(f"{books.location}: loyaltyctl database, schema version {books.schema_version()}")


def make_app(args: Sequence[str] | None = None) -> typer.Typer:
    """The root app with the commands `args` need (every command when None): only the command they name,
    its group or its module's command alone, so that only its module is imported and only its parameters
    are built. With every command come `--install-completion` and `--show-completion` (Typer's, which
    import the shell detection a counter command does without)."""
    names = ORDER if args is None else _needed(args)
    if names == ORDER:
        _shell_named_or_detected(args or ())
    root = typer.Typer(
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=names == ORDER,
        help="Run a customer loyalty program from a terminal.",
    )
    root.callback()(global_options)
    for name in names:
        if name == "action" and _posts_an_action(args or ()):
            alone = typer.Typer()
            add_command(alone, _loaded(ACTION_POSTING), name)
            root.add_typer(alone)
        elif name in GROUPS:
            root.add_typer(_loaded(GROUPS[name]), name=name)
        else:  # a Typer of its own, added without a name: listed in ORDER among the groups, not before them
            alone = typer.Typer()
            add_command(alone, _root_commands if name == "init" else _loaded(COMMANDS[name]), name)
            root.add_typer(alone)
    return root


def _shell_named_or_detected(args: Sequence[str]) -> None:
    """`--show-completion zsh` prints zsh's script whichever shell runs it (for a dotfile or a package);
    bare, `--show-completion` and `--install-completion` are for the shell they run in. Typer's options
    take a shell name only when told not to detect the shell (its switch, read when the app built here
    runs), so it is told exactly when one is named."""
    named = any(option in COMPLETION_OPTIONS and value in SHELLS for option, value in zip(args, args[1:]))
    named |= any(arg.partition("=")[0] in COMPLETION_OPTIONS for arg in args if "=" in arg)
    if named:
        os.environ[NO_SHELL_DETECTION] = "1"
    else:
        os.environ.pop(NO_SHELL_DETECTION, None)


def _loaded(target: str) -> typer.Typer:
    module_name, attribute = target.split(":")
    return getattr(importlib.import_module(module_name), attribute)


def _needed(args: Sequence[str]) -> Sequence[str]:
    """The command `args` run, after the global options; none for `--version`, which answers before any
    command is looked up; every command when they name none it knows (`--help`, nothing, a typo: the list
    and "Did you mean" name them all)."""
    position = _command_position(args)
    if position is None:
        return ()
    if position < len(args) and args[position] in ORDER:
        return (args[position],)
    return ORDER


def _command_position(args: Sequence[str]) -> int | None:
    """Where the command's name is in `args`, after the global options (None: `--version`)."""
    position = 0
    while position < len(args):
        if args[position] == "--version":
            return None
        if args[position] == "--db":
            position += 2
        elif args[position].startswith("--db="):
            position += 1
        else:
            break
    return position


def _posts_an_action(args: Sequence[str]) -> bool:
    """`action` followed by anything but `import` or `--help`: the posting, not the group."""
    position = _command_position(args)
    following = args[position + 1:position + 2] if position is not None else []
    return bool(following) and following[0] not in ("import", "--help")


_whole_app: typer.Typer | None = None


def __getattr__(name: str) -> typer.Typer:
    """`app`: every command, built on first use (importing this package stays cheap for `main`)."""
    global _whole_app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _whole_app is None:
        _whole_app = make_app()
    return _whole_app


def main() -> None:
    """Console entry point: no traceback reaches a user unless LOYALTYCTL_DEBUG is set."""
    try:
        make_app(None if COMPLETION_REQUEST in os.environ else sys.argv[1:])()
    except KeyboardInterrupt:  # Ctrl-C before a command began (each command answers its own)
        render.note(f"interrupted: {common.left_behind(None)}")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # noqa: BLE001 - the last line of defence
        if debug_enabled():
            raise
        render.note(f"internal error: {type(error).__name__}: {error} (set LOYALTYCTL_DEBUG=1 for details)")
        sys.exit(70)
