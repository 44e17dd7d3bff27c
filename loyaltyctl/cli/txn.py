"""`loyaltyctl txn import`: the nightly sales export; `txn sources` and `txn source show`: how each is read."""

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from loyaltyctl import render
from loyaltyctl.cli.common import (
    DryRunOption,
    FormatOption,
    MapOption,
    ProgramOption,
    RejectFileOption,
    command,
    ledger,
    report_rejects,
)
from loyaltyctl.errors import BadInput
from loyaltyctl.formats.csv_input import parse_mapping
from loyaltyctl.formats.sources import builtin_sources, load_source, source_text

txn_app = typer.Typer(no_args_is_help=True, help="Import purchases and refunds.")
source_app = typer.Typer(no_args_is_help=True, help="The source profiles exports are read with.")
txn_app.add_typer(source_app, name="source")
SourceOption = Annotated[str, typer.Option(
    "--source", "-s", metavar="TEXT", help="How the file is laid out: a built-in source (see `txn sources`) or a profile FILE.toml.")]
PROGRESS_STEP = 64 << 10  # bytes read between two moves of the progress bar: a chunk of rows is about 130 KiB


@contextmanager
def _progress(path: Path):
    """A byte-based progress bar on stderr, only when stderr is a terminal: it moves as the import reads the
    file, every PROGRESS_STEP bytes (not on every line: drawing costs a few microseconds a call)."""
    if not sys.stderr.isatty() or not path.is_file():
        yield None  # no terminal to draw on, or no file (the import says why)
        return
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=render.err(), transient=True) as bar:
        task = bar.add_task(f"importing {path.name}", total=path.stat().st_size)
        pending = 0

        def advance(size: int) -> None:
            nonlocal pending
            pending += size
            if pending >= PROGRESS_STEP:
                bar.advance(task, pending)
                pending = 0

        yield advance


def _delimiter(text: str) -> str:
    value = {"tab": "\t", "\\t": "\t"}.get(text, text)
    if len(value) != 1:
        raise BadInput(f"--delimiter {text!r}: give one character (or 'tab')")
    return value


@command(txn_app, "import")
def import_command(
    ctx: typer.Context,
    program: ProgramOption,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The export (generic: txn_id, member_id, occurred_at, amount [, line, category, currency, store, partner, refund_of, description, name, email]).")],
    source: SourceOption = "generic",
    reject_file: RejectFileOption = None,
    column_map: MapOption = None,
    delimiter: Annotated[str, typer.Option(metavar="TEXT", help="Field separator: one character, or 'tab'.")] = ",",
    dry_run: DryRunOption = False,
    strict: Annotated[bool, typer.Option("--strict", help="Any bad row refuses the whole file (exit 2).")] = False,
    create_members: Annotated[bool, typer.Option(
        "--create-members", help="Add customers who are not members yet (with the export's email and name) instead of rejecting their rows.")] = False,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Import sales from a till's export or the generic CSV.

    Idempotent by txn_id, atomic per run; skipped rows counted; exit 3 when rows were rejected."""
    profile = load_source(source)
    with _progress(file) as on_bytes:
        summary = ledger(ctx).import_transactions(
            program, file, source=profile, reject_file=reject_file,
            mapping=parse_mapping(column_map or []),
            delimiter=_delimiter(delimiter), dry_run=dry_run, strict=strict, create_members=create_members,
            on_bytes=on_bytes,
        )
    title = f"Import into {program}" + (" (dry run: nothing written)" if dry_run else "")

    if source.endswith(".toml"):  # a profile of one's own: a column it names may be a typo
        for column in summary.unread_columns:
            render.note(f"warning: {file} has no column {column}; that field stays empty")

    data = summary.as_json()
    pairs = [(k, v) for k, v in data.items() if k not in ("dry_run", "skipped_reasons")]
    pairs += [(f"  skipped: {reason}", count) for reason, count in data["skipped_reasons"].items()]
    shown = _nothing_new(data) if summary.nothing_new else render.fields_grid(title, pairs)
    render.emit(render.Report(data, [shown]), fmt)
    report_rejects(file, summary.first_rejects, summary.rejected, summary.reject_file)


def _nothing_new(data: dict) -> str:
    """One line for a run that imported nothing: "nothing new: 12 duplicates, 1 rejected before"."""
    said = ", ".join(f"{data[key]} {label}{'s' if key == 'duplicates' and data[key] != 1 else ''}"
                     for key, label in (("duplicates", "duplicate"), ("skipped", "skipped"),
                                        ("rejected_before", "rejected before")) if data[key])
    return f"nothing new: {said or 'the file has no rows'}"


@command(txn_app, "sources")
def sources_command(fmt: FormatOption = render.Format.table) -> None:
    """The built-in sources and the exports they read.

    Which system's export each reads, and where to get it."""
    profiles = [load_source(name) for name in builtin_sources()]
    data = [{"name": p.name, "title": p.title, "export": p.export} for p in profiles]
    render.emit(render.Report(data, [render.Grid("Sources (txn import --source NAME)", ["name", "reads", "export it from"],
                                                 [(x["name"], x["title"], x["export"]) for x in data])]), fmt)


@command(source_app, "show")
def source_show(name: Annotated[str, typer.Argument(metavar="NAME", help="A built-in source (see `txn sources`).")]) -> None:
    """Print a built-in source's profile as TOML.

    A start for a profile of your own (--source FILE.toml)."""
    print(source_text(name), end="")
