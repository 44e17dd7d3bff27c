"""Earn rules: what a purchase earns under one program version.

Pure: `earn_points(rules, purchase, member)` takes the program version in
force at the purchase's time, the member's state then, and the purchase, and
returns the points with a breakdown a counter can read out. Rounding happens
once, after every multiplier; the cap comes last.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from loyaltyctl.model import Program
from loyaltyctl.money import MINOR_DIGITS, round_points

ONE = Decimal(1)


@dataclass(frozen=True)
class Purchase:
    """What the rules need to know about a transaction."""

    amount: int  # minor units, positive
    day: date  # local date, for promotions
    category: str = ""
    partner: str = ""


@dataclass(frozen=True)
class MemberState:
    """The member at the purchase's time: tier (None without tiers) and whether they may earn."""

    tier: str | None = None
    tier_multiplier: Decimal = ONE
    may_earn: bool = True  # False: a required membership is not valid
    why_not: str = ""


@dataclass(frozen=True)
class Earning:
    points: int
    base: Decimal = Decimal(0)  # spend x rate, plus points per visit
    category_factor: Decimal = ONE
    promotion: str | None = None
    promotion_factor: Decimal = ONE
    tier_factor: Decimal = ONE
    unrounded: Decimal = Decimal(0)
    capped: bool = False
    no_points_because: str | None = None


class EarnRules:
    """A program version's earn rules, indexed once for fast per-row use."""

    def __init__(self, program: Program):
        earn = program.earn
        self.program = program
        self.scale = Decimal(1).scaleb(-MINOR_DIGITS[program.currency])
        self.rate = earn.points_per_unit
        self.partner_rates = {p.code: p.points_per_unit for p in program.partners}
        self.category_factors = {m.category: m.factor for m in earn.multipliers}
        self.excluded = frozenset(earn.exclude_categories)
        self.promotions = earn.promotions
        self.rounding = earn.rounding
        self.min_spend = earn.min_spend
        self.cap = earn.max_points_per_txn
        self.per_visit = earn.points_per_visit

    def qualifying_spend(self, purchase: Purchase) -> int:
        """What a purchase counts toward a spend tier: all of it, unless its category earns nothing."""
        return 0 if purchase.category and purchase.category in self.excluded else purchase.amount

    def knows_partner(self, code: str) -> bool:
        return code in self.partner_rates

    def best_promotion(self, day: date, category: str) -> tuple[str | None, Decimal]:
        """Only the largest factor among promotions active that day (for that category) applies."""
        best: tuple[str | None, Decimal] = (None, ONE)
        for promotion in self.promotions:
            if promotion.starts <= day <= promotion.ends and (not promotion.categories or category in promotion.categories):
                if promotion.factor > best[1]:
                    best = (promotion.name, promotion.factor)
        return best

    def earn_points(self, purchase: Purchase, member: MemberState = MemberState()) -> Earning:
        if not member.may_earn:
            return Earning(0, no_points_because=member.why_not or "no valid membership")
        if purchase.category and purchase.category in self.excluded:
            return Earning(0, no_points_because=f"category {purchase.category!r} earns no points")
        if purchase.amount < self.min_spend:
            return Earning(0, no_points_because="below min_spend")
        rate = self.partner_rates[purchase.partner] if purchase.partner else self.rate
        base = purchase.amount * self.scale * rate + self.per_visit
        category_factor = self.category_factors.get(purchase.category, ONE)
        promotion, promotion_factor = self.best_promotion(purchase.day, purchase.category)
        unrounded = base * category_factor * promotion_factor * member.tier_multiplier
        points = round_points(unrounded, self.rounding)
        capped = bool(self.cap) and points > self.cap
        return Earning(
            points=self.cap if capped else points,
            base=base,
            category_factor=category_factor,
            promotion=promotion,
            promotion_factor=promotion_factor,
            tier_factor=member.tier_multiplier,
            unrounded=unrounded,
            capped=capped,
        )


def refund_qualifying(refund_amount: int, original_qualifying_left: int) -> int:
    """A refund's (negative) tier spend: what it returns, never more than the purchase still counts."""
    return -min(abs(refund_amount), max(original_qualifying_left, 0))
