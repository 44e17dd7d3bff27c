"""What the ledger commands print, as report values: postings, a balance, a quote; and the typed results
(`loyaltyctl.results`) the ledger calls return, shaped from what the operations worked out."""

from datetime import date

from loyaltyctl import results
from loyaltyctl.core.dates import format_instant, local_date
from loyaltyctl.core.statements import available_points
from loyaltyctl.core.tiers import TierStatus
from loyaltyctl.core.vouchers import Voucher
from loyaltyctl.formats.shapes import entry_result, next_tier_result, plain, tier_line, tier_standing
from loyaltyctl.formats.vouchers import voucher_result
from loyaltyctl.model import Entry, Member, ProgramRef, Tiers
from loyaltyctl.money import format_money, plain_decimal
from loyaltyctl.render import Grid, Report, fields_grid, unit_for, words
from loyaltyctl.values import Quote


def posted_result(ref: ProgramRef, member: Member, entries: tuple[Entry, ...], points: int, pending: int, *,
                  unit: str, duplicate: bool = False, note: str | None = None,
                  voucher: Voucher | None = None) -> results.Posted:
    """A posting's entries and the member's points after it (at the end of today)."""
    return results.Posted(ref.code, member.member_id, duplicate, tuple(entry_result(e, ref) for e in entries), points,
                          available_points(points, pending), unit, note,
                          voucher_result(voucher, ref, voucher.issued_at) if voucher is not None else None)


def posted_view(posted: results.Posted) -> Report:
    """The entries a posting wrote (or had written, for a key used before) and the balance after."""
    lines = []
    if posted.voucher is not None:
        v = posted.voucher
        lines.append(f"voucher {v.code}: {v.value} {v.currency}"
                     + (f", valid through {v.valid_through}" if v.valid_through else ", valid until used"))
    title = "Already posted (same --key); nothing changed" if posted.duplicate else "Posted"
    rows = [(e.id, e.member, words(e.kind), e.points, e.effective_at.strftime("%Y-%m-%d %H:%M"), e.reason,
             str(e.value) if e.value is not None else None) for e in posted.entries]
    return Report(plain(posted), [
        Grid(title, ["entry", "member", "kind", posted.unit, "effective", "reason", "value"], rows,
             whole=("kind", "effective")),
        f"{posted.member} now has {posted.balance} {unit_for(posted.balance, posted.unit)} ({posted.available} available)",
        *lines])


def balance_result(ref: ProgramRef, member: Member, as_of: date, points: int, pending: int,
                   expiring: list[tuple[int, int]], unit: str, tier: TierStatus | None,
                   tiers: Tiers | None) -> results.Balance:
    """A member's figures at the end of `as_of`; `expiring` as (instant, points)."""
    return results.Balance(
        ref.code, member.member_id, as_of, points, available_points(points, pending), pending,
        tier.level.code if tier is not None and tiers is not None else None, next_tier_result(tier, tiers, ref),
        tuple(results.Expiring(local_date(at, ref.timezone), held) for at, held in expiring), unit, ref.currency,
        tier_standing(tier) if tiers is not None else None)


def balance_view(result: results.Balance) -> Report:
    data = plain(result)
    del data["tier_standing"]  # what the table's tier line says, not a figure of the balance
    pairs = [("member", result.member), ("as of", data["as_of"]), (result.unit, result.points),
             ("available", result.available), ("pending", result.pending)]
    if result.tier:
        pairs.append(("tier", tier_line(result.tier_standing, result.next_tier, result.currency, result.unit)))
    pairs += [(f"expires {e.on}", e.points) for e in result.expiring]
    return Report(data, [fields_grid(f"Balance in {result.program}", pairs)])


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
