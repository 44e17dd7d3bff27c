"""Plain immutable values shared by every layer: programs, members and ledger entries.

Money fields are int minor units of the program's currency; rates and
factors are Decimal; points are int.
"""

from datetime import date
from decimal import Decimal

import msgspec
from msgspec import Struct


class Multiplier(Struct, frozen=True):
    category: str
    factor: Decimal


class Promotion(Struct, frozen=True):
    """A date window (inclusive, program timezone) in which earning is multiplied."""

    name: str
    starts: date
    ends: date
    factor: Decimal
    categories: tuple[str, ...] = ()  # empty = every category


class EarnRules(Struct, frozen=True):
    points_per_unit: Decimal
    rounding: str = "floor"
    min_spend: int = 0
    max_points_per_txn: int = 0  # 0 = no cap
    max_points_per_day: int = 0  # per member, from purchases in a local day (0: no limit)
    max_points_per_month: int = 0  # per member, in a calendar month (0: no limit)
    exclude_categories: tuple[str, ...] = ()
    points_per_visit: Decimal = Decimal(0)
    pending_days: int = 0
    multipliers: tuple[Multiplier, ...] = ()
    promotions: tuple[Promotion, ...] = ()


class Expiry(Struct, frozen=True):
    policy: str = "none"  # none | lot | inactivity
    months: int = 0  # the points' life in calendar months, or
    days: int = 0  # in days (one of the two is set under lot and inactivity)

    def describe(self) -> str:
        return f"{self.days} days" if self.days else f"{self.months} months"


class TierLevel(Struct, frozen=True):
    code: str
    name: str
    threshold: Decimal  # money (basis spend) or points (basis points)
    multiplier: Decimal = Decimal(1)
    perks: tuple[str, ...] = ()


class Tiers(Struct, frozen=True):
    basis: str  # spend | points
    window: str  # calendar-year | rolling-12-months
    levels: tuple[TierLevel, ...]


class Reward(Struct, frozen=True):
    code: str
    name: str
    points: int
    value: int  # minor units (kind percent: its max_value, or 0 without one)
    kind: str = "discount"  # discount | product | cashback | donation | percent
    charity: str | None = None
    percent: Decimal | None = None  # kind percent: the share of the order it takes off (0-100)
    max_value: int | None = None  # kind percent: the most it takes off, minor units
    voucher: bool = False  # redeeming it issues a voucher code the till takes once
    voucher_days: int = 0  # the voucher is valid this many days (0: until used)
    return_points_on_expiry: bool = False  # an unused voucher gives its points back when it expires


class Action(Struct, frozen=True):
    """A way to earn beyond purchases (a review, a share, a survey): points per action, within a limit."""

    code: str
    name: str
    points: int
    limit: str = "none"  # none | once | per-day | per-week | per-month | per-year
    max: int = 1  # actions a member may earn for per period (per-*)
    needs_key: bool = False  # each takes a key (the review id, the post's URL): paid once
    kind: str = "plain"  # plain | survey (takes a score 0-10)


class Bonuses(Struct, frozen=True):
    signup: int = 0
    birthday: int = 0
    referral_referrer: int = 0
    referral_referee: int = 0
    referral_min_spend: int = 0  # minor units
    first_purchase: int = 0  # once, on the member's first purchase that earns points
    anniversary: int = 0  # once a year, on the day the member joined


class Membership(Struct, frozen=True):
    fee: int  # minor units
    term: str = "lifetime"  # lifetime | annual
    required_to_earn: bool = False


class Partner(Struct, frozen=True):
    code: str
    name: str
    points_per_unit: Decimal


PACKAGES = ("qbo", "xero", "sage50", "iif")  # the accounting packages `report journal` writes for


class Accounting(Struct, frozen=True):
    liability: str = "Liabilities:Loyalty:Points"
    expense: str = "Expenses:Loyalty:Points"
    breakage: str = "Income:Loyalty:Breakage"
    redemptions: str = "Expenses:Loyalty:Redemptions"
    donations: str = "Liabilities:Loyalty:DonationsPayable"
    partners: str = "Assets:Loyalty:PartnerReceivable"
    opening: str = "Equity:Opening-Balances"  # the other side of the opening balance of a journal that opens a book
    vouchers: str = "Liabilities:Loyalty:Vouchers"  # vouchers issued and not yet used or expired
    # An accounting package's own names or codes for these accounts, and its settings (`[accounting.xero]`
    # tax_rate, date_format): package -> key -> text.
    packages: dict[str, dict[str, str]] = {}

    def accounts(self) -> dict[str, str]:
        """Each account key and the account it names."""
        return {key: getattr(self, key) for key in self.__struct_fields__ if key != "packages"}

    def in_package(self, package: str) -> "Accounting":
        """The accounts as a package names them: its own names or codes where `[accounting.PACKAGE]` gives one."""
        own = self.packages.get(package, {})
        return msgspec.structs.replace(self, **{key: own[key] for key in self.accounts() if key in own})


class Program(Struct, frozen=True):
    """One version of a program definition, as written in its TOML file."""

    code: str
    name: str
    currency: str
    timezone: str
    point_value: Decimal
    earn: EarnRules
    breakage_rate: Decimal | None = None
    effective_from: date | None = None
    unit: str = "points"
    email: str = ""  # the program's own address: the From of emailed statements
    expiry: Expiry | None = None
    tiers: Tiers | None = None
    rewards: tuple[Reward, ...] = ()
    bonuses: Bonuses | None = None
    membership: Membership | None = None
    partners: tuple[Partner, ...] = ()
    accounting: Accounting | None = None
    actions: tuple[Action, ...] = ()


class Member(Struct, frozen=True):
    program: str
    member_id: str
    name: str = ""
    email: str = ""
    birthday: date | None = None
    card: str | None = None
    joined: date | None = None
    referred_by: str | None = None  # the referrer's member id
    referral_code: str = ""
    accepts_marketing: bool | None = None  # consent to marketing mail; None: never said


class ProgramRef(Struct, frozen=True):
    """What never changes between a program's versions."""

    id: int
    code: str
    currency: str
    timezone: str


class Entry(Struct, frozen=True):
    """A ledger entry as stored (times as UTC epoch seconds, money in minor units)."""

    id: int
    member: int
    member_id: str
    kind: str
    points: int
    effective_at: int
    recorded_at: int
    key: str | None
    reason: str | None
    reward: str | None
    money: int | None
    charity: str | None
    ref: int | None
