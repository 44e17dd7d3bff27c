"""Voucher codes and what a voucher is at an instant: pure functions over plain values.

A code is eleven random symbols and a check symbol from an alphabet without
0, O, 1 and I (32 symbols, 55 random bits), written in groups of four:
`7KQM-X2RH-9TCE`. The check symbol is Luhn's mod-N scheme, so a code with one
symbol wrong or two neighbours swapped is refused as mistyped, never taken
for another voucher.

A voucher stops being a liability once, by the first of: its use, the
reversal of the redemption that issued it (a cancellation), or its expiry
(breakage). A voucher whose reward returns points gives them back after it
expired unused: that is the redemption's reversal, posted by `expire` and
dated the expiry, and moves points, not the voucher.
"""

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal

from msgspec import Struct

from loyaltyctl.core.dates import local_date, start_of_day
from loyaltyctl.money import percent_of

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RANDOM_SYMBOLS = 11
GROUP = 4
_INDEX = {symbol: i for i, symbol in enumerate(ALPHABET)}
STATUSES = ("issued", "used", "cancelled", "expired")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"  # hyphen-minus, hyphen, non-breaking hyphen, figure, en and em dash, minus


def check_symbol(body: str) -> str:
    """The Luhn mod-32 check symbol of `body`."""
    total, factor = 0, 2
    for symbol in reversed(body):
        addend = factor * _INDEX[symbol]
        total += addend // len(ALPHABET) + addend % len(ALPHABET)
        factor = 3 - factor
    return ALPHABET[(len(ALPHABET) - total % len(ALPHABET)) % len(ALPHABET)]


def new_code(random_bytes: bytes) -> str:
    """A code from RANDOM_SYMBOLS bytes of randomness (each byte's low five bits pick a symbol)."""
    body = "".join(ALPHABET[b % len(ALPHABET)] for b in random_bytes[:RANDOM_SYMBOLS])
    code = body + check_symbol(body)
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def parse_code(text: str) -> str:
    """A code as typed (any case, spaces or dashes anywhere) in its written form; ValueError says what is
    wrong: a symbol codes never use, the wrong length, or a check symbol that does not match (mistyped).

    Only the alphabet's own letters count, in either case: `ß` or `ſ` are refused, not read as the `SS`
    or `S` that `upper()` makes of them. A dash is any a phone or word processor types between groups."""
    typed = "".join(symbol for symbol in text if not symbol.isspace() and symbol not in _DASHES)
    if not typed:
        raise ValueError("a voucher code is empty")
    wrong = sorted({symbol for symbol in typed if not symbol.isascii() or symbol.upper() not in _INDEX})
    if wrong:
        raise ValueError(f"{text!r} is not a voucher code: codes never use {', '.join(map(repr, wrong))}")
    plain = typed.upper()
    if len(plain) != RANDOM_SYMBOLS + 1:
        raise ValueError(f"{text!r} is not a voucher code: a code has {RANDOM_SYMBOLS + 1} symbols")
    if check_symbol(plain[:-1]) != plain[-1]:
        raise ValueError(f"{text!r} is mistyped: its check symbol does not match")
    return "-".join(plain[i:i + GROUP] for i in range(0, len(plain), GROUP))


def expiry(issued_at: int, days: int, timezone: str) -> int | None:
    """When a voucher issued at an instant, valid `days` days (0: for ever), expires: the start of the
    day after its last valid day, in the program's time zone."""
    return start_of_day(local_date(issued_at, timezone) + timedelta(days=days), timezone) if days else None


def gives_points_back(reversed_at: int, expires_at: int | None) -> bool:
    """A reversal of a voucher's redemption on or after the voucher expired gives an expired voucher's points
    back; one before it cancels the voucher."""
    return expires_at is not None and reversed_at >= expires_at


class Voucher(Struct, frozen=True):
    """A voucher as stored, with what happened to it: used, or the redemption that issued it reversed."""

    code: str
    member: int
    member_id: str
    reward: str
    entry: int  # the redemption that issued it
    points: int  # what the member spent on it
    value: int  # minor units: what it is worth at the till
    issued_at: int
    expires_at: int | None  # None: never
    returns_points: bool  # an unused voucher gives its points back when it expires
    percent: Decimal | None = None  # a percent-off voucher: the share of the order; `value` is the most it takes
    used_at: int | None = None
    order: str | None = None
    value_used: int | None = None  # what it took off the order (at most `value`; the rest is breakage)
    reversed_at: int | None = None  # the redemption's reversal: a cancellation, or the points given back

    def worth(self, order: int | None) -> int:
        """What it takes off an order of `order` minor units (the whole order at most; None: its full value)."""
        if order is None:
            return self.value
        return percent_of(order, self.percent, self.value) if self.percent is not None else min(order, self.value)

    def used_by(self, at: int) -> bool:
        return self.used_at is not None and self.used_at <= at

    def used_within_life(self) -> bool:
        """Unused, or used on or after its issue and before its expiry."""
        return self.used_at is None or (self.issued_at <= self.used_at
                                        and (self.expires_at is None or self.used_at < self.expires_at))

    def left_at(self) -> tuple[str, int] | None:
        """How and when it stopped being a liability: (used | cancelled | expired, instant), or None.
        A reversal after the expiry is the return of the points of an expired voucher, not its end."""
        endings = [(self.used_at, "used"), (self.expires_at, "expired")]
        if self.reversed_at is not None and not gives_points_back(self.reversed_at, self.expires_at):
            endings.append((self.reversed_at, "cancelled"))
        known = [(at, how) for at, how in endings if at is not None]
        if not known:
            return None
        at, how = min(known)
        return how, at

    def status(self, at: int) -> str:
        """issued, used, cancelled or expired at an instant."""
        left = self.left_at()
        return left[0] if left is not None and left[1] <= at else "issued"

    def outstanding(self, at: int) -> bool:
        """Issued by `at` and not yet used, cancelled or expired: still a liability."""
        return self.issued_at <= at and self.status(at) == "issued"

    def awaits_return(self, at: int) -> bool:
        """Expired unused by `at` with points to give back that had not been given back by then."""
        return (self.returns_points and self.left_at() == ("expired", self.expires_at) and self.expires_at <= at
                and (self.reversed_at is None or self.reversed_at > at))

    @property
    def points_returned(self) -> bool:
        return self.reversed_at is not None and gives_points_back(self.reversed_at, self.expires_at)

    def points_returned_by(self, at: int) -> bool:
        return self.points_returned and self.reversed_at <= at


class VoucherRollforward(Struct, frozen=True):
    """Vouchers in money over a period: opening + issued - used - cancelled - expired = closing."""

    opening: int
    issued: int
    used: int
    cancelled: int
    expired: int
    closing: int
    outstanding: int  # count at the close


def voucher_rollforward(vouchers: Iterable[Voucher], start: int, end: int) -> VoucherRollforward:
    """The period [start, end): each voucher counts in the opening if outstanding just before `start`,
    as issued if issued in it, and by how it ended if it ended in it."""
    moved = {"issued": 0, "used": 0, "cancelled": 0, "expired": 0}
    opening = closing = count = 0
    for v in vouchers:
        opening += v.value if v.outstanding(start - 1) else 0
        if start <= v.issued_at < end:
            moved["issued"] += v.value
        left = v.left_at()
        if left is not None and start <= left[1] < end:
            moved[left[0]] += v.value
        if v.outstanding(end - 1):
            closing += v.value
            count += 1
    return VoucherRollforward(opening, moved["issued"], moved["used"], moved["cancelled"], moved["expired"],
                              closing, count)


class VoucherDay(Struct, frozen=True):
    """One local day of vouchers ending without a ledger entry (a cancellation is the redemption's reversal)."""

    day: date
    used: int  # value of the vouchers used, as the liability carried them
    given: int  # what they took off orders (the rest of `used` is breakage)
    expired: int  # value of the vouchers that expired unused


def voucher_days(vouchers: Iterable[Voucher], start: int, end: int,
                 day_of: Callable[[int], date]) -> list[VoucherDay]:
    """Per local day of [start, end), the vouchers used and expired."""
    days: dict[date, list[int]] = {}
    for v in vouchers:
        left = v.left_at()
        if left is not None and left[0] in ("used", "expired") and start <= left[1] < end:
            figures = days.setdefault(day_of(left[1]), [0, 0, 0])
            if left[0] == "used":
                figures[0] += v.value
                figures[1] += v.value if v.value_used is None else v.value_used
            else:
                figures[2] += v.value
    return [VoucherDay(day, *figures) for day, figures in sorted(days.items())]


def valid_through(voucher: Voucher, timezone: str) -> date | None:
    """The last day a voucher can be used (it expires at the start of the next)."""
    return None if voucher.expires_at is None else local_date(voucher.expires_at, timezone) - timedelta(days=1)
