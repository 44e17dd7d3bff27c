"""Accounting reports as report values (JSON in SPEC.md shapes, and sections of (line, points, value)
rows that render as tables, one CSV or an XLSX sheet each), and journals.

Journals are written as beancount, hledger/ledger or CSV postings.
"""

from collections.abc import Sequence
from decimal import Decimal

from msgspec import convert

from loyaltyctl import results

from loyaltyctl.core.accounting import JournalEntry, Liability, Rollforward
from loyaltyctl.formats.csv_output import csv_text
from loyaltyctl.model import Accounting
from loyaltyctl.formats.shapes import plain
from loyaltyctl.money import MINOR_DIGITS, Money, format_money, plain_decimal, to_minor
from loyaltyctl.render import Grid, Report

COLUMNS = ("line", "points", "value")


def _section(title: str, rows: list[tuple], record: bool = False) -> Grid:
    return Grid(title, COLUMNS, rows, record=record)


def _money(minor: int, currency: str) -> str:
    return format_money(minor, currency)


def liability_json(program: str, report: Liability) -> dict:
    c = report.currency
    return {
        "program": program, "as_of": report.as_of.isoformat(), "currency": c,
        "members_with_points": report.members_with_points, "outstanding_points": report.outstanding,
        "points_owed_by_members": report.owed, "net_points": report.net_points,
        "point_value": plain_decimal(report.point_value), "gross_liability": _money(report.gross, c),
        "net_liability": _money(report.net, c), "breakage_rate": plain_decimal(report.breakage.rate),
        "breakage_basis": report.breakage.basis, "breakage_note": report.breakage.description,
        "expected_liability": _money(report.expected, c),
        "aging": [{"bucket": b.label, "points": b.points, "value": _money(b.value, c)} for b in report.by_age],
        "aging_by_expiry": [{"bucket": b.label, "points": b.points, "value": _money(b.value, c)}
                            for b in report.by_expiry],
        "unposted_expiries": {"lots": report.unposted_expiries, "points": report.unposted_points},
        "vouchers_outstanding": {"count": report.vouchers, "value": _money(report.voucher_value, c)},
        "total_liability": _money(report.total, c),
        "unposted_voucher_returns": report.unposted_voucher_returns,
    }


def liability_result(program: str, report: Liability) -> results.Liability:
    return convert(liability_json(program, report), results.Liability)


def liability_sections(report: results.Liability) -> list[Grid]:
    c = report.currency

    def money(value: Decimal) -> Money:
        return Money(to_minor(value, c), c)

    return [
        _section("Liability", [
            ("gross liability (members with a positive balance)", report.outstanding_points,
             money(report.gross_liability)),
            ("points owed by members", -report.points_owed_by_members,
             money(report.net_liability - report.gross_liability)),
            ("net liability", report.net_points, money(report.net_liability)),
            (f"expected breakage ({report.breakage_rate}, {report.breakage_basis})", None,
             money(report.expected_liability - report.gross_liability)),
            ("expected liability (gross less breakage)", None, money(report.expected_liability)),
            *([(f"vouchers outstanding ({report.vouchers_outstanding.count})", None,
                money(report.vouchers_outstanding.value)),
               ("total liability (net points and vouchers)", None, money(report.total_liability))]
              if report.vouchers_outstanding.count else []),
        ]),
        _section("Aging by lot age", [(b.bucket, b.points, money(b.value)) for b in report.aging]),
        _section("Aging by time to expiry", [(b.bucket, b.points, money(b.value)) for b in report.aging_by_expiry]),
        _section("Parameters", [
            ("as of (end of day)", None, report.as_of),
            ("currency", None, c),
            ("point value", None, report.point_value),
            ("breakage rate", None, report.breakage_rate),
            ("breakage basis", None, report.breakage_note),
            ("members with points", None, report.members_with_points),
            ("unposted expiries counted as expired (lots)", None, report.unposted_expiries.lots),
            ("unposted expiries counted as expired (points)", None, report.unposted_expiries.points),
        ], record=True),
    ]


ROLLFORWARD_LABELS = {"issued": "issued (earn and bonus)", "redeemed": "redeemed", "expired": "expired",
                      "clawed_back": "clawed back", "adjusted": "adjusted (adjustments, transfers, reversals)"}
_SUBTRACTED = ("redeemed", "expired", "clawed_back")


def rollforward_json(program: str, report: Rollforward) -> dict:
    c = report.currency
    return {
        "program": program, "from": report.start.isoformat(), "to": report.end.isoformat(), "currency": c,
        "opening_points": report.opening_points, "issued": report.points["issued"], "actions": report.actions,
        **report.points, "closing_points": report.closing_points,
        "opening_liability": _money(report.opening_liability, c),
        "closing_liability": _money(report.closing_liability, c),
        "values": {line: _money(value, c) for line, value in report.values.items()},
        "revaluation": _money(report.revaluation, c),
        "unposted_expiries": report.unposted_expiries,
        "vouchers": None if report.vouchers is None else {
            line: _money(getattr(report.vouchers, line), c)
            for line in ("opening", "issued", "used", "cancelled", "expired", "closing")},
    }


def rollforward_sections(report: Rollforward) -> list[Grid]:
    """Signed lines: a column adds up from the opening to the closing balance."""
    c = report.currency
    rows = [("opening balance", report.opening_points, Money(report.opening_liability, c))]
    for line, label in ROLLFORWARD_LABELS.items():
        sign = -1 if line in _SUBTRACTED else 1
        rows.append((label, sign * report.points[line], Money(sign * report.values[line], c)))
    rows.append(("revaluation (point value and rounding)", None, Money(report.revaluation, c)))
    rows.append(("closing balance", report.closing_points, Money(report.closing_liability, c)))
    vouchers = report.vouchers
    voucher_rows = [] if vouchers is None else [
        ("vouchers opening", None, Money(vouchers.opening, c)), ("vouchers issued", None, Money(vouchers.issued, c)),
        ("vouchers used", None, Money(-vouchers.used, c)), ("vouchers cancelled", None, Money(-vouchers.cancelled, c)),
        ("vouchers expired unused", None, Money(-vouchers.expired, c)),
        (f"vouchers closing ({vouchers.outstanding} outstanding)", None, Money(vouchers.closing, c))]
    return [
        _section("Roll-forward", rows),
        *([_section("Vouchers", voucher_rows)] if voucher_rows else []),
        _section("Parameters", [
            ("from (start of day)", None, report.start),
            ("to (end of day)", None, report.end),
            ("currency", None, c),
            ("unposted expiries counted as expired (lots)", None, report.unposted_expiries),
            ("of the points issued, for actions", None, report.actions),
        ], record=True),
    ]


def _header(program: str, report: Rollforward, unit: str) -> list[str]:
    c = report.currency
    return [
        f"loyaltyctl journal for {program}, {report.start} to {report.end} ({c}), daily totals by kind",
        f"opening liability {_money(report.opening_liability, c)} {c} ({report.opening_points} {unit}), "
        f"closing {_money(report.closing_liability, c)} {c} ({report.closing_points} {unit})",
    ] + ([f"{report.unposted_expiries} expiries not yet posted by `expire` are included"]
         if report.unposted_expiries else [])


def _accounts(accounts: Accounting) -> list[str]:
    """Every account the program names, used this period or not, so a later month's journal appended with
    `--no-declarations` finds each account it posts to already open."""
    return list(dict.fromkeys(accounts.accounts().values()))


def journal_narration(program: str, entry: JournalEntry, unit: str) -> str:
    return f"{program}: {entry.narration}" + (f" ({entry.points:,} {unit})" if entry.points else "")


def journal_beancount(program: str, report: Rollforward, accounts: Accounting, entries: Sequence[JournalEntry],
                      unit: str = "points", declarations: bool = True) -> str:
    """A beancount file: open directives (on the period's first day) and one transaction per day and kind."""
    c = report.currency
    lines = [f"; {text}" for text in _header(program, report, unit)] + [""]
    if declarations:
        lines += [f"{report.start} open {account} {c}" for account in _accounts(accounts)] + [""]
    for entry in entries:
        lines.append(f'{entry.day} * "loyaltyctl" "{journal_narration(program, entry, unit)}"')
        if entry.points:
            lines.append(f"  points: {entry.points}")
        width = max(len(account) for account, _ in entry.postings) + 2
        lines += [f"  {account:<{width}}{_money(amount, c):>16} {c}" for account, amount in entry.postings]
        lines.append("")
    return "\n".join(lines)


def _commodity_sample(currency: str) -> str:
    """A `commodity` directive's sample amount, with the decimal mark hledger 1.25 asks for."""
    digits = MINOR_DIGITS[currency]
    return f"1,000.{'0' * digits} {currency}" if digits else f"1,000. {currency}"


def journal_ledger(program: str, report: Rollforward, accounts: Accounting, entries: Sequence[JournalEntry],
                   unit: str = "points", declarations: bool = True) -> str:
    """An hledger/ledger journal: commodity and account directives, one transaction per day and kind."""
    c = report.currency
    lines = [f"; {text}" for text in _header(program, report, unit)] + [""]
    if declarations:
        lines += [f"commodity {_commodity_sample(c)}"] + [f"account {a}" for a in _accounts(accounts)] + [""]
    for entry in entries:
        tag = f"  ; points: {entry.points}" if entry.points else ""
        lines.append(f"{entry.day} {journal_narration(program, entry, unit)}{tag}")
        width = max(len(account) for account, _ in entry.postings) + 2
        lines += [f"    {account:<{width}}{_money(amount, c):>16} {c}" for account, amount in entry.postings]
        lines.append("")
    return "\n".join(lines)


JOURNAL_CSV_COLUMNS = ["date", "entry", "narration", "account", "debit", "credit", "currency", "points"]


def journal_csv(program: str, report: Rollforward, entries: Sequence[JournalEntry], unit: str = "points") -> str:
    """Postings one per row with debit and credit columns; `entry` numbers the balanced groups."""
    c = report.currency
    rows = []
    for number, entry in enumerate(entries, 1):
        for account, amount in entry.postings:
            debit, credit = (Money(amount, c), None) if amount > 0 else (None, Money(-amount, c))
            rows.append([entry.day.isoformat(), number, journal_narration(program, entry, unit), account, debit, credit, c,
                         entry.points])
    return csv_text(JOURNAL_CSV_COLUMNS, rows)


def liability_view(report: results.Liability) -> Report:
    return Report(plain(report),
                  [f"Points liability of {report.program} as of the end of {report.as_of} ({report.currency})",
                   *liability_sections(report)])


def rollforward_view(program: str, report: Rollforward) -> Report:
    return Report(rollforward_json(program, report),
                  [f"Roll-forward of {program}, {report.start} to {report.end} ({report.currency})",
                   *rollforward_sections(report)])
