"""Member records: field rules and the plan for adding or updating them in bulk.

Pure functions over plain values; the storage layer writes what the plan says.
"""

import re
from collections.abc import Container, Iterable, Mapping
from datetime import date

from msgspec import Struct
from msgspec.structs import replace

from loyaltyctl.core.actions import DETRACTORS
from loyaltyctl.core.dates import supported_day
from loyaltyctl.model import Member

MEMBER_FIELDS = ("member_id", "name", "email", "birthday", "card", "joined", "referred_by", "accepts_marketing")
_CONSENT = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def email_key(text: str) -> str:
    """An email (or a name given for a member) as emails compare: case-folded (`Jon.Smith@Gmail.Com` is
    `jon.smith@gmail.com`)."""
    return text.casefold()


# Where a member named at a command or in a file is looked for, in order, the first match winning: (field,
# compared case-folded). The member id as given, then a card (the id wins when both match), then an email,
# then an id in another case (a member an import added by email has the folded email as id).
LOOKUP_ORDER = (("member_id", False), ("card", False), ("email", True), ("member_id", True))


def lookup_keys(ident: str) -> list[tuple[str, str]]:
    """(field, value) to look for, in LOOKUP_ORDER, for a member named `ident`."""
    return [(field, email_key(ident) if folded else ident) for field, folded in LOOKUP_ORDER]


class MemberIndex:
    """A program's members by id, card and email (case-folded): how an import finds a row's member. Rows are
    added in row id order, so of two members with one email the first added is found, as storage finds it."""

    def __init__(self, rows: Iterable[tuple[int, str, str | None, str | None]] = ()):
        self.by_id: dict[str, int] = {}
        self.by_card: dict[str, int] = {}
        self.by_email: dict[str, int] = {}
        for row, member_id, card, email in rows:
            self.add(row, member_id, card, email)

    def add(self, row: int, member_id: str, card: str | None = None, email: str | None = None) -> None:
        self.by_id[member_id] = row
        if card:
            self.by_card[card] = row
        if email:
            self.by_email.setdefault(email_key(email), row)

    def find(self, key: str, by: str = "member_id") -> int | None:
        """`by` member_id: an id, a card, or an email (LOOKUP_ORDER); card: a card; email: an email (or an id
        written as one)."""
        if by == "card":
            return self.by_card.get(key)
        if by == "member_id" and (row := self.by_id.get(key)) is not None:
            return row  # LOOKUP_ORDER's first step, the id as given: nearly every row of an import
        fields = {"member_id": self.by_id, "card": self.by_card, "email": self.by_email}
        keys = lookup_keys(key) if by == "member_id" else [("email", email_key(key)), ("member_id", key),
                                                             ("member_id", email_key(key))]
        return next((fields[field][value] for field, value in keys if value in fields[field]), None)


class Rejected(Struct, frozen=True):
    """An input row that was not taken, with where it was and why."""

    line: int
    reason: str
    row: tuple[str, ...] = ()


class MemberPlan(Struct, frozen=True):
    added: tuple[Member, ...]
    updated: tuple[Member, ...]
    unchanged: int
    rejected: tuple[Rejected, ...]


def referral_code(program: str, member_id: str, attempt: int = 0) -> str:
    """A short, stable code a member hands to friends (`R7K2QX4M`)."""
    import base64
    import hashlib  # here, not at the top: OpenSSL's start-up is a tenth of a `balance`

    digest = hashlib.sha256(f"{program}\x00{member_id}\x00{attempt}".encode()).digest()
    return base64.b32encode(digest).decode()[:8]


def _date_field(name: str, text: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a date (YYYY-MM-DD)") from None
    try:
        return supported_day(day)
    except ValueError as error:
        raise ValueError(f"{name} {error}") from None


def parse_consent(text: str) -> bool | None:
    """`accepts_marketing` as exports write it (yes/no, true/false, 1/0, any case); empty: not said."""
    text = text.strip().casefold()
    if not text:
        return None
    if text not in _CONSENT:
        raise ValueError(f"accepts_marketing {text!r} is not yes or no")
    return _CONSENT[text]


def is_email(text: str) -> bool:
    return bool(_EMAIL.fullmatch(text))


def parse_member(fields: Mapping[str, str], program: str, today: date) -> Member:
    """A member from text fields (a CSV row or command options); ValueError says what is wrong.

    Empty optional fields stay empty (None): on update they keep what was stored.
    """
    member_id = (fields.get("member_id") or "").strip()
    if not member_id:
        raise ValueError("member_id is empty")
    if len(member_id) > 64 or _CONTROL.search(member_id):
        raise ValueError(f"member_id {member_id[:64]!r} must be at most 64 printable characters")
    email = (fields.get("email") or "").strip()
    if email and not is_email(email):
        raise ValueError(f"email {email!r} is not an email address")
    birthday = _date_field("birthday", (fields.get("birthday") or "").strip())
    if birthday and birthday > today:
        raise ValueError(f"birthday {birthday} is in the future")
    joined = _date_field("joined", (fields.get("joined") or "").strip())
    return Member(
        program=program,
        member_id=member_id,
        name=(fields.get("name") or "").strip(),
        email=email,
        birthday=birthday,
        card=(fields.get("card") or "").strip() or None,
        joined=joined,
        referred_by=(fields.get("referred_by") or "").strip() or None,
        accepts_marketing=parse_consent(fields.get("accepts_marketing") or ""),
    )


def _merged(existing: Member, incoming: Member) -> Member:
    """`existing` with every field the incoming row fills in."""
    changes = {
        name: getattr(incoming, name)
        for name in ("name", "email", "birthday", "card", "joined", "referred_by", "accepts_marketing")
        if getattr(incoming, name) not in (None, "")
    }
    return replace(existing, **changes)


def plan_members(
    rows: Iterable[tuple[int, tuple[str, ...], Member | str]],
    existing: Mapping[str, Member],
    today: date,
) -> MemberPlan:
    """Decide, row by row, which members to add, which to update, and which rows to reject.

    Each row is (line, original cells, parsed member or the reason it did not
    parse). `existing` maps member ids to stored members. A row naming a stored
    member updates the fields it fills in; a row that changes nothing is
    unchanged, so importing the same file twice writes nothing the second time.
    A row may name as referrer a member added further down the same file; if
    that member's own row is rejected, so is the referral, hence the re-plan.
    """
    rows = list(rows)
    in_file = {row.member_id for _, _, row in rows if isinstance(row, Member)}
    while True:
        plan, accepted = _plan_once(rows, existing, today, in_file)
        if accepted >= in_file:
            return plan
        in_file = accepted


def _plan_once(
    rows: list[tuple[int, tuple[str, ...], Member | str]],
    existing: Mapping[str, Member],
    today: date,
    in_file: set[str],
) -> tuple[MemberPlan, set[str]]:
    cards = {m.card: m.member_id for m in existing.values() if m.card}
    codes = {m.referral_code: m.member_id for m in existing.values()}
    first_line: dict[str, int] = {}
    added: list[Member] = []
    updated: list[Member] = []
    rejected: list[Rejected] = []
    unchanged = 0
    for line, raw, row in rows:
        reason = _conflict(row, first_line, existing, in_file, codes, cards)
        if reason:
            rejected.append(Rejected(line, reason, raw))
            continue
        first_line[row.member_id] = line
        previous = existing.get(row.member_id)
        if row.referred_by is not None:
            row = replace(row, referred_by=_referrer(row.referred_by, existing, in_file, codes))
        if previous is None:
            member = replace(row, joined=row.joined or today, referral_code=unused_referral_code(row.program, row.member_id, codes))
            added.append(member)
        else:
            member = _merged(previous, row)
            if member == previous:
                unchanged += 1
                continue
            updated.append(member)
            if previous.card and previous.card != member.card:
                del cards[previous.card]
        if member.card:
            cards[member.card] = member.member_id
        codes[member.referral_code] = member.member_id
    plan = MemberPlan(tuple(added), tuple(updated), unchanged, tuple(rejected))
    return plan, set(first_line) & in_file


def _referrer(text: str, existing: Mapping[str, Member], in_file: set[str], codes: Mapping[str, str]) -> str | None:
    """The member id that `referred_by` names, directly or by referral code."""
    return text if text in existing or text in in_file else codes.get(text)


def _conflict(
    row: Member | str,
    first_line: Mapping[str, int],
    existing: Mapping[str, Member],
    in_file: set[str],
    codes: Mapping[str, str],
    cards: Mapping[str, str],
) -> str | None:
    """Why a row cannot be taken as it stands, or None."""
    if isinstance(row, str):
        return row
    if reason := reserved_refusal(row, existing.get(row.member_id)):
        return reason
    if row.member_id in first_line:
        return f"duplicate member_id {row.member_id!r} (first on line {first_line[row.member_id]})"
    if row.referred_by is not None:
        referrer = _referrer(row.referred_by, existing, in_file, codes)
        if row.member_id in (row.referred_by, referrer):
            return "a member cannot refer themselves"
        if referrer is None:
            return f"referred_by {row.referred_by!r} is not a member id or referral code"
        previous = existing.get(row.member_id)
        if previous and previous.referred_by and previous.referred_by != referrer:
            return f"already referred by {previous.referred_by!r}"
    if row.card and cards.get(row.card, row.member_id) != row.member_id:
        return f"card {row.card!r} already belongs to member {cards[row.card]!r}"
    return None


class Standing(Struct, frozen=True):
    """Where a member stands on a day, for lists and outreach."""

    member: Member
    points: int
    last_activity: date | None  # the day of their latest earn or redemption (None: never)
    tier: str | None  # None: the program has no tiers
    expiring: int | None = None  # points expiring within the filter's days (None: not asked)
    score: int | None = None  # the latest survey score, when the filter asks for detractors


class MemberFilter(Struct, frozen=True):
    """What an owner picks members by; each criterion left None takes everyone."""

    tier: str | None = None
    min_points: int | None = None
    max_points: int | None = None
    active_since: date | None = None  # an earn or redemption on or after this day
    inactive_since: date | None = None  # none on or after this day (or never)
    accepts_marketing: bool | None = None  # True: only members who said yes to marketing
    expiring_within: int | None = None  # only members with points expiring in this many days
    detractors: bool | None = None  # True: only members whose latest survey score is 0-6


def selected(standings: Iterable[Standing], criteria: MemberFilter) -> list[Standing]:
    c = criteria
    return [s for s in standings
            if (c.tier is None or s.tier == c.tier)
            and (c.min_points is None or s.points >= c.min_points)
            and (c.max_points is None or s.points <= c.max_points)
            and (c.active_since is None or (s.last_activity is not None and s.last_activity >= c.active_since))
            and (c.inactive_since is None or s.last_activity is None or s.last_activity < c.inactive_since)
            and (c.accepts_marketing is None or s.member.accepts_marketing is c.accepts_marketing)
            and (c.expiring_within is None or bool(s.expiring))
            and (c.detractors is None or s.score in DETRACTORS)]


ANONYMOUS_PREFIX = "anon-"


def anonymised(member: Member, taken: Container[str] = ()) -> Member:
    """The member with every personal field erased: name, email, birthday and card; an id that is an
    email address becomes `anon-` and the member's referral code (unique in the program, and derived by
    a one-way hash), or, where another member has that id (`taken`: one added before the form was
    reserved), `anon-CODE-2`, `-3`... The ledger keeps its entries: they point at the member's row, not at
    these fields."""
    member_id = member.member_id
    if is_email(member_id):
        member_id = f"{ANONYMOUS_PREFIX}{member.referral_code}"
        attempt = 1
        while member_id in taken:
            attempt += 1
            member_id = f"{ANONYMOUS_PREFIX}{member.referral_code}-{attempt}"
    return replace(member, member_id=member_id, name="", email="", birthday=None, card=None, accepts_marketing=None)


def is_reserved(text: str) -> bool:
    """An id or card in the form anonymised members' ids take (`anon-…`, in any case)."""
    return text[:len(ANONYMOUS_PREFIX)].casefold() == ANONYMOUS_PREFIX


def reserved_refusal(member: Member, previous: Member | None = None) -> str | None:
    """Why a new member (or `previous` as `member` updates it) may not have its id or card: the `anon-…`
    form is the anonymised members' alone, so anonymising never finds its id taken and a name in that
    form never finds someone who was not anonymised. None when it may."""
    if previous is None and is_reserved(member.member_id):
        return (f"member_id {member.member_id!r} is reserved: ids starting with {ANONYMOUS_PREFIX!r} are given to "
                "anonymised members")
    if member.card and is_reserved(member.card) and (previous is None or previous.card != member.card):
        return f"card {member.card!r} is reserved: {ANONYMOUS_PREFIX!r} starts the ids of anonymised members"
    return None


def unused_referral_code(program: str, member_id: str, taken: Container[str]) -> str:
    """The member's referral code, or its next variant if another member holds it."""
    attempt = 0
    while (code := referral_code(program, member_id, attempt)) in taken:
        attempt += 1
    return code
