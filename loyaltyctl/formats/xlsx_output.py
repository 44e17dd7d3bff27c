"""XLSX workbooks: a sheet per table, numbers typed as numbers, money in its currency's format."""

import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from loyaltyctl.formats.csv_output import safe_cell
from loyaltyctl.money import MINOR_DIGITS, Money

SHEET_NAME_LIMIT = 31  # Excel's


def currency_format(currency: str) -> str:
    """`#,##0.00 "USD"` with the currency's own digits, negatives with a minus."""
    digits = MINOR_DIGITS[currency]
    number = f'#,##0{"." + "0" * digits if digits else ""} "{currency}"'
    return f"{number};-{number}"


def _value(cell: Any) -> Any:
    if isinstance(cell, Money):
        return cell.amount
    if isinstance(cell, (int, Decimal, date)) or cell is None:
        return cell
    return safe_cell(str(cell))


def _number_format(cell: Any) -> str | None:
    if isinstance(cell, Money):
        return currency_format(cell.currency)
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return "#,##0"
    if isinstance(cell, date):
        return "yyyy-mm-dd"
    return None


def workbook_bytes(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]) -> bytes:
    """One sheet per (title, columns, rows), the header row bold and frozen, columns as wide as their text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title[:SHEET_NAME_LIMIT])
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        widths = [len(c) for c in columns]
        for row in rows:
            sheet.append([_value(cell) for cell in row])
            for number, cell in enumerate(row, 1):
                form = _number_format(cell)
                if form:
                    sheet.cell(sheet.max_row, number).number_format = form
                widths[number - 1] = max(widths[number - 1], len(str(cell)) if cell is not None else 0)
        for number, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(number)].width = max(width + 2, 12)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
