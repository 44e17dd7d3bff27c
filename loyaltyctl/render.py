"""Output: the only module that prints data. A command builds a `Report` value; `emit` renders it as a
Rich table, JSON, CSV or XLSX, to stdout or the -o file.

Rich is imported by the functions that draw with it, so a command printing JSON or a
one-line note never loads it (about a sixth of a counter command's start-up).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from loyaltyctl.errors import BadInput
from loyaltyctl.money import Money

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


class AnalyticsFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


class AccountingFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class JournalFormat(str, Enum):
    csv = "csv"
    beancount = "beancount"
    ledger = "ledger"
    qbo = "qbo"  # QuickBooks Online
    xero = "xero"
    sage50 = "sage50"
    iif = "iif"  # QuickBooks Desktop


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


class Grid(Struct, frozen=True):
    """One table of a report. Cells are typed (int, Decimal, Money, date, str, bool or None; Rich Text in
    a terminal-only column) so each format writes them its own way: CSV and XLSX keep numbers numbers."""

    title: str | None
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    record: bool = False  # one record: each row names a field first and gives its value last
    empty: str | None = None  # said at the terminal when there are no rows
    whole: Sequence[str] = ()  # columns whose cells are never broken across lines (a date and time, a kind)


class Report(Struct, frozen=True):
    """What a command prints, as a value: its JSON document (the SPEC.md shape) and its blocks, tables and
    lines of text. Every format is rendered from it here, so table, JSON, CSV and XLSX cannot drift."""

    document: Any
    blocks: Sequence[Grid | str] = ()
    csv: Grid | None = None  # the CSV form when the tables do not share one set of columns

    def grids(self) -> list[Grid]:
        return [block for block in self.blocks if isinstance(block, Grid)]


def fields_grid(title: str | None, pairs: Sequence[tuple[str, Any]]) -> Grid:
    """One record's (field, value) pairs, shown as a two-column list."""
    return Grid(title, ("field", "value"), pairs, record=True)


def record(title: str, data: dict) -> Report:
    """A report of one record: the JSON document, and at the terminal its fields one per line."""
    return Report(data, [fields_grid(title, list(data.items()))])


def listing(document: Any, rows: Sequence[dict], columns: Sequence[str], title: str,
            headings: dict[str, str] | None = None, shown: Sequence[str] | None = None) -> Report:
    """A list command's report: `document` as JSON, `rows` under all `columns` as CSV (for a spreadsheet
    or a mail merge), a table of the `shown` columns (default all), headed by `headings` where given."""
    shown = shown or columns
    grid = Grid(title, [(headings or {}).get(c, c) for c in shown], [[row[c] for c in shown] for row in rows])
    return Report(document, [grid], csv=Grid(None, columns, [[row[c] for c in columns] for row in rows]))


def check_destination(fmt: Any, output: Path | None) -> None:
    """Refuse a --format and -o that do not go together, before a command does any work."""
    kind = getattr(fmt, "value", fmt)
    if output is not None:
        if kind == "table":
            others = [f.value for f in type(fmt) if f.value != "table"]
            raise BadInput(f"-o {output}: a file takes --format {', '.join(others[:-1])} or {others[-1]}"
                           if len(others) > 1 else f"-o {output}: a file takes --format {others[0]}")
        if not output.parent.is_dir():
            raise BadInput(f"-o {output}: no folder {output.parent}")
    elif kind == "xlsx":
        raise BadInput("--format xlsx writes a workbook: give -o FILE.xlsx")


def emit(report: Report, fmt: Any = "table", output: Path | None = None) -> None:
    """Print `report` (or write it to `output`) in `fmt`: table, json, csv or xlsx."""
    kind = getattr(fmt, "value", fmt)
    if kind == "table":
        show(*report.blocks)
        return
    if kind == "xlsx":
        from loyaltyctl.formats.xlsx_output import workbook_bytes

        write_output(output, workbook_bytes([(g.title or "Sheet", g.columns, g.rows) for g in report.grids()]))
        return
    emit_text(json_text(report.document) if kind == "json" else _csv(report), output)


def emit_text(text: str, output: Path | None = None) -> None:
    """A document already written out (JSON, CSV, a journal, a statement, TOML): to stdout or to -o."""
    if output is None:
        print(text, end="")
    else:
        write_output(output, text)


def emit_files(texts: Sequence[str], output: Path | None, what: str) -> None:
    """Documents of one output (a package's line limit split it): one to stdout or -o; several to -o's name and
    numbered ones beside it (FILE.csv, FILE-2.csv …), which stdout cannot hold apart (bad usage)."""
    if len(texts) > 1 and output is None:
        raise BadInput(f"{what}: it takes {len(texts)} files at the package's line limit: give -o FILE.csv "
                       "(then FILE-2.csv, … beside it)")
    for number, text in enumerate(texts, 1):
        emit_text(text, output if number == 1 or output is None
                  else output.with_name(f"{output.stem}-{number}{output.suffix}"))


def _csv(report: Report) -> str:
    """One CSV: the report's one table, or every table under a leading `section` column."""
    from loyaltyctl.formats.csv_output import csv_text

    grids = [report.csv] if report.csv else report.grids()
    if len(grids) == 1:
        return csv_text(grids[0].columns, grids[0].rows)
    columns = grids[0].columns
    if any(g.columns != columns for g in grids):
        raise ValueError("a CSV needs one set of columns: give the report a csv grid")
    return csv_text(["section", *columns], ([g.title, *row] for g in grids for row in g.rows))


def write_output(path: Path, content: str | bytes) -> None:
    """Write a file the user named with -o (created readable by its owner only: it may hold members' data);
    a path that cannot be written is bad usage (exit 2)."""
    from loyaltyctl.private_files import write_file

    try:
        write_file(path, content)
    except OSError as error:
        raise BadInput(f"{path}: cannot write: {error.strerror}") from None
    note(f"wrote {path}")


def show(*blocks: Grid | str) -> None:
    """Tables and lines for the terminal, each table fitted to its width."""
    console = out()
    for block in blocks:
        if isinstance(block, str):
            console.print(block, markup=False)
        elif block.record:
            console.print(_fields(block.title, [(row[0], row[-1]) for row in block.rows]), soft_wrap=False)
        else:
            console.print(_fitted(block, console), soft_wrap=False)  # a block's long value wraps at the width
            if not block.rows and block.empty:
                note(block.empty)


def words(key: str) -> str:
    """A key as a table shows it to people: `signup_bonus_points` -> `signup bonus points`. Column and field
    names go through it here; CSV and JSON keep the keys."""
    return key.replace("_", " ")


def yes_no(value: bool) -> str:
    """A boolean as tables and CSV both write it (`--accepts-marketing` and member imports read it back)."""
    return "yes" if value else "no"


def unit_for(count: Any, unit: str) -> str:
    """A program's unit, named in the plural (`points`, `stamps`), as a count of it reads: 1 point, 2 points."""
    return unit.removesuffix("s") if str(count) == "1" else unit


def _text(value: Any) -> Text:
    """A cell as plain text: what a member typed (`[vip] Ann`) is never read as Rich markup."""
    from rich.text import Text

    if isinstance(value, Text):
        return value
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text(yes_no(value))
    if isinstance(value, date):
        return Text(value.isoformat())
    return Text(str(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal, Money)) and not isinstance(value, bool)


def _column_widths(grid: Grid, width: int, frame: int) -> list[int | None] | None:
    """Widths that fit `width` with `frame` columns of rules and padding, text broken only between words
    (a number is one word, so it stays whole): None for a column left at its natural width; None for all
    when the table cannot fit."""
    from rich.cells import cell_len

    texts = [[words(name), *(str(_text(row[i])) for row in grid.rows)] for i, name in enumerate(grid.columns)]
    natural = [max(cell_len(line) for text in column for line in text.splitlines() or [""]) for column in texts]
    least = [full if name in grid.whole else max(cell_len(word) for text in column for word in text.split() or [""])
             for name, full, column in zip(grid.columns, natural, texts)]
    if sum(natural) + frame <= width:
        return [None] * len(texts)
    if sum(least) + frame > width:
        return None
    spare, wanted = width - frame - sum(least), [full - low for full, low in zip(natural, least)]
    return [low + spare * want // sum(wanted) for low, want in zip(least, wanted)]


def _table(grid: Grid, width: int) -> Table | None:
    """A Rich table of the grid `width` columns wide at most: numbers right-aligned and whole, text
    wrapped between words; boxed, or without its outer edge when that is what it takes to fit; None
    when it cannot be."""
    from rich.table import Table

    numeric = [bool(grid.rows) and all(_is_number(row[i]) for row in grid.rows if row[i] is not None)
               for i in range(len(grid.columns))]
    count = len(grid.columns)
    for edge, frame in ((True, 3 * count + 1), (False, 3 * count - 1)):  # a space each side of a cell, rules
        widths = _column_widths(grid, width, frame)
        if widths is not None:
            break
    else:
        return None
    result = Table(show_edge=edge)
    for name, number, fixed in zip(grid.columns, numeric, widths):
        result.add_column(_text(words(name)), justify="right" if number else "left", width=fixed,
                          no_wrap=name in grid.whole)
    for row in grid.rows:
        result.add_row(*(_text(cell) for cell in row))
    return result


def _titled(title: str | None, table: Table) -> RenderableType:
    """A table under its title, the title a line of its own that wraps at the terminal's width, not the table's."""
    from rich.console import Group

    return table if title is None else Group(_text(title), table)


def _fitted(grid: Grid, console: Console) -> RenderableType:
    """The grid as a table when it fits the terminal with its text wrapped at words, else a block of
    (column, value) lines per row, as `psql -x` does, so no figure is ever cut."""
    from rich.console import Group
    from rich.text import Text

    shown = _table(grid, console.width)
    if shown is not None:
        return _titled(grid.title, shown)

    names = [words(name) for name in grid.columns]
    key_width = max(len(name) for name in names)
    lines: list[RenderableType] = [Text(grid.title)] if grid.title else []
    for row in grid.rows:
        lines.append(Text(""))
        lines += [Text.assemble((name.ljust(key_width), "bold"), " ", _text(cell)) for name, cell in zip(names, row)]
    return Group(*lines)


def bars(parts: Sequence[tuple[int, str, str]]) -> Text:
    """Horizontal bars, one line each (cells, glyph, colour): the glyph tells them apart without colour
    (piped, NO_COLOR); empty bars take no line."""
    from rich.text import Text

    return Text("\n").join(Text(glyph * cells, style=colour) for cells, glyph, colour in parts if cells)


def _fields(title: str | None, pairs: Sequence[tuple[str, Any]]) -> RenderableType:
    """A two-column key/value table for one record."""
    from rich.table import Table

    result = Table(show_header=False)
    result.add_column(style="bold", overflow="fold")
    result.add_column(overflow="fold")
    for key, value in pairs:
        result.add_row(_text(words(key) if isinstance(key, str) else key), _text(value))
    return _titled(title, result)


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
