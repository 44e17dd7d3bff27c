"""The owner's and partners' reports as report values: KPIs, partners, donations and expiring points."""

from decimal import Decimal

from loyaltyctl.core.kpis import Kpis, bar, scale
from loyaltyctl.money import Money, format_money, plain_decimal
from loyaltyctl.core.kpis import ACTIVE_DAYS
from loyaltyctl.values import DonationLine, ExpiringLine, PartnerLine, Period
from loyaltyctl.render import Grid, Report, bars
from loyaltyctl.model import ProgramRef

NOTHING_IN_PERIOD = "nothing in this period"


def _period_json(ref: ProgramRef, period: Period) -> dict:
    return {"program": ref.code, "from": period.start.isoformat(), "to": period.end.isoformat(),
            "currency": ref.currency}


def partners_view(ref: ProgramRef, period: Period, lines: list[PartnerLine]) -> Report:
    c = ref.currency
    document = _period_json(ref, period) | {
        "partners": [{"partner": p.code, "name": p.name, "purchases": p.purchases, "refunds": p.refunds,
                      "spend": format_money(p.spend, c), "points_issued": p.points_issued,
                      "points_clawed_back": p.points_clawed_back, "net_points": p.net_points,
                      "value": format_money(p.value, c)} for p in lines],
        "total_value": format_money(sum(p.value for p in lines), c),
    }
    grid = Grid(f"Partners of {ref.code}, {period.start} to {period.end} ({c})",
                ["partner", "name", "purchases", "refunds", "spend", "points_issued", "points_clawed_back", "net_points",
                 "value"],
                [[p.code, p.name, p.purchases, p.refunds, Money(p.spend, c), p.points_issued, p.points_clawed_back,
                  p.net_points, Money(p.value, c)] for p in lines], empty=NOTHING_IN_PERIOD)
    return Report(document, [grid])


def donations_view(ref: ProgramRef, period: Period, lines: list[DonationLine]) -> Report:
    c = ref.currency
    document = _period_json(ref, period) | {
        "charities": [{"charity": d.charity, "donations": d.donations, "points": d.points,
                       "value": format_money(d.value, c)} for d in lines],
        "total_value": format_money(sum(d.value for d in lines), c),
    }
    grid = Grid(f"Donations in {ref.code}, {period.start} to {period.end} ({c})",
                ["charity", "donations", "points", "value"],
                [[d.charity, d.donations, d.points, Money(d.value, c)] for d in lines], empty=NOTHING_IN_PERIOD)
    return Report(document, [grid])


def expiring_view(ref: ProgramRef, as_of, within: int, lines: list[ExpiringLine]) -> Report:
    """JSON names the rewards by code (for a script); the table and the mail-merge CSV by name."""
    document = {
        "program": ref.code, "as_of": as_of.isoformat(), "within_days": within,
        "members": [{"member": x.member.member_id, "name": x.member.name, "email": x.member.email,
                     "points": x.points, "first_expiry": x.first_expiry.isoformat(), "available": x.available,
                     "rewards": [r.code for r in x.rewards]} for x in lines],
    }
    grid = Grid(f"Points expiring in {ref.code} within {within} days of {as_of}",
                ["member", "name", "email", "points", "first_expiry", "available", "rewards"],
                [[x.member.member_id, x.member.name, x.member.email, x.points, x.first_expiry, x.available,
                  "; ".join(r.name or r.code for r in x.rewards)] for x in lines],
                empty="no points expire in this window")
    return Report(document, [grid])


def _rate(value: Decimal | None) -> str | None:
    return plain_decimal(value) if value is not None else None


def _percent(value: Decimal | None) -> str:
    return f"{value * 100:.1f}%" if value is not None else "n/a"


CHART_WIDTH = 40
ISSUED_BAR, REDEEMED_BAR = "█", "░"  # told apart by shape, not only by colour


def kpis_view(ref: ProgramRef, k: Kpis) -> Report:
    """The KPI document, its tables (summary, tiers, a monthly chart) and, for a spreadsheet, one CSV of
    (section, line, value) rows: the summary figures, members per tier, points issued and redeemed by month."""
    c = ref.currency
    figures = {
        "members": k.members, "new_members": k.new_members, "active_members": k.active_members,
        "active_days": ACTIVE_DAYS, "points_issued": k.issued, "points_redeemed": k.redeemed,
        "points_expired": k.expired, "redemption_rate": _rate(k.redemption_rate),
        "breakage_rate": _rate(k.breakage_rate), "members_with_points": k.members_with_points,
        "average_balance": _rate(k.average_balance), "repeat_purchase_rate": _rate(k.repeat_purchase_rate),
        "buyers": k.buyers, "repeat_buyers": k.repeat_buyers, "membership_payments": k.membership_payments,
        "membership_fee_revenue": format_money(k.membership_revenue, c),
    }
    document = {"program": ref.code, "from": k.start.isoformat(), "to": k.end.isoformat(), "currency": c,
                **figures,
                "tiers": [{"tier": code, "name": name, "members": count} for code, name, count in k.tiers],
                "monthly": [{"month": m.start.strftime("%Y-%m"), "issued": m.issued, "redeemed": m.redeemed}
                            for m in k.months]}
    summary = Grid(f"{ref.code}: {k.start} to {k.end}", ("line", "value"), [
        ("members (new in period)", f"{k.members} ({k.new_members})"),
        (f"active in the last {ACTIVE_DAYS} days", f"{k.active_members} ({_percent(k.active_rate)})"),
        ("points issued", k.issued), ("points redeemed", k.redeemed), ("points expired", k.expired),
        ("redemption rate (redeemed / issued)", _percent(k.redemption_rate)),
        ("breakage rate (expired / (redeemed + expired))", _percent(k.breakage_rate)),
        ("average balance (members with points)", k.average_balance if k.average_balance is not None else "n/a"),
        ("repeat purchase rate (2+ purchases)", f"{_percent(k.repeat_purchase_rate)} of {k.buyers} buyers"),
        ("membership fee revenue", f"{format_money(k.membership_revenue, c)} {c} ({k.membership_payments} payments)"),
    ], record=True)
    blocks: list = [summary]
    if k.tiers:
        blocks.append(Grid("Members by tier", ("tier", "name", "members"), [list(t) for t in k.tiers]))
    largest = scale(k.months)
    blocks.append(Grid(f"Points issued ({ISSUED_BAR}, green) and redeemed ({REDEEMED_BAR}, magenta) by month",
                       ("month", "issued", "redeemed", ""),
                       [[m.start.strftime("%Y-%m"), m.issued, m.redeemed,
                         bars([(bar(m.issued, largest, CHART_WIDTH), ISSUED_BAR, "green"),
                               (bar(m.redeemed, largest, CHART_WIDTH), REDEEMED_BAR, "magenta")])]
                        for m in k.months]))
    rows = [("summary", key, value) for key, value in figures.items()]
    rows += [("tier members", code, count) for code, _, count in k.tiers]
    rows += [(line, m.start.strftime("%Y-%m"), getattr(m, line)) for line in ("issued", "redeemed") for m in k.months]
    return Report(document, blocks, csv=Grid(None, ("section", "line", "value"), rows))
