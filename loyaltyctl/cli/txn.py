"""`loyaltyctl txn import`: the nightly transactions CSV."""

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
    database,
    report_rejects,
)
from loyaltyctl.errors import BadInput
from loyaltyctl.formats.csv_input import parse_mapping
from loyaltyctl.operations.imports import import_transactions

txn_app = typer.Typer(no_args_is_help=True, help="Import purchases and refunds.")


@contextmanager
def _progress(path: Path):
    """A byte-based progress bar on stderr, only when stderr is a terminal."""
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
            if pending >= 1 << 20:
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
    file: Annotated[Path, typer.Argument(help="CSV: txn_id, member_id, occurred_at, amount [, category, currency, store, partner, refund_of, description].")],
    reject_file: RejectFileOption = None,
    column_map: MapOption = None,
    delimiter: Annotated[str, typer.Option(help="Field separator: one character, or 'tab'.")] = ",",
    dry_run: DryRunOption = False,
    strict: Annotated[bool, typer.Option(help="Any bad row refuses the whole file (exit 2).")] = False,
    create_members: Annotated[bool, typer.Option(help="Add unknown member ids instead of rejecting their rows.")] = False,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Import transactions: idempotent by txn_id, atomic per run; exit 3 when rows were rejected."""
    with _progress(file) as on_bytes:
        summary = import_transactions(
            database(ctx), program, file, reject_file=reject_file, mapping=parse_mapping(column_map or []),
            delimiter=_delimiter(delimiter), dry_run=dry_run, strict=strict, create_members=create_members,
            on_bytes=on_bytes,
        )
    title = f"Import into {program}" + (" (dry run: nothing written)" if dry_run else "")
    render.emit(summary.as_json(), fmt, lambda d: render.fields(title, [(k, v) for k, v in d.items() if k != "dry_run"]))
    report_rejects(file, summary.first_rejects, summary.rejected, summary.reject_file)
