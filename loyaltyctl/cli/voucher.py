"""`loyaltyctl voucher …`: use a voucher at the till, show one, list and export them."""

from enum import Enum
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import (
    AsOfOption,
    FormatOption,
    OutputOption,
    ProgramOption,
    ReportFormatOption,
    choices,
    command,
    ledger,
    day_option,
)
from loyaltyctl.formats import vouchers as views

voucher_app = typer.Typer(no_args_is_help=True, help="Vouchers: use one at the till, show, list, export.")

CodeArgument = Annotated[str, typer.Argument(metavar="CODE", help="The voucher code (any case; dashes and spaces are ignored).",
                                             show_default=False)]
# A code is unique in the database: the till that has only the code needs no --program.
AnyProgramOption = Annotated[str | None, typer.Option("--program", "-p", metavar="CODE",
                                                      help="Program code (default: the code's own).")]
StatusOption = Annotated[str | None, typer.Option("--status", metavar="STATUS",
                                                  help="issued, used, cancelled or expired.")]


@command(voucher_app, "use")
def use(ctx: typer.Context, code: CodeArgument, program: AnyProgramOption = None,
        order: Annotated[str | None, typer.Option("--order", metavar="REF", help="The order or receipt it paid.")] = None,
        at: Annotated[str | None, typer.Option("--at", metavar="WHEN", help="When (ISO date or time; default now).")
                      ] = None,
        order_amount: Annotated[str | None, typer.Option(
            "--order-amount", metavar="MONEY", help="The order's amount: a percent voucher takes its share of it, "
                                                    "any voucher at most all of it.")] = None,
        fmt: FormatOption = render.Format.table) -> None:
    """Take a voucher at the till, once.

    Refused (exit 1) when it was used, cancelled or has expired, naming when and where; the same --order
    again changes nothing."""
    result = ledger(ctx).use_voucher(program, code, order=order, at=at, order_amount=order_amount)
    if result.duplicate:
        render.note(f"voucher {result.voucher.code} was already used for order {order}; nothing changed")
    title = f"Voucher {result.voucher.code}" + (" (already used)" if result.duplicate else " used")
    render.emit(views.voucher_view(result.voucher, result.ref, result.voucher.used_at, title), fmt)


@command(voucher_app, "show")
def show(ctx: typer.Context, code: CodeArgument, program: AnyProgramOption = None,
         fmt: FormatOption = render.Format.table) -> None:
    """One voucher: its member, reward, value and status."""
    ref, voucher, now = ledger(ctx).voucher(program, code)
    render.emit(views.voucher_view(voucher, ref, now, f"Voucher {voucher.code}"), fmt)


@command(voucher_app, "list")
def list_vouchers(ctx: typer.Context, program: ProgramOption, status: StatusOption = None, as_of: AsOfOption = None,
                  fmt: ReportFormatOption = render.ReportFormat.table, output: OutputOption = None) -> None:
    """The program's vouchers, as they stood at the end of a day.

    Each with its member, reward, value, last valid day and status; --status picks one kind."""
    render.emit(views.vouchers_view(ledger(ctx).vouchers(program, status, day_option("--as-of", as_of))),
                fmt, output)


class ExportFormat(str, Enum):
    shopify = "shopify"
    csv = "csv"


@command(voucher_app, "export")
def export(ctx: typer.Context, program: ProgramOption, status: StatusOption = "issued",
           fmt: Annotated[ExportFormat, typer.Option("--format", "-f", metavar=choices(ExportFormat), help="shopify: one Code column; csv: with "
                                                     "value, last valid day and member.")] = ExportFormat.csv,
           output: OutputOption = None) -> None:
    """Codes for the shop: the vouchers still to be used, as CSV.

    --format shopify writes the one Code column the Shopify apps that load codes into a discount read."""
    found = ledger(ctx).vouchers(program, status)
    render.emit_text(views.export_csv(found.vouchers, found.ref, fmt.value), output)
