"""Source profiles: how to read one system's sales export, in a small TOML schema.

A profile names the column of each field, how rows make baskets, the member
key, the money and time formats, and the status values that earn, are
skipped, or are refunds. The built-in sources (`generic`, `shopify`,
`square-items`, `square`, `stripe`) are profiles shipped in
`loyaltyctl/sources/`; `--source FILE.toml` reads one of your own, checked
like a program file (every problem with file, line and key path).
"""

import re
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from msgspec import Struct

from loyaltyctl.core.dates import parse_instant
from loyaltyctl.errors import BadInput
from loyaltyctl.formats.toml_tables import (
    Section,
    as_choice,
    as_text,
    as_texts,
    as_timezone,
    parse_checked,
    type_name,
)

# The fields an import reads; a profile's [columns] says which header holds each.
FIELDS = {
    "txn_id": "the transaction (basket) id",
    "member_id": "the customer: member id, card or email, as `member_key` says",
    "occurred_at": "when it happened (one column, or several joined with a space, e.g. date and time)",
    "amount": "the amount points are earned on (a line's, with baskets of lines)",
    "deduct": "amounts taken off `amount` to give the earning amount (tax, tip, a discount; one or more columns)",
    "category": "the line's product category",
    "currency": "the amount's currency (any case)",
    "store": "the store or location",
    "partner": "a partner code, for partner purchases",
    "refund_of": "the transaction a refund row refunds",
    "description": "a description for the ledger",
    "line": "a line number: consecutive rows with the same txn_id are one basket when the file has it",
    "name": "the customer's name, for members --create-members adds (one column, or several joined with a space)",
    "email": "the customer's email, for members --create-members adds",
    "accepts_marketing": "the customer's consent to marketing (yes/no), for members --create-members adds",
    "time_zone": "the zone of the times, per row (IANA or the names Square writes)",
    "refunded": "the amount refunded so far, on the purchase row",
    "refunded_of": "what `refunded` is a share of (default: the amount)",
    "refunded_at": "when the refund happened",
}
REQUIRED_FIELDS = ("txn_id", "member_id", "occurred_at", "amount")
MULTI_COLUMN_FIELDS = ("occurred_at", "name", "deduct")  # the fields a profile may give several columns
MEMBER_KEYS = ("member_id", "card", "email")
# one: every row is a whole transaction (a repeated txn_id is a duplicate);
# lines: consecutive rows with the same txn_id are the lines of one basket;
# first: consecutive rows with the same txn_id are one basket whose first row carries it (the rest are
# line-item rows with order-level cells left empty).
BASKETS = ("one", "lines", "first")
# plain: 12.50 and -3 only; "1,149.00": also currency symbols and codes, thousands separators, a minus before
# or after the symbol, parentheses for negatives; "1.149,00": the same with a decimal comma.
MONEY_FORMATS = ("plain", "1,149.00", "1.149,00")
# What a refund row that names no sale (a till return without a link) does: it is rejected, or it claws back
# its amount at the program's base rate from the member.
UNLINKED_REFUNDS = ("reject", "claw-back")
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")

# Zone names as Square (and Rails) write them, mapped to IANA.
ZONE_NAMES = {
    "eastern time (us & canada)": "America/New_York",
    "central time (us & canada)": "America/Chicago",
    "mountain time (us & canada)": "America/Denver",
    "arizona": "America/Phoenix",
    "pacific time (us & canada)": "America/Los_Angeles",
    "alaska": "America/Juneau",
    "hawaii": "Pacific/Honolulu",
    "atlantic time (canada)": "America/Halifax",
    "newfoundland": "America/St_Johns",
    "indiana (east)": "America/Indiana/Indianapolis",
    "saskatchewan": "America/Regina",
    "mexico city": "America/Mexico_City",
    "london": "Europe/London",
    "edinburgh": "Europe/London",
    "dublin": "Europe/Dublin",
    "lisbon": "Europe/Lisbon",
    "paris": "Europe/Paris",
    "madrid": "Europe/Madrid",
    "berlin": "Europe/Berlin",
    "amsterdam": "Europe/Amsterdam",
    "rome": "Europe/Rome",
    "stockholm": "Europe/Stockholm",
    "tokyo": "Asia/Tokyo",
    "osaka": "Asia/Tokyo",
    "sydney": "Australia/Sydney",
    "canberra": "Australia/Canberra",
    "melbourne": "Australia/Melbourne",
    "brisbane": "Australia/Brisbane",
    "adelaide": "Australia/Adelaide",
    "darwin": "Australia/Darwin",
    "perth": "Australia/Perth",
    "hobart": "Australia/Hobart",
    "auckland": "Pacific/Auckland",
    "wellington": "Pacific/Auckland",
    "utc": "UTC",
}


def zone_name(text: str) -> str:
    """An IANA zone name for a zone as an export writes it; ValueError if unknown."""
    mapped = ZONE_NAMES.get(text.strip().casefold())
    if mapped:
        return mapped
    return as_timezone(text)


class StatusRule(Struct, frozen=True):
    """A column whose value says what a row is: earns, is skipped, or is a refund (values case-folded)."""

    column: str
    earn: frozenset[str]
    skip: frozenset[str]
    refund: frozenset[str]

    def verdict(self, value: str) -> str | None:
        """"earn", "skip", "refund", or None for a value the profile does not know."""
        folded = value.strip().casefold()
        for verdict, values in (("earn", self.earn), ("skip", self.skip), ("refund", self.refund)):
            if folded in values:
                return verdict
        return None


class SourceProfile(Struct, frozen=True):
    name: str
    title: str
    export: str  # where, in that system, to click to get the file
    columns: dict[str, tuple[str, ...]]  # field -> header(s)
    member_key: str
    basket: str
    time_format: tuple[str, ...]  # "iso" or strptime patterns, tried in order
    time_zone: str | None  # IANA; None: the program's
    money: str  # one of MONEY_FORMATS
    statuses: tuple[StatusRule, ...]
    no_category: frozenset[str] = frozenset()  # category cells that mean none (case-folded), e.g. Square's "None"
    unlinked_refunds: str = "reject"  # one of UNLINKED_REFUNDS


def _headers(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (as_text(value),)
    if isinstance(value, list) and value:
        return as_texts(value)
    raise ValueError(f"must be a header or a non-empty array of headers, not {type_name(value)}")


def _time_formats(value: Any) -> tuple[str, ...]:
    """One format or a list of them, tried in order."""
    if isinstance(value, list) and value:
        return tuple(_time_format(item) for item in value)
    return (_time_format(value),)


def _time_format(value: Any) -> str:
    text = as_text(value)
    if text == "iso":
        return text
    sample = datetime(2026, 11, 27, 18, 5, 11, tzinfo=timezone.utc)
    try:
        if "%" not in text:
            raise ValueError
        parse_instant(sample.strftime(text), "UTC", (text,))  # a directive strptime does not know fails here
    except ValueError:
        raise ValueError(f"{text!r} must be \"iso\" or a strptime pattern such as \"%Y-%m-%d %H:%M:%S %z\"") from None
    return text


def _zone(value: Any) -> str:
    return zone_name(as_text(value))


def _name(value: Any) -> str:
    text = as_text(value)
    if not NAME_PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} must be lowercase letters, digits and dashes")
    return text


def _folded(value: Any) -> frozenset[str]:
    return frozenset(item.casefold() for item in as_texts(value))


def _read_profile(raw: dict[str, Any], problems: list[tuple[str, str]]) -> SourceProfile:
    root = Section(raw, "", problems)
    head = root.table("source") or Section({}, "source", problems)
    name = head.get("name", _name)
    title = head.get("title", as_text, "")
    export = head.get("export", as_text, "")
    head.finish()
    columns: dict[str, tuple[str, ...]] = {}
    table = root.table("columns")
    if table is None:
        root.problem("columns", "the [columns] table is required")
    else:
        for field in table.raw:
            if field not in FIELDS:
                table.seen.add(field)
                table.problem(field, f"unknown field (fields: {', '.join(FIELDS)})")
                continue
            headers = table.get(field, _headers)
            if headers:
                if len(headers) > 1 and field not in MULTI_COLUMN_FIELDS:
                    table.problem(field, f"only {', '.join(MULTI_COLUMN_FIELDS)} may name several columns")
                columns[field] = headers
        for field in REQUIRED_FIELDS:
            if field not in table.raw:
                table.problem(field, "is required")
        table.finish()
    read = root.table("read") or Section({}, "read", problems)
    member_key = read.get("member_key", as_choice(*MEMBER_KEYS), "member_id")
    basket = read.get("basket", as_choice(*BASKETS), "one")
    time_format = read.get("time_format", _time_formats, ("iso",))
    time_zone = read.get("time_zone", _zone, None)
    money = read.get("money", as_choice(*MONEY_FORMATS), "1,149.00")
    no_category = read.get("no_category", _folded, frozenset())
    unlinked_refunds = read.get("unlinked_refunds", as_choice(*UNLINKED_REFUNDS), "reject")
    read.finish()
    statuses = []
    for item in root.tables("status"):
        column = item.get("column", as_text)
        earn, skip, refund = (item.get(key, _folded, frozenset()) for key in ("earn", "skip", "refund"))
        if column and not (earn or refund):
            item.problem("earn", "a status needs values that earn (or are refunds)")
        for key, values, others in (("skip", skip, earn), ("refund", refund, earn | skip)):
            if values & others:
                item.problem(key, f"{', '.join(sorted(values & others))} is already in another list")
        statuses.append(StatusRule(column or "", earn, skip, refund))
        item.finish()
    root.finish()
    return SourceProfile(name or "", title, export, columns, member_key, basket, time_format, time_zone,
                         money, tuple(statuses), no_category, unlinked_refunds)


def parse_profile(text: str, source: str = "<source>") -> SourceProfile:
    """Parse and check a source profile; InvalidProgram (exit 2) lists every problem found."""
    return parse_checked(text, source, _read_profile)


def _builtin_files() -> dict[str, Any]:
    folder = resources.files("loyaltyctl") / "sources"
    return {item.name.removesuffix(".toml"): item for item in folder.iterdir() if item.name.endswith(".toml")}


def builtin_sources() -> list[str]:
    """The built-in sources' names, generic first."""
    return sorted(_builtin_files(), key=lambda name: (name != "generic", name))


def source_text(name: str) -> str:
    """A built-in profile's TOML as shipped."""
    files = _builtin_files()
    if name not in files:
        raise BadInput(f"unknown source {name!r} (built in: {', '.join(builtin_sources())}; or a FILE.toml)")
    return files[name].read_text(encoding="utf-8")


def load_source(name_or_path: str) -> SourceProfile:
    """A built-in source by name, or a profile file (anything ending in .toml)."""
    if not name_or_path.endswith(".toml"):
        return parse_profile(source_text(name_or_path), f"source {name_or_path}")
    path = Path(name_or_path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as err:
        raise BadInput(f"{path}: cannot read: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise BadInput(f"{path}: not UTF-8 text (byte {err.start})") from None
    return parse_profile(text, str(path))
