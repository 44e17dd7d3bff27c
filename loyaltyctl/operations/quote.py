"""`quote`: what a purchase would earn now, with its breakdown; reads, never writes."""

from dataclasses import dataclass

from sqlite_utils import Database

from loyaltyctl import clock
from loyaltyctl.core.dates import local_date
from loyaltyctl.core.rules import EarnRules, Earning, MemberState, Purchase
from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.model import Member, Program
from loyaltyctl.money import parse_money
from loyaltyctl.operations.member_state import MemberStates, program_versions
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs


@dataclass(frozen=True)
class Quote:
    ref: programs.ProgramRef
    member: Member
    version: Program
    at: int
    purchase: Purchase
    state: MemberState
    earning: Earning


def quote(db: Database, program: str, ident: str, amount: str, category: str = "", partner: str = "",
          at: str | None = None) -> Quote:
    ref = programs.fetch_program_ref(db, program)
    try:
        minor = parse_money(amount, ref.currency)
    except ValueError as error:
        raise BadInput(f"amount: {error}") from None
    if minor <= 0:
        raise BadInput(f"amount must be positive, got {amount}")
    instant = clock.at_or_now(at, ref.timezone)
    row, member = member_store.find_member(db, ref.id, program, ident)
    versions = program_versions(db, program)
    day = local_date(instant, ref.timezone)
    version = versions.on(day)
    rules = EarnRules(version)
    if partner and not rules.knows_partner(partner):
        known = ", ".join(p.code for p in version.partners) or "none defined"
        raise Refused(f"unknown partner {partner!r} in {program!r} (partners: {known})")
    purchase = Purchase(minor, day, category, partner)
    state = MemberStates(db, ref, versions).state(row, instant, version)
    return Quote(ref, member, version, instant, purchase, state, rules.earn_points(purchase, state))
