"""Accounting figures as pure functions: liability and its aging, the roll-forward, journal postings.

Points outstanding are a liability valued at the program's `point_value`.
Every money figure here is derived so that the parts add up to the whole to
the minor unit: bucket values are cut from one cumulative rounding, and the
roll-forward carries an explicit revaluation line for what the point value
(and per-day rounding) moved, so opening + movements = closing in money too.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal

from msgspec import Struct

from loyaltyctl.core.vouchers import VoucherDay, VoucherRollforward
from loyaltyctl.model import Accounting
from loyaltyctl.money import points_value, ratio, scale_minor

AGE_BUCKETS = ("0-90 days", "91-180 days", "181-365 days", "over 365 days")
AGE_LIMITS = (90, 180, 365)  # days since the lot was earned, inclusive upper bounds
EXPIRY_BUCKETS = ("within 30 days", "31-60 days", "61-90 days", "later", "never")
EXPIRY_LIMITS = (30, 60, 90)  # days from the as-of date to the expiry day, inclusive upper bounds
NETTED_BUCKET = "netted against points owed"


def split_value(points: Sequence[int], point_value: Decimal, currency: str) -> list[int]:
    """The money value of each part, such that the values add up to the value of the total.

    Each part's value is the difference of two cumulative roundings, so no
    part is off by more than one minor unit and the sum is exact.
    """
    values, running, valued = [], 0, 0
    for part in points:
        running += part
        cumulative = points_value(running, point_value, currency)
        values.append(cumulative - valued)
        valued = cumulative
    return values


class Bucket(Struct, frozen=True):
    label: str
    points: int
    value: int  # minor units


def buckets(labels: Sequence[str], points: Sequence[int], point_value: Decimal, currency: str) -> tuple[Bucket, ...]:
    return tuple(Bucket(label, p, v) for label, p, v in zip(labels, points, split_value(points, point_value, currency)))


class Breakage(Struct, frozen=True):
    """The breakage rate a report uses, and where it comes from."""

    rate: Decimal
    basis: str  # program | estimated | none
    redeemed: int = 0  # for an estimate: points redeemed and expired over the trailing 12 months
    expired: int = 0
    too_little_data: bool = False  # an estimate was asked for, but nothing was redeemed to estimate from

    @property
    def description(self) -> str:
        if self.basis == "estimated":
            return (f"estimated: expired / (redeemed + expired) over the trailing 12 months = "
                    f"{self.expired} / {self.redeemed + self.expired}")
        why = (f" (too little data to estimate: {self.redeemed} redeemed and {self.expired} expired over the "
               "trailing 12 months)" if self.too_little_data else "")
        if self.basis == "program":
            return f"the program's breakage_rate{why}"
        return f"none: the program sets no breakage_rate{why or ' (use --breakage estimated)'}"


def estimated_breakage(redeemed: int, expired: int, program_rate: Decimal | None) -> Breakage:
    """expired / (redeemed + expired), to four decimal places. With no redemption in the window the ratio
    says nothing (100% breakage from one expiry, or 0 / 0): the program's rate stands in, and says so."""
    if redeemed <= 0:
        fallback = program_breakage(program_rate)
        return Breakage(fallback.rate, fallback.basis, redeemed, expired, too_little_data=True)
    rate = ratio(expired, redeemed + expired)
    return Breakage(rate, "estimated", redeemed, expired)


def program_breakage(rate: Decimal | None) -> Breakage:
    return Breakage(rate, "program") if rate is not None else Breakage(Decimal(0), "none")


class Liability(Struct, frozen=True):
    as_of: date
    currency: str
    point_value: Decimal
    members_with_points: int
    outstanding: int  # points held by members with a positive balance
    owed: int  # points owed by members with a negative balance (a positive number)
    breakage: Breakage
    by_age: tuple[Bucket, ...]
    by_expiry: tuple[Bucket, ...]
    unposted_expiries: int  # lots expired on or before as_of that `expire` has not posted
    unposted_points: int
    vouchers: int = 0  # vouchers outstanding: issued, not yet used, cancelled or expired
    voucher_value: int = 0  # their value, minor units
    unposted_voucher_returns: int = 0  # expired unused vouchers whose points `expire` has not given back yet

    @property
    def total(self) -> int:
        """What the program owes members: the net points liability and the vouchers outstanding."""
        return self.net + self.voucher_value

    @property
    def gross(self) -> int:
        return points_value(self.outstanding, self.point_value, self.currency)

    @property
    def net_points(self) -> int:
        return self.outstanding - self.owed

    @property
    def net(self) -> int:
        """Value of points outstanding less points owed: the roll-forward's closing liability."""
        return points_value(self.net_points, self.point_value, self.currency)

    @property
    def expected(self) -> int:
        """Gross liability less the share expected never to be redeemed, rounded half up."""
        return scale_minor(self.gross, 1 - self.breakage.rate)


def aged(labels: Sequence[str], held: Sequence[int], outstanding: int, point_value: Decimal,
         currency: str) -> tuple[Bucket, ...]:
    """Aging buckets that add up to points outstanding.

    Lots held add up to more than the positive balances only when a member
    holds lots and owes points at once (a debit dated before a credit that was
    already posted); that overlap is shown as its own negative line.
    """
    parts = list(held)
    labels = list(labels)
    netted = outstanding - sum(parts)
    if netted:
        parts.append(netted)
        labels.append(NETTED_BUCKET)
    return buckets(labels, parts, point_value, currency)


def lot_buckets(lots: Iterable[tuple[int, int, int | None]], earned_since: Sequence[int],
                expiring_before: Sequence[int]) -> tuple[list[int], list[int]]:
    """(held, issued at, expires at) of lots alive at a day's end, summed into the buckets
    `storage.reports.lot_aging` sums in SQL: by age (issued on or after earned_since[0], [1] …, older)
    and by time to expiry (before expiring_before[0], [1] …, later, never)."""
    by_age = [0] * (len(earned_since) + 1)
    by_expiry = [0] * (len(expiring_before) + 2)
    for held, issued_at, expires_at in lots:
        by_age[next((i for i, since in enumerate(earned_since) if issued_at >= since), len(earned_since))] += held
        if expires_at is None:
            by_expiry[-1] += held
        else:
            by_expiry[next((i for i, limit in enumerate(expiring_before) if expires_at < limit),
                           len(expiring_before))] += held
    return by_age, by_expiry


class MovementKind(Struct, frozen=True):
    line: str  # the roll-forward line it counts in
    counter: str  # the `Accounting` account on the other side of the liability
    narration: str


ROLLFORWARD_LINES = ("issued", "redeemed", "expired", "clawed_back", "adjusted")
MOVEMENT_KINDS = {
    "earn": MovementKind("issued", "expense", "points earned on purchases"),
    "partner_earn": MovementKind("issued", "partners", "points earned on partner purchases"),
    "bonus": MovementKind("issued", "expense", "bonus points"),
    "action": MovementKind("issued", "expense", "points for actions"),
    "redeem": MovementKind("redeemed", "redemptions", "points redeemed"),
    "donate": MovementKind("redeemed", "donations", "points donated"),
    "expire": MovementKind("expired", "breakage", "points expired"),
    "clawback": MovementKind("clawed_back", "expense", "points clawed back on refunds"),
    "partner_clawback": MovementKind("clawed_back", "partners", "points clawed back on partner refunds"),
    "adjust": MovementKind("adjusted", "expense", "manual adjustments"),
    "transfer": MovementKind("adjusted", "expense", "transfers between members"),
    "reverse": MovementKind("adjusted", "expense", "reversed credits and adjustments"),
    "reverse_redeem": MovementKind("adjusted", "redemptions", "reversed redemptions"),
    "reverse_donate": MovementKind("adjusted", "donations", "reversed donations"),
    "redeem_voucher": MovementKind("redeemed", "vouchers", "points redeemed for vouchers"),
    "reverse_voucher": MovementKind("adjusted", "vouchers", "vouchers cancelled: points given back"),
    "return_voucher": MovementKind("adjusted", "breakage", "points of vouchers expired unused given back"),
}
MONEY_COUNTERS = ("donations", "vouchers")  # the other side of these is money owed (to a charity, at the till)
VOUCHERS_USED_NARRATION = "vouchers used at the till"
VOUCHERS_EXPIRED_NARRATION = "vouchers expired unused"
REVALUATION_NARRATION = "revaluation of points outstanding (point value and rounding)"


class Movement(Struct, frozen=True):
    """One day's total of one kind of movement; `points` is the signed change in points outstanding."""

    day: date
    kind: str
    points: int
    money: int = 0  # donations: what is owed to the charity (negative when reversed)
    value: int = 0  # points at that day's point value, minor units (signed like points)


class DayTotals(Struct, frozen=True):
    """One local day's ledger figures as the storage layer sums them (all points signed as posted)."""

    by_kind: dict[str, int]  # entry kind -> sum of points
    partner_earned: int = 0  # of the `earn` points, those from partner purchases
    partner_clawed: int = 0  # of the `clawback` points, those from partner refunds
    donated: tuple[int, int] = (0, 0)  # redeem entries to a charity: (points, money)
    reversed_redemptions: int = 0  # of the `reverse` points, reversals of non-donation redemptions
    reversed_donations: tuple[int, int] = (0, 0)  # reversals of donations: (points, money)
    unposted_expired: int = 0  # lots that expired that day with points `expire` has not posted (negative)
    vouchers_issued: tuple[int, int] = (0, 0)  # redeem entries that issued a voucher: (points, its value)
    vouchers_cancelled: tuple[int, int] = (0, 0)  # their reversals while the voucher was unused: (points, money)
    vouchers_returned: int = 0  # points given back for vouchers that expired unused


def day_movements(day: date, totals: DayTotals) -> list[Movement]:
    """A day's figures as journal movements, one per kind, leaving out the ones that are zero."""
    kind = totals.by_kind
    points = {
        "earn": kind.get("earn", 0) - totals.partner_earned,
        "partner_earn": totals.partner_earned,
        "bonus": kind.get("bonus", 0),
        "action": kind.get("action", 0),
        "redeem": kind.get("redeem", 0) - totals.donated[0] - totals.vouchers_issued[0],
        "donate": totals.donated[0],
        "expire": kind.get("expire", 0) + totals.unposted_expired,
        "clawback": kind.get("clawback", 0) - totals.partner_clawed,
        "partner_clawback": totals.partner_clawed,
        "adjust": kind.get("adjust", 0),
        "transfer": kind.get("transfer_in", 0) + kind.get("transfer_out", 0),
        "reverse": (kind.get("reverse", 0) - totals.reversed_redemptions - totals.reversed_donations[0]
                    - totals.vouchers_cancelled[0] - totals.vouchers_returned),
        "reverse_redeem": totals.reversed_redemptions,
        "reverse_donate": totals.reversed_donations[0],
        "redeem_voucher": totals.vouchers_issued[0],
        "reverse_voucher": totals.vouchers_cancelled[0],
        "return_voucher": totals.vouchers_returned,
    }
    money = {"donate": totals.donated[1], "reverse_donate": totals.reversed_donations[1],
             "redeem_voucher": totals.vouchers_issued[1], "reverse_voucher": totals.vouchers_cancelled[1]}
    return [Movement(day, name, amount, money.get(name, 0)) for name, amount in points.items()
            if amount or money.get(name, 0)]


class Rollforward(Struct, frozen=True):
    start: date
    end: date
    currency: str
    opening_points: int
    closing_points: int
    points: dict[str, int]  # per ROLLFORWARD_LINES, positive numbers except `adjusted` (net)
    opening_liability: int
    closing_liability: int
    values: dict[str, int]  # the same lines in money
    revaluation: int  # what the point value (and per-day rounding) moved, so the money adds up
    movements: tuple[Movement, ...]
    unposted_expiries: int = 0
    vouchers: VoucherRollforward | None = None  # vouchers in money, when the program has issued any
    voucher_days: tuple[VoucherDay, ...] = ()  # vouchers used and expired, per day

    @property
    def actions(self) -> int:
        """Of the points issued, those for actions (a review, a share, a survey answer)."""
        return sum(m.points for m in self.movements if m.kind == "action")

    @property
    def balances(self) -> bool:
        """opening + issued - redeemed - expired - clawed_back + adjusted = closing, in points and money."""
        def moved(lines: dict[str, int]) -> int:
            return (lines["issued"] - lines["redeemed"] - lines["expired"] - lines["clawed_back"]
                    + lines["adjusted"])
        return (self.opening_points + moved(self.points) == self.closing_points
                and self.opening_liability + moved(self.values) + self.revaluation == self.closing_liability)


def _line_sign(line: str) -> int:
    """Lines SPEC.md states as positive numbers taken away (redeemed, expired, clawed back)."""
    return 1 if line in ("issued", "adjusted") else -1


def rollforward(start: date, end: date, currency: str, opening_points: int, opening_value: Decimal,
                closing_value: Decimal, movements: Sequence[Movement], value_on: Callable[[date], Decimal],
                unposted_expiries: int = 0, vouchers: VoucherRollforward | None = None,
                voucher_days: Sequence[VoucherDay] = ()) -> Rollforward:
    """Opening + the period's movements = closing, in points and in money.

    Each day's movement is valued at that day's point value; the opening at
    the value in force on the day before `start`, the closing at `end`'s.
    """
    valued = tuple(Movement(m.day, m.kind, m.points, m.money, points_value(m.points, value_on(m.day), currency))
                   for m in movements)
    points = dict.fromkeys(ROLLFORWARD_LINES, 0)
    values = dict.fromkeys(ROLLFORWARD_LINES, 0)
    for movement in valued:
        line = MOVEMENT_KINDS[movement.kind].line
        points[line] += _line_sign(line) * movement.points
        values[line] += _line_sign(line) * movement.value
    closing_points = opening_points + sum(m.points for m in valued)
    opening_liability = points_value(opening_points, opening_value, currency)
    closing_liability = points_value(closing_points, closing_value, currency)
    revaluation = closing_liability - opening_liability - sum(m.value for m in valued)
    return Rollforward(start, end, currency, opening_points, closing_points, points, opening_liability,
                       closing_liability, values, revaluation, valued, unposted_expiries, vouchers,
                       tuple(voucher_days))


class JournalEntry(Struct, frozen=True):
    day: date
    narration: str
    points: int
    postings: tuple[tuple[str, int], ...]  # (account, minor units; positive = debit), debits first, summing to zero


OPENING_NARRATION = "opening balance of the liability"


def _postings(*postings: tuple[str, int]) -> tuple[tuple[str, int], ...]:
    """The postings that move money, debits first."""
    return tuple(sorted((posting for posting in postings if posting[1]), key=lambda posting: -posting[1]))


def opening_entry(result: Rollforward, accounts: Accounting) -> JournalEntry | None:
    """The opening liability moved from the equity account into the liability account on the first day,
    and the vouchers outstanding then into the vouchers account.

    It is the roll-forward's opening liability: points outstanding less points
    owed, the basis every movement and the revaluation are posted on, so a book
    opened with it holds `report liability`'s net liability (and its vouchers)
    at the end of the period. None when it is zero: a book opened before the
    first entry needs no opening.
    """
    vouchers = result.vouchers.opening if result.vouchers else 0
    postings = _postings((accounts.liability, -result.opening_liability), (accounts.vouchers, -vouchers),
                         (accounts.opening, result.opening_liability + vouchers))
    return JournalEntry(result.start, OPENING_NARRATION, result.opening_points, postings) if postings else None


def journal(result: Rollforward, accounts: Accounting, opening: bool = False) -> list[JournalEntry]:
    """The roll-forward's movements as balanced postings against the liability account.

    A donation credits the charity with the reward's money; any difference
    from the points' value goes to the redemptions account. The revaluation
    (if any) is posted on the last day against the expense account. With
    `opening` (a journal that opens a book) the opening balance comes first.
    """
    first = opening_entry(result, accounts) if opening else None
    entries = [first] if first else []
    for movement in result.movements:
        kind = MOVEMENT_KINDS[movement.kind]
        counter = getattr(accounts, kind.counter)
        if kind.counter in MONEY_COUNTERS:
            postings = _postings((accounts.liability, -movement.value), (counter, -movement.money),
                                 (accounts.redemptions, movement.value + movement.money))
        else:
            postings = _postings((accounts.liability, -movement.value), (counter, movement.value))
        if postings:
            entries.append(JournalEntry(movement.day, kind.narration, movement.points, postings))
    for v in result.voucher_days:  # what a voucher took off an order is the redemption; the rest of it, breakage
        if v.used:
            entries.append(JournalEntry(v.day, VOUCHERS_USED_NARRATION, 0, _postings(
                (accounts.vouchers, v.used), (accounts.redemptions, -v.given), (accounts.breakage, v.given - v.used))))
        if v.expired:
            entries.append(JournalEntry(v.day, VOUCHERS_EXPIRED_NARRATION, 0,
                                        _postings((accounts.vouchers, v.expired), (accounts.breakage, -v.expired))))
    entries[1 if first else 0:] = sorted(entries[1 if first else 0:], key=lambda entry: entry.day)
    if result.revaluation:
        entries.append(JournalEntry(result.end, REVALUATION_NARRATION, 0,
                                    _postings((accounts.liability, -result.revaluation),
                                              (accounts.expense, result.revaluation))))
    return entries
