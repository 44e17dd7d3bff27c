"""Posting commands (earn, redeem, adjust, reverse, transfer, expire) and `balance`."""

from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import AsOfOption, FormatOption, ProgramOption, command, database, day_option, snapshot
from loyaltyctl.formats.shapes import entry_json, tier_json, tier_line
from loyaltyctl.core.dates import format_instant
from loyaltyctl.money import format_money, plain_decimal
from loyaltyctl.operations import ledger as ops
from loyaltyctl.operations.quote import quote as quote_purchase

ledger_app = typer.Typer()

MemberArgument = Annotated[str, typer.Argument(help="Member id or card number.", show_default=False)]
PointsArgument = Annotated[int, typer.Argument(help="Whole points.", show_default=False)]
ReasonOption = Annotated[str, typer.Option("--reason", "-r", help="Why (shown on statements).")]
KeyOption = Annotated[str | None, typer.Option("--key", help="Idempotency key: posting it again changes nothing.")]
AtOption = Annotated[str | None, typer.Option("--at", metavar="WHEN", help="When it happened (ISO date or time; default now).")]


def _emit_posted(ctx: typer.Context, posted: ops.Posted, fmt: render.Format) -> None:
    balance = ops.member_balance(database(ctx), posted.program.code, posted.member.member_id)
    data = {
        "program": posted.program.code,
        "member": posted.member.member_id,
        "duplicate": posted.duplicate,
        "entries": [entry_json(e, posted.program) for e in posted.entries],
        "balance": balance.points,
        "available": balance.available,
    }

    title = "Already posted (same --key); nothing changed" if posted.duplicate else "Posted"
    rows = [(e["id"], e["member"], e["kind"], e["points"], e["effective_at"][:16].replace("T", " "), e["reason"],
             e["value"]) for e in data["entries"]]
    if posted.note:
        render.note(posted.note)
    if posted.duplicate:
        render.note(f"key {posted.entries[0].key!r} was already used by entry {posted.entries[0].id}; nothing posted")
    render.emit(render.Report(data, [
        render.Grid(title, ["entry", "member", "kind", balance.unit, "effective", "reason", "value"], rows),
        f"{posted.member.member_id} now has {balance.points} {balance.unit} ({balance.available} available)"]), fmt)


@command(ledger_app, "earn")
def earn(ctx: typer.Context, program: ProgramOption, member: MemberArgument, points: PointsArgument,
         reason: ReasonOption, key: KeyOption = None, at: AtOption = None, fmt: FormatOption = render.Format.table) -> None:
    """Credit points by hand.

    A purchase the till missed, a goodwill gesture."""
    _emit_posted(ctx, ops.post_earn(database(ctx), program, member, points, reason, key, at), fmt)


@command(ledger_app, "redeem")
def redeem(
    ctx: typer.Context,
    program: ProgramOption,
    member: MemberArgument,
    reward: Annotated[str | None, typer.Option("--reward", help="Reward code from the program.")] = None,
    points: Annotated[int | None, typer.Option("--points", help="Points to spend, valued at point_value.")] = None,
    key: KeyOption = None,
    at: AtOption = None,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Spend points on a reward.

    Refused (exit 1) when the available balance is short."""
    _emit_posted(ctx, ops.post_redeem(database(ctx), program, member, reward, points, key, at), fmt)


# Negative points (-50) must reach the argument instead of being read as an option.
@command(ledger_app, "adjust", context_settings={"ignore_unknown_options": True})
def adjust(ctx: typer.Context, program: ProgramOption, member: MemberArgument,
           points: Annotated[int, typer.Argument(help="Signed points, e.g. 25 or -50.")],
           reason: ReasonOption, key: KeyOption = None, at: AtOption = None,
           fmt: FormatOption = render.Format.table) -> None:
    """Post a signed manual correction.

    A signed manual correction; a negative one beyond the balance leaves points owed."""
    _emit_posted(ctx, ops.post_adjust(database(ctx), program, member, points, reason, key, at), fmt)


@command(ledger_app, "reverse")
def reverse(ctx: typer.Context, program: ProgramOption,
            entry_id: Annotated[int, typer.Argument(help="The entry to undo.")],
            reason: ReasonOption, key: KeyOption = None, at: AtOption = None,
            fmt: FormatOption = render.Format.table) -> None:
    """Undo one entry, once.

    By what it still comes to: expired points are never taken or given twice."""
    _emit_posted(ctx, ops.post_reverse(database(ctx), program, entry_id, reason, key, at), fmt)


@command(ledger_app, "transfer")
def transfer(ctx: typer.Context, program: ProgramOption,
             source: Annotated[str, typer.Argument(help="Member giving points.")],
             target: Annotated[str, typer.Argument(help="Member receiving them.")],
             points: PointsArgument, key: KeyOption = None, at: AtOption = None,
             fmt: FormatOption = render.Format.table) -> None:
    """Move points to another member; they keep their expiry dates."""
    _emit_posted(ctx, ops.post_transfer(database(ctx), program, source, target, points, key, at), fmt)


@command(ledger_app, "balance")
def balance(ctx: typer.Context, program: ProgramOption, member: MemberArgument, as_of: AsOfOption = None,
            fmt: FormatOption = render.Format.table) -> None:
    """A member's points, and what expires soon.

    Points, available and pending points, and what expires in the next 90 days."""
    result = ops.member_balance(snapshot(ctx), program, member, day_option("--as-of", as_of))
    tier, next_tier = tier_json(result.tier, result.tiers, result.program)
    data = {
        "program": result.program.code,
        "member": result.member.member_id,
        "as_of": result.as_of.isoformat(),
        "points": result.points,
        "available": result.available,
        "pending": result.pending,
        "tier": tier,
        "next_tier": next_tier,
        "expiring": [{"on": on.isoformat(), "points": points} for on, points in result.expiring],
    }

    pairs = [("member", f"{result.member.member_id} {result.member.name}".strip()), ("as of", data["as_of"]),
             (result.unit, result.points), ("available", result.available), ("pending", result.pending)]
    if tier:
        pairs.append(("tier", tier_line(result.tier, result.tiers, result.program, result.unit)))
    pairs += [(f"expires {e['on']}", e["points"]) for e in data["expiring"]]
    render.emit(render.Report(data, [render.fields_grid(f"Balance in {result.program.code}", pairs)]), fmt)


@command(ledger_app, "expire")
def expire(ctx: typer.Context, program: ProgramOption, as_of: AsOfOption = None,
           fmt: FormatOption = render.Format.table) -> None:
    """Post every expiry due up to a date.

    Each is dated the day it expired; re-running posts nothing."""
    result = ops.run_expire(database(ctx), program, day_option("--as-of", as_of))
    data = {"program": result.program, "as_of": result.as_of.isoformat(), "lots": result.lots,
            "points": result.points, "members": result.members}
    render.emit(render.record(f"Expiry posted through {result.as_of}", data), fmt)


@command(ledger_app, "quote")
def quote(
    ctx: typer.Context,
    program: ProgramOption,
    member: MemberArgument,
    amount: Annotated[str | None, typer.Argument(help="Purchase amount, e.g. 42.50 (or give --line).",
                                                 show_default=False)] = None,
    category: Annotated[str, typer.Option("--category", "-c", help="Product category.")] = "",
    line: Annotated[list[str] | None, typer.Option(
        "--line", "-l", metavar="AMOUNT[:CATEGORY]", help="One line of a basket; repeat for each line.")] = None,
    partner: Annotated[str, typer.Option("--partner", help="Partner code, for a purchase at a partner.")] = "",
    at: AtOption = None,
    fmt: FormatOption = render.Format.table,
) -> None:
    """What a purchase would earn now, and why.

    A purchase or a basket of lines; writes nothing."""
    result = quote_purchase(database(ctx), program, member, amount, category, partner, at, line)
    earning, version, ref = result.earning, result.version, result.ref
    rate = next((p.points_per_unit for p in version.partners if p.code == partner), version.earn.points_per_unit)
    lines = result.purchase.lines
    data = {
        "program": ref.code,
        "member": result.member.member_id,
        "at": format_instant(result.at, ref.timezone),
        "amount": format_money(result.purchase.amount, ref.currency),
        "category": lines[0].category or None if len(lines) == 1 else None,
        "partner": partner or None,
        "tier": result.state.tier,
        "points": earning.points,
        "no_points_because": earning.no_points_because,
        "breakdown": {
            "points_per_unit": plain_decimal(rate),
            "points_per_visit": plain_decimal(version.earn.points_per_visit),
            "base": plain_decimal(earning.base),
            "category_factor": plain_decimal(earning.category_factor),
            "promotion": earning.promotion,
            "promotion_factor": plain_decimal(earning.promotion_factor),
            "tier_factor": plain_decimal(earning.tier_factor),
            "unrounded": plain_decimal(earning.unrounded),
            "rounding": version.earn.rounding,
            "cap": version.earn.max_points_per_txn or None,
            "capped": earning.capped,
            "lines": [{"amount": format_money(e.line.amount, ref.currency), "category": e.line.category or None,
                       "category_factor": plain_decimal(e.category_factor), "promotion": e.promotion,
                       "promotion_factor": plain_decimal(e.promotion_factor), "earns": not e.excluded,
                       "unrounded": plain_decimal(e.unrounded)} for e in earning.lines],
        },
    }

    def explained(d: dict) -> list[tuple[str, object]]:
        b, unit = d["breakdown"], version.unit
        if d["no_points_because"]:
            return [(unit, 0), ("why", d["no_points_because"])]
        visit = f" + {b['points_per_visit']} per visit" if earning.base and version.earn.points_per_visit else ""
        if len(b["lines"]) > 1:
            pairs = [(f"line {x['category'] or '(none)'}", f"{x['amount']} x {b['points_per_unit']}"
                      + (f" x{x['category_factor']}" if x["category_factor"] != "1" else "")
                      + (f" x{x['promotion_factor']} ({x['promotion']})" if x["promotion"] else "")
                      + (f" = {x['unrounded']}" if x["earns"] else ": earns nothing")) for x in b["lines"]]
            if visit:
                pairs.append(("per visit", f"{b['points_per_visit']} x{b['category_factor']} x{b['promotion_factor']}"))
        else:
            pairs = [(f"base ({partner} rate)" if partner else "base",
                      f"{d['amount']} x {b['points_per_unit']}{visit} = {b['base']}")]
            if earning.category_factor != 1:
                pairs.append((f"category {d['category']}", f"x{b['category_factor']}"))
            if earning.promotion:
                pairs.append((f"promotion {earning.promotion}", f"x{b['promotion_factor']}"))
        if d["tier"]:
            pairs.append((f"tier {d['tier']}", f"x{b['tier_factor']}"))
        pairs.append(("before rounding", f"{b['unrounded']} (rounding: {b['rounding']})"))
        if earning.capped:
            pairs.append(("capped at", b["cap"]))
        pairs.append((unit, d["points"]))
        return pairs

    title = f"Quote for {result.member.member_id}: {data['amount']} {ref.currency}"
    render.emit(render.Report(data, [render.fields_grid(title, explained(data))]), fmt)
