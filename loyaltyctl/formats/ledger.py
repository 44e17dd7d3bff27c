"""What the ledger commands print, as report values: postings, a balance, a quote."""

from loyaltyctl.core.dates import format_instant
from loyaltyctl.formats.shapes import entry_json, tier_json, tier_line
from loyaltyctl.formats.vouchers import voucher_json
from loyaltyctl.money import format_money, plain_decimal
from loyaltyctl.operations.ledger import Balance, Posted
from loyaltyctl.operations.quote import Quote
from loyaltyctl.render import Grid, Report, fields_grid


def posted_view(posted: Posted) -> Report:
    """The entries a posting wrote (or had written, for a key used before) and the balance after."""
    data = {
        "program": posted.program.code,
        "member": posted.member.member_id,
        "duplicate": posted.duplicate,
        "entries": [entry_json(e, posted.program) for e in posted.entries],
        "balance": posted.points,
        "available": posted.available,
    }
    lines = []
    if posted.voucher is not None:
        data["voucher"] = voucher_json(posted.voucher, posted.program, posted.voucher.issued_at)
        through = data["voucher"]["valid_through"]
        lines.append(f"voucher {posted.voucher.code}: {data['voucher']['value']} {posted.program.currency}"
                     + (f", valid through {through}" if through else ", valid until used"))
    title = "Already posted (same --key); nothing changed" if posted.duplicate else "Posted"
    rows = [(e["id"], e["member"], e["kind"], e["points"], e["effective_at"][:16].replace("T", " "), e["reason"],
             e["value"]) for e in data["entries"]]
    return Report(data, [
        Grid(title, ["entry", "member", "kind", posted.unit, "effective", "reason", "value"], rows),
        f"{posted.member.member_id} now has {posted.points} {posted.unit} ({posted.available} available)",
        *lines])


def balance_view(result: Balance) -> Report:
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
    return Report(data, [fields_grid(f"Balance in {result.program.code}", pairs)])


def quote_view(result: Quote, partner: str) -> Report:
    """The points a purchase would earn, with every factor (JSON) and the steps that apply (table)."""
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
            "limits": {"per_day": version.earn.max_points_per_day or None,
                       "per_month": version.earn.max_points_per_month or None,
                       "earned_today": result.state.earned_today, "earned_this_month": result.state.earned_this_month,
                       "limited_by": earning.limited_by},
            "lines": [{"amount": format_money(e.line.amount, ref.currency), "category": e.line.category or None,
                       "category_factor": plain_decimal(e.category_factor), "promotion": e.promotion,
                       "promotion_factor": plain_decimal(e.promotion_factor), "earns": not e.excluded,
                       "unrounded": plain_decimal(e.unrounded)} for e in earning.lines],
        },
    }

    def explained(d: dict) -> list[tuple[str, object]]:
        b, unit = d["breakdown"], version.unit
        if d["no_points_because"] and not b["limits"]["limited_by"]:
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
        limits = b["limits"]
        if limits["limited_by"] == "max_points_per_day":
            pairs.append(("daily limit", f"{limits['per_day']} ({limits['earned_today']} already earned that day)"))
        elif limits["limited_by"] == "max_points_per_month":
            pairs.append(("monthly limit", f"{limits['per_month']} ({limits['earned_this_month']} already earned "
                                           "that month)"))
        pairs.append((unit, d["points"]))
        return pairs

    title = f"Quote for {result.member.member_id}: {data['amount']} {ref.currency}"
    return Report(data, [fields_grid(title, explained(data))])
