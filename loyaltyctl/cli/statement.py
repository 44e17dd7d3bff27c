"""`loyaltyctl statement`: one member's statement, or a batch for every member."""

from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import clock, render
from loyaltyctl.cli.common import OutputOption, ProgramOption, choices, command, day_option, snapshot
from loyaltyctl.core.dates import local_date
from loyaltyctl.errors import BadInput
from loyaltyctl.formats import statements as written
from loyaltyctl.operations import statement_batch as batch
from loyaltyctl.operations import statements
from loyaltyctl.operations.reports import check_period
from loyaltyctl.storage import programs


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


def statement_period(db, program: str, period: str | None, start: str | None, end: str | None) -> tuple[date, date]:
    """--period YYYY-MM, or --from/--to, or the current month in the program's time zone."""
    if period and (start or end):
        raise BadInput("give either --period or --from/--to, not both")
    if period:
        return statements.period_of_month(period)
    if start or end:
        if not (start and end):
            raise BadInput("--from and --to go together")
        period_ = check_period(day_option("--from", start), day_option("--to", end))
        return period_.start, period_.end
    today = clock.today_in(programs.fetch_program_ref(db, program).timezone)
    return statements.period_of_month(today.strftime("%Y-%m"))


def _blocks(s: statements.Statement) -> list[render.Grid]:
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
    member: Annotated[str | None, typer.Argument(metavar="MEMBER", help="Member id or card number (or --all).", show_default=False)] = None,
    period: Annotated[str | None, typer.Option("--period", metavar="TEXT", help="A month, YYYY-MM (default: this month).")] = None,
    start: Annotated[str | None, typer.Option("--from", metavar="TEXT", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="TEXT", help="Last day (inclusive), YYYY-MM-DD.")] = None,
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
    db = snapshot(ctx)
    first, last = statement_period(db, program, period, start, end)
    if every:
        if output:
            raise BadInput("--all writes one file per member into --out-dir; -o is for one statement")
        _batch(db, program, member, first, last, fmt, out_dir, include_inactive, sender)
        return
    if member is None:
        raise BadInput("name a member, or give --all --out-dir DIR")
    if fmt == StatementFormat.eml:
        raise BadInput("--format eml is for batches: --all --out-dir DIR")
    result = statements.member_statement(db, program, member, first, last)
    if fmt in (StatementFormat.table, StatementFormat.json):
        render.emit(render.Report(written.statement_json(result), _blocks(result)), fmt, output)
    else:
        render.emit_text(RENDERERS[fmt](result), output)


def _batch(db, program: str, member: str | None, first: date, last: date, fmt: StatementFormat,
           out_dir: Path | None, include_inactive: bool, sender: str | None) -> None:
    if member is not None:
        raise BadInput("--all writes every member; leave out the member id")
    if out_dir is None:
        raise BadInput("--all needs --out-dir DIR")
    if fmt == StatementFormat.table:
        fmt = StatementFormat.html
    sender = batch.email_sender(db, program, sender, last) if fmt == StatementFormat.eml else ""
    renderer = _batch_renderer(fmt, sender)
    total = programs.count_members(db, program)
    with render.progress(total, f"statements {first} to {last}") as advance:
        result = batch.write_statements(db, program, first, last, out_dir, fmt.value, renderer,
                                        include_inactive=include_inactive, on_member=advance)
    data = {"program": program, "from": first.isoformat(), "to": last.isoformat(), "written": result.written,
            "skipped_inactive": result.skipped_inactive, "skipped_no_email": result.skipped_no_email,
            "index": str(result.index)}
    render.emit(render.record(f"Statements written to {out_dir}", data))


def _batch_renderer(fmt: StatementFormat, sender: str):
    """What each batch file holds: an email (None without an address), JSON, or a written statement."""
    if fmt == StatementFormat.eml:
        sent_at = clock.now()
        return lambda s: written.statement_email(s, sender, sent_at)
    if fmt == StatementFormat.json:
        return lambda s: render.json_text(written.statement_json(s))
    return RENDERERS[fmt]
