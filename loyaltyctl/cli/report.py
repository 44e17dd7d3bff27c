"""`loyaltyctl report …`: accounting (liability, roll-forward, journal, KPIs), partners, donations, expiring points."""

from pathlib import Path
from typing import Annotated, Any

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import (
    AsOfOption,
    FormatOption,
    OutputOption,
    ProgramOption,
    ReportFormatOption,
    command,
    day_option,
    snapshot,
    write_output,
)
from loyaltyctl.core.kpis import Kpis, bar, scale
from loyaltyctl.errors import BadInput
from loyaltyctl.formats import accounting as accounting_out
from loyaltyctl.formats.csv_output import csv_text
from loyaltyctl.money import format_money, from_minor, plain_decimal
from loyaltyctl.operations import accounting, kpis, reports

report_app = typer.Typer(no_args_is_help=True, help="Reports for the owner, partners and accountants.")

FromOption = Annotated[str, typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD.", show_default=False)]
ToOption = Annotated[str, typer.Option("--to", metavar="DATE", help="Last day (inclusive), YYYY-MM-DD.", show_default=False)]
AccountingFormatOption = Annotated[render.AccountingFormat, typer.Option("--format", "-f", help="Output format.")]


def _period(start: str, end: str) -> reports.Period:
    return reports.check_period(day_option("--from", start), day_option("--to", end))


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


def print_sections(title: str, sections: list[accounting_out.Section]) -> None:
    """A report's sections as Rich tables; a section of plain values as a two-column list."""
    console = render.out()
    console.print(title, markup=False)
    for section in sections:
        cells = [[accounting_out.table_cell(cell) for cell in row] for row in section.rows]
        if all(points is None for _, points, _ in section.rows):
            console.print(render.fields(section.title, [(line, value) for line, _, value in cells]))
        else:
            console.print(render.table(section.title, accounting_out.COLUMNS, cells))


def _check_destination(fmt: render.AccountingFormat, output: Path | None) -> None:
    """Refuse a format and -o that do not go together before any work is done."""
    if fmt == render.AccountingFormat.table and output:
        raise BadInput(f"-o {output}: a file takes --format csv, json or xlsx")
    if fmt == render.AccountingFormat.xlsx and not output:
        raise BadInput("--format xlsx writes a workbook: give -o FILE.xlsx")


def _emit_sections(fmt: render.AccountingFormat, output: Path | None, data: dict, title: str, currency: str,
                   sections: list[accounting_out.Section]) -> None:
    """An accounting report as tables, one JSON document, one CSV, or an XLSX workbook (sheet per section)."""
    if fmt == render.AccountingFormat.table:
        print_sections(title, sections)
        return
    if fmt == render.AccountingFormat.xlsx:
        write_output(output, accounting_out.sections_xlsx(sections, currency))
        return
    text = render.json_text(data) if fmt == render.AccountingFormat.json else accounting_out.sections_csv(sections)
    if output:
        write_output(output, text)
    else:
        print(text, end="")


@command(report_app, "liability")
def liability(ctx: typer.Context, program: ProgramOption, as_of: AsOfOption = None,
              breakage: Annotated[str, typer.Option("--breakage", help="program: the program's breakage_rate; "
                                                     "estimated: expired / (redeemed + expired), trailing 12 months.")
                                  ] = "program",
              fmt: AccountingFormatOption = render.AccountingFormat.table, output: OutputOption = None) -> None:
    """Points outstanding at the end of a day, valued and aged.

    With breakage, and aged by lot age and by time to expiry."""
    _check_destination(fmt, output)
    ref, report = accounting.liability_report(snapshot(ctx), program, day_option("--as-of", as_of), breakage)
    if report.unposted_expiries:
        render.note(f"{report.unposted_expiries} expiries due by {report.as_of} are not posted yet "
                    f"({report.unposted_points} points); they count as expired all the same")
    _emit_sections(fmt, output, accounting_out.liability_json(ref.code, report),
                   f"Points liability of {ref.code} as of the end of {report.as_of} ({ref.currency})", ref.currency,
                   accounting_out.liability_sections(report))


@command(report_app, "rollforward")
def rollforward(ctx: typer.Context, program: ProgramOption, start: FromOption, end: ToOption,
                fmt: AccountingFormatOption = render.AccountingFormat.table, output: OutputOption = None) -> None:
    """Opening to closing balance, with what moved between.

    Opening balance, points issued, redeemed, expired, clawed back and adjusted, closing balance; in money too."""
    _check_destination(fmt, output)
    ref, report = accounting.rollforward_report(snapshot(ctx), program, _period(start, end))
    if report.unposted_expiries:
        render.note(f"{report.unposted_expiries} expiries in the period are not posted yet; "
                    "they count as expired all the same")
    _emit_sections(fmt, output, accounting_out.rollforward_json(ref.code, report),
                   f"Roll-forward of {ref.code}, {report.start} to {report.end} ({ref.currency})", ref.currency,
                   accounting_out.rollforward_sections(report))


@command(report_app, "journal")
def journal(ctx: typer.Context, program: ProgramOption, start: FromOption, end: ToOption,
            fmt: Annotated[render.JournalFormat, typer.Option("--format", "-f", help="Output format.")
                           ] = render.JournalFormat.csv,
            output: OutputOption = None,
            appending: Annotated[bool, typer.Option(
                "--no-declarations",
                help="Leave out the open/account/commodity directives and the opening balance that let the "
                     "file open a book on its own: for a later period appended to that book.")] = False) -> None:
    """The period's movements as double-entry postings.

    Balanced postings, one per day and kind, as CSV, a beancount file or an hledger journal."""
    declarations = not appending
    j = accounting.journal_report(snapshot(ctx), program, _period(start, end), opening=declarations)
    if fmt == render.JournalFormat.beancount:
        text = accounting_out.journal_beancount(j.ref.code, j.rollforward, j.accounts, j.entries, j.unit, declarations)
    elif fmt == render.JournalFormat.ledger:
        text = accounting_out.journal_ledger(j.ref.code, j.rollforward, j.accounts, j.entries, j.unit, declarations)
    else:
        text = accounting_out.journal_csv(j.ref.code, j.rollforward, j.entries, j.unit)
    if output:
        write_output(output, text)
    else:
        print(text, end="")


def _rate(value) -> str | None:
    return plain_decimal(value) if value is not None else None


def kpis_json(code: str, currency: str, k: Kpis) -> dict:
    return {
        "program": code, "from": k.start.isoformat(), "to": k.end.isoformat(), "currency": currency,
        "members": k.members, "new_members": k.new_members, "active_members": k.active_members,
        "active_days": kpis.ACTIVE_DAYS, "points_issued": k.issued, "points_redeemed": k.redeemed,
        "points_expired": k.expired, "redemption_rate": _rate(k.redemption_rate),
        "breakage_rate": _rate(k.breakage_rate), "members_with_points": k.members_with_points,
        "average_balance": _rate(k.average_balance), "repeat_purchase_rate": _rate(k.repeat_purchase_rate),
        "buyers": k.buyers, "repeat_buyers": k.repeat_buyers, "membership_payments": k.membership_payments,
        "membership_fee_revenue": format_money(k.membership_revenue, currency),
        "tiers": [{"tier": code, "name": name, "members": count} for code, name, count in k.tiers],
        "monthly": [{"month": m.start.strftime("%Y-%m"), "issued": m.issued, "redeemed": m.redeemed}
                    for m in k.months],
    }


CHART_WIDTH = 40
ISSUED_BAR, REDEEMED_BAR = "█", "░"  # told apart by shape, not only by colour


def _kpi_tables(code: str, currency: str, k: Kpis) -> list:
    def percent(value) -> str:
        return f"{value * 100:.1f}%" if value is not None else "n/a"

    summary = render.fields(f"{code}: {k.start} to {k.end}", [
        ("members (new in period)", f"{k.members} ({k.new_members})"),
        (f"active in the last {kpis.ACTIVE_DAYS} days", f"{k.active_members} ({percent(k.active_rate)})"),
        ("points issued", k.issued), ("points redeemed", k.redeemed), ("points expired", k.expired),
        ("redemption rate (redeemed / issued)", percent(k.redemption_rate)),
        ("breakage rate (expired / (redeemed + expired))", percent(k.breakage_rate)),
        ("average balance (members with points)", k.average_balance if k.average_balance is not None else "n/a"),
        ("repeat purchase rate (2+ purchases)", f"{percent(k.repeat_purchase_rate)} of {k.buyers} buyers"),
        ("membership fee revenue", f"{format_money(k.membership_revenue, currency)} {currency} "
                                   f"({k.membership_payments} payments)"),
    ])
    tables = [summary]
    if k.tiers:
        tables.append(render.table("Members by tier", ["tier", "name", "members"], [list(t) for t in k.tiers]))
    largest = scale(k.months)
    chart = render.table(f"Points issued ({ISSUED_BAR}, green) and redeemed ({REDEEMED_BAR}, magenta) by month",
                         ["month", "issued", "redeemed", ""],
                         [[m.start.strftime("%Y-%m"), m.issued, m.redeemed,
                           render.bars([(bar(m.issued, largest, CHART_WIDTH), ISSUED_BAR, "green"),
                                        (bar(m.redeemed, largest, CHART_WIDTH), REDEEMED_BAR, "magenta")])]
                          for m in k.months])
    tables.append(chart)
    return tables


@command(report_app, "kpis")
def kpi_report(ctx: typer.Context, program: ProgramOption,
               start: Annotated[str | None, typer.Option("--from", help="First day (default: 12 months to --to).",
                                                         show_default=False)] = None,
               end: Annotated[str | None, typer.Option("--to", help="Last day (default today).",
                                                       show_default=False)] = None,
               fmt: FormatOption = render.Format.table) -> None:
    """Members, activity, rates, tiers, fees and a monthly chart.

    Points issued, redeemed and expired, redemption and breakage rates, tiers, membership fees."""
    ref, k = kpis.kpi_report(snapshot(ctx), program, day_option("--from", start), day_option("--to", end))
    render.emit(kpis_json(ref.code, ref.currency, k), fmt, lambda _: _kpi_tables(ref.code, ref.currency, k))


@command(report_app, "partners")
def partners(ctx: typer.Context, program: ProgramOption, start: FromOption, end: ToOption,
             fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """What each partner issued and owes the program.

    Per partner: purchases, points issued and their value (what the partner owes the program)."""
    period = _period(start, end)
    ref, lines = reports.partner_report(snapshot(ctx), program, period)

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
    """What was donated to each charity, and is owed to it.

    Per charity: rewards donated, their points and the money owed to the charity."""
    period = _period(start, end)
    ref, lines = reports.donation_report(snapshot(ctx), program, period)
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
             as_of: AsOfOption = None,
             fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """Members whose points expire soon: a mail-merge list.

    With their email and what they could still redeem."""
    ref, day, lines = reports.expiring_report(snapshot(ctx), program, within, day_option("--as-of", as_of))
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
