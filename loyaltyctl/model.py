"""Plain immutable values shared by every layer: programs and members.

Money fields are int minor units of the program's currency; rates and
factors are Decimal; points are int.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Multiplier:
    category: str
    factor: Decimal


@dataclass(frozen=True)
class Promotion:
    """A date window (inclusive, program timezone) in which earning is multiplied."""

    name: str
    starts: date
    ends: date
    factor: Decimal
    categories: tuple[str, ...] = ()  # empty = every category


@dataclass(frozen=True)
class EarnRules:
    points_per_unit: Decimal
    rounding: str = "floor"
    min_spend: int = 0
    max_points_per_txn: int = 0  # 0 = no cap
    exclude_categories: tuple[str, ...] = ()
    points_per_visit: Decimal = Decimal(0)
    pending_days: int = 0
    multipliers: tuple[Multiplier, ...] = ()
    promotions: tuple[Promotion, ...] = ()


@dataclass(frozen=True)
class Expiry:
    policy: str = "none"  # none | lot | inactivity
    months: int = 0


@dataclass(frozen=True)
class TierLevel:
    code: str
    name: str
    threshold: Decimal  # money (basis spend) or points (basis points)
    multiplier: Decimal = Decimal(1)
    perks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tiers:
    basis: str  # spend | points
    window: str  # calendar-year | rolling-12-months
    levels: tuple[TierLevel, ...]


@dataclass(frozen=True)
class Reward:
    code: str
    name: str
    points: int
    value: int  # minor units
    kind: str = "discount"  # discount | product | cashback | donation
    charity: str | None = None


@dataclass(frozen=True)
class Bonuses:
    signup: int = 0
    birthday: int = 0
    referral_referrer: int = 0
    referral_referee: int = 0
    referral_min_spend: int = 0  # minor units


@dataclass(frozen=True)
class Membership:
    fee: int  # minor units
    term: str = "lifetime"  # lifetime | annual
    required_to_earn: bool = False


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    points_per_unit: Decimal


@dataclass(frozen=True)
class Accounting:
    liability: str = "Liabilities:Loyalty:Points"
    expense: str = "Expenses:Loyalty:Points"
    breakage: str = "Income:Loyalty:Breakage"
    redemptions: str = "Expenses:Loyalty:Redemptions"
    donations: str = "Liabilities:Loyalty:DonationsPayable"
    partners: str = "Assets:Loyalty:PartnerReceivable"
    opening: str = "Equity:Opening-Balances"  # the other side of the opening balance of a journal that opens a book


@dataclass(frozen=True)
class Program:
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
    expiry: Expiry | None = None
    tiers: Tiers | None = None
    rewards: tuple[Reward, ...] = ()
    bonuses: Bonuses | None = None
    membership: Membership | None = None
    partners: tuple[Partner, ...] = ()
    accounting: Accounting | None = None


@dataclass(frozen=True)
class Member:
    program: str
    member_id: str
    name: str = ""
    email: str = ""
    birthday: date | None = None
    card: str | None = None
    joined: date | None = None
    referred_by: str | None = None  # the referrer's member id
    referral_code: str = ""
