"""What the library's ledger calls return: frozen values whose fields are those of the command's JSON.

Money is a Decimal (in the program's currency, to its minor unit), a day a
`date`, an instant an aware `datetime` in the program's time zone. A
command's `--format json` document is exactly such a value written out
(`formats.shapes.plain`), so scripts that read the JSON and code that calls
the library see the same fields.
"""

from datetime import date, datetime
from decimal import Decimal

from msgspec import Struct


class Entry(Struct, frozen=True):
    """One ledger entry."""

    id: int
    member: str
    kind: str
    points: int  # signed
    effective_at: datetime
    recorded_at: datetime
    key: str | None
    reason: str | None
    reward: str | None
    value: Decimal | None  # money a redemption was worth (negative on its reversal)
    charity: str | None
    ref: int | None  # the entry it refers to (a reversal's, a clawback's, a transfer's other side)


class Voucher(Struct, frozen=True):
    """A voucher a redemption issued, and where it stands."""

    code: str
    program: str
    member: str
    reward: str
    points: int
    value: Decimal
    currency: str
    percent: Decimal | None
    issued_at: datetime
    valid_through: date | None
    status: str  # issued | used | cancelled | expired
    used_at: datetime | None
    order: str | None
    value_used: Decimal | None
    points_returned: bool


class Posted(Struct, frozen=True):
    """What `earn`, `redeem`, `adjust`, `reverse` or `transfer` wrote (for a key used before: what it had
    written, `duplicate`), and the member's points and available points at the end of today after it."""

    program: str
    member: str
    duplicate: bool
    entries: tuple[Entry, ...]
    balance: int
    available: int
    unit: str  # what the program calls its points
    note: str | None = None  # how the points were worked out when not as given (a tier multiplier)
    voucher: Voucher | None = None


class NextTier(Struct, frozen=True):
    code: str
    name: str
    basis: str  # spend | points
    remaining: Decimal | int  # money for spend tiers, points otherwise
    perks: tuple[str, ...]


class TierStanding(Struct, frozen=True):
    """The tier a member is in: its name and multiplier, and the last day a level kept from last year holds."""

    code: str
    name: str
    multiplier: Decimal
    held_until: date | None


class Expiring(Struct, frozen=True):
    on: date
    points: int


class Balance(Struct, frozen=True):
    """A member's points at the end of a day: all of them, those they can spend and those still pending,
    their tier, and what expires in the 90 days after."""

    program: str
    member: str
    as_of: date
    points: int
    available: int
    pending: int
    tier: str | None
    next_tier: NextTier | None
    expiring: tuple[Expiring, ...]
    unit: str
    currency: str
    tier_standing: TierStanding | None = None


class Expired(Struct, frozen=True):
    """What `expire` posted: the lots that expired by the end of `as_of`, and vouchers whose points came back."""

    program: str
    as_of: date
    lots: int
    points: int
    members: int
    vouchers_returned: int


class Bucket(Struct, frozen=True):
    bucket: str
    points: int
    value: Decimal


class UnpostedExpiries(Struct, frozen=True):
    lots: int
    points: int


class VouchersOutstanding(Struct, frozen=True):
    count: int
    value: Decimal


class Liability(Struct, frozen=True):
    """Points outstanding at the end of `as_of`, valued: what members hold, what they owe, what breakage
    is expected, by age and by time to expiry, and the vouchers not yet used."""

    program: str
    as_of: date
    currency: str
    members_with_points: int
    outstanding_points: int
    points_owed_by_members: int
    net_points: int
    point_value: Decimal
    gross_liability: Decimal
    net_liability: Decimal
    breakage_rate: Decimal
    breakage_basis: str
    breakage_note: str
    expected_liability: Decimal
    aging: tuple[Bucket, ...]
    aging_by_expiry: tuple[Bucket, ...]
    unposted_expiries: UnpostedExpiries
    vouchers_outstanding: VouchersOutstanding
    total_liability: Decimal
    unposted_voucher_returns: int  # vouchers expired unused whose points `expire` has not given back yet


class Verification(Struct, frozen=True):
    """`db verify`: every hash chain and seal recomputed, every kept figure reconciled with the entries."""

    ok: bool
    entries: int
    first_bad_entry: int | None
    problems: tuple[str, ...]
    seals: dict[str, str]  # each program's last seal digest (hex), to compare with one kept elsewhere


class Copied(Struct, frozen=True):
    """`db copy`: rows per table, copied and verified."""

    source: str
    target: str
    rows: dict[str, int]
    verified: bool = True
