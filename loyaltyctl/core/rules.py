"""Earn rules: what a purchase earns under one program version (categories match case-insensitively).

Pure: `earn_points(rules, purchase, member)` takes the program version in
force at the purchase's time, the member's state then, and the purchase, and
returns the points with a breakdown a counter can read out. Rounding happens
once, after every multiplier; then the cap per purchase, then the member's
daily and monthly limits (what is left of them after their purchases already recorded).
"""

from datetime import date
from decimal import Decimal

from msgspec import Struct

from loyaltyctl.model import Program
from loyaltyctl.money import MINOR_DIGITS, round_points

ONE = Decimal(1)


class Line(Struct):
    """One line of a basket: spend in minor units and its category ("" for none)."""

    amount: int
    category: str = ""


class Purchase(Struct):
    """What the rules need to know about a transaction: its basket of lines, day and partner."""

    lines: tuple[Line, ...]
    day: date  # local date, for promotions
    partner: str = ""

    @property
    def amount(self) -> int:
        return sum(line.amount for line in self.lines)


class MemberState(Struct, frozen=True):
    """The member at the purchase's time: tier (None without tiers) and whether they may earn."""

    tier: str | None = None
    tier_multiplier: Decimal = ONE
    may_earn: bool = True  # False: a required membership is not valid
    why_not: str = ""
    earned_today: int = 0  # points the member earned already (purchases, by hand) on the same local day
    earned_this_month: int = 0  # and calendar month (both kept only under earning limits)


class LineEarning(Struct):
    """What one line contributes before rounding: spend x rate x its category factor x its promotion."""

    line: Line
    category_factor: Decimal = ONE
    promotion: str | None = None
    promotion_factor: Decimal = ONE
    excluded: bool = False  # its category earns nothing and counts no spend
    unrounded: Decimal = Decimal(0)


class Earning(Struct):
    points: int
    base: Decimal = Decimal(0)  # qualifying spend x rate, plus points per visit
    category_factor: Decimal = ONE  # the largest of the lines' (what the visit points are multiplied by)
    promotion: str | None = None  # the largest of the lines' promotions (likewise)
    promotion_factor: Decimal = ONE
    tier_factor: Decimal = ONE
    unrounded: Decimal = Decimal(0)
    capped: bool = False
    limited_by: str | None = None  # max_points_per_day or max_points_per_month: the purchase earned up to it
    no_points_because: str | None = None
    lines: tuple[LineEarning, ...] = ()


class EarnRules:
    """A program version's earn rules, indexed once for fast per-row use."""

    def __init__(self, program: Program):
        earn = program.earn
        self.program = program
        self.scale = Decimal(1).scaleb(-MINOR_DIGITS[program.currency])
        self.rate = earn.points_per_unit
        self.partner_rates = {p.code: p.points_per_unit for p in program.partners}
        self.category_factors = {m.category.casefold(): m.factor for m in earn.multipliers}
        self.excluded = frozenset(category.casefold() for category in earn.exclude_categories)
        # (promotion, its categories case-folded); largest factor first, so the first that applies is the one
        self.promotions = sorted(((p, frozenset(c.casefold() for c in p.categories)) for p in earn.promotions),
                                 key=lambda item: -item[0].factor)
        self.rounding = earn.rounding
        self.min_spend = earn.min_spend
        self.cap = earn.max_points_per_txn
        self.per_day, self.per_month = earn.max_points_per_day, earn.max_points_per_month
        self.per_visit = earn.points_per_visit

    def qualifying_spend(self, purchase: Purchase) -> int:
        """What a purchase counts toward a spend tier and `min_spend`: its lines whose category earns."""
        return sum(line.amount for line in purchase.lines if not self._excluded(line))

    def _excluded(self, line: Line) -> bool:
        return bool(line.category) and bool(self.excluded) and line.category.casefold() in self.excluded

    def base_points(self, purchase: Purchase) -> int:
        """Its qualifying spend at the base rate alone, rounded as earning rounds: no category, promotion or
        tier factor, no visit points, no min_spend (what a refund that names no sale takes back; the
        lines' sign does not matter)."""
        return round_points(abs(self.qualifying_spend(purchase)) * self.scale * self.rate, self.rounding)

    def knows_partner(self, code: str) -> bool:
        return code in self.partner_rates

    def best_promotion(self, day: date, category: str) -> tuple[str | None, Decimal]:
        """Only the largest factor among promotions active that day (for that category) applies."""
        folded = category.casefold()
        for promotion, categories in self.promotions:
            if promotion.starts <= day <= promotion.ends and (not categories or folded in categories):
                return (promotion.name, promotion.factor) if promotion.factor > ONE else (None, ONE)
        return None, ONE

    def earn_points(self, purchase: Purchase, member: MemberState = MemberState()) -> Earning:
        """A basket earns once: the sum over its lines of spend x rate x the line's category factor x the
        largest promotion active for the line, plus the points per visit (multiplied by the largest of
        the lines' factors, so a one-line purchase multiplies both alike), x the tier, rounded once,
        capped once."""
        if not member.may_earn:
            return Earning(0, no_points_because=member.why_not or "no valid membership")
        lines = purchase.lines
        qualifying = [line for line in lines if not self._excluded(line)] if len(lines) > 1 else (
            [] if self._excluded(lines[0]) else lines)
        if not qualifying:
            categories = ", ".join(sorted({repr(line.category) for line in lines}))
            return Earning(0, no_points_because=f"category {categories} earns no points")
        spend = qualifying[0].amount if len(qualifying) == 1 else sum(line.amount for line in qualifying)
        if spend < self.min_spend:
            return Earning(0, no_points_because="below min_spend")
        rate = self.partner_rates[purchase.partner] if purchase.partner else self.rate
        if len(lines) == 1:
            explained = earning = (self._line(lines[0], rate, purchase.day),)
        else:
            explained = tuple(self._line(line, rate, purchase.day, line not in qualifying) for line in lines)
            earning = [e for e in explained if not e.excluded] if len(qualifying) < len(lines) else explained
        top = earning[0] if len(earning) == 1 else None
        category_factor = top.category_factor if top else max(e.category_factor for e in earning)
        promotion = top or max(earning, key=lambda e: e.promotion_factor)
        earned = top.unrounded if top else sum(e.unrounded for e in earning)
        unrounded, points = self._through_tier(earned + self.per_visit * category_factor * promotion.promotion_factor,
                                               member)
        capped = bool(self.cap) and points > self.cap
        points = self.cap if capped else points
        points, limited_by = self._within_limits(points, member)
        return Earning(
            points=points,
            base=spend * self.scale * rate + self.per_visit,
            category_factor=category_factor,
            promotion=promotion.promotion,
            promotion_factor=promotion.promotion_factor,
            tier_factor=member.tier_multiplier,
            unrounded=unrounded,
            capped=capped,
            limited_by=limited_by,
            no_points_because=f"{limited_by} reached" if limited_by and not points else None,
            lines=explained,
        )

    def by_hand(self, points: int, member: MemberState = MemberState()) -> Earning:
        """Points an owner types in (a goodwill gesture, a sale the till missed): through the member's tier
        multiplier and rounded as a purchase's are. Where the daily or monthly limit leaves less, they are
        not cut short as a purchase's are: `limited_by` names the limit, and the caller refuses them."""
        unrounded, earned = self._through_tier(Decimal(points), member)
        allowed, limited_by = self._within_limits(earned, member)
        return Earning(earned, base=Decimal(points), tier_factor=member.tier_multiplier, unrounded=unrounded,
                       limited_by=limited_by if allowed < earned else None)

    def _through_tier(self, points: Decimal, member: MemberState) -> tuple[Decimal, int]:
        """Points times the member's tier multiplier, and that rounded once by the program's rounding."""
        unrounded = points * member.tier_multiplier
        return unrounded, round_points(unrounded, self.rounding)

    def _within_limits(self, points: int, member: MemberState) -> tuple[int, str | None]:
        """What the daily and monthly limits leave of `points` after what the member earned already that day
        and month, and the limit that cut it (None: neither)."""
        limited_by = None
        for limit, earned, name in ((self.per_day, member.earned_today, "max_points_per_day"),
                                    (self.per_month, member.earned_this_month, "max_points_per_month")):
            if limit and points > limit - earned:
                points, limited_by = max(0, limit - earned), name
        return points, limited_by

    def _line(self, line: Line, rate: Decimal, day: date, excluded: bool = False) -> LineEarning:
        if excluded:
            return LineEarning(line, excluded=True)
        factor = self.category_factors.get(line.category.casefold(), ONE)
        promotion, promotion_factor = self.best_promotion(day, line.category)
        return LineEarning(line, factor, promotion, promotion_factor, False,
                           line.amount * self.scale * rate * factor * promotion_factor)


def refund_qualifying(refund_amount: int, original_qualifying_left: int) -> int:
    """A refund's (negative) tier spend: what it returns, never more than the purchase still counts."""
    return -min(abs(refund_amount), max(original_qualifying_left, 0))
