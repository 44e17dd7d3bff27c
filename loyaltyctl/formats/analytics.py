"""`report analytics` as JSON (SPEC.md's shape), tables, sectioned CSV; the HTML page is `analytics_html`.

Each figure is named once (`headline`) with what it is: a count, money, a
rate or a plain number; every format writes it from there. A figure without
data is null in JSON, empty in CSV and `–` for people.
"""

from datetime import date
from typing import Any

from loyaltyctl.core.analytics import COHORT_MONTHS, Analytics, Segment
from loyaltyctl.core.dates import add_months
from loyaltyctl.formats.csv_output import csv_text
from loyaltyctl.model import ProgramRef
from loyaltyctl.money import Money, format_money
from loyaltyctl.render import Grid, Report

NO_DATA = "–"
COUNT, MONEY, RATE, NUMBER = "count", "money", "rate", "number"
SEGMENTS = (("redeemers", "redeemers"), ("non_redeemers", "non-redeemers"), ("non_members", "non-members"))
COHORT_COLUMNS = tuple(str(k) for k in range(COHORT_MONTHS))  # months after joining: 0 is the join month
MONTHLY_COLUMNS = ("month", "points_issued", "points_redeemed", "points_expired", "member_sales", "non_member_sales",
                   "active_members")


class Figure:
    """One headline figure: its JSON key, what people call it, its value and kind."""

    __slots__ = ("key", "label", "value", "kind")

    def __init__(self, key: str, label: str, value: Any, kind: str):
        self.key, self.label, self.value, self.kind = key, label, value, kind


def headline(a: Analytics) -> list[Figure]:
    days = a.active_days
    return [
        Figure("members", "members (joined by the last day)", a.members, COUNT),
        Figure("new_members", "new members (joined in the range)", a.new_members, COUNT),
        Figure("member_purchases", "purchases by members", a.member_purchases, COUNT),
        Figure("non_member_purchases", "purchases by non-members", a.non_member_purchases, COUNT),
        Figure("member_sales", "sales to members (less refunds)", a.member_sales, MONEY),
        Figure("non_member_sales", "sales to non-members (less refunds)", a.non_member_sales, MONEY),
        Figure("membership_rate", "membership rate (purchases by members)", a.membership_rate, RATE),
        Figure("member_sales_share", "member share of sales", a.member_sales_share, RATE),
        Figure("purchasing_members", "members who purchased", a.purchasing_members, COUNT),
        Figure("repeat_customer_rate", "repeat customer rate (2+ purchases)", a.repeat_customer_rate, RATE),
        Figure("purchase_frequency", "purchases per purchasing member", a.purchase_frequency, NUMBER),
        Figure("average_order_value.members", "average order, members", a.average_order_value[0], MONEY),
        Figure("average_order_value.non_members", "average order, non-members", a.average_order_value[1], MONEY),
        Figure("active_members", f"active members (a purchase in the last {days} days)", a.active_members, COUNT),
        Figure("active_rate", "active rate", a.active_rate, RATE),
        Figure("churn_rate", f"churn rate (active in the {days} days before, no purchase since)", a.churn_rate, RATE),
        Figure("points_issued", "points issued", a.points_issued, COUNT),
        Figure("points_redeemed", "points redeemed", a.points_redeemed, COUNT),
        Figure("points_expired", "points expired", a.points_expired, COUNT),
        Figure("redemption_rate", "redemption rate (redeemed / issued, to date)", a.redemption_rate, RATE),
        Figure("breakage_rate", "breakage rate (expired / issued, to date)", a.breakage_rate, RATE),
        Figure("reward_usage_rate", "vouchers issued in the range used", a.reward_usage_rate, RATE),
        Figure("average_lifetime_sales", "average lifetime sales per purchasing member", a.average_lifetime_sales,
               MONEY),
        *([] if a.nps is None else [
            Figure("nps.score", "net promoter score (latest survey answers)", a.nps.score, NUMBER),
            Figure("nps.responses", "members answering a survey (their latest answer)", a.nps.responses, COUNT),
            Figure("nps.promoters", "promoters (9-10)", a.nps.promoters, COUNT),
            Figure("nps.detractors", "detractors (0-6)", a.nps.detractors, COUNT)]),
    ]


def json_value(value: Any, kind: str, currency: str) -> Any:
    if value is None or kind == COUNT:
        return value
    return format_money(value, currency) if kind == MONEY else str(value)


def shown(value: Any, kind: str, currency: str) -> str:
    """A figure as people read it: rates as percentages, money as in JSON, `–` without data."""
    if value is None:
        return NO_DATA
    if kind == RATE:
        return f"{value * 100:.1f}%"
    if kind == MONEY:
        return format_money(value, currency)
    return f"{value:,}" if kind == COUNT else str(value)


def _cell(value: Any, kind: str, currency: str) -> Any:
    """A typed cell for CSV (money a number, a rate a decimal, nothing empty)."""
    return Money(value, currency) if kind == MONEY and value is not None else value


def analytics_document(ref: ProgramRef, a: Analytics) -> dict:
    c = ref.currency
    document: dict[str, Any] = {"program": ref.code, "from": a.start.isoformat(), "to": a.end.isoformat(),
                                "active_days": a.active_days, "currency": c}
    for figure in headline(a):
        key, _, part = figure.key.partition(".")
        if key == "nps":
            continue  # last, whole (below)
        value = json_value(figure.value, figure.kind, c)
        if part:
            document.setdefault(key, {})[part] = value
        else:
            document[key] = value
    document["segments"] = {name: _segment_json(s, c) for name, s in a.segments.items()}
    document["cohorts"] = [{"month": _month(h.month), "members": h.members,
                            "retention": [json_value(r, RATE, c) for r in h.retention]} for h in a.cohorts]
    document["monthly"] = [{"month": _month(m.month), "points_issued": m.points.issued,
                            "points_redeemed": m.points.redeemed, "points_expired": m.points.expired,
                            "member_sales": format_money(m.member_sales, c),
                            "non_member_sales": format_money(m.non_member_sales, c),
                            "active_members": m.active_members} for m in a.monthly]
    n = a.nps
    document["nps"] = None if n is None else {"responses": n.responses, "promoters": n.promoters,
                                              "passives": n.passives, "detractors": n.detractors, "score": n.score}
    return document


def _segment_json(s: Segment, currency: str) -> dict:
    data = {"purchases": s.purchases, "sales": format_money(s.sales, currency),
            "average_order_value": json_value(s.average_order_value, MONEY, currency)}
    if s.customers is not None:
        data |= {"customers": s.customers, "purchase_frequency": json_value(s.purchase_frequency, NUMBER, currency)}
    return data


def _month(day: date) -> str:
    return day.strftime("%Y-%m")


def section_grids(ref: ProgramRef, a: Analytics, cell=_cell) -> list[Grid]:
    """The report's sections as typed tables (`cell` writes a headline value): headline, segments, cohort
    retention (one row per join month and month after it), months."""
    c = ref.currency
    grids = [Grid("summary", ("figure", "value"), [(f.key, cell(f.value, f.kind, c)) for f in headline(a)])]
    grids.append(Grid("segments", ("segment", "customers", "purchases", "sales", "average_order_value",
                                   "purchase_frequency"),
                      [(name, s.customers, s.purchases, cell(s.sales, MONEY, c),
                        cell(s.average_order_value, MONEY, c), cell(s.purchase_frequency, NUMBER, c))
                       for name, s in a.segments.items()]))
    grids.append(Grid("cohorts", ("cohort", "members", "month", "months_after_joining", "retention"),
                      [(_month(h.month), h.members, _month(add_months(h.month, k)), k, cell(r, RATE, c))
                       for h in a.cohorts for k, r in enumerate(h.retention) if r is not None]))
    grids.append(Grid("monthly", MONTHLY_COLUMNS,
                      [(_month(m.month), m.points.issued, m.points.redeemed, m.points.expired,
                        cell(m.member_sales, MONEY, c), cell(m.non_member_sales, MONEY, c), m.active_members)
                       for m in a.monthly]))
    return grids


def analytics_csv(ref: ProgramRef, a: Analytics) -> str:
    """One tidy table per section, each after a title row, a blank line between them (for a spreadsheet)."""
    return "\n".join(f"{grid.title}\n{csv_text(grid.columns, grid.rows)}" for grid in section_grids(ref, a))


def retention_text(a: Analytics) -> str:
    """Retention by join month as aligned lines of whole percentages: twelve months beside each other fit 80
    columns, which a table with rules does not."""
    title = "Retention by join month: % of joiners with a purchase 0, 1, 2 … months after"
    if not a.cohorts:
        return f"{title}\n  no members joined in the 12 months to the last day"
    lines = [title, f"{'joined':8}{'members':>8}" + "".join(f"{k:>4}" for k in COHORT_COLUMNS)]
    for h in a.cohorts:
        cells = "".join(f"{round(r * 100):>4}" if r is not None else "    " for r in h.retention)
        lines.append(f"{_month(h.month):8}{h.members:>8,}{cells}".rstrip())
    return "\n".join(lines)


def analytics_view(ref: ProgramRef, a: Analytics) -> Report:
    """The JSON document, and for people: the headline figures, segments, retention by join month, months."""
    c = ref.currency
    title = f"{ref.code}: {a.start} to {a.end} ({c})"
    blocks: list[Grid | str] = [
        Grid(title, ("figure", "value"), [(f.label, shown(f.value, f.kind, c)) for f in headline(a)], record=True),
        Grid("Segments: members who redeemed by the last day, the other members, and walk-ins",
             ("segment", "customers", "purchases", "sales", "average order", "purchases per customer"),
             [(label, shown(s.customers, COUNT, c), s.purchases, format_money(s.sales, c),
               shown(s.average_order_value, MONEY, c), shown(s.purchase_frequency, NUMBER, c))
              for (name, label), s in ((pair, a.segments[pair[0]]) for pair in SEGMENTS)]),
        retention_text(a),
        Grid("By month", ("month", "issued", "redeemed", "expired", "member sales", "non-member sales",
                          "active members"),
             [(_month(m.month), m.points.issued, m.points.redeemed, m.points.expired,
               format_money(m.member_sales, c), format_money(m.non_member_sales, c), m.active_members)
              for m in a.monthly]),
    ]
    return Report(analytics_document(ref, a), blocks)
