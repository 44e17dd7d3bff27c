"""JSON shapes several commands share: a member, a ledger entry, a member's tier and their paid membership;
and `plain`, which writes a result value (`loyaltyctl.results`) out as its JSON document."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from msgspec import Struct
from msgspec.structs import asdict

from loyaltyctl import results
from loyaltyctl.core.dates import format_instant, local_date
from loyaltyctl.core.membership import Term
from loyaltyctl.core.tiers import TierStatus
from loyaltyctl.model import Entry, Member, ProgramRef, Tiers
from loyaltyctl.money import format_money


def plain(value: object) -> object:
    """A result as JSON has it: money a decimal string ("12.30"), days and instants ISO 8601 (to the second,
    with the local offset), structs objects, tuples arrays."""
    if isinstance(value, Struct):
        return {name: plain(field) for name, field in asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (date, Decimal)):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


def instant(at: int, ref: ProgramRef) -> datetime:
    """An instant as the program's time zone reads it."""
    return datetime.fromtimestamp(at, ZoneInfo(ref.timezone))


def money(minor: int, ref: ProgramRef) -> Decimal:
    """Minor units as a Decimal to the currency's minor unit (0 as 0.00)."""
    return Decimal(format_money(minor, ref.currency))


def entry_result(entry: Entry, ref: ProgramRef) -> results.Entry:
    return results.Entry(entry.id, entry.member_id, entry.kind, entry.points, instant(entry.effective_at, ref),
                         instant(entry.recorded_at, ref), entry.key, entry.reason, entry.reward,
                         money(entry.money, ref) if entry.money is not None else None, entry.charity, entry.ref)


def member_json(member: Member) -> dict:
    return {
        "member_id": member.member_id,
        "name": member.name,
        "email": member.email,
        "birthday": member.birthday.isoformat() if member.birthday else None,
        "card": member.card,
        "joined": member.joined.isoformat() if member.joined else None,
        "referred_by": member.referred_by,
        "referral_code": member.referral_code,
        "accepts_marketing": member.accepts_marketing,
    }


def next_tier_result(status: TierStatus | None, tiers: Tiers | None, ref: ProgramRef) -> results.NextTier | None:
    """What the next tier asks for; `remaining` is money for spend tiers, points otherwise."""
    if status is None or tiers is None or status.next_level is None:
        return None
    level = status.next_level
    remaining = money(status.remaining, ref) if tiers.basis == "spend" else status.remaining
    return results.NextTier(level.code, level.name, tiers.basis, remaining, level.perks)


def tier_standing(status: TierStatus | None) -> results.TierStanding | None:
    if status is None:
        return None
    return results.TierStanding(status.level.code, status.level.name, status.level.multiplier, status.held_until)


def tier_json(status: TierStatus | None, tiers: Tiers | None, ref: ProgramRef) -> tuple[str | None, dict | None]:
    """(`tier`, `next_tier`) as SPEC.md shapes them."""
    if status is None or tiers is None:
        return None, None
    return status.level.code, plain(next_tier_result(status, tiers, ref))


def tier_line(standing: results.TierStanding | None, following: results.NextTier | None, currency: str,
              unit: str) -> str | None:
    """`Silver (x1.25); 320.00 USD more spend to Luxe` for a table."""
    if standing is None:
        return None
    line = f"{standing.name or standing.code} (x{standing.multiplier})"
    if standing.held_until:
        line += f", held through {standing.held_until}"
    if following:
        amount = (f"{following.remaining} {currency} more spend" if following.basis == "spend"
                  else f"{following.remaining} more {unit}")
        line += f"; {amount} to {following.name or following.code}"
    return line


def term_json(term: Term, ref: ProgramRef) -> dict:
    return {
        "paid_at": format_instant(term.paid_at, ref.timezone),
        "fee": format_money(term.fee, ref.currency),
        "term": term.term,
        "valid_from": local_date(term.valid_from, ref.timezone).isoformat(),
        "valid_through": None if term.valid_until is None
        else local_date(term.valid_until - 1, ref.timezone).isoformat(),
    }
