"""`loyaltyctl statement`: one member's statement, or a batch for every member."""

from datetime import date
from enum import Enum
from typing import Annotated

import typer

from loyaltyctl import clock, render
from loyaltyctl.cli.common import OutputOption, ProgramOption, database, write_output
from loyaltyctl.core.dates import local_date, parse_day
from loyaltyctl.errors import BadInput
from loyaltyctl.formats import statements as written
from loyaltyctl.operations import statements
from loyaltyctl.operations.reports import check_period
from loyaltyctl.storage import programs


class StatementFormat(str, Enum):
    table = "table"
    text = "text"
    json = "json"
    csv = "csv"
    html = "html"


RENDERERS = {
    StatementFormat.text: written.statement_text,
    StatementFormat.csv: written.statement_csv,
    StatementFormat.html: written.statement_html,
}


def _day(option: str, text: str) -> date:
    try:
        return parse_day(text)
    except ValueError as error:
        raise BadInput(f"{option} {error}") from None


def statement_period(db, program: str, period: str | None, start: str | None, end: str | None) -> tuple[date, date]:
    """--period YYYY-MM, or --from/--to, or the current month in the program's time zone."""
    if period and (start or end):
        raise BadInput("give either --period or --from/--to, not both")
    if period:
        return statements.period_of_month(period)
    if start or end:
        if not (start and end):
            raise BadInput("--from and --to go together")
        period_ = check_period(_day("--from", start), _day("--to", end))
        return period_.start, period_.end
    today = clock.today_in(programs.fetch_program_ref(db, program).timezone)
    return statements.period_of_month(today.strftime("%Y-%m"))


def _table(s: statements.Statement):
    unit = s.version.unit
    header = render.fields(f"{s.version.name}: statement {s.start} to {s.end}", [
        ("member", f"{s.member.name} ({s.member.member_id})" if s.member.name else s.member.member_id),
        ("card", s.member.card),
    ])
    lines = render.table(None, ["date", "description", unit, "balance"], [
        (str(s.start), "Opening balance", None, s.opening),
        *[(str(local_date(line.at, s.ref.timezone)), line.description, line.points, line.balance)
          for line in s.lines],
        (str(s.end), "Closing balance", None, s.closing),
    ])
    return [header, lines, render.fields("Where you stand", written.summary_lines(s))]


def statement(
    ctx: typer.Context,
    program: ProgramOption,
    member: Annotated[str, typer.Argument(help="Member id or card number.", show_default=False)],
    period: Annotated[str | None, typer.Option("--period", help="A month, YYYY-MM (default: this month).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (inclusive), YYYY-MM-DD.")] = None,
    fmt: Annotated[StatementFormat, typer.Option("--format", "-f", help="Output format.")] = StatementFormat.table,
    output: OutputOption = None,
) -> None:
    """A member's statement: opening and closing balance, every entry, tier, expiring points, rewards, savings."""
    db = database(ctx)
    first, last = statement_period(db, program, period, start, end)
    result = statements.member_statement(db, program, member, first, last)
    if fmt == StatementFormat.table:
        if output:
            raise BadInput(f"-o {output}: a file takes --format text, json, csv or html")
        render.emit(result, render.Format.table, _table)
        return
    text = render.json_text(written.statement_json(result)) if fmt == StatementFormat.json else RENDERERS[fmt](result)
    if output:
        write_output(output, text)
    else:
        print(text, end="")
