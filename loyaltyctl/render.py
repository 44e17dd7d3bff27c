"""Output: the only module that prints data. Tables for people, JSON for scripts.

Rich is imported by the functions that draw with it, so a command printing JSON or a
one-line note never loads it (about a sixth of a counter command's start-up).
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text


class Format(str, Enum):
    table = "table"
    json = "json"


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class AccountingFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class JournalFormat(str, Enum):
    csv = "csv"
    beancount = "beancount"
    ledger = "ledger"


def out() -> Console:
    """stdout, looked up at call time so redirected streams (and CliRunner) are honoured."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)  # `:a:` in a message stays text


_CURSOR_CONTROLS = dict.fromkeys((7, 8, 11, 12, 13))  # bell, backspace, vertical tab, form feed, return


def note(message: str) -> None:
    """A remark for the person at the terminal; stderr, so stdout stays data."""
    print(message.translate(_CURSOR_CONTROLS), file=sys.stderr)


def json_text(data: Any) -> str:
    """One JSON document, as every `--format json` prints it."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def emit(data: Any, fmt: Format, as_table: Callable[[Any], RenderableType | Sequence[RenderableType]]) -> None:
    """Print `data` as one JSON document or as Rich tables."""
    if fmt == Format.json:
        print(json_text(data), end="")
        return
    rendered = as_table(data)
    console = out()
    for item in rendered if isinstance(rendered, (list, tuple)) else [rendered]:
        console.print(item)


def emit_list(document: Any, rows: Sequence[dict], columns: Sequence[str], fmt: ReportFormat, title: str,
              headings: dict[str, str] | None = None, shown: Sequence[str] | None = None) -> None:
    """A list command's output: `document` as JSON, `rows` under `columns` as CSV (for a spreadsheet or a
    mail merge), or a table of the `shown` columns (default all), headed by `headings` where given."""
    if fmt == ReportFormat.json:
        print(json_text(document), end="")
        return
    if fmt == ReportFormat.csv:
        from loyaltyctl.formats.csv_output import csv_text

        print(csv_text(columns, [[row[c] for c in columns] for row in rows]), end="")
        return
    shown = shown or columns
    out().print(table(title, [(headings or {}).get(c, c) for c in shown], [[row[c] for c in shown] for row in rows]))


def _cell(value: Any) -> RenderableType:
    from rich.text import Text

    if isinstance(value, Text):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]], **options: Any) -> Table:
    """A Rich table; numbers are right-aligned, None shows as blank."""
    from rich.table import Table

    result = Table(title=title, title_justify="left", **options)
    numeric = [bool(rows) and all(isinstance(row[i], (int, Decimal)) for row in rows if row[i] is not None) for i in range(len(columns))]
    for name, is_number in zip(columns, numeric):
        result.add_column(name, justify="right" if is_number else "left")
    for row in rows:
        result.add_row(*(_cell(cell) for cell in row))
    return result


def bars(parts: Sequence[tuple[int, str, str]]) -> Text:
    """Horizontal bars, one line each (cells, glyph, colour): the glyph tells them apart without colour
    (piped, NO_COLOR); empty bars take no line."""
    from rich.text import Text

    return Text("\n").join(Text(glyph * cells, style=colour) for cells, glyph, colour in parts if cells)


def fields(title: str, pairs: Sequence[tuple[str, Any]]) -> Table:
    """A two-column key/value table for one record."""
    from rich.table import Table

    result = Table(title=title, title_justify="left", show_header=False)
    result.add_column(style="bold")
    result.add_column()
    for key, value in pairs:
        result.add_row(key, _cell(value))
    return result


@contextmanager
def progress(total: int, description: str) -> Iterator[Callable[..., None] | None]:
    """A progress bar on stderr, only when stderr is a terminal; yields `advance(steps=1)` (or None)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err(), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda steps=1: bar.advance(task, steps)
