"""CSV exports that open safely in a spreadsheet."""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from loyaltyctl.money import Money, plain_decimal
from loyaltyctl.render import yes_no

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_cell(value: Any) -> Any:
    """A report cell as CSV writes it: money and rates as plain numbers (12.30, 0.2), dates as ISO, yes/no as
    tables show them."""
    if value is None:
        return ""
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, date):
        return value.isoformat()
    return safe_cell(value)


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return buffer.getvalue()
