"""What `member show` prints, as a report value: the profile, where the member stands, tier and membership."""

from loyaltyctl.formats.shapes import member_json, term_json, tier_json, tier_line
from loyaltyctl.money import format_money
from loyaltyctl.operations.ledger import Balance
from loyaltyctl.operations.member_state import MemberDetails
from loyaltyctl.render import Grid, Report, fields_grid


def member_view(details: MemberDetails, standing: Balance) -> Report:
    """The profile and the figures `balance` gives, the tier with its history, and paid membership."""
    ref, version = details.ref, details.version
    tier, next_tier = tier_json(details.tier, version.tiers, ref)
    data = member_json(details.member) | {
        "points": standing.points,
        "available": standing.available,
        "pending": standing.pending,
        "expiring": [{"on": on.isoformat(), "points": points} for on, points in standing.expiring],
        "tier": tier,
        "next_tier": next_tier,
        "tier_history": [{"on": c.on.isoformat(), "from": c.from_level, "to": c.to_level} for c in details.tier_history],
        "membership": _membership_json(details),
    }
    pairs = [(k, v) for k, v in data.items() if k not in ("tier", "next_tier", "tier_history", "membership", "expiring")]
    pairs += [(f"expires {e['on']}", e["points"]) for e in data["expiring"]]
    if tier:
        pairs.append(("tier", tier_line(details.tier, version.tiers, ref, version.unit)))
    membership = data["membership"]
    if membership:
        held = "not valid now"
        if membership["valid"]:
            held = (f"{membership['term']}, valid through {membership['valid_through']}"
                    if membership["valid_through"] else "lifetime")
        pairs.append(("membership", f"{held}; fees paid {membership['fees_paid']} {ref.currency}"))
    blocks = [fields_grid(f"Member {details.member.member_id}", pairs)]
    if data["tier_history"]:
        blocks.append(Grid("Tier history", ["on", "from", "to"],
                           [(c["on"], c["from"], c["to"]) for c in data["tier_history"]]))
    if membership and membership["payments"]:
        blocks.append(Grid("Membership payments", ["paid", "fee", "term", "valid from", "valid through"],
                           [(p["paid_at"][:10], p["fee"], p["term"], p["valid_from"], p["valid_through"])
                            for p in membership["payments"]]))
    return Report(data, blocks)


def _membership_json(details: MemberDetails) -> dict | None:
    """Paid membership, shown when the program sells one or the member ever paid."""
    if details.version.membership is None and not details.terms:
        return None
    current = details.membership
    return {
        "valid": current is not None,
        "term": current.term if current else None,
        "valid_through": term_json(current, details.ref)["valid_through"] if current else None,
        "fees_paid": format_money(sum(t.fee for t in details.terms), details.ref.currency),
        "payments": [term_json(t, details.ref) for t in details.terms],
    }
