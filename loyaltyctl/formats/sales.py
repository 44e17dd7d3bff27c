"""Sales exports read through a source profile: CSV rows to baskets, skipped rows and refunds.

`SaleReader.sales` turns a stream of CSV rows into a stream of `Sale`s, one
per basket (a run of rows with the same txn id, as the profile's `basket`
says): a checked purchase or refund (`TxnRow`), or the reason it is skipped
(not a loyalty purchase: no customer, a failed or pending payment) or
rejected (a bad cell). A walk-in (no customer) that reads as a purchase or
refund is skipped with its `TxnRow` all the same: a non-member sale, kept for
analytics. Memory holds one basket at a time.
"""

import hashlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import msgspec
from msgspec import Struct

from loyaltyctl.core.dates import parse_instant
from loyaltyctl.core.rules import Line
from loyaltyctl.formats.csv_input import CsvRow, read_csv
from loyaltyctl.formats.sources import FIELDS, REQUIRED_FIELDS, SourceProfile, zone_name
from loyaltyctl.money import parse_export_money, parse_plain_money, scale_minor

NO_CUSTOMER = "no customer"


class TxnRow(Struct):
    txn_id: str
    member_id: str
    occurred_at: int  # UTC epoch seconds
    amount: int  # minor units, the basket's total; negative for a refund
    lines: tuple[Line, ...]
    store: str = ""
    partner: str = ""
    refund_of: str = ""
    description: str = ""
    name: str = ""
    email: str = ""
    accepts_marketing: str = ""  # as the export writes it (yes/no); read for members an import adds

    @property
    def category(self) -> str:
        """The basket's category when every line has the same one."""
        if len(self.lines) == 1:
            return self.lines[0].category
        categories = {line.category for line in self.lines}
        return categories.pop() if len(categories) == 1 else ""


class Sale(Struct):
    """One basket's rows and what they are: a transaction, or why they are skipped or rejected (a skipped
    walk-in keeps its transaction: a non-member sale)."""

    rows: tuple[CsvRow, ...]
    txn: TxnRow | None = None
    skipped: str | None = None
    problem: str | None = None
    refunded: int | None = None  # refunded so far, on the amount points were earned on (minor units)
    refunded_at: int | None = None


class Export(Struct, frozen=True):
    header: tuple[str, ...]
    rows: Iterator[CsvRow]  # keyed by field (the columns occurred_at joins as occurred_at, occurred_at+1 …;
    # status columns as status#0 …)
    has_line: bool  # the file has the profile's `line` column
    unread: tuple[str, ...]  # optional columns the profile names and the file lacks (those fields stay empty)
    reading: bytes  # how its rows are read: the profile's rules and the --map (see `digest`)

    def digest(self, row: CsvRow) -> str:
        """A row's fingerprint: its cells and how they are read. The same row of another day's export, read
        the same way, has the same one (how an import knows a row an earlier import rejected); read
        through a changed profile or --map it is a row judged afresh."""
        return hashlib.sha256(self.reading + msgspec.json.encode(row.raw)).hexdigest()


def open_export(path: Path, profile: SourceProfile, mapping: Mapping[str, str] | None = None, delimiter: str = ",",
                on_bytes: Callable[[int], None] | None = None) -> Export:
    """An export opened through its profile: header checked, rows to stream."""
    columns: dict[str, list[str]] = {}
    labels: dict[str, str] = {}  # row key -> the header and the profile key that names it, for messages
    for field, headers in profile.columns.items():
        for index, name in enumerate(headers):
            key = field if index == 0 else f"{field}+{index}"
            columns.setdefault(name.strip().lower(), []).append(key)
            if name.strip().lower() != key:
                labels[key] = f"{name!r} (source {profile.name}: columns.{field}{f'[{index}]' if len(headers) > 1 else ''})"
    for index, rule in enumerate(profile.statuses):
        columns.setdefault(rule.column.strip().lower(), []).append(status_key(index))
        labels[status_key(index)] = f"{rule.column!r} (source {profile.name}: status[{index}].column)"
    keys = [*FIELDS, *sorted({key for found in columns.values() for key in found} - set(FIELDS))]
    mapped = set((mapping or {}).values())
    joined = column_keys(profile, "occurred_at")[1:] if "occurred_at" not in mapped else []
    # the columns an earning amount is worked out from: without them there is none
    deducted = column_keys(profile, "deduct") if "deduct" in profile.columns and "deduct" not in mapped else []
    required = (*REQUIRED_FIELDS, *joined, *deducted, *(status_key(i) for i in range(len(profile.statuses))))
    header, rows = read_csv(path, keys, required, mapping, delimiter, on_bytes, columns=columns, labels=labels,
                            mappable=tuple(FIELDS))
    present = {name.strip().lower() for name in header}
    line = profile.columns.get("line", ("",))[0].strip().lower()
    has_line = bool(line) and (line in present or "line" in mapped)
    unread = tuple(f"{name} (columns.{field})" for field, headers in profile.columns.items() if field not in mapped
                   for name in headers if name.strip().lower() not in present)
    rules = msgspec.structs.replace(profile, name="", title="", export="")  # what it reads, not what it is called
    reading = msgspec.json.encode((rules, sorted((mapping or {}).items())), order="deterministic")
    return Export(header, rows, has_line, unread, reading)


def column_keys(profile: SourceProfile, field: str) -> list[str]:
    """The row keys of the columns the profile names for a field (`occurred_at`, `occurred_at+1` …); just
    the field when it names none (a column `--map` reads as it, if any)."""
    return [field, *(f"{field}+{i}" for i in range(1, len(profile.columns.get(field, ()))))]


def status_key(index: int) -> str:
    return f"status#{index}"


class SaleReader:
    def __init__(self, profile: SourceProfile, currency: str, timezone: str, has_line_column: bool):
        self.profile, self.currency = profile, currency
        self.zone = profile.time_zone or timezone
        self.grouped = profile.basket == "first" or (profile.basket == "lines" and (
            "line" not in profile.columns or has_line_column))
        self.times = column_keys(profile, "occurred_at")
        self.names = column_keys(profile, "name")
        self.deducted = column_keys(profile, "deduct")
        self._zones: dict[str, str] = {}
        self.statuses = tuple(enumerate(profile.statuses))
        self.has_refunded = "refunded" in profile.columns

    def sales(self, rows: Iterator[CsvRow]) -> Iterator[Sale]:
        if not self.grouped:
            for row in rows:
                yield self._sale((row,))
            return
        basket: list[CsvRow] = []
        numbers: set[str] = set()  # the basket's line numbers: a repeated one starts a repeat of the basket
        for row in rows:
            number = row.fields.get("line", "")
            if basket and (not self._same_basket(basket[-1], row) or (number and number in numbers)):
                yield self._sale(tuple(basket))
                basket, numbers = [], set()
            basket.append(row)
            numbers.add(number)
        if basket:
            yield self._sale(tuple(basket))

    def _same_basket(self, previous: CsvRow, row: CsvRow) -> bool:
        if not row.fields.get("txn_id") or row.fields.get("txn_id") != previous.fields.get("txn_id"):
            return False
        if self.profile.basket == "first":
            return True  # line-item rows leave order-level cells (status among them) empty
        return all(row.fields[status_key(i)].casefold() == previous.fields[status_key(i)].casefold()
                   for i in range(len(self.profile.statuses)))

    def _sale(self, rows: tuple[CsvRow, ...]) -> Sale:
        if rows[0].problem and len(rows) == 1:
            return Sale(rows, problem=rows[0].problem)
        bad = next((row for row in rows if row.problem), None) if len(rows) > 1 else None
        if bad:
            return Sale(rows, problem=f"line {bad.line} {bad.problem}")
        try:
            return self._read(rows)
        except ValueError as error:
            return Sale(rows, problem=str(error))

    def _read(self, rows: tuple[CsvRow, ...]) -> Sale:
        fields = rows[0].fields
        is_refund = False
        for index, rule in self.statuses:
            value = fields[status_key(index)]
            verdict = rule.verdict(value)
            if verdict is None:
                known = sorted(rule.earn | rule.skip | rule.refund)
                raise ValueError(f"{rule.column} {value!r} is not a status this source knows ({', '.join(known)})")
            if verdict == "skip":
                return Sale(rows, skipped=f"{rule.column} {value.strip().casefold()}")
            is_refund = is_refund or verdict == "refund"
        if fields["member_id"]:
            return self._basket(rows, is_refund)
        try:  # a walk-in: skipped for points, kept as a non-member sale when it reads as one
            walk_in = self._basket(rows, is_refund)
        except ValueError:
            return Sale(rows, skipped=NO_CUSTOMER)
        return msgspec.structs.replace(walk_in, skipped=NO_CUSTOMER) if walk_in.txn else Sale(rows, skipped=NO_CUSTOMER)

    def _basket(self, rows: tuple[CsvRow, ...], is_refund: bool) -> Sale:
        """The basket as a purchase or a refund (ValueError: a cell that does not read)."""
        fields = rows[0].fields
        member = fields["member_id"]
        txn_id = fields["txn_id"]
        if not txn_id:
            raise ValueError("txn_id is empty")
        currency = fields.get("currency", "")
        if currency and currency.upper() != self.currency:
            raise ValueError(f"currency {currency!r} is not the program's {self.currency}")
        occurred_at = self._instant(fields, self.times, "occurred_at")
        if self.profile.basket == "lines":
            self._check_lines(rows)
        if len(rows) == 1 or self.profile.basket != "lines":
            lines: tuple[Line, ...] = (Line(self._earning_amount(fields), self._category(fields)),)
        else:
            lines = tuple(Line(self._earning_amount(row.fields), self._category(row.fields)) for row in rows)
        amount = lines[0].amount if len(lines) == 1 else sum(line.amount for line in lines)
        refund_of = fields.get("refund_of", "")
        if is_refund and not amount:
            return Sale(rows, skipped="a refund of nothing")
        if is_refund:  # a refund row of the same txn id: it refunds the purchase, and gets an id of its own
            refund_of, txn_id = txn_id, f"{txn_id}/refund@{occurred_at}/{abs(amount)}"
            lines = tuple(Line(-abs(line.amount), line.category) for line in lines)
            amount = -abs(amount)
        elif amount < 0 and not refund_of and self.profile.unlinked_refunds == "reject":
            raise ValueError("a refund (negative amount) must name refund_of")
        elif refund_of and amount >= 0:
            raise ValueError("refund_of is set but the amount is not negative")
        if amount < 0 and any(line.amount > 0 for line in lines):
            raise ValueError("a basket's lines are all purchases or all refunds")
        txn = TxnRow(txn_id, member, occurred_at, amount, lines, fields.get("store", ""), fields.get("partner", ""),
                     refund_of, fields.get("description", ""), self._joined(fields, self.names), fields.get("email", ""),
                     fields.get("accepts_marketing", ""))
        if self.has_refunded:
            return Sale(rows, txn, None, None, *self._refunded(fields, amount))
        return Sale(rows, txn)

    def _check_lines(self, rows: tuple[CsvRow, ...]) -> None:
        """The lines of a basket are one customer's, at one time, refunding one purchase."""
        first = rows[0].fields
        for row in rows[1:]:
            for key in ("member_id", "refund_of", "currency", "partner", *self.times):
                if row.fields.get(key, "") != first.get(key, ""):
                    name = key.split("+")[0]
                    raise ValueError(f"basket {first['txn_id']!r}: the row on line {row.line} has another {name} "
                                     f"({row.fields.get(key, '')!r}, not {first.get(key, '')!r})")

    def _category(self, fields: dict[str, str]) -> str:
        category = fields.get("category", "")
        return "" if category and category.casefold() in self.profile.no_category else category

    def _earning_amount(self, fields: dict[str, str]) -> int:
        """The amount less the profile's deductions (tax, tip, a discount), each taken off its size: a refund's
        deductions make it a smaller refund, whichever sign the export writes them with."""
        amount = self._money(fields, "amount")
        if "deduct" not in fields:
            return amount
        left = abs(amount) - sum(abs(self._money(fields, key)) for key in self.deducted if fields.get(key))
        if left < 0:
            taken = ", ".join(self.label(key) for key in self.deducted)
            raise ValueError(f"{self.label('amount')} {fields['amount']!r} is less than what {taken} take off it")
        return -left if amount < 0 else left

    @staticmethod
    def _joined(fields: dict[str, str], keys: list[str]) -> str:
        """The cells of a field named as several columns, joined with a space (empty ones left out)."""
        return " ".join(fields[key] for key in keys if fields.get(key))

    def _money(self, fields: dict[str, str], field: str) -> int:
        text = fields[field]
        try:
            if self.profile.money == "plain":
                return parse_plain_money(text, self.currency)
            return parse_export_money(text, self.currency, self.profile.money == "1.149,00")
        except ValueError as error:  # AmountTooLarge among them
            raise ValueError(f"{self.label(field)} {error}") from None

    def _refunded(self, fields: dict[str, str], amount: int) -> tuple[int | None, int | None]:
        """The refunded-amount column as a refund of the earning amount: its share of `refunded_of`
        (default the amount) times the amount, half up; a full refund takes back all of it."""
        if not fields.get("refunded") or amount <= 0:
            return None, None
        refunded = abs(self._money(fields, "refunded"))
        if not refunded:
            return None, None
        basis = abs(self._money(fields, "refunded_of")) if fields.get("refunded_of") else amount
        if refunded > basis:
            raise ValueError(f"refunded {fields['refunded']!r} is more than {fields.get('refunded_of') or 'the amount'}")
        share = scale_minor(amount, refunded, basis)
        at = self._instant(fields, ["refunded_at"], "refunded_at") if fields.get("refunded_at") else None
        if at is not None and at < self._instant(fields, self.times, "occurred_at"):
            raise ValueError(f"{self.label('refunded_at')} {fields['refunded_at']!r} is before the purchase")
        return share, at

    def _instant(self, fields: dict[str, str], keys: list[str], what: str) -> int:
        text = fields[keys[0]] if len(keys) == 1 else " ".join(fields[key] for key in keys if fields.get(key))
        zone = self._row_zone(fields["time_zone"]) if "time_zone" in fields else self.zone
        try:
            return parse_instant(text, zone, self.profile.time_format)
        except ValueError as error:
            raise ValueError(f"{self.label(what)} {error}") from None

    def label(self, key: str) -> str:
        """What the export calls a row key: its column (`deduct+1` is the second column `deduct` names)."""
        field, _, index = key.partition("+")
        headers = self.profile.columns.get(field, (field,))
        return headers[int(index or 0)]

    def _row_zone(self, text: str) -> str:
        if not text:
            return self.zone
        if text not in self._zones:
            try:
                self._zones[text] = zone_name(text)
            except ValueError:
                raise ValueError(f"time_zone {text!r} is not a zone this source knows") from None
        return self._zones[text]
