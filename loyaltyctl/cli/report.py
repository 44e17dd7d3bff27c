"""`loyaltyctl report …`: partners and donations."""

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import OutputOption, ProgramOption, command, database, write_output
from loyaltyctl.core.dates import parse_day
from loyaltyctl.errors import BadInput
from loyaltyctl.formats.csv_output import csv_text
from loyaltyctl.money import format_money, from_minor
from loyaltyctl.operations import reports

report_app = typer.Typer(no_args_is_help=True, help="Reports for the owner, partners and accountants.")

FromOption = Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.", show_default=False)]
ToOption = Annotated[str, typer.Option("--to", help="Last day (inclusive), YYYY-MM-DD.", show_default=False)]
ReportFormatOption = Annotated[render.ReportFormat, typer.Option("--format", "-f", help="Output format.")]


def _period(start: str, end: str) -> reports.Period:
    days: list[date] = []
    for option, text in (("--from", start), ("--to", end)):
        try:
            days.append(parse_day(text))
        except ValueError as error:
            raise BadInput(f"{option} {error}") from None
    return reports.check_period(*days)


def _emit(fmt: render.ReportFormat, output: Path | None, data: dict, title: str, columns: list[str],
          rows: list[list[Any]]) -> None:
    """One report as a table, one JSON document, or CSV (money as plain numbers, text made formula-safe)."""
    if fmt == render.ReportFormat.table:
        if output:
            raise BadInput(f"-o {output}: a file takes --format csv or --format json")
        render.out().print(render.table(title, columns, rows))
        if not rows:
            render.note("nothing in this period")
        return
    text = render.json_text(data) if fmt == render.ReportFormat.json else csv_text(columns, rows)
    if output:
        write_output(output, text)
    else:
        print(text, end="")


@command(report_app, "partners")
def partners(ctx: typer.Context, program: ProgramOption, start: FromOption, end: ToOption,
             fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """Per partner: purchases, points issued and their value (what the partner owes the program)."""
    period = _period(start, end)
    ref, lines = reports.partner_report(database(ctx), program, period)

    def money(minor: int) -> str:
        return format_money(minor, ref.currency)

    data = {
        "program": ref.code, "from": period.start.isoformat(), "to": period.end.isoformat(), "currency": ref.currency,
        "partners": [{"partner": p.code, "name": p.name, "purchases": p.purchases, "refunds": p.refunds,
                      "spend": money(p.spend), "points_issued": p.points_issued,
                      "points_clawed_back": p.points_clawed_back, "net_points": p.net_points, "value": money(p.value)}
                     for p in lines],
        "total_value": money(sum(p.value for p in lines)),
    }
    columns = ["partner", "name", "purchases", "refunds", "spend", "points issued", "clawed back", "net points", "value"]
    rows = [[p.code, p.name, p.purchases, p.refunds, from_minor(p.spend, ref.currency), p.points_issued,
             p.points_clawed_back, p.net_points, from_minor(p.value, ref.currency)] for p in lines]
    _emit(fmt, output, data, f"Partners of {ref.code}, {period.start} to {period.end} ({ref.currency})", columns, rows)


@command(report_app, "donations")
def donations(ctx: typer.Context, program: ProgramOption, start: FromOption, end: ToOption,
              fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """Per charity: rewards donated, their points and the money owed to the charity."""
    period = _period(start, end)
    ref, lines = reports.donation_report(database(ctx), program, period)
    data = {
        "program": ref.code, "from": period.start.isoformat(), "to": period.end.isoformat(), "currency": ref.currency,
        "charities": [{"charity": d.charity, "donations": d.donations, "points": d.points,
                       "value": format_money(d.value, ref.currency)} for d in lines],
        "total_value": format_money(sum(d.value for d in lines), ref.currency),
    }
    rows = [[d.charity, d.donations, d.points, from_minor(d.value, ref.currency)] for d in lines]
    _emit(fmt, output, data, f"Donations in {ref.code}, {period.start} to {period.end} ({ref.currency})",
          ["charity", "donations", "points", "value"], rows)


@command(report_app, "expiring")
def expiring(ctx: typer.Context, program: ProgramOption,
             within: Annotated[int, typer.Option("--within", help="Days after --as-of to look ahead.")] = 30,
             as_of: Annotated[str | None, typer.Option("--as-of", help="End of this day (default today).")] = None,
             fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """Members whose points expire soon, with their email and what they could still redeem: a mail-merge list."""
    day = None
    if as_of:
        try:
            day = parse_day(as_of)
        except ValueError as error:
            raise BadInput(f"--as-of {error}") from None
    ref, day, lines = reports.expiring_report(database(ctx), program, within, day)
    data = {
        "program": ref.code, "as_of": day.isoformat(), "within_days": within,
        "members": [{"member": x.member.member_id, "name": x.member.name, "email": x.member.email,
                     "points": x.points, "first_expiry": x.first_expiry.isoformat(), "available": x.available,
                     "rewards": [r.code for r in x.rewards]} for x in lines],
    }
    columns = ["member", "name", "email", "points", "first_expiry", "available", "rewards"]
    rows = [[x.member.member_id, x.member.name, x.member.email, x.points, x.first_expiry.isoformat(), x.available,
             " ".join(r.code for r in x.rewards)] for x in lines]
    _emit(fmt, output, data, f"Points expiring in {ref.code} within {within} days of {day}", columns, rows)
