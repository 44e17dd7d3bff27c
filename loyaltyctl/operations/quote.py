"""`quote`: what a purchase would earn now, with its breakdown; reads, never writes."""



from loyaltyctl.values import Quote
from loyaltyctl.storage.db import Store

from loyaltyctl import clock
from loyaltyctl.core.dates import local_date
from loyaltyctl.core.rules import EarnRules, Line, Purchase
from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.money import parse_export_money
from loyaltyctl.operations.definitions import program_versions
from loyaltyctl.operations.member_state import MemberStates
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs


def basket_lines(amount: str | None, category: str, lines: list[str], currency: str) -> tuple[Line, ...]:
    """The quoted basket: AMOUNT [--category C], or --line AMOUNT[:CATEGORY] repeated (not both)."""
    if amount is not None and lines:
        raise BadInput("give an AMOUNT or --line options, not both")
    if amount is None and not lines:
        raise BadInput("give an AMOUNT, or the basket as --line AMOUNT[:CATEGORY] (repeatable)")
    if lines and category:
        raise BadInput("--category goes with an AMOUNT; with --line give each line's: --line 12.00:skincare")
    if any(line.count(":") > 1 for line in lines):
        raise BadInput(f"--line {next(line for line in lines if line.count(':') > 1)!r}: expected AMOUNT[:CATEGORY]")
    given = [(amount, category)] if amount is not None else [tuple(line.partition(":")[::2]) for line in lines]
    basket = []
    for text, line_category in given:
        try:
            minor = parse_export_money(text, currency)
        except ValueError as error:
            raise BadInput(f"amount: {error}") from None
        if minor <= 0:
            raise BadInput(f"amount must be positive, got {text}")
        basket.append(Line(minor, line_category.strip()))
    return tuple(basket)


def quote(db: Store, program: str, ident: str, amount: str | None, category: str = "", partner: str = "",
          at: str | None = None, lines: list[str] | None = None) -> Quote:
    ref = programs.fetch_program_ref(db, program)
    basket = basket_lines(amount, category, lines or [], ref.currency)
    instant = clock.at_or_now(at, ref.timezone)
    row, member = member_store.find_member(db, ref.id, program, ident)
    versions = program_versions(db, program)
    day = local_date(instant, ref.timezone)
    version = versions.on(day)
    rules = EarnRules(version)
    if partner and not rules.knows_partner(partner):
        known = ", ".join(p.code for p in version.partners) or "none defined"
        raise Refused(f"unknown partner {partner!r} in {program!r} (partners: {known})")
    purchase = Purchase(basket, day, partner)
    state = MemberStates(db, ref, versions).state(row, instant, version)
    return Quote(ref, member, version, instant, purchase, state, rules.earn_points(purchase, state))
