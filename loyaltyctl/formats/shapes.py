"""JSON shapes several commands share: a member, a ledger entry, a member's tier and their paid membership."""

from loyaltyctl.core.dates import format_instant, local_date
from loyaltyctl.core.membership import Term
from loyaltyctl.core.tiers import TierStatus
from loyaltyctl.model import Member, Tiers
from loyaltyctl.money import format_money
from loyaltyctl.storage.ledger import Entry
from loyaltyctl.storage.programs import ProgramRef


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


def entry_json(entry: Entry, ref: ProgramRef) -> dict:
    tz, currency = ref.timezone, ref.currency
    return {
        "id": entry.id,
        "member": entry.member_id,
        "kind": entry.kind,
        "points": entry.points,
        "effective_at": format_instant(entry.effective_at, tz),
        "recorded_at": format_instant(entry.recorded_at, tz),
        "key": entry.key,
        "reason": entry.reason,
        "reward": entry.reward,
        "value": format_money(entry.money, currency) if entry.money is not None else None,
        "charity": entry.charity,
        "ref": entry.ref,
    }


def tier_json(status: TierStatus | None, tiers: Tiers | None, ref: ProgramRef) -> tuple[str | None, dict | None]:
    """(`tier`, `next_tier`) as SPEC.md shapes them; `remaining` is money for spend tiers, points otherwise."""
    if status is None or tiers is None:
        return None, None
    if status.next_level is None:
        return status.level.code, None
    remaining = format_money(status.remaining, ref.currency) if tiers.basis == "spend" else status.remaining
    return status.level.code, {
        "code": status.next_level.code,
        "name": status.next_level.name,
        "basis": tiers.basis,
        "remaining": remaining,
        "perks": list(status.next_level.perks),
    }


def tier_line(status: TierStatus | None, tiers: Tiers | None, ref: ProgramRef, unit: str) -> str | None:
    """`Silver (x1.25); 320.00 more spend to Luxe` for a table."""
    code, following = tier_json(status, tiers, ref)
    if code is None:
        return None
    line = f"{status.level.name or code} (x{status.level.multiplier})"
    if status.held_until:
        line += f", held through {status.held_until}"
    if following:
        amount = f"{following['remaining']} {ref.currency} more spend" if following["basis"] == "spend" \
            else f"{following['remaining']} more {unit}"
        line += f"; {amount} to {following['name'] or following['code']}"
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
