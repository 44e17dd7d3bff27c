"""The values the report commands build and `formats` renders (the ledger calls' typed results are in
`loyaltyctl.results`): plain data, below the operations that fill them in."""

from datetime import date

from msgspec import Struct

from loyaltyctl.core.membership import Term
from loyaltyctl.core.rules import Earning, MemberState, Purchase
from loyaltyctl.core.statements import Line, available_points
from loyaltyctl.core.tiers import TierChange, TierStatus
from loyaltyctl.core.vouchers import Voucher
from loyaltyctl.model import Member, Program, ProgramRef, Reward


class VoucherList(Struct, frozen=True):
    ref: ProgramRef
    as_of: date
    at: int  # the last instant of `as_of`: what the statuses are as of
    vouchers: list[Voucher]


class Quote(Struct, frozen=True):
    ref: ProgramRef
    member: Member
    version: Program
    at: int
    purchase: Purchase
    state: MemberState
    earning: Earning


class MemberDetails(Struct, frozen=True):
    ref: ProgramRef
    member: Member
    version: Program  # in force at `at`
    at: int
    tier: TierStatus | None
    tier_history: list[TierChange]
    terms: list[Term]  # every paid membership term, oldest first
    membership: Term | None  # the term valid at `at`


class Statement(Struct, frozen=True):
    ref: ProgramRef
    version: Program  # in force on the last day
    member: Member
    start: date
    end: date
    opening: int
    closing: int
    pending: int
    lines: list[Line]
    tier: TierStatus | None
    expiring: list[tuple[date, int]]
    rewards_available: list[Reward]
    saved: int  # minor units, value of every reward redeemed up to the end

    @property
    def available(self) -> int:
        return available_points(self.closing, self.pending)


class Period(Struct, frozen=True):
    start: date
    end: date  # inclusive


class PartnerLine(Struct, frozen=True):
    code: str
    name: str
    purchases: int
    refunds: int
    spend: int  # net, minor units
    points_issued: int
    points_clawed_back: int
    value: int  # net points at the point value in force when they were earned, minor units

    @property
    def net_points(self) -> int:
        return self.points_issued - self.points_clawed_back


class DonationLine(Struct, frozen=True):
    charity: str
    donations: int
    points: int
    value: int  # minor units


class ExpiringLine(Struct, frozen=True):
    member: Member
    points: int
    first_expiry: date
    available: int
    rewards: list[Reward]  # what the available points still buy


class DayBonusRun(Struct, frozen=True):
    program: str
    day: date
    members: int  # paid by this run
    points: int
    already_paid: int  # celebrating today, paid by an earlier run
    bonus: int  # points per member (0: the program has no such bonus)


class Close(Struct, frozen=True):
    through: date
    closed_before: int
    expiries_posted: int
    closing_points: int  # net points outstanding at the end of `through`, as the close saw them
    closing_liability: int  # their value, minor units
    recorded_at: int
