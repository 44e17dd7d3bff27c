"""Members as the earn rules see them: tier status and paid membership at an instant.

`MemberStates` loads each member's tier activity and membership terms once
(in batches, for imports) and keeps them current as an import adds rows, so
the tier a purchase earns at counts every purchase before it, including
those earlier in the same file.
"""

from collections.abc import Iterable
from datetime import date, timedelta

from msgspec import Struct

from loyaltyctl.values import MemberDetails
from loyaltyctl.storage.db import Store

from loyaltyctl import clock
from loyaltyctl.core.dates import add_months, local_date, start_of_day, utc_now_instant
from loyaltyctl.core.membership import TermRefused, Term, new_term, term_at
from loyaltyctl.core.rules import MemberState
from loyaltyctl.core.tiers import Activity, TierChange, TierRules, TierStatus, tier_history
from loyaltyctl.core.versions import VersionTable
from loyaltyctl.errors import Refused
from loyaltyctl.model import Member, Program
from loyaltyctl.storage import ledger as ledger_store
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import memberships as membership_store
from loyaltyctl.storage import periods
from loyaltyctl.operations.definitions import program_versions, version_in_force
from loyaltyctl.storage import programs
from loyaltyctl.storage import transactions as txn_store
from loyaltyctl.storage.db import write


class MemberStates:
    def __init__(self, db: Store, ref: programs.ProgramRef, versions: VersionTable):
        self.db, self.ref, self.versions = db, ref, versions
        self.bases = {p.tiers.basis for p in versions.all() if p.tiers}
        self.membership_matters = any(p.membership and p.membership.required_to_earn for p in versions.all())
        self.activity: dict[str, dict[int, Activity]] = {basis: {} for basis in self.bases}
        self.terms: dict[int, list[Term]] = {}
        self._tier_rules: dict[int, TierRules] = {}
        self.limited = any(p.earn.max_points_per_day or p.earn.max_points_per_month for p in versions.all())
        self.purchases: dict[tuple[int, date], list[tuple[int, int]]] = {}  # (member, month): (at, points)

    def load(self, members: Iterable[int]) -> None:
        """Read the history of members not seen yet: one query per 500 members."""
        for basis, known in self.activity.items():
            missing = [m for m in set(members) if m not in known]
            for member, events in txn_store.fetch_activity(self.db, missing, basis).items():
                known[member] = Activity(events)
        if self.membership_matters:
            missing = [m for m in set(members) if m not in self.terms]
            self.terms.update(membership_store.fetch_terms(self.db, missing))

    def record_activity(self, member: int, at: int, spend: int, points: int) -> None:
        """A purchase or refund just imported: it counts for every later instant."""
        for basis, known in self.activity.items():
            amount = spend if basis == "spend" else points
            if amount:
                known.setdefault(member, Activity()).add(at, amount)
        if self.limited and points > 0:
            self._month_purchases(member, at).append((at, points))

    def _month_purchases(self, member: int, at: int) -> list[tuple[int, int]]:
        """What the member earned in the calendar month of `at`, read once, then kept by the import."""
        first = local_date(at, self.ref.timezone).replace(day=1)
        if (member, first) not in self.purchases:
            start, end = (start_of_day(day, self.ref.timezone) for day in (first, add_months(first, 1)))
            self.purchases[member, first] = ledger_store.fetch_earned(self.db, member, start, end)
        return self.purchases[member, first]

    def earned_before(self, member: int, at: int) -> tuple[int, int]:
        """Points the member earned already (purchases and by hand) on the local day and in the month of
        `at` (at any time of them: a purchase imported after later ones still finds them): what the daily
        and monthly limits have left."""
        purchases = self._month_purchases(member, at)
        day_start = start_of_day(local_date(at, self.ref.timezone), self.ref.timezone)
        day_end = start_of_day(local_date(at, self.ref.timezone) + timedelta(days=1), self.ref.timezone)
        return sum(p for t, p in purchases if day_start <= t < day_end), sum(p for _, p in purchases)

    def tier_rules(self, program: Program) -> TierRules | None:
        if program.tiers is None:
            return None
        key = id(program)
        if key not in self._tier_rules:
            self._tier_rules[key] = TierRules(program.tiers, self.ref.currency)
        return self._tier_rules[key]

    def tier_status(self, member: int, at: int, program: Program | None = None,
                    day: date | None = None) -> TierStatus | None:
        """The member's tier at an instant under the version in force then (None: no tiers).

        `day` is for "as of the end of day D": `at` is then the next day's first instant.
        """
        program = program or self.versions.on(day or local_date(at, self.ref.timezone))
        rules = self.tier_rules(program)
        if rules is None:
            return None
        self.load([member])
        return rules.status(self.activity[program.tiers.basis][member], at, self.ref.timezone, day)

    def tier_history(self, member: int, until: int) -> list[TierChange]:
        if not self.bases:
            return []
        self.load([member])
        basis = [p.tiers.basis for p in self.versions.all() if p.tiers][-1]  # the latest definition's
        return tier_history(lambda day: self.tier_rules(self.versions.on(day)), self.activity[basis][member],
                            self.ref.timezone, until)

    def membership(self, member: int, at: int) -> Term | None:
        if member not in self.terms:
            self.terms.update(membership_store.fetch_terms(self.db, [member]))
        return term_at(self.terms[member], at)

    def state(self, member: int, at: int, program: Program) -> MemberState:
        """What the earn rules need about a member at the instant of a purchase or of points earned by hand."""
        limited = self.limited
        if not self.bases and not self.membership_matters and not limited:
            return MemberState()
        status = self.tier_status(member, at, program)
        may_earn, why_not = True, ""
        if program.membership and program.membership.required_to_earn and self.membership(member, at) is None:
            may_earn, why_not = False, "no valid membership"
        today, month = self.earned_before(member, at) if limited else (0, 0)
        if status is None:
            return MemberState(may_earn=may_earn, why_not=why_not, earned_today=today, earned_this_month=month)
        return MemberState(status.level.code, status.level.multiplier, may_earn, why_not, today, month)


def member_details(db: Store, program: str, ident: str, at: int | None = None) -> MemberDetails:
    """A member's record with their tier, tier history and paid membership at an instant (default now)."""
    ref = programs.fetch_program_ref(db, program)
    at = utc_now_instant(clock.now()) if at is None else at
    row, member = member_store.find_member(db, ref.id, program, ident)
    versions = program_versions(db, program)
    states = MemberStates(db, ref, versions)
    return MemberDetails(
        ref=ref,
        member=member,
        version=versions.on(local_date(at, ref.timezone)),
        at=at,
        tier=states.tier_status(row, at),
        tier_history=states.tier_history(row, at),
        terms=membership_store.fetch_terms(db, [row])[row],
        membership=states.membership(row, at),
    )


class MembershipPayment(Struct, frozen=True):
    ref: programs.ProgramRef
    member: Member
    term: Term
    duplicate: bool = False


def pay_membership(db: Store, program: str, ident: str, at: str | None = None,
                   key: str | None = None) -> MembershipPayment:
    """Record a paid membership fee and the term it buys (refused if the program sells none)."""
    ref = programs.fetch_program_ref(db, program)
    paid_at = clock.at_or_now(at, ref.timezone)
    with write(db, program):
        if key is not None and (earlier := membership_store.fetch_term_by_key(db, ref.id, key)) is not None:
            member = member_store.fetch_member_by_row(db, earlier[0], program)
            return MembershipPayment(ref, member, earlier[1], duplicate=True)
        row, member = member_store.find_member(db, ref.id, program, ident)
        version = version_in_force(db, program, local_date(paid_at, ref.timezone))
        if version.membership is None:
            raise Refused(f"program {program!r} has no paid membership (add a [membership] section)")
        try:
            term = new_term(membership_store.fetch_terms(db, [row])[row], paid_at, version.membership, ref.timezone)
        except TermRefused as error:
            raise Refused(f"member {member.member_id!r} {error}") from None
        if (closed := periods.fetch_closed_through(db, ref.id)) and closed.covers(paid_at):
            raise Refused(closed.refusal(paid_at, "a membership payment"))
        membership_store.insert_term(db, ref.id, row, term, key)
    return MembershipPayment(ref, member, term)
