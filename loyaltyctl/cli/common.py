"""What every command shares: options, the database, and the error boundary."""

import functools
import inspect
import os
from collections.abc import Callable
from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from msgspec import Struct
import typer

from loyaltyctl import render
from loyaltyctl.core.dates import parse_day
from loyaltyctl.errors import (EXIT_INTERRUPTED, EXIT_REJECTED_ROWS, NOTHING_WRITTEN, BadInput, Interrupted, InvalidProgram,
                               LoyaltyError)
from loyaltyctl.money import LARGEST_INTEGER, parse_whole
from loyaltyctl.api import driver_refusal

if TYPE_CHECKING:
    from loyaltyctl.api import Ledger

DEFAULT_DB = "loyalty.db"

F = TypeVar("F", bound=Callable[..., Any])


class Settings(Struct):
    """Global options, kept on the Typer context."""

    db: str | None = None  # a file path or a postgresql:// URL; None: not given, commands choose their default
    opened: "Ledger | None" = None  # the command's one connection, once opened

    def db_location(self, default: str = DEFAULT_DB) -> str:
        return self.db or default


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


def ledger(ctx: typer.Context, *, create: bool = False) -> "Ledger":
    """The database the command works on, one connection per command; only the commands that set one up
    `create` it."""
    from loyaltyctl.api import connect

    found = settings(ctx)
    if found.opened is None:
        found.opened = connect(found.db_location(), create=create)
    return found.opened


def stop_on_errors(func: F) -> F:
    """The error boundary: a LoyaltyError becomes a message on stderr and its exit code.

    Applied to every command, so CliRunner sees exactly what a user sees. A command's output options
    (`fmt`, `output`) are checked here, before it does any work. Ctrl-C is one line too, exit 130.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            try:
                render.check_destination(kwargs.get("fmt"), kwargs.get("output"))
                return func(*args, **kwargs)
            except BaseException as error:
                if not stopped_by_ctrl_c(error):
                    raise
                said = error if isinstance(error, Interrupted) else left_behind(kwargs.get("ctx"))
                render.note(f"interrupted: {said}")
                raise typer.Exit(EXIT_INTERRUPTED) from None
        except InvalidProgram as error:
            for problem in error.problems:
                render.note(f"error: {problem}")
            raise typer.Exit(error.exit_code) from None
        except LoyaltyError as error:
            render.note(f"error: {error}")
            raise typer.Exit(error.exit_code) from None
        except Exception as error:  # a driver's error that escaped write(): busy, read-only, disk full, no server
            refusal = driver_refusal(error)
            if refusal is None:
                raise
            render.note(f"error: {refusal}")
            raise typer.Exit(refusal.exit_code) from None

    return wrapper  # type: ignore[return-value]


def stopped_by_ctrl_c(error: BaseException) -> bool:
    """Ctrl-C itself, or an error raised while it was being handled: a database driver stopped mid-statement
    fails as it cleans up (psycopg: "another command is already in progress"), which is not the cause."""
    seen: set[int] = set()
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        if isinstance(found, (KeyboardInterrupt, Interrupted)):
            return True
        seen.add(id(found))
        found = found.__context__
    return False


def left_behind(ctx: typer.Context | None) -> str:
    """What a command stopped by Ctrl-C leaves: nothing, unless its connection had committed a write (each
    write is one transaction: one cut short left nothing). Commands that write in parts say more themselves
    (raising Interrupted)."""
    opened = settings(ctx).opened if ctx is not None else None
    if opened is not None and opened.has_written:
        return f"{opened.location} had been written to before it stopped; what was written is kept"
    return NOTHING_WRITTEN


def help_text(doc: str | None) -> str | None:
    """A docstring as help: each paragraph one line for the terminal to wrap, not broken where the
    docstring's lines end (Typer keeps those breaks in every paragraph after the summary)."""
    if not doc:
        return None
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in inspect.cleandoc(doc).split("\n\n"))


def command(app: typer.Typer, name: str, **settings: Any) -> Callable[[F], F]:
    """Register a command on `app` behind the error boundary, its help the docstring's paragraphs.

    Help reads like git's or sqlite-utils' where Typer's public API lets it: each option and argument
    names its metavar where it is declared (`--program CODE`, `--format [table|json]`, `MEMBER`, not
    `<str>`). Typer's own spellings stay where only its internals could change them: a required
    argument is `{MEMBER}` in the usage line, and the Arguments panel gives each argument's type."""

    def register(func: F) -> F:
        options = {"help": help_text(func.__doc__), **settings}
        wrapped = stop_on_errors(func)
        app.command(name, **options)(wrapped)
        _DEFINED.setdefault(app, {})[name] = (wrapped, options)
        return func

    return register


# The commands `command` registered, by app and name: what registering one of them again on another
# app takes (the root app `cli.make_app` builds holds only the command a run names).
_DEFINED: dict[typer.Typer, dict[str, tuple[Callable[..., Any], dict[str, Any]]]] = {}


def defined_commands(app: typer.Typer) -> list[str]:
    """The names of the commands `command` registered on `app`, in order."""
    return list(_DEFINED.get(app, {}))


def add_command(target: typer.Typer, source: typer.Typer, name: str) -> None:
    """Register on `target` the command `name` that `command` registered on `source`, and only that one:
    Typer builds the parameters of every command an app holds, `balance` needs its own alone."""
    wrapped, options = _DEFINED[source][name]
    target.command(name, **options)(wrapped)


def choices(kind: type[Enum]) -> str:
    """A choice option's metavar: `[table|json]`."""
    return f"[{'|'.join(str(choice.value) for choice in kind)}]"


ProgramOption = Annotated[str, typer.Option("--program", "-p", metavar="CODE", help="Program code.")]
FormatOption = Annotated[render.Format, typer.Option("--format", "-f", metavar=choices(render.Format), help="Output format.")]
ReportFormatOption = Annotated[render.ReportFormat, typer.Option("--format", "-f", metavar=choices(render.ReportFormat),
                                                                   help="Output format.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write to this file instead of stdout.")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", metavar="DATE", help="End of this day, YYYY-MM-DD (default today).",
                                                 show_default=False)]


def integer(text: str | int) -> int:
    """A whole-number option or argument, as Typer's `parser`: ASCII digits, signed or not, that a database
    can hold; anything else (`１０`, `1_000`, 10**30) is bad usage, never taken for 10 or an overflow."""
    if isinstance(text, int):  # a default
        return text
    try:
        number = parse_whole(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a whole number") from None
    if abs(number) > LARGEST_INTEGER:
        raise typer.BadParameter(f"{text} is out of range")
    return number


def day_option(option: str, text: str | None) -> date | None:
    """A YYYY-MM-DD option's date (None when not given); a bad date is bad usage."""
    if text is None:
        return None
    try:
        return parse_day(text)
    except ValueError as error:
        raise BadInput(f"{option} {error}") from None


RejectFileOption = Annotated[Path | None, typer.Option("--reject-file", metavar="FILE", help="Where bad rows go (default FILE.rejects.csv).")]
MapOption = Annotated[list[str] | None, typer.Option("--map", metavar="COL=FIELD", help="CSVCOL=FIELD for other header names (repeatable).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Compute and print the summary; write nothing.")]


def report_rejects(file: Path, first: list[tuple[int, str]], total: int, reject_file: Path | None) -> None:
    """The first bad rows on stderr, where the rest are, and exit 3 when there were any."""
    for line, reason in first:
        render.note(f"{file}:{line}: {reason}")
    if total > len(first):
        render.note(f"... {total - len(first)} more in {reject_file}" if reject_file
                    else f"... {total - len(first)} more (no reject file is written by a dry run)")
    if total:
        raise typer.Exit(EXIT_REJECTED_ROWS)


def debug_enabled() -> bool:
    return bool(os.environ.get("LOYALTYCTL_DEBUG"))
