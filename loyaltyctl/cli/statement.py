"""`loyaltyctl statement`: one member's statement, or a batch for every member."""

from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.api import Ledger
from loyaltyctl.cli.common import OutputOption, ProgramOption, choices, command, day_option, ledger, stopped_by_ctrl_c
from loyaltyctl.core.dates import local_date
from loyaltyctl.errors import BadInput, Interrupted
from loyaltyctl.formats import statements as written
from loyaltyctl.values import Statement


class StatementFormat(str, Enum):
    table = "table"
    text = "text"
    json = "json"
    csv = "csv"
    html = "html"
    eml = "eml"


RENDERERS = {
    StatementFormat.text: written.statement_text,
    StatementFormat.csv: written.statement_csv,
    StatementFormat.html: written.statement_html,
}


def _blocks(s: Statement) -> list[render.Grid]:
    unit = s.version.unit
    header = render.fields_grid(f"{s.version.name}: statement {s.start} to {s.end}", [
        ("member", f"{s.member.name} ({s.member.member_id})" if s.member.name else s.member.member_id),
        ("card", s.member.card),
    ])
    lines = render.Grid(None, ["date", "description", unit, "balance"], [
        (s.start, "Opening balance", None, s.opening),
        *[(local_date(line.at, s.ref.timezone), line.description, line.points, line.balance) for line in s.lines],
        (s.end, "Closing balance", None, s.closing),
    ])
    return [header, lines, render.fields_grid("Where you stand", written.summary_lines(s))]


statement_app = typer.Typer()


@command(statement_app, "statement")
def statement(
    ctx: typer.Context,
    program: ProgramOption,
    member: Annotated[str | None, typer.Argument(metavar="MEMBER", help="Member id, card number or email (or --all).", show_default=False)] = None,
    period: Annotated[str | None, typer.Option("--period", metavar="MONTH", help="A month, YYYY-MM (default: this month).")] = None,
    start: Annotated[str | None, typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="DATE", help="Last day (inclusive), YYYY-MM-DD.")] = None,
    fmt: Annotated[StatementFormat, typer.Option("--format", "-f", metavar=choices(StatementFormat),
                                                      help="Output format (eml: batch only).")] = StatementFormat.table,
    output: OutputOption = None,
    every: Annotated[bool, typer.Option("--all", help="Every member with activity or points: one file each.")] = False,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", metavar="PATH", help="Where --all writes (with an index.csv).")] = None,
    include_inactive: Annotated[bool, typer.Option("--include-inactive",
                                                   help="With --all: members with no activity and no points too.")] = False,
    sender: Annotated[str | None, typer.Option("--sender", metavar="TEXT", help="From address of --format eml messages (default: the program's email).")] = None,
) -> None:
    """A member's statement, or with --all one file per member.

    Opening and closing balance, every entry, tier, expiring points, rewards and savings; --all writes
    one file per member (and an index) for a mail merge or a printer."""
    books = ledger(ctx)
    first, last = books.statement_period(program, period, day_option("--from", start), day_option("--to", end))
    if every:
        if output:
            raise BadInput("--all writes one file per member into --out-dir; -o is for one statement")
        _batch(books, program, member, first, last, fmt, out_dir, include_inactive, sender)
        return
    if member is None:
        raise BadInput("name a member, or give --all --out-dir DIR")
    if fmt == StatementFormat.eml:
        raise BadInput("--format eml is for batches: --all --out-dir DIR")
    result = books.statement(program, member, first, last)
    if fmt in (StatementFormat.table, StatementFormat.json):
        render.emit(render.Report(written.statement_json(result), _blocks(result)), fmt, output)
    else:
        render.emit_text(RENDERERS[fmt](result), output)


def _batch(books: Ledger, program: str, member: str | None, first: date, last: date, fmt: StatementFormat,
           out_dir: Path | None, include_inactive: bool, sender: str | None) -> None:
    if member is not None:
        raise BadInput("--all writes every member; leave out the member id")
    if out_dir is None:
        raise BadInput("--all needs --out-dir DIR")
    if fmt == StatementFormat.table:
        fmt = StatementFormat.html
    sender = books.email_sender(program, sender, last) if fmt == StatementFormat.eml else ""
    renderer = _batch_renderer(fmt, sender)
    try:
        with render.progress(books.count_members(program), f"statements {first} to {last}") as advance:
            result = books.write_statements(program, first, last, out_dir, fmt.value, renderer,
                                            include_inactive=include_inactive, on_member=advance)
    except BaseException as error:
        if not stopped_by_ctrl_c(error):
            raise
        raise Interrupted(f"the statements written so far are whole files in {out_dir}, the rest and its index.csv "
                          "were not written; the database was not changed (run it again to write them all)") from None
    data = {"program": program, "from": first.isoformat(), "to": last.isoformat(), "written": result.written,
            "skipped_inactive": result.skipped_inactive, "skipped_no_email": result.skipped_no_email,
            "index": str(result.index)}
    render.emit(render.record(f"Statements written to {out_dir}", data))


def _batch_renderer(fmt: StatementFormat, sender: str):
    """What each batch file holds: an email (None without an address), JSON, or a written statement."""
    if fmt == StatementFormat.eml:
        return lambda s: written.statement_email(s, sender)
    if fmt == StatementFormat.json:
        return lambda s: render.json_text(written.statement_json(s))
    return RENDERERS[fmt]
