"""Money and points: integer minor units, Decimal only for parsing and rates.

Points are ints. Money is an int of minor units (cents) in the program's
currency. Every rounding of points goes through `round_points`.
"""

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from msgspec import Struct

# ISO 4217 active codes and their minor units (digits after the decimal mark).
_ZERO_DIGIT = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DIGIT = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DIGIT = "CLF UYW"
_TWO_DIGIT = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD "
    "BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP "
    "ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR "
    "JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU "
    "MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR "
    "RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
    "TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
MINOR_DIGITS: dict[str, int] = {
    code: digits
    for codes, digits in ((_ZERO_DIGIT, 0), (_TWO_DIGIT, 2), (_THREE_DIGIT, 3), (_FOUR_DIGIT, 4))
    for code in codes.split()
}

# Bounds that keep every sum of a ledger inside SQLite's 64-bit integers.
MAX_POINTS = 10**12  # points in one posting
LARGEST_INTEGER = 2**63 - 1  # what a database's integer column holds (an id, a count)
MAX_MINOR = 10**13  # minor units in one amount (100 billion dollars)

# Digits are ASCII only everywhere here: `\d` would take `１０.00` (full-width) or `٣` (Arabic-Indic) as numbers.
_PLAIN_DECIMAL = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_WHOLE = re.compile(r"-?[0-9]+")

ROUNDING_MODES = {"floor": ROUND_FLOOR, "round": ROUND_HALF_UP, "ceil": ROUND_CEILING}


def is_currency(code: str) -> bool:
    return code in MINOR_DIGITS


def parse_decimal(text: str) -> Decimal:
    """A plain decimal with a dot (`12.50`, `-3`, `.5`); ValueError for anything else.

    Rejects thousands separators, commas, currency signs, exponents, NaN and
    the empty string, all of which `Decimal()` would accept or misread.
    """
    cleaned = text.strip()
    if not _PLAIN_DECIMAL.fullmatch(cleaned):
        raise ValueError(f"not a plain decimal number: {text!r}")
    try:
        return Decimal(cleaned)
    except InvalidOperation as err:  # pragma: no cover - the regex admits only valid input
        raise ValueError(f"not a plain decimal number: {text!r}") from err


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal money -> int minor units; ValueError if it has more digits than the currency."""
    digits = MINOR_DIGITS[currency]
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than {digits} decimal places for {currency}")
    return int(scaled)


class AmountTooLarge(ValueError):
    """A well-formed amount beyond MAX_MINOR."""


def parse_money(text: str, currency: str) -> int:
    """A money string such as `12.50` -> minor units (1250 for USD)."""
    minor = to_minor(parse_decimal(text), currency)
    if abs(minor) > MAX_MINOR:
        raise AmountTooLarge(f"{text!r} is too large for one amount")
    return minor


def parse_whole(text: str, what: str = "a number") -> int:
    """A whole number written in ASCII digits (`120`, `-50`); ValueError for anything else (`１２０`, `1_000`,
    `1e3`, `12.0`), all of which `int()` would accept or misread."""
    cleaned = text.strip()
    if not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"{what} {text!r} is not a whole number")
    return int(cleaned)


def check_points(points: int, what: str = "points", signed: bool = False) -> int:
    """Points a posting is given: a whole number more than 0 (`signed`: other than 0), at most MAX_POINTS
    either way; ValueError otherwise."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise ValueError(f"{what} must be a whole number, got {points!r}")
    if points == 0 or (points < 0 and not signed):
        raise ValueError(f"{what} must be a {'non-zero' if signed else 'positive'} whole number, got {points}")
    if abs(points) > MAX_POINTS:
        raise ValueError(f"{what} {points} is more than the {MAX_POINTS:,} one posting may carry")
    return points


def points_option(points: int, what: str = "points", signed: bool = False) -> int:
    """A command's points (`check_points`); anything else is bad usage."""
    from loyaltyctl.errors import BadInput

    try:
        return check_points(points, what, signed)
    except ValueError as error:
        raise BadInput(str(error)) from None


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-MINOR_DIGITS[currency])


def format_money(minor: int, currency: str) -> str:
    """Minor units -> the plain string SPEC.md uses in JSON (`"12.30"`)."""
    digits = MINOR_DIGITS[currency]
    return f"{from_minor(minor, currency):.{digits}f}"


# How a member reads an amount: the currency's own sign where one names it alone, else its code after.
_DISPLAY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩", "BRL": "R$",
                  "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "MXN": "MX$", "HKD": "HK$", "SGD": "S$"}


def display_money(minor: int, currency: str) -> str:
    """An amount as a member reads it on a statement: `$5.00`, `-£0.44`, `120.00 SEK`; one form for every
    amount of a program, as reward names write them ("£5 voucher")."""
    plain = format_money(abs(minor), currency)
    sign = "-" if minor < 0 else ""
    if currency in _DISPLAY_SIGNS:
        return f"{sign}{_DISPLAY_SIGNS[currency]}{plain}"
    return f"{sign}{plain} {currency}"


def amount_option(option: str, text: str, currency: str) -> int:
    """A money option's amount in minor units (more than 0); anything else is bad usage."""
    from loyaltyctl.errors import BadInput

    try:
        minor = parse_money(text, currency)
    except ValueError as error:
        raise BadInput(f"{option} {error}") from None
    if minor <= 0:
        raise BadInput(f"{option} must be more than 0, got {text}")
    return minor


def order_share(option: str, text: str, share: int, percent: Decimal) -> int:
    """What a percent-off reward takes off the order `option` gave: `share`, its `percent` % of it. A share
    under the smallest coin is bad usage: the reward would be spent and nothing taken off."""
    from loyaltyctl.errors import BadInput

    if not share:
        raise BadInput(f"{option} {text}: {plain_decimal(percent)}% of it is less than the smallest coin; "
                       "nothing to take off")
    return share


def points_for(minor: int, point_value: Decimal, currency: str) -> int:
    """The points an amount takes at `point_value`: rounded up, so the points are never worth less than it."""
    return int((from_minor(minor, currency) / point_value).to_integral_value(ROUND_CEILING))


def scale_minor(minor: int, numerator: Decimal | int, denominator: Decimal | int = 1) -> int:
    """An amount in minor units times numerator / denominator (a share, a percentage), rounded half up
    to a whole minor unit: the one rounding of money scaled."""
    return int((Decimal(minor) * numerator / denominator).to_integral_value(ROUND_HALF_UP))


def percent_of(minor: int, percent: Decimal, most: int | None = None) -> int:
    """`percent` % of an amount in minor units, rounded half up to a whole minor unit, at most `most`."""
    share = scale_minor(minor, percent, 100)
    return share if most is None else min(share, most)


RATE_PLACES = Decimal("0.0001")


def ratio(part: int, whole: int, places: Decimal = RATE_PLACES) -> Decimal | None:
    """part / whole rounded half up to `places` (a rate: four decimal places); None with no whole to
    divide by: the one rounding of a rate or an average."""
    return (Decimal(part) / whole).quantize(places, ROUND_HALF_UP) if whole else None


def plain_decimal(value: Decimal) -> str:
    """A rate or factor as people write it: `1.5`, `270`, never `2.7E+2` or `270.0000`."""
    return format(value.normalize(), "f")


def round_points(points: Decimal, mode: str) -> int:
    """The one rounding of a fractional point amount: floor, round (half up) or ceil."""
    return int(points.to_integral_value(rounding=ROUNDING_MODES[mode]))


def points_value(points: int, point_value: Decimal, currency: str) -> int:
    """The money value of points at a point value, in minor units, rounded half up."""
    exponent = Decimal(1).scaleb(-MINOR_DIGITS[currency])
    return to_minor((Decimal(points) * point_value).quantize(exponent, ROUND_HALF_UP), currency)


_EXPORT_MONEY = re.compile(
    r"(?P<m1>-)?\s*(?P<pre>[^0-9\s.,()-]*)\s*(?P<m2>-)?(?P<number>[0-9][0-9.,' ]*?)\s*(?P<post>[^0-9\s.,()-]*)\s*(?P<m3>-)?")
# Currency symbols as exports write them, and the currencies each may stand for.
_SYMBOLS = {
    "$": {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "TWD"}, "US$": {"USD"}, "C$": {"CAD"},
    "CA$": {"CAD"}, "A$": {"AUD"}, "AU$": {"AUD"}, "NZ$": {"NZD"}, "S$": {"SGD"}, "HK$": {"HKD"},
    "R$": {"BRL"}, "€": {"EUR"}, "£": {"GBP"}, "¥": {"JPY", "CNY"}, "₹": {"INR"}, "₩": {"KRW"},
    "kr": {"SEK", "NOK", "DKK", "ISK"}, "zł": {"PLN"}, "Fr.": {"CHF"}, "R": {"ZAR"}, "₪": {"ILS"},
}
_POINT_NUMBER = re.compile(r"[0-9]{1,3}([,' ][0-9]{3})*(\.[0-9]+)?|[0-9]+(\.[0-9]+)?")
_COMMA_NUMBER = re.compile(r"[0-9]{1,3}([.' ][0-9]{3})*(,[0-9]+)?|[0-9]+(,[0-9]+)?")


def parse_plain_money(text: str, currency: str) -> int:
    """A plain decimal amount (`12.50`, `-3`) -> minor units; ValueError says what is wrong."""
    try:
        return parse_money(text, currency)
    except AmountTooLarge:
        raise
    except ValueError:
        raise ValueError(f"{text!r} is not a plain decimal like 12.50") from None


def parse_export_money(text: str, currency: str, decimal_comma: bool = False) -> int:
    """Money as sales exports write it -> minor units: `12.50`, `$1,149.00`, `-$0.44`, `$-0.44`,
    `($33.62)` (negative), `12.50 USD`; with `decimal_comma`, `1.149,00 €`. A currency code other than
    the program's is refused."""
    body = text.strip()
    if not decimal_comma:
        try:
            return parse_money(body, currency)  # the common case, written plainly
        except AmountTooLarge:
            raise
        except ValueError:
            pass
    negative = body.startswith("(") and body.endswith(")")
    if negative:
        body = body[1:-1].strip()
    found = _EXPORT_MONEY.fullmatch(body.replace("\u2212", "-").replace("\u00a0", " ").strip())
    like = "12,50 or 1.149,00 €" if decimal_comma else "12.50, $1,149.00 or ($33.62)"
    if not found or sum(bool(found[m]) for m in ("m1", "m2", "m3")) > 1 or (negative and any(
            found[m] for m in ("m1", "m2", "m3"))):
        raise ValueError(f"{text!r} is not an amount like {like}")
    for symbol in (found["pre"], found["post"]):
        if symbol and symbol.upper() != currency and currency not in _SYMBOLS.get(symbol, ()):
            known = symbol.upper() in MINOR_DIGITS or symbol in _SYMBOLS
            raise ValueError(f"{text!r} is not in {currency}" if known else f"{text!r} is not an amount like {like}")
    number = found["number"].strip()
    if not (_COMMA_NUMBER if decimal_comma else _POINT_NUMBER).fullmatch(number):
        raise ValueError(f"{text!r} is not an amount like {like}")
    plain = number.replace("'", "").replace(" ", "")
    plain = plain.replace(".", "").replace(",", ".") if decimal_comma else plain.replace(",", "")
    sign = "-" if negative or found["m1"] or found["m2"] or found["m3"] else ""
    return parse_money(sign + plain, currency)


class Money(Struct, frozen=True):
    """An amount in a report cell: minor units of a currency. Tables show it as JSON does ("12.30"), CSV
    as a plain number, XLSX as a number in the currency's format."""

    minor: int
    currency: str

    @property
    def amount(self) -> Decimal:
        return from_minor(self.minor, self.currency)

    def __str__(self) -> str:
        return format_money(self.minor, self.currency)
