"""Posting commands (earn, redeem, adjust, reverse, transfer, expire) and `balance`."""

from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import AsOfOption, FormatOption, ProgramOption, command, day_option, integer, ledger
from loyaltyctl.formats import ledger as views
from loyaltyctl.formats.shapes import plain
from loyaltyctl.results import Posted

ledger_app = typer.Typer()

MemberArgument = Annotated[str, typer.Argument(metavar="MEMBER", help="Member id, card number or email.", show_default=False)]
PointsArgument = Annotated[int, typer.Argument(metavar="POINTS", help="Whole points.", show_default=False,
                                               parser=integer)]
ReasonOption = Annotated[str, typer.Option("--reason", "-r", metavar="TEXT", help="Why (shown on statements).")]
KeyOption = Annotated[str | None, typer.Option("--key", metavar="TEXT", help="Idempotency key: posting it again changes nothing.")]
AtOption = Annotated[str | None, typer.Option("--at", metavar="WHEN", help="When it happened (ISO date or time; default now).")]


def emit_posted(posted: Posted, fmt: render.Format) -> None:
    if posted.note:
        render.note(posted.note)
    if posted.duplicate:
        render.note(f"key {posted.entries[0].key!r} was already used by entry {posted.entries[0].id}; nothing posted")
    render.emit(views.posted_view(posted), fmt)


@command(ledger_app, "earn")
def earn(ctx: typer.Context, program: ProgramOption, member: MemberArgument, points: PointsArgument,
         reason: ReasonOption, key: KeyOption = None, at: AtOption = None, fmt: FormatOption = render.Format.table) -> None:
    """Credit points by hand.

    A purchase the till missed, a goodwill gesture."""
    emit_posted(ledger(ctx).earn(program, member, points, reason=reason, key=key, at=at), fmt)


@command(ledger_app, "redeem")
def redeem(
    ctx: typer.Context,
    program: ProgramOption,
    member: MemberArgument,
    reward: Annotated[str | None, typer.Option("--reward", metavar="TEXT", help="Reward code from the program.")] = None,
    points: Annotated[int | None, typer.Option("--points", metavar="INTEGER", parser=integer,
                                                          help="Points to spend, valued at point_value.")] = None,
    amount: Annotated[str | None, typer.Option("--amount", metavar="MONEY",
                                               help="Money to take off: the points it takes at point_value.")] = None,
    order_amount: Annotated[str | None, typer.Option("--order-amount", metavar="MONEY",
                                                     help="The order a percent-off reward takes its share of.")] = None,
    key: KeyOption = None,
    at: AtOption = None,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Spend points on a reward, points or an amount.

    A reward (a voucher reward also issues its code), a number of points, or an amount of money (cashback:
    as many points as it takes, rounded up). Refused (exit 1) when the available balance is short."""
    emit_posted(ledger(ctx).redeem(program, member, reward=reward, points=points, amount=amount,
                                    order_amount=order_amount, key=key, at=at), fmt)


# Negative points (-50) must reach the argument instead of being read as an option.
@command(ledger_app, "adjust", context_settings={"ignore_unknown_options": True})
def adjust(ctx: typer.Context, program: ProgramOption, member: MemberArgument,
           points: Annotated[int, typer.Argument(metavar="POINTS", help="Signed points, e.g. 25 or -50.",
                                                          parser=integer)],
           reason: ReasonOption, key: KeyOption = None, at: AtOption = None,
           fmt: FormatOption = render.Format.table) -> None:
    """Post a signed manual correction.

    A signed manual correction; a negative one beyond the balance leaves points owed."""
    emit_posted(ledger(ctx).adjust(program, member, points, reason=reason, key=key, at=at), fmt)


@command(ledger_app, "reverse")
def reverse(ctx: typer.Context, program: ProgramOption,
            entry_id: Annotated[int, typer.Argument(metavar="ENTRY_ID", help="The entry to undo.", parser=integer)],
            reason: ReasonOption, key: KeyOption = None, at: AtOption = None,
            fmt: FormatOption = render.Format.table) -> None:
    """Undo one entry, once.

    By what it still comes to: expired points are never taken or given twice."""
    emit_posted(ledger(ctx).reverse(program, entry_id, reason=reason, key=key, at=at), fmt)


@command(ledger_app, "transfer")
def transfer(ctx: typer.Context, program: ProgramOption,
             source: Annotated[str, typer.Argument(metavar="SOURCE", help="Member giving points.")],
             target: Annotated[str, typer.Argument(metavar="TARGET", help="Member receiving them.")],
             points: PointsArgument, key: KeyOption = None, at: AtOption = None,
             fmt: FormatOption = render.Format.table) -> None:
    """Move points to another member; they keep their expiry dates."""
    emit_posted(ledger(ctx).transfer(program, source, target, points, key=key, at=at), fmt)


@command(ledger_app, "balance")
def balance(ctx: typer.Context, program: ProgramOption, member: MemberArgument, as_of: AsOfOption = None,
            fmt: FormatOption = render.Format.table) -> None:
    """A member's points, and what expires soon.

    Points, available and pending points, and what expires in the next 90 days."""
    render.emit(views.balance_view(ledger(ctx).balance(program, member, day_option("--as-of", as_of))), fmt)


@command(ledger_app, "expire")
def expire(ctx: typer.Context, program: ProgramOption, as_of: AsOfOption = None,
           fmt: FormatOption = render.Format.table) -> None:
    """Post every expiry due up to a date.

    Each is dated the day it expired; re-running posts nothing."""
    result = ledger(ctx).expire(program, day_option("--as-of", as_of))
    render.emit(render.record(f"Expiry posted through {result.as_of}", plain(result)), fmt)


@command(ledger_app, "quote")
def quote(
    ctx: typer.Context,
    program: ProgramOption,
    member: MemberArgument,
    amount: Annotated[str | None, typer.Argument(metavar="AMOUNT", help="Purchase amount, e.g. 42.50 (or give --line).",
                                                 show_default=False)] = None,
    category: Annotated[str, typer.Option("--category", "-c", metavar="TEXT", help="Product category.")] = "",
    line: Annotated[list[str] | None, typer.Option(
        "--line", "-l", metavar="AMOUNT[:CATEGORY]", help="One line of a basket; repeat for each line.")] = None,
    partner: Annotated[str, typer.Option("--partner", metavar="TEXT", help="Partner code, for a purchase at a partner.")] = "",
    at: AtOption = None,
    fmt: FormatOption = render.Format.table,
) -> None:
    """What a purchase would earn now, and why.

    A purchase or a basket of lines; writes nothing."""
    result = ledger(ctx).quote(program, member, amount, category=category, lines=line or (), partner=partner, at=at)
    render.emit(views.quote_view(result, partner), fmt)
