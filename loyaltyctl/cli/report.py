"""`loyaltyctl report …`: accounting (liability, roll-forward, journal), KPIs and analytics, partners, donations,
expiring points."""

from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import (AsOfOption, OutputOption, ProgramOption, ReportFormatOption, choices, command, day_option,
                                   integer, ledger)
from loyaltyctl.formats import accounting as accounting_out
from loyaltyctl.formats import analytics as analytics_out
from loyaltyctl.formats.analytics_html import analytics_html
from loyaltyctl.formats.packages import package_journal
from loyaltyctl.model import PACKAGES
from loyaltyctl.formats import reports as views
from loyaltyctl.formats import vouchers as voucher_views

report_app = typer.Typer(no_args_is_help=True, help="Reports for the owner, partners and accountants.")

FromOption = Annotated[str, typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD.", show_default=False)]
ToOption = Annotated[str, typer.Option("--to", metavar="DATE", help="Last day (inclusive), YYYY-MM-DD.", show_default=False)]
AccountingFormatOption = Annotated[render.AccountingFormat, typer.Option("--format", "-f", metavar=choices(render.AccountingFormat),
                                                                           help="Output format.")]


@command(report_app, "liability")
def liability(ctx: typer.Context, program: ProgramOption, as_of: AsOfOption = None,
              breakage: Annotated[str, typer.Option("--breakage", metavar="TEXT", help="program: the program's breakage_rate; "
                                                     "estimated: expired / (redeemed + expired), trailing 12 months.")
                                  ] = "program",
              fmt: AccountingFormatOption = render.AccountingFormat.table, output: OutputOption = None) -> None:
    """Points outstanding at the end of a day, valued and aged.

    With breakage, and aged by lot age and by time to expiry."""
    report = ledger(ctx).liability(program, day_option("--as-of", as_of), breakage)
    if report.unposted_expiries.lots:
        render.note(f"{report.unposted_expiries.lots} expiries due by {report.as_of} are not posted yet "
                    f"({report.unposted_expiries.points} points); they count as expired all the same")
    if report.unposted_voucher_returns:
        render.note(f"{report.unposted_voucher_returns} vouchers expired unused by {report.as_of} give their points "
                    "back, which `expire` has not posted yet: those points are not in this liability")
    render.emit(accounting_out.liability_view(report), fmt, output)


@command(report_app, "rollforward")
def rollforward(ctx: typer.Context, program: ProgramOption, start: FromOption, end: ToOption,
                fmt: AccountingFormatOption = render.AccountingFormat.table, output: OutputOption = None) -> None:
    """Opening to closing balance, with what moved between.

    Opening balance, points issued, redeemed, expired, clawed back and adjusted, closing balance; in money too."""
    ref, report = ledger(ctx).rollforward(program, day_option("--from", start), day_option("--to", end))
    if report.unposted_expiries:
        render.note(f"{report.unposted_expiries} expiries in the period are not posted yet; "
                    "they count as expired all the same")
    render.emit(accounting_out.rollforward_view(ref.code, report), fmt, output)


@command(report_app, "journal")
def journal(ctx: typer.Context, program: ProgramOption, start: FromOption, end: ToOption,
            fmt: Annotated[render.JournalFormat, typer.Option("--format", "-f", metavar=choices(render.JournalFormat),
                                                                         help="Output format.")
                           ] = render.JournalFormat.csv,
            output: OutputOption = None,
            appending: Annotated[bool, typer.Option(
                "--no-declarations",
                help="Leave out the open/account/commodity directives and the opening balance that let the "
                     "file open a book on its own: for a later period appended to that book.")] = False) -> None:
    """The period's movements as double-entry postings.

    Balanced postings, one per day and kind, as CSV, a beancount file or an hledger journal, or the file
    QuickBooks Online (qbo), Xero, Sage 50 or QuickBooks Desktop (iif) imports."""
    declarations = not appending
    j = ledger(ctx).journal(program, day_option("--from", start), day_option("--to", end), opening=declarations)
    if fmt.value in PACKAGES:
        files = package_journal(fmt.value, j.ref.code, j.accounts, j.entries, j.ref.currency, j.unit)
        render.emit_files(files, output, f"--format {fmt.value}")
        return
    if fmt == render.JournalFormat.beancount:
        text = accounting_out.journal_beancount(j.ref.code, j.rollforward, j.accounts, j.entries, j.unit, declarations)
    elif fmt == render.JournalFormat.ledger:
        text = accounting_out.journal_ledger(j.ref.code, j.rollforward, j.accounts, j.entries, j.unit, declarations)
    else:
        text = accounting_out.journal_csv(j.ref.code, j.rollforward, j.entries, j.unit)
    render.emit_text(text, output)


@command(report_app, "kpis")
def kpi_report(ctx: typer.Context, program: ProgramOption,
               start: Annotated[str | None, typer.Option("--from", metavar="DATE", help="First day (default: 12 months to --to).",
                                                         show_default=False)] = None,
               end: Annotated[str | None, typer.Option("--to", metavar="DATE", help="Last day (default today).",
                                                       show_default=False)] = None,
               fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """Members, activity, rates, tiers, fees and a monthly chart.

    Points issued, redeemed and expired, redemption and breakage rates, tiers, membership fees; --format
    csv gives (section, line, value) rows for a spreadsheet."""
    ref, k = ledger(ctx).kpis(program, day_option("--from", start), day_option("--to", end))
    render.emit(views.kpis_view(ref, k), fmt, output)


@command(report_app, "analytics")
def analytics(ctx: typer.Context, program: ProgramOption, start: FromOption, end: ToOption,
              active_days: Annotated[int, typer.Option("--active-days", metavar="DAYS", parser=integer,
                                                       help="A member is active with a purchase in this many days "
                                                            "ending on --to.")] = 90,
              fmt: Annotated[render.AnalyticsFormat, typer.Option("--format", "-f", metavar=choices(render.AnalyticsFormat),
                                                                  help="Output format.")
                             ] = render.AnalyticsFormat.table,
              output: OutputOption = None) -> None:
    """Retention: members against walk-ins, segments, cohorts.

    Membership rate and member share of sales, repeat customers, active and churned members, redeemers
    against the rest, retention by join month and a monthly series; --format html is a page with charts,
    --format csv a table per section."""
    ref, report = ledger(ctx).analytics(program, day_option("--from", start), day_option("--to", end), active_days)
    if fmt == render.AnalyticsFormat.html:
        render.emit_text(analytics_html(ref, report), output)
    elif fmt == render.AnalyticsFormat.csv:
        render.emit_text(analytics_out.analytics_csv(ref, report), output)
    else:
        render.emit(analytics_out.analytics_view(ref, report), fmt, output)


@command(report_app, "partners")
def partners(ctx: typer.Context, program: ProgramOption, start: FromOption, end: ToOption,
             fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """What each partner issued and owes the program.

    Per partner: purchases, points issued and their value (what the partner owes the program)."""
    ref, period, lines = ledger(ctx).partners(program, day_option("--from", start), day_option("--to", end))
    render.emit(views.partners_view(ref, period, lines), fmt, output)


@command(report_app, "donations")
def donations(ctx: typer.Context, program: ProgramOption, start: FromOption, end: ToOption,
              fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """What was donated to each charity, and is owed to it.

    Per charity: rewards donated, their points and the money owed to the charity."""
    ref, period, lines = ledger(ctx).donations(program, day_option("--from", start), day_option("--to", end))
    render.emit(views.donations_view(ref, period, lines), fmt, output)


@command(report_app, "vouchers")
def vouchers(ctx: typer.Context, program: ProgramOption, as_of: AsOfOption = None,
             fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """Vouchers outstanding at the end of a day, and their value.

    Issued and not yet used, cancelled or expired: the liability's voucher line, voucher by voucher."""
    found = ledger(ctx).vouchers(program, "issued", day_option("--as-of", as_of))
    render.emit(voucher_views.vouchers_view(found, outstanding=True), fmt, output)


@command(report_app, "expiring")
def expiring(ctx: typer.Context, program: ProgramOption,
             within: Annotated[int, typer.Option("--within", metavar="DAYS", parser=integer,
                                                               help="Days after --as-of to look ahead.")] = 30,
             as_of: AsOfOption = None,
             fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """Members whose points expire soon: a mail-merge list.

    With their email and the rewards their available points still buy."""
    ref, day, lines = ledger(ctx).expiring(program, within, day_option("--as-of", as_of))
    render.emit(views.expiring_view(ref, day, within, lines), fmt, output)
