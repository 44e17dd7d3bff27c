"""Transaction rows: from CSV cells to a checked purchase or refund, or the reason it is rejected."""

from collections.abc import Mapping
from dataclasses import dataclass

from loyaltyctl.core.dates import parse_instant
from loyaltyctl.money import AmountTooLarge, parse_money

TXN_FIELDS = ("txn_id", "member_id", "occurred_at", "amount", "category", "currency", "store", "partner", "refund_of", "description")
TXN_REQUIRED = ("txn_id", "member_id", "occurred_at", "amount")


@dataclass(frozen=True, slots=True)
class TxnRow:
    txn_id: str
    member_id: str
    occurred_at: int  # UTC epoch seconds
    amount: int  # minor units; negative for a refund
    category: str
    store: str
    partner: str
    refund_of: str
    description: str


def parse_txn(fields: Mapping[str, str], currency: str, timezone: str) -> TxnRow:
    """A checked row; ValueError says what is wrong with it."""
    txn_id, member_id = fields["txn_id"], fields["member_id"]
    if not txn_id:
        raise ValueError("txn_id is empty")
    if not member_id:
        raise ValueError("member_id is empty")
    row_currency = fields.get("currency", "")
    if row_currency and row_currency.upper() != currency:
        raise ValueError(f"currency {row_currency!r} is not the program's {currency}")
    try:
        amount = parse_money(fields["amount"], currency)
    except AmountTooLarge as error:
        raise ValueError(f"amount {error}") from None
    except ValueError:
        raise ValueError(f"amount {fields['amount']!r} is not a plain decimal like 12.50") from None
    try:
        occurred_at = parse_instant(fields["occurred_at"], timezone)
    except ValueError as error:
        raise ValueError(f"occurred_at {error}") from None
    refund_of = fields.get("refund_of", "")
    if amount < 0 and not refund_of:
        raise ValueError("a refund (negative amount) must name refund_of")
    if refund_of and amount >= 0:
        raise ValueError("refund_of is set but the amount is not negative")
    return TxnRow(
        txn_id=txn_id,
        member_id=member_id,
        occurred_at=occurred_at,
        amount=amount,
        category=fields.get("category", ""),
        store=fields.get("store", ""),
        partner=fields.get("partner", ""),
        refund_of=refund_of,
        description=fields.get("description", ""),
    )
