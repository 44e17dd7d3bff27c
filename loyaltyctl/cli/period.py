"""`loyaltyctl period …`: close the books through a day, and list the closes."""

from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import FormatOption, OutputOption, ProgramOption, ReportFormatOption, command, day_option, ledger
from loyaltyctl.core.dates import format_instant
from loyaltyctl.money import format_money
from loyaltyctl.values import Close

period_app = typer.Typer(no_args_is_help=True, help="Close accounting periods: nothing can be posted into them after.")


def close_json(code: str, currency: str, timezone: str, close: Close) -> dict:
    return {
        "program": code, "through": close.through.isoformat(), "expiries_posted": close.expiries_posted,
        "closing_points": close.closing_points, "closing_liability": format_money(close.closing_liability, currency),
        "closed_at": format_instant(close.recorded_at, timezone),
    }


@command(period_app, "close")
def close(ctx: typer.Context, program: ProgramOption,
          through: Annotated[str, typer.Option("--through", metavar="DATE", help="Last day to close, YYYY-MM-DD.", show_default=False)],
          fmt: FormatOption = render.Format.table) -> None:
    """Close the books through a day.

    Post the expiries due through a day, then close it: later postings dated on or before it are refused."""
    closed = ledger(ctx).close_period(program, day_option("--through", through))
    ref, c = closed.ref, closed.close
    data = {**close_json(ref.code, ref.currency, ref.timezone, c), "already_closed": closed.already}
    if closed.already:
        render.note(f"{ref.code} is already closed through {c.through}; nothing to do")
    render.emit(render.Report(data, [render.fields_grid(f"{ref.code} closed through {c.through}", [
        ("expiries posted", data["expiries_posted"]), ("closing points", c.closing_points),
        ("closing liability", f"{data['closing_liability']} {ref.currency}"), ("closed at", data["closed_at"])])]),
                fmt)


@command(period_app, "list")
def list_closes(ctx: typer.Context, program: ProgramOption, fmt: ReportFormatOption = render.ReportFormat.table,
                output: OutputOption = None) -> None:
    """Every close of a program, with its figures.

    Oldest first, with the points and liability each closed at."""
    ref, closes = ledger(ctx).periods(program)
    data = {"program": ref.code, "currency": ref.currency,
            "periods": [close_json(ref.code, ref.currency, ref.timezone, c) for c in closes]}
    render.emit(render.listing(data, data["periods"],
                               ["through", "expiries_posted", "closing_points", "closing_liability", "closed_at"],
                               f"Closed periods of {ref.code} ({ref.currency})"),
                fmt, output)
    if not closes:
        render.note(f"no period of {ref.code} is closed yet")
