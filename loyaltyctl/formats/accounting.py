"""Accounting reports written out: JSON (SPEC.md shapes), sections for tables, CSV and XLSX, and journals.

A report is a list of `Section`s of (line, points, value) rows; the table,
CSV and XLSX writers all render the same sections, so the three never
disagree. Journals are written as beancount, hledger/ledger or CSV postings.
"""

import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from msgspec import Struct
from msgspec.structs import asdict

from loyaltyctl.core.accounting import JournalEntry, Liability, Rollforward
from loyaltyctl.formats.csv_output import csv_text, safe_cell
from loyaltyctl.model import Accounting
from loyaltyctl.money import MINOR_DIGITS, format_money, from_minor, plain_decimal

COLUMNS = ("line", "points", "value")


class Money(Struct, frozen=True):
    """A money cell: minor units of a currency (a number in CSV and XLSX, formatted as currency in XLSX)."""

    minor: int
    currency: str

    @property
    def amount(self) -> Decimal:
        return from_minor(self.minor, self.currency)


class Section(Struct, frozen=True):
    title: str
    rows: list[tuple[str, Any, Any]]  # (line, points or None, value: Money, int, Decimal, str or date)


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
    }


def liability_sections(report: Liability) -> list[Section]:
    c = report.currency
    breakage = report.expected - report.gross
    return [
        Section("Liability", [
            ("gross liability (members with a positive balance)", report.outstanding, Money(report.gross, c)),
            ("points owed by members", -report.owed, Money(report.net - report.gross, c)),
            ("net liability", report.net_points, Money(report.net, c)),
            (f"expected breakage ({plain_decimal(report.breakage.rate)}, {report.breakage.basis})", None,
             Money(breakage, c)),
            ("expected liability (gross less breakage)", None, Money(report.expected, c)),
        ]),
        Section("Aging by lot age", [(b.label, b.points, Money(b.value, c)) for b in report.by_age]),
        Section("Aging by time to expiry", [(b.label, b.points, Money(b.value, c)) for b in report.by_expiry]),
        Section("Parameters", [
            ("as of (end of day)", None, report.as_of),
            ("currency", None, c),
            ("point value", None, report.point_value),
            ("breakage rate", None, report.breakage.rate),
            ("breakage basis", None, report.breakage.description),
            ("members with points", None, report.members_with_points),
            ("unposted expiries counted as expired (lots)", None, report.unposted_expiries),
            ("unposted expiries counted as expired (points)", None, report.unposted_points),
        ]),
    ]


ROLLFORWARD_LABELS = {"issued": "issued (earn and bonus)", "redeemed": "redeemed", "expired": "expired",
                      "clawed_back": "clawed back", "adjusted": "adjusted (adjustments, transfers, reversals)"}
_SUBTRACTED = ("redeemed", "expired", "clawed_back")


def rollforward_json(program: str, report: Rollforward) -> dict:
    c = report.currency
    return {
        "program": program, "from": report.start.isoformat(), "to": report.end.isoformat(), "currency": c,
        "opening_points": report.opening_points, **report.points, "closing_points": report.closing_points,
        "opening_liability": _money(report.opening_liability, c),
        "closing_liability": _money(report.closing_liability, c),
        "values": {line: _money(value, c) for line, value in report.values.items()},
        "revaluation": _money(report.revaluation, c),
        "unposted_expiries": report.unposted_expiries,
    }


def rollforward_sections(report: Rollforward) -> list[Section]:
    """Signed lines: a column adds up from the opening to the closing balance."""
    c = report.currency
    rows = [("opening balance", report.opening_points, Money(report.opening_liability, c))]
    for line, label in ROLLFORWARD_LABELS.items():
        sign = -1 if line in _SUBTRACTED else 1
        rows.append((label, sign * report.points[line], Money(sign * report.values[line], c)))
    rows.append(("revaluation (point value and rounding)", None, Money(report.revaluation, c)))
    rows.append(("closing balance", report.closing_points, Money(report.closing_liability, c)))
    return [
        Section("Roll-forward", rows),
        Section("Parameters", [
            ("from (start of day)", None, report.start),
            ("to (end of day)", None, report.end),
            ("currency", None, c),
            ("unposted expiries counted as expired (lots)", None, report.unposted_expiries),
        ]),
    ]


def table_cell(value: Any) -> Any:
    """A cell as the Rich table shows it: money as a plain decimal, dates as ISO."""
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, date):
        return value.isoformat()
    return value


def _csv_cell(value: Any) -> Any:
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def sections_csv(sections: Sequence[Section]) -> str:
    """One CSV of every section: section, line, points, value (numbers stay numbers)."""
    rows = [[section.title, *(_csv_cell(cell) for cell in row)] for section in sections for row in section.rows]
    return csv_text(["section", *COLUMNS], rows)


def _currency_format(currency: str) -> str:
    digits = MINOR_DIGITS[currency]
    return f'#,##0{"." + "0" * digits if digits else ""} "{currency}";-#,##0{"." + "0" * digits if digits else ""} "{currency}"'


def sections_xlsx(sections: Sequence[Section], currency: str) -> bytes:
    """A workbook with one sheet per section: numbers typed as numbers, money in currency format,
    the header row bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    money_format = _currency_format(currency)
    for section in sections:
        sheet = workbook.create_sheet(section.title[:31])
        sheet.append(list(COLUMNS))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for line, points, value in section.rows:
            sheet.append([safe_cell(line), points, value.amount if isinstance(value, Money) else safe_cell(value)])
            row = sheet.max_row
            sheet.cell(row, 2).number_format = "#,##0"
            target = sheet.cell(row, 3)
            if isinstance(value, Money):
                target.number_format = money_format
            elif isinstance(value, date):
                target.number_format = "yyyy-mm-dd"
        sheet.column_dimensions["A"].width = max(len(row[0]) for row in section.rows) + 2 if section.rows else 20
        sheet.column_dimensions["B"].width = 14
        sheet.column_dimensions["C"].width = 18
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


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
    return list(dict.fromkeys(asdict(accounts).values()))


def _narration(program: str, entry: JournalEntry, unit: str) -> str:
    return f"{program}: {entry.narration}" + (f" ({entry.points:,} {unit})" if entry.points else "")


def journal_beancount(program: str, report: Rollforward, accounts: Accounting, entries: Sequence[JournalEntry],
                      unit: str = "points", declarations: bool = True) -> str:
    """A beancount file: open directives (on the period's first day) and one transaction per day and kind."""
    c = report.currency
    lines = [f"; {text}" for text in _header(program, report, unit)] + [""]
    if declarations:
        lines += [f"{report.start} open {account} {c}" for account in _accounts(accounts)] + [""]
    for entry in entries:
        lines.append(f'{entry.day} * "loyaltyctl" "{_narration(program, entry, unit)}"')
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
        lines.append(f"{entry.day} {_narration(program, entry, unit)}{tag}")
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
            debit, credit = (from_minor(amount, c), None) if amount > 0 else (None, from_minor(-amount, c))
            rows.append([entry.day.isoformat(), number, _narration(program, entry, unit), account, debit, credit, c,
                         entry.points])
    return csv_text(JOURNAL_CSV_COLUMNS, rows)
