"""What the member commands print, as report values: a member changed, a list of standings, and one member
in full (the profile, where they stand, tier and membership)."""

from loyaltyctl.formats.shapes import (member_json, next_tier_result, plain, term_json, tier_json, tier_line,
                                       tier_standing)
from loyaltyctl.money import format_money
from loyaltyctl.results import Balance
from loyaltyctl.values import MemberDetails
from loyaltyctl.core.members import Standing
from loyaltyctl.model import Member
from loyaltyctl.render import Grid, Report, fields_grid, listing, record


def member_change_view(member: Member, changed: bool, title: str, unchanged: str) -> Report:
    """A member after `member update` or `anonymise`; `unchanged` is added to the title when nothing changed."""
    return record(title + ("" if changed else unchanged), member_json(member) | {"changed": changed})


def standings_view(program: str, standings: list[Standing], with_expiring: bool, with_score: bool = False) -> Report:
    """`member list`: every field in JSON and in the mail-merge CSV; a table of what a person scans."""
    asked = (["expiring_points"] if with_expiring else []) + (["score"] if with_score else [])
    rows = [member_json(s.member) | {"points": s.points,
                                     "last_activity": s.last_activity.isoformat() if s.last_activity else None,
                                     "tier": s.tier}
            | {key: value for key, value in (("expiring_points", s.expiring), ("score", s.score)) if key in asked}
            for s in standings]
    columns = ["member_id", "name", "email", "card", "joined", "points", "last_activity", "tier", *asked,
               "accepts_marketing"]
    return listing(rows, rows, columns, f"Members of {program} ({len(rows)})",
                   headings={"member_id": "member", "last_activity": "last activity", "expiring_points": "expiring"},
                   shown=["member_id", "name", "email", "points", "last_activity", "tier", *asked])


def member_view(details: MemberDetails, standing: Balance) -> Report:
    """The profile and the figures `balance` gives, the tier with its history, and paid membership."""
    ref, version = details.ref, details.version
    tier, next_tier = tier_json(details.tier, version.tiers, ref)
    data = member_json(details.member) | {
        "points": standing.points,
        "available": standing.available,
        "pending": standing.pending,
        "expiring": plain(standing.expiring),
        "tier": tier,
        "next_tier": next_tier,
        "tier_history": [{"on": c.on.isoformat(), "from": c.from_level, "to": c.to_level} for c in details.tier_history],
        "membership": _membership_json(details),
    }
    pairs = [(k, v) for k, v in data.items() if k not in ("tier", "next_tier", "tier_history", "membership", "expiring")]
    pairs += [(f"expires {e['on']}", e["points"]) for e in data["expiring"]]
    if tier:
        pairs.append(("tier", tier_line(tier_standing(details.tier), next_tier_result(details.tier, version.tiers, ref),
                                        ref.currency, version.unit)))
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
